/*
 * camt053: ISO 20022 BankToCustomerStatement, camt.053.001.02 to .001.10
 * and national variants (any namespace naming camt.053.001.), and the
 * intraday BankToCustomerAccountReport camt.052.001 (which XS2A banks
 * send for transactions): the same record under other names, its <Rpt>
 * read as a <Stmt>.  Read in two ways (see "Two readings" at the end):
 *
 * - a SAX pass: libxml2's SAX2 push parser fed 64 KB reads of the FILE*,
 *   no node built; it reads a plain, good file on its own;
 * - libxml2's streaming xmlTextReader, the reference: it reads the file
 *   again whenever the SAX pass gives up (any rejection, XML error,
 *   DOCTYPE, entity, comment or processing instruction inside the root,
 *   xml:id, a Ccy holding an entity, text past libxml2's node limit), so
 *   that every message and line is the reader's, and the sink gets only
 *   the calls the SAX pass had not made.
 *
 * Both feed the same handlers: each element's text is collected into one
 * bounded buffer and acted on when the element ends, looked up by its
 * path below BkToCstmrStmt in the table `paths`.  Entry-level values wait
 * in bounded buffers until </Ntry>; the TxDtls of a batch entry are packed
 * into a bounded arena so the entry can be split into one record per
 * TxDtls once its amounts are known.  Lines are libxml2's: an element's is
 * the line where its start tag ends (past line 65535, when the reader
 * reads a file the SAX pass left, the parser's line, a few lines on).
 *
 * Safety: no DTD is loaded, no entity substituted, no network used, and a
 * document with a DOCTYPE is refused outright, so external entities (XXE)
 * and entity expansion bombs have nothing to work with.
 */
#include "formats/fmt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "core/money.h"

#define CAMT_MAXDEPTH	64
#define CAMT_PATH_MAX	1024
#define CAMT_MAX_TXDTLS	100000		/* per entry */
#define CAMT_ARENA_MAX	(16 * 1024 * 1024)
#define CAMT_CHUNK	(64 * 1024)		/* one read of the SAX pass */
/* A run of text past this is left to the reader (libxml2's 10 MB limit). */
#define CAMT_RUN_MAX	(8 * 1024 * 1024)

/*
 * The messages read, by the namespace they name (national variants such
 * as the Austrian "ISO:camt.053.001.02:APC:STUZZA..." name it too): the
 * root's child, and the element read as a statement.
 */
static const struct {
	const char	*ns, *root, *stmt, *human;
} camt_msgs[] = {
	{ "camt.053.001.", "BkToCstmrStmt", "Stmt", "camt.053" },
	{ "camt.052.001.", "BkToCstmrAcctRpt", "Rpt", "camt.052" },
	{ "camt.054.001.", "BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054" },
};
#define CAMT_NMSGS	(sizeof(camt_msgs) / sizeof(camt_msgs[0]))

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

struct path {
	const char	*path;
	enum fid	 id;
};

#define TX "Stmt/Ntry/NtryDtls/TxDtls/"
static const struct path paths[] = {
	{ "Stmt/Id", S_ID },
	{ "Stmt/ElctrncSeqNb", S_ESEQ },
	{ "Stmt/LglSeqNb", S_LSEQ },
	{ "Stmt/FrToDt/FrDtTm", S_FROM },
	{ "Stmt/FrToDt/ToDtTm", S_TO },
	{ "Stmt/Acct/Id/IBAN", S_IBAN },
	{ "Stmt/Acct/Id/Othr/Id", S_OTHR },
	{ "Stmt/Acct/Ccy", S_CCY },
	{ "Stmt/Acct/Nm", S_NAME },
	{ "Stmt/Acct/Ownr/Nm", S_OWNER },
	{ "Stmt/Acct/Ownr/Pty/Nm", S_OWNER },
	{ "Stmt/Acct/Svcr/FinInstnId/BIC", S_BIC },
	{ "Stmt/Acct/Svcr/FinInstnId/BICFI", S_BIC },
	{ "Stmt/Acct/Tp/Cd", S_ACCT_TP },
	{ "Stmt/Bal/Tp/CdOrPrtry/Cd", B_CODE },
	{ "Stmt/Bal/Tp/CdOrPrtry/Prtry", B_PRTRY },
	{ "Stmt/Bal/Amt", B_AMT },
	{ "Stmt/Bal/CdtDbtInd", B_CDI },
	{ "Stmt/Bal/Dt/Dt", B_DATE },
	{ "Stmt/Bal/Dt/DtTm", B_DATE },
	{ "Stmt/Ntry/Amt", E_AMT },
	{ "Stmt/Ntry/CdtDbtInd", E_CDI },
	{ "Stmt/Ntry/RvslInd", E_RVSL },
	{ "Stmt/Ntry/Sts", E_STS },
	{ "Stmt/Ntry/Sts/Cd", E_STS },
	{ "Stmt/Ntry/Sts/Prtry", E_STS },
	{ "Stmt/Ntry/BookgDt/Dt", E_BOOK },
	{ "Stmt/Ntry/BookgDt/DtTm", E_BOOK },
	{ "Stmt/Ntry/ValDt/Dt", E_VAL },
	{ "Stmt/Ntry/ValDt/DtTm", E_VAL },
	{ "Stmt/Ntry/AcctSvcrRef", E_ASREF },
	{ "Stmt/Ntry/BkTxCd/Domn/Cd", E_DOMN },
	{ "Stmt/Ntry/BkTxCd/Domn/Fmly/Cd", E_FMLY },
	{ "Stmt/Ntry/BkTxCd/Domn/Fmly/SubFmlyCd", E_SUBF },
	{ "Stmt/Ntry/BkTxCd/Prtry/Cd", E_PRTRY },
	{ "Stmt/Ntry/Chrgs/TtlChrgsAndTaxAmt", E_CHRG_TOTAL },
	{ "Stmt/Ntry/Chrgs/Rcrd/Amt", E_CHRG_REC },
	{ "Stmt/Ntry/Chrgs/Amt", E_CHRG_REC },
	{ "Stmt/Ntry/AddtlNtryInf", E_ADDTL },
	{ TX "Refs/EndToEndId", T_E2E },
	{ TX "Refs/AcctSvcrRef", T_ASREF },
	{ TX "Amt", T_AMT },
	{ TX "AmtDtls/TxAmt/Amt", T_AMT2 },
	{ TX "CdtDbtInd", T_CDI },
	{ TX "BkTxCd/Domn/Cd", T_DOMN },
	{ TX "BkTxCd/Domn/Fmly/Cd", T_FMLY },
	{ TX "BkTxCd/Domn/Fmly/SubFmlyCd", T_SUBF },
	{ TX "BkTxCd/Prtry/Cd", T_PRTRY },
	{ TX "RltdPties/Dbtr/Nm", T_DBTR },
	{ TX "RltdPties/Dbtr/Pty/Nm", T_DBTR },
	{ TX "RltdPties/DbtrAcct/Id/IBAN", T_DBTR_IBAN },
	{ TX "RltdPties/DbtrAcct/Id/Othr/Id", T_DBTR_IBAN },
	{ TX "RltdPties/Cdtr/Nm", T_CDTR },
	{ TX "RltdPties/Cdtr/Pty/Nm", T_CDTR },
	{ TX "RltdPties/CdtrAcct/Id/IBAN", T_CDTR_IBAN },
	{ TX "RltdPties/CdtrAcct/Id/Othr/Id", T_CDTR_IBAN },
	{ TX "RltdPties/UltmtDbtr/Nm", T_UDBTR },
	{ TX "RltdPties/UltmtDbtr/Pty/Nm", T_UDBTR },
	{ TX "RltdPties/UltmtCdtr/Nm", T_UCDTR },
	{ TX "RltdPties/UltmtCdtr/Pty/Nm", T_UCDTR },
	{ TX "RmtInf/Ustrd", T_USTRD },
	{ TX "RmtInf/Strd/AddtlRmtInf", T_ADDRMT },
	{ TX "RmtInf/Strd/CdtrRefInf/Ref", T_SREF },
	{ TX "AddtlTxInf", T_ADDTL },
};
#undef TX

