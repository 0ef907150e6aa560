/*
 * mt940: SWIFT MT940 (customer statement) and MT942 (interim report).
 *
 * The file is read line by line (CRLF, LF or CR; each line at most
 * STMT_FIELD_MAX bytes) and each line is made UTF-8 on the way in: kept
 * when it is valid UTF-8, else read as ISO-8859-1.  A line starting with
 * ":TAG:" opens a field; the lines that follow belong to it until the
 * next field.  Anything before the first :20: (SWIFT blocks {1:..}{2:..}
 * {4:, bank header lines such as "ABNANL2A", "940 00") is skipped, and
 * so is anything after a "-" end-of-message line up to the next :20:.
 *
 * Fields are handled one at a time as they complete; a transaction (:61:
 * plus its :86: lines) is passed on when the next field that is not part
 * of it starts, so memory holds one field and one transaction at most.
 *
 * Bank dialects of :86: are data: the German "?NN" subfields and SEPA
 * "XXXX+" keywords, and the Dutch "/TAG/value" form, each have a table.
 */
#define _GNU_SOURCE	/* memmem() */
#include "formats/fmt.h"

#include <stdlib.h>
#include <string.h>

#include "core/money.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * ASCII classes by hand: <ctype.h> goes through the locale's table (a call
 * per byte), and these run several times per byte of a statement.  Same
 * answers as the C locale bankfeed runs in.
 */
static inline int
is_digit(int c)
{
	return (unsigned)c - '0' < 10;
}

static inline int
is_upper(int c)
{
	return (unsigned)c - 'A' < 26;
}

static inline int
is_alnum(int c)
{
	return is_digit(c) || is_upper(c) || (unsigned)c - 'a' < 26;
}

/* Roles of the pieces of :86: text, shared by the dialect tables. */
enum role {
	R_NONE,		/* known, not used */
	R_POSTING,	/* posting text (?00) */
	R_PURPOSE,	/* remittance line */
	R_NAME,		/* counterparty name */
	R_ACCOUNT,	/* counterparty account or IBAN */
	R_BIC,
	R_E2E,		/* end-to-end reference */
	R_CNTP		/* Dutch /CNTP/iban/bic/name/city/ */
};

/* German structured :86: subfields ?00..?63 (ZKA/DFÜ-Abkommen). */
static const struct {
	int		lo, hi;
	enum role	role;
} gvc_fields[] = {
	{ 0, 0, R_POSTING },	/* Buchungstext */
	{ 10, 10, R_NONE },	/* Primanota */
	{ 20, 29, R_PURPOSE },	/* Verwendungszweck 1-10 */
	{ 30, 30, R_BIC },	/* BLZ or BIC of the counterparty */
	{ 31, 31, R_ACCOUNT },	/* account number or IBAN */
	{ 32, 33, R_NAME },	/* name, two lines */
	{ 34, 34, R_NONE },	/* Textschlüsselergänzung */
	{ 35, 37, R_NONE },
	{ 38, 38, R_ACCOUNT },	/* IBAN (some banks) */
	{ 60, 63, R_PURPOSE },	/* Verwendungszweck 11-14 */
};

/* SEPA keywords that start a piece of the German purpose text. */
static const struct {
	const char	*kw;
	enum role	 role;
} sepa_keywords[] = {
	{ "EREF+", R_E2E },	/* end-to-end reference */
	{ "KREF+", R_NONE },	/* customer reference */
	{ "MREF+", R_NONE },	/* mandate reference */
	{ "CRED+", R_NONE },	/* creditor id */
	{ "DEBT+", R_NONE },	/* originator id */
	{ "COAM+", R_NONE },	/* compensation amount */
	{ "OAMT+", R_NONE },	/* original amount */
	{ "SVWZ+", R_PURPOSE },	/* the remittance text itself */
	{ "ABWA+", R_NONE },	/* ultimate debtor */
	{ "ABWE+", R_NONE },	/* ultimate creditor */
	{ "IBAN+", R_ACCOUNT },
	{ "BIC+", R_BIC },
	{ "PURP+", R_NONE },
};

/* Dutch "/TAG/value" :86: (Rabobank, ING, ABN AMRO SEPA formats). */
static const struct {
	const char	*tag;
	enum role	 role;
} nl_tags[] = {
	{ "EREF", R_E2E }, { "REMI", R_PURPOSE }, { "NAME", R_NAME },
	{ "IBAN", R_ACCOUNT }, { "BIC", R_BIC }, { "CNTP", R_CNTP },
	{ "BENM", R_NONE }, { "ORDP", R_NONE }, { "TRTP", R_NONE },
	{ "ISDT", R_NONE }, { "MARF", R_NONE }, { "CSID", R_NONE },
	{ "PREF", R_NONE }, { "RTRN", R_NONE }, { "ADDR", R_NONE },
	{ "PURP", R_NONE }, { "ULTB", R_NONE }, { "ULTD", R_NONE },
	{ "BUSP", R_NONE }, { "TRCD", R_NONE }, { "ID", R_NONE },
	{ "CD", R_NONE }, { "ISSR", R_NONE }, { "CUR", R_NONE },
	{ "FX", R_NONE }, { "COAM", R_NONE }, { "OAMT", R_NONE },
	{ "SVCL", R_NONE }, { "RTYP", R_NONE }, { "CTRY", R_NONE },
};

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

struct mt {
	FILE		*in;
	struct fmt_ctx	*c;
	uint64_t	 lineno;
	int		 eof;
	int		 pending_cr;	/* last line ended with CR: skip an LF */
	const char	*ls;		/* the line, NUL-terminated */
	size_t		 ln;
	struct buf	 line;		/* the line made UTF-8, when it had to be */

	/* The field being collected. */
	char		 tag[4];
	uint64_t	 tag_line;
	uint64_t	 before_tag;	/* the last line before the field */
	int		 have_field;
	int		 after_end;	/* after "-": skip until :20: */
	/*
	 * A "-" line inside an open :86: (ING wraps text so): an end of
	 * message or a line of the text, which the next line tells.
	 */
	uint64_t	 dash_line;
	uint64_t	 prev_line;	/* the line before it that was not blank */
	uint64_t	 last_line;	/* the last line that was not blank */
	/* The first line before a :20: that is no MT940 header line. */
	uint64_t	 bad_line;
	char		 bad_text[48];
	char		 last_date[11];	/* the last good date, for a bad one */
	struct buf	 field;		/* lines joined with '\n' */
	/*
	 * A German structured :86: (gvc_form()) is glued without its line
	 * ends as it is read, since mt_details() would take them out: they
	 * are only counted, so that the limits stay those of the text with
	 * them.
	 */
	int		 field_glued;
	size_t		 field_nl;

