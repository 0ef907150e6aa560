/*
 * http: the server's edge.  bankfeed's HTTP/1.1 server (server.c, h1.c),
 * dispatch, the router, request and response helpers, authentication,
 * rate limits, idempotency, validation.
 *
 * A handler receives a struct req whose route, path parameters, client and
 * parsed JSON body are ready, and answers exactly once with resp_*().  The
 * catalog entry of an error becomes a status and the error object of
 * API.md here, at the edge, and nowhere else.
 */
#ifndef BF_HTTP_H
#define BF_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/errors_doc.h"
#include "core/ids.h"
#include "core/jw.h"

struct conn;
struct req;
struct rblob;

typedef void (*handler_fn)(struct req *);

enum route_flags {
	RT_AUTH		= 1 << 0,	/* needs a bearer token */
	RT_JSON		= 1 << 1,	/* body is a JSON object (empty = {}) */
	RT_FORM		= 1 << 2,	/* body is application/x-www-form-urlencoded */
	RT_UPLOAD	= 1 << 3,	/* raw body up to the upload limit */
	RT_IDEMPOTENT	= 1 << 4,	/* honours Idempotency-Key */
	RT_METRICS	= 1 << 5	/* exists only while a metrics token is set */
};

struct route {
	const char	*method;
	const char	*pattern;	/* "/v1/users/{id}" */
	handler_fn	 handler;
	unsigned	 flags;
};

/* api/routes.c: the table of every route. */
extern const struct route routes[];
extern const size_t nroutes;
/* The most routes the table may hold (metrics keep a histogram per route). */
#define ROUTES_MAX	64

#define REQ_MAX_PARAMS	4
#define REQ_MAX_HEADERS	8
#define REQ_MAX_FIELDS	64	/* header fields of a request (h1.h) */
#define REQ_MAX_ARGS	32	/* query arguments read */

struct req {
	struct conn		*conn;		/* server.c's, opaque */
	const char		*method;
	const char		*url;		/* path, decoded, without the query */
	/* the request's head: its own copy, fields NUL-terminated in it */
	char			*raw;
	const char		*fname[REQ_MAX_FIELDS];
	const char		*fvalue[REQ_MAX_FIELDS];
	size_t			 nfields;
	const char		*query;		/* after '?', undecoded; or NULL */
	char			*qbuf;		/* decoded query arguments */
	const char		*qkey[REQ_MAX_ARGS];
	const char		*qval[REQ_MAX_ARGS];
	size_t			 nargs;
	int			 qparsed;
	const struct route	*route;
	int			 match;		/* enum route_match */
	char			 allow[64];	/* methods of the path, for 405 */
	const char		*params[REQ_MAX_PARAMS];
	char			*param_buf;	/* storage of params */
	struct buf		 body;
	int			 after_stop;	/* began after the stop signal */
	json_t			*json;		/* RT_JSON routes: the body */
	char			 request_id[72];
	char			 client_id[ID_MAX];	/* "" when anonymous */
	char			 peer_ip[46];	/* the TCP peer's address, text */
	int			 vendor_type;	/* answer with the vnd media type */
	long long		 t0_ns;
	/* idempotency */
	char			 idem_key[256];
	char			 idem_hash[65];
	/* the response */
	int			 status;
	struct buf		 out;
	struct rblob		*body_ref;	/* the body, when a cached page */
	int			 out_empty;	/* no JSON body: 204, or resp_text */
	const char		*hdr_name[REQ_MAX_HEADERS];
	char			*hdr_value[REQ_MAX_HEADERS];
	size_t			 nhdrs;
	int			 answered;
	int			 suspended;	/* answered later by another thread */
	/*
	 * Called by req_resume() before the answer goes out, on the thread
	 * that resumes: a page that called an API handler which suspended
	 * turns the handler's answer into its own (web_call).
	 */
	void			(*on_resume)(struct req *, void *);
	void			*on_resume_arg;
	int			 idem_pending;	/* idem_end() due once answered */
	int			 err_code;	/* catalog code of an error answer, else 0 */
};

/* server.c: sockets, HTTP/1.1 framing, connection limits and deadlines. */
struct server;
int		 server_start(struct server **, const char *host, int port);
int		 server_port(struct server *);
/*
 * Stops taking connections, calls release() (which must answer every
 * suspended request), then lets in-flight requests finish (grace seconds).
 */
void		 server_stop(struct server *, int grace_seconds,
		    void (*release)(void));
int		 server_stopping(void);

