/*
 * xs2a_net: the XS2A connector's HTTP exchanges, all on one network
 * thread that owns one libcurl multi handle shared by every operation.
 *
 * Why a thread of its own, and not polling: the engine wakes a task only
 * by time.  Polling curl_multi_perform() from each task's step every few
 * milliseconds would cost 500 waiting syncs thousands of wake-ups a second
 * (each a scan of the engine's job list) and still add up to a poll period
 * of latency to every exchange.  Socket watching inside the engine would
 * tie the engine's workers to libcurl.  Instead the connector keeps its
 * sockets to itself: this thread sleeps in epoll_wait() on the sockets
 * libcurl names (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION) and on
 * an eventfd that brings it out for new work, and hands libcurl only the
 * sockets that are ready (curl_multi_socket_action()): with 2000
 * exchanges in flight, an answer costs the work of its own socket, not a
 * walk over all of them as curl_multi_perform() and curl_multi_poll()
 * make.  When an exchange ends it calls the operation's wake function:
 * engine_wake() for a sync task, so the task is due at once, and
 * bank_notify() for bank_run_blocking().  A waiting sync then holds a
 * socket and a few kilobytes, no thread, and burns no CPU while the bank
 * thinks; its step runs on a worker only when there is an answer to read.
 *
 * Threads: an exchange's easy handle is set up by the operation's thread,
 * handed over through `queue`, and touched only by the network thread
 * until it is done; then the operation reads it.  `lock` guards the queue
 * and the state of every exchange, and is only ever held for a few
 * instructions: a wake function runs outside it (engine_wake() takes the
 * engine's lock, whose holder may wait on the database, whose writer may
 * be a worker about to start its next exchange).  While a wake runs the
 * exchange is marked `waking`, and xs2a_xfer_free() waits for the mark to
 * go, so no wake comes after an operation is freed.
 */
#include "banks/xs2a_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>

#include "core/lazycurl.h"
#include "core/log.h"

/*
 * Idle connections kept open for the next exchange with a bank: a wave of
 * answers to hundreds of syncs is followed by a wave of their next
 * requests, which find one instead of connecting again.
 */
#define MAXCONNECTS		1024
#define CONNECT_TIMEOUT_MS	10000L
#define EVENTS_MAX		256

enum xf_state { XF_NEW, XF_QUEUED, XF_RUNNING, XF_DONE };

struct xs2a_xfer {
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*body;		/* the request's, wiped */
	size_t			 bodylen;
	struct buf		 in;		/* the answer's body */
	struct xs2a_resp	 resp;
	enum xf_state		 state;
	int			 abandoned;
	int			 waking;	/* its wake function runs */
	struct bank_ctx		 waker;		/* wake, wake_arg only */
	struct xs2a_xfer	*next;		/* queue or cancel list */
};

static const struct lazycurl	*C;
static pthread_once_t		 once = PTHREAD_ONCE_INIT;
static int			 up;		/* the thread runs */
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 woke = PTHREAD_COND_INITIALIZER;
static CURLM			*multi;
static struct xs2a_xfer		*queue, *cancels;
static atomic_long		 live;
/* The network thread's: its epoll set, its wake-up, libcurl's timer. */
static int			 epfd = -1, evfd = -1;
static long long		 timer_at = -1;	/* monotonic ms, -1 none */

long
xs2a_net_live(void)
{
	return atomic_load(&live);
}

static void
xfer_destroy(struct xs2a_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		C->easy_cleanup(x->easy);
	if (x->hdrs != NULL)
		C->slist_free_all(x->hdrs);
	if (x->body != NULL) {
		sodium_memzero(x->body, x->bodylen);
		free(x->body);
	}
	buf_free(&x->in);
	free(x);
	atomic_fetch_sub(&live, 1);
}

/*
 * Marks x done and, unless it was abandoned, calls its wake function with
 * the lock released.
 */
static void
done(struct xs2a_xfer *x)
{
	int	wake;

	pthread_mutex_lock(&lock);
	x->state = XF_DONE;
	if ((wake = !x->abandoned))
		x->waking = 1;
	pthread_mutex_unlock(&lock);
	if (!wake)
		return;
	bank_notify(&x->waker);
	pthread_mutex_lock(&lock);
	x->waking = 0;
	pthread_cond_broadcast(&woke);
	pthread_mutex_unlock(&lock);
}

/*
 * Moves queued exchanges into the multi handle, frees those abandoned
 * before they ran, and removes and frees cancelled ones.  Which is which
 * is decided under the lock: an exchange marked running here and
 * abandoned later comes back through the cancel list, once.
 */
