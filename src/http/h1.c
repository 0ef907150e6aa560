/*
 * h1: HTTP/1.1 request heads and the chunked coding (RFC 9112), strictly.
 * See h1.h for what is refused and why.
 */
#include "http/h1.h"

#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 5.6.2: the bytes of methods and field names. */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed inside a field value: VCHAR, obs-text, SP and HTAB. */
static int
is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
tok_is(const char *s, size_t n, const char *t)
{
	return strlen(t) == n && strncasecmp(s, t, n) == 0;
}

/* Whether the n bytes of s hold a list of element t (comma-separated). */
static int
list_has(const char *s, size_t n, const char *t)
{
	size_t	i = 0;

	while (i < n) {
		size_t	b, e;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		b = i;
		while (i < n && s[i] != ',')
			i++;
		e = i;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e > b && tok_is(s + b, e - b, t))
			return 1;
	}
	return 0;
}

/*
 * Content-Length: 1*DIGIT, or a list of equal ones ("5, 5", which RFC 9112
 * 6.3 lets a recipient take as one).  0, or -1 when not a length.
 */
static int
parse_length(const char *s, size_t n, uint64_t *out)
{
	size_t		i = 0;
	int		have = 0;
	uint64_t	v, first = 0;

	while (i < n) {
		size_t	d = 0;

		v = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			unsigned digit = (unsigned)(s[i] - '0');

			v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX :
			    v * 10 + digit;
			i++;
			d++;
		}
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (d == 0 || (i < n && s[i] != ','))
			return -1;
		if (have && v != first)
			return -1;
		first = v;
		have = 1;
		if (i < n)
			i++;		/* the comma */
		if (i == n && s[n - 1] == ',')
			return -1;
	}
	if (!have)
		return -1;
	*out = first;
	return 0;
}

/*
 * The line starting at p[i]: *e is set to the index of its CR.  1 when the
 * line is whole, 0 when its LF has not come yet, -1 when an LF comes
 * without a CR before it.
 */
static int
next_line(const char *p, size_t len, size_t i, size_t *e)
{
	const char	*lf = memchr(p + i, '\n', len - i);
	size_t		 at;

	if (lf == NULL)
		return 0;
	at = (size_t)(lf - p);
	if (at == i || p[at - 1] != '\r')
		return -1;
	*e = at - 1;
	return 1;
}

/* The request line p[0..n) (no CRLF).  H1_OK or an error with *why. */
static enum h1_status
request_line(const char *p, size_t n, struct h1_head *h, const char **why)
{
	size_t	i = 0, t;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ') {
		*why = "The request line must be METHOD SP target SP HTTP/1.1.";
		return H1_BAD;
	}
	h->method = p;
	h->mlen = i++;
	t = i;
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ') {
		*why = "The request target must be visible ASCII without spaces.";
		return H1_BAD;
	}
	h->target = p + t;
	h->tlen = i - t;
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' ||
	    p[i + 7] < '0' || p[i + 7] > '9') {
		*why = "The request line must end in HTTP/1.1 or HTTP/1.0.";
		return H1_BAD;
	}
	if (p[i + 5] != '1') {
		*why = "Only HTTP/1.1 and HTTP/1.0 are served.";
		return H1_VERSION;
	}
	h->minor = p[i + 7] == '0' ? 0 : 1;
	return H1_OK;
}

/* One field line p[0..n) (no CRLF) into h.  H1_OK or an error. */
static enum h1_status
field_line(const char *p, size_t n, struct h1_head *h, const char **why)
{
	size_t		 i = 0, b, e;
	struct h1_field	*f;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		*why = "Obsolete line folding is not accepted (RFC 9112 5.2).";
		return H1_BAD;
	}
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':') {
		*why = i > 0 && i < n && (p[i] == ' ' || p[i] == '\t') ?
		    "White space between a field name and its colon is not "
		    "accepted (RFC 9112 5.1)." :
		    "A header line must be name: value.";
		return H1_BAD;
	}
	if (h->nf >= H1_MAX_HEADERS) {
		*why = "Too many header fields.";
		return H1_HEAD_TOO_LARGE;
	}
	f = &h->f[h->nf++];
	f->name = p;
	f->nlen = i;
	for (b = i + 1; b < n && (p[b] == ' ' || p[b] == '\t'); b++)
		;
	for (e = n; e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	for (i = b; i < e; i++)
		if (!is_vbyte((unsigned char)p[i])) {
			*why = "A header value holds a control byte.";
			return H1_BAD;
		}
	f->value = p + b;
	f->vlen = e - b;
	return H1_OK;
}