/*
 * The paths as a tree of element names, built once: an element's meaning
 * is found as it opens, from its parent's node and its own name (a few
 * short compares among the siblings), instead of a search of the whole
 * path string each time an element ends.  Node 0 is BkToCstmrStmt.
 */
#define CAMT_NODES	256

static struct pnode {
	const char	*name;		/* into `paths`, not NUL-terminated */
	size_t		 len;
	int		 child, next;	/* -1: none */
	enum fid	 id;
} nodes[CAMT_NODES];
static int		nnodes;
/* The elements that start and end records. */
static int		n_stmt, n_bal, n_ntry, n_txdtls;
static pthread_once_t	paths_once = PTHREAD_ONCE_INIT;

/* The child of node `parent` named name (len bytes), or -1. */
static int
node_child(int parent, const char *name, size_t len)
{
	int	k;

	for (k = nodes[parent].child; k != -1; k = nodes[k].next)
		if (nodes[k].len == len && memcmp(nodes[k].name, name, len) == 0)
			return k;
	return -1;
}

/* The node of a path below BkToCstmrStmt, added as needed. */
static int
node_path(const char *path)
{
	const char	*p = path, *slash;
	int		 k = 0, c;
	size_t		 len;

	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if ((c = node_child(k, p, len)) == -1) {
			if (nnodes == CAMT_NODES)
				abort();	/* the table outgrew CAMT_NODES */
			c = nnodes++;
			nodes[c].name = p;
			nodes[c].len = len;
			nodes[c].child = -1;
			nodes[c].next = nodes[k].child;
			nodes[c].id = F_NONE;
			nodes[k].child = c;
		}
		k = c;
		if (slash == NULL)
			return k;
		p = slash + 1;
	}
}

static void
paths_init(void)
{
	size_t	i;

	xmlInitParser();
	nodes[0].child = nodes[0].next = -1;
	nnodes = 1;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		nodes[node_path(paths[i].path)].id = paths[i].id;
	n_stmt = node_path("Stmt");
	n_bal = node_path("Stmt/Bal");
	n_ntry = node_path("Stmt/Ntry");
	n_txdtls = node_path("Stmt/Ntry/NtryDtls/TxDtls");
}

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

/* The line of the current node (its start tag), else the parser's. */
static uint64_t
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

static int
readcb(void *arg, char *b, int len)
{
	struct cx	*x = arg;
	size_t		 n = fread(b, 1, (size_t)len, x->in);

	if (n == 0 && ferror(x->in))
		return -1;
	return (int)n;
}

/* libxml2's messages go to the diag, never to stderr. */
static void
quiet(void *arg, const char *msg, ...)
{
	(void)arg;
	(void)msg;
}

static void
errcb(void *arg, xmlErrorPtr e)
{
	struct cx	*x = arg;
	size_t		 n;

	if (e == NULL || x->xerr[0] != '\0' || e->level < XML_ERR_ERROR)
		return;
	fmt_copy(x->xerr, sizeof(x->xerr), e->message != NULL ? e->message :
	    "XML error");
	n = strlen(x->xerr);
	while (n > 0 && (x->xerr[n - 1] == '\n' || x->xerr[n - 1] == ' '))
		x->xerr[--n] = '\0';
	x->xerr_line = e->line;
}

static void
cx_init(struct cx *x, struct fmt_ctx *c, FILE *in)
{
	size_t	i;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->in = in;
	buf_init(&x->path, CAMT_PATH_MAX);
	buf_init(&x->ws, STMT_TEXT_MAX);
	buf_init(&x->text, STMT_TEXT_MAX);
	for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
		buf_init(&x->s[i], STMT_FIELD_MAX);
	buf_init(&x->b_amt, 64);
	buf_init(&x->e_amt, 64);
	buf_init(&x->e_sts, 64);
	buf_init(&x->e_asref, STMT_FIELD_MAX);
	buf_init(&x->e_domn, 64);
	buf_init(&x->e_fmly, 64);
	buf_init(&x->e_subf, 64);
	buf_init(&x->e_prtry, STMT_FIELD_MAX);
	buf_init(&x->e_addtl, STMT_TEXT_MAX);
	for (i = 0; i < X__COUNT; i++)
		buf_init(&x->t[i], i == X_USTRD || i == X_ADDRMT ||
		    i == X_SREF ? STMT_TEXT_MAX : STMT_FIELD_MAX);
	buf_init(&x->arena, CAMT_ARENA_MAX);
	buf_init(&x->o_btc, 256);
	buf_init(&x->o_btc2, 256);
	buf_init(&x->o_desc, STMT_TEXT_MAX);
	buf_init(&x->o_id, STMT_FIELD_MAX + 16);
}

static void
cx_free(struct cx *x)
{
	size_t	i;

	if (x->r != NULL)
		xmlFreeTextReader(x->r);
	if (x->p != NULL)
		xmlFreeParserCtxt(x->p);
	buf_free(&x->path);
	buf_free(&x->ws);
	buf_free(&x->text);
	for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
		buf_free(&x->s[i]);
	buf_free(&x->b_amt);
	buf_free(&x->e_amt);
	buf_free(&x->e_sts);
	buf_free(&x->e_asref);
	buf_free(&x->e_domn);
	buf_free(&x->e_fmly);
	buf_free(&x->e_subf);
	buf_free(&x->e_prtry);
	buf_free(&x->e_addtl);
	for (i = 0; i < X__COUNT; i++)
		buf_free(&x->t[i]);
	buf_free(&x->arena);
	buf_free(&x->o_btc);
	buf_free(&x->o_btc2);
	buf_free(&x->o_desc);
	buf_free(&x->o_id);
	free(x->txds);
}

#define SF(x, id)	(&(x)->s[(id) - S_ID])

