/*
 * coda: Belgian CODA statements (Febelfin "Coded statement of account",
 * version 2.x), the format Belgian banks (Belfius, KBC, BNP Paribas
 * Fortis, ING Belgium...) deliver statements in.
 *
 * A CODA file is lines of 128 characters, one record each, with fields at
 * fixed positions (1-based, inclusive, as the standard numbers them):
 *
 *	0	header: creation date, bank, BIC, version (position 128: "2")
 *	1	old balance: account and currency, sign, amount, date, holder
 *	21 22 23	one movement (its communication continues over them)
 *	31 32 33	information about a movement (not an amount)
 *	4	free message to the account holder
 *	8	new balance
 *	9	trailer: number of records 1-8, sums of debit and credit movements
 *
 * Amounts have 15 digits, 3 of them decimals, and a sign digit (0 credit,
 * 1 debit) before them.  Dates are DDMMYY.  A statement runs from its 1
 * to its 8; a file may hold several, each in its own 0...9 block.
 *
 * A movement whose detail number is not 0000 details a globalised
 * movement (a batch) before it: the trailer's sums count the batch alone,
 * and so does bankfeed: it imports the batch as one transaction.
 *
 * A movement is passed on when the next movement, the new balance or the
 * end comes, so its 3x information records can still add to it.
 */
#include "formats/fmt.h"
#include "formats/lines.h"

#include <stdlib.h>
#include <string.h>

#define CODA_LEN	128

struct coda_mv {
	int		 open;
	uint64_t	 line;
	char		 seq[5];		/* continuous sequence number */
	int64_t		 amount;
	char		 booking[11], value[11];
	char		 ref[22], code[9], e2e[36], purpose[5];
	char		 cp_iban[35];
	struct buf	 cp_name;
	struct buf	 text;			/* the communication */
	int		 structured;
};

struct coda {
	struct fmt_ctx		*c;
	struct fmt_lines	 ln;
	const char		*r;		/* the record, 128 characters */
	char			 rec[CODA_LEN + 1];

	/* Since the last header (0). */
	int			 header;
	uint64_t		 header_line;
	char			 bic[12];
	uint64_t		 nrec;		/* records 1 to 8 */
	int64_t			 debits, credits;	/* thousandths */
	int			 sums_overflow;

	/* The statement (1 to 8). */
	char			 id[4], seq[4];
	char			 iban[35], number[35], name[36], holder[27];
	struct coda_mv		 mv;
};

static int
is_digit(int c)
{
	return (unsigned)c - '0' < 10;
}

/* Positions from..to (1-based, inclusive) of the record, blanks trimmed,
 * as UTF-8. */
static void
field(const struct coda *k, int from, int to, char *out, size_t n)
{
	fmt_field_text(out, n, k->r + from - 1, (size_t)(to - from + 1));
}