/* The framing the fields ask for (RFC 9112 6).  H1_OK or an error. */
static enum h1_status
framing(struct h1_head *h, const char **why)
{
	size_t		 i, hosts = 0, te = 0;
	uint64_t	 v;
	int		 keep_alive = 0;

	for (i = 0; i < h->nf; i++) {
		const struct h1_field *f = &h->f[i];

		if (tok_is(f->name, f->nlen, "Content-Length")) {
			if (parse_length(f->value, f->vlen, &v) == -1 ||
			    (h->has_length && v != h->length)) {
				*why = h->has_length ? "Two Content-Length "
				    "headers differ." : "Content-Length must be "
				    "a number of bytes.";
				return H1_BAD;
			}
			h->has_length = 1;
			h->length = v;
		} else if (tok_is(f->name, f->nlen, "Transfer-Encoding")) {
			te++;
			if (!tok_is(f->value, f->vlen, "chunked")) {
				*why = "Transfer-Encoding: only chunked is "
				    "implemented.";
				return f->vlen == 0 ? H1_BAD : H1_NOT_IMPLEMENTED;
			}
		} else if (tok_is(f->name, f->nlen, "Host"))
			hosts++;
		else if (tok_is(f->name, f->nlen, "Connection")) {
			if (list_has(f->value, f->vlen, "close"))
				h->close = 1;
			if (list_has(f->value, f->vlen, "keep-alive"))
				keep_alive = 1;
		} else if (tok_is(f->name, f->nlen, "Expect") &&
		    tok_is(f->value, f->vlen, "100-continue"))
			h->expect_continue = h->minor >= 1;
	}
	if (te > 0 && h->has_length) {
		*why = "Content-Length together with Transfer-Encoding is not "
		    "accepted (RFC 9112 6.1).";
		return H1_BAD;
	}
	if (te > 1 || (te == 1 && h->minor == 0)) {
		*why = te > 1 ? "More than one Transfer-Encoding header." :
		    "Transfer-Encoding is not HTTP/1.0.";
		return H1_BAD;
	}
	if (h->minor >= 1 && hosts != 1) {
		*why = "An HTTP/1.1 request has exactly one Host header.";
		return H1_BAD;
	}
	h->chunked = te == 1;
	if (h->minor == 0 && !keep_alive)
		h->close = 1;
	return H1_OK;
}

enum h1_status
h1_parse_head(const char *p, size_t len, size_t max_head, size_t max_line,
    struct h1_head *h, const char **why)
{
	size_t		 i = 0, e = 0, k;
	enum h1_status	 st;
	int		 whole;

