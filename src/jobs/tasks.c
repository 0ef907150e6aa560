#include "jobs/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors_doc.h"
#include "core/log.h"
#include "core/metrics.h"
#include "jobs/engine.h"

int
tasks_write(struct jw *w, struct db *db, const char *task_id,
    const char *client_id, int dispatched)
{
	struct db_stmt	*s;
	const char	*warnings;

	s = db_q(db, "SELECT id, kind, connection_id, status, error_code, "
	    "error_message, error_data, warnings, accounts, added, updated, "
	    "created_at, started_at, finished_at FROM tasks WHERE id = ? AND "
	    "client_id = ?", "tt", task_id, client_id);
	if (s == NULL || db_step(s) != DB_ROW) {
		db_done(s);
		return -1;
	}
	jw_obj(w);
	jw_kstr(w, "id", db_col_text(s, 0));
	jw_kstr(w, "kind", db_col_text(s, 1));
	jw_kstr(w, "connection_id", db_col_text(s, 2));
	jw_kstr(w, "status", db_col_text(s, 3));
	jw_kbool(w, "dispatched", dispatched);
	error_object_kopt(w, "error", db_col_null(s, 4) ? 0 :
	    (int)db_col_int(s, 4), db_col_text(s, 6), db_col_text(s, 5));
	warnings = db_col_text(s, 7);
	jw_key(w, "warnings");
	if (warnings != NULL && *warnings == '[')
		jw_raw(w, warnings, strlen(warnings));
	else
		jw_raw(w, "[]", 2);
	jw_key(w, "result");
	if (strcmp(db_col_text(s, 3), "completed") == 0) {
		jw_obj(w);
		jw_kint(w, "accounts", db_col_int(s, 8));
		jw_kint(w, "transactions_added", db_col_int(s, 9));
		jw_kint(w, "transactions_updated", db_col_int(s, 10));
		jw_obj_end(w);
	} else
		jw_null(w);
	jw_ktime(w, "created_at", db_col_time(s, 11));
	jw_ktime(w, "started_at", db_col_time(s, 12));
	jw_ktime(w, "finished_at", db_col_time(s, 13));
	jw_obj_end(w);
	db_done(s);
	return 0;
}

int
tasks_active_for(struct db *db, const char *connection_id, char id_out[ID_MAX])
{
	struct db_stmt	*s;
	int		 rc = 0;

	s = db_q(db, "SELECT id FROM tasks WHERE connection_id = ? AND status IN "
	    "('queued', 'running') ORDER BY created_at LIMIT 1", "t",
	    connection_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(id_out, ID_MAX, "%s", db_col_text(s, 0));
		rc = 1;
	}
	db_done(s);
	return rc;
}

int
tasks_write_metrics(struct db *db, struct buf *out)
{
	static const char *const live[] = { "queued", "running" };
	const size_t	 nlive = sizeof(live) / sizeof(live[0]);
	const char	*labels[4] = { "kind", NULL, "status", NULL };
	uint64_t	*n;		/* [kind * nlive + status] */
	struct db_stmt	*s;
	size_t		 k, i;
	int		 rc = -1;

	if ((n = calloc(ntask_kinds * nlive, sizeof(*n))) == NULL)
		return -1;
	/* The tasks_queue index holds them by status: no table scan. */
	s = db_q(db, "SELECT kind, status, COUNT(*) FROM tasks WHERE status IN "
	    "('queued', 'running') GROUP BY kind, status", "");
	if (s == NULL)
		goto out;
	while (db_step(s) == DB_ROW)
		for (k = 0; k < ntask_kinds; k++)
			for (i = 0; i < nlive; i++)
				if (strcmp(db_col_text(s, 0),
				    task_kinds[k]->name) == 0 &&
				    strcmp(db_col_text(s, 1), live[i]) == 0)
					n[k * nlive + i] = (uint64_t)db_col_int(s, 2);
	db_done(s);
	if (mx_family(out, "bankfeed_tasks", "gauge", "Tasks queued or running "
	    "now, on every node, by kind and status.") == -1)
		goto out;
	for (k = 0; k < ntask_kinds; k++)
		for (i = 0; i < nlive; i++) {
			labels[1] = task_kinds[k]->name;
			labels[3] = live[i];
			if (mx_u64(out, "bankfeed_tasks", labels, 2,
			    n[k * nlive + i]) == -1)
				goto out;
		}
	rc = 0;
out:
	free(n);
	return rc;
}
