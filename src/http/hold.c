/*
 * hold: answers sent a while after they are made, without a server thread
 * waiting meanwhile.  The request is suspended; one thread keeps the held
 * requests in order of their due time and resumes each when it is due.
 *
 * At most HOLD_MAX answers are held at once; beyond that, before
 * hold_start() and once the server stops, answers go out at once.
 */
#include "http/http.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"

#define HOLD_MAX	1024

struct held {
	struct req	*r;
	double		 due;		/* clock_mono() */
	struct held	*next;
};

static struct held	*held;		/* by due time */
static int		 nheld;
static int		 running, quitting;
static pthread_t	 thread;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond;

static void *
hold_main(void *arg)
{
	struct held	*h;
	struct timespec	 ts;
	double		 due;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		if (held != NULL && (quitting || held->due <= clock_mono())) {
			h = held;
			held = h->next;
			nheld--;
			pthread_mutex_unlock(&lock);
			req_resume(h->r);
			free(h);
			pthread_mutex_lock(&lock);
		} else if (quitting)
			break;
		else if (held == NULL)
			pthread_cond_wait(&cond, &lock);
		else {
			due = held->due;
			ts.tv_sec = (time_t)due;
			ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&cond, &lock, &ts);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
hold_start(void)
{
	pthread_condattr_t	ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&lock);
	quitting = 0;
	running = pthread_create(&thread, NULL, hold_main, NULL) == 0;
	pthread_mutex_unlock(&lock);
	return running ? 0 : -1;
}

void
hold_stop(void)
{
	int	was_running;

	pthread_mutex_lock(&lock);
	was_running = running;
	quitting = 1;
	running = 0;		/* from now on answers go out at once */
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (!was_running)
		return;
	pthread_join(thread, NULL);	/* it sends every held answer first */
	pthread_cond_destroy(&cond);
}

void
hold_answer(struct req *r, long long ms)
{
	struct held	*h, **p;

	if (ms <= 0 || (h = calloc(1, sizeof(*h))) == NULL)
		return;
	h->r = r;
	h->due = clock_mono() + (double)ms / 1000.0;
	pthread_mutex_lock(&lock);
	if (!running || quitting || nheld >= HOLD_MAX) {
		pthread_mutex_unlock(&lock);
		free(h);
		return;
	}
	/* Suspended before the thread can see it: it may resume it at once. */
	req_suspend(r);
	for (p = &held; *p != NULL && (*p)->due <= h->due; p = &(*p)->next)
		;
	h->next = *p;
	*p = h;
	nheld++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}
