/*
 * server: bankfeed's own HTTP/1.1 server.  Sockets, framing (h1.c),
 * keep-alive and pipelining, answers written without blocking, and the
 * defences a server on the open network needs:
 *
 *  - a deadline for a request's head that starts with its first byte and
 *    does not restart with each byte (a peer dripping one byte every few
 *    seconds is cut off), an idle deadline between requests, a minimum
 *    rate for bodies and answers;
 *  - a limit of connections per peer address and in all, with headroom:
 *    when one is reached, the oldest connection that has not yet sent a
 *    whole request (a slow head, or idle keep-alive) makes room, so slow
 *    sockets can never lock real clients out;
 *  - every refusal, framing error and limit is the catalog's JSON error,
 *    never an HTML page (see dispatch.c for what follows a parsed head).
 *
 * Threads: one per core, each with its own epoll set, all waiting on the
 * one listening socket (EPOLLEXCLUSIVE wakes one).  A connection lives on
 * the thread that accepted it.  A handler that waits for a task suspends
 * its request; whichever thread answers it hands the connection back to its
 * owner through the owner's queue and eventfd.
 *
 * The peer table (addresses, counts, and every connection, for eviction)
 * is shared and guarded by one mutex, taken on accept and close only.  A
 * connection is evicted by a compare-and-swap on its reclaim state and a
 * shutdown() of its socket, under that mutex: its owner closes the socket
 * only after taking it out of the table under the same mutex, so the
 * descriptor cannot have been reused meanwhile.
 */
#define _GNU_SOURCE		/* accept4 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "http/h1.h"

#define MAX_HEAD	16384		/* a request's head, in bytes: 431 past it */
#define MAX_LINE	8192		/* its request line: 414 past it */
#define IN_FIRST	2048		/* first read buffer of a connection */
#define READ_CHUNK	65536		/* body bytes read at once */
#define LINGER_NS	2000000000LL	/* draining a closed request's rest */
#define SCAN_NS		100000000LL	/* how often deadlines are checked */
#define FD_RESERVE	256		/* descriptors kept for files and the database */
#define IP_BUCKETS	4096

enum cstate {
	CS_HEAD,	/* waiting for (the rest of) a request head */
	CS_BODY,	/* reading the body */
	CS_SUSPENDED,	/* the handler answers later, from another thread */
	CS_WRITING,	/* the answer is being written */
	CS_LINGER	/* answered and closing: reading what is left, then close */
};

/* reclaim states */
enum { RC_BUSY, RC_IDLE, RC_EVICTED };

struct ipent {
	unsigned char	 ip[16];
	int		 count;
	struct conn	*conns;		/* this peer's, via ip_next */
	struct ipent	*next;
};

struct worker;

struct conn {
	int			 fd;
	struct worker		*w;
	enum cstate		 state;
	unsigned char		 ip[16];
	char			 peer[46];
	/* in the peer table, under tbl_lock */
	struct ipent		*ipe;
	struct conn		*ip_prev, *ip_next, *g_prev, *g_next;
	atomic_int		 reclaim;
	_Atomic long long	 idle_since;
	/* the owner's */
	struct conn		*w_prev, *w_next, *rnext, *dead_next;
	int			 processing;	/* inside conn_process */
	char			*in;
	size_t			 in_len, in_cap;
	long long		 head_t0;	/* first byte of this head, 0 = none */
	long long		 wait_t0;	/* idle since, or the last progress */
	long long		 body_t0;
	struct req		*r;
	int			 head_only;	/* a HEAD request: no body sent */
	int			 close_after;
	int			 chunked;
	uint64_t		 body_left;
	struct h1_chunked	 ch;
	char			*out;		/* the answer's head and body */
	size_t			 out_len, out_off;
	char			*body;		/* the body, when apart from out */
	size_t			 body_len;
	struct rblob		*body_blob;	/* body is a cached page's: not freed */
	int			 in_epoll;	/* events registered, 0 = none */
};

struct worker {
	pthread_t		 th;
	int			 ep;
	int			 evfd;
	struct server		*s;
	pthread_mutex_t		 qlock;
	struct conn		*resumed;	/* via rnext, under qlock */
	struct conn		*conns;		/* via w_next */
	struct conn		*dead;		/* closed, freed after the batch */
	long long		 next_scan;
	long long		 accept_paused_until;
	int			 listening;
	char			 date[40];
	time_t			 date_t;
};

struct server {
	int		 lfd;
	int		 port;
	unsigned	 nw;
	struct worker	*w;
	atomic_int	 quit;
};

static pthread_mutex_t	 tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipent	*ip_table[IP_BUCKETS];
static struct conn	*all_conns;	/* via g_next */
static int		 total_conns;
static int		 max_total;

/* ---- the peer table ---- */

