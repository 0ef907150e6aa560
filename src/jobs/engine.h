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
