/*
 * mt940_fields: the values of MT940/MT942 fields: dates (YYMMDD, with
 * a stand-in for an impossible one unless strict), amounts (a decimal
 * comma, or Rabobank's point), balances (:60F: :62F: :64: :65:), the
 * :61: statement line and the MT942 sums :90D:/:90C:.
 */
#include "formats/mt940.h"

#include <stdlib.h>
#include <string.h>

#include "core/money.h"

/*
 * SWIFT transaction type identification codes of :61: (after the N, F or
 * S); banks also use N followed by three digits of their own.
 */
static const char *const swift_types[] = {
	"BNK", "BOE", "BRF", "CAR", "CAS", "CHG", "CHK", "CLR", "CMI", "CMN",
	"CMP", "CMS", "CMT", "CMZ", "COL", "COM", "CPN", "DCR", "DDT", "DIS",
	"DIV", "EQA", "EXT", "FEX", "INT", "LBX", "LDP", "MAR", "MAT", "MGT",
	"MSC", "NWI", "ODC", "OPT", "PCH", "POP", "PRN", "REC", "RED", "RIG",
	"RTI", "SAL", "SEC", "SLE", "STO", "STP", "SUB", "SWP", "TAX", "TCK",
	"TCM", "TRA", "TRF", "TRN", "UWC", "VDA", "WAR",
};

/* Years of two digits: 80-99 are 19xx, the rest 20xx. */
static int
year2(int yy)
{
	return yy >= 80 ? 1900 + yy : 2000 + yy;
}