static unsigned
ip_hash(const unsigned char ip[16])
{
	uint32_t	h = 2166136261u;
	int		i;

	for (i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h % IP_BUCKETS;
}

/* Marks c idle (a whole request not yet read): it may be evicted. */
static void
conn_idle(struct conn *c, long long now)
{
	atomic_store(&c->idle_since, now);
	atomic_store(&c->reclaim, RC_IDLE);
}

/* Claims c for a request.  -1 when it was evicted meanwhile. */
static int
conn_claim(struct conn *c)
{
	int	expect = RC_IDLE;

	if (atomic_compare_exchange_strong(&c->reclaim, &expect, RC_BUSY))
		return 0;
	return expect == RC_BUSY ? 0 : -1;
}

/*
 * Evicts the idle connection of list (via ip_next when by_ip, else g_next)
 * that has been idle longest.  Under tbl_lock.  1 when one was.
 */
static int
evict_oldest(struct conn *list, int by_ip)
{
	struct conn	*c, *best = NULL;
	long long	 best_t = 0;

	for (c = list; c != NULL; c = by_ip ? c->ip_next : c->g_next) {
		long long t = atomic_load(&c->idle_since);

		if (atomic_load(&c->reclaim) == RC_IDLE &&
		    (best == NULL || t < best_t)) {
			best = c;
			best_t = t;
		}
	}
	if (best != NULL) {
		int expect = RC_IDLE;

		if (atomic_compare_exchange_strong(&best->reclaim, &expect,
		    RC_EVICTED)) {
			shutdown(best->fd, SHUT_RDWR);
			return 1;
		}
	}
	return 0;
}

/*
 * Takes a new connection into the table.  0, or the error to refuse it
 * with: TOO_MANY_REQUESTS when its peer is at its limit and none of the
 * peer's connections could make room, SERVICE_UNAVAILABLE when the server
 * is full.  An evicted connection still counts until its owner closes it:
 * the limits hold with a short overshoot of at most one per accept.
 */
static enum err
tbl_add(struct conn *c)
{
	struct ipent	*e;
	unsigned	 h = ip_hash(c->ip);
	enum err	 rc = ERR_OK;

	pthread_mutex_lock(&tbl_lock);
	for (e = ip_table[h]; e != NULL; e = e->next)
		if (memcmp(e->ip, c->ip, 16) == 0)
			break;
	if (e != NULL && cfg.max_conns_per_ip > 0 &&
	    e->count >= cfg.max_conns_per_ip && !evict_oldest(e->conns, 1)) {
		rc = ERR_TOO_MANY_REQUESTS;
		goto out;
	}
	if (total_conns >= max_total && !evict_oldest(all_conns, 0)) {
		rc = ERR_SERVICE_UNAVAILABLE;
		goto out;
	}
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			rc = ERR_SERVICE_UNAVAILABLE;
			goto out;
		}
		memcpy(e->ip, c->ip, 16);
		e->next = ip_table[h];
		ip_table[h] = e;
	}
	e->count++;
	c->ipe = e;
	c->ip_next = e->conns;
	if (e->conns != NULL)
		e->conns->ip_prev = c;
	e->conns = c;
	c->g_next = all_conns;
	if (all_conns != NULL)
		all_conns->g_prev = c;
	all_conns = c;
	total_conns++;
out:
	pthread_mutex_unlock(&tbl_lock);
	return rc;
}

/* Takes c out of the table and closes its socket, under the table's lock. */
static void
tbl_remove_close(struct conn *c)
{
	struct ipent	*e = c->ipe, **pp;

	pthread_mutex_lock(&tbl_lock);
	if (e != NULL) {
		if (c->ip_prev != NULL)
			c->ip_prev->ip_next = c->ip_next;
		else
			e->conns = c->ip_next;
		if (c->ip_next != NULL)
			c->ip_next->ip_prev = c->ip_prev;
		if (c->g_prev != NULL)
			c->g_prev->g_next = c->g_next;
		else
			all_conns = c->g_next;
		if (c->g_next != NULL)
			c->g_next->g_prev = c->g_prev;
		total_conns--;
		if (--e->count == 0) {
			for (pp = &ip_table[ip_hash(e->ip)]; *pp != e;
			    pp = &(*pp)->next)
				;
			*pp = e->next;
			free(e);
		}
		c->ipe = NULL;
	}
	close(c->fd);
	c->fd = -1;
	pthread_mutex_unlock(&tbl_lock);
}

/* ---- requests ---- */

static void
req_free(struct req *r)
{
	size_t	i;

	if (r == NULL)
		return;
	/* Bodies may carry secrets (client secrets, bank credentials). */
	if (r->body.p != NULL)
		sodium_memzero(r->body.p, r->body.len);
	buf_free(&r->body);
	buf_free(&r->out);
	rblob_unref(r->body_ref);
	if (r->json != NULL)
		json_decref(r->json);
	for (i = 0; i < r->nhdrs; i++)
		free(r->hdr_value[i]);
	if (r->raw != NULL) {
		/* The head may hold a client secret (HTTP Basic). */
		sodium_memzero(r->raw, strlen(r->raw));
		free(r->raw);
	}
	free((char *)r->url);
	free(r->qbuf);
	free(r->param_buf);
	free(r);
}

