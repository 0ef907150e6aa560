/*
 * dispatch: what every request goes through between its bytes and its
 * route's handler: a request id, the route, content negotiation, the body
 * limit, authentication, the rate limit, the JSON body, idempotency; then
 * the handler, and the access-log line once the answer is sent.
 *
 * server.c owns sockets and framing; it calls dispatch_prepare() when a
 * request's head is read, dispatch() when its body is whole,
 * dispatch_finish() before it writes the answer and dispatch_done() after.
 */
#include "http/http.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "store/db.h"
#include "store/store.h"
#include "web/web.h"

static atomic_int	inflight;
static atomic_int	stopping;

int
server_stopping(void)
{
	return atomic_load(&stopping);
}

void
dispatch_stop(void)
{
	atomic_store(&stopping, 1);
}

int
dispatch_inflight(void)
{
	return atomic_load(&inflight);
}

static int
request_id_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 64 || !(isalnum((unsigned char)s[i]) ||
		    strchr("._-:", s[i]) != NULL))
			return 0;
	return i > 0;
}

/*
 * Request ids need to be unique, not secret: a per-thread generator seeded
 * once from the system's randomness (splitmix64) spares a system call per
 * request.
 */
static void
next_request_bytes(unsigned char out[12])
{
	static _Thread_local uint64_t	state;
	static _Thread_local int	seeded;
	uint64_t			z[2];
	int				i;

	if (!seeded) {
		randombytes_buf(&state, sizeof(state));
		seeded = 1;
	}
	for (i = 0; i < 2; i++) {
		z[i] = (state += 0x9e3779b97f4a7c15ULL);
		z[i] = (z[i] ^ (z[i] >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z[i] = (z[i] ^ (z[i] >> 27)) * 0x94d049bb133111ebULL;
		z[i] ^= z[i] >> 31;
	}
	memcpy(out, z, 12);
}

static void
set_request_id(struct req *r)
{
	const char	*h = req_header(r, "X-Request-Id");
	unsigned char	 rnd[12];

	if (h != NULL && request_id_ok(h)) {
		snprintf(r->request_id, sizeof(r->request_id), "%s", h);
		return;
	}
	next_request_bytes(rnd);
	memcpy(r->request_id, "req_", 4);
	base32_lower(rnd, sizeof(rnd), r->request_id + 4);
}

/* Whether the media type (without parameters) equals t, case-insensitively. */
static int
media_is(const char *m, size_t n, const char *t)
{
	return strlen(t) == n && strncasecmp(m, t, n) == 0;
}

/*
 * Content negotiation of API.md: no Accept, * / *, application/json or
 * application/vnd.bankfeed.v1+json get v1; another bankfeed version gets
 * 404 VERSION_NOT_FOUND; anything else 406.  Returns 0 when acceptable.
 */
static int
negotiate(struct req *r)
{
	const char	*h = req_header(r, "Accept"), *p;
	int		 ok = 0, other_version = 0;

	if (h == NULL)
		return 0;
	for (p = h; *p != '\0';) {
		size_t	n, len;
		const char *m, *params;

		n = strcspn(p, ",");
		m = p;
		while (m < p + n && (*m == ' ' || *m == '\t'))
			m++;
		len = (size_t)(p + n - m);
		params = memchr(m, ';', len);
		if (params != NULL)
			len = (size_t)(params - m);
		while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\t'))
			len--;
		if (params != NULL && (strstr(params, "q=0") != NULL &&
		    strstr(params, "q=0.") == NULL)) {
			/* q=0: explicitly not acceptable */
		} else if (len == 0 || media_is(m, len, "*/*") ||
		    media_is(m, len, "application/*") ||
		    media_is(m, len, "application/json"))
			ok = 1;
		else if (media_is(m, len, "application/vnd.bankfeed.v1+json")) {
			ok = 1;
			r->vendor_type = 1;
		} else if (len > 25 && strncasecmp(m, "application/vnd.bankfeed.", 25) == 0)
			other_version = 1;
		p += n;
		if (*p == ',')
			p++;
	}
	if (ok)
		return 0;
	if (other_version)
		resp_error(r, ERR_VERSION_NOT_FOUND, NULL, NULL);
	else
		resp_error(r, ERR_NOT_ACCEPTABLE, NULL, NULL);
	return -1;
}

static int
content_type_is_json(const char *ct)
{
	size_t	n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, ";");
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	if (media_is(ct, n, "application/json"))
		return 1;
	return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 &&
	    strncasecmp(ct, "application/", 12) == 0;
}

/* Parses the JSON object body of RT_JSON routes.  0, or answered 400/415. */
static int
parse_json_body(struct req *r)
{
	json_error_t	 e;
	const char	*ct;

	if (r->body.len == 0) {
		r->json = json_object();
		return 0;
	}
	ct = req_header(r, "Content-Type");
	if (!content_type_is_json(ct)) {
		resp_error_field(r, ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type",
		    "Send the body as JSON with Content-Type: application/json "
		    "(got %s).", ct ? "another type" : "none");
		return -1;
	}
	r->json = json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &e);
	if (r->json == NULL) {
		resp_error_field(r, ERR_INVALID_REQUEST, "body",
		    "Malformed JSON at line %d, column %d: %s.", e.line,
		    e.column, e.text);
		return -1;
	}
	if (!json_is_object(r->json)) {
		resp_error_field(r, ERR_INVALID_REQUEST, "body",
		    "The body must be a JSON object.");
		return -1;
	}
	return 0;
}