/* The two digits at s as a number, or -1. */
static int
num2(const char *s)
{
	if (!is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The year of a "YYYY-MM-DD" date. */
static int
year_of(const char *d)
{
	return (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 +
	    (d[3] - '0');
}

/*
 * Reads YYMMDD at s into out; a stmt_rc.  An impossible date rejects the
 * file when the parse is strict; a lenient one takes the last good date
 * of the file instead, with an invalid_date warning.
 */
static enum stmt_rc
yymmdd(struct mt *m, const char *s, const char *what, char out[11], int *yearp)
{
	int	yy = num2(s), mm = num2(s + 2), dd = num2(s + 4), adj;

	if (yy < 0 || mm < 0 || dd < 0 ||
	    fmt_date(year2(yy), mm, dd, out, &adj) == -1) {
		/*
		 * Strict, or nothing to put in its place: rejected.  Else the
		 * last good date of the file stands in for it, with a warning.
		 */
		if (m->c->strict || m->last_date[0] == '\0')
			return fmt_reject(m->c, m->tag_line, "invalid %s "
			    "\"%.6s\" in :%s: (YYMMDD: month 01-12, day 01-31)",
			    what, s, m->tag);
		memcpy(out, m->last_date, 11);
		if (yearp != NULL)
			*yearp = year_of(out);
		return fmt_warn(m->c, STMT_W_INVALID_DATE, m->tag_line,
		    "invalid %s \"%.6s\" in :%s: (YYMMDD: month 01-12, day "
		    "01-31); used %s, the date before it", what, s, m->tag, out);
	}
	memcpy(m->last_date, out, 11);
	if (yearp != NULL)
		*yearp = year2(yy);
	if (adj)
		return fmt_warn(m->c, STMT_W_DATE_ADJUSTED, m->tag_line,
		    "%s %.6s in :%s: does not exist (day %.2s of 20%.2s-%.2s); "
		    "used %s", what, s, m->tag, s + 4, s, s + 2, out);
	return STMT_OK;
}

/*
 * The decimal separator of an amount: SWIFT's comma, or the point of
 * Rabobank's older layout ("000000002145.00", JPY "115351.") when the
 * amount has no comma.
 */
static char
decimal_mark(const char *s, size_t n)
{
	return memchr(s, ',', n) == NULL && memchr(s, '.', n) != NULL ?
	    '.' : ',';
}


/*
 * A balance field, :60F: :62F: :64: :65: and their M forms:
 * D/C mark, YYMMDD, currency, amount with a decimal comma.
 */
enum stmt_rc
mt_balance(struct mt *m, enum bal_type type)
{
	const char	*s;
	size_t		 n = first_line(m, &s), i;
	char		 date[11], ccy[4];
	int64_t		 v;
	int		 neg;
	enum stmt_rc	 rc;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n < 8 || (s[0] != 'C' && s[0] != 'D'))
		return fmt_reject(m->c, m->tag_line,
		    ":%s: balance \"%.*s\" does not start with C or D and a "
		    "date", m->tag, (int)(n > 40 ? 40 : n), s);
	neg = s[0] == 'D';
	if ((rc = yymmdd(m, s + 1, "balance date", date, NULL)) != STMT_OK)
		return rc;
	i = 7;
	if (n >= 10 && is_ccy(s + 7)) {
		memcpy(ccy, s + 7, 3);
		ccy[3] = '\0';
		i = 10;
	} else {
		fmt_copy(ccy, sizeof(ccy), m->c->currency);
		rc = fmt_warn(m->c, STMT_W_CURRENCY, m->tag_line,
		    ":%s: balance has no currency code; read as %s", m->tag,
		    *ccy ? ccy : "unknown");
		if (rc != STMT_OK)
			return rc;
	}
	if (i >= n)
		return fmt_reject(m->c, m->tag_line, ":%s: balance has no amount",
		    m->tag);
	for (size_t k = i; k < n; k++)
		if (!is_digit((unsigned char)s[k]) && s[k] != ',' && s[k] != '.')
			return fmt_reject(m->c, m->tag_line,
			    ":%s: balance amount \"%.*s\" is not digits with a "
			    "decimal comma", m->tag, (int)(n - i > 40 ? 40 : n - i),
			    s + i);
	if ((rc = fmt_amount(m->c, m->tag_line, "balance", s + i, n - i,
	    decimal_mark(s + i, n - i), ccy, &v)) != STMT_OK)
		return rc;
	if (neg)
		v = -v;
	if (m->c->currency[0] == '\0')
		fmt_copy(m->c->currency, sizeof(m->c->currency), ccy);
	if (type == BAL_OPENING_BOOKED && m->c->info.from_date[0] == '\0')
		fmt_copy(m->c->info.from_date, 11, date);
	if (type == BAL_BOOKED)
		fmt_copy(m->c->info.to_date, 11, date);
	return fmt_add_balance(m->c, m->tag_line, type, v, ccy, date);
}

static int
is_nonref(const struct buf *b)
{
	return b->len == 6 && memcmp(b->p, "NONREF", 6) == 0;
}

static int
type_cmp(const void *key, const void *elem)
{
	const unsigned char	*a = key;
	const unsigned char	*b = *(const unsigned char *const *)elem;

	/* Three bytes: by hand, no call. */
	if (a[0] != b[0])
		return a[0] - b[0];
	if (a[1] != b[1])
		return a[1] - b[1];
	return a[2] - b[2];
}

static int
known_type(const char *code)
{
	if (is_digit((unsigned char)code[1]) && is_digit((unsigned char)code[2]) &&
	    is_digit((unsigned char)code[3]))
		return 1;
	/* swift_types is in alphabetical order. */
	return bsearch(code + 1, swift_types, sizeof(swift_types) /
	    sizeof(swift_types[0]), sizeof(swift_types[0]), type_cmp) != NULL;
}

/*
 * :61: value date YYMMDD, [entry date MMDD], mark C D RC RD (EC ED in
 * MT942), [funds code letter], amount with a decimal comma, type code
 * (N/F/S + 3), customer reference [//bank reference], and on the next
 * line [supplementary details].
 */
enum stmt_rc
mt_txn(struct mt *m)
{
	struct stmt_txn	*t = &m->txn;
	const char	*s, *p, *e, *amt, *nl;
	size_t		 n = first_line(m, &s);
	int		 vyear, em, ed, sign = 1, adj;
	char		 dec = 0;
	enum stmt_rc	 rc;

	memset(t, 0, sizeof(*t));
	buf_reset(&m->t_cref);
	buf_reset(&m->t_bref);
	buf_reset(&m->t_supp);
	buf_reset(&m->t_name);
	buf_reset(&m->t_details);
	m->t_glued = 0;
	m->t_nl = 0;
	m->t_code[0] = '\0';
	t->line = m->tag_line;
	e = s + n;
	if (n < 6)
		return fmt_reject(m->c, m->tag_line,
		    ":61: \"%.*s\" is too short for a transaction", (int)n, s);
	if ((rc = yymmdd(m, s, "value date", t->rec.value_date, &vyear)) !=
	    STMT_OK)
		return rc;
	p = s + 6;
	memcpy(t->rec.booking_date, t->rec.value_date, 11);
	if (e - p >= 4 && (em = num2(p)) >= 0 && (ed = num2(p + 2)) >= 0) {
		/* The value date's month, which may stand in for a bad one. */
		int	vm = num2(t->rec.value_date + 5), y = vyear;

		/* An entry date across the year end from its value date. */
		if (em - vm > 6)
			y--;
		else if (vm - em > 6)
			y++;
		if (fmt_date(y, em, ed, t->rec.booking_date, &adj) == -1) {
			if (m->c->strict)
				return fmt_reject(m->c, m->tag_line,
				    "invalid entry date \"%.4s\" in :61: (MMDD)",
				    p);
			memcpy(t->rec.booking_date, t->rec.value_date, 11);
			adj = 0;
			if ((rc = fmt_warn(m->c, STMT_W_INVALID_DATE,
			    m->tag_line, "invalid entry date \"%.4s\" in :61: "
			    "(MMDD); used the value date %s", p,
			    t->rec.value_date)) != STMT_OK)
				return rc;
		}
		if (adj && (rc = fmt_warn(m->c, STMT_W_DATE_ADJUSTED,
		    m->tag_line, "entry date %.4s in :61: does not exist; "
		    "used %s", p, t->rec.booking_date)) != STMT_OK)
			return rc;
		p += 4;
	}
	if (e - p >= 2 && p[0] == 'R' && (p[1] == 'C' || p[1] == 'D')) {
		t->reversal = 1;
		sign = p[1] == 'C' ? -1 : 1;
		p += 2;
	} else if (e - p >= 2 && p[0] == 'E' && (p[1] == 'C' || p[1] == 'D')) {
		sign = p[1] == 'C' ? 1 : -1;
		p += 2;
	} else if (e - p >= 1 && (p[0] == 'C' || p[0] == 'D')) {
		sign = p[0] == 'C' ? 1 : -1;
		p++;
	} else
		return fmt_reject(m->c, m->tag_line,
		    ":61: debit/credit mark missing at \"%.*s\" (C, D, RC or RD)",
		    (int)(e - p > 20 ? 20 : e - p), p);
	if (p < e && is_upper((unsigned char)*p))
		p++;		/* funds code */
	/* A comma, else Rabobank's point (decimal_mark()), seen as it goes. */
	for (amt = p; p < e; p++) {
		if (*p == ',')
			dec = ',';
		else if (*p == '.' && dec == 0)
			dec = '.';
		else if (!is_digit((unsigned char)*p))
			break;
	}
	if (p == amt || p - amt > 15)
		return fmt_reject(m->c, m->tag_line,
		    ":61: amount missing or longer than 15 characters");
	if ((rc = fmt_amount(m->c, m->tag_line, "amount", amt, (size_t)(p - amt),
	    dec != 0 ? dec : ',', m->c->currency, &t->rec.amount)) != STMT_OK)
		return rc;
	t->rec.amount *= sign;
	memcpy(t->rec.currency, m->c->currency, 4);	/* NUL-terminated */
	t->rec.status = m->interim ? TXN_PENDING : TXN_BOOKED;
	/* Type: N, F or S and three characters. */
	if (e - p >= 4 && (p[0] == 'N' || p[0] == 'F' || p[0] == 'S') &&
	    is_alnum((unsigned char)p[1]) && is_alnum((unsigned char)p[2]) &&
	    is_alnum((unsigned char)p[3])) {
		memcpy(m->t_code, p, 4);
		m->t_code[4] = '\0';
		if (!known_type(m->t_code) && (rc = fmt_warn(m->c,
		    STMT_W_UNKNOWN_CODE, m->tag_line, "unknown transaction "
		    "type code %s in :61:", m->t_code)) != STMT_OK)
			return rc;
		p += 4;
	} else if ((rc = fmt_warn(m->c, STMT_W_MISSING_FIELD, m->tag_line,
	    ":61: has no transaction type code")) != STMT_OK)
		return rc;
	/* Customer reference, then //bank reference. */
	{
		const char	*ss = p, *slash = NULL, *q;

		for (q = p; q + 1 < e; q++)
			if (q[0] == '/' && q[1] == '/') {
				slash = q;
				break;
			}
		if (slash != NULL) {
			buf_add(&m->t_cref, ss, (size_t)(slash - ss));
			buf_add(&m->t_bref, slash + 2, (size_t)(e - slash - 2));
		} else if (e - ss > 16) {
			/*
			 * Dutch legacy: a 16-character reference, then the
			 * counterparty's name.
			 */
			buf_add(&m->t_cref, ss, 16);
			buf_add(&m->t_name, ss + 16, (size_t)(e - ss - 16));
		} else
			buf_add(&m->t_cref, ss, (size_t)(e - ss));
		fmt_trim(&m->t_cref);
		fmt_trim(&m->t_bref);
		fmt_trim(&m->t_name);
		if (is_nonref(&m->t_bref))
			buf_reset(&m->t_bref);
		if (is_nonref(&m->t_cref))
			buf_reset(&m->t_cref);
	}
	/* Supplementary details on the following lines. */
	if (n < m->field.len) {
		nl = s + n;
		if (buf_addstr(&m->t_supp, nl + 1) == -1)
			return fmt_reject(m->c, m->tag_line, ":61: too long");
		for (size_t i = 0; i < m->t_supp.len; i++)
			if (m->t_supp.p[i] == '\n')
				m->t_supp.p[i] = ' ';
		fmt_trim(&m->t_supp);
	}
	m->have_txn = 1;
	return STMT_OK;
}

/* MT942 :90D:/:90C: number of entries, currency, sum. */
enum stmt_rc
mt_sum(struct mt *m, int credit)
{
	const char	*s;
	size_t		 n = first_line(m, &s), i = 0;
	int		 cnt = 0;
	int64_t		 v;
	char		 ccy[4];
	enum stmt_rc	 rc;

	while (i < n && is_digit((unsigned char)s[i]) && i < 6)
		cnt = cnt * 10 + s[i++] - '0';
	if (n - i < 4 || !is_ccy(s + i))
		return fmt_reject(m->c, m->tag_line,
		    ":%s: \"%.*s\" is not a count, currency and amount", m->tag,
		    (int)(n > 40 ? 40 : n), s);
	memcpy(ccy, s + i, 3);
	ccy[3] = '\0';
	if ((rc = fmt_amount(m->c, m->tag_line, "sum", s + i + 3, n - i - 3,
	    ',', ccy, &v)) != STMT_OK)
		return rc;
	if (m->c->currency[0] == '\0')
		fmt_copy(m->c->currency, 4, ccy);
	m->line_90 = m->tag_line;
	if (credit) {
		m->has_90c = 1;
		m->n90c = cnt;
		m->s90c = v;
	} else {
		m->has_90d = 1;
		m->n90d = cnt;
		m->s90d = v;
	}
	return STMT_OK;
}
