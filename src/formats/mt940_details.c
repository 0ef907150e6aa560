/*
 * mt940_details: the :86: field of MT940/MT942 in the dialects banks
 * write, each a table: the German structured form ("GVC?NN" subfields
 * and SEPA "XXXX+" keywords, also with a space before the code as Polish
 * banks write it), the Dutch "/TAG/value/" form, and free text (German
 * code 999 marks it, and is no part of it).
 */
#include "formats/mt940.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

void
mt_details_init(struct mt *m)
{
	for (size_t k = 0; k < sizeof(gvc_fields) / sizeof(gvc_fields[0]); k++)
		for (int code = gvc_fields[k].lo; code <= gvc_fields[k].hi; code++)
			m->gvc_role[code] = (unsigned char)(1 + gvc_fields[k].role);
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
		/* Not two digits (a dialect's stray delimiter): no code. */
		if (s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] < '0' ||
		    s[i + 2] > '9' || m->gvc_role[code] == 0) {
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
enum stmt_rc
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
