/*
 * bai2: BAI2 (BAI Cash Management Balance Reporting Specification,
 * version 2), the balance and transaction report US and Canadian banks
 * send.
 *
 * Records are comma-separated fields ending with "/", one per line:
 *
 *	01	file header (sender, receiver, creation date, version "2")
 *	02	group header: as-of date, currency, as-of-date modifier
 *	03	account: number, currency, then (type code, amount, item
 *		count, funds type) for each balance and summary
 *	16	transaction detail: type code, amount, funds type, bank
 *		reference, customer reference, text (the rest of the record)
 *	88	continues the record before it
 *	49	account trailer: control total, number of records
 *	98	group trailer: control total, accounts, records
 *	99	file trailer: control total, groups, records
 *
 * One account (03 to 49) is one statement.  Amounts have no decimal point:
 * the currency's minor digits are implied (USD 12345 is 123.45).  Whether
 * a transaction is a credit or a debit is in its type code: 100-399
 * credits, 400-699 debits.  The control totals are the algebraic sums of
 * every amount in the records they close, and the counts are of physical
 * records, 88s included; a difference is a sums_mismatch warning.
 */
#include "formats/fmt.h"
#include "formats/lines.h"

#include <stdlib.h>
#include <string.h>

#define BAI2_MAXFIELDS	1024
#define BAI2_JOIN	'\x1f'	/* where an 88 continued the record */
#define BAI2_GLUE	'\x1e'	/* the same, inside a word (see bai2_add) */

struct bai2_field {
	const char	*s;
	size_t		 n;
};

struct bai2 {
	struct fmt_ctx		*c;
	struct fmt_lines	 ln;

	/* The logical record: a line and its 88 continuations. */
	struct buf		 rec;
	uint64_t		 rec_line;
	uint64_t		 rec_phys;	/* physical records in it */
	size_t			 prev_len;	/* the last physical record's */
	int			 prev_slash;	/* it ended with "/" */
	size_t			 reclen;	/* 01's physical record length */
	struct bai2_field	 f[BAI2_MAXFIELDS];
	size_t			 nf;

	int			 file, group;	/* between 01/99, 02/98 */
	char			 file_id[64];
	char			 group_ccy[4];
	char			 asof[11];
	int			 interim;

	/* Control totals and record counts of the file, group, account. */
	int64_t			 sum[3];
	uint64_t		 nrec[3];
	uint64_t		 ngroups, naccounts;
	int			 overflow[3];

	/* The account (03 to 49). */
	char			 number[64], iban[35];
	struct buf		 text;
};

enum { LV_FILE, LV_GROUP, LV_ACCOUNT };

static int
is_digit(int c)
{
	return (unsigned)c - '0' < 10;
}

static int
feq(const struct bai2_field *f, const char *s)
{
	return f->n == strlen(s) && memcmp(f->s, s, f->n) == 0;
}

/* Field i of the record, or an empty one past its end. */
static struct bai2_field
fld(const struct bai2 *b, size_t i)
{
	static const struct bai2_field	none = { "", 0 };

	return i < b->nf ? b->f[i] : none;
}

static void
fcopy(struct bai2_field f, char *out, size_t n)
{
	fmt_field_text(out, n, f.s, f.n);
}

