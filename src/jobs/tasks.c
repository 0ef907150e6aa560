#include "jobs/tasks.h"

#include <stdio.h>
#include <string.h>

#include "core/errors_doc.h"
#include "core/log.h"

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
