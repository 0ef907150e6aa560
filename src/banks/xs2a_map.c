/*
 * xs2a_map: what an XS2A bank's failures become in the catalog (the table
 * of xs2a_codes.def; tppMessages or RFC 7807 bodies, else the status), its
 * JSON bodies read, and its links checked.  The records are in
 * xs2a_records.c.  Nothing here does I/O.
 */
#include "banks/xs2a_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* ---- the table (xs2a_codes.def): faults; the rest in xs2a_codes.c ---- */

enum fault { FAULT_UNREACHABLE, FAULT_TLS, FAULT_UNUSABLE };

static const struct fault_row {
	const char	*name;
	enum err	 at[3];
} fault_rows[] = {
#define F(n, w, l, s, f) { n, { ERR_##l, ERR_##s, ERR_##f } },
#include "banks/xs2a_codes.def"
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(NELEM(fault_rows) == 3, "xs2a_codes.def: F rows are "
    "unreachable, tls, unusable, in that order");

/* An account's own requests fail as the fetch does. */
static enum err
fault_entry(enum fault f, enum xs2a_stage st)
{
	return fault_rows[f].at[st == XS_ACCOUNT ? XS_FETCH : st];
}

void
xs2a_invalid(struct bank_error *err, const char *fmt, ...)
{
	va_list	ap;

	err->code = ERR_BANK_RESPONSE_INVALID;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void
xs2a_map_fault(const struct xs2a_resp *r, enum xs2a_stage st,
    struct bank_error *err)
{
	if (r->too_big) {
		bank_error_set(err, fault_entry(FAULT_UNUSABLE, st),
		    "The bank's answer is larger than %u MiB; nothing of it "
		    "was used.", XS2A_BODY_MAX >> 20);
		return;
	}
	if (xs2a_cc_tls(r->cc)) {
		bank_error_set(err, fault_entry(FAULT_TLS, st),
		    "TLS with the bank failed: %s", r->errbuf);
		return;
	}
	bank_error_set(err, fault_entry(FAULT_UNREACHABLE, st),
	    "The bank could not be reached: %s", r->errbuf);
}

int
xs2a_jstr(json_t *o, const char *key, const char **out, size_t max)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 1;
}

static int
is_json_type(const char *ctype)
{
	size_t	n = strcspn(ctype, ";");

	while (n > 0 && ctype[n - 1] == ' ')
		n--;
	return (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) ||
	    (n > 5 && strncasecmp(ctype + n - 5, "+json", 5) == 0);
}

json_t *
xs2a_json_body(const struct xs2a_resp *r, struct bank_error *err)
{
	json_error_t	 e;
	json_t		*j;
	size_t		 i = 0;

	while (i < r->len && isspace((unsigned char)r->body[i]))
		i++;
	if (r->ctype[0] != '\0' && !is_json_type(r->ctype) &&
	    (i == r->len || r->body[i] != '{')) {
		xs2a_invalid(err, "The bank's answer is not JSON (%.80s).",
		    r->ctype);
		return NULL;
	}
	if ((j = json_loadb(r->body, r->len, 0, &e)) == NULL) {
		xs2a_invalid(err, "The bank's answer is not valid JSON: %.200s "
		    "(line %d).", e.text, e.line);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		xs2a_invalid(err, "The bank's answer is not a JSON object.");
		return NULL;
	}
	return j;
}

/*
 * The code, path and text of an error body: NextGenPSD2 tppMessages (the
 * first of category ERROR whose code is known, else the first), or RFC
 * 7807 (application/problem+json: code, detail or title,
 * additionalErrors).
 */
static void
error_message(json_t *j, const char **code, const char **path,
    const char **text)
{
	json_t		*msgs = json_object_get(j, "tppMessages"), *m;
	const char	*c, *t, *p, *cat;
	size_t		 i;

	*code = *path = *text = NULL;
	if (!json_is_array(msgs))
		msgs = json_object_get(j, "additionalErrors");
	json_array_foreach(msgs, i, m) {
		if (xs2a_jstr(m, "code", &c, 128) != 1)
			continue;
		if (xs2a_jstr(m, "text", &t, 500) != 1 &&
		    xs2a_jstr(m, "detail", &t, 500) != 1 &&
		    xs2a_jstr(m, "title", &t, 500) != 1)
			t = NULL;
		if (xs2a_jstr(m, "path", &p, 256) != 1)
			p = NULL;
		if (xs2a_jstr(m, "category", &cat, 16) == 1 &&
		    strcmp(cat, "ERROR") != 0)
			continue;
		if (*code == NULL || (xs2a_code_known(*code) == NULL &&
		    xs2a_code_known(c) != NULL)) {
			*code = c;
			*path = p;
			*text = t;
		}
	}
	if (*code == NULL && xs2a_jstr(j, "code", &c, 128) == 1) {
		*code = c;
		if (xs2a_jstr(j, "detail", text, 500) != 1 &&
		    xs2a_jstr(j, "title", text, 500) != 1)
			*text = NULL;
	}
}

/*
 * Whether an error answer's body is something other than the interface's
 * JSON: an HTML page of a gateway, say.  An empty body is none (the
 * status speaks).
 */
static int
not_json(const struct xs2a_resp *r, json_t *j)
{
	size_t	i = 0;

	while (i < r->len && isspace((unsigned char)r->body[i]))
		i++;
	return i < r->len && (j == NULL || !json_is_object(j));
}

void
xs2a_map_error(const struct xs2a_resp *r, enum xs2a_stage st,
    struct bank_error *err, int *per_account)
{
	const char		*code = NULL, *path = NULL, *text = NULL;
	json_t			*j = NULL;
	json_error_t		 e;

	*per_account = 0;
	if (r->len > 0)
		j = json_loadb(r->body, r->len, 0, &e);
	if (r->status >= 400 && not_json(r, j)) {
		bank_error_set(err, fault_entry(FAULT_UNUSABLE, st), "The bank "
		    "answered HTTP %ld with %.80s, not the interface's JSON.",
		    r->status, r->ctype[0] != '\0' ? r->ctype :
		    "a body that is not JSON");
		json_decref(j);
		return;
	}
	if (j != NULL && json_is_object(j))
		error_message(j, &code, &path, &text);
	err->code = xs2a_code_read((int)r->status, code, path, text, st,
	    per_account);
	if (text != NULL && *text != '\0')
		snprintf(err->message, sizeof(err->message), "%s", text);
	else if (code != NULL)
		snprintf(err->message, sizeof(err->message), "%s", code);
	else if (r->status >= 300 && r->status < 400)
		snprintf(err->message, sizeof(err->message), "The bank "
		    "answered HTTP %ld, a redirect; bankfeed follows none.",
		    r->status);
	else
		snprintf(err->message, sizeof(err->message), "The bank "
		    "answered HTTP %ld without an error code.", r->status);
	json_decref(j);
}

/* ---- links ---- */

/*
 * The origin of an absolute http(s) URL: scheme, host (lowercase, IPv6 in
 * brackets) and port (the default one when none is written).  -1 when it
 * is none, or carries user information.
 */
static int
origin(const char *url, char *scheme, size_t sn, char *host, size_t hn,
    long *port)
{
	const char	*p, *h, *end, *colon = NULL;
	size_t		 n, i;

	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(scheme, sn, "https");
		*port = 443;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		snprintf(scheme, sn, "http");
		*port = 80;
		p = url + 7;
	} else
		return -1;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL || end == p)
		return -1;
	h = p;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return -1;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
		n = (size_t)(rb + 1 - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (n == 0 || n >= hn)
		return -1;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[n] = '\0';
	if (colon != NULL) {
		char	*e;
		long	 v;

		if (colon + 1 == end)
			return 0;
		v = strtol(colon + 1, &e, 10);
		if (e != end || v <= 0 || v > 65535)
			return -1;
		*port = v;
	}
	return 0;
}

