/*
 * formats: the format-neutral side of statement parsing: detection, the
 * dispatch to one parser per format, and the helpers they share (sink
 * calls, balance check, amounts, dates, text encoding).
 */
#include "formats/fmt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/day.h"
#include "core/jw.h"
#include "core/money.h"

static const struct {
	const char	*name;
	const char	*human;
} formats[] = {
#define F(e, s, h) { s, h },
	STMT_FORMATS(F)
#undef F
};

static const struct {
	const char	*name;
	const char	*desc;
} warnings[] = {
#define W(e, s, d) { s, d },
	STMT_WARNINGS(W)
#undef W
};

const char *
stmt_format_name(enum stmt_format f)
{
	if ((unsigned)f >= STMT__COUNT)
		return "unknown";
	return formats[f].name;
}

const char *
stmt_format_names(const char *sep, char *out, size_t n)
{
	size_t	i, o = 0;
	int	k;

	if (n == 0)
		return out;
	out[0] = '\0';
	for (i = 0; i < STMT__COUNT; i++) {
		k = snprintf(out + o, n - o, "%s%s", i ? sep : "",
		    formats[i].name);
		if (k < 0 || (size_t)k >= n - o)
			break;
		o += (size_t)k;
	}
	return out;
}

int
stmt_format_parse(const char *s, enum stmt_format *out)
{
	size_t	i;

	for (i = 0; i < STMT__COUNT; i++)
		if (strcmp(formats[i].name, s) == 0) {
			*out = (enum stmt_format)i;
			return 0;
		}
	return -1;
}

const char *
stmt_warn_name(enum stmt_warn w)
{
	return (unsigned)w < STMT_W__COUNT ? warnings[w].name : "unknown";
}

const char *
stmt_warn_description(enum stmt_warn w)
{
	return (unsigned)w < STMT_W__COUNT ? warnings[w].desc : "";
}

