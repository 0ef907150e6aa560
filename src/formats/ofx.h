/*
 * ofx.h: what the OFX reader (ofx.c) and its tokenizer (ofx_lex.c)
 * share, internal to src/formats.
 */
#ifndef BF_OFX_H
#define BF_OFX_H

#include "formats/fmt.h"

#define OFX_MAXDEPTH	32
#define OFX_NAME_MAX	64
#define OFX_READ	65536

enum tok { TK_EOF, TK_OPEN, TK_CLOSE, TK_TEXT };

struct token {
	enum tok	type;
	struct buf	name;
	struct buf	text;
	uint64_t	line;
	int		selfclose;
};

/* The statement or listed account being read. */
enum kind { K_BANK, K_CC, K_INV };

struct ox {
	FILE		*in;
	struct fmt_ctx	*c;
	unsigned char	 rb[OFX_READ];
	size_t		 rpos, rlen;
	int		 reof;
	uint64_t	 line, offset;

	struct token	 tk, la;
	int		 have_la;
	struct buf	 raw;		/* text being read, before decoding */

	char		 stack[OFX_MAXDEPTH][OFX_NAME_MAX + 1];
	int		 depth;
	int		 seen_ofx;
	size_t		 stray_closes;

	/* STATUS */
	struct buf	 st_code, st_sev, st_msg;
	struct buf	 trnuid;

	/* statement */
	int		 in_stmt;
	enum kind	 kind;
	struct buf	 a_bankid, a_branch, a_acctid, a_type, a_broker, a_desc;
	struct buf	 a_bank_id;
	char		 dtasof[11];
	size_t		 n_inv_skipped;
	int		 saw_positions;

	/* listing */
	int		 in_listing;
	size_t		 n_listed;

	/* balance */
	struct buf	 b_amt;
	char		 b_date[11];
	uint64_t	 b_line;

	/* transaction */
	int		 in_txn;
	uint64_t	 t_line;
	struct buf	 t_type, t_posted, t_user, t_avail, t_amt, t_fitid,
			 t_check, t_ref, t_name, t_memo, t_ccy, t_acct;
};

/* ofx_lex.c: reads the next token into t; a stmt_rc. */
enum stmt_rc	ofx_lex(struct ox *, struct token *t);

/*
 * The next token into o->tk (the one peeked at, if any).  Inline: once
 * per token, from ofx.c.
 */
static inline enum stmt_rc
ofx_get(struct ox *o)
{
	struct token	tmp;

	if (o->have_la) {
		o->have_la = 0;
		tmp = o->tk;
		o->tk = o->la;
		o->la = tmp;
		return STMT_OK;
	}
	return ofx_lex(o, &o->tk);
}

/* Reads the token after o->tk into o->la, once. */
static inline enum stmt_rc
ofx_peek_tok(struct ox *o)
{
	enum stmt_rc	rc;

	if (o->have_la)
		return STMT_OK;
	if ((rc = ofx_lex(o, &o->la)) == STMT_OK)
		o->have_la = 1;
	return rc;
}

#endif