/*
 * The path of a request target, percent-decoded (a bad escape stays as
 * it came).  An absolute-form target (http://host/path) gives its path.
 * NULL when the path is not one (no leading "/", or an encoded NUL).
 */
static char *
target_path(const char *t, size_t n)
{
	size_t	 i, o = 0, q, skip = 0;
	char	*p;

	if (n > 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	if (skip > 0) {
		const char *s = memchr(t + skip, '/', n - skip);

		if (s == NULL)
			return strdup("/");
		n -= (size_t)(s - t);
		t = s;
	}
	for (q = 0; q < n && t[q] != '?' && t[q] != '#'; q++)
		;
	if (q == 0 || t[0] != '/' || (p = malloc(q + 1)) == NULL)
		return NULL;
	for (i = 0; i < q; i++) {
		int	hi = -1, lo = -1;

		if (t[i] == '%' && i + 2 < q) {
			hi = h1_hexval(t[i + 1]);
			lo = h1_hexval(t[i + 2]);
		}
		if (hi < 0 || lo < 0) {
			p[o++] = t[i];
			continue;
		}
		if (hi == 0 && lo == 0) {
			free(p);
			return NULL;
		}
		p[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	p[o] = '\0';
	return p;
}

/*
 * A request from its parsed head: its own copy of the head, with method,
 * field names and values NUL-terminated in it.  NULL without memory.
 */
static struct req *
req_from_head(struct conn *c, const struct h1_head *h)
{
	struct req	*r;
	char		*raw;
	size_t		 i, qoff;
	const char	*q;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((raw = malloc(h->len + 1)) == NULL) {
		free(r);
		return NULL;
	}
	memcpy(raw, c->in, h->len);
	raw[h->len] = '\0';
	r->raw = raw;
	r->conn = c;
	snprintf(r->peer_ip, sizeof(r->peer_ip), "%s", c->peer);
	/* Offsets into c->in are the same in the copy. */
	r->method = raw + (h->method - c->in);
	raw[(h->method - c->in) + h->mlen] = '\0';
	for (i = 0; i < h->nf && i < REQ_MAX_FIELDS; i++) {
		size_t no = (size_t)(h->f[i].name - c->in);
		size_t vo = (size_t)(h->f[i].value - c->in);

		raw[no + h->f[i].nlen] = '\0';
		raw[vo + h->f[i].vlen] = '\0';
		r->fname[i] = raw + no;
		r->fvalue[i] = raw + vo;
	}
	r->nfields = i;
	r->url = target_path(h->target, h->tlen);
	q = memchr(h->target, '?', h->tlen);
	if (q != NULL) {
		const char *hash = memchr(q, '#', h->tlen -
		    (size_t)(q - h->target));

		qoff = (size_t)(q - c->in) + 1;
		r->query = raw + qoff;
		raw[hash != NULL ? (size_t)(hash - c->in) :
		    (size_t)(h->target - c->in) + h->tlen] = '\0';
	}
	return r;
}

/* ---- writing answers ---- */

static const char *
http_date(struct worker *w)
{
	time_t		now = time(NULL);
	struct tm	tm;

	if (now != w->date_t) {
		gmtime_r(&now, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT",
		    &tm);
		w->date_t = now;
	}
	return w->date;
}

/* Lets go of the answer's body: freed, or the cache's reference given back. */
static void
body_drop(struct conn *c)
{
	if (c->body_blob != NULL)
		rblob_unref(c->body_blob);
	else
		free(c->body);
	c->body_blob = NULL;
	c->body = NULL;
}

/*
 * Renders r's answer into c->out (head) and c->body (body).  The request
 * ends the connection when the client or the handler said so, when the
 * request could not be read whole, or when the server stops.
 */
static int
render(struct conn *c)
{
	struct req	*r = c->r;
	struct buf	 h;
	size_t		 i, blen = 0;
	int		 body_allowed;

	buf_init(&h, 64u << 10);
	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdr_name[i], "Connection") == 0 &&
		    strcasecmp(r->hdr_value[i], "close") == 0)
			c->close_after = 1;
	if (server_stopping())
		c->close_after = 1;
	body_allowed = r->status >= 200 && r->status != 204 && r->status != 304;
	if (body_allowed && r->body_ref != NULL) {
		/* A cached page is written from the cache's own copy. */
		c->body_blob = r->body_ref;
		r->body_ref = NULL;
		c->body = (char *)rblob_data(c->body_blob, &blen);
	} else
		c->body = body_allowed ? buf_steal(&r->out, &blen) : NULL;
	c->body_len = blen;
	buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", r->status,
	    h1_reason(r->status), http_date(c->w));
	if (body_allowed) {
		buf_printf(&h, "Content-Length: %zu\r\n", blen);
		if (!r->out_empty)
			buf_printf(&h, "Content-Type: %s\r\n", r->vendor_type ?
			    "application/vnd.bankfeed.v1+json" :
			    "application/json");
	}
	buf_printf(&h, "X-Request-Id: %s\r\nCache-Control: no-store\r\n",
	    r->request_id);
	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdr_name[i], "Connection") != 0)
			buf_printf(&h, "%s: %s\r\n", r->hdr_name[i],
			    r->hdr_value[i]);
	if (c->close_after)
		buf_addstr(&h, "Connection: close\r\n");
	if (buf_addstr(&h, "\r\n") == -1) {
		buf_free(&h);
		return -1;
	}
	if (c->head_only) {
		body_drop(c);
		c->body_len = 0;
	}
	free(c->out);
	c->out = buf_steal(&h, &c->out_len);
	c->out_off = 0;
	return 0;
}

