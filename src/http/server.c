/*
 * server: libmicrohttpd glue.  Collects each request's body into a bounded
 * buffer, runs the checks every route shares (route, content negotiation,
 * body size, authentication, rate limit, JSON body, idempotency), calls the
 * route's handler, queues its answer and writes one access-log line.
 *
 * libmicrohttpd calls the access handler several times per request: the
 * first call only sets the request up (queuing there would turn off
 * keep-alive in 0.9.75), the next ones carry the body, the last one has no
 * body left and is where the request is answered.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/config.h"
#include "core/log.h"
#include "store/db.h"
#include "store/store.h"

struct server {
	struct MHD_Daemon	*d;
	int			 port;
};

static atomic_int	inflight;
static atomic_int	stopping;

int
server_stopping(void)
{
	return atomic_load(&stopping);
}

static long long
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
req_free(struct req *r)
{
	size_t	i;

	/* Bodies may carry secrets (client secrets, bank credentials). */
	if (r->body.p != NULL)
		sodium_memzero(r->body.p, r->body.len);
	buf_free(&r->body);
	buf_free(&r->out);
	if (r->json != NULL)
		json_decref(r->json);
	for (i = 0; i < r->nhdrs; i++)
		free(r->hdr_value[i]);
	free(r->param_buf);
	free(r);
}

/* The peer's address as text ("" when unknown). */
static void
peer_text(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr	*sa;

	out[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)n);
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

static void
dispatch(struct req *r)
{
	int			 retry;
	unsigned		 failures;
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
	if (r->body_too_large) {
		resp_error_field(r, ERR_PAYLOAD_TOO_LARGE, "body",
		    "The body is larger than %zu bytes.", r->body.max);
		return;
	}
	if (r->route->flags & RT_AUTH) {
		if (auth_bearer(r) == -1)
			return;
		if (rate_limit_check(r->client_id, &retry) == -1) {
			snprintf(tmp, sizeof(tmp), "%d", retry);
			resp_header(r, "Retry-After", tmp);
			resp_error(r, ERR_TOO_MANY_REQUESTS, NULL, NULL);
			return;
		}
	}
	if ((r->route->flags & RT_JSON) && parse_json_body(r) == -1)
		return;
	if ((r->route->flags & RT_IDEMPOTENT) && idem_begin(r))
		return;
	r->idem_pending = (r->route->flags & RT_IDEMPOTENT) != 0;
	failures = db_failures(NULL);
	r->route->handler(r);
	if (r->suspended)
		return;
	if (!r->answered)
		resp_internal(r, "handler gave no answer");
	else if (r->status < 400 && db_failures(NULL) != failures)
		storage_failed(r);
}

void
req_suspend(struct req *r)
{
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
}

void
req_resume(struct req *r)
{
	if (!r->answered)
		resp_internal(r, "resumed without an answer");
	MHD_resume_connection(r->conn);
}

static enum MHD_Result
queue(struct req *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 rc;
	size_t			 len, i;
	char			*body;

	body = buf_steal(&r->out, &len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	if (!r->out_empty)
		MHD_add_response_header(resp, "Content-Type", r->vendor_type ?
		    "application/vnd.bankfeed.v1+json" : "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	rc = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req	*r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->conn = c;
		r->url = url;
		r->method = method;
		r->t0_ns = now_ns();
		r->after_stop = server_stopping();
		peer_text(c, r->peer_ip, sizeof(r->peer_ip));
		set_request_id(r);
		r->match = router_match(r, r->allow, sizeof(r->allow));
		buf_init(&r->body, r->route != NULL &&
		    (r->route->flags & RT_UPLOAD) ? (size_t)cfg.max_upload :
		    (size_t)cfg.max_body);
		buf_init(&r->out, 64u << 20);
		*con_cls = r;
		atomic_fetch_add(&inflight, 1);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!r->body_too_large && buf_add(&r->body, upload,
		    *upload_size) == -1) {
			/* Keep what we have; the rest is read and dropped. */
			r->body_too_large = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->answered && !r->suspended) {
		dispatch(r);
		/*
		 * Suspended: another thread answers and resumes, maybe already
		 * now; the answer is queued in the call that follows the resume,
		 * never in this one.
		 */
		if (r->suspended)
			return MHD_YES;
	}
	if (r->suspended && !r->answered)
		return MHD_YES;
	if (r->idem_pending) {
		r->idem_pending = 0;
		idem_end(r);
	}
	return queue(r);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req	*r = *con_cls;
	char		 path[256];
	size_t		 i, o = 0;

	(void)cls;
	(void)c;
	if (r == NULL)
		return;
	/* The path, with quotes and control bytes escaped: log lines stay whole. */
	for (i = 0; r->url[i] != '\0' && o + 5 < sizeof(path); i++) {
		unsigned char ch = (unsigned char)r->url[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += (size_t)snprintf(path + o, sizeof(path) - o,
			    "%%%02X", ch);
		else
			path[o++] = (char)ch;
	}
	path[o] = '\0';
	log_peer(LOG_INFO, r->client_id[0] != '\0',
	    "event=http method=%s path=\"%s\" status=%d duration_ms=%.3f "
	    "request_id=%s client_id=%s%s", r->method, path, r->status,
	    (double)(now_ns() - r->t0_ns) / 1e6, r->request_id,
	    r->client_id[0] ? r->client_id : "-",
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	req_free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&inflight, 1);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	msg[512];
	size_t	n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_peer(LOG_WARN, 0, "event=mhd msg=\"%s\"", msg);
}

int
server_start(struct server **out, const char *host, int port)
{
	struct server		*s;
	struct addrinfo		 hints, *ai = NULL;
	char			 portstr[16];
	unsigned		 threads;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		log_error("msg=\"cannot resolve listen address\" host=\"%s\"", host);
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		freeaddrinfo(ai);
		return -1;
	}
	threads = cfg.threads > 0 ? (unsigned)cfg.threads :
	    (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	s->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	    (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u,
	    /*
	     * Each request's header memory is cleared when it starts; our
	     * headers are small, and bodies are copied out as they come.
	     */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (s->d == NULL) {
		log_error("msg=\"cannot listen\" host=\"%s\" port=%d", host, port);
		free(s);
		return -1;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : port;
	*out = s;
	return 0;
}

int
server_port(struct server *s)
{
	return s->port;
}

void
server_stop(struct server *s, int grace_seconds, void (*release)(void))
{
	long long	deadline;

	if (s == NULL)
		return;
	/*
	 * The listen socket stays open during the grace period: a request
	 * that arrives then gets 503 SERVICE_UNAVAILABLE with Retry-After
	 * (see dispatch) instead of a refused connection. This also keeps
	 * clear of MHD_quiesce_daemon(), which races its own worker
	 * threads on the epoll set in libmicrohttpd 0.9.75 and aborts.
	 */
	atomic_store(&stopping, 1);
	if (release != NULL)
		release();
	deadline = now_ns() + (long long)grace_seconds * 1000000000LL;
	while (atomic_load(&inflight) > 0 && now_ns() < deadline)
		usleep(10000);
	if (atomic_load(&inflight) > 0)
		log_warn("msg=\"stopping with requests still in flight\" count=%d",
		    atomic_load(&inflight));
	MHD_stop_daemon(s->d);
	free(s);
}
