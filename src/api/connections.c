/*
 * Connections: a user's access to one institution, authorized through a
 * session; and their syncs, which run as durable tasks.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/authflow.h"
#include "banks/connector.h"
#include "banks/institutions.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vault.h"
#include "http/http.h"
#include "jobs/engine.h"
#include "jobs/tasks.h"
#include "store/accdata.h"
#include "store/store.h"

/* PSD2: unattended accesses per account and rolling 24 hours. */
#define UNATTENDED_PER_DAY	4
/* A fresh authorization (SCA) opens history older than 90 days for
 * cfg.sca_fresh seconds (5 minutes). */
#define HISTORY_FREE_DAYS	90
/* "Everything" after a fresh SCA: as far back as banks usually keep. */
#define FULL_HISTORY_DAYS	730

/*
 * Reads credentials {username, password}.  Problems of the credentials
 * alone are LOGIN_CREDENTIALS_INCOMPLETE (1011); mixed with others, 1000.
 */
static void
read_credentials(struct vctx *v, json_t *creds, const char **user,
    const char **pass, int *cred_errors)
{
	static const char *const fields[] = { "username", "password", NULL };
	size_t	before = json_object_size(v->errors);

	*user = *pass = NULL;
	if (creds == NULL)
		return;
	v_known(v, creds, "credentials", fields);
	*user = v_string(v, creds, "credentials", "username", 1, 1, 256);
	*pass = v_string(v, creds, "credentials", "password", 1, 1, 256);
	*cred_errors = json_object_size(v->errors) > before;
}

static int
respond_validation(struct vctx *v, struct req *r, int only_credentials)
{
	char	*s;

	if (!only_credentials)
		return v_respond(v, r);
	s = json_dumps(v->errors, JSON_COMPACT | JSON_SORT_KEYS);
	resp_error(r, ERR_LOGIN_CREDENTIALS_INCOMPLETE, s, NULL);
	free(s);
	return 1;
}

/*
 * Whether bankfeed can reach the bank of institution id (inst, found by
 * the caller) now: it is still configured (the operator may have taken it
 * out of the institutions file since a connection was made), it is up, and
 * this build has a connector for its protocol (an institutions file may
 * name banks of a protocol whose connector is not built in yet).  Answers
 * r, naming field, when not.
 */
static int
reachable(struct req *r, const char *id, const struct institution *inst,
    const char *field)
{
	if (inst == NULL) {
		resp_error_field(r, ERR_BANK_NOT_SUPPORTED, field,
		    "Institution %s is no longer configured on this server.",
		    id);
		return 0;
	}
	if (strcmp(inst->status, "up") != 0) {
		if (inst->why != NULL)
			resp_error_field(r, ERR_BANK_NOT_SUPPORTED, field,
			    "%s is in %s: %s.", inst->name, inst->status,
			    inst->why);
		else
			resp_error_field(r, ERR_BANK_NOT_SUPPORTED, field,
			    "%s is in %s; try again later.", inst->name,
			    inst->status);
		return 0;
	}
	if (connector_for(inst->protocol) == NULL) {
		resp_error_field(r, ERR_BANK_NOT_SUPPORTED, field,
		    "%s speaks %s, which this bankfeed build cannot connect to "
		    "yet.", inst->name, inst->protocol);
		return 0;
	}
	return 1;
}

/*
 * Whether the institution can be connected now; answers r when not.
 * existing: for a connection made before (a new authorization of it).
 */
static const struct institution *
connectable(struct req *r, const char *institution_id, int existing)
{
	const struct institution	*inst = institution_find(institution_id);

	if (inst == NULL && !existing) {
		resp_error_field(r, ERR_UNPROCESSABLE_ENTITY, "institution_id",
		    "No institution %s; GET /v1/institutions lists them.",
		    institution_id);
		return NULL;
	}
	if (inst != NULL && strcmp(inst->protocol, "file") == 0) {
		resp_error_field(r, ERR_UNPROCESSABLE_ENTITY, "institution_id",
		    "Statement files are imported with POST "
		    "/v1/users/{id}/statements, not connected.");
		return NULL;
	}
	return reachable(r, institution_id, inst, "institution_id") ? inst :
	    NULL;
}

static void
login_hash(const char *institution_id, const char *username, char out[65])
{
	char	buf[600];
	int	n;

	n = snprintf(buf, sizeof(buf), "%s%c%s", institution_id, '\0', username);
	vault_mac_hex(buf, (size_t)n, out);
}