static void conn_close(struct conn *);
static void conn_process(struct conn *);

static void
set_events(struct conn *c, unsigned ev)
{
	struct epoll_event	e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (ev == 0) {
		if (c->in_epoll)
			epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->in_epoll = 0;
		return;
	}
	if (c->in_epoll != (int)ev)
		epoll_ctl(c->w->ep, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		    c->fd, &e);
	c->in_epoll = (int)ev;
}

/* The request is over: log it, free it, and wait for the next one. */
static void
request_end(struct conn *c, int aborted)
{
	if (c->r != NULL) {
		dispatch_done(c->r, aborted);
		req_free(c->r);
		c->r = NULL;
	}
	body_drop(c);
	c->body_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

/* Starts the lingering close: no more answers, the rest is read and dropped. */
static void
conn_linger(struct conn *c, long long now)
{
	shutdown(c->fd, SHUT_WR);
	c->state = CS_LINGER;
	c->wait_t0 = now;
	set_events(c, EPOLLIN | EPOLLRDHUP);
}

/*
 * Writes what is left of the answer.  When it is all out: the request
 * ends, and the connection waits for the next one (processing any that
 * came pipelined) or closes.
 */
static void
conn_write(struct conn *c)
{
	long long	now;

	while (c->out_off < c->out_len + c->body_len) {
		struct iovec	iov[2];
		int		n = 0;
		ssize_t		k;

		if (c->out_off < c->out_len) {
			iov[n].iov_base = c->out + c->out_off;
			iov[n++].iov_len = c->out_len - c->out_off;
			if (c->body_len > 0) {
				iov[n].iov_base = c->body;
				iov[n++].iov_len = c->body_len;
			}
		} else {
			iov[n].iov_base = c->body + (c->out_off - c->out_len);
			iov[n++].iov_len = c->out_len + c->body_len - c->out_off;
		}
		k = writev(c->fd, iov, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = CS_WRITING;
			c->wait_t0 = clock_mono_ns();
			set_events(c, EPOLLOUT);
			return;
		}
		if (k <= 0) {
			request_end(c, 1);
			conn_close(c);
			return;
		}
		c->out_off += (size_t)k;
	}
	now = clock_mono_ns();
	request_end(c, 0);
	if (c->close_after) {
		conn_linger(c, now);
		return;
	}
	c->state = CS_HEAD;
	c->head_t0 = 0;
	c->wait_t0 = now;
	conn_idle(c, now);
	set_events(c, EPOLLIN | EPOLLRDHUP);
	if (c->in_len > 0) {
		/* Pipelined requests: conn_process's loop takes them. */
		if (!c->processing)
			conn_process(c);
	} else if (c->in_cap > IN_FIRST) {
		/* An idle connection keeps no large buffer. */
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

/* Answers the current request (from its handler or an error) and writes. */
static void
conn_answer(struct conn *c)
{
	dispatch_finish(c->r);
	if (render(c) == -1) {
		request_end(c, 1);
		conn_close(c);
		return;
	}
	conn_write(c);
}

/*
 * Answers with a catalog error before or instead of the handler, and ends
 * the connection after it: what is left of the request cannot be read
 * safely.  A request is made when the head could not be parsed.
 */
static void
conn_fail(struct conn *c, enum err e, const char *field, const char *why)
{
	if (c->r == NULL) {
		if ((c->r = calloc(1, sizeof(*c->r))) == NULL) {
			conn_close(c);
			return;
		}
		c->r->conn = c;
		snprintf(c->r->peer_ip, sizeof(c->r->peer_ip), "%s", c->peer);
		/* No route: the log line says "-" for the path. */
		c->r->url = strdup("-");
		dispatch_prepare(c->r);
	}
	c->close_after = 1;
	c->r->answered = 0;
	buf_reset(&c->r->out);
	if (field != NULL)
		resp_error_field(c->r, e, field, "%s", why);
	else
		resp_error(c->r, e, NULL, NULL);
	c->r->idem_pending = 0;
	c->in_len = 0;
	conn_answer(c);
}

/* 413 for a body over the route's limit. */
static void
fail_too_large(struct conn *c)
{
	char	msg[96];

	snprintf(msg, sizeof(msg), "The body is larger than %zu bytes.",
	    c->r->body.max);
	conn_fail(c, ERR_PAYLOAD_TOO_LARGE, "body", msg);
}

/* Runs the handler of the request whose body is whole. */
static void
conn_dispatch(struct conn *c)
{
	c->state = CS_SUSPENDED;
	dispatch(c->r);
	if (c->r->suspended) {
		/* Not watched while another thread holds the request. */
		set_events(c, 0);
		return;
	}
	c->state = CS_WRITING;
	conn_answer(c);
}

/* Drops the first n bytes of the input buffer. */
static void
in_consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* The head is whole: make the request and decide how to read its body. */
static void
conn_start(struct conn *c, const struct h1_head *h)
{
	if (conn_claim(c) == -1) {
		conn_close(c);
		return;
	}
	if ((c->r = req_from_head(c, h)) == NULL) {
		conn_close(c);
		return;
	}
	c->close_after = h->close;
	c->head_only = h->mlen == 4 && memcmp(h->method, "HEAD", 4) == 0;
	c->chunked = h->chunked;
	c->body_left = h->has_length ? h->length : 0;
	h1_chunked_init(&c->ch);
	in_consume(c, h->len);
	if (c->r->url == NULL) {
		c->r->url = strdup("-");
		dispatch_prepare(c->r);
		conn_fail(c, ERR_INVALID_REQUEST, "path",
		    "The request target must be a path starting with /.");
		return;
	}
	dispatch_prepare(c->r);
	if (h->has_length && h->length > c->r->body.max) {
		/* At once, and without 100 Continue: the body is not wanted. */
		fail_too_large(c);
		return;
	}
	if (h->expect_continue && (c->chunked || c->body_left > 0) &&
	    !c->r->after_stop) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		/* Nothing else is being written: the socket takes it. */
		if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(cont) - 1) {
			request_end(c, 1);
			conn_close(c);
			return;
		}
	}
	c->state = CS_BODY;
	c->body_t0 = c->wait_t0 = clock_mono_ns();
}

/* Moves what the input holds of the body into the request. */
static void
conn_body(struct conn *c)
{
	const char	*why;
	size_t		 used;
	int		 rc;

	if (c->chunked) {
		rc = h1_chunked_feed(&c->ch, c->in, c->in_len, &used,
		    &c->r->body, &why);
		in_consume(c, used);
		if (rc == -1) {
			conn_fail(c, ERR_INVALID_REQUEST, "Transfer-Encoding", why);
			return;
		}
		if (rc == -2) {
			fail_too_large(c);
			return;
		}
		if (c->ch.done)
			conn_dispatch(c);
		return;
	}
	used = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
	if (used > 0) {
		if (buf_add(&c->r->body, c->in, used) == -1) {
			conn_fail(c, ERR_SERVICE_UNAVAILABLE, NULL, NULL);
			return;
		}
		in_consume(c, used);
		c->body_left -= used;
	}
	if (c->body_left == 0)
		conn_dispatch(c);
}

/* The error a head's parse status answers with. */
static enum err
head_error(enum h1_status st)
{
	switch (st) {
	case H1_URI_TOO_LONG:
		return ERR_URI_TOO_LONG;
	case H1_HEAD_TOO_LARGE:
		return ERR_HEADERS_TOO_LARGE;
	case H1_VERSION:
		return ERR_HTTP_VERSION_NOT_SUPPORTED;
	case H1_NOT_IMPLEMENTED:
		return ERR_NOT_IMPLEMENTED;
	default:
		return ERR_INVALID_REQUEST;
	}
}

/* Works through the input: heads, bodies, and what follows pipelined. */
static void
process_loop(struct conn *c)
{
	struct h1_head	 h;		/* about 2 KB: the thread's stack has room */
	enum h1_status	 st;
	const char	*why;

	while (c->fd >= 0) {
		if (c->state == CS_BODY) {
			if (c->in_len == 0)
				return;
			conn_body(c);
			continue;
		}
		if (c->state != CS_HEAD || c->in_len == 0)
			return;
		if (c->head_t0 == 0)
			c->head_t0 = clock_mono_ns();
		st = h1_parse_head(c->in, c->in_len, MAX_HEAD, MAX_LINE, &h, &why);
		if (st == H1_INCOMPLETE)
			return;
		if (st != H1_OK) {
			if (conn_claim(c) == -1)
				conn_close(c);
			else
				conn_fail(c, head_error(st), "http", why);
			return;
		}
		conn_start(c, &h);
		if (c->fd >= 0 && c->state == CS_BODY && !c->chunked &&
		    c->body_left == 0)
			conn_dispatch(c);
	}
}

/*
 * Answers written at once return here rather than recursing, so a
 * buffer full of pipelined requests is taken in a loop.
 */
static void
conn_process(struct conn *c)
{
	c->processing = 1;
	process_loop(c);
	c->processing = 0;
}

/* Makes room in the input buffer for reading: 0, or -1 when full. */
static int
in_room(struct conn *c)
{
	size_t	want, cap;
	char	*p;

	if (c->in_cap - c->in_len > 0 && c->in != NULL)
		return 0;
	cap = c->in_cap == 0 ? IN_FIRST : c->in_cap * 2;
	want = c->state == CS_BODY ? READ_CHUNK : MAX_HEAD + 1;
	if (cap > want)
		cap = want;
	if (cap <= c->in_len)
		return -1;
	if ((p = realloc(c->in, cap)) == NULL)
		return -1;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

static void
conn_read(struct conn *c)
{
	ssize_t	n;

	for (;;) {
		if (c->state == CS_LINGER) {
			char	sink[4096];

			n = read(c->fd, sink, sizeof(sink));
			if (n > 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			conn_close(c);
			return;
		}
		if (c->state != CS_HEAD && c->state != CS_BODY)
			return;
		if (in_room(c) == -1) {
			/* A head that fills the buffer is too large. */
			conn_process(c);
			if (c->fd >= 0 && c->state == CS_HEAD)
				conn_fail(c, ERR_HEADERS_TOO_LARGE, "http",
				    "The request's headers are larger than "
				    "this server accepts.");
			return;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The peer is gone: a request half read is dropped. */
			request_end(c, 1);
			conn_close(c);
			return;
		}
		c->in_len += (size_t)n;
		if (c->state == CS_BODY)
			c->wait_t0 = clock_mono_ns();
		conn_process(c);
		if (c->fd < 0 || c->in_len < c->in_cap)
			return;
	}
}

static void
conn_close(struct conn *c)
{
	struct worker	*w = c->w;

	if (c->fd < 0)
		return;
	if (c->r != NULL)
		request_end(c, 1);
	if (c->in_epoll)
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	c->in_epoll = 0;
	tbl_remove_close(c);
	if (c->w_prev != NULL)
		c->w_prev->w_next = c->w_next;
	else
		w->conns = c->w_next;
	if (c->w_next != NULL)
		c->w_next->w_prev = c->w_prev;
	free(c->in);
	free(c->out);
	body_drop(c);
	c->in = c->out = NULL;
	/*
	 * Freed once the current batch of events is done: callers up the
	 * stack and later events of the batch may still look at c->fd.
	 */
	c->dead_next = w->dead;
	w->dead = c;
}

static void
free_dead(struct worker *w)
{
	struct conn	*c, *next;

	for (c = w->dead; c != NULL; c = next) {
		next = c->dead_next;
		free(c);
	}
	w->dead = NULL;
}

/* ---- deadlines ---- */

/*
 * Cuts what has waited too long.  A head gets header_timeout from its
 * first byte; an idle connection idle_timeout; a body must come at
 * min_body_rate bytes a second after a first header_timeout; an answer
 * must move within idle_timeout; a lingering close ends after 2 seconds.
 */
static void
scan_deadlines(struct worker *w, long long now)
{
	struct conn	*c, *next;
	long long	 hdr = cfg.header_timeout * 1000000000LL;
	long long	 idle = cfg.idle_timeout * 1000000000LL;

	for (c = w->conns; c != NULL; c = next) {
		next = c->w_next;
		switch (c->state) {
		case CS_HEAD:
			if (atomic_load(&c->reclaim) == RC_EVICTED)
				conn_close(c);
			else if (c->head_t0 != 0 && now - c->head_t0 > hdr) {
				if (conn_claim(c) == 0)
					conn_fail(c, ERR_REQUEST_TIMEOUT, "http",
					    "The request's head did not arrive "
					    "in time.");
				else
					conn_close(c);
			} else if (c->head_t0 == 0 && now - c->wait_t0 > idle)
				conn_close(c);
			break;
		case CS_BODY: {
			long long allowed = hdr + (cfg.min_body_rate > 0 ?
			    (long long)((double)c->r->body.len * 1e9 /
			    (double)cfg.min_body_rate) : idle);

			if (now - c->body_t0 > allowed || now - c->wait_t0 > idle)
				conn_fail(c, ERR_REQUEST_TIMEOUT, "body",
				    "The request's body did not arrive in time.");
			break;
		}
		case CS_WRITING:
			if (now - c->wait_t0 > idle) {
				request_end(c, 1);
				conn_close(c);
			}
			break;
		case CS_LINGER:
			if (now - c->wait_t0 > LINGER_NS)
				conn_close(c);
			break;
		case CS_SUSPENDED:
			break;
		}
	}
}

/* ---- accepting ---- */

static void
peer_of(const struct sockaddr_storage *ss, unsigned char ip[16], char *text,
    size_t n)
{
	memset(ip, 0, 16);
	text[0] = '\0';
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a->sin_addr, 4);
		inet_ntop(AF_INET, &a->sin_addr, text, (socklen_t)n);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		memcpy(ip, &a->sin6_addr, 16);
		inet_ntop(AF_INET6, &a->sin6_addr, text, (socklen_t)n);
	}
}

/*
 * A connection refused by a limit still gets the catalog's answer, in one
 * write that is not waited for, and is closed.
 */
static void
refuse(int fd, enum err e, struct worker *w)
{
	struct req	 r;
	struct buf	 h;
	char		*msg;
	size_t		 len, i;

	memset(&r, 0, sizeof(r));
	buf_init(&r.out, 4096);
	memcpy(r.request_id, "req_refused", 12);
	resp_header(&r, "Retry-After", "1");
	resp_error(&r, e, NULL, NULL);
	buf_init(&h, 8192);
	buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %zu\r\n"
	    "Content-Type: application/json\r\nCache-Control: no-store\r\n",
	    r.status, h1_reason(r.status), http_date(w), r.out.len);
	for (i = 0; i < r.nhdrs; i++)
		buf_printf(&h, "%s: %s\r\n", r.hdr_name[i], r.hdr_value[i]);
	buf_printf(&h, "Connection: close\r\n\r\n%s", buf_str(&r.out));
	msg = buf_steal(&h, &len);
	if (msg != NULL && send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		shutdown(fd, SHUT_WR);
	free(msg);
	for (i = 0; i < r.nhdrs; i++)
		free(r.hdr_value[i]);
	buf_free(&r.out);
	close(fd);
}

static void
accept_some(struct worker *w)
{
	int	i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage	 ss;
		socklen_t		 sl = sizeof(ss);
		struct conn		*c;
		enum err		 e;
		int			 fd, one = 1;
		long long		 now;

		fd = accept4(w->s->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting a moment. */
				log_warn("msg=\"cannot accept\" reason=\"%s\"",
				    strerror(errno));
				epoll_ctl(w->ep, EPOLL_CTL_DEL, w->s->lfd, NULL);
				w->listening = 0;
				w->accept_paused_until = clock_mono_ns() +
				    100000000LL;
			}
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->w = w;
		peer_of(&ss, c->ip, c->peer, sizeof(c->peer));
		now = clock_mono_ns();
		conn_idle(c, now);
		if ((e = tbl_add(c)) != ERR_OK) {
			log_debug("msg=\"connection refused\" peer=%s code=%d",
			    c->peer, err_info(e)->code);
			free(c);
			refuse(fd, e, w);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->state = CS_HEAD;
		c->wait_t0 = now;
		c->w_next = w->conns;
		if (w->conns != NULL)
			w->conns->w_prev = c;
		w->conns = c;
		set_events(c, EPOLLIN | EPOLLRDHUP);
	}
}

static void
listen_on(struct worker *w)
{
	struct epoll_event	e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	e.data.ptr = NULL;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->s->lfd, &e) == 0)
		w->listening = 1;
}