	/* The statement. */
	int		 in_stmt;
	int		 seen_20;
	char		 last_tag[4];
	struct buf	 ref, seq, acct;
	int		 acct_locked;	/* :25: cannot change any more */
	int		 interim;
	int		 n_credit, n_debit;
	int64_t		 sum_credit, sum_debit;	/* saturating, for :90C:/:90D: */
	int		 has_90d, has_90c;
	int		 has_opening, has_closing;
	int64_t		 s90d, s90c;
	int		 n90d, n90c;
	uint64_t	 line_90;

	/* The transaction waiting for its :86:. */
	int		 have_txn;
	struct stmt_txn	 txn;
	struct buf	 t_cref, t_bref, t_supp, t_name, t_details;
	char		 t_code[5];
	int		 t_details_lines;
	int		 t_glued;	/* t_details is one glued :86: */
	size_t		 t_nl;		/* line ends not stored in t_details */
	/* Pieces of :86: once read, and scratch space for reading it. */
	struct buf	 d_desc, d_name, d_iban, d_e2e, d_posting, d_gvc;
	struct buf	 x_text, x_purpose, x_sepa;
	/* gvc_fields by subfield number: 1 + its role, 0 when unknown. */
	unsigned char	 gvc_role[100];

	/* Read buffer, and a byte to end a last line with no line end. */
	unsigned char	 rb[65536 + 1];
	size_t		 rpos, rlen;
	int		 reof;
	uint64_t	 left;		/* bytes still to read (a piece's) */
};

static void
mt_init(struct mt *m, FILE *in, struct fmt_ctx *c)
{
	memset(m, 0, sizeof(*m));
	m->in = in;
	m->c = c;
	buf_init(&m->line, 2 * STMT_FIELD_MAX);
	buf_init(&m->field, STMT_TEXT_MAX);
	buf_init(&m->ref, STMT_FIELD_MAX);
	buf_init(&m->seq, STMT_FIELD_MAX);
	buf_init(&m->acct, STMT_FIELD_MAX);
	buf_init(&m->t_cref, STMT_FIELD_MAX);
	buf_init(&m->t_bref, STMT_FIELD_MAX);
	buf_init(&m->t_supp, STMT_FIELD_MAX);
	buf_init(&m->t_name, STMT_FIELD_MAX);
	buf_init(&m->t_details, STMT_TEXT_MAX);
	buf_init(&m->d_desc, STMT_TEXT_MAX);
	buf_init(&m->d_name, STMT_FIELD_MAX);
	buf_init(&m->d_iban, STMT_FIELD_MAX);
	buf_init(&m->d_e2e, STMT_FIELD_MAX);
	buf_init(&m->d_posting, STMT_FIELD_MAX);
	buf_init(&m->d_gvc, 16);
	buf_init(&m->x_text, STMT_TEXT_MAX);
	buf_init(&m->x_purpose, STMT_TEXT_MAX);
	buf_init(&m->x_sepa, STMT_TEXT_MAX);
	for (size_t k = 0; k < sizeof(gvc_fields) / sizeof(gvc_fields[0]); k++)
		for (int code = gvc_fields[k].lo; code <= gvc_fields[k].hi; code++)
			m->gvc_role[code] = (unsigned char)(1 + gvc_fields[k].role);
}

static void
mt_free(struct mt *m)
{
	struct buf	*all[] = { &m->line, &m->field, &m->ref,
			    &m->seq, &m->acct, &m->t_cref, &m->t_bref,
			    &m->t_supp, &m->t_name, &m->t_details, &m->d_desc,
			    &m->d_name, &m->d_iban, &m->d_e2e, &m->d_posting,
			    &m->d_gvc, &m->x_text, &m->x_purpose, &m->x_sepa };
	size_t		 i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		buf_free(all[i]);
}

/*
 * The end of the line that starts at p: the first CR or LF before e, or
 * e.  *plain says whether the bytes before it are all printable ASCII, so
 * the line needs no conversion.  A block at a time while it is plain: the
 * first byte that stops that scan is most often the line's end.
 */
static const unsigned char *
line_end(const unsigned char *p, const unsigned char *e, int *plain)
{
	const unsigned char	*q = p + fmt_plain_prefix((const char *)p,
				    (size_t)(e - p));

	*plain = 1;
	if (q < e && *q != '\n' && *q != '\r') {
		*plain = 0;
		while (q < e && *q != '\n' && *q != '\r')
			q++;
	}
	return q;
}

/*
 * Reads the next line (without its end) into m->ls, m->ln: in place in
 * the read buffer when it is plain ASCII (its end overwritten with a NUL),
 * else converted into m->line.  A line never straddles two reads: what is
 * left of the buffer moves to its front before the next read, and a line
 * longer than STMT_FIELD_MAX is refused before that.
 * Returns 1 with a line, 0 at the end of the file, or -1 and *rc.
 */
static int
mt_getline(struct mt *m, enum stmt_rc *rc)
{
	unsigned char		*p, *e, *q;
	size_t			 n, len;
	int			 plain;

	for (;;) {
		p = m->rb + m->rpos;
		e = m->rb + m->rlen;
		if (m->pending_cr && p < e) {
			m->pending_cr = 0;
			if (*p == '\n') {
				m->rpos++;
				continue;
			}
		}
		q = (unsigned char *)line_end(p, e, &plain);
		if (q < e || m->reof)
			break;
		if ((size_t)(q - p) > STMT_FIELD_MAX)
			goto toolong;
		memmove(m->rb, p, (size_t)(e - p));
		m->rlen = (size_t)(e - p);
		m->rpos = 0;
		n = sizeof(m->rb) - 1 - m->rlen;
		if (n > m->left)
			n = (size_t)m->left;
		n = n > 0 ? fread(m->rb + m->rlen, 1, n, m->in) : 0;
		m->left -= n;
		if (n == 0) {
			m->reof = 1;
			if (ferror(m->in)) {
				*rc = fmt_failed(m->c, "read error");
				return -1;
			}
		}
		m->rlen += n;
	}
	len = (size_t)(q - p);
	if (q == e && len == 0)
		return 0;
	if (len > STMT_FIELD_MAX)
		goto toolong;
	if (q + 1 < e && q[0] == '\r' && q[1] == '\n')
		m->rpos = (size_t)(q - m->rb) + 2;	/* CRLF, the usual */
	else if (q < e) {
		m->pending_cr = *q == '\r';
		m->rpos = (size_t)(q - m->rb) + 1;
	} else
		m->rpos = m->rlen;
	m->lineno++;
	if (plain) {
		*q = '\0';	/* rb has a spare byte for a last line */
		m->ls = (const char *)p;
		m->ln = len;
		return 1;
	}
	buf_reset(&m->line);
	if (fmt_text(&m->line, (const char *)p, len) == -1) {
		*rc = fmt_reject(m->c, m->lineno, "line too long");
		return -1;
	}
	m->ls = buf_str(&m->line);
	m->ln = m->line.len;
	return 1;
toolong:
	*rc = fmt_reject(m->c, m->lineno + 1, "line longer than %d bytes",
	    STMT_FIELD_MAX);
	return -1;
}