static void
take_work(void)
{
	struct xs2a_xfer	*q, *c, *x, *add = NULL, *dead = NULL;

	pthread_mutex_lock(&lock);
	q = queue;
	c = cancels;
	queue = cancels = NULL;
	while ((x = q) != NULL) {
		q = x->next;
		if (x->abandoned) {
			x->next = dead;
			dead = x;
		} else {
			x->state = XF_RUNNING;
			x->next = add;
			add = x;
		}
	}
	pthread_mutex_unlock(&lock);
	while ((x = dead) != NULL) {
		dead = x->next;
		xfer_destroy(x);
	}
	while ((x = add) != NULL) {
		add = x->next;
		if (C->multi_add_handle(multi, x->easy) == CURLM_OK)
			continue;
		x->resp.cc = CURLE_OUT_OF_MEMORY;
		x->resp.body = "";
		done(x);
	}
	while ((x = c) != NULL) {
		c = x->next;
		if (x->state == XF_RUNNING)
			C->multi_remove_handle(multi, x->easy);
		xfer_destroy(x);
	}
}

static void
finish(CURL *easy, CURLcode cc)
{
	struct xs2a_xfer	*x = NULL;
	char			*priv = NULL;

	C->easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	x = (struct xs2a_xfer *)(void *)priv;
	C->multi_remove_handle(multi, easy);
	if (x == NULL)
		return;
	x->resp.cc = cc;
	/* An exchange cut short (timeout, too big) has no usable answer. */
	if (cc == CURLE_OK)
		C->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
	if (cc != CURLE_OK && x->resp.errbuf[0] == '\0')
		snprintf(x->resp.errbuf, sizeof(x->resp.errbuf), "%s",
		    C->easy_strerror(cc));
	x->resp.body = x->in.p != NULL ? x->in.p : "";
	x->resp.len = x->in.len;
	/* An abandoned one waits on the cancel list, which frees it. */
	done(x);
}

/* Brings the network thread out of epoll_wait() for new work. */
static void
net_wakeup(void)
{
	uint64_t	one = 1;

	while (write(evfd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

/*
 * CURLMOPT_SOCKETFUNCTION: watch s for what libcurl waits on, or no more.
 * socketp is non-NULL once s is in the epoll set.
 */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct epoll_event	ev;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL)
			epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
		C->multi_assign(multi, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (epoll_ctl(epfd, socketp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    s, &ev) == -1 && errno == EEXIST)
		epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
	C->multi_assign(multi, s, (void *)&epfd);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants its timeouts looked at. */
static int
on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	timer_at = ms < 0 ? -1 : bank_monotonic_ms() + ms;
	return 0;
}

/* Ends the exchanges libcurl says are done. */
static void
reap(void)
{
	CURLMsg	*m;
	int	 left;

	while ((m = C->multi_info_read(multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			finish(m->easy_handle, m->data.result);
}

static void *
net_main(void *arg)
{
	struct epoll_event	ev[EVENTS_MAX];
	long long		now;
	uint64_t		n;
	int			i, k, wait, running, flags;

	(void)arg;
	for (;;) {
		take_work();
		now = bank_monotonic_ms();
		if (timer_at >= 0 && timer_at <= now) {
			timer_at = -1;
			C->multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
			reap();
			continue;
		}
		wait = timer_at < 0 || timer_at - now > 1000 ? 1000 :
		    (int)(timer_at - now);
		k = epoll_wait(epfd, ev, EVENTS_MAX, wait);
		for (i = 0; i < k; i++) {
			if (ev[i].data.fd == evfd) {
				while (read(evfd, &n, sizeof(n)) == -1 &&
				    errno == EINTR)
					;
				continue;
			}
			flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (ev[i].events & (EPOLLERR | EPOLLHUP) ?
			    CURL_CSELECT_ERR : 0);
			C->multi_socket_action(multi, ev[i].data.fd, flags,
			    &running);
		}
		reap();
	}
	return NULL;
}

static void
net_init(void)
{
	pthread_attr_t	attr;
	pthread_t	t;

	if ((C = lazycurl()) == NULL)
		return;
	if (C->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (multi = C->multi_init()) == NULL) {
		log_error("msg=\"cannot initialize libcurl for XS2A\"");
		return;
	}
	/* Many operations, few banks: idle connections are reused. */
	C->multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)MAXCONNECTS);
	C->multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	C->multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &(struct epoll_event){
	    .events = EPOLLIN, .data.fd = evfd }) == -1) {
		log_error("msg=\"cannot set up epoll for XS2A\"");
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, net_main, NULL) == 0)
		up = 1;
	else
		log_error("msg=\"cannot start the XS2A network thread\"");
	pthread_attr_destroy(&attr);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xs2a_xfer	*x = arg;

	if (buf_add(&x->in, p, size * n) == -1) {
		x->resp.too_big = 1;
		return 0;		/* CURLE_WRITE_ERROR: stop reading */
	}
	return size * n;
}