/* Calls begin() with the statement's account, once. */
static enum stmt_rc
cx_begin(struct cx *x)
{
	struct rec_account	 a;
	const char		*id;

	if (x->c->open)
		return STMT_OK;
	memset(&a, 0, sizeof(a));
	a.iban = fmt_opt(SF(x, S_IBAN));
	a.number = fmt_opt(SF(x, S_OTHR));
	if (a.iban == NULL && fmt_is_iban(a.number)) {
		a.iban = a.number;
		a.number = NULL;
	}
	id = a.iban != NULL ? a.iban : a.number;
	if (id == NULL)
		return fmt_reject(x->c, x->c->info.line, "statement %s has no "
		    "account identification (Acct/Id/IBAN or Acct/Id/Othr/Id)",
		    buf_str(SF(x, S_ID)));
	a.bank_id = id;
	a.bic = fmt_opt(SF(x, S_BIC));
	a.name = fmt_opt(SF(x, S_NAME));
	a.holder_name = fmt_opt(SF(x, S_OWNER));
	a.type = ACCT_CHECKING;
	if (strcmp(buf_str(SF(x, S_ACCT_TP)), "SVGS") == 0)
		a.type = ACCT_SAVINGS;
	else if (strcmp(buf_str(SF(x, S_ACCT_TP)), "LOAN") == 0)
		a.type = ACCT_LOAN;
	else if (strcmp(buf_str(SF(x, S_ACCT_TP)), "CARD") == 0)
		a.type = ACCT_CREDIT_CARD;
	if (x->c->currency[0] == '\0')
		fmt_copy(x->c->currency, 4, buf_str(SF(x, S_CCY)));
	if (x->c->currency[0] == '\0' && x->c->nbal > 0)
		fmt_copy(x->c->currency, 4, x->c->bal[0].currency);
	if (x->c->currency[0] == '\0')
		fmt_copy(x->c->currency, 4, x->e_ccy);
	fmt_copy(a.currency, sizeof(a.currency), x->c->currency);
	x->c->info.id = fmt_opt(SF(x, S_ID));
	x->c->info.sequence = fmt_opt(SF(x, S_ESEQ)) != NULL ?
	    fmt_opt(SF(x, S_ESEQ)) : fmt_opt(SF(x, S_LSEQ));
	return fmt_begin(x->c, &a);
}

/* An ISO date or date-time into out; a stmt_rc. */
static enum stmt_rc
cx_date(struct cx *x, const char *what, char out[11])
{
	int	adj;

	if (fmt_iso_date(x->text.p, x->text.len, out, &adj) == -1)
		return fmt_reject(x->c, lineno(x), "invalid %s \"%.40s\" "
		    "(YYYY-MM-DD)", what, buf_str(&x->text));
	if (adj)
		return fmt_warn(x->c, STMT_W_DATE_ADJUSTED, lineno(x),
		    "%s %.10s does not exist; used %s", what, x->text.p, out);
	return STMT_OK;
}

/* Parses the open amount element's text in its Ccy. */
static enum stmt_rc
cx_amount(struct cx *x, const char *what, int64_t *v, char ccy[4])
{
	if (!x->has_ccy_attr)
		return fmt_reject(x->c, lineno(x), "%s without its Ccy "
		    "attribute", what);
	fmt_copy(ccy, 4, x->ccy_attr);
	if (x->text.len > 0 && x->text.p[0] == '-')
		return fmt_reject(x->c, lineno(x), "%s \"%.40s\" is negative "
		    "(the sign is CdtDbtInd)", what, x->text.p);
	return fmt_amount(x->c, lineno(x), what, buf_str(&x->text),
	    x->text.len, '.', ccy, v);
}

static int
cdi(struct cx *x, int *out)
{
	if (strcmp(buf_str(&x->text), "CRDT") == 0)
		*out = 1;
	else if (strcmp(buf_str(&x->text), "DBIT") == 0)
		*out = -1;
	else
		return -1;
	return 0;
}

static enum stmt_rc
set(struct buf *b, struct cx *x)
{
	buf_reset(b);
	if (buf_add(b, buf_str(&x->text), x->text.len) == -1)
		return fmt_reject(x->c, lineno(x), "value longer than %zu bytes",
		    b->max);
	return STMT_OK;
}

/* Appends the text to b, a space between pieces (Ustrd lines). */
static enum stmt_rc
append(struct buf *b, struct cx *x)
{
	if (x->text.len == 0)
		return STMT_OK;
	if ((b->len > 0 && buf_addc(b, ' ') == -1) ||
	    buf_add(b, x->text.p, x->text.len) == -1)
		return fmt_reject(x->c, lineno(x), "text longer than %zu bytes",
		    b->max);
	return STMT_OK;
}

static void
entry_reset(struct cx *x)
{
	x->e_line = lineno(x);
	buf_reset(&x->e_amt);
	x->e_ccy[0] = '\0';
	x->e_cdi = 0;
	x->e_rvsl = 0;
	buf_reset(&x->e_sts);
	buf_reset(&x->e_asref);
	buf_reset(&x->e_domn);
	buf_reset(&x->e_fmly);
	buf_reset(&x->e_subf);
	buf_reset(&x->e_prtry);
	buf_reset(&x->e_addtl);
	x->e_book[0] = x->e_val[0] = '\0';
	x->e_chrg = 0;
	x->e_has_chrg_total = 0;
	x->ntxd = 0;
	buf_reset(&x->arena);
	buf_addc(&x->arena, '\0');	/* offset 0 is "" */
}

static void
txd_reset(struct cx *x)
{
	size_t	i;

	x->t_line = lineno(x);
	for (i = 0; i < X__COUNT; i++)
		buf_reset(&x->t[i]);
	x->t_amount = 0;
	x->t_has_amount = 0;
	x->t_ccy[0] = '\0';
	x->t_cdi = 0;
}

/* Packs the TxDtls just read into the entry's arena. */
static enum stmt_rc
txd_save(struct cx *x)
{
	struct txd	*d;
	size_t		 i;

	if (x->ntxd == CAMT_MAX_TXDTLS)
		return fmt_reject(x->c, lineno(x), "entry with more than %d "
		    "TxDtls", CAMT_MAX_TXDTLS);
	if (x->ntxd == x->txd_cap) {
		size_t		 cap = x->txd_cap ? x->txd_cap * 2 : 16;
		struct txd	*p;

		if (cap > CAMT_MAX_TXDTLS)
			cap = CAMT_MAX_TXDTLS;
		if ((p = realloc(x->txds, cap * sizeof(*p))) == NULL)
			return fmt_failed(x->c, "out of memory");
		x->txds = p;
		x->txd_cap = cap;
	}
	d = &x->txds[x->ntxd++];
	memset(d, 0, sizeof(*d));
	d->amount = x->t_amount;
	d->has_amount = x->t_has_amount;
	memcpy(d->ccy, x->t_ccy, 4);
	d->cdi = x->t_cdi;
	d->line = x->t_line;
	for (i = 0; i < X__COUNT; i++) {
		if (x->t[i].len == 0)
			continue;
		d->off[i] = (uint32_t)x->arena.len;
		if (buf_add(&x->arena, x->t[i].p, x->t[i].len + 1) == -1)
			return fmt_reject(x->c, lineno(x), "batch entry larger "
			    "than %d bytes of details", CAMT_ARENA_MAX);
	}
	return STMT_OK;
}

static const char *
tf(const struct cx *x, const struct txd *d, enum txf f)
{
	if (d == NULL || d->off[f] == 0)
		return NULL;
	return x->arena.p + d->off[f];
}

static const char *
first(const char *a, const char *b)
{
	return (a != NULL && *a != '\0') ? a : b;
}