/* Length of the ":TAG:" that starts s, or 0 (tags: 2 digits + letter, NS). */
static size_t
tag_len(const char *s, char tag[4])
{
	size_t	n;

	if (s[0] != ':')
		return 0;
	if (s[1] == 'N' && s[2] == 'S' && s[3] == ':') {
		memcpy(tag, "NS", 3);
		return 4;
	}
	if (!is_digit((unsigned char)s[1]) || !is_digit((unsigned char)s[2]))
		return 0;
	n = 3;
	if (is_upper((unsigned char)s[3]))
		n = 4;
	if (s[n] != ':')
		return 0;
	memcpy(tag, s + 1, n - 1);
	tag[n - 1] = '\0';
	return n + 1;
}

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

static int
is_ccy(const char *s)
{
	return is_upper((unsigned char)s[0]) && is_upper((unsigned char)s[1]) &&
	    is_upper((unsigned char)s[2]);
}

/*
 * Whether the :86: text s (n bytes) is the German structured form: a
 * three-digit business transaction code, a delimiter that is not a
 * letter, digit or space, and the two digits of the first subfield.
 */
static int
gvc_form(const char *s, size_t n)
{
	/* Polish banks write a space before the code (":86: 020?00..."). */
	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	return n > 5 && is_digit((unsigned char)s[0]) &&
	    is_digit((unsigned char)s[1]) && is_digit((unsigned char)s[2]) &&
	    !is_alnum((unsigned char)s[3]) && s[3] != ' ' &&
	    is_digit((unsigned char)s[4]) && is_digit((unsigned char)s[5]);
}

/* The field's first line: a pointer into m->field and its length. */
static size_t
first_line(struct mt *m, const char **p)
{
	const char	*s = buf_str(&m->field);
	const char	*nl = memchr(s, '\n', m->field.len);

	*p = s;
	return nl != NULL ? (size_t)(nl - s) : m->field.len;
}

/*
 * A balance field, :60F: :62F: :64: :65: and their M forms:
 * D/C mark, YYMMDD, currency, amount with a decimal comma.
 */
static enum stmt_rc
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

/* Calls begin() once the statement's header fields are known. */
static enum stmt_rc
mt_begin(struct mt *m)
{
	struct rec_account	a;
	const char		*id;
	size_t			 n;

	if (m->c->open)
		return STMT_OK;
	if (m->acct.len == 0)
		return fmt_reject(m->c, m->tag_line,
		    "statement %s has no :25: account identification before "
		    ":%s:", buf_str(&m->ref), m->tag);
	m->acct_locked = 1;
	/* The currency may be all the statement says about it yet. */
	if (m->c->currency[0] == '\0') {
		n = m->acct.len;
		if (n > 3 && currency_exponent(m->acct.p + n - 3) >= 0)
			fmt_copy(m->c->currency, 4, m->acct.p + n - 3);
	}
	memset(&a, 0, sizeof(a));
	id = buf_str(&m->acct);
	a.bank_id = id;
	if (fmt_is_iban(id))
		a.iban = id;
	else
		a.number = id;
	a.type = ACCT_CHECKING;
	fmt_copy(a.currency, sizeof(a.currency), m->c->currency);
	m->c->info.id = fmt_opt(&m->ref);
	m->c->info.sequence = fmt_opt(&m->seq);
	m->c->info.interim = m->interim;
	return fmt_begin(m->c, &a);
}

/* Appends s (n bytes) to b, a space between words of two pieces. */
static int
join(struct buf *b, const char *s, size_t n, int glue)
{
	if (n == 0)
		return 0;
	if (b->len > 0 && !glue && b->p[b->len - 1] != ' ' && s[0] != ' ' &&
	    buf_addc(b, ' ') == -1)
		return -1;
	return buf_add(b, s, n);
}

static const char *
kw_find(const char *s, enum role *role, size_t *len)
{
	size_t	i, k;

	/* Every keyword is three or four letters and a '+'. */
	if (s[0] == '\0' || s[1] == '\0' || s[2] == '\0' ||
	    (s[3] != '+' && (s[3] == '\0' || s[4] != '+')))
		return NULL;
	k = s[3] == '+' ? 4 : 5;
	/* Once per purpose line: the table only for what looks like one. */
	for (i = 0; i < sizeof(sepa_keywords) / sizeof(sepa_keywords[0]); i++)
		if (sepa_keywords[i].kw[0] == s[0] &&
		    sepa_keywords[i].kw[k - 1] == '+' &&
		    memcmp(s, sepa_keywords[i].kw, 4) == 0 &&	/* inlined */
		    (k == 4 || s[4] == '+')) {
			*role = sepa_keywords[i].role;
			*len = k;
			return sepa_keywords[i].kw;
		}
	return NULL;
}

static int
put_role(struct mt *m, enum role r, const char *s, size_t n, int glue)
{
	switch (r) {
	case R_POSTING:
		return join(&m->d_posting, s, n, glue);
	case R_PURPOSE:
		return join(&m->d_desc, s, n, glue);
	case R_NAME:
		return join(&m->d_name, s, n, glue);
	case R_ACCOUNT:
		buf_reset(&m->d_iban);
		return buf_add(&m->d_iban, s, n);
	case R_E2E:
		return join(&m->d_e2e, s, n, 1);
	default:
		return 0;
	}
}