	memset(h, 0, sizeof(*h));
	*why = "";
	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	while (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n' && i < 64)
		i += 2;
	whole = next_line(p, len, i, &e);
	if (whole == -1) {
		*why = "Lines end in CR LF; a bare LF is not accepted.";
		return H1_BAD;
	}
	if (whole == 0) {
		if (len - i > max_line) {
			*why = "The request line is longer than this server "
			    "accepts.";
			return H1_URI_TOO_LONG;
		}
		/* Refuse early what cannot become a request line. */
		for (k = i; k < len; k++)
			if ((unsigned char)p[k] < 0x20 && !(p[k] == '\r' &&
			    k + 1 == len)) {
				*why = "The request line holds a control byte.";
				return H1_BAD;
			}
		return H1_INCOMPLETE;
	}
	if (e - i > max_line) {
		*why = "The request line is longer than this server accepts.";
		return H1_URI_TOO_LONG;
	}
	if ((st = request_line(p + i, e - i, h, why)) != H1_OK)
		return st;
	i = e + 2;
	for (;;) {
		whole = next_line(p, len, i, &e);
		if (whole == -1) {
			*why = "Lines end in CR LF; a bare LF is not accepted.";
			return H1_BAD;
		}
		if (whole == 0 ? len > max_head : e + 2 > max_head) {
			*why = "The request's headers are larger than this "
			    "server accepts.";
			return H1_HEAD_TOO_LARGE;
		}
		if (whole == 0)
			return H1_INCOMPLETE;
		if (memchr(p + i, '\r', e - i) != NULL) {
			*why = "A bare CR is not accepted.";
			return H1_BAD;
		}
		if (e == i)
			break;
		if ((st = field_line(p + i, e - i, h, why)) != H1_OK)
			return st;
		i = e + 2;
	}
	h->len = e + 2;
	return framing(h, why);
}

const struct h1_field *
h1_field(const struct h1_head *h, const char *name)
{
	size_t	i;

	for (i = 0; i < h->nf; i++)
		if (tok_is(h->f[i].name, h->f[i].nlen, name))
			return &h->f[i];
	return NULL;
}

/* ---- chunked ---- */

enum {
	CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER, CH_TRAILER_LF, CH_LINE, CH_LINE_LF
};

/* Extensions and trailers are read and dropped, up to this many bytes. */
#define CH_EXTRA_MAX	8192

void
h1_chunked_init(struct h1_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

int
h1_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
h1_chunked_feed(struct h1_chunked *c, const char *in, size_t len,
    size_t *used, struct buf *out, const char **why)
{
	size_t	i = 0;
	int	v;

	*why = "";
	while (i < len && !c->done) {
		char	ch = in[i];

		switch (c->state) {
		case CH_SIZE:
			if ((v = h1_hexval(ch)) >= 0) {
				if (++c->digits > 15) {
					*why = "A chunk size is too long.";
					goto bad;
				}
				c->left = c->left * 16 + (uint64_t)v;
			} else if (c->digits == 0) {
				*why = "A chunk must start with its size in hex.";
				goto bad;
			} else if (ch == ';' || ch == ' ' || ch == '\t')
				c->state = CH_EXT;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else {
				*why = "A chunk size must be hex digits.";
				goto bad;
			}
			i++;
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == '\n' || ++c->extra > CH_EXTRA_MAX) {
				*why = "A chunk extension is malformed or too long.";
				goto bad;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n') {
				*why = "A chunk size line must end in CR LF.";
				goto bad;
			}
			i++;
			c->digits = 0;
			c->state = c->left == 0 ? CH_TRAILER : CH_DATA;
			break;
		case CH_DATA: {
			size_t	n = len - i;

			if ((uint64_t)n > c->left)
				n = (size_t)c->left;
			if (buf_add(out, in + i, n) == -1) {
				*used = i;
				*why = "The body is larger than this server accepts.";
				return -2;
			}
			i += n;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
		case CH_DATA_LF:
			if (ch != (c->state == CH_DATA_CR ? '\r' : '\n')) {
				*why = "A chunk's data must end in CR LF.";
				goto bad;
			}
			i++;
			c->state = c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
			break;
		case CH_TRAILER:
			/* The start of a line after the last chunk. */
			if (ch == '\r') {
				c->state = CH_TRAILER_LF;
				i++;
			} else
				c->state = CH_LINE;
			break;
		case CH_TRAILER_LF:
			if (ch != '\n') {
				*why = "The chunked body must end in CR LF.";
				goto bad;
			}
			i++;
			c->done = 1;
			break;
		case CH_LINE:
			/* A trailer field: read and dropped. */
			if (ch == '\r')
				c->state = CH_LINE_LF;
			else if (ch == '\n' || ++c->extra > CH_EXTRA_MAX) {
				*why = "The trailer is malformed or too long.";
				goto bad;
			}
			i++;
			break;
		case CH_LINE_LF:
			if (ch != '\n') {
				*why = "A trailer line must end in CR LF.";
				goto bad;
			}
			i++;
			c->state = CH_TRAILER;
			break;
		}
	}
	*used = i;
	return 0;
bad:
	*used = i;
	return -1;
}

const char *
h1_reason(int status)
{
	static const struct { int code; const char *text; } reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" }, { 204, "No Content" },
		{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 410, "Gone" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" }, { 423, "Locked" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	size_t	i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "";
}
