#include "core/jw.h"

#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void
jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->first[0] = 1;
}

int
jw_finish(struct jw *w)
{
	return (w->err || w->depth != 0) ? -1 : 0;
}

static void
put(struct jw *w, const char *s, size_t n)
{
	if (!w->err && buf_add(w->b, s, n) == -1)
		w->err = 1;
}

/* Writes the comma that separates this value from the previous one. */
static void
sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = 0;
}

static void
open(struct jw *w, char c)
{
	sep(w);
	put(w, &c, 1);
	if (w->depth + 1 >= JW_MAXDEPTH) {
		w->err = 1;
		return;
	}
	w->first[++w->depth] = 1;
}

static void
close_(struct jw *w, char c)
{
	if (w->depth == 0) {
		w->err = 1;
		return;
	}
	w->depth--;
	put(w, &c, 1);
}

void jw_obj(struct jw *w) { open(w, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr(struct jw *w) { open(w, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0];
	size_t		len, i;
	uint32_t	cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Length of the run at the start of s (n bytes) that JSON takes as it is:
 * printable ASCII other than '"' and '\\'.  Looks at 8 bytes at a time
 * (the usual bit tricks: a byte below 0x20, equal to '"' or '\\', or with
 * its high bit set marks the word), since most text needs no escape and
 * this scan is the hot loop of every JSON response.
 */
#ifdef __SSE2__
/* Bit i set when byte i of v (or of the 16 at s) needs an escape. */
static inline unsigned
unsafe_v(__m128i v)
{
	/* As signed bytes, control characters and bytes past 0x7f are < 0x20. */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
}

static unsigned
unsafe16(const char *s)
{
	return unsafe_v(_mm_loadu_si128((const __m128i *)(const void *)s));
}
#endif

/*
 * Non-zero when one of the 8 bytes of v needs an escape.  A borrow can
 * only mark bytes above one that truly does, so "any" is exact.
 */
static inline uint64_t
unsafe64(uint64_t v)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	const uint64_t	 highs = 0x8080808080808080ULL;
	uint64_t	 lt, q, bs;

	lt = (v - ones * 0x20) & ~v;
	q = v ^ (ones * '"');
	q = (q - ones) & ~q;
	bs = v ^ (ones * '\\');
	bs = (bs - ones) & ~bs;
	return (lt | q | bs | v) & highs;
}

/* Whether one of the 8 bytes of a needs an escape: one compare with SSE2. */
static inline int
unsafe_word(uint64_t a)
{
#ifdef __SSE2__
	return (unsafe_v(_mm_set_epi64x(0, (long long)a)) & 0xff) != 0;
#else
	return unsafe64(a) != 0;
#endif
}

size_t
json_safe_prefix(const char *s, size_t n)
{
	size_t		 i = 0;
	unsigned char	 c;

#ifdef __SSE2__
	/*
	 * 16 bytes at a time where SSE2 is (every x86-64); the last 16 are
	 * read again overlapping what was checked, rather than byte by byte.
	 */
	if (n >= 16) {
		unsigned	m;

		for (; i + 16 <= n; i += 16)
			if ((m = unsafe16(s + i)) != 0)
				return i + (size_t)__builtin_ctz(m);
		if (i < n && (m = unsafe16(s + n - 16)) != 0)
			return n - 16 + (size_t)__builtin_ctz(m);
		return n;
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t	v;

		memcpy(&v, s + i, 8);
		if (unsafe64(v) != 0)
			break;
	}
	for (; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			break;
	}
	return i;
}

/*
 * The byte at p (n > 0 left) is not in a safe run: either it starts a
 * valid UTF-8 sequence, kept as it is (returns its length, *rep NULL), or
 * it is written as *rep (*replen bytes, esc as room) and 1 is returned.
 */
static size_t
escape_one(const unsigned char *p, size_t n, const char **rep,
    size_t *replen, char esc[7])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		c = p[0];
	size_t			k;

	*rep = NULL;
	*replen = 0;
	if (c >= 0x80) {
		if ((k = utf8_seq(p, n)) != 0)
			return k;
		*rep = "\\ufffd";
		*replen = 6;
	} else if (c == '"') {
		*rep = "\\\"";
		*replen = 2;
	} else if (c == '\\') {
		*rep = "\\\\";
		*replen = 2;
	} else if (c == '\n') {
		*rep = "\\n";
		*replen = 2;
	} else if (c == '\r') {
		*rep = "\\r";
		*replen = 2;
	} else if (c == '\t') {
		*rep = "\\t";
		*replen = 2;
	} else {
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		*rep = esc;
		*replen = 6;
	}
	return 1;
}

int
json_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run = 0, k, replen;
	const char		*rep;
	char			 esc[7];

	if (buf_reserve(b, n + 2) == -1)
		return -1;
	b->p[b->len++] = '"';
	while (i < n) {
		i += json_safe_prefix(s + i, n - i);
		if (i == n)
			break;
		k = escape_one(p + i, n - i, &rep, &replen, esc);
		if (rep == NULL) {
			i += k;
			continue;
		}
		if (buf_add(b, s + run, i - run) == -1 ||
		    buf_add(b, rep, replen) == -1)
			return -1;
		i++;
		run = i;
	}
	if (buf_add(b, s + run, i - run) == -1)
		return -1;
	return buf_addc(b, '"');
}

/*
 * The usual string needs no escape at all: copied with a few fixed-size
 * moves (overlapping at its end rather than byte by byte) while checked.
 * Returns the bytes written, quotes included, or 0 when s has a byte to
 * escape (out then holds garbage past its quote; the slow path rewrites).
 */