/* Whether TxDtls d names the debtor's side (or the creditor's). */
static const char *
party(const struct cx *x, const struct txd *d, int debtor)
{
	if (debtor)
		return first(tf(x, d, X_DBTR), first(tf(x, d, X_UDBTR),
		    tf(x, d, X_DBTR_IBAN)));
	return first(tf(x, d, X_CDTR), first(tf(x, d, X_UCDTR),
	    tf(x, d, X_CDTR_IBAN)));
}

/* "PMNT-RCDT-ESCT" into b from its pieces: all of it or nothing. */
static void
btc_join(struct buf *b, const char *domn, const char *fmly, const char *subf)
{
	buf_reset(b);
	if (domn != NULL && (buf_add(b, domn, strlen(domn)) == -1 ||
	    (fmly != NULL && (buf_addc(b, '-') == -1 ||
	    buf_add(b, fmly, strlen(fmly)) == -1)) ||
	    (subf != NULL && (buf_addc(b, '-') == -1 ||
	    buf_add(b, subf, strlen(subf)) == -1))))
		buf_reset(b);
}

/* Appends s to b after a space, unless b holds it already. */
static void
add_text(struct buf *b, const char *s)
{
	if (s == NULL || *s == '\0' || (b->len > 0 && strstr(b->p, s) != NULL))
		return;
	if (b->len > 0 && buf_addc(b, ' ') == -1)
		return;
	buf_addstr(b, s);
}

/*
 * The description of TxDtls d (or of the entry alone): the remittance
 * information (Ustrd, Strd/AddtlRmtInf) with the creditor reference
 * (Strd/CdtrRefInf/Ref) after it; without remittance text, AddtlTxInf
 * and AddtlNtryInf, joined when both say something, and the reference
 * after them; else the reference alone.  The reference is never lost.
 */
static const char *
describe(struct cx *x, const struct txd *d)
{
	struct buf	*b = &x->o_desc;

	buf_reset(b);
	add_text(b, tf(x, d, X_USTRD));
	add_text(b, tf(x, d, X_ADDRMT));
	if (b->len == 0) {
		add_text(b, tf(x, d, X_ADDTL));
		add_text(b, fmt_opt(&x->e_addtl));
	}
	add_text(b, tf(x, d, X_SREF));
	return fmt_opt(b);
}

/*
 * Passes one record on: the entry with the details of TxDtls d (or none)
 * and the given amount.
 */
static enum stmt_rc
emit(struct cx *x, const struct txd *d, int64_t amount, int credit,
    size_t index, size_t count)
{
	struct stmt_txn	 t;
	const char	*ref;
	int		 from_debtor;

	memset(&t, 0, sizeof(t));
	t.line = d != NULL ? d->line : x->e_line;
	t.reversal = x->e_rvsl;
	t.rec.amount = amount;
	fmt_copy(t.rec.currency, 4, x->e_ccy);
	fmt_copy(t.rec.booking_date, 11, x->e_book[0] ? x->e_book : x->e_val);
	fmt_copy(t.rec.value_date, 11, x->e_val);
	t.rec.status = strcmp(buf_str(&x->e_sts), "PDNG") == 0 ?
	    TXN_PENDING : TXN_BOOKED;
	/*
	 * The counterparty is the debtor of a credit and the creditor of a
	 * debit; a reversal swaps them back to the original's parties, and
	 * keeps the party it has when the bank gave only the other side.
	 */
	from_debtor = credit ^ x->e_rvsl;
	if (x->e_rvsl && party(x, d, from_debtor) == NULL)
		from_debtor = !from_debtor;
	if (from_debtor) {
		t.rec.cp_name = first(tf(x, d, X_DBTR), tf(x, d, X_UDBTR));
		t.rec.cp_iban = tf(x, d, X_DBTR_IBAN);
	} else {
		t.rec.cp_name = first(tf(x, d, X_CDTR), tf(x, d, X_UCDTR));
		t.rec.cp_iban = tf(x, d, X_CDTR_IBAN);
	}
	t.rec.description = describe(x, d);
	if (d == NULL && count > 1) {
		buf_reset(&x->o_desc);
		buf_printf(&x->o_desc, "batch of %zu transactions%s%s", count,
		    x->e_addtl.len ? ": " : "", buf_str(&x->e_addtl));
		t.rec.description = x->o_desc.p;
	}
	/*
	 * Domain-Family-SubFamily: the entry's wins, the TxDtls' own is kept
	 * beside it when it says something else.
	 */
	btc_join(&x->o_btc, fmt_opt(&x->e_domn), fmt_opt(&x->e_fmly),
	    fmt_opt(&x->e_subf));
	btc_join(&x->o_btc2, tf(x, d, X_DOMN), tf(x, d, X_FMLY),
	    tf(x, d, X_SUBF));
	if (x->o_btc.len == 0 && x->o_btc2.len > 0) {
		struct buf	tmp = x->o_btc;

		x->o_btc = x->o_btc2;
		x->o_btc2 = tmp;
		buf_reset(&x->o_btc2);
	}
	t.purpose_code = first(fmt_opt(&x->e_prtry), tf(x, d, X_PRTRY));
	t.rec.bank_transaction_code = x->o_btc.len ? x->o_btc.p :
	    t.purpose_code;
	if (x->o_btc2.len > 0 && strcmp(x->o_btc2.p, x->o_btc.p) != 0)
		t.details_bank_transaction_code = x->o_btc2.p;
	t.rec.bank_reference = fmt_opt(&x->e_asref);
	t.rec.end_to_end_id = tf(x, d, X_E2E);
	if (t.rec.end_to_end_id != NULL &&
	    strcmp(t.rec.end_to_end_id, "NOTPROVIDED") == 0)
		t.rec.end_to_end_id = NULL;
	/* The bank's id: the TxDtls' own, else the entry's (numbered). */
	ref = tf(x, d, X_ASREF);
	if (ref == NULL && x->e_asref.len > 0) {
		buf_reset(&x->o_id);
		if (count > 1)
			buf_printf(&x->o_id, "%s/%zu", x->e_asref.p, index + 1);
		else
			buf_addstr(&x->o_id, x->e_asref.p);
		ref = x->o_id.p;
	}
	t.rec.bank_id = ref;
	return fmt_txn(x->c, &t);
}

/*
 * </Ntry>: one record per TxDtls when the entry is a batch whose TxDtls
 * carry their own amounts in the entry's currency, else one record with
 * the entry's amount.
 */
