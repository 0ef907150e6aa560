/*
 * POST /v1/users/{id}/statements: a statement file, as the raw body (the
 * file's name in X-Filename) or as the "file" part of multipart/form-data,
 * up to BANKFEED_MAX_UPLOAD bytes.  It is imported by an import task into
 * the user's connection to the built-in institution "file", and answered
 * like a sync: 200 with the finished task within ?wait_seconds= (default
 * 210), else 202.
 */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "formats/formats.h"
#include "http/http.h"
#include "jobs/engine.h"
#include "jobs/tasks.h"
#include "store/store.h"

/* The user's connection to "file", made on the first import. */
static int
file_connection(struct db *db, const char *user_id, const char *client_id,
    char cid[ID_MAX])
{
	struct db_stmt	*s;
	int		 found = 0;
	int64_t		 now = (int64_t)clock_now();

	s = db_q(db, "SELECT id FROM connections WHERE user_id = ? AND "
	    "institution_id = 'file' ORDER BY created_at LIMIT 1", "t", user_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(cid, ID_MAX, "%s", db_col_text(s, 0));
		found = 1;
	}
	db_done(s);
	if (found)
		return 0;
	id_new("con", cid);
	/* Files need no consent: it never runs out. */
	return db_run(db, "INSERT INTO connections (id, user_id, client_id, "
	    "institution_id, status, store_credentials, login_hash, authorized_at, "
	    "consent_expires_at, created_at) VALUES (?, ?, ?, 'file', "
	    "'authorized', 0, 'file', ?, ?, ?)", "tttiii", cid, user_id, client_id,
	    now, (int64_t)253402300799LL, now) == DB_OK ? 0 : -1;
}

/* Writes the upload where the task will find it (0600). */
static int
save_upload(const char *task_id, const char *data, size_t len, char *path,
    size_t n)
{
	char	dir[4096];
	int	fd;
	size_t	off = 0;

	snprintf(dir, sizeof(dir), "%s/imports", cfg.data_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(path, n, "%s/%s.stmt", dir, task_id);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		unlink(path);
		return -1;
	}
	return 0;
}

struct import_wait {
	struct req	*r;
	char		 task_id[ID_MAX];
	char		 client_id[ID_MAX];
};

/*
 * The answer to an upload: 202 with the task while it runs, 200 with it
 * when it ended; but a file the import rejected is answered 422
 * STATEMENT_REJECTED, its data saying where and what (the task, failed
 * with the same error, stays readable at Location).
 */
static void
answer(struct req *r, struct db *db, const char *task_id,
    const char *client_id, int finished)
{
	struct jw	 w;
	struct db_stmt	*s;
	char		 loc[ID_MAX + 16];

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	snprintf(loc, sizeof(loc), "/v1/tasks/%s", task_id);
	s = finished ? db_q(db, "SELECT error_data FROM tasks WHERE id = ? AND "
	    "client_id = ? AND status = 'failed' AND error_code = ?", "tti",
	    task_id, client_id, (int64_t)err_code(ERR_STATEMENT_REJECTED)) : NULL;
	if (s != NULL && db_step(s) == DB_ROW) {
		resp_error(r, ERR_STATEMENT_REJECTED, db_col_text(s, 0), NULL);
		resp_header(r, "Location", loc);
		db_done(s);
		return;
	}
	db_done(s);
	resp_begin(r, finished ? 200 : 202, &w);
	if (tasks_write(&w, db, task_id, client_id, !finished) == -1)
		resp_internal(r, "task vanished");
}

static void
import_waited(void *arg, int finished)
{
	struct import_wait	*iw = arg;

	answer(iw->r, store_db(), iw->task_id, iw->client_id, finished);
	req_resume(iw->r);
	free(iw);
}

void
h_users_statements(struct req *r)
{
	struct db		*db = store_db();
	const char		*ct = req_header(r, "Content-Type");
	const char		*fmt = req_query(r, "format");
	const char		*ws = req_query(r, "wait_seconds");
	const char		*st = req_query(r, "strict");
	const char		*data = r->body.p;
	size_t			 len = r->body.len;
	char			 filename[256], cid[ID_MAX], tid[ID_MAX], path[4200];
	char			*end, *params;
	enum stmt_format	 f;
	long			 wait = 210;
	json_t			*pj;
	struct import_wait	*iw;

	filename[0] = '\0';
	if (ws != NULL && ((wait = strtol(ws, &end, 10)) < 0 || wait > 210 ||
	    *ws == '\0' || *end != '\0')) {
		resp_error_field(r, ERR_INVALID_REQUEST, "wait_seconds",
		    "Must be a whole number from 0 to 210.");
		return;
	}
	if (st != NULL && strcmp(st, "true") != 0 && strcmp(st, "false") != 0) {
		resp_error_field(r, ERR_INVALID_REQUEST, "strict",
		    "Must be true or false.");
		return;
	}
	if (fmt != NULL && stmt_format_parse(fmt, &f) != 0) {
		char	names[256];

		resp_error_field(r, ERR_INVALID_REQUEST, "format", "Must be one "
		    "of %s (or left out to detect it).", stmt_format_names(", ",
		    names, sizeof(names)));
		return;
	}
	if (ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0) {
		if (multipart_part(r->body.p ? r->body.p : "", r->body.len, ct,
		    "file", &data, &len, filename, sizeof(filename)) == -1) {
			resp_error_field(r, ERR_INVALID_REQUEST, "file",
			    "A multipart body needs a part named \"file\".");
			return;
		}
	} else if (req_header(r, "X-Filename") != NULL)
		snprintf(filename, sizeof(filename), "%s",
		    req_header(r, "X-Filename"));
	if (len == 0) {
		resp_error_field(r, ERR_INVALID_REQUEST, "file",
		    "The statement file is empty.");
		return;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (!users_of_client(r, db, req_param(r, 0), NULL))
		return;
	if (file_connection(db, req_param(r, 0), r->client_id, cid) == -1) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	id_new("tsk", tid);
	if (save_upload(tid, data, len, path, sizeof(path)) == -1) {
		resp_internal(r, "cannot store the upload");
		return;
	}
	pj = json_pack("{s:s, s:s, s:s?, s:b}", "file", path, "filename",
	    filename, "format", fmt, "strict", st != NULL &&
	    strcmp(st, "true") == 0);
	params = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
	json_decref(pj);
	if (params == NULL || db_run(db, "INSERT INTO tasks (id, client_id, "
	    "connection_id, kind, status, params, created_at) VALUES (?, ?, ?, "
	    "'import', 'queued', ?, ?)", "tttti", tid, r->client_id, cid, params,
	    (int64_t)time(NULL)) != DB_OK) {
		unlink(path);
		free(params);
		resp_internal(r, db_errmsg(db));
		return;
	}
	free(params);
	log_info("event=statement_uploaded task_id=%s bytes=%zu", tid, len);
	engine_notify();
	if (wait == 0 || (iw = calloc(1, sizeof(*iw))) == NULL) {
		answer(r, db, tid, r->client_id, 0);
		return;
	}
	iw->r = r;
	snprintf(iw->task_id, sizeof(iw->task_id), "%s", tid);
	snprintf(iw->client_id, sizeof(iw->client_id), "%s", r->client_id);
	req_suspend(r);
	engine_wait(tid, (int)wait, import_waited, iw);
}
