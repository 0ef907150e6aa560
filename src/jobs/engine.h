/*
 * engine: runs durable tasks (the tasks table) on a small pool of workers.
 *
 * A task is claimed from the database with a lease (owner node, expiry), so
 * a task whose node died is picked up again: on restart the node takes back
 * its own running tasks at once, and any node takes a task whose lease ran
 * out.  A task's work advances in steps (task_kind.step); a step that waits
 * on a bank returns BANK_WAIT with a wake-up time and the worker moves on to
 * other tasks, so hundreds of tasks waiting on slow banks hold no thread.
 * A task not finished 30 minutes (--task-timeout) after it started expires
 * with error 30005 at that time, even while it waits on a slow bank.
 * The same workers step transient jobs (engine_run): a login an HTTP
 * request waits for, the background poll of a decoupled SCA.
 */
#ifndef BF_ENGINE_H
#define BF_ENGINE_H

#include "banks/connector.h"
#include "core/ids.h"

struct task_run {
	char		 id[ID_MAX];
	char		 client_id[ID_MAX];
	char		 connection_id[ID_MAX];
	char		*params;		/* JSON text, may be NULL */
	long long	 started_at;		/* unix seconds */
	const struct task_kind *kind;
	void		*impl;			/* the kind's own state */
	/* engine bookkeeping */
	long long	 wake_ms;
	long long	 deadline_ms;		/* expires then (started_at + limit) */
	int		 busy;
	int		 woken;			/* engine_wake() during its step */
	int		 transient;		/* no tasks row: see engine_run() */
	struct task_run	*next;
};

struct task_kind {
	const char	*name;
	/* Prepares the work; on failure fills nothing and returns -1 after
	 * recording the task's end itself. */
	int		(*start)(struct task_run *);
	/* Advances; BANK_WAIT with *wake_ms set, or BANK_DONE. */
	enum bank_rc	(*step)(struct task_run *, long long *wake_ms);
	/* Records the outcome (status, counts, error, webhooks); frees impl. */
	void		(*finish)(struct task_run *, int expired);
};

extern const struct task_kind sync_task_kind;
extern const struct task_kind import_task_kind;
/* Every kind this build runs. */
extern const struct task_kind *const task_kinds[];
extern const size_t ntask_kinds;

int	engine_start(int workers, int max_active, const char *node_id);
void	engine_stop(void);
/* A task was queued: wake a worker. */
void	engine_notify(void);
/*
 * The task's bank answered: it is due now, whatever wake-up time its last
 * step gave (also when the answer comes while that step still runs).
 * From any thread; the kind must not let it be called once finish() ran
 * (connectors promise that for their ctx.wake after op_free()).
 */
void	engine_wake(struct task_run *);

/*
 * Runs a job that is no durable task: a bank operation an HTTP request
 * waits for (a login, an answer), or a background poll of a decoupled SCA.
 * run is the caller's (kind, impl set; the rest zero); kind->start is not
 * called.  Its step runs on a worker at wake_ms (CLOCK_MONOTONIC ms, 0: at
 * once) or when engine_wake(run) comes, also one that came before this
 * call; kind->finish(run, expired) runs once, on a worker, when a step
 * returned BANK_DONE or at deadline_ms (expired 1), or at engine_stop()
 * (expired -1), and frees run: the engine never does.  Such jobs hold no
 * lease, count against no --max-active-tasks and are lost with the
 * process.  0, or -1 when the engine does not run (nothing done).
 */
int	engine_run(struct task_run *run, long long wake_ms, long long deadline_ms);

/*
 * Waits for a task on behalf of a caller (an HTTP request): fn(arg, 1) when
 * the task has ended, or fn(arg, 0) after seconds (or at shutdown).  fn runs
 * exactly once, on an engine thread or the caller's.
 */
typedef void (*engine_wait_fn)(void *arg, int finished);
void	engine_wait(const char *task_id, int seconds, engine_wait_fn, void *arg);
/* Answers every waiter now (shutdown). */
void	engine_release_waiters(void);

/* Task status text of a terminal state: "completed", "failed", "expired". */
int	task_is_terminal(const char *status);

#endif