static int
digits(const char *s, size_t n, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The date DDMMYY at position pos into out; "000000" is no date (out is
 * "") when may_be_empty.  Years 80-99 are 19xx, as in MT940.
 */
static enum stmt_rc
coda_date(struct coda *k, int pos, const char *what, int may_be_empty,
    char out[11])
{
	const char	*s = k->r + pos - 1;
	int64_t		 d, m, y;
	int		 adj;

	out[0] = '\0';
	if (may_be_empty && memcmp(s, "000000", 6) == 0)
		return STMT_OK;
	if (digits(s, 2, &d) == -1 || digits(s + 2, 2, &m) == -1 ||
	    digits(s + 4, 2, &y) == -1 ||
	    fmt_date((int)(y < 80 ? 2000 + y : 1900 + y), (int)m, (int)d, out,
	    &adj) == -1)
		return fmt_reject(k->c, k->ln.line, "invalid %s \"%.6s\" in "
		    "record %c (DDMMYY: day 01-31, month 01-12)", what, s, k->r[0]);
	if (adj)
		return fmt_warn(k->c, STMT_W_DATE_ADJUSTED, k->ln.line,
		    "%s %.6s does not exist; read as %s", what, s, out);
	return STMT_OK;
}

/*
 * The sign digit at pos and the 15-digit amount after it (thousandths) as
 * raw thousandths (for the trailer's sums) and, when out is not NULL, in
 * minor units of the statement's currency.
 */
static enum stmt_rc
coda_amount(struct coda *k, int pos, const char *what, int64_t *milli,
    int64_t *out)
{
	const char	*s = k->r + pos - 1;
	char		 num[20];
	int64_t		 v;

	if (s[0] != '0' && s[0] != '1')
		return fmt_reject(k->c, k->ln.line, "invalid sign '%c' of the %s "
		    "in record %c (0 credit, 1 debit)", s[0], what, k->r[0]);
	if (digits(s + 1, 15, &v) == -1)
		return fmt_reject(k->c, k->ln.line, "invalid %s \"%.15s\" in "
		    "record %c (15 digits)", what, s + 1, k->r[0]);
	*milli = s[0] == '1' ? -v : v;
	if (out == NULL)
		return STMT_OK;
	/* "-123456789012.345": money_parse rounds and says so. */
	snprintf(num, sizeof(num), "%s%.12s.%.3s", s[0] == '1' ? "-" : "",
	    s + 1, s + 13);
	return fmt_amount(k->c, k->ln.line, what, num, strlen(num), '.',
	    k->c->currency, out);
}

/* Text at positions from..to appended as it stands (fixed-width pieces of
 * one communication continue each other without a separator). */
static enum stmt_rc
coda_text(struct coda *k, struct buf *b, int from, int to)
{
	if (fmt_text(b, k->r + from - 1, (size_t)(to - from + 1)) == -1)
		return fmt_reject(k->c, k->ln.line, "communication longer than "
		    "%d bytes", STMT_TEXT_MAX);
	return STMT_OK;
}

static enum stmt_rc
coda_header(struct coda *k)
{
	char	date[11];

	if (k->r[CODA_LEN - 1] != '2')
		return fmt_reject(k->c, k->ln.line, "CODA version '%c' in the "
		    "header (position 128); only version 2 is read",
		    k->r[CODA_LEN - 1]);
	if (coda_date(k, 6, "creation date", 0, date) != STMT_OK)
		return STMT_REJECTED;
	k->header = 1;
	k->header_line = k->ln.line;
	k->nrec = 0;
	k->debits = k->credits = 0;
	k->sums_overflow = 0;
	field(k, 61, 71, k->bic, sizeof(k->bic));
	return STMT_OK;
}

static void
compact(char *s)
{
	char	*o = s;

	for (; *s != '\0'; s++)
		if (*s != ' ')
			*o++ = *s;
	*o = '\0';
}

/* Record 1: the old balance opens a statement. */
static enum stmt_rc
coda_old_balance(struct coda *k)
{
	struct rec_account	 a;
	char			 acct[40], date[11];
	int64_t			 milli, amount;
	enum stmt_rc		 rc;

	if (k->c->open)
		return fmt_reject(k->c, k->ln.line, "old balance (record 1) "
		    "before the new balance (record 8) of the statement before");
	fmt_stmt_reset(k->c);
	k->c->info.line = k->ln.line;
	k->iban[0] = k->number[0] = '\0';
	switch (k->r[1]) {
	case '0':	/* Belgian account number, currency at 19-21 */
		field(k, 6, 17, k->number, sizeof(k->number));
		field(k, 19, 21, k->c->currency, sizeof(k->c->currency));
		break;
	case '1':	/* foreign account number */
		field(k, 6, 39, k->number, sizeof(k->number));
		field(k, 40, 42, k->c->currency, sizeof(k->c->currency));
		break;
	case '2':	/* IBAN of a Belgian account */
	case '3':	/* IBAN of a foreign account */
		field(k, 6, 39, acct, sizeof(acct));
		compact(acct);
		if (fmt_is_iban(acct))
			fmt_copy(k->iban, sizeof(k->iban), acct);
		else
			fmt_copy(k->number, sizeof(k->number), acct);
		field(k, 40, 42, k->c->currency, sizeof(k->c->currency));
		break;
	default:
		return fmt_reject(k->c, k->ln.line, "unknown account structure "
		    "'%c' in the old balance (record 1, position 2: 0-3)",
		    k->r[1]);
	}
	if (k->iban[0] == '\0' && k->number[0] == '\0')
		return fmt_reject(k->c, k->ln.line, "old balance (record 1) "
		    "without an account number");
	if ((rc = coda_amount(k, 43, "old balance", &milli, &amount)) != STMT_OK)
		return rc;
	if ((rc = coda_date(k, 59, "old balance date", 0, date)) != STMT_OK)
		return rc;
	if ((rc = fmt_add_balance(k->c, k->ln.line, BAL_OPENING_BOOKED, amount,
	    k->c->currency, date)) != STMT_OK)
		return rc;
	fmt_copy(k->c->info.from_date, sizeof(k->c->info.from_date), date);
	field(k, 3, 5, k->id, sizeof(k->id));
	field(k, 126, 128, k->seq, sizeof(k->seq));
	field(k, 65, 90, k->holder, sizeof(k->holder));
	field(k, 91, 125, k->name, sizeof(k->name));
	k->c->info.id = k->id[0] != '\0' ? k->id : NULL;
	k->c->info.sequence = k->seq[0] != '\0' ? k->seq : NULL;
	memset(&a, 0, sizeof(a));
	a.iban = k->iban[0] != '\0' ? k->iban : NULL;
	a.number = k->number[0] != '\0' ? k->number : NULL;
	a.bank_id = a.iban != NULL ? a.iban : a.number;
	a.bic = k->bic[0] != '\0' ? k->bic : NULL;
	a.name = k->name[0] != '\0' ? k->name : NULL;
	a.holder_name = k->holder[0] != '\0' ? k->holder : NULL;
	a.type = ACCT_CHECKING;
	fmt_copy(a.currency, sizeof(a.currency), k->c->currency);
	return fmt_begin(k->c, &a);
}

/* "+++123/4567/89012+++", as Belgian payers see the reference. */
static int
structured_ref(const char *s, struct buf *out)
{
	int64_t	v;

	if (digits(s, 12, &v) == -1)
		return -1;
	buf_reset(out);
	return buf_printf(out, "+++%.3s/%.4s/%.5s+++", s, s + 3, s + 7);
}

/*
 * Runs of blanks become one: a communication is fixed-width pieces, each
 * padded with blanks when the bank's text is shorter.
 */
static void
squeeze(struct buf *b)
{
	size_t	i, o = 0;

	if (b->p == NULL)
		return;
	for (i = 0; i < b->len; i++)
		if (b->p[i] != ' ' || o == 0 || b->p[o - 1] != ' ')
			b->p[o++] = b->p[i];
	b->len = o;
	b->p[o] = '\0';
}

/* Passes the movement under way on as a transaction. */
static enum stmt_rc
coda_flush(struct coda *k)
{
	struct coda_mv	*m = &k->mv;
	struct stmt_txn	 t;

	if (!m->open)
		return STMT_OK;
	m->open = 0;
	squeeze(&m->text);
	fmt_trim(&m->text);
	fmt_trim(&m->cp_name);
	memset(&t, 0, sizeof(t));
	t.line = m->line;
	t.rec.status = TXN_BOOKED;
	t.rec.amount = m->amount;
	fmt_copy(t.rec.booking_date, sizeof(t.rec.booking_date), m->booking);
	fmt_copy(t.rec.value_date, sizeof(t.rec.value_date),
	    m->value[0] != '\0' ? m->value : m->booking);
	fmt_copy(t.rec.currency, sizeof(t.rec.currency), k->c->currency);
	t.rec.cp_name = fmt_opt(&m->cp_name);
	t.rec.cp_iban = m->cp_iban[0] != '\0' ? m->cp_iban : NULL;
	t.rec.description = fmt_opt(&m->text);
	t.rec.bank_transaction_code = m->code[0] != '\0' ? m->code : NULL;
	t.rec.bank_reference = m->ref[0] != '\0' ? m->ref : NULL;
	/* Banks write both spellings for "none". */
	t.rec.end_to_end_id = m->e2e[0] != '\0' &&
	    strcmp(m->e2e, "NOTPROVIDED") != 0 &&
	    strcmp(m->e2e, "NOT PROVIDED") != 0 ? m->e2e : NULL;
	t.purpose_code = m->purpose[0] != '\0' ? m->purpose : NULL;
	return fmt_txn(k->c, &t);
}

/* Whether the record (2x or 3x) belongs to the movement under way. */
static int
same_movement(const struct coda *k)
{
	return k->mv.open && memcmp(k->r + 2, k->mv.seq, 4) == 0;
}

/* Record 21: a movement. */
static enum stmt_rc
coda_movement(struct coda *k)
{
	struct coda_mv	*m = &k->mv;
	int64_t		 milli;
	enum stmt_rc	 rc;

	if ((rc = coda_flush(k)) != STMT_OK)
		return rc;
	if (memcmp(k->r + 6, "0000", 4) != 0) {
		/* A detail of the globalised movement before it: checked, not
		 * imported, not in the trailer's sums. */
		return coda_amount(k, 32, "amount", &milli, NULL);
	}
	if ((rc = coda_amount(k, 32, "amount", &milli, &m->amount)) != STMT_OK)
		return rc;
	if (milli >= 0) {
		if (k->credits > INT64_MAX - milli)
			k->sums_overflow = 1;
		else
			k->credits += milli;
	} else if (k->debits > INT64_MAX + milli)
		k->sums_overflow = 1;
	else
		k->debits -= milli;
	if ((rc = coda_date(k, 48, "value date", 1, m->value)) != STMT_OK ||
	    (rc = coda_date(k, 116, "entry date", 0, m->booking)) != STMT_OK)
		return rc;
	m->open = 1;
	m->line = k->ln.line;
	memcpy(m->seq, k->r + 2, 4);
	m->seq[4] = '\0';
	field(k, 11, 31, m->ref, sizeof(m->ref));
	field(k, 54, 61, m->code, sizeof(m->code));
	m->e2e[0] = m->purpose[0] = m->cp_iban[0] = '\0';
	buf_reset(&m->cp_name);
	buf_reset(&m->text);
	m->structured = k->r[61] == '1';
	if (m->structured) {
		/* 101 and 102: the Belgian structured creditor reference. */
		if ((memcmp(k->r + 62, "101", 3) == 0 ||
		    memcmp(k->r + 62, "102", 3) == 0) &&
		    structured_ref(k->r + 65, &m->text) == 0)
			return STMT_OK;
		return coda_text(k, &m->text, 66, 115);
	}
	return coda_text(k, &m->text, 63, 115);
}

/* Records 22 and 23: the rest of the movement. */
static enum stmt_rc
coda_movement_more(struct coda *k)
{
	struct coda_mv	*m = &k->mv;
	char		 acct[40];
	enum stmt_rc	 rc;

	if (memcmp(k->r + 6, "0000", 4) != 0)
		return STMT_OK;		/* of a detail: not imported */
	if (!same_movement(k))
		return fmt_reject(k->c, k->ln.line, "record %.2s of movement "
		    "%.4s without its record 21", k->r, k->r + 2);
	if (k->r[1] == '2') {
		if (!m->structured &&
		    (rc = coda_text(k, &m->text, 11, 63)) != STMT_OK)
			return rc;
		field(k, 64, 98, m->e2e, sizeof(m->e2e));
		/* The ISO purpose, else the category purpose (SALA...). */
		field(k, 122, 125, m->purpose, sizeof(m->purpose));
		if (m->purpose[0] == '\0')
			field(k, 118, 121, m->purpose, sizeof(m->purpose));
		return STMT_OK;
	}
	/* 23: counterparty account (IBAN and currency, or a Belgian
	 * number), name, and the end of the communication. */
	field(k, 11, 44, acct, sizeof(acct));
	compact(acct);
	if (fmt_is_iban(acct))
		fmt_copy(m->cp_iban, sizeof(m->cp_iban), acct);
	buf_reset(&m->cp_name);
	if ((rc = coda_text(k, &m->cp_name, 48, 82)) != STMT_OK)
		return rc;
	fmt_trim(&m->cp_name);
	if (!m->structured)
		return coda_text(k, &m->text, 83, 125);
	return STMT_OK;
}

/*
 * Records 31 to 33: information about a movement.  Only the counterparty
 * name and address (structured type 001) is used, for a movement that
 * did not name its counterparty.
 */
static enum stmt_rc
coda_info(struct coda *k)
{
	struct coda_mv	*m = &k->mv;

	if (k->r[1] != '1' || !same_movement(k) || m->cp_name.len > 0)
		return STMT_OK;
	if (k->r[39] != '1' || memcmp(k->r + 40, "001", 3) != 0)
		return STMT_OK;
	if (coda_text(k, &m->cp_name, 44, 113) != STMT_OK)
		return STMT_REJECTED;
	fmt_trim(&m->cp_name);
	return STMT_OK;
}

/* Record 8: the new balance closes the statement. */
static enum stmt_rc
coda_new_balance(struct coda *k)
{
	char		 date[11];
	int64_t		 milli, amount;
	enum stmt_rc	 rc;

	if (!k->c->open)
		return fmt_reject(k->c, k->ln.line, "new balance (record 8) "
		    "without an old balance (record 1)");
	if ((rc = coda_flush(k)) != STMT_OK)
		return rc;
	if ((rc = coda_amount(k, 42, "new balance", &milli, &amount)) != STMT_OK ||
	    (rc = coda_date(k, 58, "new balance date", 0, date)) != STMT_OK)
		return rc;
	if ((rc = fmt_add_balance(k->c, k->ln.line, BAL_BOOKED, amount,
	    k->c->currency, date)) != STMT_OK)
		return rc;
	fmt_copy(k->c->info.to_date, sizeof(k->c->info.to_date), date);
	return fmt_end(k->c, k->ln.line);
}

/* Record 9: the trailer checks the records and sums since the header. */
static enum stmt_rc
coda_trailer(struct coda *k)
{
	int64_t		 n, deb, cred;
	char		 a[32], b[32];
	enum stmt_rc	 rc;

	if (k->c->open)
		return fmt_reject(k->c, k->ln.line, "trailer (record 9) before "
		    "the new balance (record 8)");
	if (digits(k->r + 16, 6, &n) == -1 || digits(k->r + 22, 15, &deb) == -1 ||
	    digits(k->r + 37, 15, &cred) == -1)
		return fmt_reject(k->c, k->ln.line, "invalid counts in the "
		    "trailer (record 9, positions 17-52: digits)");
	k->header = 0;
	if ((uint64_t)n != k->nrec) {
		rc = fmt_warn(k->c, STMT_W_SUMS_MISMATCH, k->ln.line, "the "
		    "trailer counts %lld records, the file has %llu",
		    (long long)n, (unsigned long long)k->nrec);
		if (rc != STMT_OK)
			return rc;
	}
	if (!k->sums_overflow && (deb != k->debits || cred != k->credits)) {
		snprintf(a, sizeof(a), "%lld.%03lld", (long long)(deb / 1000),
		    (long long)(deb % 1000));
		snprintf(b, sizeof(b), "%lld.%03lld", (long long)(cred / 1000),
		    (long long)(cred % 1000));
		return fmt_warn(k->c, STMT_W_SUMS_MISMATCH, k->ln.line, "the "
		    "trailer's debits %s and credits %s differ from the "
		    "movements' %lld.%03lld and %lld.%03lld", a, b,
		    (long long)(k->debits / 1000), (long long)(k->debits % 1000),
		    (long long)(k->credits / 1000),
		    (long long)(k->credits % 1000));
	}
	return STMT_OK;
}

/* The line as a 128-character record: shorter lines (trailing blanks
 * dropped) are padded, longer ones may only have blanks past 128. */
static enum stmt_rc
coda_record(struct coda *k)
{
	const char	*s = k->ln.p;
	size_t		 n = k->ln.len, i;

	for (i = CODA_LEN; i < n; i++)
		if (s[i] != ' ')
			return fmt_reject(k->c, k->ln.line, "record longer than "
			    "%d characters", CODA_LEN);
	if (n > CODA_LEN)
		n = CODA_LEN;
	memcpy(k->rec, s, n);
	memset(k->rec + n, ' ', CODA_LEN - n);
	k->rec[CODA_LEN] = '\0';
	k->r = k->rec;
	return STMT_OK;
}

static enum stmt_rc
coda_line(struct coda *k)
{
	char	t = k->r[0];

	if (t != '0' && !k->header)
		return fmt_reject(k->c, k->ln.line, "record %c before the "
		    "header (record 0)", t);
	if (t >= '1' && t <= '8')
		k->nrec++;
	switch (t) {
	case '0':
		if (k->header)
			return fmt_reject(k->c, k->ln.line, "header (record 0) "
			    "before the trailer (record 9) of the file before");
		return coda_header(k);
	case '1':
		return coda_old_balance(k);
	case '2':
	case '3':
		if (!k->c->open)
			return fmt_reject(k->c, k->ln.line, "record %.2s outside "
			    "a statement (between records 1 and 8)", k->r);
		if (t == '2' && k->r[1] == '1')
			return coda_movement(k);
		if (t == '2' && (k->r[1] == '2' || k->r[1] == '3'))
			return coda_movement_more(k);
		if (t == '3' && k->r[1] >= '1' && k->r[1] <= '3')
			return coda_info(k);
		return fmt_reject(k->c, k->ln.line, "unknown record type "
		    "\"%.2s\"", k->r);
	case '4':
		return STMT_OK;	/* a free message: not a transaction */
	case '8':
		return coda_new_balance(k);
	case '9':
		return coda_trailer(k);
	default:
		return fmt_reject(k->c, k->ln.line, "unknown record type '%c' "
		    "(CODA records are 0, 1, 2x, 3x, 4, 8, 9)", t);
	}
}

enum stmt_rc
coda_parse(FILE *in, struct fmt_ctx *c)
{
	struct coda		*k;
	enum fmt_lines_rc	 lr;
	enum stmt_rc		 rc = STMT_OK;
	int			 any = 0;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return fmt_failed(c, "out of memory");
	k->c = c;
	buf_init(&k->mv.cp_name, STMT_FIELD_MAX);
	buf_init(&k->mv.text, STMT_TEXT_MAX);
	if (fmt_lines_init(&k->ln, in, STMT_FIELD_MAX) == -1) {
		rc = fmt_failed(c, "out of memory");
		goto out;
	}
	fmt_stmt_reset(c);
	while ((lr = fmt_lines_next(&k->ln)) == FMT_LINE) {
		/* Blank lines and a DOS end-of-file mark carry nothing. */
		if (k->ln.len == 0 || (k->ln.len == 1 && k->ln.p[0] == '\x1a'))
			continue;
		if ((rc = coda_record(k)) != STMT_OK ||
		    (rc = coda_line(k)) != STMT_OK)
			goto out;
		any = 1;
	}
	if ((rc = fmt_lines_end(c, &k->ln, lr)) != STMT_OK)
		goto out;
	if (!any)
		rc = fmt_reject(c, 0, "empty file: no CODA header (record 0)");
	else if (c->open)
		rc = fmt_reject(c, k->ln.line, "truncated: statement of line %llu "
		    "ends without its new balance (record 8)",
		    (unsigned long long)c->info.line);
	else if (k->header)
		rc = fmt_reject(c, k->ln.line, "truncated: the file of line %llu "
		    "ends without its trailer (record 9)",
		    (unsigned long long)k->header_line);
out:
	fmt_lines_free(&k->ln);
	buf_free(&k->mv.cp_name);
	buf_free(&k->mv.text);
	free(k);
	return rc;
}

/*
 * A CODA file starts with its header record: "0", "0000", the creation
 * date DDMMYY, the bank's number, and application code "05".
 */
int
coda_detect(const char *head, size_t n)
{
	size_t	i;

	if (n < 16 || memcmp(head, "00000", 5) != 0 ||
	    memcmp(head + 14, "05", 2) != 0)
		return 0;
	for (i = 5; i < 14; i++)
		if (!is_digit((unsigned char)head[i]))
			return 0;
	return 1;
}
