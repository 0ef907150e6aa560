/*
 * Users: the client's own customers, under whom connections, accounts and
 * transactions hang.  Another client's user answers 404, exactly as an id
 * that does not exist.
 */
#include "api/api.h"

#include <string.h>
#include <time.h>

#include "core/log.h"
#include "http/http.h"
#include "store/accdata.h"
#include "store/store.h"

#define USER_COLS "id, external_ref, created_at"

static void
write_user(struct jw *w, struct db_stmt *s)
{
	jw_obj(w);
	jw_kstr(w, "id", db_col_text(s, 0));
	jw_kstr(w, "external_ref", db_col_text(s, 1));
	jw_ktime(w, "created_at", db_col_time(s, 2));
	jw_obj_end(w);
}

void
h_users_create(struct req *r)
{
	static const char *const fields[] = { "external_ref", NULL };
	struct vctx	 v;
	const char	*ext;
	char		 id[ID_MAX];
	struct db	*db = store_db();
	struct db_stmt	*s;
	enum db_rc	 rc;
	struct jw	 w;

	v_init(&v);
	v_known(&v, r->json, NULL, fields);
	ext = v_string(&v, r->json, NULL, "external_ref", 0, 1, 255);
	if (v_failed(&v)) {
		v_respond(&v, r);
		goto out;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	id_new("usr", id);
	rc = db_run(db, "INSERT INTO users (id, client_id, external_ref, "
	    "created_at) VALUES (?, ?, ?, ?)", "ttti", id, r->client_id, ext,
	    (int64_t)time(NULL));
	if (rc == DB_CONSTRAINT) {
		resp_error_field(r, ERR_ENTRY_ALREADY_EXISTS, "external_ref",
		    "A user with this external_ref already exists.");
		goto out;
	}
	if (rc != DB_OK) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	s = db_q(db, "SELECT " USER_COLS " FROM users WHERE id = ?", "t", id);
	if (s == NULL || db_step(s) != DB_ROW)
		resp_internal(r, "user vanished after insert");
	else {
		resp_begin(r, 201, &w);
		write_user(&w, s);
	}
	db_done(s);
out:
	v_free(&v);
}

void
h_users_get(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct jw	 w;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	s = db_q(db, "SELECT " USER_COLS " FROM users WHERE id = ? AND "
	    "client_id = ?", "tt", req_param(r, 0), r->client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		resp_begin(r, 200, &w);
		write_user(&w, s);
	} else
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
	db_done(s);
}

void
h_users_list(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct page	 p;
	struct jw	 w;
	const char	*ext = req_query(r, "external_ref");
	char		 last[ID_MAX];
	int		 n = 0, more = 0;

	if (page_parse(r, &p) == -1)
		return;
	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (ext != NULL)
		s = db_q(db, "SELECT " USER_COLS " FROM users WHERE client_id = ? "
		    "AND id > ? AND external_ref = ? ORDER BY id LIMIT ?", "ttti",
		    r->client_id, p.after, ext, (int64_t)p.limit + 1);
	else
		s = db_q(db, "SELECT " USER_COLS " FROM users WHERE client_id = ? "
		    "AND id > ? ORDER BY id LIMIT ?", "tti", r->client_id, p.after,
		    (int64_t)p.limit + 1);
	if (s == NULL) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	last[0] = '\0';
	page_begin(r, &w);
	while (db_step(s) == DB_ROW) {
		if (n == p.limit) {
			more = 1;
			break;
		}
		write_user(&w, s);
		snprintf(last, sizeof(last), "%s", db_col_text(s, 0));
		n++;
	}
	db_done(s);
	page_end(r, &w, last, more);
}

void
h_users_delete(struct req *r)
{
	struct db	*db = store_db();

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (db_run(db, "DELETE FROM users WHERE id = ? AND client_id = ?", "tt",
	    req_param(r, 0), r->client_id) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	/*
	 * Cached pages of what went must not be served again: the version
	 * moves once the deletion is visible, so no page rendered before it
	 * carries the new version.
	 */
	if (db_changes(db) == 0) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	accdata_bump_version(db);
	log_info("event=user_deleted user_id=%s client_id=%s", req_param(r, 0),
	    r->client_id);
	resp_empty(r, 204);
}

int
users_of_client(struct req *r, struct db *db, const char *user_id,
    const char *field)
{
	if (db_exists(db, "SELECT 1 FROM users WHERE id = ? AND client_id = ?",
	    "tt", user_id, r->client_id) == 1)
		return 1;
	if (field != NULL)
		resp_error_field(r, ERR_ENTITY_NOT_FOUND, field, "No user %s.",
		    user_id);
	else
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
	return 0;
}
