/*
 * ofx: Open Financial Exchange statements, 1.x (SGML: a colon header,
 * leaf tags left unclosed) and 2.x (XML with <?OFX ...?>), with one small
 * tokenizer for both.
 *
 * The tokenizer turns the bytes into open tags, close tags and text
 * (entities decoded, CDATA sections merged in).  An open tag followed by
 * text is a leaf element (its close tag, when there is one, is skipped);
 * one followed by its own close tag is an empty leaf; any other is an
 * aggregate, kept on a bounded stack until its close tag, which also
 * closes whatever was left open inside it.  Leaves are acted on by their
 * parent's name, aggregates when they open and close.  The tokenizer is
 * ofx_lex.c; this file reads the aggregates and leaves.
 *
 * Bank (STMTRS) and credit card (CCSTMTRS) statements are imported with
 * their transactions; investment statements (INVSTMTRS) give their cash
 * transactions (INVBANKTRAN) and say, with a warning, what was not
 * imported (security trades, positions).  An account listing (ACCTINFORS)
 * gives accounts without statements.  A STATUS of severity ERROR, at sign
 * on or for a statement, rejects the file with the bank's message.
 */
#include "formats/ofx.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/money.h"

/* TRNTYPE values of OFX 2.1.1 (11.4.4.3). */
static const char *const trntypes[] = {
	"CREDIT", "DEBIT", "INT", "DIV", "FEE", "SRVCHG", "DEP", "ATM", "POS",
	"XFER", "CHECK", "PAYMENT", "CASH", "DIRECTDEP", "DIRECTDEBIT",
	"REPEATPMT", "HOLD", "OTHER",
};

/* ACCTTYPE of BANKACCTFROM to bankfeed's account types. */
static const struct {
	const char	*ofx;
	enum acct_type	 type;
} accttypes[] = {
	{ "CHECKING", ACCT_CHECKING },
	{ "SAVINGS", ACCT_SAVINGS },
	{ "MONEYMRKT", ACCT_SAVINGS },
	{ "CD", ACCT_SAVINGS },
	{ "CREDITLINE", ACCT_LOAN },
};

static struct buf *
all_bufs(struct ox *o, size_t i)
{
	struct buf	*b[] = { &o->tk.name, &o->tk.text, &o->la.name,
			    &o->la.text, &o->st_code, &o->st_sev, &o->st_msg,
			    &o->trnuid, &o->a_bankid, &o->a_branch,
			    &o->a_acctid, &o->a_type, &o->a_broker, &o->a_desc,
			    &o->a_bank_id, &o->b_amt, &o->t_type, &o->t_posted,
			    &o->t_user, &o->t_avail, &o->t_amt, &o->t_fitid,
			    &o->t_check, &o->t_ref, &o->t_name, &o->t_memo,
			    &o->t_ccy, &o->t_acct, &o->raw };

	return i < sizeof(b) / sizeof(b[0]) ? b[i] : NULL;
}

static void
ox_init(struct ox *o, FILE *in, struct fmt_ctx *c)
{
	struct buf	*b;
	size_t		 i;

	memset(o, 0, sizeof(*o));
	o->in = in;
	o->c = c;
	o->line = 1;
	for (i = 0; (b = all_bufs(o, i)) != NULL; i++)
		buf_init(b, STMT_FIELD_MAX);
	buf_init(&o->tk.name, OFX_NAME_MAX);
	buf_init(&o->la.name, OFX_NAME_MAX);
	buf_init(&o->a_bank_id, 2 * STMT_FIELD_MAX + 2);
}

static void
ox_free(struct ox *o)
{
	struct buf	*b;
	size_t		 i;

	for (i = 0; (b = all_bufs(o, i)) != NULL; i++)
		buf_free(b);
}

static const char *
parent(const struct ox *o)
{
	return o->depth > 0 ? o->stack[o->depth - 1] : "";
}

static int
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static enum stmt_rc
put(struct ox *o, struct buf *b, const char *v)
{
	buf_reset(b);
	if (buf_addstr(b, v) == -1)
		return fmt_reject(o->c, o->tk.line, "value too long");
	return STMT_OK;
}

