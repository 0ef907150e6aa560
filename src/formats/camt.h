/*
 * camt.h: what the camt reader's files share, internal to src/formats:
 * camt053.c (the paths of the elements and their handlers), camt_entry.c
 * (entries and balances into records) and camt_read.c (the two readings
 * of the XML, SAX and xmlTextReader).
 */
#ifndef BF_CAMT_H
#define BF_CAMT_H

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "formats/fmt.h"

#define CAMT_MAXDEPTH	64
#define CAMT_PATH_MAX	1024
#define CAMT_MAX_TXDTLS	100000		/* per entry */
#define CAMT_ARENA_MAX	(16 * 1024 * 1024)
#define CAMT_CHUNK	(64 * 1024)		/* one read of the SAX pass */
/* A run of text past this is left to the reader (libxml2's 10 MB limit). */
#define CAMT_RUN_MAX	(8 * 1024 * 1024)

/* The camt messages read (camt053.c): see camt_msgs there. */
struct camt_msg {
	const char	*ns, *root, *stmt, *human;
};
extern const struct camt_msg	camt_msgs[];
extern const size_t		camt_nmsgs;

/* What an element's text is, by its path below BkToCstmrStmt. */
enum fid {
	F_NONE,
	/* statement */
	S_ID, S_ESEQ, S_LSEQ, S_FROM, S_TO, S_IBAN, S_OTHR, S_CCY, S_NAME,
	S_OWNER, S_BIC, S_ACCT_TP,
	/* balance */
	B_CODE, B_PRTRY, B_AMT, B_CDI, B_DATE,
	/* entry */
	E_AMT, E_CDI, E_RVSL, E_STS, E_BOOK, E_VAL, E_ASREF, E_DOMN, E_FMLY,
	E_SUBF, E_PRTRY, E_CHRG_TOTAL, E_CHRG_REC, E_ADDTL,
	/* transaction details: the order of enum txf below */
	T_FIRST,
	T_E2E = T_FIRST, T_ASREF, T_DBTR, T_DBTR_IBAN, T_CDTR, T_CDTR_IBAN,
	T_UDBTR, T_UCDTR, T_USTRD, T_SREF, T_ADDTL, T_ADDRMT, T_DOMN, T_FMLY,
	T_SUBF, T_PRTRY,
	T_AMT, T_AMT2, T_CDI
};

/* Text fields kept per TxDtls (same order as T_E2E..T_PRTRY). */
enum txf {
	X_E2E, X_ASREF, X_DBTR, X_DBTR_IBAN, X_CDTR, X_CDTR_IBAN, X_UDBTR,
	X_UCDTR, X_USTRD, X_SREF, X_ADDTL, X_ADDRMT, X_DOMN, X_FMLY, X_SUBF,
	X_PRTRY, X__COUNT
};

/* One TxDtls of the entry, its strings in the arena. */
struct txd {
	int64_t		amount;
	int		has_amount;
	char		ccy[4];
	int		cdi;		/* 1 credit, -1 debit, 0 not given */
	uint64_t	line;
	uint32_t	off[X__COUNT];	/* into the arena; 0 is "" */
};

struct cx {
	struct fmt_ctx	*c;
	FILE		*in;
	xmlTextReaderPtr r;		/* the reader; NULL in the SAX pass */

	/* The SAX pass (see "Two readings" below). */
	xmlParserCtxtPtr p;
	int		 halt;		/* 1: give up, the reader decides */
	enum stmt_rc	 rc;		/* a handler's final answer */
	uint64_t	 line;		/* lineno() of the event at hand */
	uint64_t	 sline[CAMT_MAXDEPTH + 1];	/* the open elements' */
	int		 run_text;	/* the run of text has a non-blank */
	size_t		 run_len;
	struct buf	 ws;		/* its blanks so far, while all blank */
	char		 xerr[256];
	int		 xerr_line;