/* Answers requests that other threads resumed. */
static void
take_resumed(struct worker *w)
{
	struct conn	*c, *next;
	uint64_t	 v;

	if (read(w->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("msg=\"eventfd read failed\"");
	pthread_mutex_lock(&w->qlock);
	c = w->resumed;
	w->resumed = NULL;
	pthread_mutex_unlock(&w->qlock);
	for (; c != NULL; c = next) {
		next = c->rnext;
		c->rnext = NULL;
		c->state = CS_WRITING;
		conn_answer(c);
	}
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct conn		*c, *next;
	struct epoll_event	 ev[128];
	int			 n, i;
	long long		 now;

	while (!atomic_load(&w->s->quit)) {
		n = epoll_wait(w->ep, ev, 128, (int)(SCAN_NS / 1000000));
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;

			if (c == NULL) {
				accept_some(w);
				continue;
			}
			if (c == (struct conn *)w) {
				take_resumed(w);
				continue;
			}
			if (c->fd < 0)
				continue;
			if (c->state == CS_WRITING && (ev[i].events & EPOLLOUT))
				conn_write(c);
			else if (ev[i].events & (EPOLLIN | EPOLLRDHUP |
			    EPOLLHUP | EPOLLERR)) {
				if (c->state == CS_WRITING) {
					request_end(c, 1);
					conn_close(c);
				} else
					conn_read(c);
			}
		}
		now = clock_mono_ns();
		free_dead(w);
		if (now >= w->next_scan) {
			scan_deadlines(w, now);
			w->next_scan = now + SCAN_NS;
			free_dead(w);
			if (!w->listening && now >= w->accept_paused_until &&
			    !server_stopping())
				listen_on(w);
		}
	}
	/* Suspended requests belong to another thread until resumed. */
	for (c = w->conns; c != NULL; c = next) {
		next = c->w_next;
		if (c->state != CS_SUSPENDED)
			conn_close(c);
	}
	free_dead(w);
	return NULL;
}

void
req_suspend(struct req *r)
{
	r->suspended = 1;
}

void
req_resume(struct req *r)
{
	struct conn	*c = r->conn;
	struct worker	*w = c->w;
	uint64_t	 one = 1;
	void		(*then)(struct req *, void *) = r->on_resume;

	if (then != NULL) {
		r->on_resume = NULL;
		then(r, r->on_resume_arg);
	}
	if (!r->answered)
		resp_internal(r, "resumed without an answer");
	pthread_mutex_lock(&w->qlock);
	c->rnext = w->resumed;
	w->resumed = c;
	pthread_mutex_unlock(&w->qlock);
	if (write(w->evfd, &one, sizeof(one)) < 0)
		log_warn("msg=\"eventfd write failed\"");
}

/* ---- start and stop ---- */

/*
 * Raises the soft limit of open descriptors to the hard one: the total
 * connection limit is what it leaves after FD_RESERVE.
 */
static void
fd_budget(void)
{
	struct rlimit	rl;
	long long	have;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		have = rl.rlim_cur == RLIM_INFINITY ? 1LL << 30 :
		    (long long)rl.rlim_cur;
	} else
		have = 1024;
	max_total = (int)(cfg.max_connections < have - FD_RESERVE ?
	    cfg.max_connections : have - FD_RESERVE);
	if (max_total < 16)
		max_total = 16;
	if (max_total < cfg.max_connections)
		log_warn("msg=\"fewer descriptors than max-connections\" "
		    "max_connections=%d", max_total);
}