/*
 * The next German subfield at or after j: the first delim followed by
 * two digits, or n.  A subfield is about 25 bytes, so the delimiter is
 * looked for 16 bytes at a time inline rather than by a memchr call.
 */
static size_t
next_subfield(const char *s, size_t n, size_t j, char delim)
{
	for (;;) {
#ifdef __SSE2__
		const __m128i	d = _mm_set1_epi8(delim);
		unsigned	bits = 0;

		while (n - j >= 16 && (bits = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)
		    (s + j)), d))) == 0)
			j += 16;
		if (bits != 0)
			j += (size_t)__builtin_ctz(bits);
		else
#endif
			while (j < n && s[j] != delim)
				j++;
		if (j >= n)
			return n;
		if (j + 2 < n && is_digit((unsigned char)s[j + 1]) &&
		    is_digit((unsigned char)s[j + 2]))
			return j;
		j++;
	}
}

/*
 * German ":86:GVC?00text?20purpose...": the three-digit business
 * transaction code, then subfields.  The purpose lines ?20-?29, ?60-?63
 * are glued without separators (they wrap at 27 characters) and split
 * again at SEPA keywords; the text after SVWZ+ is the description.
 */
static enum stmt_rc
details_gvc(struct mt *m, const char *s, size_t n)
{
	char		 delim = s[3];
	struct buf	*purpose = &m->x_purpose, *sepa_desc = &m->x_sepa;
	enum role	 cur = R_NONE;
	int		 have_kw = 0, any_svwz = 0, iban_unchecked = 0;
	size_t		 i, j;
	enum stmt_rc	 rc = STMT_OK;

	buf_reset(purpose);
	buf_reset(sepa_desc);
	buf_add(&m->d_gvc, s, 3);
	for (i = 3; i + 2 < n; i = j) {
		int		code;
		enum role	r;
		const char	*v;
		size_t		vn;

		/*
		 * s[i] is the delimiter, then two digits: gvc_form() saw
		 * the first ones, next_subfield() sees those of the others.
		 */
		code = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		j = i + 3 < n ? next_subfield(s, n, i + 3, delim) : n;
		v = s + i + 3;
		vn = j - (i + 3);
		if (m->gvc_role[code] == 0) {
			rc = fmt_warn(m->c, STMT_W_UNKNOWN_CODE, m->t_details_lines,
			    "unknown :86: subfield %c%02d ignored", delim, code);
			if (rc != STMT_OK)
				goto out;
			continue;
		}
		r = (enum role)(m->gvc_role[code] - 1);
		if (r == R_ACCOUNT) {
			buf_reset(&m->d_iban);
			if (buf_add(&m->d_iban, v, vn) == -1)
				goto toolong;
			if (!fmt_is_iban(m->d_iban.p))
				buf_reset(&m->d_iban);
			continue;
		}
		if (r != R_PURPOSE) {
			if (put_role(m, r, v, vn, r == R_NAME) == -1)
				goto toolong;
			continue;
		}
		/* The whole purpose is the description only without SVWZ+. */
		if (!any_svwz && buf_add(purpose, v, vn) == -1)
			goto toolong;
		/* SEPA keyword pieces. */
		{
			enum role	 kr;
			size_t		 kl;

			if (kw_find(v, &kr, &kl) != NULL && kl <= vn) {
				have_kw = 1;
				cur = kr;
				v += kl;
				vn -= kl;
				if (kr == R_E2E)
					buf_reset(&m->d_e2e);
				if (kr == R_ACCOUNT)
					buf_reset(&m->d_iban);
			}
			if (!have_kw)
				continue;
			if (cur == R_PURPOSE) {
				any_svwz = 1;
				if (buf_add(sepa_desc, v, vn) == -1)
					goto toolong;
			} else if (cur == R_E2E || cur == R_ACCOUNT) {
				if ((cur == R_E2E ? buf_add(&m->d_e2e, v, vn) :
				    buf_add(&m->d_iban, v, vn)) == -1)
					goto toolong;
				iban_unchecked |= cur == R_ACCOUNT;
			}
		}
	}
	if (any_svwz)
		fmt_trim(sepa_desc);
	/*
	 * The description is nothing yet (no subfield goes to it directly):
	 * the buffers (of the same limit) are swapped rather than copied.
	 */
	if (m->d_desc.len == 0) {
		struct buf	 tmp = m->d_desc;
		struct buf	*from = any_svwz ? sepa_desc : purpose;

		m->d_desc = *from;
		*from = tmp;
	} else if (buf_add(&m->d_desc, any_svwz ? buf_str(sepa_desc) :
	    buf_str(purpose), any_svwz ? sepa_desc->len : purpose->len) == -1)
		goto toolong;
	/* ?31/?38 were checked as they came; an IBAN+ piece is not yet. */
	if (iban_unchecked && m->d_iban.len > 0 && !fmt_is_iban(m->d_iban.p))
		buf_reset(&m->d_iban);
	goto out;
toolong:
	rc = fmt_reject(m->c, m->t_details_lines, ":86: text too long");
out:
	return rc;
}

static int
nl_tag_at(const char *s, size_t n, size_t i, enum role *role, size_t *len)
{
	size_t	k, t;

	if (s[i] != '/')
		return 0;
	for (k = 0; k < sizeof(nl_tags) / sizeof(nl_tags[0]); k++) {
		t = strlen(nl_tags[k].tag);
		if (i + t + 1 < n + 1 && i + 1 + t < n + 1 &&
		    strncmp(s + i + 1, nl_tags[k].tag, t) == 0 &&
		    i + 1 + t < n && s[i + 1 + t] == '/') {
			*role = nl_tags[k].role;
			*len = t + 2;
			return 1;
		}
	}
	return 0;
}

/*
 * Dutch "/TAG/value/TAG/value": a value runs to the next known tag.
 * /CNTP/ holds iban/bic/name/city separated by slashes.
 */