/* dispatch.c: from a parsed request to its handler (see server.c). */
void		 dispatch_prepare(struct req *);
void		 dispatch(struct req *);
void		 dispatch_finish(struct req *);
void		 dispatch_done(struct req *, int aborted);
void		 dispatch_stop(void);
int		 dispatch_inflight(void);

/*
 * A handler that cannot answer yet (it waits for a background task) calls
 * req_suspend() and returns; another thread later fills the answer with
 * resp_*() and calls req_resume().  No server thread waits meanwhile.
 */
void		 req_suspend(struct req *);
void		 req_resume(struct req *);

/*
 * hold.c: a handler that has answered r with resp_*() calls hold_answer()
 * to have the answer sent ms milliseconds later, holding no server thread
 * meanwhile.  server_start/server_stop start and stop it; a stop sends
 * every held answer at once.
 */
int		 hold_start(void);
void		 hold_stop(void);
void		 hold_answer(struct req *, long long ms);

/* router.c: matches method and path; fills params. */
enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };
enum route_match router_match(struct req *, char *allow, size_t allowlen);
/*
 * Serves another table than api/routes.c's (a process that is not the API,
 * such as the Sandbox Bank's XS2A server).  Call before server_start().
 */
void		 router_use(const struct route *, size_t);

/* request accessors */
const char	*req_header(struct req *, const char *name);
const char	*req_query(struct req *, const char *name);
const char	*req_param(struct req *, size_t i);

/*
 * Responses.  resp_begin() returns a JSON writer on the response body;
 * the handler writes one JSON value with it.  resp_error() answers with
 * the error object; data is a JSON object text or NULL ({}); message is the
 * bank's own message or NULL.
 */
struct jw	*resp_begin(struct req *, int status, struct jw *w);
void		 resp_empty(struct req *, int status);
void		 resp_header(struct req *, const char *name, const char *value);
void		 resp_error(struct req *, enum err, const char *data,
		    const char *message);