/* Case-insensitive search for needle in the n bytes at hay. */
static int
has(const char *hay, size_t n, const char *needle)
{
	size_t	i, k = strlen(needle);

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* True when some line of the head starts with s. */
static int
line_starts(const char *h, size_t n, const char *s)
{
	size_t	i, k = strlen(s);

	for (i = 0; i + k <= n; i++)
		if ((i == 0 || h[i - 1] == '\n' || h[i - 1] == '\r' ||
		    h[i - 1] == '\x01') && memcmp(h + i, s, k) == 0)
			return 1;
	return 0;
}

int
stmt_detect(const char *head, size_t n, enum stmt_format *out)
{
	size_t	i = 0;

	if (n > STMT_DETECT_LEN)
		n = STMT_DETECT_LEN;
	if (zip_detect(head, n) || coda_detect(head, n) || bai2_detect(head, n)) {
		*out = zip_detect(head, n) ? STMT_ZIP : coda_detect(head, n) ?
		    STMT_CODA : STMT_BAI2;
		return 0;
	}
	/* Past a UTF-8 byte order mark and blank lines. */
	if (n >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && fmt_blank(head[i]))
		i++;
	head += i;
	n -= i;
	if (n >= 9 && strncmp(head, "OFXHEADER", 9) == 0) {
		*out = STMT_OFX;
		return 0;
	}
	if (n > 0 && head[0] == '<') {
		/* XML-ish: camt (any camt, refused later if unknown) or OFX. */
		if (has(head, n, "camt.054.001.") ||
		    has(head, n, "<BkToCstmrDbtCdtNtfctn")) {
			*out = STMT_CAMT054;
			return 0;
		}
		if (has(head, n, "urn:iso:std:iso:20022:tech:xsd:camt.") ||
		    has(head, n, "camt.053") || has(head, n, "<BkToCstmrStmt")) {
			*out = STMT_CAMT053;
			return 0;
		}
		if (has(head, n, "<OFX>") || has(head, n, "<OFX ") ||
		    has(head, n, "<?OFX")) {
			*out = STMT_OFX;
			return 0;
		}
		return -1;
	}
	if (line_starts(head, n, ":20:") || line_starts(head, n, "{1:") ||
	    line_starts(head, n, "{4:")) {
		/* An interim report: its header says 942, or it has :34F:. */
		*out = has(head, n, "{2:I942") || has(head, n, "{2:O942") ||
		    line_starts(head, n, ":34F:") ? STMT_MT942 : STMT_MT940;
		return 0;
	}
	return -1;
}

const char *
stmt_diag_str(const struct stmt_diag *d, char *out, size_t n)
{
	int	k;

	/* A ZIP member's rejection: "ZIP member "a.sta": MT940: line 5: ..." */
	if (d->member[0] != '\0' && (k = snprintf(out, n, "ZIP member \"%s\": ",
	    d->member)) > 0 && (size_t)k < n) {
		struct stmt_diag	inner = *d;

		inner.member[0] = '\0';
		stmt_diag_str(&inner, out + k, n - (size_t)k);
		return out;
	}
	if (d->line > 0)
		snprintf(out, n, "%s: line %llu: %s",
		    formats[d->format < STMT__COUNT ? d->format : 0].human,
		    (unsigned long long)d->line, d->msg);
	else
		snprintf(out, n, "%s: byte %llu: %s",
		    formats[d->format < STMT__COUNT ? d->format : 0].human,
		    (unsigned long long)d->offset, d->msg);
	return out;
}

enum stmt_rc
stmt_parse(FILE *in, enum stmt_format fmt, const struct stmt_sink *sink,
    struct stmt_diag *diag)
{
	return stmt_parse_piece(in, fmt, sink, diag, NULL);
}

enum stmt_rc
stmt_parse_piece(FILE *in, enum stmt_format fmt, const struct stmt_sink *sink,
    struct stmt_diag *diag, struct stmt_piece *piece)
{
	static const struct stmt_sink	 none;
	struct fmt_ctx			 ctx;

	memset(diag, 0, sizeof(*diag));
	diag->format = fmt;
	fmt_ctx_init(&ctx, fmt, sink != NULL ? sink : &none, diag);
	if (piece != NULL) {
		/* Only MT940 has points where a parse can start afresh. */
		if (fmt != STMT_MT940)
			return fmt_failed(&ctx, "only MT940 reads in pieces");
		ctx.piece = piece;
		ctx.index0 = piece->index0;
		piece->nlines = 0;
	}
	return fmt_dispatch(in, &ctx);
}

enum stmt_rc
fmt_dispatch(FILE *in, struct fmt_ctx *c)
{
	switch (c->fmt) {
	case STMT_CAMT053:
	case STMT_CAMT054:	/* the camt reader reads .052, .053 and .054 */
		return camt053_parse(in, c);
	case STMT_MT940:
	case STMT_MT942:	/* the MT940 reader reads both */
		return mt940_parse(in, c);
	case STMT_OFX:
		return ofx_parse(in, c);
	case STMT_CODA:
		return coda_parse(in, c);
	case STMT_BAI2:
		return bai2_parse(in, c);
	case STMT_ZIP:
		return zip_parse(in, c);
	default:
		snprintf(c->diag->msg, sizeof(c->diag->msg), "unknown format");
		return STMT_REJECTED;
	}
}

void
fmt_ctx_init(struct fmt_ctx *c, enum stmt_format fmt,
    const struct stmt_sink *sink, struct stmt_diag *diag)
{
	memset(c, 0, sizeof(*c));
	c->fmt = fmt;
	c->sink = sink;
	c->diag = diag;
	c->strict = sink->strict;
	c->info.format = fmt;
}

static enum stmt_rc
reject(struct fmt_ctx *c, uint64_t line, uint64_t off, const char *f,
    va_list ap)
{
	c->diag->line = line;
	c->diag->offset = off;
	vsnprintf(c->diag->msg, sizeof(c->diag->msg), f, ap);
	return STMT_REJECTED;
}

enum stmt_rc
fmt_reject(struct fmt_ctx *c, uint64_t line, const char *f, ...)
{
	va_list		ap;
	enum stmt_rc	rc;

	va_start(ap, f);
	rc = reject(c, line, 0, f, ap);
	va_end(ap);
	return rc;
}

enum stmt_rc
fmt_reject_at(struct fmt_ctx *c, uint64_t off, const char *f, ...)
{
	va_list		ap;
	enum stmt_rc	rc;

	va_start(ap, f);
	rc = reject(c, 0, off, f, ap);
	va_end(ap);
	return rc;
}

enum stmt_rc
fmt_failed(struct fmt_ctx *c, const char *what)
{
	snprintf(c->diag->msg, sizeof(c->diag->msg), "%s", what);
	return STMT_FAILED;
}

/* Turns a callback's answer into a status. */
static enum stmt_rc
called(struct fmt_ctx *c, int rc)
{
	if (rc == 0)
		return STMT_OK;
	c->diag->cb_rc = rc;
	snprintf(c->diag->msg, sizeof(c->diag->msg), "stopped by the caller");
	return STMT_STOPPED;
}

enum stmt_rc
fmt_warn(struct fmt_ctx *c, enum stmt_warn code, uint64_t line,
    const char *f, ...)
{
	struct stmt_warning	w;
	char			msg[STMT_MSGLEN];
	va_list			ap;

	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	c->diag->nwarnings++;
	if (c->ncalls++ < c->skip || c->sink->warning == NULL)
		return STMT_OK;
	w.format = c->fmt;
	w.code = code;
	w.line = line;
	w.message = msg;
	w.member = c->member;
	return called(c, c->sink->warning(c->sink->arg, &w));
}

void
fmt_stmt_reset(struct fmt_ctx *c)
{
	size_t	index = c->index0 + c->diag->nstatements;

	memset(&c->info, 0, sizeof(c->info));
	c->info.format = c->fmt;
	c->info.index = index;
	c->info.member = c->member;
	c->open = 0;
	c->currency[0] = '\0';
	c->nbal = 0;
	c->ntxns = 0;
	c->credits = c->debits = 0;
	c->sum_overflow = 0;
	c->warned_ccy = 0;
}

enum stmt_rc
fmt_begin(struct fmt_ctx *c, const struct rec_account *a)
{
	c->open = 1;
	c->diag->nstatements++;
	if (c->ncalls++ < c->skip || c->sink->begin == NULL)
		return STMT_OK;
	return called(c, c->sink->begin(c->sink->arg, &c->info, a));
}

enum stmt_rc
fmt_txn(struct fmt_ctx *c, const struct stmt_txn *t)
{
	int64_t	a = t->rec.amount;

	c->ntxns++;
	c->diag->ntxns++;
	/* Pending entries are not in the booked balances. */
	if (t->rec.status != TXN_BOOKED)
		;
	else if (a >= 0) {
		if (c->credits > INT64_MAX - a)
			c->sum_overflow = 1;
		else
			c->credits += a;
	} else {
		if (c->debits < INT64_MIN - a)
			c->sum_overflow = 1;
		else
			c->debits += a;
	}
	if (c->ncalls++ < c->skip || c->sink->txn == NULL)
		return STMT_OK;
	return called(c, c->sink->txn(c->sink->arg, &c->info, t));
}

enum stmt_rc
fmt_add_balance(struct fmt_ctx *c, uint64_t line, enum bal_type type,
    int64_t amount, const char *ccy, const char *date)
{
	struct rec_balance	*b;

	if (c->nbal == STMT_MAXBAL)
		return fmt_warn(c, STMT_W_NOT_IMPORTED, line,
		    "more than %d balances in one statement; %s balance ignored",
		    STMT_MAXBAL, bal_type_name(type));
	b = &c->bal[c->nbal++];
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->amount = amount;
	fmt_copy(b->currency, sizeof(b->currency), ccy);
	fmt_copy(b->date, sizeof(b->date), date);
	return STMT_OK;
}

static const struct rec_balance *
find_bal(const struct fmt_ctx *c, enum bal_type t)
{
	size_t	i;

	for (i = 0; i < c->nbal; i++)
		if (c->bal[i].type == t)
			return &c->bal[i];
	return NULL;
}

/* Money for messages: "-12.30 EUR". */
static void
show(int64_t v, const char *ccy, char *out)
{
	money_format(v, fmt_exponent(ccy), out);
}

enum stmt_rc
fmt_end(struct fmt_ctx *c, uint64_t line)
{
	const struct rec_balance	*op, *cl;
	struct stmt_summary		 s;
	char				 a[MONEY_STRLEN], b[MONEY_STRLEN];
	char				 d[MONEY_STRLEN];
	enum stmt_rc			 rc;

	for (size_t i = 0; i < c->nbal; i++)
		if (c->currency[0] != '\0' &&
		    strcmp(c->bal[i].currency, c->currency) != 0) {
			rc = fmt_warn(c, STMT_W_CURRENCY, line, "statement %s: "
			    "%s balance in %s on an account in %s",
			    c->info.id != NULL ? c->info.id : "",
			    bal_type_name(c->bal[i].type), c->bal[i].currency,
			    c->currency);
			if (rc != STMT_OK)
				return rc;
			break;
		}
	op = find_bal(c, BAL_OPENING_BOOKED);
	if (op == NULL)
		op = find_bal(c, BAL_PREVIOUSLY_CLOSED);
	cl = find_bal(c, BAL_BOOKED);
	if (op != NULL && cl != NULL && !c->sum_overflow &&
	    strcmp(op->currency, cl->currency) == 0 &&
	    (c->ntxns == 0 || c->currency[0] == '\0' ||
	    strcmp(op->currency, c->currency) == 0)) {
		/* |amounts| < 2^63 each: compute in unsigned to avoid UB. */
		int64_t	want = (int64_t)((uint64_t)op->amount +
			    (uint64_t)c->credits + (uint64_t)c->debits);

		if (want != cl->amount) {
			show(op->amount, op->currency, a);
			show(cl->amount, cl->currency, b);
			show(want, cl->currency, d);
			rc = fmt_warn(c, STMT_W_BALANCE_MISMATCH, line,
			    "statement %s: opening balance %s %s plus %zu "
			    "transactions gives %s %s, but the closing balance "
			    "is %s %s", c->info.id != NULL ? c->info.id : "",
			    a, op->currency, c->ntxns, d, cl->currency, b,
			    cl->currency);
			if (rc != STMT_OK)
				return rc;
		}
	}
	c->open = 0;
	if (c->ncalls++ < c->skip || c->sink->end == NULL)
		return STMT_OK;
	memset(&s, 0, sizeof(s));
	s.balances = c->bal;
	s.nbalances = c->nbal;
	s.ntxns = c->ntxns;
	s.sum_credits = c->credits;
	s.sum_debits = c->debits;
	return called(c, c->sink->end(c->sink->arg, &c->info, &s));
}

enum stmt_rc
fmt_account(struct fmt_ctx *c, const struct rec_account *a)
{
	if (c->ncalls++ < c->skip || c->sink->account == NULL)
		return STMT_OK;
	return called(c, c->sink->account(c->sink->arg, a));
}

/*
 * currency_exponent() with a one-entry memory per thread: a file's
 * amounts are nearly always in one currency, asked for several times per
 * transaction, and the catalog lookup is a binary search of strcmp.
 */
static int
ccy_exponent(const char *ccy)
{
	static _Thread_local char	last[4];
	static _Thread_local int	last_e;

	if (ccy == NULL || ccy[0] == '\0' || ccy[1] == '\0' ||
	    ccy[2] == '\0' || ccy[3] != '\0')
		return -1;
	if (last[0] != '\0' && memcmp(last, ccy, 4) == 0)
		return last_e;
	last_e = currency_exponent(ccy);
	memcpy(last, ccy, 4);
	return last_e;
}

int
fmt_exponent(const char *ccy)
{
	int	e = ccy_exponent(ccy);

	return e < 0 ? 2 : e;
}

enum stmt_rc
fmt_amount(struct fmt_ctx *c, uint64_t line, const char *what, const char *s,
    size_t n, char dec, const char *ccy, int64_t *out)
{
	enum money_rc	mrc;
	enum stmt_rc	rc;
	int		e = ccy_exponent(ccy);

	if (e < 0) {
		e = 2;
		if (!c->warned_ccy) {
			c->warned_ccy = 1;
			if (ccy == NULL || *ccy == '\0')
				rc = fmt_warn(c, STMT_W_CURRENCY, line,
				    "no currency given; amounts read with "
				    "2 decimals");
			else
				rc = fmt_warn(c, STMT_W_CURRENCY, line,
				    "unknown currency \"%s\"; amounts read "
				    "with 2 decimals", ccy);
			if (rc != STMT_OK)
				return rc;
		}
	}
	mrc = money_parse(s, n, dec, e, out);
	switch (mrc) {
	case MONEY_OK:
		return STMT_OK;
	case MONEY_INEXACT:
		return fmt_warn(c, STMT_W_AMOUNT_ROUNDED, line,
		    "%s %.*s has more decimals than %s allows; rounded", what,
		    (int)(n > 64 ? 64 : n), s, ccy && *ccy ? ccy : "the currency");
	case MONEY_OVERFLOW:
		return fmt_reject(c, line, "%s %.*s is too large", what,
		    (int)(n > 64 ? 64 : n), s);
	default:
		return fmt_reject(c, line, "%s \"%.*s\" is not an amount", what,
		    (int)(n > 64 ? 64 : n), s);
	}
}

static int
days_in_month(int y, int m)
{
	static const int	days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

int
fmt_date(int y, int m, int d, char out[11], int *adjusted)
{
	*adjusted = 0;
	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	if (d > days_in_month(y, m)) {
		d = days_in_month(y, m);
		*adjusted = 1;
	}
	ymd_format(y, m, d, out);
	return 0;
}

static int
digits(const char *s, size_t n)
{
	int	v = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
fmt_iso_date(const char *s, size_t n, char out[11], int *adjusted)
{
	int	y, m, d;

	*adjusted = 0;
	if (n < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (n > 10 && s[10] != 'T' && s[10] != ' ' && s[10] != 'Z' &&
	    s[10] != '+' && s[10] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0)
		return -1;
	return fmt_date(y, m, d, out, adjusted);
}

/*
 * Eight bytes at a time (the bit tricks of json_safe_prefix): does the
 * word hold a byte outside 0x20-0x7e, or (high_only) above 0x7f?
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

static int
word_not_plain(uint64_t v)
{
	uint64_t	lt = (v - ONES * 0x20) & ~v;
	uint64_t	del = v ^ (ONES * 0x7f);

	del = (del - ONES) & ~del;
	return ((lt | del | v) & HIGHS) != 0;
}

#ifdef __SSE2__
/* Bit i set when byte i of the 16 at p is not printable ASCII. */
static unsigned
not_plain16(const unsigned char *p)
{
	__m128i	x = _mm_loadu_si128((const __m128i *)(const void *)p);

	/* As signed bytes, < 0x20 takes in the bytes past 0x7f too. */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
}
#endif

size_t
fmt_plain_prefix(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0;
	uint64_t		 v;

#ifdef __SSE2__
	/* 16 at a time, the last 16 overlapping (as in json_safe_prefix). */
	if (n >= 16) {
		unsigned	m;

		for (; i + 16 <= n; i += 16)
			if ((m = not_plain16(p + i)) != 0)
				return i + (size_t)__builtin_ctz(m);
		if (i < n && (m = not_plain16(p + n - 16)) != 0)
			return n - 16 + (size_t)__builtin_ctz(m);
		return n;
	}
#endif
	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		if (word_not_plain(v))
			break;
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	return i;
}

int
fmt_utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;
	uint64_t		 v;

	while (i < n) {
		/* ASCII, the bulk of any statement, a word at a time. */
		for (; i + 8 <= n; i += 8) {
			memcpy(&v, p + i, 8);
			if ((v & HIGHS) != 0)
				break;
		}
		if (i >= n)
			break;
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/*
 * Most text is plain printable ASCII: checked a word at a time and
 * appended in one piece.  Else piece by piece; whether the bytes past
 * 0x7f are UTF-8 is decided once, from the first of them on (what comes
 * before is ASCII, valid either way).
 */
int
fmt_text(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	int			 utf8 = -1;
	size_t			 i, k;

	if ((k = fmt_plain_prefix(s, n)) == n)
		return buf_add(b, s, n);
	for (i = 0; i < n; ) {
		if (p[i] == '\t') {
			if (buf_addc(b, ' ') == -1)
				return -1;
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			i++;
		} else if (p[i] < 0x80) {
			/* A run of printable ASCII in one append. */
			k = fmt_plain_prefix(s + i, n - i);
			if (buf_add(b, p + i, k) == -1)
				return -1;
			i += k;
		} else {
			if (utf8 == -1)
				utf8 = fmt_utf8_valid(s + i, n - i);
			if (utf8) {
				k = utf8_seq(p + i, n - i);
				if (buf_add(b, p + i, k) == -1)
					return -1;
				i += k;
			} else {
				char	u[2];

				u[0] = (char)(0xc0 | (p[i] >> 6));
				u[1] = (char)(0x80 | (p[i] & 0x3f));
				if (buf_add(b, u, 2) == -1)
					return -1;
				i++;
			}
		}
	}
	return 0;
}

void
fmt_trim_slow(struct buf *b)
{
	size_t	s = 0, e;

	if (b->p == NULL)
		return;
	e = b->len;
	while (e > 0 && fmt_blank(b->p[e - 1]))
		e--;
	while (s < e && fmt_blank(b->p[s]))
		s++;
	if (s > 0)
		memmove(b->p, b->p + s, e - s);
	b->len = e - s;
	b->p[b->len] = '\0';
}

void
fmt_copy(char *out, size_t n, const char *s)
{
	size_t	k;

	if (n == 0)
		return;
	if (s == NULL)
		s = "";
	k = strlen(s);
	if (k >= n)
		k = n - 1;
	memcpy(out, s, k);
	out[k] = '\0';
}

const char *
fmt_opt(const struct buf *b)
{
	return (b->len == 0) ? NULL : b->p;
}

#define R6(c)	[c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1, \
		[c + 5] = 1
#define R10(c)	R6(c), [c + 6] = 1, [c + 7] = 1, [c + 8] = 1, [c + 9] = 1
/* ASCII letters and digits (0-9, A-J K-T U-Z), as isalnum() in C. */
static const unsigned char iban_char[256] = {
	R10('0'), R10('A'), R10('K'), R6('U'), R10('a'), R10('k'), R6('u')
};
#undef R6
#undef R10

/* Two letters, two digits, then 11 to 30 letters or digits. */
int
fmt_is_iban(const char *s)
{
	size_t	n, i;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n < 15 || n > 34)
		return 0;
	if (!isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]))
		return 0;
	/* Asked several times per transaction: a table, not isalnum(). */
	for (i = 4; i < n; i++)
		if (!iban_char[(unsigned char)s[i]])
			return 0;
	return 1;
}