static enum stmt_rc
details_nl(struct mt *m, const char *s, size_t n)
{
	size_t		i = 0, j, tl, tl2;
	enum role	r, r2;

	while (i < n) {
		if (!nl_tag_at(s, n, i, &r, &tl))
			break;
		for (j = i + tl; j < n; j++)
			if (nl_tag_at(s, n, j, &r2, &tl2))
				break;
		if (r == R_CNTP) {
			const char	*p = s + i + tl, *e = s + j, *q;
			int		 part = 0;

			for (; p < e && part < 3; part++, p = q + 1) {
				if ((q = memchr(p, '/', (size_t)(e - p))) == NULL)
					q = e;
				if (part == 0 && q > p)
					put_role(m, R_ACCOUNT, p, (size_t)(q - p), 1);
				if (part == 2 && q > p &&
				    put_role(m, R_NAME, p, (size_t)(q - p), 1) == -1)
					goto toolong;
				if (q == e)
					break;
			}
		} else {
			size_t	vl = j - i - tl;

			/* The last value may end with its own '/'. */
			while (vl > 0 && s[i + tl + vl - 1] == '/')
				vl--;
			/*
			 * ING's /REMI/USTD//text/ and /REMI/STRD/CUR/ref/: the
			 * kind of remittance is no part of it.
			 */
			if (r == R_PURPOSE && vl > 6 &&
			    memcmp(s + i + tl, "USTD//", 6) == 0) {
				i += 6;
				vl -= 6;
			} else if (r == R_PURPOSE && vl > 9 &&
			    memcmp(s + i + tl, "STRD/CUR/", 9) == 0) {
				i += 9;
				vl -= 9;
			}
			if (vl > 0 &&
			    put_role(m, r, s + i + tl, vl, r == R_NAME) == -1)
				goto toolong;
		}
		i = j;
	}
	if (m->d_iban.len > 0 && !fmt_is_iban(m->d_iban.p))
		buf_reset(&m->d_iban);
	return STMT_OK;
toolong:
	return fmt_reject(m->c, m->t_details_lines, ":86: text too long");
}

/*
 * Splits the :86: lines of the pending transaction into description,
 * counterparty and references.  Lines of structured forms are glued as
 * they wrap; free text gets a space between lines.
 */
static enum stmt_rc
mt_details(struct mt *m)
{
	struct buf	*text = &m->x_text;
	const char	*s = buf_str(&m->t_details), *nl;
	int		 structured;
	enum role	 r;
	size_t		 tl, n;
	enum stmt_rc	 rc = STMT_OK;

	buf_reset(&m->d_desc);
	buf_reset(&m->d_name);
	buf_reset(&m->d_iban);
	buf_reset(&m->d_e2e);
	buf_reset(&m->d_posting);
	buf_reset(&m->d_gvc);
	if (m->t_details.len == 0)
		return STMT_OK;
	n = m->t_details.len;
	structured = gvc_form(s, n) ? 1 : nl_tag_at(s, n, 0, &r, &tl) ? 2 : 0;
	buf_reset(text);
	if (structured) {
		/*
		 * Glued as they wrap: the line ends are taken out in place
		 * (t_details is read once, here), no copy.
		 */
		char	*w = m->t_details.p, *rd = w, *e = w + n, *q;

		/* Glued as it was read: nothing to take out. */
		while (!m->t_glued &&
		    (q = memchr(rd, '\n', (size_t)(e - rd))) != NULL) {
			if (w != rd)
				memmove(w, rd, (size_t)(q - rd));
			w += q - rd;
			rd = q + 1;
		}
		if (w != rd)
			memmove(w, rd, (size_t)(e - rd));
		w += e - rd;
		*w = '\0';
		m->t_details.len = (size_t)(w - m->t_details.p);
		if (structured == 1) {
			size_t	sp = 0;

			while (m->t_details.p[sp] == ' ')
				sp++;
			rc = details_gvc(m, m->t_details.p + sp,
			    m->t_details.len - sp);
		}
		else
			rc = details_nl(m, m->t_details.p, m->t_details.len);
		goto out;
	}
	/*
	 * German code 999: the text that follows is unstructured, and the
	 * code is no part of it (":86:999PN5477SCHECK-NR...", "999 6020...").
	 */
	{
		const char	*q = s;

		while (*q == ' ')
			q++;
		if (q[0] == '9' && q[1] == '9' && q[2] == '9' &&
		    q[3] != '\0' && !is_digit((unsigned char)q[3])) {
			s = q + 3;
			while (*s == ' ')
				s++;
		}
	}
	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		{
			const char	*a = s, *e = nl;

			/* Free text: trim the padding some banks add. */
			while (e > a && e[-1] == ' ')
				e--;
			if (join(text, a, (size_t)(e - a), 0) == -1)
				goto toolong;
		}
		if (*nl == '\0')
			break;
	}
	fmt_trim(text);
	if (buf_add(&m->d_desc, buf_str(text), text->len) == -1)
		goto toolong;
	goto out;
toolong:
	rc = fmt_reject(m->c, m->t_details_lines, ":86: text too long");
out:
	fmt_trim(&m->d_desc);
	fmt_trim(&m->d_name);
	fmt_trim(&m->d_e2e);
	fmt_trim(&m->d_posting);
	if (m->d_desc.len == 0 && m->d_posting.len > 0)
		buf_add(&m->d_desc, m->d_posting.p, m->d_posting.len);
	return rc;
}

