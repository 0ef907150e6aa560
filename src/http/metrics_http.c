/*
 * metrics_http: what the edge counts for GET /metrics (see http.h).
 *
 * Every request passes here, so nothing takes a lock.  Request counts live
 * in an insert-only hash table whose key packs the whole series (route,
 * method, status), claimed with one compare-and-swap; latencies in one
 * histogram per route.  The labels come from the routes table and fixed
 * lists, never from the request's own path or an unknown method.
 */
#include "http/http.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

#define UNMATCHED	"unmatched"
#define SERIES_SLOTS	1024		/* a power of two */

/* Methods a client may send; any other is counted as "other". */
static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
    "DELETE", "PATCH", "OPTIONS", "other" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/*
 * A key is (route + 1) << 16 | method << 12 | status: never 0, which marks
 * a free slot.  route is the index in routes[], nroutes when unmatched;
 * status 0 when the request ended without an answer.
 */
static atomic_uint	keys[SERIES_SLOTS];
static atomic_ullong	counts[SERIES_SLOTS];
/* [route], then [nroutes + method] for the unmatched */
static struct mhist	latency[ROUTES_MAX + NMETHODS];

static unsigned
method_index(const char *m)
{
	unsigned	i;

	/* A request refused before its method was read has none. */
	for (i = 0; m != NULL && i < NMETHODS - 1; i++)
		if (strcmp(m, methods[i]) == 0)
			return i;
	return NMETHODS - 1;
}

/* Adds one to the series of key; a full table drops it. */
static void
count(unsigned key)
{
	unsigned	i, k, h = (key * 2654435761u) >> 22;	/* 10 bits */

	for (i = 0; i < SERIES_SLOTS; i++) {
		atomic_uint *slot = &keys[(h + i) & (SERIES_SLOTS - 1)];

		k = atomic_load_explicit(slot, memory_order_relaxed);
		if (k == 0) {
			/* On failure k becomes the key that won the slot. */
			if (atomic_compare_exchange_strong(slot, &k, key))
				k = key;
		}
		if (k == key) {
			atomic_fetch_add_explicit(&counts[(h + i) &
			    (SERIES_SLOTS - 1)], 1, memory_order_relaxed);
			return;
		}
	}
}

void
metrics_http_done(const struct req *r, double seconds)
{
	size_t		route = nroutes;
	unsigned	status = 0, method;
	uintptr_t	p = (uintptr_t)r->route, lo = (uintptr_t)routes;

	/* Compared as addresses: a route of another table (router_use())
	 * is none of these, and pointers into two arrays do not subtract. */
	if (r->route != NULL && p >= lo && p < lo + nroutes * sizeof(*routes))
		route = (p - lo) / sizeof(*routes);
	method = method_index(route < nroutes ? routes[route].method :
	    r->method);
	if (r->answered && r->status >= 100 && r->status <= 999)
		status = (unsigned)r->status;
	count((unsigned)(route + 1) << 16 | method << 12 | status);
	mhist_observe(&latency[route < nroutes ? route : nroutes + method],
	    seconds);
	if (r->answered && r->err_code != 0)
		metrics_error(err_by_code(r->err_code));
}

static const char *
route_label(size_t route)
{
	return route < nroutes ? routes[route].pattern : UNMATCHED;
}

/* A series as read for a scrape. */
struct snap {
	unsigned		key;
	unsigned long long	n;
};

static int
by_key(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

int
metrics_http_write(struct buf *b)
{
	const char	*labels[6] = { "route", NULL, "method", NULL, "status" };
	struct snap	 all[SERIES_SLOTS];
	char		 status[8];
	size_t		 i, n = 0, h;
	unsigned	 k;

	for (i = 0; i < SERIES_SLOTS; i++)
		if ((k = atomic_load_explicit(&keys[i], memory_order_relaxed)) != 0) {
			all[n].key = k;
			all[n++].n = atomic_load_explicit(&counts[i],
			    memory_order_relaxed);
		}
	/* In the order of the routes table, then method, then status. */
	qsort(all, n, sizeof(all[0]), by_key);
	if (mx_family(b, "bankfeed_http_requests_total", "counter",
	    "HTTP requests, by route pattern (\"unmatched\" when no route took "
	    "the request), method and status (\"none\" when the request ended "
	    "without an answer).") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		k = all[i].key;
		labels[1] = route_label((k >> 16) - 1);
		labels[3] = methods[(k >> 12) & 15];
		if ((k & 0xfff) == 0)
			snprintf(status, sizeof(status), "none");
		else
			snprintf(status, sizeof(status), "%u", k & 0xfff);
		labels[5] = status;
		if (mx_u64(b, "bankfeed_http_requests_total", labels, 3,
		    all[i].n) == -1)
			return -1;
	}
	if (mx_family(b, "bankfeed_http_request_duration_seconds", "histogram",
	    "Time from a request's first byte to the end of its answer, by "
	    "route pattern and method.") == -1)
		return -1;
	for (h = 0; h < nroutes + NMETHODS; h++) {
		unsigned long long	seen = 0;

		for (i = 0; i <= MHIST_NBOUNDS; i++)
			seen += atomic_load_explicit(&latency[h].n[i],
			    memory_order_relaxed);
		labels[1] = route_label(h);
		labels[3] = h < nroutes ? routes[h].method : methods[h - nroutes];
		if (seen > 0 && mx_hist(b, "bankfeed_http_request_duration_seconds",
		    labels, 2, &latency[h]) == -1)
			return -1;
	}
	return 0;
}
