/*
 * camt_entry: a camt entry (Ntry) into records, when it ends: one, or
 * one per TxDtls of a batch whose TxDtls carry their own amounts, with
 * the charges as one more; descriptions in the order users expect, the
 * entry's bank transaction code before the TxDtls'; and balances (Bal).
 */
#include "formats/camt.h"

#include <stdlib.h>
#include <string.h>

#include "core/money.h"

void
camt_entry_reset(struct cx *x)
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

void
camt_txd_reset(struct cx *x)
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
enum stmt_rc
camt_txd_save(struct cx *x)
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

	/* The usual case, Ustrd alone: itself, not a copy. */
	if (tf(x, d, X_ADDRMT) == NULL && tf(x, d, X_SREF) == NULL &&
	    tf(x, d, X_USTRD) != NULL)
		return tf(x, d, X_USTRD);
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
		t.rec.details_bank_transaction_code = x->o_btc2.p;
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
enum stmt_rc
camt_entry_end(struct cx *x)
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
	if ((rc = camt_begin(x)) != STMT_OK)
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
enum stmt_rc
camt_bal_end(struct cx *x)
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