/* Copies a header's value (trimmed) when the line is that header. */
static int
header_is(const char *line, size_t n, const char *name, char *out,
    size_t outn)
{
	size_t	nl = strlen(name), vn;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	line += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' ||
	    line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	vn = n < outn ? n : outn - 1;
	memcpy(out, line, vn);
	out[vn] = '\0';
	return 1;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xs2a_xfer	*x = arg;
	size_t			 len = size * n;
	char			 ra[32];

	/* A new status line (after 100 Continue): forget the earlier head. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->resp.ctype[0] = x->resp.approach[0] = '\0';
		x->resp.retry_after = -1;
		return len;
	}
	header_is(p, len, "Content-Type", x->resp.ctype,
	    sizeof(x->resp.ctype));
	header_is(p, len, "ASPSP-SCA-Approach", x->resp.approach,
	    sizeof(x->resp.approach));
	if (header_is(p, len, "Retry-After", ra, sizeof(ra))) {
		char		*end;
		long long	 v = strtoll(ra, &end, 10);

		/* Delta-seconds; an HTTP date counts as "a while". */
		x->resp.retry_after = end != ra && *end == '\0' && v >= 0 ?
		    v : 60;
	}
	return len;
}

struct xs2a_xfer *
xs2a_xfer_start(const struct xs2a_req *rq, const struct bank_ctx *wake)
{
	struct xs2a_xfer	*x;
	const char *const	*h;
	struct curl_slist	*l;

	pthread_once(&once, net_init);
	if (!up || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	atomic_fetch_add(&live, 1);
	buf_init(&x->in, XS2A_BODY_MAX);
	x->resp.retry_after = -1;
	if (wake != NULL) {
		x->waker.wake = wake->wake;
		x->waker.wake_arg = wake->wake_arg;
	}
	if ((x->easy = C->easy_init()) == NULL)
		goto fail;
	for (h = rq->headers; h != NULL && *h != NULL; h++) {
		if ((l = C->slist_append(x->hdrs, *h)) == NULL)
			goto fail;
		x->hdrs = l;
	}
	/* No "Expect: 100-continue" round trip before a body. */
	if ((l = C->slist_append(x->hdrs, "Expect:")) == NULL)
		goto fail;
	x->hdrs = l;
	C->easy_setopt(x->easy, CURLOPT_URL, rq->url);
	C->easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	C->easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)(void *)x);
	C->easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
	C->easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	C->easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	C->easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	C->easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->resp.errbuf);
	C->easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	/* A link is followed only after its host was checked: no redirects. */
	C->easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	C->easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	C->easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	C->easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
	C->easy_setopt(x->easy, CURLOPT_USERAGENT, "bankfeed/" BANKFEED_VERSION);
	if (rq->tls_cert != NULL && *rq->tls_cert != '\0')
		C->easy_setopt(x->easy, CURLOPT_SSLCERT, rq->tls_cert);
	if (rq->tls_key != NULL && *rq->tls_key != '\0')
		C->easy_setopt(x->easy, CURLOPT_SSLKEY, rq->tls_key);
	if (rq->body != NULL) {
		if ((x->body = malloc(rq->bodylen + 1)) == NULL)
			goto fail;
		memcpy(x->body, rq->body, rq->bodylen);
		x->body[rq->bodylen] = '\0';
		x->bodylen = rq->bodylen;
		C->easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
		C->easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)x->bodylen);
	}
	if (strcmp(rq->method, "GET") != 0)
		C->easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, rq->method);
	pthread_mutex_lock(&lock);
	x->state = XF_QUEUED;
	x->next = queue;
	queue = x;
	pthread_mutex_unlock(&lock);
	net_wakeup();
	return x;
fail:
	xfer_destroy(x);
	return NULL;
}

int
xs2a_xfer_done(struct xs2a_xfer *x)
{
	int	done;

	pthread_mutex_lock(&lock);
	done = x->state == XF_DONE;
	pthread_mutex_unlock(&lock);
	return done;
}

const struct xs2a_resp *
xs2a_xfer_resp(struct xs2a_xfer *x)
{
	return &x->resp;
}

void
xs2a_xfer_free(struct xs2a_xfer *x)
{
	int	now = 0;

	if (x == NULL)
		return;
	pthread_mutex_lock(&lock);
	while (x->waking)
		pthread_cond_wait(&woke, &lock);
	if (x->state == XF_DONE || x->state == XF_NEW)
		now = 1;
	else if (x->state == XF_QUEUED)
		x->abandoned = 1;		/* take_work() frees it */
	else {
		x->abandoned = 1;
		x->next = cancels;
		cancels = x;
	}
	pthread_mutex_unlock(&lock);
	if (now)
		xfer_destroy(x);
	else
		net_wakeup();
}

int
xs2a_cc_unsent(int cc)
{
	return cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
	    cc == CURLE_COULDNT_RESOLVE_PROXY;
}

int
xs2a_cc_tls(int cc)
{
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}