/* Passes the pending transaction on, with what its :86: said. */
static enum stmt_rc
mt_flush_txn(struct mt *m)
{
	struct stmt_txn	*t = &m->txn;
	enum stmt_rc	 rc;

	if (!m->have_txn)
		return STMT_OK;
	m->have_txn = 0;
	if ((rc = mt_details(m)) != STMT_OK)
		return rc;
	t->rec.description = fmt_opt(&m->d_desc);
	t->rec.cp_name = m->d_name.len > 0 ? m->d_name.p : fmt_opt(&m->t_name);
	t->rec.cp_iban = fmt_opt(&m->d_iban);
	if (t->rec.cp_iban == NULL && fmt_is_iban(buf_str(&m->t_supp)))
		t->rec.cp_iban = m->t_supp.p;
	/* SEPA end-to-end ids have 35 characters at most. */
	if (m->d_e2e.len > 35) {
		m->d_e2e.len = 35;
		m->d_e2e.p[35] = '\0';
		fmt_trim(&m->d_e2e);
	}
	t->rec.end_to_end_id = fmt_opt(&m->d_e2e);
	if (t->rec.end_to_end_id != NULL &&
	    strcmp(t->rec.end_to_end_id, "NOTPROVIDED") == 0)
		t->rec.end_to_end_id = NULL;
	t->rec.bank_reference = fmt_opt(&m->t_bref);
	t->rec.bank_transaction_code = m->t_code[0] ? m->t_code : NULL;
	t->purpose_code = fmt_opt(&m->d_gvc);
	if (t->rec.amount >= 0) {
		m->n_credit++;
		if (m->sum_credit < INT64_MAX - t->rec.amount)
			m->sum_credit += t->rec.amount;
	} else {
		m->n_debit++;
		if (m->sum_debit > INT64_MIN - t->rec.amount)
			m->sum_debit += t->rec.amount;
	}
	return fmt_txn(m->c, t);
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
static enum stmt_rc
mt_txn(struct mt *m)
{
	struct stmt_txn	*t = &m->txn;
	const char	*s, *p, *e, *amt, *nl;
	size_t		 n = first_line(m, &s);
	int		 vyear, em, ed, sign = 1, adj;
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
	for (amt = p; p < e && (is_digit((unsigned char)*p) || *p == ',' ||
	    *p == '.'); p++)
		;
	if (p == amt || p - amt > 15)
		return fmt_reject(m->c, m->tag_line,
		    ":61: amount missing or longer than 15 characters");
	if ((rc = fmt_amount(m->c, m->tag_line, "amount", amt, (size_t)(p - amt),
	    decimal_mark(amt, (size_t)(p - amt)), m->c->currency,
	    &t->rec.amount)) != STMT_OK)
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
static enum stmt_rc
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

/*
 * Ends the statement in progress, if any; line is its last line, where a
 * missing field is missed.
 */
static enum stmt_rc
mt_end_stmt(struct mt *m, uint64_t line)
{
	enum stmt_rc	rc;

	if (!m->in_stmt)
		return STMT_OK;
	if ((rc = mt_flush_txn(m)) != STMT_OK)
		return rc;
	if (!m->c->open && (rc = mt_begin(m)) != STMT_OK)
		return rc;
	m->in_stmt = 0;
	if (m->has_90c && (m->n90c != m->n_credit || m->s90c != m->sum_credit))
		if ((rc = fmt_warn(m->c, STMT_W_SUMS_MISMATCH, m->line_90,
		    ":90C: says %d credits, the statement has %d (or their sum "
		    "differs)", m->n90c, m->n_credit)) != STMT_OK)
			return rc;
	if (m->has_90d && (m->n90d != m->n_debit || -m->s90d != m->sum_debit))
		if ((rc = fmt_warn(m->c, STMT_W_SUMS_MISMATCH, m->line_90,
		    ":90D: says %d debits, the statement has %d (or their sum "
		    "differs)", m->n90d, m->n_debit)) != STMT_OK)
			return rc;
	if (!m->interim && !m->has_closing) {
		if (m->c->strict)
			return fmt_reject(m->c, line, "statement %s ends without "
			    "its closing balance :62F: (truncated?)",
			    buf_str(&m->ref));
		if ((rc = fmt_warn(m->c, STMT_W_MISSING_FIELD, line, "statement "
		    "%s ends without its closing balance :62F: (truncated?); "
		    "imported without it", buf_str(&m->ref))) != STMT_OK)
			return rc;
	}
	if (!m->interim && !m->has_opening && (rc = fmt_warn(m->c,
	    STMT_W_MISSING_FIELD, line, "statement %s has no opening balance "
	    ":60F:", buf_str(&m->ref))) != STMT_OK)
		return rc;
	return fmt_end(m->c, line);
}

/*
 * Tags as numbers, so that finding a field's handler is a few integer
 * compares: IS("28C") is the code of the literal, folded by the compiler.
 */
#define TAGC(a, b, c)	((uint32_t)(unsigned char)(a) | \
			 (uint32_t)(unsigned char)(b) << 8 | \
			 (uint32_t)(unsigned char)(c) << 16)
#define IS(lit)		(tc == TAGC((lit)[0], (lit)[1], \
			 sizeof(lit) > 3 ? (lit)[2] : 0))

static uint32_t
tag_code(const char *t)
{
	if (t[0] == '\0' || t[1] == '\0')
		return TAGC(t[0], 0, 0);
	return TAGC(t[0], t[1], t[2]);
}