static enum stmt_rc
entry_end(struct cx *x)
{
	int64_t		 amount, sum = 0;
	size_t		 i;
	int		 split;
	enum stmt_rc	 rc;
	char		 a[MONEY_STRLEN], b[MONEY_STRLEN];

	/*
	 * The statement begins with its first entry, once the entry's
	 * currency is known: a notification may say no other.
	 */
	if ((rc = cx_begin(x)) != STMT_OK)
		return rc;
	if (x->e_amt.len == 0)
		return fmt_reject(x->c, x->e_line, "entry without Amt");
	if (x->e_cdi == 0)
		return fmt_reject(x->c, x->e_line, "entry without CdtDbtInd "
		    "(CRDT or DBIT)");
	{
		/* The amount was checked when it was read. */
		enum money_rc	mrc = money_parse(x->e_amt.p, x->e_amt.len, '.',
				    fmt_exponent(x->e_ccy), &amount);

		if (mrc != MONEY_OK && mrc != MONEY_INEXACT)
			return fmt_reject(x->c, x->e_line, "entry amount");
	}
	amount *= x->e_cdi;
	if (x->e_sts.len > 0 && strcmp(x->e_sts.p, "BOOK") != 0 &&
	    strcmp(x->e_sts.p, "PDNG") != 0) {
		if (strcmp(x->e_sts.p, "INFO") == 0)
			return fmt_warn(x->c, STMT_W_NOT_IMPORTED, x->e_line,
			    "entry with status INFO (information only, not "
			    "booked) not imported");
		if ((rc = fmt_warn(x->c, STMT_W_UNKNOWN_CODE, x->e_line,
		    "unknown entry status \"%s\"; read as booked",
		    x->e_sts.p)) != STMT_OK)
			return rc;
	}
	if (x->e_book[0] == '\0' && x->e_val[0] == '\0' &&
	    (rc = fmt_warn(x->c, STMT_W_MISSING_FIELD, x->e_line,
	    "entry without BookgDt or ValDt")) != STMT_OK)
		return rc;
	if (x->e_ccy[0] != '\0' && x->c->currency[0] != '\0' &&
	    strcmp(x->e_ccy, x->c->currency) != 0 && !x->c->warned_ccy) {
		x->c->warned_ccy = 1;
		if ((rc = fmt_warn(x->c, STMT_W_CURRENCY, x->e_line,
		    "entry in %s on an account in %s", x->e_ccy,
		    x->c->currency)) != STMT_OK)
			return rc;
	}
	if (x->ntxd <= 1) {
		const struct txd	*d = x->ntxd ? &x->txds[0] : NULL;

		if (d != NULL && d->has_amount && strcmp(d->ccy, x->e_ccy) == 0 &&
		    d->amount != (amount < 0 ? -amount : amount)) {
			money_format(d->amount, fmt_exponent(d->ccy), a);
			money_format(amount < 0 ? -amount : amount,
			    fmt_exponent(x->e_ccy), b);
			if ((rc = fmt_warn(x->c, STMT_W_BATCH, d->line,
			    "TxDtls amount %s %s differs from its entry's %s %s; "
			    "the entry's amount was used", a, d->ccy, b,
			    x->e_ccy)) != STMT_OK)
				return rc;
		}
		return emit(x, d, amount, x->e_cdi > 0, 0, 1);
	}
	split = 1;
	for (i = 0; i < x->ntxd; i++)
		if (!x->txds[i].has_amount ||
		    strcmp(x->txds[i].ccy, x->e_ccy) != 0)
			split = 0;
	if (!split) {
		if ((rc = fmt_warn(x->c, STMT_W_BATCH, x->e_line,
		    "batch entry of %zu TxDtls without their own amounts in %s "
		    "imported as one transaction", x->ntxd, x->e_ccy)) != STMT_OK)
			return rc;
		return emit(x, NULL, amount, x->e_cdi > 0, 0, x->ntxd);
	}
	for (i = 0; i < x->ntxd; i++) {
		const struct txd	*d = &x->txds[i];
		int			 s = d->cdi ? d->cdi : x->e_cdi;
		int64_t			 v = d->amount * s;

		sum += v;
		if ((rc = emit(x, d, v, s > 0, i, x->ntxd)) != STMT_OK)
			return rc;
	}
	/*
	 * Charges taken from a batch show as the difference between the
	 * TxDtls and the entry: passed on as a record of their own so the
	 * statement still adds up.
	 */
	if (x->e_chrg != 0 && sum - x->e_chrg == amount) {
		struct txd	 chg;
		struct buf	 keep = x->e_addtl;

		memset(&chg, 0, sizeof(chg));
		chg.line = x->e_line;
		buf_init(&x->e_addtl, 64);
		buf_addstr(&x->e_addtl, "charges");
		rc = emit(x, &chg, -x->e_chrg, 0, x->ntxd, x->ntxd + 1);
		buf_free(&x->e_addtl);
		x->e_addtl = keep;
		return rc;
	}
	if (sum != amount) {
		money_format(sum, fmt_exponent(x->e_ccy), a);
		money_format(amount, fmt_exponent(x->e_ccy), b);
		return fmt_warn(x->c, STMT_W_BATCH, x->e_line,
		    "the %zu TxDtls of the batch entry add up to %s %s, the "
		    "entry says %s %s", x->ntxd, a, x->e_ccy, b, x->e_ccy);
	}
	return STMT_OK;
}

/* </Bal>: the balance just read. */
static enum stmt_rc
bal_end(struct cx *x)
{
	enum bal_type	 t;
	int64_t		 v;
	enum stmt_rc	 rc;

	if (x->b_prtry && x->b_code[0] == '\0')
		return fmt_warn(x->c, STMT_W_UNKNOWN_CODE, lineno(x),
		    "balance with a proprietary type ignored");
	if (bal_type_from_iso(x->b_code, &t) == -1)
		return fmt_warn(x->c, STMT_W_UNKNOWN_CODE, lineno(x),
		    "balance type \"%s\" unknown; balance ignored", x->b_code);
	if (x->b_amt.len == 0)
		return fmt_reject(x->c, lineno(x), "balance %s without Amt",
		    x->b_code);
	if ((rc = fmt_amount(x->c, lineno(x), "balance", x->b_amt.p,
	    x->b_amt.len, '.', x->b_ccy, &v)) != STMT_OK)
		return rc;
	if (x->b_debit)
		v = -v;
	return fmt_add_balance(x->c, lineno(x), t, v, x->b_ccy, x->b_date);
}

/*
 * An element starts: name is its local name, ns its namespace (NULL:
 * none; read for the root only), ccy its Ccy attribute (NULL: none; read
 * for an element named *Amt only).
 */
