/*
 * tasks: creating, reading and showing durable tasks (used by the API and
 * by the task kinds themselves).
 */
#ifndef BF_TASKS_H
#define BF_TASKS_H

#include "core/buf.h"
#include "core/ids.h"
#include "core/jw.h"
#include "store/db.h"

/* Writes the task as the API shows it; -1 when there is no such task. */
int	tasks_write(struct jw *, struct db *, const char *task_id,
	    const char *client_id, int dispatched);
/* The queued or running task of a connection, if any: 1 found, 0 not. */
int	tasks_active_for(struct db *, const char *connection_id,
	    char id_out[ID_MAX]);
/*
 * GET /metrics: appends the gauge bankfeed_tasks{kind,status}, the tasks
 * queued and running now (in the database: every node's), for every kind
 * this build runs.  0, or -1 when the database fails or out is full.
 */
int	tasks_write_metrics(struct db *, struct buf *out);

#endif