/* A field is complete: act on it. */
static enum stmt_rc
mt_field(struct mt *m)
{
	const char	*t = m->tag, *s;
	uint32_t	 tc = tag_code(t);
	enum stmt_rc	 rc;
	size_t		 n;

	if (IS("20")) {
		if ((rc = mt_end_stmt(m, m->before_tag)) != STMT_OK)
			return rc;
		fmt_stmt_reset(m->c);
		m->in_stmt = 1;
		m->seen_20 = 1;
		m->acct_locked = 0;
		m->interim = 0;
		m->n_credit = m->n_debit = 0;
		m->sum_credit = m->sum_debit = 0;
		m->has_90c = m->has_90d = 0;
		m->has_opening = m->has_closing = 0;
		buf_reset(&m->ref);
		buf_reset(&m->seq);
		buf_reset(&m->acct);
		m->c->info.line = m->tag_line;
		/* Wrapped references are glued back. */
		for (s = buf_str(&m->field); *s; s++)
			if (*s != '\n' && buf_addc(&m->ref, *s) == -1)
				return fmt_reject(m->c, m->tag_line,
				    ":20: too long");
		fmt_trim(&m->ref);
		return STMT_OK;
	}
	if (!m->in_stmt)
		return fmt_reject(m->c, m->tag_line,
		    ":%s: before the :20: that starts a statement", t);
	if (!IS("86") && !IS("NS") &&
	    (rc = mt_flush_txn(m)) != STMT_OK)
		return rc;
	if (IS("21") || IS("NS"))
		return STMT_OK;
	if (IS("25")) {
		if (m->acct_locked || m->acct.len > 0)
			return fmt_warn(m->c, STMT_W_REPEATED_FIELD, m->tag_line,
			    "a second :25: account identification inside "
			    "statement %s was ignored", buf_str(&m->ref));
		n = first_line(m, &s);
		if (buf_add(&m->acct, s, n) == -1)
			return fmt_reject(m->c, m->tag_line, ":25: too long");
		fmt_trim(&m->acct);
		return STMT_OK;
	}
	if (IS("28") || IS("28C")) {
		n = first_line(m, &s);
		buf_reset(&m->seq);
		buf_add(&m->seq, s, n);
		fmt_trim(&m->seq);
		return STMT_OK;
	}
	if (IS("34F") || IS("13") ||
	    IS("13D")) {
		m->interim = 1;
		m->c->info.interim = 1;
		n = first_line(m, &s);
		if (t[0] == '3' && n >= 3 && is_ccy(s) && m->c->currency[0] == '\0')
			fmt_copy(m->c->currency, 4, s);
		return STMT_OK;
	}
	if (IS("90D") || IS("90C")) {
		m->interim = 1;
		m->c->info.interim = 1;
		return mt_sum(m, t[2] == 'C');
	}
	if (IS("60F") || IS("60M") ||
	    IS("60")) {
		if ((rc = mt_balance(m, BAL_OPENING_BOOKED)) != STMT_OK)
			return rc;
		m->has_opening = 1;
		return mt_begin(m);
	}
	if (IS("61")) {
		if ((rc = mt_begin(m)) != STMT_OK)
			return rc;
		return mt_txn(m);
	}
	if (IS("86")) {
		if (!m->have_txn)
			return STMT_OK;	/* information to the account owner */
		if (m->t_details.len == 0) {
			struct buf	tmp = m->t_details;

			/* The usual single :86:: taken over, not copied. */
			m->t_details_lines = (int)m->tag_line;
			m->t_details = m->field;
			m->field = tmp;
			m->t_glued = m->field_glued;
			m->t_nl = m->field_nl;
			return STMT_OK;
		}
		/* The limits as if the line ends not stored were there. */
		n = m->t_details.len + m->t_nl;
		if (n + 1 > m->t_details.max)
			return fmt_reject(m->c, m->tag_line, ":86: too long");
		if (n + 1 + m->field.len + m->field_nl > m->t_details.max ||
		    buf_addc(&m->t_details, '\n') == -1 ||
		    buf_add(&m->t_details, m->field.p, m->field.len) == -1)
			return fmt_reject(m->c, m->tag_line,
			    ":86: longer than %d bytes", STMT_TEXT_MAX);
		m->t_glued = 0;		/* now with a '\n' to take out */
		m->t_nl += m->field_nl;
		return STMT_OK;
	}
	if (IS("62F") || IS("62M") ||
	    IS("62")) {
		if ((rc = mt_begin(m)) != STMT_OK)
			return rc;
		m->has_closing = 1;
		return mt_balance(m, BAL_BOOKED);
	}
	if (IS("64"))
		return (rc = mt_begin(m)) != STMT_OK ? rc :
		    mt_balance(m, BAL_AVAILABLE);
	if (IS("65"))
		return (rc = mt_begin(m)) != STMT_OK ? rc :
		    mt_balance(m, BAL_FORWARD_AVAILABLE);
	return fmt_warn(m->c, STMT_W_UNKNOWN_FIELD, m->tag_line,
	    "unknown field :%s: ignored", t);
}

#undef IS

static enum stmt_rc
mt_close_field(struct mt *m)
{
	enum stmt_rc	rc;

	if (!m->have_field)
		return STMT_OK;
	m->have_field = 0;
	rc = mt_field(m);
	memcpy(m->last_tag, m->tag, sizeof(m->tag));
	return rc;
}

size_t
mt940_end_mark(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || s[0] != '-')
		return 0;
	for (i = 1; i < n && s[i] != '\n' && s[i] != '\r'; i++)
		if (i == 5 || (!is_upper((unsigned char)s[i]) && s[i] != '}'))
			return 0;
	return i;
}

int
mt940_opens_stmt(const char *s, size_t n)
{
	const char	*e, *b4;

	if (n >= 4 && memcmp(s, ":20:", 4) == 0)
		return 1;
	if (n == 0 || s[0] != '{')
		return 0;
	for (e = s; e < s + n && *e != '\n' && *e != '\r'; e++)
		;
	if ((b4 = memmem(s, (size_t)(e - s), "{4:", 3)) == NULL)
		return 0;
	return e - (b4 + 3) >= 4 && memcmp(b4 + 3, ":20:", 4) == 0;
}

/* "-" alone (or "-}", "-XXX"...), a whole line, ends a SWIFT message. */
static int
is_end_line(const char *s, size_t n)
{
	return n > 0 && mt940_end_mark(s, n) == n;
}

/*
 * Whether a line outside a message (before its :20:, after its "-") is
 * one banks put there: a BIC ("ABNANL2A"), a message type alone or with
 * a session ("940", "940 00", "0000 01INGBNL2AXXXX00001"), Rabobank's
 * ":940:".  Other text means the file is something else.
 */
static int
header_line(const char *s, size_t n)
{
	size_t	i, d;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	if (n == 0)
		return 1;
	if (n == 5 && s[0] == ':' && s[4] == ':' &&
	    (memcmp(s + 1, "940", 3) == 0 || memcmp(s + 1, "942", 3) == 0))
		return 1;
	for (d = 0; d < n && is_digit((unsigned char)s[d]); d++)
		;
	if (d == 3 || d == 4) {
		if (d == n)
			return 1;
		if (s[d] != ' ' || d + 1 == n)
			return 0;
		for (i = d + 1; i < n && (is_upper((unsigned char)s[i]) ||
		    is_digit((unsigned char)s[i])); i++)
			;
		return i == n;
	}
	if (n != 8 && n != 11)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_upper((unsigned char)s[i]) &&
		    (i < 6 || !is_digit((unsigned char)s[i])))
			return 0;
	return 1;
}

/*
 * A SWIFT block line: its application header {2:I940...} or {2:O940...}
 * names the message type, which must be 940 or 942.
 */
static enum stmt_rc
mt_block_type(struct mt *m, const char *s)
{
	const char	*b2 = strstr(s, "{2:");

	if (b2 == NULL || (b2[3] != 'I' && b2[3] != 'O') ||
	    !is_digit((unsigned char)b2[4]) || !is_digit((unsigned char)b2[5]) ||
	    !is_digit((unsigned char)b2[6]))
		return STMT_OK;
	if (memcmp(b2 + 4, "940", 3) == 0 || memcmp(b2 + 4, "942", 3) == 0)
		return STMT_OK;
	return fmt_reject(m->c, m->lineno, "SWIFT message type MT%.3s in the "
	    "application header is not MT940 or MT942", b2 + 4);
}

/*
 * Appends a line (n bytes at s) to the open field, as read at `line`:
 * glued to a German structured :86:, else after a line end.
 */