static size_t
escape_plain(char *out, const char *s, size_t n)
{
	uint64_t	a, b;
	uint32_t	x, y;
	size_t		i;

	if (n >= 16) {
#ifdef __SSE2__
		for (i = 0; n - i >= 16; i += 16) {
			_mm_storeu_si128((__m128i *)(void *)(out + 1 + i),
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (s + i)));
			if (unsafe16(s + i) != 0)
				return 0;
		}
		if (i < n) {
			if (unsafe16(s + n - 16) != 0)
				return 0;
			_mm_storeu_si128((__m128i *)(void *)(out + 1 + n - 16),
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (s + n - 16)));
		}
#else
		if (json_safe_prefix(s, n) != n)
			return 0;
		memcpy(out + 1, s, n);
#endif
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
#ifdef __SSE2__
		/* Both words checked at once, as one block. */
		if (unsafe_v(_mm_set_epi64x((long long)b, (long long)a)) != 0)
			return 0;
#else
		if (unsafe64(a) != 0 || unsafe64(b) != 0)
			return 0;
#endif
		memcpy(out + 1, &a, 8);
		memcpy(out + 1 + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		a = (uint64_t)x | (uint64_t)y << 32;
		if (unsafe_word(a))
			return 0;
		memcpy(out + 1, &x, 4);
		memcpy(out + 1 + n - 4, &y, 4);
	} else if (n > 0) {
		/* 1 to 3 bytes: first, middle and last, the rest padded 'A'. */
		a = 0x4141414141000000ULL | (unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (uint64_t)(unsigned char)s[n - 1] << 16;
		if (unsafe_word(a))
			return 0;
		out[1] = s[0];
		out[1 + n / 2] = s[n / 2];
		out[n] = s[n - 1];
	}
	out[0] = '"';
	out[n + 1] = '"';
	return n + 2;
}

/* json_escape_to() for a string with something to escape. */
static size_t __attribute__((noinline))
escape_to_slow(char *out, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, k, replen;
	const char		*rep;
	char			 esc[7];

	out[o++] = '"';
	while (i < n) {
#ifdef __SSE2__
		/*
		 * Copy and check in one pass, 16 bytes at a time: out has
		 * room for 6 bytes per byte, so a whole block can be stored
		 * before knowing how much of it is safe.  Short strings (most
		 * of a statement's: dates, codes, amounts) go through a
		 * zero-padded block, their padding masked off.
		 */
		unsigned	m;

		if (n - i >= 16) {
			_mm_storeu_si128((__m128i *)(void *)(out + o),
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (s + i)));
			if ((m = unsafe16(s + i)) == 0) {
				i += 16;
				o += 16;
				continue;
			}
			k = (size_t)__builtin_ctz(m);
		} else if (n - i >= 3) {
			char	blk[16] = { 0 };

			k = n - i;
			/* k is 3 to 15: two fixed-size, overlapping copies. */
			if (k >= 8) {
				memcpy(blk, s + i, 8);
				memcpy(blk + k - 8, s + i + k - 8, 8);
			} else if (k >= 4) {
				memcpy(blk, s + i, 4);
				memcpy(blk + k - 4, s + i + k - 4, 4);
			} else
				memcpy(blk, s + i, 3);
			_mm_storeu_si128((__m128i *)(void *)(out + o),
			    _mm_loadu_si128((const __m128i *)(const void *)blk));
			if ((m = unsafe16(blk) & ((1u << k) - 1)) == 0) {
				i += k;
				o += k;
				break;
			}
			k = (size_t)__builtin_ctz(m);
		} else {
			k = json_safe_prefix(s + i, n - i);
			memcpy(out + o, s + i, k);
		}
#else
		k = json_safe_prefix(s + i, n - i);
		memcpy(out + o, s + i, k);
#endif
		o += k;
		i += k;
		if (i == n)
			break;
		k = escape_one(p + i, n - i, &rep, &replen, esc);
		if (rep == NULL) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		memcpy(out + o, rep, replen);
		o += replen;
		i++;
	}
	out[o++] = '"';
	return o;
}

size_t
json_escape_to(char *out, const char *s, size_t n)
{
	size_t	k;

	/* Kept small: most calls end here, with nothing to escape. */
	if ((k = escape_plain(out, s, n)) != 0)
		return k;
	return escape_to_slow(out, s, n);
}

/*
 * Keys are string literals of bankfeed's own code: plain ASCII that needs
 * no escaping, so they are copied as they are.
 */
void
jw_key(struct jw *w, const char *k)
{
	size_t	n = strlen(k);

	sep(w);
	if (!w->err && (buf_addc(w->b, '"') == -1 || buf_add(w->b, k, n) == -1 ||
	    buf_add(w->b, "\":", 2) == -1))
		w->err = 1;
	w->after_key = 1;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	if (!w->err && json_escape(w->b, s, n) == -1)
		w->err = 1;
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, int64_t v)
{
	char	tmp[24];
	int	n;

	sep(w);
	n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	put(w, tmp, (size_t)n);
}

void
jw_bool(struct jw *w, int v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jw_null(struct jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{
	sep(w);
	put(w, s, n);
}

void jw_kstr(struct jw *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
void jw_kint(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kbool(struct jw *w, const char *k, int v) { jw_key(w, k); jw_bool(w, v); }
void jw_knull(struct jw *w, const char *k) { jw_key(w, k); jw_null(w); }

void
jw_ktime(struct jw *w, const char *k, long long secs)
{
	char	ts[32];

	jw_key(w, k);
	if (secs < 0) {
		jw_null(w);
		return;
	}
	time_rfc3339(secs, ts, sizeof(ts));
	jw_str(w, ts);
}