/*
 * A handler answered 2xx although one of its statements failed: a read
 * loop that ends on an error looks like the end of the rows.  The answer
 * becomes the storage's: 503 when the database stayed locked past the busy
 * timeout (the write that held it will end), 500 otherwise.
 */
static void
storage_failed(struct req *r)
{
	struct db	*db = store_db();
	const char	*why = db != NULL ? db_errmsg(db) : "no database";
	size_t		 i;
	int		 busy;

	for (i = 0; i < r->nhdrs; i++)
		free(r->hdr_value[i]);
	r->nhdrs = 0;
	db_failures(&busy);
	if (busy) {
		log_warn("msg=\"storage busy\" request_id=%s reason=\"%s\"",
		    r->request_id, why);
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL, NULL);
	} else
		resp_internal(r, why);
}

void
dispatch(struct req *r)
{
	int			 retry, busy;
	unsigned		 failures;
	const char		*psu;
	char			 tmp[32];

	if (r->after_stop) {
		/*
		 * Requests already under way when the stop signal came are
		 * served; new ones are told to come back, to this node once
		 * it restarts or to another, and their connection is closed.
		 */
		resp_header(r, "Retry-After", "1");
		resp_header(r, "Connection", "close");
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL, NULL);
		return;
	}
	if (r->match == ROUTE_NO_PATH) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	if (r->match == ROUTE_NO_METHOD) {
		resp_header(r, "Allow", r->allow);
		resp_error(r, ERR_METHOD_NOT_ALLOWED, NULL, NULL);
		return;
	}
	if (negotiate(r) == -1)
		return;
	failures = db_failures(NULL);
	if (r->route->flags & RT_AUTH) {
		if (auth_bearer(r) == -1) {
			/* A token that could not be looked up: no 401. */
			if (db_failures(NULL) != failures)
				storage_failed(r);
			return;
		}
		if (rate_limit_check(r->client_id, &retry) == -1) {
			snprintf(tmp, sizeof(tmp), "%d", retry);
			resp_header(r, "Retry-After", tmp);
			resp_error(r, ERR_TOO_MANY_REQUESTS, NULL, NULL);
			return;
		}
	}
	if ((r->route->flags & RT_JSON) && parse_json_body(r) == -1)
		return;
	/*
	 * The end user's address (PSD2) lifts the limit of unattended syncs
	 * and goes on to the bank: on every route, it is an address or 400.
	 */
	if ((psu = req_header(r, "PSU-IP-Address")) != NULL && !v_is_ip(psu)) {
		resp_error_field(r, ERR_INVALID_REQUEST, "PSU-IP-Address",
		    "Must be the end user's IP address, an IPv4 or IPv6 literal "
		    "such as 203.0.113.7 or 2001:db8::7.");
		return;
	}
	if ((r->route->flags & RT_IDEMPOTENT) && idem_begin(r)) {
		if (db_failures(&busy) != failures && busy)
			storage_failed(r);
		return;
	}
	r->idem_pending = (r->route->flags & RT_IDEMPOTENT) != 0;
	failures = db_failures(NULL);
	r->route->handler(r);
	if (r->suspended)
		return;
	/*
	 * A storage failure is never a success, and with a database out of
	 * reach (busy: locked, or a PostgreSQL that went away) whatever the
	 * handler concluded (500, or a 404 for a row it could not read) is
	 * 503 with Retry-After.
	 */
	if (r->answered && db_failures(&busy) != failures &&
	    (r->status < 400 || busy))
		storage_failed(r);
}


void
dispatch_prepare(struct req *r)
{
	r->t0_ns = clock_mono_ns();
	r->after_stop = server_stopping();
	set_request_id(r);
	r->match = router_match(r, r->allow, sizeof(r->allow));
	buf_init(&r->body, r->route != NULL && (r->route->flags & RT_UPLOAD) ?
	    (size_t)cfg.max_upload : (size_t)cfg.max_body);
	buf_init(&r->out, 64u << 20);
	atomic_fetch_add(&inflight, 1);
}

void
dispatch_finish(struct req *r)
{
	if (!r->answered)
		resp_internal(r, "handler gave no answer");
	if (r->idem_pending) {
		r->idem_pending = 0;
		idem_end(r);
	}
}

void
dispatch_done(struct req *r, int aborted)
{
	char		 path[256];
	const char	*u = r->url != NULL ? r->url : "-";
	size_t		 i, o = 0;

	/* The path, with quotes and control bytes escaped: log lines stay whole. */
	for (i = 0; u[i] != '\0' && o + 5 < sizeof(path); i++) {
		unsigned char ch = (unsigned char)u[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += (size_t)snprintf(path + o, sizeof(path) - o,
			    "%%%02X", ch);
		else
			path[o++] = (char)ch;
	}
	path[o] = '\0';
	/* Counted before the log line: tests wait for the line. */
	metrics_http_done(r, (double)(clock_mono_ns() - r->t0_ns) / 1e9);
	/* The dashboard's recent requests. */
	web_requests_note(r);
	/*
	 * Lines an anonymous peer causes share a rate limit; access lines are
	 * written in blocks (log.c).
	 */
	log_access(r->client_id[0] != '\0', "event=http method=%s path=\"%s\" status=%d duration_ms=%.3f "
	    "request_id=%s client_id=%s%s", r->method != NULL ? r->method : "-",
	    path, r->status, (double)(clock_mono_ns() - r->t0_ns) / 1e6,
	    r->request_id, r->client_id[0] ? r->client_id : "-",
	    aborted ? " aborted=1" : "");
	atomic_fetch_sub(&inflight, 1);
}
