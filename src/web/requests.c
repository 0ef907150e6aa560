/*
 * requests.c: the most recent requests of every client, for the
 * dashboard's "recent requests": a fixed ring in memory, filled by
 * dispatch_done() (the access-log line's data).  It holds this node's
 * requests since it started; the log holds them all.
 */
#include "web/web.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "http/http.h"

#define RING	4096

static struct web_request	ring[RING];
static size_t			next;		/* where the next one goes */
static size_t			filled;
static pthread_mutex_t		lock = PTHREAD_MUTEX_INITIALIZER;

void
web_requests_note(const struct req *r)
{
	struct web_request	*w;

	/* Only a client's own API requests: not its pages, not anonymous. */
	if (r->client_id[0] == '\0' || r->url == NULL ||
	    strncmp(r->url, "/v1/", 4) != 0)
		return;
	pthread_mutex_lock(&lock);
	w = &ring[next];
	w->at = clock_now();
	snprintf(w->client_id, sizeof(w->client_id), "%s", r->client_id);
	snprintf(w->method, sizeof(w->method), "%s", r->method ? r->method : "");
	snprintf(w->path, sizeof(w->path), "%s", r->url);
	snprintf(w->request_id, sizeof(w->request_id), "%s", r->request_id);
	w->status = r->status;
	w->err_code = r->err_code;
	next = (next + 1) % RING;
	if (filled < RING)
		filled++;
	pthread_mutex_unlock(&lock);
}

size_t
web_requests_recent(const char *client_id, struct web_request *out,
    size_t max)
{
	size_t	i, n = 0;

	pthread_mutex_lock(&lock);
	for (i = 0; i < filled && n < max; i++) {
		const struct web_request *w = &ring[(next + RING - 1 - i) % RING];

		if (strcmp(w->client_id, client_id) == 0)
			out[n++] = *w;
	}
	pthread_mutex_unlock(&lock);
	return n;
}
