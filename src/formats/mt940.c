/*
 * mt940: SWIFT MT940 (customer statement) and MT942 (interim report).
 *
 * The file is read line by line (CRLF, LF or CR; each line at most
 * STMT_FIELD_MAX bytes) and each line is made UTF-8 on the way in: kept
 * when it is valid UTF-8, else read as ISO-8859-1.  A line starting with
 * ":TAG:" opens a field; the lines that follow belong to it until the
 * next field.  Before the first :20: and after a "-" end-of-message line
 * up to the next :20:, the header lines banks write (SWIFT blocks {1:..}
 * {2:..}{4:, "ABNANL2A", "940 00", ":940:") are skipped; any other text
 * rejects the file at its line once a :20: shows it is not an MT940's.
 * A "-" inside a :86: may be a line of its text (ING): the next line
 * decides.
 *
 * Fields are handled one at a time as they complete; a transaction (:61:
 * plus its :86: lines) is passed on when the next field that is not part
 * of it starts, so memory holds one field and one transaction at most.
 * This file reads lines, fields and statements; mt940_fields.c reads the
 * values of fields (dates, amounts, balances, :61:), mt940_details.c the
 * :86: in the dialects banks write, each a table.
 */
#define _GNU_SOURCE	/* memmem() */
#include "formats/mt940.h"

#include <stdlib.h>
#include <string.h>

#include "core/money.h"


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
	mt_details_init(m);
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

/*
 * Length of the ":TAG:" that starts s, or 0 (tags: 2 digits + letter,
 * NS).  Once per line: always inlined (a call costs as much as it does).
 */
static inline __attribute__((always_inline)) size_t
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
 * glued to a German structured :86:, else after a line end.  Once per
 * continuation line: always inlined.
 */
static inline __attribute__((always_inline)) enum stmt_rc
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
			/* A header line of the next message counts as one. */
			if (s[0] == '{' || is_end_line(s, n) ||
			    (tl > 0 && strcmp(tag, "20") == 0) ||
			    (tl == 0 && header_line(s, n)))
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