static enum stmt_rc
mt_add_line(struct mt *m, const char *s, size_t n, uint64_t line)
{
	if (m->field_glued) {
		if (m->field.len + m->field_nl + 1 + n > m->field.max ||
		    buf_add(&m->field, s, n) == -1)
			return fmt_reject(m->c, line, "field :%s: (from line "
			    "%llu) longer than %d bytes", m->tag,
			    (unsigned long long)m->tag_line, STMT_TEXT_MAX);
		m->field_nl++;
		return STMT_OK;
	}
	if (buf_addc(&m->field, '\n') == -1 || buf_add(&m->field, s, n) == -1)
		return fmt_reject(m->c, line, "field :%s: (from line %llu) "
		    "longer than %d bytes", m->tag,
		    (unsigned long long)m->tag_line, STMT_TEXT_MAX);
	return STMT_OK;
}

/*
 * A "-" alone may be a line of text rather than the end of the message
 * (ING wraps :86: text so): when it comes inside the :86: of a statement
 * that has not had its closing balance (or MT942 sums), which a message
 * cannot end without.  The next line decides (mt940_parse()).
 */
static int
mt_dash_may_continue(const struct mt *m)
{
	return m->have_field && !m->after_end && m->in_stmt &&
	    strcmp(m->tag, "86") == 0 && !m->has_closing && !m->has_90c &&
	    !m->has_90d;
}

/* The "-" at m->dash_line ended the message after all. */
static enum stmt_rc
mt_dash_ends(struct mt *m)
{
	enum stmt_rc	rc;

	if ((rc = mt_close_field(m)) != STMT_OK)
		return rc;
	if ((rc = mt_end_stmt(m, m->dash_line)) != STMT_OK)
		return rc;
	m->after_end = 1;
	m->dash_line = 0;
	return STMT_OK;
}

enum stmt_rc
mt940_parse(FILE *in, struct fmt_ctx *c)
{
	struct mt	*m;
	enum stmt_rc	 rc = STMT_OK;
	const char	*s;
	size_t		 n, tl;
	int		 got;
	char		 tag[4];

	if ((m = malloc(sizeof(*m))) == NULL)
		return fmt_failed(c, "out of memory");
	mt_init(m, in, c);
	m->left = UINT64_MAX;
	if (c->piece != NULL) {
		m->left = c->piece->bytes;
		m->lineno = c->piece->line0;
		if (!c->piece->first) {
			/*
			 * Right after an end-of-message line: its statement
			 * ended, and what follows is skipped up to a :20:.
			 * Whether a :20: came before only matters at the end
			 * of the file; one did if a statement began.
			 */
			m->after_end = 1;
			m->seen_20 = c->piece->index0 > 0;
		}
	}
	fmt_stmt_reset(c);
	while ((got = mt_getline(m, &rc)) == 1) {
		s = m->ls;
		n = m->ln;
		if (n == 0)
			continue;
		m->prev_line = m->last_line;
		m->last_line = m->lineno;
		tl = s[0] == ':' ? tag_len(s, tag) : 0;
		/* The line after a "-" in a :86: tells what the "-" was. */
		if (m->dash_line != 0) {
			if (s[0] == '{' || is_end_line(s, n) ||
			    (tl > 0 && strcmp(tag, "20") == 0))
				rc = mt_dash_ends(m);
			else
				rc = mt_add_line(m, "-", 1, m->dash_line);
			m->dash_line = 0;
			if (rc != STMT_OK)
				goto out;
		}
		/* SWIFT blocks: {1:...}{2:...}{4: then the fields. */
		if (s[0] == '{') {
			const char	*b4 = strstr(s, "{4:");

			if ((rc = mt_block_type(m, s)) != STMT_OK)
				goto out;
			if (b4 == NULL)
				continue;
			s = b4 + 3;
			n = strlen(s);
			if (n == 0)
				continue;
			tl = s[0] == ':' ? tag_len(s, tag) : 0;
		}
		if (is_end_line(s, n)) {
			if (n == 1 && mt_dash_may_continue(m)) {
				m->dash_line = m->lineno;
				continue;
			}
			if ((rc = mt_close_field(m)) != STMT_OK)
				goto out;
			if ((rc = mt_end_stmt(m, m->lineno)) != STMT_OK)
				goto out;
			m->after_end = 1;
			continue;
		}
		if (tl > 0 && (!m->after_end || strcmp(tag, "20") == 0)) {
			if ((rc = mt_close_field(m)) != STMT_OK)
				goto out;
			if (!m->seen_20 && strcmp(tag, "20") != 0)
				continue;	/* header noise */
			if (m->bad_line != 0) {
				rc = fmt_reject(c, m->bad_line, "\"%s\" is no "
				    "MT940 header line (SWIFT blocks, a BIC, "
				    "\"940 00\" or \":940:\" are): not an "
				    "MT940/MT942 file", m->bad_text);
				goto out;
			}
			m->after_end = 0;
			memcpy(m->tag, tag, sizeof(tag));
			m->tag_line = m->lineno;
			m->before_tag = m->prev_line;
			m->have_field = 1;
			buf_reset(&m->field);
			if (buf_add(&m->field, s + tl, n - tl) == -1) {
				rc = fmt_reject(c, m->lineno, "field too long");
				goto out;
			}
			m->field_nl = 0;
			m->field_glued = tag[0] == '8' && tag[1] == '6' &&
			    tag[2] == '\0' && gvc_form(m->field.p, m->field.len);
			continue;
		}
		if (!m->have_field || m->after_end) {
			/* Header lines before :20: or after -: banks' own. */
			if (tl == 0 && m->bad_line == 0 && !header_line(s, n)) {
				m->bad_line = m->lineno;
				snprintf(m->bad_text, sizeof(m->bad_text), "%.40s%s",
				    s, n > 40 ? "..." : "");
			}
			continue;
		}
		if ((rc = mt_add_line(m, s, n, m->lineno)) != STMT_OK)
			goto out;
	}
	if (got == -1)
		goto out;
	if (m->dash_line != 0 && (rc = mt_dash_ends(m)) != STMT_OK)
		goto out;
	if ((rc = mt_close_field(m)) != STMT_OK)
		goto out;
	if (!m->seen_20 && (c->piece == NULL || c->piece->last)) {
		rc = fmt_reject(c, m->lineno > 0 ? m->lineno : 1,
		    "no :20: field found: not an MT940/MT942 statement");
		goto out;
	}
	rc = mt_end_stmt(m, m->last_line);
out:
	if (c->piece != NULL)
		c->piece->nlines = m->lineno - c->piece->line0;
	mt_free(m);
	free(m);
	return rc;
}