void
h_connections_create(struct req *r)
{
	static const char *const fields[] = { "user_id", "institution_id",
	    "credentials", "store_credentials", NULL };
	struct db	*db = store_db();
	struct vctx	 v;
	const char	*user_id, *inst_id, *username, *password;
	json_t		*creds;
	int		 store, cred_errors = 0;
	size_t		 nerr;
	char		 cid[ID_MAX], lh[65];
	const struct institution *inst;

	v_init(&v);
	v_known(&v, r->json, NULL, fields);
	user_id = v_string(&v, r->json, NULL, "user_id", 1, 1, 64);
	inst_id = v_string(&v, r->json, NULL, "institution_id", 1, 1, 64);
	store = v_bool(&v, r->json, NULL, "store_credentials", 0);
	nerr = json_object_size(v.errors);
	creds = v_object(&v, r->json, NULL, "credentials", 1);
	if (json_object_size(v.errors) > nerr)
		cred_errors = 1;
	read_credentials(&v, creds, &username, &password, &cred_errors);
	if (v_failed(&v)) {
		respond_validation(&v, r, cred_errors && nerr == 0);
		goto out;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	if (!users_of_client(r, db, user_id, "user_id"))
		goto out;
	if ((inst = connectable(r, inst_id, 0)) == NULL)
		goto out;
	login_hash(inst_id, username, lh);
	if (authflow_live_session(db, r->client_id, lh, NULL)) {
		resp_error_field(r, ERR_CONCURRENT_SESSION, "credentials",
		    "A session for this login is waiting for its answers; "
		    "answer it or let it expire.");
		goto out;
	}
	id_new("con", cid);
	if (db_run(db, "INSERT INTO connections (id, user_id, client_id, "
	    "institution_id, status, store_credentials, login_hash, created_at) "
	    "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)", "ttttnti", cid, user_id,
	    r->client_id, inst_id, store, lh, (int64_t)clock_now()) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	authflow_login(r, db, cid, inst_id, username, password, store, 1);
out:
	v_free(&v);
}

/* The connection's institution and login hash, when it is the client's. */
static int
connection_of(struct db *db, const char *id, const char *client_id,
    char inst[64], char status[32], char lh[65])
{
	struct db_stmt	*s;
	int		 found = 0;

	s = db_q(db, "SELECT institution_id, status, login_hash FROM connections "
	    "WHERE id = ? AND client_id = ?", "tt", id, client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(inst, 64, "%s", db_col_text(s, 0));
		snprintf(status, 32, "%s", db_col_text(s, 1));
		snprintf(lh, 65, "%s", db_col_text(s, 2));
		found = 1;
	}
	db_done(s);
	return found;
}

void
h_connections_get(struct req *r)
{
	struct db	*db = store_db();
	char		 inst[64], status[32], lh[65];
	struct jw	 w;

	if (db == NULL || !connection_of(db, req_param(r, 0), r->client_id, inst,
	    status, lh)) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	resp_begin(r, 200, &w);
	connection_write(&w, db, req_param(r, 0));
}

void
h_connections_list(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct page	 p;
	struct jw	 w;
	const char	*user = req_query(r, "user_id");
	char		 last[ID_MAX], (*ids)[ID_MAX] = NULL;
	int		 n = 0, more = 0, i;

	if (page_parse(r, &p) == -1)
		return;
	if (db == NULL || (ids = calloc((size_t)p.limit, ID_MAX)) == NULL) {
		resp_internal(r, "no database or memory");
		return;
	}
	if (user != NULL)
		s = db_q(db, "SELECT id FROM connections WHERE client_id = ? AND "
		    "user_id = ? AND id > ? ORDER BY id LIMIT ?", "ttti",
		    r->client_id, user, p.after, (int64_t)p.limit + 1);
	else
		s = db_q(db, "SELECT id FROM connections WHERE client_id = ? AND "
		    "id > ? ORDER BY id LIMIT ?", "tti", r->client_id, p.after,
		    (int64_t)p.limit + 1);
	while (s != NULL && db_step(s) == DB_ROW) {
		if (n == p.limit) {
			more = 1;
			break;
		}
		snprintf(ids[n++], ID_MAX, "%s", db_col_text(s, 0));
	}
	db_done(s);
	last[0] = '\0';
	page_begin(r, &w);
	for (i = 0; i < n; i++) {
		connection_write(&w, db, ids[i]);
		snprintf(last, sizeof(last), "%s", ids[i]);
	}
	page_end(r, &w, last, more);
	free(ids);
}

void
h_connections_delete(struct req *r)
{
	struct db	*db = store_db();
	char		 inst[64], status[32], lh[65], tid[ID_MAX];

	if (db == NULL || !connection_of(db, req_param(r, 0), r->client_id, inst,
	    status, lh)) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	if (tasks_active_for(db, req_param(r, 0), tid)) {
		resp_header(r, "Retry-After", "5");
		resp_error_field(r, ERR_RESOURCE_BUSY, "connection",
		    "Sync task %s is running; delete the connection after it "
		    "ends.", tid);
		return;
	}
	if (db_run(db, "DELETE FROM connections WHERE id = ? AND client_id = ?",
	    "tt", req_param(r, 0), r->client_id) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	/* Cached pages of what went must not be served again (users.c). */
	accdata_bump_version(db);
	log_info("event=connection_deleted connection_id=%s", req_param(r, 0));
	resp_empty(r, 204);
}

/*
 * POST /v1/connections/{id}/sessions: authorize again (consent renewal, a
 * fresh SCA, or after a failure), with new credentials or the stored ones.
 */
void
h_connections_new_session(struct req *r)
{
	static const char *const fields[] = { "credentials", NULL };
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct vctx	 v;
	json_t		*creds, *stored = NULL;
	const char	*username = NULL, *password = NULL;
	char		 inst[64], status[32], lh[65], aad[ID_MAX + 16];
	char		*secret = NULL;
	size_t		 secretlen = 0;
	int		 cred_errors = 0, store = 0;

	v_init(&v);
	if (db == NULL || !connection_of(db, req_param(r, 0), r->client_id, inst,
	    status, lh)) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		goto out;
	}
	v_known(&v, r->json, NULL, fields);
	creds = v_object(&v, r->json, NULL, "credentials", 0);
	read_credentials(&v, creds, &username, &password, &cred_errors);
	if (v_failed(&v)) {
		respond_validation(&v, r, cred_errors);
		goto out;
	}
	if (connectable(r, inst, 1) == NULL)
		goto out;
	if (authflow_live_session(db, r->client_id, NULL, req_param(r, 0))) {
		resp_error_field(r, ERR_CONCURRENT_SESSION, "connection",
		    "A session of this connection is waiting for its answers.");
		goto out;
	}
	s = db_q(db, "SELECT store_credentials, secret FROM connections WHERE "
	    "id = ?", "t", req_param(r, 0));
	if (s != NULL && db_step(s) == DB_ROW) {
		const void	*blob;
		size_t		 bn;

		store = (int)db_col_int(s, 0);
		snprintf(aad, sizeof(aad), "%s:secret", req_param(r, 0));
		if (creds == NULL && (blob = db_col_blob(s, 1, &bn)) != NULL &&
		    bn > 0 && vault_open(blob, bn, aad, &secret, &secretlen) == 0)
			stored = json_loads(secret, 0, NULL);
	}
	db_done(s);
	if (creds == NULL) {
		username = json_string_value(json_object_get(stored, "username"));
		password = json_string_value(json_object_get(stored, "password"));
		if (username == NULL || password == NULL) {
			resp_error_field(r, ERR_LOGIN_CREDENTIALS_INCOMPLETE,
			    "credentials", "This connection keeps no credentials; "
			    "send them.");
			goto out;
		}
	} else {
		char	nlh[65];

		login_hash(inst, username, nlh);
		db_run(db, "UPDATE connections SET login_hash = ? WHERE id = ?",
		    "tt", nlh, req_param(r, 0));
	}
	authflow_login(r, db, req_param(r, 0), inst, username, password, store, 0);
out:
	json_decref(stored);
	vault_free(secret, secretlen);
	v_free(&v);
}

/* YYYY-MM-DD of unix time t. */
static void
ymd(long long t, char out[11])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* What a waiting sync request needs when its task ends or its wait ends. */
struct sync_wait {
	struct req	*r;
	char		 task_id[ID_MAX];
	char		 client_id[ID_MAX];
	char		 remaining[24];
};

static void
answer_task(struct req *r, struct db *db, const char *task_id,
    const char *client_id, const char *remaining, int finished)
{
	struct jw	w;
	char		loc[ID_MAX + 16];

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	resp_begin(r, finished ? 200 : 202, &w);
	if (tasks_write(&w, db, task_id, client_id, !finished) == -1)
		resp_internal(r, "task vanished");
	snprintf(loc, sizeof(loc), "/v1/tasks/%s", task_id);
	resp_header(r, "X-RateLimit-Remaining", remaining);
	resp_header(r, "Location", loc);
}

static void
sync_waited(void *arg, int finished)
{
	struct sync_wait	*sw = arg;

	answer_task(sw->r, store_db(), sw->task_id, sw->client_id, sw->remaining,
	    finished);
	req_resume(sw->r);
	free(sw);
}

/* The PSD2 count of unattended accesses in the rolling 24 hours. */
static long long
unattended_count(struct db *db, const char *cid, long long now,
    long long *oldest)
{
	struct db_stmt	*s;
	long long	 count = 0;

	s = db_q(db, "SELECT COUNT(*), MIN(at) FROM sync_log WHERE connection_id "
	    "= ? AND unattended = 1 AND at > ?", "ti", cid,
	    (int64_t)(now - 86400));
	if (s != NULL && db_step(s) == DB_ROW) {
		count = db_col_int(s, 0);
		if (oldest != NULL)
			*oldest = db_col_int(s, 1);
	}
	db_done(s);
	return count;
}

void
h_connections_sync(struct req *r)
{
	static const char *const fields[] = { "wait_seconds", "from", NULL };
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct vctx	 v;
	const struct institution *inst;
	const char	*from, *psu_ip = req_header(r, "PSU-IP-Address");
	long long	 wait, now = clock_now(), consent = 0, authz = 0;
	long long	 count = 0, oldest = 0;
	char		 cid[ID_MAX], inst_id[64], status[32], tid[ID_MAX];
	char		 today[11], floor90[11], full[11], remaining[24], params[256];
	char		 tmp[32], other[ID_MAX];
	int		 unattended = psu_ip == NULL || *psu_ip == '\0';
	int		 tries = 0;
	struct sync_wait *sw;

	v_init(&v);
	snprintf(cid, sizeof(cid), "%s", req_param(r, 0));
	v_known(&v, r->json, NULL, fields);
	wait = v_int(&v, r->json, NULL, "wait_seconds", 0, 210, 210);
	from = v_string(&v, r->json, NULL, "from", 0, 10, 10);
	if (from != NULL && !v_is_date(from))
		v_add(&v, "from", "Must be a date YYYY-MM-DD.");
	if (v_failed(&v)) {
		v_respond(&v, r);
		goto out;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	s = db_q(db, "SELECT institution_id, status, consent_expires_at, "
	    "authorized_at FROM connections WHERE id = ? AND client_id = ?", "tt",
	    cid, r->client_id);
	if (s == NULL || db_step(s) != DB_ROW) {
		db_done(s);
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		goto out;
	}
	snprintf(inst_id, sizeof(inst_id), "%s", db_col_text(s, 0));
	snprintf(status, sizeof(status), "%s", db_col_text(s, 1));
	consent = db_col_int(s, 2);
	authz = db_col_int(s, 3);
	db_done(s);
again:
	count = unattended_count(db, cid, now, &oldest);
	snprintf(remaining, sizeof(remaining), "%lld", count >= UNATTENDED_PER_DAY ?
	    0 : UNATTENDED_PER_DAY - count - (unattended ? 1 : 0));
	/* A sync already under way is the answer. */
	if (tasks_active_for(db, cid, tid)) {
		snprintf(remaining, sizeof(remaining), "%lld",
		    count >= UNATTENDED_PER_DAY ? 0 : UNATTENDED_PER_DAY - count);
		answer_task(r, db, tid, r->client_id, remaining, 0);
		goto out;
	}
	resp_header(r, "X-RateLimit-Remaining", remaining);
	if (strcmp(status, "pending") == 0 || strcmp(status, "failed") == 0) {
		resp_error_field(r, ERR_CONNECTION_NOT_AUTHORIZED, "connection",
		    "The connection is %s; answer its session or start a new one "
		    "with POST /v1/connections/%s/sessions.", status, cid);
		goto out;
	}
	if (strcmp(status, "expired") == 0 || consent <= now) {
		db_run(db, "UPDATE connections SET status = 'expired' WHERE id = ?",
		    "t", cid);
		resp_error_field(r, ERR_NO_ACTIVE_CONSENT, "connection",
		    "The consent ended; the user must authorize again with POST "
		    "/v1/connections/%s/sessions.", cid);
		goto out;
	}
	inst = institution_find(inst_id);
	if (inst != NULL && strcmp(inst->protocol, "file") == 0) {
		resp_error_field(r, ERR_UNPROCESSABLE_ENTITY, "connection",
		    "This connection holds imported statement files; upload new "
		    "ones with POST /v1/users/{id}/statements.");
		goto out;
	}
	if (!reachable(r, inst_id, inst, "connection"))
		goto out;
	if (inst != NULL && inst->requires_psu_ip && unattended) {
		resp_error_field(r, ERR_PSU_IP_REQUIRED, "PSU-IP-Address",
		    "%s needs the end user's IP address in this header.",
		    inst->name);
		goto out;
	}
	ymd(now, today);
	ymd(now - HISTORY_FREE_DAYS * 86400LL, floor90);
	ymd(now - FULL_HISTORY_DAYS * 86400LL, full);
	if (from != NULL && strcmp(from, floor90) < 0 &&
	    now - authz > cfg.sca_fresh) {
		char data[512];

		snprintf(data, sizeof(data), "{\"from\":[\"History before %s needs "
		    "a fresh authorization: POST /v1/connections/%s/sessions, "
		    "answer its challenges, then sync within 5 minutes.\"],"
		    "\"reauthorize\":\"/v1/connections/%s/sessions\"}", floor90,
		    cid, cid);
		resp_error(r, ERR_SCA_REQUIRED, data, NULL);
		goto out;
	}
	if (unattended && count >= UNATTENDED_PER_DAY) {
		snprintf(tmp, sizeof(tmp), "%lld", oldest + 86400 - now > 0 ?
		    oldest + 86400 - now : 1);
		resp_header(r, "Retry-After", tmp);
		resp_error_field(r, ERR_API_USAGE_LIMIT_REACHED, "PSU-IP-Address",
		    "%d unattended syncs in 24 hours is the PSD2 limit; send the "
		    "end user's IP address when the user is present.",
		    UNATTENDED_PER_DAY);
		goto out;
	}
	/* Without an explicit start: everything after a fresh SCA, else 90 days. */
	snprintf(params, sizeof(params), "{\"from\":\"%s\",\"to\":\"%s\"%s%s%s}",
	    from != NULL ? from : now - authz <= cfg.sca_fresh ? full : floor90,
	    today, unattended ? "" : ",\"psu_ip\":\"", unattended ? "" : psu_ip,
	    unattended ? "" : "\"");
	id_new("tsk", tid);
	if (db_begin(db) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	/*
	 * Decided again under the write lock: another request, on this node
	 * or another one sharing the database, may have started a sync
	 * since the count.
	 */
	if (unattended_count(db, cid, now, NULL) != count ||
	    tasks_active_for(db, cid, other)) {
		db_rollback(db);
		if (++tries < 5)
			goto again;
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL, NULL);
		goto out;
	}
	if (db_run(db, "INSERT INTO tasks (id, client_id, connection_id, kind, "
	    "status, params, created_at) VALUES (?, ?, ?, 'sync', 'queued', ?, ?)",
	    "tttti", tid, r->client_id, cid, params, (int64_t)time(NULL)) != DB_OK ||
	    db_run(db, "INSERT INTO sync_log (connection_id, at, unattended) "
	    "VALUES (?, ?, ?)", "tin", cid, (int64_t)now, unattended) != DB_OK ||
	    db_commit(db) != DB_OK) {
		db_rollback(db);
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	engine_notify();
	if (wait == 0) {
		answer_task(r, db, tid, r->client_id, remaining, 0);
		goto out;
	}
	if ((sw = calloc(1, sizeof(*sw))) == NULL) {
		answer_task(r, db, tid, r->client_id, remaining, 0);
		goto out;
	}
	sw->r = r;
	snprintf(sw->task_id, sizeof(sw->task_id), "%s", tid);
	snprintf(sw->client_id, sizeof(sw->client_id), "%s", r->client_id);
	snprintf(sw->remaining, sizeof(sw->remaining), "%s", remaining);
	req_suspend(r);
	engine_wait(tid, (int)wait, sync_waited, sw);
out:
	v_free(&v);
}

void
h_tasks_get(struct req *r)
{
	struct db	*db = store_db();
	struct jw	 w;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	resp_begin(r, 200, &w);
	if (tasks_write(&w, db, req_param(r, 0), r->client_id, 0) == -1)
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
}