static enum stmt_rc
el_start(struct cx *x, const char *name, const char *ns, const char *ccy)
{
	size_t		 n;
	int		 node;

	if (x->depth == CAMT_MAXDEPTH)
		return fmt_reject(x->c, lineno(x), "elements nested deeper "
		    "than %d", CAMT_MAXDEPTH);
	n = strlen(name);
	x->plen[x->depth++] = x->path.len;
	if ((x->path.len > 0 && buf_addc(&x->path, '/') == -1) ||
	    buf_add(&x->path, name, n) == -1)
		return fmt_reject(x->c, lineno(x), "element path longer than "
		    "%d bytes", CAMT_PATH_MAX);
	/* A camt.052 report, a camt.054 notification: read as a statement. */
	if (x->msg != 0 && x->depth == 3 &&
	    strcmp(name, camt_msgs[x->msg].stmt) == 0) {
		name = "Stmt";
		n = 4;
	}
	node = x->depth < 2 ? -1 : x->depth == 2 ? 0 :
	    x->node[x->depth - 1] < 0 ? -1 :
	    node_child(x->node[x->depth - 1], name, n);
	x->node[x->depth] = node;
	x->want_text = node > 0 && nodes[node].id != F_NONE;
	x->skipped = 0;
	buf_reset(&x->text);
	x->has_ccy_attr = 0;
	if (ccy != NULL) {
		fmt_copy(x->ccy_attr, sizeof(x->ccy_attr), ccy);
		x->has_ccy_attr = 1;
	}
	if (x->depth == 1) {
		const char	*u = ns != NULL ? ns : "";

		x->seen_root = 1;
		if (strcmp(name, "Document") != 0)
			return fmt_reject(x->c, lineno(x), "root element <%s> "
			    "is not the <Document> of a camt.053 statement", name);
		x->msg = -1;
		for (size_t k = 0; k < CAMT_NMSGS; k++)
			if (strstr(u, camt_msgs[k].ns) != NULL)
				x->msg = (int)k;
		if (x->msg == -1) {
			x->msg = 0;
			if (*u == '\0')
				return fmt_warn(x->c, STMT_W_UNKNOWN_CODE,
				    lineno(x), "<Document> has no namespace; "
				    "read as camt.053");
			return fmt_reject(x->c, lineno(x), "namespace \"%.100s\" "
			    "is not camt.053 (BankToCustomerStatement), camt.052 "
			    "(BankToCustomerAccountReport) nor camt.054 "
			    "(BankToCustomerDebitCreditNotification)", u);
		}
		return STMT_OK;
	}
	if (x->depth == 2) {
		if (strcmp(name, camt_msgs[x->msg].root) != 0)
			return fmt_reject(x->c, lineno(x), "<%s> where a %s "
			    "<%s> was expected", name, camt_msgs[x->msg].human,
			    camt_msgs[x->msg].root);
		x->rel = x->path.len + 1;
		x->root_line = lineno(x);
		return STMT_OK;
	}
	if (node == n_stmt) {
		size_t	i;

		fmt_stmt_reset(x->c);
		x->c->info.line = lineno(x);
		x->in_stmt = 1;
		x->seen_stmt = 1;
		for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
			buf_reset(&x->s[i]);
		return STMT_OK;
	}
	if (node == n_bal) {
		x->b_code[0] = '\0';
		x->b_prtry = 0;
		buf_reset(&x->b_amt);
		x->b_ccy[0] = '\0';
		x->b_debit = 0;
		x->b_date[0] = '\0';
		return STMT_OK;
	}
	if (node == n_ntry) {
		entry_reset(x);
		return STMT_OK;
	}
	if (node == n_txdtls)
		txd_reset(x);
	return STMT_OK;
}