static int
listen_socket(const char *host, int port, int *bound)
{
	struct addrinfo		 hints, *ai = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 portstr[16];
	int			 fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		log_error("msg=\"cannot resolve listen address\" host=\"%s\"", host);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		log_error("msg=\"cannot listen\" host=\"%s\" port=%d reason=\"%s\"",
		    host, port, strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	*bound = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port :
	    ((struct sockaddr_in *)(void *)&ss)->sin_port);
	return fd;
}

int
server_start(struct server **out, const char *host, int port)
{
	struct server		*s;
	struct epoll_event	 e;
	unsigned		 i;

	*out = NULL;
	fd_budget();
	if (hold_start() == -1)
		log_warn("msg=\"cannot start the thread of held answers; they "
		    "go out at once\"");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if ((s->lfd = listen_socket(host, port, &s->port)) == -1) {
		free(s);
		return -1;
	}
	s->nw = cfg.threads > 0 ? (unsigned)cfg.threads :
	    (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (s->nw < 1)
		s->nw = 1;
	if ((s->w = calloc(s->nw, sizeof(*s->w))) == NULL) {
		close(s->lfd);
		free(s);
		return -1;
	}
	for (i = 0; i < s->nw; i++) {
		struct worker *w = &s->w[i];

		w->s = s;
		pthread_mutex_init(&w->qlock, NULL);
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.ptr = w;
		if (w->ep == -1 || w->evfd == -1 ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &e) == -1) {
			log_error("msg=\"cannot set up the HTTP threads\"");
			return -1;
		}
		listen_on(w);
	}
	for (i = 0; i < s->nw; i++)
		if (pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i]) != 0) {
			log_error("msg=\"cannot start the HTTP threads\"");
			return -1;
		}
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
	unsigned	i;
	uint64_t	one = 1;

	if (s == NULL)
		return;
	/*
	 * The listening socket stays open during the grace period: a request
	 * that arrives then gets 503 SERVICE_UNAVAILABLE with Retry-After
	 * (see dispatch) instead of a refused connection.
	 */
	dispatch_stop();
	hold_stop();
	if (release != NULL)
		release();
	deadline = clock_mono_ns() + (long long)grace_seconds * 1000000000LL;
	while (dispatch_inflight() > 0 && clock_mono_ns() < deadline)
		usleep(10000);
	if (dispatch_inflight() > 0)
		log_warn("msg=\"stopping with requests still in flight\" count=%d",
		    dispatch_inflight());
	atomic_store(&s->quit, 1);
	for (i = 0; i < s->nw; i++)
		if (write(s->w[i].evfd, &one, sizeof(one)) < 0)
			log_warn("msg=\"eventfd write failed\"");
	for (i = 0; i < s->nw; i++) {
		pthread_join(s->w[i].th, NULL);
		close(s->w[i].ep);
		close(s->w[i].evfd);
		pthread_mutex_destroy(&s->w[i].qlock);
	}
	close(s->lfd);
	free(s->w);
	free(s);
}
