/*
 * authrun: authorizations stepped by the engine, one per session, and the
 * requests that wait for them (authrun.h says why).
 *
 * Locking: `lock` guards the session marks, the list of operations that
 * requests wait on and each one's r.  Whoever takes r from an operation
 * under it answers that request, exactly once: the operation's end
 * (deliver) or a stop (authrun_release).
 */
#include "api/authrun.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banks/institutions.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

/*
 * A safety net: connectors end every exchange by their own timeouts, long
 * before this.  An operation still running then is answered 503.
 */
#define AUTHRUN_LIMIT_MS	(10LL * 60 * 1000)

/* What runs for a session: an operation with the bank, a scheduled poll. */
struct mark {
	char		 sid[ID_MAX];
	int		 busy, polling;
	struct mark	*next;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 drained = PTHREAD_COND_INITIALIZER;
static struct mark	*marks;
static struct authrun	*waited;	/* operations requests wait on */
static int		 released;	/* a stop answered them */

static void	ar_finish(struct task_run *, int);
static enum bank_rc ar_step(struct task_run *, long long *);

static const struct task_kind authrun_kind = {
	.name = "authorization",
	.step = ar_step,
	.finish = ar_finish,
};

/* The connector's bank answered: the job is due now (ctx.wake). */
static void
ar_wake(void *arg)
{
	engine_wake(&((struct authrun *)arg)->run);
}

struct authrun *
authrun_new(const char *inst_id, const char *psu_ip, authrun_done_fn done)
{
	const struct institution *inst = institution_find(inst_id);
	struct authrun		 *ar = calloc(1, sizeof(*ar));

	if (ar == NULL)
		return NULL;
	ar->run.kind = &authrun_kind;
	ar->c = inst != NULL ? connector_for(inst->protocol) : NULL;
	ar->done = done;
	bank_auth_init(&ar->a);
	snprintf(ar->inst_id, sizeof(ar->inst_id), "%s", inst_id);
	if (psu_ip != NULL)
		snprintf(ar->psu_ip, sizeof(ar->psu_ip), "%s", psu_ip);
	ar->ctx.institution_id = ar->inst_id;
	ar->ctx.now = clock_now();
	ar->ctx.psu_ip = psu_ip != NULL ? ar->psu_ip : NULL;
	ar->ctx.wake = ar_wake;
	ar->ctx.wake_arg = ar;
	return ar;
}

/* The mark of sid, made when make is set; under lock. */
static struct mark *
mark_of(const char *sid, int make)
{
	struct mark	*m;

	for (m = marks; m != NULL; m = m->next)
		if (strcmp(m->sid, sid) == 0)
			return m;
	if (!make || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	snprintf(m->sid, sizeof(m->sid), "%s", sid);
	m->next = marks;
	marks = m;
	return m;
}

/* Drops what ar holds of its session's mark (the poll's alone when
 * poll_only); under lock. */
static void
mark_drop(struct authrun *ar, int poll_only)
{
	struct mark	**pp, *m;

	if (poll_only ? !ar->holds_poll : !ar->holds_session && !ar->holds_poll)
		return;
	for (pp = &marks; (m = *pp) != NULL; pp = &m->next)
		if (strcmp(m->sid, ar->sid) == 0)
			break;
	if (m == NULL)
		return;
	if (ar->holds_session && !poll_only) {
		m->busy = 0;
		ar->holds_session = 0;
	}
	if (ar->holds_poll) {
		m->polling = 0;
		ar->holds_poll = 0;
	}
	if (!m->busy && !m->polling) {
		*pp = m->next;
		free(m);
	}
}

int
authrun_claim(struct authrun *ar, const char *sid)
{
	struct mark	*m;
	int		 rc = -1;

	pthread_mutex_lock(&lock);
	if ((m = mark_of(sid, 1)) != NULL && !m->busy) {
		m->busy = 1;
		if (sid != ar->sid)
			snprintf(ar->sid, sizeof(ar->sid), "%s", sid);
		ar->holds_session = 1;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void
authrun_free(struct authrun *ar)
{
	if (ar == NULL)
		return;
	/* First: the connector calls no wake of ar once this returned. */
	if (ar->op != NULL)
		ar->c->op_free(ar->op);
	pthread_mutex_lock(&lock);
	mark_drop(ar, 0);
	pthread_mutex_unlock(&lock);
	bank_auth_free(&ar->a);
	if (ar->secret != NULL) {
		sodium_memzero(ar->secret, strlen(ar->secret));
		free(ar->secret);
	}
	free(ar);
}

/* Takes the request of ar, if any is left to answer; under lock. */
static struct req *
take_request(struct authrun *ar)
{
	struct authrun	**pp;
	struct req	 *r = ar->r;

	ar->r = NULL;
	if (!ar->suspended)
		return r;
	for (pp = &waited; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ar) {
			*pp = ar->next;
			break;
		}
	if (waited == NULL)
		pthread_cond_broadcast(&drained);
	return r;
}

/*
 * The operation ended: done records it and answers the request.  A
 * request answered already (by a stop) leaves the outcome unrecorded, as
 * if the login had not happened: the client was told to try again.
 */
static void
deliver(struct authrun *ar)
{
	struct req	*r;
	int		 suspended = ar->suspended;

	pthread_mutex_lock(&lock);
	r = take_request(ar);
	/* A poll's outcome may schedule the next one. */
	if (ar->background)
		mark_drop(ar, 1);
	pthread_mutex_unlock(&lock);
	if (r == NULL && !ar->background)
		return;
	ar->done(ar, r, store_db());
	if (r != NULL && suspended)
		req_resume(r);
}

/*
 * A request the bank's answer comes too late for: 503 with Retry-After,
 * and the outcome (taken from ar already) is dropped with the connection
 * this login made, as if it had not happened.  Values, not ar: ar may be
 * freed by now.
 */
static void
answer_dropped(struct req *r, const char *sid, const char *cid,
    const char *why)
{
	log_warn("msg=\"%s\" session_id=%s", why, sid[0] ? sid : "-");
	if (cid[0] != '\0')
		authflow_dropped(cid);
	resp_header(r, "Retry-After", "1");
	resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL, NULL);
	req_resume(r);
}

/* Takes ar's request with what answer_dropped() needs; under lock. */
static struct req *
take_dropped(struct authrun *ar, char sid[ID_MAX], char cid[ID_MAX])
{
	snprintf(sid, ID_MAX, "%s", ar->sid);
	snprintf(cid, ID_MAX, "%s", ar->with_connection ? ar->cid : "");
	return take_request(ar);
}

static enum bank_rc
ar_step(struct task_run *run, long long *wake_ms)
{
	struct authrun	*ar = (struct authrun *)run;
	int		 rc;

	if (ar->op == NULL) {
		/* A background poll waiting for the bank's time. */
		if (bank_monotonic_ms() >= ar->due_ms) {
			if ((rc = ar->begin(ar, store_db())) == -1 ||
			    (rc == 0 && ar->op == NULL))
				return BANK_DONE;
		}
		if (ar->op == NULL) {
			*wake_ms = ar->due_ms;
			return BANK_WAIT;
		}
	}
	return ar->c->step(ar->op, wake_ms);
}

static void
ar_finish(struct task_run *run, int expired)
{
	struct authrun	*ar = (struct authrun *)run;
	struct req	*r = NULL;
	char		 sid[ID_MAX], cid[ID_MAX];

	if (expired == 0 && ar->op != NULL)
		deliver(ar);
	else if (expired == 1) {
		pthread_mutex_lock(&lock);
		r = take_dropped(ar, sid, cid);
		pthread_mutex_unlock(&lock);
	}
	if (r != NULL)
		answer_dropped(r, sid, cid, "authorization given up: the bank "
		    "took too long");
	authrun_free(ar);
}

void
authrun_go(struct authrun *ar, struct req *r)
{
	long long	until = 0;

	ar->r = r;
	if (ar->c->step(ar->op, &until) == BANK_DONE) {
		deliver(ar);
		authrun_free(ar);
		return;
	}
	/*
	 * Suspended before the engine can see it: it may end at once.  Not
	 * once a stop released the waiting requests: the server would end
	 * with this one still held.
	 */
	pthread_mutex_lock(&lock);
	if (!released) {
		req_suspend(r);
		ar->suspended = 1;
		ar->next = waited;
		waited = ar;
	}
	pthread_mutex_unlock(&lock);
	if (ar->suspended && engine_run(&ar->run, until, bank_monotonic_ms() +
	    AUTHRUN_LIMIT_MS) == 0)
		return;
	/* No engine (a process without workers), or stopping: this thread
	 * waits, within the stop's grace. */
	bank_run_blocking(ar->c, ar->op);
	deliver(ar);
	authrun_free(ar);
}

int
authrun_poll(struct authrun *ar, const char *sid, long long due_ms,
    long long deadline_ms)
{
	struct mark	*m;
	int		 ok = 0;

	ar->background = 1;
	ar->due_ms = due_ms;
	snprintf(ar->sid, sizeof(ar->sid), "%s", sid);
	pthread_mutex_lock(&lock);
	if ((m = mark_of(sid, 1)) != NULL && !m->polling) {
		m->polling = 1;
		ar->holds_poll = 1;
		ok = 1;
	}
	pthread_mutex_unlock(&lock);
	if (!ok || engine_run(&ar->run, due_ms, deadline_ms) == -1) {
		authrun_free(ar);
		return -1;
	}
	return 0;
}

void
authrun_release(int wait_seconds)
{
	struct timespec	 ts;
	struct authrun	*ar;
	struct req	*r;
	char		 sid[ID_MAX], cid[ID_MAX];

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += wait_seconds > 0 ? wait_seconds : 0;
	pthread_mutex_lock(&lock);
	released = 1;
	while (waited != NULL &&
	    pthread_cond_timedwait(&drained, &lock, &ts) == 0)
		;
	while ((ar = waited) != NULL) {
		/* ar may end and be freed once the lock is let go. */
		r = take_dropped(ar, sid, cid);
		pthread_mutex_unlock(&lock);
		answer_dropped(r, sid, cid, "stopping: authorization still "
		    "with the bank");
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
}
