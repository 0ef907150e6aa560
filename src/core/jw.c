#include "core/jw.h"

#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
 * Which bytes cannot be copied into a JSON string as they are: quotes,
 * backslashes, control characters, and every byte >= 0x80 (checked as
 * UTF-8, copied when valid).  Runs of plain bytes are copied in bulk.
 */
static const unsigned char special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

int
json_escape(struct buf *b, const char *s, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run = 0, k;
	char			 esc[7];

	if (buf_reserve(b, n + 2) == -1)
		return -1;
	b->p[b->len++] = '"';
	while (i < n) {
		unsigned char c;
		const char *rep;
		size_t replen;

		while (i < n && !special[p[i]])
			i++;
		if (i == n)
			break;
		c = p[i];
		if (c >= 0x80) {
			if ((k = utf8_seq(p + i, n - i)) != 0) {
				i += k;
				continue;
			}
			rep = "\\ufffd";
			replen = 6;
		} else if (c == '"') {
			rep = "\\\"";
			replen = 2;
		} else if (c == '\\') {
			rep = "\\\\";
			replen = 2;
		} else if (c == '\n') {
			rep = "\\n";
			replen = 2;
		} else if (c == '\r') {
			rep = "\\r";
			replen = 2;
		} else if (c == '\t') {
			rep = "\\t";
			replen = 2;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			rep = esc;
			replen = 6;
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