/* Stores the text of the element that ends, by its path. */
static enum stmt_rc
el_field(struct cx *x, enum fid id)
{
	enum stmt_rc	rc;
	int		v;

	fmt_trim(&x->text);
	if (id >= S_ID && id <= S_ACCT_TP) {
		if (id == S_FROM || id == S_TO) {
			char	*d = id == S_FROM ? x->c->info.from_date :
				    x->c->info.to_date;

			return cx_date(x, "statement period date", d);
		}
		return set(SF(x, id), x);
	}
	if (id >= T_FIRST && id < T_AMT) {
		struct buf	*b = &x->t[id - T_FIRST];

		/* Several Ustrd, and several Strd each with their own. */
		return id == T_USTRD || id == T_ADDRMT || id == T_SREF ?
		    append(b, x) : set(b, x);
	}
	switch (id) {
	case B_CODE:
		fmt_copy(x->b_code, sizeof(x->b_code), buf_str(&x->text));
		return STMT_OK;
	case B_PRTRY:
		x->b_prtry = 1;
		return STMT_OK;
	case B_AMT:
		if (!x->has_ccy_attr)
			return fmt_reject(x->c, lineno(x), "balance Amt without "
			    "its Ccy attribute");
		fmt_copy(x->b_ccy, 4, x->ccy_attr);
		return set(&x->b_amt, x);
	case B_CDI:
		if (cdi(x, &v) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		x->b_debit = v < 0;
		return STMT_OK;
	case B_DATE:
		return cx_date(x, "balance date", x->b_date);
	case E_AMT: {
		int64_t	dummy;

		if ((rc = cx_amount(x, "entry amount", &dummy, x->e_ccy)) !=
		    STMT_OK)
			return rc;
		return set(&x->e_amt, x);
	}
	case E_CDI:
		if (cdi(x, &x->e_cdi) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		return STMT_OK;
	case E_RVSL:
		x->e_rvsl = strcmp(buf_str(&x->text), "true") == 0 ||
		    strcmp(buf_str(&x->text), "1") == 0;
		return STMT_OK;
	case E_STS:
		if (x->text.len == 0)
			return STMT_OK;	/* <Sts><Cd>: the code comes next */
		return set(&x->e_sts, x);
	case E_BOOK:
		return cx_date(x, "booking date", x->e_book);
	case E_VAL:
		return cx_date(x, "value date", x->e_val);
	case E_ASREF:
		return set(&x->e_asref, x);
	case E_DOMN:
		return set(&x->e_domn, x);
	case E_FMLY:
		return set(&x->e_fmly, x);
	case E_SUBF:
		return set(&x->e_subf, x);
	case E_PRTRY:
		return set(&x->e_prtry, x);
	case E_ADDTL:
		return append(&x->e_addtl, x);
	case E_CHRG_TOTAL:
	case E_CHRG_REC: {
		int64_t	v64;
		char	ccy[4];

		if (id == E_CHRG_REC && x->e_has_chrg_total)
			return STMT_OK;
		if ((rc = cx_amount(x, "charges", &v64, ccy)) != STMT_OK)
			return rc;
		if (id == E_CHRG_TOTAL) {
			x->e_has_chrg_total = 1;
			x->e_chrg = v64;
		} else
			x->e_chrg += v64;
		return STMT_OK;
	}
	case T_AMT:
	case T_AMT2:
		if (id == T_AMT2 && x->t_has_amount)
			return STMT_OK;
		if ((rc = cx_amount(x, "transaction amount", &x->t_amount,
		    x->t_ccy)) != STMT_OK)
			return rc;
		x->t_has_amount = 1;
		return STMT_OK;
	case T_CDI:
		if (cdi(x, &x->t_cdi) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		return STMT_OK;
	default:
		return STMT_OK;
	}
}

/* An element ends. */
static enum stmt_rc
el_end(struct cx *x)
{
	int		 node;
	enum stmt_rc	 rc = STMT_OK;

	if (x->depth == 0)
		return STMT_OK;
	node = x->node[x->depth];
	if (x->depth >= 3 && x->in_stmt && node > 0) {
		if (nodes[node].id != F_NONE)
			rc = el_field(x, nodes[node].id);
		else if (node == n_stmt) {
			x->in_stmt = 0;
			/*
			 * Neither an entry nor a balance: nothing a statement
			 * is made of, so none is made.
			 */
			if (!x->c->open && x->c->nbal == 0)
				rc = fmt_warn(x->c, STMT_W_NO_STATEMENT,
				    x->c->info.line, "<%s> %s without entries or "
				    "balances: not a statement, skipped",
				    camt_msgs[x->msg].stmt, buf_str(SF(x, S_ID)));
			else if ((rc = cx_begin(x)) == STMT_OK)
				rc = fmt_end(x->c, lineno(x));
		} else if (node == n_bal)
			rc = bal_end(x);
		else if (node == n_ntry)
			rc = entry_end(x);
		else if (node == n_txdtls)
			rc = txd_save(x);
	}
	x->depth--;
	x->path.len = x->plen[x->depth];
	if (x->path.p != NULL)
		x->path.p[x->path.len] = '\0';
	/* Text after a child belongs to its parent again. */
	node = x->node[x->depth];
	x->want_text = x->depth >= 3 && node > 0 && nodes[node].id != F_NONE;
	x->skipped = 0;
	buf_reset(&x->text);
	return rc;
}

/* True when an element named name (n bytes) may carry an amount's Ccy. */
static int
is_amt(const char *name, size_t n)
{
	return n >= 3 && memcmp(name + n - 3, "Amt", 3) == 0;
}

/*
 * The reading with libxml2's xmlTextReader: the reference, used for what
 * the SAX pass leaves to it.
 */
static enum stmt_rc
parse_reader(FILE *in, struct fmt_ctx *c)
{
	struct cx	 x;
	enum stmt_rc	 rc = STMT_OK;
	int		 ret, type;
	const char	*name;

	cx_init(&x, c, in);
	fmt_stmt_reset(c);
	x.r = xmlReaderForIO(readcb, NULL, &x, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS |
	    XML_PARSE_BIG_LINES);
	if (x.r == NULL) {
		rc = fmt_failed(c, "cannot create the XML reader");
		goto out;
	}
	xmlTextReaderSetStructuredErrorHandler(x.r, errcb, &x);
	while ((ret = xmlTextReaderRead(x.r)) == 1) {
		type = xmlTextReaderNodeType(x.r);
		switch (type) {
		case XML_READER_TYPE_ELEMENT: {
			const xmlChar	*ns = NULL;
			xmlChar		*ccy = NULL;

			name = (const char *)xmlTextReaderConstLocalName(x.r);
			if (name == NULL)
				name = "";
			if (x.depth == 0)
				ns = xmlTextReaderConstNamespaceUri(x.r);
			if (is_amt(name, strlen(name)))
				ccy = xmlTextReaderGetAttribute(x.r,
				    (const xmlChar *)"Ccy");
			rc = el_start(&x, name, (const char *)ns,
			    (const char *)ccy);
			xmlFree(ccy);
			if (rc != STMT_OK)
				goto out;
			if (xmlTextReaderIsEmptyElement(x.r) &&
			    (rc = el_end(&x)) != STMT_OK)
				goto out;
			break;
		}
		case XML_READER_TYPE_END_ELEMENT:
			if ((rc = el_end(&x)) != STMT_OK)
				goto out;
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
			const char	*v = (const char *)
					    xmlTextReaderConstValue(x.r);

			/*
			 * Only a field's text is kept; of any other element
			 * only its length, for the same limit.
			 */
			if (v != NULL && !x.want_text) {
				x.skipped += strlen(v);
				if (x.text.len + x.skipped <= STMT_TEXT_MAX)
					break;
			}
			if (v != NULL && (!x.want_text ||
			    buf_add(&x.text, v, strlen(v)) == -1)) {
				rc = fmt_reject(c, lineno(&x), "text longer than "
				    "%d bytes in <%s>", STMT_TEXT_MAX,
				    x.path.p != NULL ? x.path.p : "");
				goto out;
			}
			break;
		}
		case XML_READER_TYPE_DOCUMENT_TYPE:
			rc = fmt_reject(c, lineno(&x), "a DOCTYPE is not allowed "
			    "in a camt.053 document (entities are refused)");
			goto out;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			rc = fmt_reject(c, lineno(&x), "entity references are "
			    "not allowed");
			goto out;
		default:
			break;
		}
	}
	if (ret != 0 || x.xerr[0] != '\0') {
		if (ferror(in))
			rc = fmt_failed(c, "read error");
		else if (feof(in) && x.depth > 0)
			rc = fmt_reject(c, lineno(&x), "the file ends inside "
			    "<%s>: truncated", x.path.p + (x.depth > 2 ?
			    x.rel : 0));
		else
			rc = fmt_reject(c, x.xerr_line > 0 ?
			    (uint64_t)x.xerr_line : lineno(&x),
			    "not well-formed XML: %s", x.xerr[0] ? x.xerr :
			    "the document ends early");
		goto out;
	}
	if (!x.seen_root) {
		rc = fmt_reject(c, 1, "no XML document found");
		goto out;
	}
	if (!x.seen_stmt)
		rc = fmt_reject(c, x.root_line ? x.root_line : lineno(&x),
		    "no <%s> in the document: a "
		    "%s %s needs at least one", camt_msgs[x.msg].stmt,
		    camt_msgs[x.msg].human, camt_msgs[x.msg].root);
out:
	cx_free(&x);
	return rc;
}

/*
 * The SAX pass.  The handlers get the parser context (its _private is the
 * struct cx) and stop it with x->halt set when the reading is better left
 * to the reader: whatever is not a clean, plain document (any XML error,
 * a DOCTYPE, an entity, a comment or processing instruction inside the
 * root, an xml:id, a Ccy holding an entity) and every rejection.
 */
static void
sax_halt(struct cx *x)
{
	x->halt = 1;
	xmlStopParser(x->p);
}

/* A handler's answer: on anything but STMT_OK the pass is over. */
static void
sax_rc(struct cx *x, enum stmt_rc rc)
{
	if (rc == STMT_OK)
		return;
	if (rc == STMT_REJECTED)
		x->halt = 1;		/* the reader finds what and where */
	else
		x->rc = rc;		/* the sink's or memory's: final */
	xmlStopParser(x->p);
}

/* A new run of text starts (after a tag). */
static void
run_reset(struct cx *x)
{
	x->run_text = 0;
	x->run_len = 0;
	buf_reset(&x->ws);
}

static int
all_blank(const xmlChar *s, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* The reader's handling of a text node's worth, piece by piece. */
static enum stmt_rc
sax_text(struct cx *x, const char *v, size_t n)
{
	if (!x->want_text) {
		x->skipped += n;
		if (x->text.len + x->skipped <= STMT_TEXT_MAX)
			return STMT_OK;
		return STMT_REJECTED;
	}
	if (buf_add(&x->text, v, n) == -1)
		return STMT_REJECTED;
	return STMT_OK;
}

/*
 * Text, in pieces.  The reader (XML_PARSE_NOBLANKS) passes on no text
 * made only of blanks unless xml:space="preserve" holds: such a run is
 * kept aside until a non-blank piece shows it is text.  (The reader may
 * also drop the blanks that start a run of text; kept here, they are
 * leading blanks of the element's text, which is trimmed, and count only
 * against its length limit, whose rejection goes to the reader anyway.)
 */
static void
sax_chars(void *ctx, const xmlChar *ch, int len)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	if (x->halt || x->rc != STMT_OK)
		return;
	x->run_len += (size_t)len;
	if (x->run_len > CAMT_RUN_MAX) {
		sax_halt(x);
		return;
	}
	if (!x->run_text) {
		if ((p->space == NULL || *p->space != 1) && all_blank(ch, len)) {
			if (buf_add(&x->ws, (const char *)ch, (size_t)len) == -1)
				sax_halt(x);
			return;
		}
		x->run_text = 1;
		if (x->ws.len > 0 &&
		    sax_text(x, x->ws.p, x->ws.len) != STMT_OK) {
			sax_halt(x);
			return;
		}
	}
	if (sax_text(x, (const char *)ch, (size_t)len) != STMT_OK)
		sax_halt(x);
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;
	const char		*name = (const char *)localname;
	char			 ccy[4];
	const char		*ccyp = NULL;
	int			 i, line;

	(void)prefix;
	(void)nb_namespaces;
	(void)namespaces;
	if (x->halt || x->rc != STMT_OK)
		return;
	if (nb_defaulted != 0) {
		sax_halt(x);
		return;
	}
	run_reset(x);
	for (i = 0; i < nb_attributes; i++) {
		const xmlChar	**a = attrs + 5 * i;	/* local, prefix, URI,
							   value, end */
		size_t		  n = (size_t)(a[4] - a[3]);

		if (a[1] != NULL && strcmp((const char *)a[1], "xml") == 0 &&
		    strcmp((const char *)a[0], "id") == 0) {
			sax_halt(x);	/* the reader's tree checks it */
			return;
		}
		if (a[2] == NULL && ccyp == NULL &&
		    strcmp((const char *)a[0], "Ccy") == 0) {
			/* &amp; comes as "&#38;" here: left to the reader. */
			if (memchr(a[3], '&', n) != NULL) {
				sax_halt(x);
				return;
			}
			if (n > sizeof(ccy) - 1)
				n = sizeof(ccy) - 1;
			memcpy(ccy, a[3], n);
			ccy[n] = '\0';
			ccyp = ccy;
		}
	}
	/* The reader's line of an element: where its start tag ends. */
	line = p->input != NULL ? p->input->line : 0;
	x->line = line > 0 ? (uint64_t)line : 0;
	if (!is_amt(name, strlen(name)))
		ccyp = NULL;
	sax_rc(x, el_start(x, name, (const char *)uri, ccyp));
	if (x->depth > 0)
		x->sline[x->depth] = x->line;
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	(void)localname;
	(void)prefix;
	(void)uri;
	if (x->halt || x->rc != STMT_OK)
		return;
	run_reset(x);
	x->line = x->sline[x->depth];
	sax_rc(x, el_end(x));
}

/* A comment or PI inside the root splits the reader's text nodes. */
static void
sax_comment(void *ctx, const xmlChar *value)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	(void)value;
	if (x->depth > 0)
		sax_halt(x);
}

static void
sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)data;
	sax_comment(ctx, target);
}

