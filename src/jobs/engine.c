#include "jobs/engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "store/store.h"

#define MAINTENANCE_MS		2000
#define IDLE_POLL_MS		1000
#define TASK_TIMEOUT_CAP	(10LL * 365 * 86400)

struct waiter {
	char		 task_id[ID_MAX];
	long long	 deadline_ms;
	engine_wait_fn	 fn;
	void		*arg;
	struct waiter	*next;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static pthread_t	*threads;
static int		 nthreads;
static int		 running;
static int		 max_jobs;
static int		 njobs;
static int		 claim_wanted = 1;	/* a task may be waiting in the DB */
static long long	 next_maintenance;
static struct task_run	*jobs;
static struct waiter	*waiters;
static char		 node[ID_MAX];

const struct task_kind *const task_kinds[] = { &sync_task_kind,
    &import_task_kind };
const size_t ntask_kinds = sizeof(task_kinds) / sizeof(task_kinds[0]);

static const char *const terminal[] = { "completed", "failed", "expired" };

/* The terminal status as a static string, or NULL. */
static const char *
terminal_status(const char *status)
{
	size_t	i;

	if (status == NULL)
		return NULL;
	for (i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
		if (strcmp(status, terminal[i]) == 0)
			return terminal[i];
	return NULL;
}

int
task_is_terminal(const char *status)
{
	return terminal_status(status) != NULL;
}

static long long
now_ms(void)
{
	return bank_monotonic_ms();
}

static const struct task_kind *
kind_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < ntask_kinds; i++)
		if (strcmp(name, task_kinds[i]->name) == 0)
			return task_kinds[i];
	return NULL;
}

/* Fires (outside the lock) the waiters of task_id, or all expired ones. */
static void
fire_waiters(const char *task_id, int finished, int all)
{
	struct waiter	**pp, *w, *fire = NULL;
	long long	  now = now_ms();

	pthread_mutex_lock(&lock);
	for (pp = &waiters; (w = *pp) != NULL;) {
		int	hit = all || (task_id != NULL ?
		    strcmp(w->task_id, task_id) == 0 : w->deadline_ms <= now);

		if (hit) {
			*pp = w->next;
			w->next = fire;
			fire = w;
		} else
			pp = &w->next;
	}
	pthread_mutex_unlock(&lock);
	while ((w = fire) != NULL) {
		fire = w->next;
		w->fn(w->arg, finished);
		free(w);
	}
}

/* The status a task ended in (a static string), or NULL while it runs. */
static const char *
task_ended(const char *task_id)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	const char	*ended = NULL;

	if (db == NULL)
		return NULL;
	s = db_q(db, "SELECT status FROM tasks WHERE id = ?", "t", task_id);
	if (s != NULL && db_step(s) == DB_ROW)
		ended = terminal_status(db_col_text(s, 0));
	db_done(s);
	return ended;
}

/* A task of this node ended (its kind recorded how): counted for /metrics. */
static void
count_end(const struct task_run *run)
{
	const char	*status = task_ended(run->id);

	if (status != NULL)
		metrics_task_done(run->kind->name, status);
}

void
engine_wait(const char *task_id, int seconds, engine_wait_fn fn, void *arg)
{
	struct waiter	*w;

	if (seconds <= 0 || (w = calloc(1, sizeof(*w))) == NULL) {
		fn(arg, task_ended(task_id) != NULL);
		return;
	}
	snprintf(w->task_id, sizeof(w->task_id), "%s", task_id);
	w->deadline_ms = now_ms() + (long long)seconds * 1000;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&lock);
	w->next = waiters;
	waiters = w;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	/* It may have ended before the waiter was in place. */
	if (task_ended(task_id) != NULL)
		fire_waiters(task_id, 1, 0);
}

void
engine_release_waiters(void)
{
	fire_waiters(NULL, 0, 1);
}

