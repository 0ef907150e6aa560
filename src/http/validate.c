/*
 * validate: checks a JSON request body field by field and collects every
 * problem before answering, as seed 000 shows: code 1000 and a data object
 * mapping each dotted field path to its messages.
 */
#include "http/http.h"

#include <arpa/inet.h>

#include "core/vault.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
v_init(struct vctx *v)
{
	v->errors = json_object();
}

void
v_free(struct vctx *v)
{
	json_decref(v->errors);
	v->errors = NULL;
}

static void
path_join(char *out, size_t n, const char *prefix, const char *key)
{
	if (prefix != NULL && *prefix != '\0')
		snprintf(out, n, "%s.%s", prefix, key);
	else
		snprintf(out, n, "%s", key);
}

void
v_add(struct vctx *v, const char *field, const char *fmt, ...)
{
	char	 msg[512];
	json_t	*list;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((list = json_object_get(v->errors, field)) == NULL) {
		list = json_array();
		json_object_set_new(v->errors, field, list);
	}
	json_array_append_new(list, json_string(msg));
}

int
v_failed(const struct vctx *v)
{
	return json_object_size(v->errors) > 0;
}

int
v_respond(struct vctx *v, struct req *r)
{
	char	*s = json_dumps(v->errors, JSON_COMPACT | JSON_SORT_KEYS);

	resp_error(r, ERR_INVALID_REQUEST, s, NULL);
	free(s);
	return 1;
}

void
v_known(struct vctx *v, json_t *obj, const char *prefix,
    const char *const *allowed)
{
	const char	*key;
	json_t		*val;
	char		 path[256];
	size_t		 i;

	json_object_foreach(obj, key, val) {
		int	ok = 0;

		for (i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok) {
			path_join(path, sizeof(path), prefix, key);
			v_add(v, path, "Unknown field.");
		}
	}
}

static const char *
type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The member, or NULL after reporting a missing required one. */
static json_t *
member(struct vctx *v, json_t *obj, const char *prefix, const char *key,
    int required, char *path, size_t pathlen)
{
	json_t	*j = obj != NULL ? json_object_get(obj, key) : NULL;

	path_join(path, pathlen, prefix, key);
	if (j == NULL && required && obj != NULL)
		v_add(v, path, "Missing required field.");
	return j;
}

const char *
v_string(struct vctx *v, json_t *obj, const char *prefix, const char *key,
    int required, size_t minlen, size_t maxlen)
{
	char		 path[256];
	json_t		*j = member(v, obj, prefix, key, required, path, sizeof(path));
	const char	*s;
	size_t		 len, i;

	if (j == NULL)
		return NULL;
	if (json_is_null(j) && !required)
		return NULL;
	if (!json_is_string(j)) {
		v_add(v, path, "Not a valid string: got %s.", type_name(j));
		return NULL;
	}
	s = json_string_value(j);
	len = json_string_length(j);
	if (strlen(s) != len) {
		v_add(v, path, "Must not contain NUL characters.");
		return NULL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20) {
			v_add(v, path, "Must not contain control characters.");
			return NULL;
		}
	if (len < minlen) {
		v_add(v, path, minlen == 1 ? "Must not be empty." :
		    "Must be at least %zu characters long.", minlen);
		return NULL;
	}
	if (len > maxlen) {
		v_add(v, path, "Must be at most %zu characters long.", maxlen);
		return NULL;
	}
	return s;
}

int
v_bool(struct vctx *v, json_t *obj, const char *prefix, const char *key,
    int dflt)
{
	char	 path[256];
	json_t	*j = member(v, obj, prefix, key, 0, path, sizeof(path));

	if (j == NULL)
		return dflt;
	if (!json_is_boolean(j)) {
		v_add(v, path, "Not a valid boolean: got %s.", type_name(j));
		return dflt;
	}
	return json_is_true(j);
}

long long
v_int(struct vctx *v, json_t *obj, const char *prefix, const char *key,
    long long min, long long max, long long dflt)
{
	char		 path[256];
	json_t		*j = member(v, obj, prefix, key, 0, path, sizeof(path));
	long long	 n;

	if (j == NULL)
		return dflt;
	if (!json_is_integer(j)) {
		v_add(v, path, "Not a valid integer: got %s.", type_name(j));
		return dflt;
	}
	n = json_integer_value(j);
	if (n < min || n > max) {
		v_add(v, path, "Must be between %lld and %lld.", min, max);
		return dflt;
	}
	return n;
}

json_t *
v_object(struct vctx *v, json_t *obj, const char *prefix, const char *key,
    int required)
{
	char	 path[256];
	json_t	*j = member(v, obj, prefix, key, required, path, sizeof(path));

	if (j == NULL)
		return NULL;
	if (!json_is_object(j)) {
		v_add(v, path, "Not a valid object: got %s.", type_name(j));
		return NULL;
	}
	return j;
}