static void
sax_refuse(void *ctx, const xmlChar *name, const xmlChar *a, const xmlChar *b)
{
	xmlParserCtxtPtr	 p = ctx;

	(void)name;
	(void)a;
	(void)b;
	sax_halt(p->_private);
}

static void
sax_reference(void *ctx, const xmlChar *name)
{
	sax_refuse(ctx, name, NULL, NULL);
}

static xmlEntityPtr
sax_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static void
sax_error(void *arg, xmlErrorPtr e)
{
	xmlParserCtxtPtr	 p = arg;

	if (e != NULL && e->level >= XML_ERR_ERROR && p != NULL &&
	    p->_private != NULL)
		sax_halt(p->_private);
}

/*
 * The whole file in 64 KB reads through the SAX2 push parser; STMT_OK
 * and the rest as camt053_parse(), or -1: left to the reader, which must
 * then read the file again (the sink calls made so far in x->c->ncalls).
 */
static int
parse_sax(FILE *in, struct fmt_ctx *c)
{
	xmlSAXHandler	 h;
	struct cx	 x;
	char		*b;
	size_t		 n;
	int		 ret;

	if ((b = malloc(CAMT_CHUNK)) == NULL)
		return fmt_failed(c, "out of memory");
	memset(&h, 0, sizeof(h));
	xmlSAXVersion(&h, 2);
	h.startDocument = NULL;
	h.endDocument = NULL;
	h.internalSubset = sax_refuse;
	h.externalSubset = sax_refuse;
	h.entityDecl = NULL;
	h.notationDecl = NULL;
	h.attributeDecl = NULL;
	h.elementDecl = NULL;
	h.unparsedEntityDecl = NULL;
	h.resolveEntity = NULL;
	h.getEntity = sax_entity;
	h.getParameterEntity = NULL;
	h.reference = sax_reference;
	h.startElement = NULL;
	h.endElement = NULL;
	h.startElementNs = sax_start;
	h.endElementNs = sax_end;
	h.characters = sax_chars;
	h.cdataBlock = sax_chars;
	h.ignorableWhitespace = NULL;
	h.comment = sax_comment;
	h.processingInstruction = sax_pi;
	h.serror = sax_error;
	h.warning = NULL;
	h.error = NULL;
	h.fatalError = NULL;

	cx_init(&x, c, in);
	fmt_stmt_reset(c);
	/* The first 4 bytes for the encoding, as the reader does. */
	n = fread(b, 1, 4, in);
	x.p = xmlCreatePushParserCtxt(&h, NULL, b, (int)n, NULL);
	if (x.p == NULL) {
		x.halt = 1;
		goto out;
	}
	x.p->_private = &x;
	xmlCtxtUseOptions(x.p,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS |
	    XML_PARSE_BIG_LINES);
	x.p->linenumbers = 1;
	while (!x.halt && x.rc == STMT_OK) {
		n = fread(b, 1, CAMT_CHUNK, in);
		if (n == 0) {
			if (ferror(in))
				x.halt = 1;
			else
				xmlParseChunk(x.p, NULL, 0, 1);
			break;
		}
		ret = xmlParseChunk(x.p, b, (int)n, 0);
		if (ret != 0 || !x.p->wellFormed)
			x.halt = 1;
	}
	if (x.rc == STMT_OK && (!x.p->wellFormed || x.depth != 0 ||
	    !x.seen_root || !x.seen_stmt))
		x.halt = 1;
out:
	free(b);
	cx_free(&x);
	if (x.rc != STMT_OK)
		return x.rc;
	return x.halt ? -1 : STMT_OK;
}

/*
 * Two readings.  The SAX pass reads a plain, good file alone, and gives
 * what the reader gives.  Anything else, and every rejection, is read
 * again from the start by the reader, whose answers (messages, lines)
 * are the reference; the sink gets only the calls the first reading had
 * not made.  A stream that cannot seek back is read by the reader alone.
 */
enum stmt_rc
camt053_parse(FILE *in, struct fmt_ctx *c)
{
	off_t			 start;
	int			 rc;
	const struct stmt_sink	*sink = c->sink;
	struct stmt_diag	*diag = c->diag;
	enum stmt_format	 fmt = c->fmt;
	uint64_t		 calls;

	pthread_once(&paths_once, paths_init);
	xmlSetGenericErrorFunc(NULL, quiet);	/* this thread's only */
	if ((start = ftello(in)) == -1)
		return parse_reader(in, c);
	if ((rc = parse_sax(in, c)) != -1)
		return (enum stmt_rc)rc;
	calls = c->ncalls;
	if (fseeko(in, start, SEEK_SET) == -1)
		return fmt_failed(c, "cannot read the file again");
	clearerr(in);
	memset(diag, 0, sizeof(*diag));
	diag->format = fmt;
	fmt_ctx_init(c, fmt, sink, diag);
	c->skip = calls;
	return parse_reader(in, c);
}