	struct buf	 path;
	size_t		 plen[CAMT_MAXDEPTH + 1];
	int		 node[CAMT_MAXDEPTH + 1];	/* -1: not in the tree */
	int		 depth;
	int		 want_text;	/* the open element is a field */
	size_t		 skipped;	/* text of a non-field, for its limit */
	size_t		 rel;		/* where "Stmt/..." starts in path */
	int		 seen_root, seen_stmt;
	int		 msg;		/* into camt_msgs: which message */
	uint64_t	 root_line;	/* of BkToCstmrStmt (or .052, .054's) */
	struct buf	 text;
	char		 ccy_attr[4];	/* Ccy="" of the open amount */
	int		 has_ccy_attr;

	/* statement */
	int		 in_stmt;
	struct buf	 s[S_ACCT_TP - S_ID + 1];

	/* balance */
	char		 b_code[5];
	int		 b_prtry;
	struct buf	 b_amt;
	char		 b_ccy[4];
	int		 b_debit;
	char		 b_date[11];

	/* entry */
	uint64_t	 e_line;
	struct buf	 e_amt;
	char		 e_ccy[4];
	int		 e_cdi, e_rvsl;
	struct buf	 e_sts, e_asref, e_domn, e_fmly, e_subf, e_prtry, e_addtl;
	char		 e_book[11], e_val[11];
	int64_t		 e_chrg;
	int		 e_has_chrg_total;

	/* the TxDtls being read */
	uint64_t	 t_line;
	struct buf	 t[X__COUNT];
	int64_t		 t_amount;
	int		 t_has_amount;
	char		 t_ccy[4];
	int		 t_cdi;

	/* the entry's TxDtls */
	struct txd	*txds;
	size_t		 ntxd, txd_cap;
	struct buf	 arena;

	/* the record being passed on */
	struct buf	 o_btc, o_btc2, o_desc, o_id;
};

#define SF(x, id)	(&(x)->s[(id) - S_ID])

/* The line of the current node (its start tag), else the parser's. */
static inline uint64_t
lineno(struct cx *x)
{
	xmlNodePtr	node;
	long		l;

	if (x->r == NULL)
		return x->line;
	node = xmlTextReaderCurrentNode(x->r);
	l = node != NULL ? xmlGetLineNo(node) : -1;
	/*
	 * A node keeps at most 65535 (its children may say more, but they
	 * are not read yet): past that, the parser's line, which may be a
	 * few lines on, as the reader reads ahead.
	 */
	if (l <= 0 || l >= 65535)
		l = xmlTextReaderGetParserLineNumber(x->r);
	return l > 0 ? (uint64_t)l : 0;
}


/* camt053.c */
/* Builds the tree of element paths, once per process. */
void		camt_tables_init(void);
void		camt_cx_init(struct cx *, struct fmt_ctx *, FILE *);
void		camt_cx_free(struct cx *);
/* Calls begin() with the statement's account, once. */
enum stmt_rc	camt_begin(struct cx *);
/*
 * An element starts (its local name, its namespace for the root, its Ccy
 * attribute for an *Amt) and ends: the handlers both readings feed.
 */
enum stmt_rc	camt_el_start(struct cx *, const char *name, const char *ns,
		    const char *ccy);
enum stmt_rc	camt_el_end(struct cx *);
/* True when an element named name (n bytes) may carry an amount's Ccy. */
int		camt_is_amt(const char *name, size_t n);

/* camt_entry.c */
void		camt_entry_reset(struct cx *);
void		camt_txd_reset(struct cx *);
/* </TxDtls>: packs it into the entry's arena. */
enum stmt_rc	camt_txd_save(struct cx *);
/* </Ntry>: one record, or one per TxDtls of a batch. */
enum stmt_rc	camt_entry_end(struct cx *);
/* </Bal>: the balance just read. */
enum stmt_rc	camt_bal_end(struct cx *);

#endif