int
v_is_date(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	y, m, d, i, leap;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/*
 * A cursor is the last key seen (an id, "date|first_seq", a feed sequence
 * number), sealed (core/vault.h) behind a version tag: clients can neither
 * read the server's row counters in it nor forge one, and a cursor is
 * bound to the client and the path it was given for.
 *
 * "c1." cursors, the key in plain base64url, were given out before this
 * version; they are still taken for one version, so that clients paging
 * through an upgrade do not start over.  They tell a client nothing it did
 * not already hold, and every list is still limited to the client's own
 * rows.  Drop CURSOR_OLD in the next version.
 */
#define CURSOR_TAG	"c2."
#define CURSOR_OLD	"c1."
#define CURSOR_TAGLEN	3

/* What a cursor is bound to: the client and the list's path. */
static void
cursor_aad(const struct req *r, char *out, size_t n)
{
	snprintf(out, n, "cursor %s %s", r->client_id, r->url ? r->url : "");
}

static int
cursor_open(const struct req *r, const char *cur, struct page *p)
{
	char	aad[512];
	size_t	n;

	if (strncmp(cur, CURSOR_TAG, CURSOR_TAGLEN) == 0) {
		cursor_aad(r, aad, sizeof(aad));
		if (vault_token_open(cur + CURSOR_TAGLEN, aad, p->after,
		    sizeof(p->after), &n) != 0)
			return -1;
	} else if (strncmp(cur, CURSOR_OLD, CURSOR_TAGLEN) != 0 ||
	    sodium_base642bin((unsigned char *)p->after, sizeof(p->after) - 1,
	    cur + CURSOR_TAGLEN, strlen(cur + CURSOR_TAGLEN), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	p->after[n] = '\0';
	return n > 0 && strlen(p->after) == n ? 0 : -1;
}

int
page_parse(struct req *r, struct page *p)
{
	const char	*lim = req_query(r, "limit"), *cur = req_query(r, "cursor");
	struct vctx	 v;
	char		*end;
	long		 l;

	p->limit = 100;
	p->after[0] = '\0';
	v_init(&v);
	if (lim != NULL) {
		l = strtol(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || l < 1 || l > 500)
			v_add(&v, "limit", "Must be a whole number from 1 to 500.");
		else
			p->limit = (int)l;
	}
	if (cur != NULL && *cur != '\0' && cursor_open(r, cur, p) != 0) {
		v_add(&v, "cursor", "Not a cursor this server gave out.");
		p->after[0] = '\0';
	}
	if (v_failed(&v)) {
		v_respond(&v, r);
		v_free(&v);
		return -1;
	}
	v_free(&v);
	return 0;
}

int
page_write_next(struct req *r, struct jw *w, const char *last_key, int more)
{
	char	enc[CURSOR_TAGLEN + VAULT_TOKEN_LEN(PAGE_KEY_MAX)];
	char	aad[512];
	size_t	n;

	jw_key(w, "next_cursor");
	if (!more || last_key == NULL) {
		jw_null(w);
		return 0;
	}
	n = strlen(last_key);
	cursor_aad(r, aad, sizeof(aad));
	memcpy(enc, CURSOR_TAG, CURSOR_TAGLEN);
	if (n == 0 || n >= PAGE_KEY_MAX || vault_token_seal(last_key, n,
	    aad, enc + CURSOR_TAGLEN, sizeof(enc) - CURSOR_TAGLEN) != 0) {
		jw_null(w);
		return -1;
	}
	jw_str(w, enc);
	return 0;
}

void
page_begin(struct req *r, struct jw *w)
{
	resp_begin(r, 200, w);
	/* A page of 100 transactions is some 36 KB: one allocation. */
	buf_reserve(&r->out, 64 * 1024);
	jw_obj(w);
	jw_key(w, "data");
	jw_arr(w);
}

int
page_end(struct req *r, struct jw *w, const char *last_key, int more)
{
	int	rc;

	jw_arr_end(w);
	rc = page_write_next(r, w, last_key, more);
	jw_obj_end(w);
	if (rc == -1)
		resp_internal(r, "cannot seal the cursor");
	return rc;
}

/*
 * Whether s is an IPv4 or IPv6 address literal.  PSU-IP-Address lifts the
 * PSD2 limit of unattended syncs, is kept in a task's parameters and is
 * sent on to the bank, so nothing else may pass for one.
 */
int
v_is_ip(const char *s)
{
	unsigned char	addr[sizeof(struct in6_addr)];

	return strlen(s) < INET6_ADDRSTRLEN &&
	    (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1);
}