/* A signed whole number; -1 when it is not one (empty is not one). */
static int
whole(struct bai2_field f, int64_t *out)
{
	int	neg = 0;
	int64_t	v = 0;
	size_t	i = 0;

	if (f.n > 0 && (f.s[0] == '+' || f.s[0] == '-')) {
		neg = f.s[0] == '-';
		i = 1;
	}
	if (i == f.n || f.n - i > 18)
		return -1;
	for (; i < f.n; i++) {
		if (!is_digit((unsigned char)f.s[i]))
			return -1;
		v = v * 10 + (f.s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/*
 * Adds v to the sum level lv's trailer is checked against: the amounts
 * for an account, its trailers' control totals for a group or file.
 */
static void
tally(struct bai2 *b, int lv, int64_t v)
{
	if ((v > 0 && b->sum[lv] > INT64_MAX - v) ||
	    (v < 0 && b->sum[lv] < INT64_MIN - v))
		b->overflow[lv] = 1;
	else
		b->sum[lv] += v;
}

/*
 * An amount with implied decimals: "12345" in USD is 123.45.  Tallied
 * for the control totals.  Empty: *have is 0.
 */
static enum stmt_rc
bai2_amount(struct bai2 *b, struct bai2_field f, const char *what,
    int64_t *out, int *have)
{
	char	num[40];
	int64_t	raw;
	int	e = fmt_exponent(b->c->currency);
	size_t	i = 0, o = 0, nd;

	*have = 0;
	if (f.n == 0)
		return STMT_OK;
	if (whole(f, &raw) == -1)
		return fmt_reject(b->c, b->rec_line, "%s \"%.*s\" is not an "
		    "amount (digits with an optional sign, no decimal point)",
		    what, (int)(f.n > 40 ? 40 : f.n), f.s);
	tally(b, LV_ACCOUNT, raw);
	if (f.s[0] == '+' || f.s[0] == '-') {
		if (f.s[0] == '-')
			num[o++] = '-';
		i = 1;
	}
	nd = f.n - i;
	/* Digits before the implied point, at least one. */
	if (nd <= (size_t)e)
		num[o++] = '0';
	else {
		memcpy(num + o, f.s + i, nd - (size_t)e);
		o += nd - (size_t)e;
	}
	if (e > 0) {
		num[o++] = '.';
		for (size_t z = nd; z < (size_t)e; z++)
			num[o++] = '0';
		memcpy(num + o, f.s + f.n - (nd < (size_t)e ? nd : (size_t)e),
		    nd < (size_t)e ? nd : (size_t)e);
		o += nd < (size_t)e ? nd : (size_t)e;
	}
	*have = 1;
	return fmt_amount(b->c, b->rec_line, what, num, o, '.',
	    b->c->currency, out);
}

/* YYMMDD; years 80-99 are 19xx. */
static enum stmt_rc
bai2_date(struct bai2 *b, struct bai2_field f, const char *what, char out[11])
{
	int64_t	v;
	int	y, m, d, adj;

	if (f.n != 6 || whole(f, &v) == -1 || f.s[0] == '+' || f.s[0] == '-')
		return fmt_reject(b->c, b->rec_line, "invalid %s \"%.*s\" "
		    "(YYMMDD)", what, (int)(f.n > 20 ? 20 : f.n), f.s);
	y = (int)(v / 10000);
	m = (int)(v / 100 % 100);
	d = (int)(v % 100);
	if (fmt_date(y < 80 ? 2000 + y : 1900 + y, m, d, out, &adj) == -1)
		return fmt_reject(b->c, b->rec_line, "invalid %s \"%.6s\" "
		    "(YYMMDD: month 01-12, day 01-31)", what, f.s);
	if (adj)
		return fmt_warn(b->c, STMT_W_DATE_ADJUSTED, b->rec_line,
		    "%s %.6s does not exist; read as %s", what, f.s, out);
	return STMT_OK;
}

/*
 * The funds type at field i and the fields it brings: V a value date and
 * time, S three amounts, D a count and that many (days, amount) pairs.
 * Returns the index past them in *next; a V date goes to value.
 */
static enum stmt_rc
bai2_funds(struct bai2 *b, size_t i, size_t *next, char value[11])
{
	struct bai2_field	f = fld(b, i);
	int64_t			n;
	enum stmt_rc		rc;

	value[0] = '\0';
	*next = i + 1;
	if (f.n != 1)
		return STMT_OK;
	switch (f.s[0]) {
	case 'V':
		if (fld(b, i + 1).n > 0 && (rc = bai2_date(b, fld(b, i + 1),
		    "value date", value)) != STMT_OK)
			return rc;
		*next = i + 3;
		break;
	case 'S':
		*next = i + 4;
		break;
	case 'D':
		if (whole(fld(b, i + 1), &n) == -1 || n < 0 ||
		    n > BAI2_MAXFIELDS)
			return fmt_reject(b->c, b->rec_line, "funds type D "
			    "without a number of distributions");
		*next = i + 2 + 2 * (size_t)n;
		break;
	default:
		break;
	}
	return STMT_OK;
}

/* Type codes of the 03 record that are balances. */
static const struct {
	const char	*code;
	enum bal_type	 type;
} bal_codes[] = {
	{ "010", BAL_OPENING_BOOKED },		/* opening ledger */
	{ "015", BAL_BOOKED },			/* closing ledger */
	{ "030", BAL_INTERIM_BOOKED },		/* current ledger */
	{ "040", BAL_OPENING_AVAILABLE },	/* opening available */
	{ "045", BAL_AVAILABLE },		/* closing available */
	{ "060", BAL_INTERIM_AVAILABLE },	/* current available */
};

/* 03: the account opens a statement; its balances and summaries. */
static enum stmt_rc
bai2_account(struct bai2 *b)
{
	struct rec_account	 a;
	char			 value[11];
	size_t			 i, k;
	int64_t			 amount;
	int			 have;
	enum stmt_rc		 rc;

	if (!b->group)
		return fmt_reject(b->c, b->rec_line, "account (03) outside a "
		    "group (02 to 98)");
	if (b->c->open)
		return fmt_reject(b->c, b->rec_line, "account (03) before the "
		    "account trailer (49) of the account before");
	fmt_stmt_reset(b->c);
	b->sum[LV_ACCOUNT] = 0;
	b->overflow[LV_ACCOUNT] = 0;
	b->nrec[LV_ACCOUNT] = b->rec_phys;
	b->naccounts++;
	b->c->info.line = b->rec_line;
	b->c->info.interim = b->interim;
	b->c->info.id = b->file_id[0] != '\0' ? b->file_id : NULL;
	fmt_copy(b->c->info.from_date, sizeof(b->c->info.from_date), b->asof);
	fmt_copy(b->c->info.to_date, sizeof(b->c->info.to_date), b->asof);
	fcopy(fld(b, 1), b->number, sizeof(b->number));
	if (b->number[0] == '\0')
		return fmt_reject(b->c, b->rec_line, "account (03) without an "
		    "account number");
	b->iban[0] = '\0';
	if (fmt_is_iban(b->number))
		fmt_copy(b->iban, sizeof(b->iban), b->number);
	fcopy(fld(b, 2), b->c->currency, sizeof(b->c->currency));
	if (b->c->currency[0] == '\0')
		fmt_copy(b->c->currency, sizeof(b->c->currency), b->group_ccy);
	/* (type code, amount, item count, funds type...) to the end. */
	for (i = 3; i < b->nf; ) {
		struct bai2_field	code = fld(b, i);

		/* Empty fields where a type code belongs: some banks pad
		 * with empty summaries (",,,,") or one stray comma. */
		if (code.n == 0) {
			i++;
			continue;
		}

		if ((rc = bai2_amount(b, fld(b, i + 1), "amount", &amount,
		    &have)) != STMT_OK)
			return rc;
		for (k = 0; have && k < sizeof(bal_codes) / sizeof(bal_codes[0]);
		    k++)
			if (feq(&code, bal_codes[k].code)) {
				rc = fmt_add_balance(b->c, b->rec_line,
				    bal_codes[k].type, amount, b->c->currency,
				    b->asof);
				if (rc != STMT_OK)
					return rc;
			}
		if ((rc = bai2_funds(b, i + 3, &i, value)) != STMT_OK)
			return rc;
	}
	memset(&a, 0, sizeof(a));
	a.bank_id = b->number;
	a.iban = b->iban[0] != '\0' ? b->iban : NULL;
	a.number = b->iban[0] != '\0' ? NULL : b->number;
	a.type = ACCT_CHECKING;
	fmt_copy(a.currency, sizeof(a.currency), b->c->currency);
	return fmt_begin(b->c, &a);
}

/* The type code's direction: 1 credit, -1 debit, 0 neither. */
static int
direction(struct bai2_field code)
{
	int64_t	v;

	if (code.n != 3 || whole(code, &v) == -1 || code.s[0] == '+' ||
	    code.s[0] == '-')
		return 0;
	if (v >= 100 && v <= 399)
		return 1;
	if (v >= 400 && v <= 699)
		return -1;
	return 0;
}

/* 16: one transaction. */
static enum stmt_rc
bai2_detail(struct bai2 *b)
{
	struct stmt_txn		 t;
	struct bai2_field	 code = fld(b, 1), text;
	char			 value[11], bref[64], cref[64], ccode[4];
	size_t			 i;
	int64_t			 amount;
	int			 have, dir;
	enum stmt_rc		 rc;

	if (!b->c->open)
		return fmt_reject(b->c, b->rec_line, "transaction detail (16) "
		    "outside an account (03 to 49)");
	if ((rc = bai2_amount(b, fld(b, 2), "amount", &amount, &have)) != STMT_OK)
		return rc;
	if ((rc = bai2_funds(b, 3, &i, value)) != STMT_OK)
		return rc;
	dir = direction(code);
	if (dir == 0)
		return fmt_warn(b->c, STMT_W_UNKNOWN_CODE, b->rec_line,
		    "type code \"%.*s\" is neither a credit (100-399) nor a "
		    "debit (400-699); the record is not imported",
		    (int)(code.n > 10 ? 10 : code.n), code.s);
	if (!have)
		return fmt_reject(b->c, b->rec_line, "transaction detail (16) "
		    "without an amount");
	fcopy(fld(b, i), bref, sizeof(bref));
	fcopy(fld(b, i + 1), cref, sizeof(cref));
	fcopy(code, ccode, sizeof(ccode));
	/* The text is the rest of the record, commas and all. */
	buf_reset(&b->text);
	if (i + 2 < b->nf) {
		char	*p = b->rec.p + (b->f[i + 2].s - b->rec.p);

		text.s = p;
		text.n = (size_t)(b->rec.p + b->rec.len - p);
		/* An 88 continues the text on a new line: a blank (a glue
		 * mark, inside a word, is a control character: dropped). */
		for (size_t j = 0; j < text.n; j++)
			if (p[j] == BAI2_JOIN)
				p[j] = ' ';
		if (fmt_text(&b->text, text.s, text.n) == -1)
			return fmt_reject(b->c, b->rec_line, "text longer than "
			    "%d bytes", STMT_TEXT_MAX);
	}
	fmt_trim(&b->text);
	memset(&t, 0, sizeof(t));
	t.line = b->rec_line;
	t.rec.status = b->interim ? TXN_PENDING : TXN_BOOKED;
	t.rec.amount = dir < 0 ? -amount : amount;
	fmt_copy(t.rec.booking_date, sizeof(t.rec.booking_date), b->asof);
	fmt_copy(t.rec.value_date, sizeof(t.rec.value_date),
	    value[0] != '\0' ? value : b->asof);
	fmt_copy(t.rec.currency, sizeof(t.rec.currency), b->c->currency);
	t.rec.bank_transaction_code = ccode;
	t.rec.bank_reference = bref[0] != '\0' ? bref : NULL;
	t.rec.description = b->text.len > 0 ? b->text.p :
	    cref[0] != '\0' ? cref : NULL;
	/* 47x are checks paid: the customer reference is the check's number. */
	if (ccode[0] == '4' && ccode[1] == '7' && cref[0] != '\0')
		t.check_number = cref;
	return fmt_txn(b->c, &t);
}

/*
 * 49, 98, 99: a trailer's control total and record count (field k).  As
 * the specification has it, an account's total is the sum of its amounts,
 * a group's the sum of its account trailers' totals, a file's the sum of
 * its group trailers'.
 */
static enum stmt_rc
bai2_check(struct bai2 *b, int lv, size_t k, const char *what)
{
	static const char *const of[] = { "the group trailers' totals",
	    "the account trailers' totals", "the amounts" };
	int64_t		total, n;
	enum stmt_rc	rc;

	if (whole(fld(b, 1), &total) == -1 || whole(fld(b, k), &n) == -1)
		return fmt_reject(b->c, b->rec_line, "%s without its control "
		    "total and number of records", what);
	if (lv > LV_FILE)
		tally(b, lv - 1, total);
	if (!b->overflow[lv] && total != b->sum[lv]) {
		rc = fmt_warn(b->c, STMT_W_SUMS_MISMATCH, b->rec_line, "%s: "
		    "control total %lld, %s add up to %lld", what,
		    (long long)total, of[lv], (long long)b->sum[lv]);
		if (rc != STMT_OK)
			return rc;
	}
	if ((uint64_t)n != b->nrec[lv])
		return fmt_warn(b->c, STMT_W_SUMS_MISMATCH, b->rec_line, "%s: "
		    "%lld records counted, %llu found", what, (long long)n,
		    (unsigned long long)b->nrec[lv]);
	return STMT_OK;
}

static enum stmt_rc
bai2_count(struct bai2 *b, size_t k, uint64_t have, const char *what,
    const char *of)
{
	int64_t	n;

	if (whole(fld(b, k), &n) == -1 || (uint64_t)n == have)
		return STMT_OK;
	return fmt_warn(b->c, STMT_W_SUMS_MISMATCH, b->rec_line, "%s: %lld "
	    "%s counted, %llu found", what, (long long)n, of,
	    (unsigned long long)have);
}

static enum stmt_rc
bai2_header(struct bai2 *b)
{
	char	date[11];
	int64_t	v;

	if (b->file)
		return fmt_reject(b->c, b->rec_line, "file header (01) before "
		    "the file trailer (99) of the file before");
	if (b->nf <= 8 || !feq(&b->f[8], "2"))
		return fmt_reject(b->c, b->rec_line, "BAI version \"%.*s\" in "
		    "the file header; only version 2 is read",
		    (int)(fld(b, 8).n > 10 ? 10 : fld(b, 8).n), fld(b, 8).s);
	if (bai2_date(b, fld(b, 3), "creation date", date) != STMT_OK)
		return STMT_REJECTED;
	b->file = 1;
	b->ngroups = 0;
	b->sum[LV_FILE] = 0;
	b->overflow[LV_FILE] = 0;
	b->nrec[LV_FILE] = b->rec_phys;
	fcopy(fld(b, 5), b->file_id, sizeof(b->file_id));
	/* Physical record length, when the sender states it; else 80. */
	if (whole(fld(b, 6), &v) == -1 || v < 10 || v > STMT_FIELD_MAX)
		v = 80;
	b->reclen = (size_t)v;
	return STMT_OK;
}

static enum stmt_rc
bai2_group(struct bai2 *b)
{
	struct bai2_field	mod = fld(b, 7);

	if (!b->file)
		return fmt_reject(b->c, b->rec_line, "group header (02) "
		    "outside a file (01 to 99)");
	if (b->group)
		return fmt_reject(b->c, b->rec_line, "group header (02) before "
		    "the group trailer (98) of the group before");
	if (bai2_date(b, fld(b, 4), "as-of date", b->asof) != STMT_OK)
		return STMT_REJECTED;
	fcopy(fld(b, 6), b->group_ccy, sizeof(b->group_ccy));
	/* The specification's default currency. */
	if (b->group_ccy[0] == '\0')
		fmt_copy(b->group_ccy, sizeof(b->group_ccy), "USD");
	/* As-of-date modifiers 1 and 3 are interim reports. */
	b->interim = feq(&mod, "1") || feq(&mod, "3");
	b->group = 1;
	b->ngroups++;
	b->naccounts = 0;
	b->sum[LV_GROUP] = 0;
	b->overflow[LV_GROUP] = 0;
	b->nrec[LV_GROUP] = b->rec_phys;
	return STMT_OK;
}

/* Splits the logical record into fields at commas. */
static enum stmt_rc
bai2_split(struct bai2 *b)
{
	char	*s = b->rec.p, *e = b->rec.p + b->rec.len, *p;

	b->nf = 0;
	for (p = s; ; p++) {
		if (p == e || *p == ',' || *p == BAI2_JOIN || *p == BAI2_GLUE) {
			if (b->nf == BAI2_MAXFIELDS)
				return fmt_reject(b->c, b->rec_line, "more than "
				    "%d fields in one record", BAI2_MAXFIELDS);
			b->f[b->nf].s = s;
			b->f[b->nf].n = (size_t)(p - s);
			b->nf++;
			if (p == e)
				break;
			s = p + 1;
		}
	}
	return STMT_OK;
}

/* The logical record is complete: handle it. */
static enum stmt_rc
bai2_record(struct bai2 *b)
{
	struct bai2_field	t;
	enum stmt_rc		rc;

	if (b->rec.len == 0)
		return STMT_OK;
	if ((rc = bai2_split(b)) != STMT_OK)
		return rc;
	t = b->f[0];
	for (int i = 0; i < 3; i++)
		b->nrec[i] += b->rec_phys;
	if (!b->file && !feq(&t, "01"))
		return fmt_reject(b->c, b->rec_line, "record \"%.*s\" before the "
		    "file header (01)", (int)(t.n > 10 ? 10 : t.n), t.s);
	if (feq(&t, "01"))
		return bai2_header(b);
	if (feq(&t, "02"))
		return bai2_group(b);
	if (feq(&t, "03"))
		return bai2_account(b);
	if (feq(&t, "16"))
		return bai2_detail(b);
	if (feq(&t, "49")) {
		if (!b->c->open)
			return fmt_reject(b->c, b->rec_line, "account trailer "
			    "(49) without an account (03)");
		if ((rc = bai2_check(b, LV_ACCOUNT, 2, "account trailer (49)")) !=
		    STMT_OK)
			return rc;
		return fmt_end(b->c, b->rec_line);
	}
	if (feq(&t, "98")) {
		if (!b->group || b->c->open)
			return fmt_reject(b->c, b->rec_line, "group trailer (98) "
			    "%s", b->c->open ? "before the account trailer (49)" :
			    "without a group header (02)");
		b->group = 0;
		if ((rc = bai2_count(b, 2, b->naccounts, "group trailer (98)",
		    "accounts")) != STMT_OK)
			return rc;
		return bai2_check(b, LV_GROUP, 3, "group trailer (98)");
	}
	if (feq(&t, "99")) {
		if (b->group)
			return fmt_reject(b->c, b->rec_line, "file trailer (99) "
			    "before the group trailer (98)");
		b->file = 0;
		if ((rc = bai2_count(b, 2, b->ngroups, "file trailer (99)",
		    "groups")) != STMT_OK)
			return rc;
		return bai2_check(b, LV_FILE, 3, "file trailer (99)");
	}
	if (feq(&t, "88"))
		return fmt_reject(b->c, b->rec_line, "continuation (88) without "
		    "a record to continue");
	return fmt_reject(b->c, b->rec_line, "unknown record type \"%.*s\" "
	    "(BAI2 records are 01, 02, 03, 16, 88, 49, 98, 99)",
	    (int)(t.n > 10 ? 10 : t.n), t.s);
}

/*
 * Appends the line (without its record code when it continues, and
 * without the "/" that ends it) to the logical record.  `raw` is the
 * physical record's length.  A continuation after a record that ended
 * with "/" starts a new field; after one that did not, it continues the
 * text: with a blank, unless the record before filled the physical
 * record length (a bank that wraps its text at 80 columns cuts words:
 * "INTERNATIONAL-5373 CLIE" + "NT SECCY" is one word).
 */
static enum stmt_rc
bai2_add(struct bai2 *b, const char *s, size_t n, int cont, size_t raw)
{
	int	slash;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	slash = n > 0 && s[n - 1] == '/';
	if (slash)
		n--;
	if (cont && buf_addc(&b->rec, !b->prev_slash && b->reclen > 0 &&
	    b->prev_len == b->reclen ? BAI2_GLUE : BAI2_JOIN) == -1)
		goto long_;
	b->prev_slash = slash;
	b->prev_len = raw;
	if (buf_add(&b->rec, s, n) == -1)
		goto long_;
	b->rec_phys++;
	return STMT_OK;
long_:
	return fmt_reject(b->c, b->ln.line, "record longer than %d bytes",
	    STMT_TEXT_MAX);
}

enum stmt_rc
bai2_parse(FILE *in, struct fmt_ctx *c)
{
	struct bai2		*b;
	enum fmt_lines_rc	 lr;
	enum stmt_rc		 rc = STMT_OK;
	int			 any = 0;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return fmt_failed(c, "out of memory");
	b->c = c;
	buf_init(&b->rec, STMT_TEXT_MAX);
	buf_init(&b->text, STMT_TEXT_MAX);
	if (fmt_lines_init(&b->ln, in, STMT_FIELD_MAX) == -1) {
		rc = fmt_failed(c, "out of memory");
		goto out;
	}
	fmt_stmt_reset(c);
	while ((lr = fmt_lines_next(&b->ln)) == FMT_LINE) {
		const char	*s = b->ln.p;
		size_t		 n = b->ln.len;

		while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
			s++;
			n--;
		}
		if (n == 0 || (n == 1 && s[0] == '\x1a'))
			continue;
		any = 1;
		if (n >= 3 && memcmp(s, "88,", 3) == 0 && b->rec.len > 0) {
			if ((rc = bai2_add(b, s + 3, n - 3, 1, b->ln.len)) !=
			    STMT_OK)
				goto out;
			continue;
		}
		if ((rc = bai2_record(b)) != STMT_OK)
			goto out;
		buf_reset(&b->rec);
		b->rec_phys = 0;
		b->rec_line = b->ln.line;
		if ((rc = bai2_add(b, s, n, 0, b->ln.len)) != STMT_OK)
			goto out;
	}
	if ((rc = fmt_lines_end(c, &b->ln, lr)) != STMT_OK)
		goto out;
	if ((rc = bai2_record(b)) != STMT_OK)
		goto out;
	if (!any)
		rc = fmt_reject(c, 0, "empty file: no BAI2 file header (01)");
	else if (c->open)
		rc = fmt_reject(c, b->ln.line, "truncated: the account of line "
		    "%llu ends without its trailer (49)",
		    (unsigned long long)c->info.line);
	else if (b->file)
		rc = fmt_reject(c, b->ln.line, "truncated: no file trailer (99)");
out:
	fmt_lines_free(&b->ln);
	buf_free(&b->rec);
	buf_free(&b->text);
	free(b);
	return rc;
}

/* A BAI2 file starts with its file header record, "01,". */
int
bai2_detect(const char *head, size_t n)
{
	return n >= 3 && memcmp(head, "01,", 3) == 0;
}