void
engine_notify(void)
{
	pthread_mutex_lock(&lock);
	claim_wanted = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

void
engine_wake(struct task_run *run)
{
	pthread_mutex_lock(&lock);
	run->wake_ms = 0;
	run->woken = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Claims the oldest queued task; 1 with run filled, 0 none, -1 error. */
static int
claim(struct task_run *run)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	long long	 now = (long long)time(NULL), left;
	int		 rc = 0;

	if (db == NULL)
		return -1;
	s = db_q(db, "UPDATE tasks SET status = 'running', lease_owner = ?, "
	    "lease_until = ?, started_at = COALESCE(started_at, ?), "
	    "attempts = attempts + 1 WHERE id = (SELECT id FROM tasks WHERE "
	    "status = 'queued' ORDER BY created_at, id LIMIT 1 "
	    "/*pg FOR UPDATE SKIP LOCKED */) AND status = "
	    "'queued' RETURNING id, client_id, connection_id, kind, params, "
	    "started_at", "tii", node, (int64_t)(now + cfg.task_lease),
	    (int64_t)now);
	if (s == NULL)
		return -1;
	if (db_step(s) == DB_ROW) {
		snprintf(run->id, sizeof(run->id), "%s", db_col_text(s, 0));
		snprintf(run->client_id, sizeof(run->client_id), "%s",
		    db_col_text(s, 1));
		snprintf(run->connection_id, sizeof(run->connection_id), "%s",
		    db_col_text(s, 2) ? db_col_text(s, 2) : "");
		run->kind = kind_by_name(db_col_text(s, 3));
		run->params = db_col_text(s, 4) ? strdup(db_col_text(s, 4)) : NULL;
		run->started_at = db_col_int(s, 5);
		/*
		 * The limit counts from the first start, also when resumed
		 * (a setting of centuries is held to ten years, in range).
		 */
		left = cfg.task_timeout - (now - run->started_at);
		if (left > TASK_TIMEOUT_CAP)
			left = TASK_TIMEOUT_CAP;
		run->deadline_ms = now_ms() + left * 1000;
		rc = 1;
	}
	db_done(s);
	return rc;
}

/* Records the end of a task whose kind is unknown to this build. */
static void
fail_unknown_kind(struct task_run *run)
{
	struct db	*db = store_db();

	if (db != NULL)
		db_run(db, "UPDATE tasks SET status = 'failed', error_code = ?, "
		    "finished_at = ?, lease_owner = NULL WHERE id = ?", "nit",
		    err_code(ERR_INTERNAL_ERROR), (int64_t)time(NULL), run->id);
	log_error("msg=\"task of unknown kind\" task_id=%s", run->id);
}

/*
 * Every few seconds, on one worker: renew the leases of this node's tasks,
 * take back tasks whose lease ran out (their node died), and expire tasks
 * past the time limit that no node runs.
 */
static void
maintenance(void)
{
	struct db	*db = store_db();
	struct task_run	*j;
	long long	 now = (long long)time(NULL);

	if (db == NULL)
		return;
	pthread_mutex_lock(&lock);
	for (j = jobs; j != NULL; j = j->next)
		if (!j->transient)
			db_run(db, "UPDATE tasks SET lease_until = ? WHERE "
			    "id = ? AND lease_owner = ?", "itt",
			    (int64_t)(now + cfg.task_lease), j->id, node);
	pthread_mutex_unlock(&lock);
	db_run(db, "UPDATE tasks SET status = 'expired', error_code = ?, "
	    "finished_at = ?, lease_owner = NULL WHERE status IN ('queued', "
	    "'running') AND started_at IS NOT NULL AND started_at < ? AND "
	    "(lease_owner IS NULL OR lease_until < ?)", "niii",
	    err_code(ERR_TASK_EXPIRED), (int64_t)now,
	    (int64_t)(now - cfg.task_timeout), (int64_t)now);
	if (db_run(db, "UPDATE tasks SET status = 'queued', lease_owner = NULL "
	    "WHERE status = 'running' AND lease_until < ?", "i",
	    (int64_t)now) == DB_OK && db_changes(db) > 0) {
		log_info("msg=\"took back tasks whose node stopped\" count=%lld",
		    (long long)db_changes(db));
		engine_notify();
		return;
	}
	/*
	 * Queued tasks no claim reached: queued on a node that stopped
	 * before it claimed them, or left when a claim failed (the
	 * database away).  Every node looks, every few seconds.
	 */
	if (db_exists(db, "SELECT 1 FROM tasks WHERE status = 'queued' LIMIT 1",
	    "") == 1)
		engine_notify();
}

static void
add_job(struct task_run *run)
{
	pthread_mutex_lock(&lock);
	run->next = jobs;
	jobs = run;
	njobs++;
	pthread_mutex_unlock(&lock);
}

int
engine_run(struct task_run *run, long long wake_ms, long long deadline_ms)
{
	pthread_mutex_lock(&lock);
	if (!running) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	run->transient = 1;
	run->busy = 0;
	/* A wake that came before (a bank answered already) makes it due now. */
	run->wake_ms = run->woken ? 0 : wake_ms;
	run->woken = 0;
	run->deadline_ms = deadline_ms;
	run->next = jobs;
	jobs = run;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

static void
remove_job(struct task_run *run)
{
	struct task_run	**pp;

	pthread_mutex_lock(&lock);
	for (pp = &jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			if (!run->transient)
				njobs--;
			break;
		}
	pthread_mutex_unlock(&lock);
}

static void
end_job(struct task_run *run, int expired)
{
	char	id[ID_MAX];

	remove_job(run);
	if (run->transient) {
		run->kind->finish(run, expired);	/* frees run */
		return;
	}
	snprintf(id, sizeof(id), "%s", run->id);
	run->kind->finish(run, expired);
	count_end(run);
	free(run->params);
	free(run);
	fire_waiters(id, 1, 0);
}

/* When a job needs a worker: at its wake-up time, or at its deadline. */
static long long
job_due(const struct task_run *j)
{
	return j->wake_ms < j->deadline_ms ? j->wake_ms : j->deadline_ms;
}

/* Runs one step of a job (outside the lock), or ends it past its time. */
static void
run_step(struct task_run *run)
{
	long long	wake = 0;
	enum bank_rc	rc;

	if (now_ms() >= run->deadline_ms) {
		end_job(run, 1);
		return;
	}
	rc = run->kind->step(run, &wake);
	if (rc == BANK_DONE) {
		end_job(run, 0);
		return;
	}
	pthread_mutex_lock(&lock);
	/* A wake while it stepped makes it due now, not at its own time. */
	run->wake_ms = run->woken ? 0 : wake;
	run->woken = 0;
	run->busy = 0;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (running) {
		struct task_run	*j, *pick = NULL;
		struct waiter	*w;
		long long	 now = now_ms(), until = now + IDLE_POLL_MS;

		for (j = jobs; j != NULL; j = j->next) {
			if (j->busy)
				continue;
			if (job_due(j) <= now && (pick == NULL ||
			    job_due(j) < job_due(pick)))
				pick = j;
			else if (job_due(j) < until)
				until = job_due(j);
		}
		if (pick != NULL) {
			pick->busy = 1;
			pick->woken = 0;
			pthread_mutex_unlock(&lock);
			run_step(pick);
			pthread_mutex_lock(&lock);
			continue;
		}
		if (now >= next_maintenance) {
			next_maintenance = now + MAINTENANCE_MS;
			pthread_mutex_unlock(&lock);
			maintenance();
			fire_waiters(NULL, 0, 0);
			pthread_mutex_lock(&lock);
			continue;
		}
		if (claim_wanted && njobs < max_jobs) {
			struct task_run	*run = calloc(1, sizeof(*run));
			int		 got;

			claim_wanted = 0;
			pthread_mutex_unlock(&lock);
			got = run != NULL ? claim(run) : -1;
			if (got == 1) {
				claim_wanted = 1;	/* there may be more */
				if (run->kind == NULL) {
					fail_unknown_kind(run);
					free(run->params);
					free(run);
				} else if (run->kind->start(run) == 0) {
					add_job(run);
				} else {
					count_end(run);
					free(run->params);
					free(run);
				}
			} else
				free(run);
			pthread_mutex_lock(&lock);
			continue;
		}
		for (w = waiters; w != NULL; w = w->next)
			if (w->deadline_ms < until)
				until = w->deadline_ms;
		if (until > next_maintenance)
			until = next_maintenance;
		if (until > now) {
			struct timespec	ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (until - now) / 1000;
			ts.tv_nsec += ((until - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&cond, &lock, &ts);
		}
		/* A timed-out waiter fires on the next pass. */
		if (waiters != NULL) {
			pthread_mutex_unlock(&lock);
			fire_waiters(NULL, 0, 0);
			pthread_mutex_lock(&lock);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
engine_start(int workers, int max_active, const char *node_id)
{
	pthread_condattr_t	ca;
	struct db		*db = store_db();
	int			i;

	snprintf(node, sizeof(node), "%s", node_id);
	/* Tasks this node ran before it stopped are its own to take back. */
	if (db != NULL && db_run(db, "UPDATE tasks SET status = 'queued', "
	    "lease_owner = NULL WHERE status = 'running' AND lease_owner = ?",
	    "t", node) == DB_OK && db_changes(db) > 0)
		log_info("msg=\"resuming tasks interrupted by a stop\" count=%lld",
		    (long long)db_changes(db));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	max_jobs = max_active > 0 ? max_active : 1;
	running = 1;
	claim_wanted = 1;
	if ((threads = calloc((size_t)workers, sizeof(*threads))) == NULL)
		return -1;
	for (i = 0; i < workers; i++) {
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
			break;
		nthreads++;
	}
	return nthreads == workers ? 0 : -1;
}

void
engine_stop(void)
{
	struct task_run	*j;
	int		 i;

	pthread_mutex_lock(&lock);
	running = 0;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
	engine_release_waiters();
	/*
	 * Tasks still in flight stay 'running' under this node's lease: the
	 * next start takes them back (their data so far is committed, and
	 * upserts make the redone part harmless).
	 */
	while ((j = jobs) != NULL) {
		int	transient = j->transient;	/* finish frees such */

		jobs = j->next;
		j->kind->finish(j, -1);
		if (!transient) {
			free(j->params);
			free(j);
		}
	}
	njobs = 0;
}