/* Whether s starts with a URI scheme ("https:", "ftp:"). */
static int
has_scheme(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789+-.");

	return n > 0 && isalpha((unsigned char)s[0]) && s[n] == ':';
}

int
xs2a_link(const char *base, const char *href, char *out, size_t outn,
    struct bank_error *err)
{
	char	bs[8], bh[256], ls[8], lh[256];
	long	bp, lp;
	size_t	i, olen;
	int	n;

	for (i = 0; href[i] != '\0'; i++)
		if ((unsigned char)href[i] <= ' ' || href[i] == 0x7f) {
			xs2a_invalid(err, "A link of the bank holds a blank or a "
			    "control character; not followed.");
			return -1;
		}
	if (origin(base, bs, sizeof(bs), bh, sizeof(bh), &bp) == -1) {
		bank_error_set(err, ERR_INTERNAL_ERROR, "the institution's "
		    "base URL is not an http(s) URL");
		return -1;
	}
	if (has_scheme(href))
		n = snprintf(out, outn, "%s", href);
	else if (href[0] == '/' && href[1] != '/') {
		/* Relative to the host: the base's origin and this path. */
		olen = strlen(bs) + 3 + strcspn(base + strlen(bs) + 3, "/?#");
		n = snprintf(out, outn, "%.*s%s", (int)olen, base, href);
	} else if (href[0] == '/')
		n = snprintf(out, outn, "%s:%s", bs, href);
	else if (strchr(href, '/') != NULL &&
	    memchr(href, '.', strcspn(href, "/")) != NULL)
		/* "www.bank.example/v1/..." without its scheme. */
		n = snprintf(out, outn, "%s://%s", bs, href);
	else
		n = snprintf(out, outn, "%s/%s", base, href);
	if (n < 0 || (size_t)n >= outn) {
		xs2a_invalid(err, "A link of the bank is longer than %zu bytes; "
		    "not followed.", outn - 1);
		return -1;
	}
	if (origin(out, ls, sizeof(ls), lh, sizeof(lh), &lp) == -1 ||
	    strcmp(ls, bs) != 0 || strcmp(lh, bh) != 0 || lp != bp) {
		xs2a_invalid(err, "A link of the bank leads to another host "
		    "(%.200s) than the institution's base URL; not followed.",
		    origin(out, ls, sizeof(ls), lh, sizeof(lh), &lp) == 0 ?
		    lh : "an unreadable URL");
		return -1;
	}
	return 0;
}