/* An OFX date: YYYYMMDD[HHMMSS[.XXX]][[gmt offset:tz name]]. */
static enum stmt_rc
ofx_date(struct ox *o, uint64_t line, const char *what, const char *s,
    char out[11])
{
	int	y = 0, m = 0, d = 0, i, adj;

	for (i = 0; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return fmt_reject(o->c, line, "%s \"%.40s\" is not a date "
			    "(YYYYMMDD...)", what, s);
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	if (fmt_date(y, m, d, out, &adj) == -1)
		return fmt_reject(o->c, line, "%s \"%.40s\" is not a date "
		    "(month 01-12, day 01-31)", what, s);
	if (adj)
		return fmt_warn(o->c, STMT_W_DATE_ADJUSTED, line, "%s %.8s does "
		    "not exist; used %s", what, s, out);
	return STMT_OK;
}

/*
 * OFX amounts: a sign, digits, a decimal point or comma.  Thousands
 * separators are dropped: with both '.' and ',' the last one is the
 * decimal separator; a separator that occurs more than once is not.
 */
static enum stmt_rc
ofx_amount(struct ox *o, uint64_t line, const char *what, const char *s,
    const char *ccy, int64_t *out)
{
	char		 clean[64];
	const char	*lastdot = strrchr(s, '.'), *lastcom = strrchr(s, ',');
	char		 dec = '.';
	size_t		 n = 0, ndot = 0, ncom = 0;
	const char	*p;

	for (p = s; *p; p++) {
		ndot += *p == '.';
		ncom += *p == ',';
	}
	if (lastdot != NULL && lastcom != NULL)
		dec = lastdot > lastcom ? '.' : ',';
	else if (lastcom != NULL && ncom == 1)
		dec = ',';
	else if (lastdot != NULL && ndot > 1)
		dec = 0;
	else if (lastcom != NULL)
		dec = 0;
	for (p = s; *p && n < sizeof(clean) - 1; p++) {
		if (*p == ' ')
			continue;
		if (*p == '.' || *p == ',') {
			if (*p == dec)
				clean[n++] = '.';
			continue;
		}
		clean[n++] = *p;
	}
	clean[n] = '\0';
	if (*p != '\0' || n == 0)
		return fmt_reject(o->c, line, "%s \"%.40s\" is not an amount",
		    what, s);
	return fmt_amount(o->c, line, what, clean, n, '.', ccy, out);
}

static void
listing_type(struct ox *o, struct rec_account *a)
{
	size_t	i;

	a->type = o->kind == K_CC ? ACCT_CREDIT_CARD : o->kind == K_INV ?
	    ACCT_INVESTMENT : ACCT_CHECKING;
	if (o->kind == K_BANK)
		for (i = 0; i < sizeof(accttypes) / sizeof(accttypes[0]); i++)
			if (is(buf_str(&o->a_type), accttypes[i].ofx))
				a->type = accttypes[i].type;
}

static void
account_fill(struct ox *o, struct rec_account *a)
{
	const char	*id = buf_str(&o->a_acctid);

	memset(a, 0, sizeof(*a));
	buf_reset(&o->a_bank_id);
	if (o->a_bankid.len > 0)
		buf_printf(&o->a_bank_id, "%s/%s", o->a_bankid.p, id);
	else if (o->a_broker.len > 0)
		buf_printf(&o->a_bank_id, "%s/%s", o->a_broker.p, id);
	else
		buf_addstr(&o->a_bank_id, id);
	a->bank_id = o->a_bank_id.p;
	if (fmt_is_iban(id))
		a->iban = id;
	else
		a->number = id;
	a->name = fmt_opt(&o->a_desc);
	listing_type(o, a);
	fmt_copy(a->currency, sizeof(a->currency), o->c->currency);
}

static void
acct_reset(struct ox *o)
{
	buf_reset(&o->a_bankid);
	buf_reset(&o->a_branch);
	buf_reset(&o->a_acctid);
	buf_reset(&o->a_type);
	buf_reset(&o->a_broker);
	buf_reset(&o->a_desc);
}

static enum stmt_rc
ox_begin(struct ox *o)
{
	struct rec_account	a;

	if (o->c->open)
		return STMT_OK;
	if (o->a_acctid.len == 0)
		return fmt_reject(o->c, o->tk.line, "statement without an "
		    "ACCTID in its account aggregate");
	account_fill(o, &a);
	o->c->info.id = fmt_opt(&o->trnuid);
	return fmt_begin(o->c, &a);
}

static enum stmt_rc
txn_end(struct ox *o)
{
	struct stmt_txn	 t;
	const char	*ccy = o->c->currency, *fitid;
	enum stmt_rc	 rc;
	size_t		 i;
	int		 known = 0;

	fitid = o->t_fitid.len ? o->t_fitid.p : "(none)";
	memset(&t, 0, sizeof(t));
	t.line = o->t_line;
	if (o->t_posted.len == 0)
		return fmt_reject(o->c, o->t_line, "transaction (FITID %s) "
		    "without DTPOSTED", fitid);
	if ((rc = ofx_date(o, o->t_line, "DTPOSTED", o->t_posted.p,
	    t.rec.booking_date)) != STMT_OK)
		return rc;
	if (o->t_user.len > 0) {
		if ((rc = ofx_date(o, o->t_line, "DTUSER", o->t_user.p,
		    t.rec.value_date)) != STMT_OK)
			return rc;
	} else if (o->t_avail.len > 0) {
		if ((rc = ofx_date(o, o->t_line, "DTAVAIL", o->t_avail.p,
		    t.rec.value_date)) != STMT_OK)
			return rc;
	} else
		fmt_copy(t.rec.value_date, 11, t.rec.booking_date);
	if (o->t_amt.len == 0)
		return fmt_reject(o->c, o->t_line, "transaction (FITID %s) "
		    "without TRNAMT", fitid);
	if (o->t_ccy.len == 3 && !is(o->t_ccy.p, ccy)) {
		ccy = o->t_ccy.p;
		if ((rc = fmt_warn(o->c, STMT_W_CURRENCY, o->t_line, "transaction "
		    "(FITID %s) in %s on an account in %s", fitid, ccy,
		    *o->c->currency ? o->c->currency : "an unknown currency")) !=
		    STMT_OK)
			return rc;
	}
	if ((rc = ofx_amount(o, o->t_line, "TRNAMT", o->t_amt.p, ccy,
	    &t.rec.amount)) != STMT_OK)
		return rc;
	fmt_copy(t.rec.currency, 4, ccy);
	t.rec.status = TXN_BOOKED;
	for (i = 0; i < sizeof(trntypes) / sizeof(trntypes[0]); i++)
		if (strcasecmp(buf_str(&o->t_type), trntypes[i]) == 0) {
			known = 1;
			/* Some banks write "Credit": keep the spec's case. */
			put(o, &o->t_type, trntypes[i]);
			break;
		}
	if (o->t_type.len == 0)
		rc = fmt_warn(o->c, STMT_W_MISSING_FIELD, o->t_line,
		    "transaction (FITID %s) without TRNTYPE", fitid);
	else if (!known)
		rc = fmt_warn(o->c, STMT_W_UNKNOWN_CODE, o->t_line,
		    "unknown TRNTYPE \"%s\" (FITID %s)", o->t_type.p, fitid);
	if (rc != STMT_OK)
		return rc;
	if (o->t_fitid.len == 0 && (rc = fmt_warn(o->c, STMT_W_EMPTY_FIELD,
	    o->t_line, "transaction without FITID: it has no stable id")) !=
	    STMT_OK)
		return rc;
	t.rec.bank_id = fmt_opt(&o->t_fitid);
	t.rec.bank_transaction_code = fmt_opt(&o->t_type);
	t.rec.bank_reference = fmt_opt(&o->t_ref);
	t.rec.cp_name = fmt_opt(&o->t_name);
	t.rec.cp_iban = fmt_is_iban(buf_str(&o->t_acct)) ? o->t_acct.p : NULL;
	t.rec.description = fmt_opt(&o->t_memo) != NULL ? o->t_memo.p :
	    fmt_opt(&o->t_name);
	t.check_number = fmt_opt(&o->t_check);
	return fmt_txn(o->c, &t);
}

/* LEDGERBAL, AVAILBAL and INVBAL's AVAILCASH. */
static enum stmt_rc
bal_end(struct ox *o, const char *name, enum bal_type type)
{
	int64_t		v;
	enum stmt_rc	rc;

	if (o->b_amt.len == 0)
		return fmt_warn(o->c, STMT_W_EMPTY_FIELD, o->b_line, "empty "
		    "<BALAMT> in <%s>: no %s balance imported", name,
		    bal_type_name(type));
	if ((rc = ofx_amount(o, o->b_line, "BALAMT", o->b_amt.p,
	    o->c->currency, &v)) != STMT_OK)
		return rc;
	if (o->b_date[0] == '\0' && (rc = fmt_warn(o->c, STMT_W_EMPTY_FIELD,
	    o->b_line, "<%s> without DTASOF", name)) != STMT_OK)
		return rc;
	return fmt_add_balance(o->c, o->b_line, type, v, o->c->currency,
	    o->b_date);
}

static enum stmt_rc
agg_start(struct ox *o, const char *name)
{
	const char	*p = parent(o);

	if (is(name, "STATUS")) {
		buf_reset(&o->st_code);
		buf_reset(&o->st_sev);
		buf_reset(&o->st_msg);
	} else if (is(name, "STMTRS") || is(name, "CCSTMTRS") ||
	    is(name, "INVSTMTRS")) {
		if (o->in_stmt)
			return fmt_reject(o->c, o->tk.line, "<%s> inside "
			    "another statement", name);
		fmt_stmt_reset(o->c);
		o->c->info.line = o->tk.line;
		o->in_stmt = 1;
		o->kind = name[0] == 'C' ? K_CC : name[0] == 'I' ? K_INV :
		    K_BANK;
		o->dtasof[0] = '\0';
		o->n_inv_skipped = 0;
		o->saw_positions = 0;
		acct_reset(o);
	} else if (is(name, "ACCTINFO")) {
		o->in_listing = 1;
		o->kind = K_BANK;
		acct_reset(o);
	} else if (o->in_listing && (is(name, "CCACCTINFO") ||
	    is(name, "INVACCTINFO"))) {
		o->kind = name[0] == 'C' ? K_CC : K_INV;
	} else if (o->in_stmt && is(name, "STMTTRN")) {
		enum stmt_rc	 rc;
		struct buf	*t[] = { &o->t_type, &o->t_posted, &o->t_user,
				    &o->t_avail, &o->t_amt, &o->t_fitid,
				    &o->t_check, &o->t_ref, &o->t_name,
				    &o->t_memo, &o->t_ccy, &o->t_acct };

		if ((rc = ox_begin(o)) != STMT_OK)
			return rc;
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			buf_reset(t[i]);
		o->in_txn = 1;
		o->t_line = o->tk.line;
	} else if (o->in_stmt && (is(name, "LEDGERBAL") ||
	    is(name, "AVAILBAL") || is(name, "INVBAL"))) {
		buf_reset(&o->b_amt);
		o->b_date[0] = '\0';
		o->b_line = o->tk.line;
	} else if (o->in_stmt && is(p, "INVTRANLIST") &&
	    !is(name, "INVBANKTRAN")) {
		o->n_inv_skipped++;
	} else if (o->in_stmt && is(name, "INVPOSLIST")) {
		o->saw_positions = 1;
	}
	return STMT_OK;
}

static enum stmt_rc
agg_end(struct ox *o, const char *name)
{
	enum stmt_rc	 rc;
	const char	*p = parent(o);	/* the popped one's parent */

	if (is(name, "STATUS")) {
		const char	*code = buf_str(&o->st_code);

		if (*code == '\0' || is(code, "0"))
			return STMT_OK;
		if (strcasecmp(buf_str(&o->st_sev), "ERROR") == 0)
			return fmt_reject(o->c, o->tk.line, "the bank reported "
			    "an error%s: code %s (%s)%s%s",
			    is(p, "SONRS") ? " at sign on" : *p ? " in the "
			    "response" : "", code, o->st_sev.p,
			    o->st_msg.len ? ": " : "", buf_str(&o->st_msg));
		return fmt_warn(o->c, STMT_W_BANK_STATUS, o->tk.line,
		    "the bank reported code %s (%s)%s%s", code,
		    buf_str(&o->st_sev), o->st_msg.len ? ": " : "",
		    buf_str(&o->st_msg));
	}
	if (o->in_txn && is(name, "STMTTRN")) {
		o->in_txn = 0;
		return txn_end(o);
	}
	if (o->in_stmt && (is(name, "LEDGERBAL") || is(name, "AVAILBAL")))
		return bal_end(o, name, name[0] == 'L' ? BAL_BOOKED :
		    BAL_AVAILABLE);
	if (o->in_stmt && (is(name, "STMTRS") || is(name, "CCSTMTRS") ||
	    is(name, "INVSTMTRS"))) {
		o->in_stmt = 0;
		if ((rc = ox_begin(o)) != STMT_OK)
			return rc;
		if (o->n_inv_skipped > 0 && (rc = fmt_warn(o->c,
		    STMT_W_NOT_IMPORTED, o->tk.line, "%zu security "
		    "transactions (buys, sells, income, transfers of "
		    "securities) not imported: only cash transactions "
		    "(INVBANKTRAN) are", o->n_inv_skipped)) != STMT_OK)
			return rc;
		if (o->saw_positions && (rc = fmt_warn(o->c,
		    STMT_W_NOT_IMPORTED, o->tk.line, "investment positions "
		    "(INVPOSLIST) not imported")) != STMT_OK)
			return rc;
		return fmt_end(o->c, o->tk.line);
	}
	if (o->in_listing && is(name, "ACCTINFO")) {
		struct rec_account	a;

		o->in_listing = 0;
		if (o->a_acctid.len == 0)
			return fmt_warn(o->c, STMT_W_MISSING_FIELD, o->tk.line,
			    "listed account without ACCTID ignored");
		account_fill(o, &a);
		o->n_listed++;
		return fmt_account(o->c, &a);
	}
	return STMT_OK;
}

/* The leaves of STMTTRN that are kept, and where. */
static const struct {
	const char	*name;
	size_t		 off;
} txn_leaves[] = {
	{ "TRNTYPE", offsetof(struct ox, t_type) },
	{ "DTPOSTED", offsetof(struct ox, t_posted) },
	{ "DTUSER", offsetof(struct ox, t_user) },
	{ "DTAVAIL", offsetof(struct ox, t_avail) },
	{ "TRNAMT", offsetof(struct ox, t_amt) },
	{ "FITID", offsetof(struct ox, t_fitid) },
	{ "CHECKNUM", offsetof(struct ox, t_check) },
	{ "REFNUM", offsetof(struct ox, t_ref) },
	{ "NAME", offsetof(struct ox, t_name) },
	{ "PAYEE", offsetof(struct ox, t_name) },
	{ "MEMO", offsetof(struct ox, t_memo) },
};

static int
is_acctfrom(const char *p)
{
	return is(p, "BANKACCTFROM") || is(p, "CCACCTFROM") ||
	    is(p, "INVACCTFROM");
}

/* A leaf element <name>value (value "" when empty). */
static enum stmt_rc
leaf(struct ox *o, const char *name, const char *v, uint64_t line)
{
	const char	*p = parent(o);
	enum stmt_rc	 rc;

	if (is(p, "STATUS")) {
		if (is(name, "CODE"))
			return put(o, &o->st_code, v);
		if (is(name, "SEVERITY"))
			return put(o, &o->st_sev, v);
		if (is(name, "MESSAGE"))
			return put(o, &o->st_msg, v);
		return STMT_OK;
	}
	if (is(name, "TRNUID") && !o->in_stmt)
		return put(o, &o->trnuid, v);
	if ((o->in_stmt && !o->in_txn) || o->in_listing) {
		if (is_acctfrom(p)) {
			if (*v == '\0' && (is(name, "BRANCHID") ||
			    is(name, "ACCTTYPE") || is(name, "BANKID") ||
			    is(name, "ACCTID")) &&
			    (rc = fmt_warn(o->c, STMT_W_EMPTY_FIELD, line,
			    "empty <%s> in <%s>", name, p)) != STMT_OK)
				return rc;
			if (is(name, "BANKID"))
				return put(o, &o->a_bankid, v);
			if (is(name, "BRANCHID"))
				return put(o, &o->a_branch, v);
			if (is(name, "ACCTID"))
				return put(o, &o->a_acctid, v);
			if (is(name, "ACCTTYPE"))
				return put(o, &o->a_type, v);
			if (is(name, "BROKERID"))
				return put(o, &o->a_broker, v);
			return STMT_OK;
		}
		if (o->in_listing && is(name, "DESC") && is(p, "ACCTINFO"))
			return put(o, &o->a_desc, v);
	}
	if (o->in_txn) {
		struct buf	*b = NULL;

		if (is(p, "STMTTRN")) {
			size_t	i;

			/* The first letter rules out most entries cheaply. */
			for (i = 0; i < sizeof(txn_leaves) /
			    sizeof(txn_leaves[0]); i++)
				if (txn_leaves[i].name[0] == name[0] &&
				    is(name, txn_leaves[i].name)) {
					b = (struct buf *)(void *)((char *)o +
					    txn_leaves[i].off);
					break;
				}
		} else if (is(p, "PAYEE") && is(name, "NAME"))
			b = &o->t_name;
		else if ((is(p, "CURRENCY") || is(p, "ORIGCURRENCY")) &&
		    is(name, "CURSYM"))
			b = &o->t_ccy;
		else if ((is(p, "BANKACCTTO") || is(p, "CCACCTTO")) &&
		    is(name, "ACCTID"))
			b = &o->t_acct;
		return b != NULL ? put(o, b, v) : STMT_OK;
	}
	if (!o->in_stmt)
		return STMT_OK;
	if (is(name, "CURDEF")) {
		if (*v == '\0')
			return fmt_warn(o->c, STMT_W_EMPTY_FIELD, line,
			    "empty <CURDEF> in <%s>: the statement's currency is "
			    "unknown", o->kind == K_CC ? "CCSTMTRS" :
			    o->kind == K_INV ? "INVSTMTRS" : "STMTRS");
		if (strlen(v) != 3)
			return fmt_reject(o->c, line, "CURDEF \"%.20s\" is not a "
			    "currency code", v);
		fmt_copy(o->c->currency, 4, v);
		return STMT_OK;
	}
	if ((is(p, "BANKTRANLIST") || is(p, "INVTRANLIST")) && *v != '\0') {
		if (is(name, "DTSTART"))
			return ofx_date(o, line, "DTSTART", v,
			    o->c->info.from_date);
		if (is(name, "DTEND"))
			return ofx_date(o, line, "DTEND", v, o->c->info.to_date);
	}
	if (is(p, "INVSTMTRS") && is(name, "DTASOF") && *v != '\0')
		return ofx_date(o, line, "DTASOF", v, o->dtasof);
	if (is(p, "LEDGERBAL") || is(p, "AVAILBAL")) {
		if (is(name, "BALAMT"))
			return put(o, &o->b_amt, v);
		if (is(name, "DTASOF") && *v != '\0')
			return ofx_date(o, line, "DTASOF", v, o->b_date);
		return STMT_OK;
	}
	if (is(p, "INVBAL") && is(name, "AVAILCASH") && *v != '\0') {
		buf_reset(&o->b_amt);
		buf_addstr(&o->b_amt, v);
		fmt_copy(o->b_date, 11, o->dtasof);
		o->b_line = line;
		return bal_end(o, "INVBAL", BAL_AVAILABLE);
	}
	return STMT_OK;
}

static enum stmt_rc
push(struct ox *o, const char *name)
{
	enum stmt_rc	rc;

	if (o->depth == OFX_MAXDEPTH)
		return fmt_reject(o->c, o->tk.line, "aggregates nested deeper "
		    "than %d", OFX_MAXDEPTH);
	/* agg_start() sees the parent on top of the stack. */
	if ((rc = agg_start(o, name)) != STMT_OK)
		return rc;
	fmt_copy(o->stack[o->depth++], OFX_NAME_MAX + 1, name);
	return STMT_OK;
}

/* </name>: closes name and whatever is still open inside it. */
static enum stmt_rc
pop_to(struct ox *o, const char *name)
{
	char		closing[OFX_NAME_MAX + 1];
	enum stmt_rc	rc;
	int		i;

	for (i = o->depth - 1; i >= 0; i--)
		if (is(o->stack[i], name))
			break;
	if (i < 0) {
		o->stray_closes++;
		return STMT_OK;
	}
	while (o->depth > i) {
		fmt_copy(closing, sizeof(closing), o->stack[--o->depth]);
		if ((rc = agg_end(o, closing)) != STMT_OK)
			return rc;
	}
	return STMT_OK;
}

enum stmt_rc
ofx_parse(FILE *in, struct fmt_ctx *c)
{
	struct ox	*o;
	enum stmt_rc	 rc;
	char		 name[OFX_NAME_MAX + 1];
	uint64_t	 line;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return fmt_failed(c, "out of memory");
	ox_init(o, in, c);
	fmt_stmt_reset(c);
	for (;;) {
		if ((rc = ofx_get(o)) != STMT_OK)
			goto out;
		if (o->tk.type == TK_EOF)
			break;
		if (o->tk.type == TK_TEXT) {
			/* The OFX 1 colon header, or stray text. */
			if (!o->seen_ofx && o->depth == 0)
				continue;
			if (o->depth == 0 && (rc = fmt_warn(c,
			    STMT_W_TRAILING_DATA, o->tk.line, "text after </OFX> "
			    "ignored")) != STMT_OK)
				goto out;
			continue;
		}
		if (o->tk.type == TK_CLOSE) {
			if ((rc = pop_to(o, o->tk.name.p)) != STMT_OK)
				goto out;
			continue;
		}
		/* An open tag: leaf or aggregate? */
		fmt_copy(name, sizeof(name), o->tk.name.p);
		line = o->tk.line;
		if (!o->seen_ofx) {
			if (!is(name, "OFX")) {
				rc = fmt_reject(c, line, "<%s> where the <OFX> "
				    "root element was expected", name);
				goto out;
			}
			o->seen_ofx = 1;
		} else if (o->depth == 0) {
			rc = fmt_reject(c, line, "<%s> after the end of <OFX>",
			    name);
			goto out;
		}
		if (o->tk.selfclose) {
			if ((rc = leaf(o, name, "", line)) != STMT_OK)
				goto out;
			continue;
		}
		if ((rc = ofx_peek_tok(o)) != STMT_OK)
			goto out;
		if (o->la.type == TK_TEXT) {
			char	*v;

			if ((rc = ofx_get(o)) != STMT_OK)
				goto out;
			fmt_trim(&o->tk.text);
			v = o->tk.text.p != NULL ? o->tk.text.p : "";
			if ((rc = leaf(o, name, v, line)) != STMT_OK)
				goto out;
			if ((rc = ofx_peek_tok(o)) != STMT_OK)
				goto out;
			if (o->la.type == TK_CLOSE && is(o->la.name.p, name) &&
			    (rc = ofx_get(o)) != STMT_OK)
				goto out;
			continue;
		}
		if (o->la.type == TK_CLOSE && is(o->la.name.p, name)) {
			if ((rc = ofx_get(o)) != STMT_OK)
				goto out;
			/* <X></X>: an empty leaf, or an aggregate with nothing. */
			if ((rc = push(o, name)) != STMT_OK ||
			    (rc = pop_to(o, name)) != STMT_OK)
				goto out;
			if ((rc = leaf(o, name, "", line)) != STMT_OK)
				goto out;
			continue;
		}
		if ((rc = push(o, name)) != STMT_OK)
			goto out;
	}
	if (!o->seen_ofx) {
		rc = fmt_reject(c, o->line, "no <OFX> element: not an OFX file");
		goto out;
	}
	if (o->depth > 0) {
		rc = fmt_reject(c, o->line, "the file ends inside <%s>: "
		    "truncated", o->stack[o->depth - 1]);
		goto out;
	}
	if (c->diag->nstatements == 0 && o->n_listed == 0)
		rc = fmt_warn(c, STMT_W_NO_STATEMENT, o->line, "the file holds "
		    "no statement and no account");
out:
	ox_free(o);
	free(o);
	return rc;
}