/* An error whose data names one field: {"field": ["message"]}. */
void		 resp_error_field(struct req *, enum err, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 500 after logging why (never shown to the client). */
void		 resp_internal(struct req *, const char *why);
/*
 * A body that is not JSON, with its Content-Type (a header of the answer:
 * the server adds no JSON type when out_empty is set).  Not for
 * RT_IDEMPOTENT routes: a replay would lose the body.
 */
void		 resp_text(struct req *, int status, const char *content_type,
		    const char *body, size_t len);


/*
 * metrics_http.c: what the edge counts for GET /metrics.  The server calls
 * metrics_http_done() once per finished request, with its duration:
 * requests by route pattern (never the raw path: "unmatched" when no route
 * took it), method and status; latency by route and method; error answers
 * by catalog entry (err_code).  metrics_http_write() appends them.
 */
void		 metrics_http_done(const struct req *, double seconds);
int		 metrics_http_write(struct buf *);

/* auth.c */
int		 auth_bearer(struct req *);	/* 0, or answered 401 */
/* The per-client limit of /v1 routes: 0, or -1 and the seconds to wait. */
int		 rate_limit_check(const char *client_id, int *retry_after);
void		 rate_limit_reset(void);

/*
 * ratelimit.c: token buckets by key (a client id, an address) in a fixed
 * table; one table per kind of limit, e.g.
 *     static struct ratelimit t = { .lock = PTHREAD_MUTEX_INITIALIZER };
 */
#define RL_SLOTS	1024
#define RL_KEY_MAX	64

struct rl_bucket {
	char	key[RL_KEY_MAX];
	double	tokens;
	double	last;		/* monotonic seconds */
};

struct ratelimit {
	pthread_mutex_t		lock;
	struct rl_bucket	slot[RL_SLOTS];
};

/*
 * Takes a token from the bucket of each of the n keys (at most 4), or from
 * none of them: 0, or -1 with *retry_after the seconds (rounded up) until
 * every one of them holds a token again.  rate is tokens a second (<= 0:
 * no limit), burst the size of a bucket.
 */
int		 ratelimit_take(struct ratelimit *, const char *const *keys,
		    size_t n, double rate, double burst, int *retry_after);
/* Gives a taken token back, to buckets that still exist. */
void		 ratelimit_give(struct ratelimit *, const char *const *keys,
		    size_t n, double rate, double burst);
void		 ratelimit_reset(struct ratelimit *);
/*
 * The same for one key, with the bucket kept in the database, so that
 * nodes sharing it (PostgreSQL) share the limit.
 */
struct db;
int		 ratelimit_take_db(struct db *, const char *key, double rate,
		    double burst, int *retry_after);
/* The key of a peer's address: IPv4 as it is, IPv6 by its /64. */
void		 ratelimit_addr_key(const char *addr, char *out, size_t n);

/* idem.c: Idempotency-Key.  Returns 1 when the request was answered. */
int		 idem_begin(struct req *);
void		 idem_end(struct req *);

/* form.c: a field of an x-www-form-urlencoded body, decoded.  0 or -1. */
int		 form_get(const char *body, size_t len, const char *key,
		    char *out, size_t outn);
int		 form_decode(const char *s, size_t n, char *out, size_t outn);

/*
 * multipart.c: the part called name of a multipart/form-data body: its
 * bytes (a slice of body) and its filename ("" when none).  0, or -1 when
 * the body is not multipart or has no such part.
 */
int		 multipart_part(const char *body, size_t len,
		    const char *content_type, const char *name,
		    const char **data, size_t *datalen, char *filename,
		    size_t fnlen);

/*
 * cache.c: rendered answers of hot reads, stamped with the data version
 * (accdata_version) they were rendered at.  rcache_get gives a reference
 * to the entry and returns 1 only when its version is the current one.
 */
void		 rcache_init(size_t max_bytes);	/* 0 turns it off */
void		 rcache_free(void);
/* On a hit, *out is a reference to the body: rblob_unref() it. */
int		 rcache_get(const char *key, int64_t version, struct rblob **out);
void		 rblob_unref(struct rblob *);
const char	*rblob_data(const struct rblob *, size_t *len);
/* Answers with a cached body; takes over the reference. */
void		 resp_blob(struct req *, int status, struct rblob *);
void		 rcache_put(const char *key, int64_t version, const char *body,
		    size_t len);

/* validate.c: per-field validation, all problems at once (code 1000). */
struct vctx {
	json_t	*errors;	/* {"field.path": ["message", ...]} */
};

void		 v_init(struct vctx *);
void		 v_free(struct vctx *);
void		 v_add(struct vctx *, const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
int		 v_failed(const struct vctx *);
/* Answers 400 INVALID_REQUEST with the collected errors; returns 1. */
int		 v_respond(struct vctx *, struct req *);
/* Refuses members of obj not in the NULL-terminated allowed list. */
void		 v_known(struct vctx *, json_t *obj, const char *prefix,
		    const char *const *allowed);
const char	*v_string(struct vctx *, json_t *obj, const char *prefix,
		    const char *key, int required, size_t minlen, size_t maxlen);
int		 v_bool(struct vctx *, json_t *obj, const char *prefix,
		    const char *key, int dflt);
long long	 v_int(struct vctx *, json_t *obj, const char *prefix,
		    const char *key, long long min, long long max, long long dflt);
json_t		*v_object(struct vctx *, json_t *obj, const char *prefix,
		    const char *key, int required);
/* Whether s is YYYY-MM-DD of a real calendar day. */
int		 v_is_date(const char *s);
/* Whether s is an IPv4 or IPv6 address literal. */
int		 v_is_ip(const char *s);

/*
 * proxy.c: the client's address.  The TCP peer's, unless the peer is one
 * of BANKFEED_TRUSTED_PROXIES: then the nearest address of its
 * X-Forwarded-For that is not a trusted proxy.  proxies_init() reads the
 * setting at start, saying on err what is wrong with it (-1).
 */
int		 proxies_init(const char *spec, FILE *err);
void		 req_client_ip(struct req *, char out[46]);

/*
 * List parameters: ?limit= (1-500, default 100) and ?cursor=.  A cursor is
 * the last key seen, sealed (validate.c says how); it opens only for the
 * client and path it was given for.
 */
#define PAGE_KEY_MAX	256
struct page {
	int	 limit;
	char	 after[PAGE_KEY_MAX];	/* the last key seen, "" = start */
};
/* Fills p from the query; answers 400 and returns -1 on bad values. */
int		 page_parse(struct req *, struct page *);
/*
 * Writes "next_cursor": the sealed key when more, else null.  -1 (null
 * written) when the key cannot be sealed: the caller answers 500 rather
 * than end the list early.
 */
int		 page_write_next(struct req *, struct jw *, const char *last_key,
		    int more);
/*
 * A list answer: page_begin() opens {"data": [, the caller writes the
 * items, page_end() closes it with next_cursor (null unless more).  When
 * the cursor cannot be sealed, page_end() answers 500 instead and returns
 * -1: the answer is then no page (not one to cache).
 */
void		 page_begin(struct req *, struct jw *);
int		 page_end(struct req *, struct jw *, const char *last_key,
		    int more);

#endif
