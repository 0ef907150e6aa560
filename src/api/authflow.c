#include "api/authflow.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "banks/connector.h"
#include "banks/institutions.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vault.h"
#include "http/http.h"
#include "jobs/webhooks.h"
#include "store/store.h"

/* The stored error of a row (code and message columns), or null. */
static void
opt_error(struct jw *w, struct db_stmt *s, int code_col, int msg_col)
{
	error_object_kopt(w, "error", db_col_null(s, code_col) ? 0 :
	    (int)db_col_int(s, code_col), NULL, db_col_text(s, msg_col));
}

int
connection_write(struct jw *w, struct db *db, const char *id)
{
	struct db_stmt	*s;

	s = db_q(db, "SELECT id, user_id, institution_id, status, "
	    "store_credentials, consent_expires_at, last_synced_at, created_at, "
	    "error_code, error_message FROM connections WHERE id = ?", "t", id);
	if (s == NULL || db_step(s) != DB_ROW) {
		db_done(s);
		return -1;
	}
	jw_obj(w);
	jw_kstr(w, "id", db_col_text(s, 0));
	jw_kstr(w, "user_id", db_col_text(s, 1));
	jw_kstr(w, "institution_id", db_col_text(s, 2));
	jw_kstr(w, "status", db_col_text(s, 3));
	jw_kbool(w, "store_credentials", (int)db_col_int(s, 4));
	jw_ktime(w, "consent_expires_at", db_col_time(s, 5));
	jw_ktime(w, "last_synced_at", db_col_time(s, 6));
	jw_ktime(w, "created_at", db_col_time(s, 7));
	opt_error(w, s, 8, 9);
	jw_obj_end(w);
	db_done(s);
	return 0;
}

int
session_write(struct jw *w, struct db *db, const char *id)
{
	struct db_stmt	*s;
	const char	*ch;

	s = db_q(db, "SELECT id, connection_id, status, challenges, expires_at, "
	    "error_code, error_message FROM sessions WHERE id = ?", "t", id);
	if (s == NULL || db_step(s) != DB_ROW) {
		db_done(s);
		return -1;
	}
	jw_obj(w);
	jw_kstr(w, "id", db_col_text(s, 0));
	jw_kstr(w, "connection_id", db_col_text(s, 1));
	jw_kstr(w, "status", db_col_text(s, 2));
	ch = db_col_text(s, 3);
	jw_key(w, "challenges");
	jw_raw(w, ch, strlen(ch));
	jw_ktime(w, "expires_at", db_col_time(s, 4));
	opt_error(w, s, 5, 6);
	jw_obj_end(w);
	db_done(s);
	return 0;
}

int
authflow_live_session(struct db *db, const char *client_id,
    const char *login_hash, const char *connection_id)
{
	int64_t	now = (int64_t)clock_now();

	if (connection_id != NULL)
		return db_exists(db, "SELECT 1 FROM sessions WHERE connection_id = "
		    "? AND status = 'challenge_required' AND expires_at > ?", "ti",
		    connection_id, now) == 1;
	return db_exists(db, "SELECT 1 FROM sessions s JOIN connections c ON "
	    "s.connection_id = c.id WHERE c.client_id = ? AND c.login_hash = ? "
	    "AND s.status = 'challenge_required' AND s.expires_at > ?", "tti",
	    client_id, login_hash, now) == 1;
}

/* The challenges of the bank as the API shows them (JSON text). */
static char *
challenges_json(const struct bank_auth *a)
{
	static const char *const kinds[] = { "question", "tan", "choice" };
	struct buf	b;
	struct jw	w;
	size_t		i, j;

	buf_init(&b, 64 * 1024);
	jw_init(&w, &b);
	jw_arr(&w);
	for (i = 0; a->outcome == BANK_CHALLENGE && i < a->nchallenges; i++) {
		const struct bank_challenge *c = &a->challenges[i];

		jw_obj(&w);
		jw_kstr(&w, "key", c->key);
		jw_kstr(&w, "kind", kinds[c->kind]);
		jw_kstr(&w, "prompt", c->prompt);
		if (c->noptions > 0) {
			jw_key(&w, "options");
			jw_arr(&w);
			for (j = 0; j < c->noptions; j++)
				jw_str(&w, c->options[j]);
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	return buf_steal(&b, NULL);
}

/* Seals text for a row; the caller frees *out. */
static int
seal_text(const char *text, const char *row, const char *what,
    unsigned char **out, size_t *outn)
{
	char	aad[ID_MAX + 16];

	*out = NULL;
	*outn = 0;
	if (text == NULL)
		return 0;
	snprintf(aad, sizeof(aad), "%s:%s", row, what);
	return vault_seal(text, strlen(text), aad, out, outn);
}

/* {"username","password","answers":{...}} for unattended refreshes. */
static char *
secret_json(const char *username, const char *password, json_t *answers)
{
	json_t	*j = json_pack("{s:s, s:s, s:o}", "username", username,
	    "password", password, "answers", answers ? json_incref(answers) :
	    json_object());
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/*
 * Records the outcome of a login or an answer for session_id, in one
 * transaction with its webhook.  secret: the JSON to keep (only when the
 * client asked to store credentials), or NULL.
 */
static int
record_outcome(struct db *db, const char *client_id, const char *session_id,
    const char *connection_id, const struct bank_auth *a, const char *secret,
    int new_session)
{
	unsigned char	*st = NULL, *sec = NULL;
	size_t		 stn = 0, secn = 0;
	char		*ch = challenges_json(a);
	int64_t		 now = (int64_t)clock_now();
	int		 ok = 0;
	struct buf	 b;
	struct jw	 w;

	buf_init(&b, 1 << 20);
	if (db_begin(db) != DB_OK)
		goto out;
	if (new_session && db_run(db, "INSERT INTO sessions (id, connection_id, "
	    "status, challenges, expires_at, created_at) VALUES (?, ?, "
	    "'challenge_required', '[]', ?, ?)", "ttii", session_id,
	    connection_id, now + cfg.session_idle, now) != DB_OK)
		goto abort;
	switch (a->outcome) {
	case BANK_AUTHORIZED:
		if (seal_text(a->state.len ? buf_str(&a->state) : NULL,
		    connection_id, "state", &st, &stn) == -1 ||
		    seal_text(secret, connection_id, "secret", &sec, &secn) == -1)
			goto abort;
		if (db_run(db, "UPDATE sessions SET status = 'authorized', "
		    "challenges = '[]', secret = NULL, state = NULL, expires_at = ? "
		    "WHERE id = ?", "it", now + cfg.session_idle, session_id) != DB_OK ||
		    db_run(db, "UPDATE connections SET status = 'authorized', "
		    "authorized_at = ?, consent_expires_at = ?, state = ?, secret = ?, "
		    "error_code = NULL, error_message = NULL WHERE id = ?", "iibbt",
		    now, now + cfg.consent_days * 86400, st, stn, sec, secn,
		    connection_id) != DB_OK)
			goto abort;
		jw_init(&w, &b);
		if (connection_write(&w, db, connection_id) == 0)
			webhooks_enqueue(db, client_id, "connection.authorized",
			    buf_str(&b));
		break;
	case BANK_CHALLENGE:
		if (seal_text(a->state.len ? buf_str(&a->state) : NULL,
		    session_id, "state", &st, &stn) == -1 ||
		    seal_text(secret, session_id, "secret", &sec, &secn) == -1)
			goto abort;
		if (db_run(db, "UPDATE sessions SET status = 'challenge_required', "
		    "challenges = ?, state = ?, secret = ?, expires_at = ? WHERE "
		    "id = ?", "tbbit", ch, st, stn, sec, secn, now + cfg.session_idle,
		    session_id) != DB_OK)
			goto abort;
		jw_init(&w, &b);
		if (session_write(&w, db, session_id) == 0)
			webhooks_enqueue(db, client_id, "session.challenge_required",
			    buf_str(&b));
		break;
	case BANK_FAILED:
		if (db_run(db, "UPDATE sessions SET status = 'failed', challenges = "
		    "'[]', secret = NULL, state = NULL, error_code = ?, "
		    "error_message = ? WHERE id = ?", "ntt", err_code(a->error.code),
		    a->error.message, session_id) != DB_OK ||
		    db_run(db, "UPDATE connections SET status = 'failed', "
		    "error_code = ?, error_message = ? WHERE id = ?", "ntt",
		    err_code(a->error.code), a->error.message,
		    connection_id) != DB_OK)
			goto abort;
		break;
	}
	ok = db_commit(db) == DB_OK;
	if (!ok)
		goto abort;
	webhooks_wake();
	goto out;
abort:
	db_rollback(db);
	ok = 0;
out:
	free(st);
	free(sec);
	free(ch);
	buf_free(&b);
	return ok ? 0 : -1;
}

/* Answers r with the failure, naming the rows the client can look at. */
static void
respond_failure(struct req *r, const struct bank_auth *a,
    const char *connection_id, const char *session_id)
{
	char	data[256];

	snprintf(data, sizeof(data), "{\"connection_id\":\"%s\","
	    "\"session_id\":\"%s\"}", connection_id, session_id);
	resp_error(r, a->error.code, data, a->error.message);
}

void
authflow_login(struct req *r, struct db *db, const char *connection_id,
    const char *institution_id, const char *username, const char *password,
    int store_credentials, int with_connection)
{
	const struct institution *inst = institution_find(institution_id);
	const struct connector	 *c = inst ? connector_for(inst->protocol) : NULL;
	struct bank_ctx		  ctx;
	struct bank_secret	  sec = { username, password };
	struct bank_auth	  a;
	struct bank_op		 *op;
	char			  sid[ID_MAX], *secret = NULL;
	struct jw		  w;

	bank_auth_init(&a);
	if (c == NULL) {
		resp_internal(r, "no connector for the institution");
		goto out;
	}
	ctx.institution_id = institution_id;
	ctx.now = clock_now();
	ctx.psu_ip = req_header(r, "PSU-IP-Address");
	if ((op = c->login(&ctx, &sec, &a)) == NULL) {
		resp_internal(r, "connector could not start a login");
		goto out;
	}
	bank_run_blocking(c, op);
	c->op_free(op);
	id_new("ses", sid);
	if (store_credentials && a.outcome != BANK_FAILED &&
	    (secret = secret_json(username, password, NULL)) == NULL) {
		resp_internal(r, "cannot keep credentials");
		goto out;
	}
	if (record_outcome(db, r->client_id, sid, connection_id, &a, secret, 1)
	    == -1) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	log_info("event=login connection_id=%s session_id=%s outcome=%s%s%s",
	    connection_id, sid, a.outcome == BANK_AUTHORIZED ? "authorized" :
	    a.outcome == BANK_CHALLENGE ? "challenge" : "failed",
	    a.outcome == BANK_FAILED ? " error=" : "",
	    a.outcome == BANK_FAILED ? err_name(a.error.code) : "");
	if (a.outcome == BANK_FAILED) {
		respond_failure(r, &a, connection_id, sid);
		goto out;
	}
	resp_begin(r, 201, &w);
	if (with_connection) {
		jw_obj(&w);
		jw_key(&w, "connection");
		connection_write(&w, db, connection_id);
		jw_key(&w, "session");
		session_write(&w, db, sid);
		jw_obj_end(&w);
	} else
		session_write(&w, db, sid);
out:
	wipe_free(secret);
	bank_auth_free(&a);
}

/*
 * A session waiting for answers past its idle time becomes expired (its
 * bank state and secrets dropped); status follows.  An expired session is
 * answered 410 SESSION_EXPIRED, by GET as by answers; answers to a failed
 * one get the same (GET still shows a failed session and its error).
 * Returns 1 when it answered.
 */
static int
session_gone(struct req *r, struct db *db, const char *sid, const char *cid,
    char *status, size_t statuslen, int64_t expires, int answering)
{
	if (strcmp(status, "challenge_required") == 0 &&
	    expires <= (int64_t)clock_now()) {
		db_run(db, "UPDATE sessions SET status = 'expired', state = NULL, "
		    "secret = NULL WHERE id = ?", "t", sid);
		snprintf(status, statuslen, "expired");
	}
	if (strcmp(status, "expired") != 0 && (!answering ||
	    strcmp(status, "challenge_required") == 0))
		return 0;
	resp_error_field(r, ERR_SESSION_EXPIRED, "session",
	    "This session is %s; start a new one with POST "
	    "/v1/connections/%s/sessions.", status, cid);
	return 1;
}

/*
 * POST /v1/sessions/{id}/answers: the user's answers to the bank's
 * challenges.
 */
void
h_sessions_answer(struct req *r)
{
	static const char *const fields[] = { "answers", NULL };
	struct db	*db = store_db();
	struct db_stmt	*s = NULL;
	struct vctx	 v;
	json_t		*answers, *asked = NULL, *val, *kept = NULL;
	const char	*key;
	char		 sid[ID_MAX], cid[ID_MAX], inst_id[64], status[32];
	char		 aad[ID_MAX + 16], *state = NULL, *secret = NULL;
	char		*newsecret = NULL, missing[512], unknown[512];
	size_t		 statelen = 0, secretlen = 0, n = 0, i;
	struct bank_answer ans[BANK_MAX_CHALLENGES];
	struct bank_auth a;
	struct bank_ctx	 ctx;
	struct bank_op	*op;
	const struct institution *inst;
	const struct connector *c;
	int64_t		 now = (int64_t)clock_now(), expires;
	int		 store = 0;
	struct jw	 w;

	v_init(&v);
	bank_auth_init(&a);
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	v_known(&v, r->json, NULL, fields);
	answers = v_object(&v, r->json, NULL, "answers", 1);
	json_object_foreach(answers, key, val) {
		char path[300];

		snprintf(path, sizeof(path), "answers.%s", key);
		if (!json_is_string(val))
			v_add(&v, path, "Not a valid string.");
		else if (json_string_length(val) > 256)
			v_add(&v, path, "Must be at most 256 characters long.");
	}
	if (v_failed(&v)) {
		v_respond(&v, r);
		goto out;
	}
	s = db_q(db, "SELECT s.id, s.connection_id, s.status, s.challenges, "
	    "s.expires_at, s.state, s.secret, c.institution_id, "
	    "c.store_credentials FROM sessions s JOIN connections c ON "
	    "s.connection_id = c.id WHERE s.id = ? AND c.client_id = ?", "tt",
	    req_param(r, 0), r->client_id);
	if (s == NULL || db_step(s) != DB_ROW) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		goto out;
	}
	snprintf(sid, sizeof(sid), "%s", db_col_text(s, 0));
	snprintf(cid, sizeof(cid), "%s", db_col_text(s, 1));
	snprintf(status, sizeof(status), "%s", db_col_text(s, 2));
	asked = json_loads(db_col_text(s, 3), 0, NULL);
	expires = db_col_int(s, 4);
	snprintf(inst_id, sizeof(inst_id), "%s", db_col_text(s, 7));
	store = (int)db_col_int(s, 8);
	{
		const void	*blob;
		size_t		 bn;

		snprintf(aad, sizeof(aad), "%s:state", sid);
		if ((blob = db_col_blob(s, 5, &bn)) != NULL && bn > 0 &&
		    vault_open(blob, bn, aad, &state, &statelen) == -1)
			state = NULL;
		snprintf(aad, sizeof(aad), "%s:secret", sid);
		if ((blob = db_col_blob(s, 6, &bn)) != NULL && bn > 0 &&
		    vault_open(blob, bn, aad, &secret, &secretlen) == -1)
			secret = NULL;
	}
	db_done(s);
	s = NULL;
	if (strcmp(status, "authorized") == 0) {
		resp_error(r, ERR_ALREADY_AUTHORIZED, NULL, NULL);
		goto out;
	}
	if (session_gone(r, db, sid, cid, status, sizeof(status), expires, 1))
		goto out;
	/* Keys not asked, and keys asked but not answered. */
	unknown[0] = missing[0] = '\0';
	json_object_foreach(answers, key, val) {
		int found = 0;

		json_array_foreach(asked, i, val)
			if (strcmp(json_string_value(json_object_get(val, "key")),
			    key) == 0)
				found = 1;
		if (!found && strlen(unknown) + strlen(key) + 3 < sizeof(unknown))
			snprintf(unknown + strlen(unknown), sizeof(unknown) -
			    strlen(unknown), "%s%s", *unknown ? ", " : "", key);
	}
	json_array_foreach(asked, i, val) {
		const char *k = json_string_value(json_object_get(val, "key"));

		if (json_object_get(answers, k) == NULL &&
		    strlen(missing) + strlen(k) + 3 < sizeof(missing))
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), "%s%s", *missing ? ", " : "", k);
		else if (n < BANK_MAX_CHALLENGES) {
			ans[n].key = k;
			ans[n].value = json_string_value(json_object_get(answers, k));
			n++;
		}
	}
	/* Every request moves the idle expiry. */
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ?", "it",
	    now + cfg.session_idle, sid);
	if (*unknown != '\0') {
		resp_error_field(r, ERR_UNKNOWN_CHALLENGE_KEY, "answers",
		    "Not asked: %s.", unknown);
		goto out;
	}
	if (*missing != '\0') {
		resp_error_field(r, ERR_SECURITYRESPONSES_INCOMPLETE, "answers",
		    "No answer for: %s.", missing);
		goto out;
	}
	if ((inst = institution_find(inst_id)) == NULL ||
	    (c = connector_for(inst->protocol)) == NULL) {
		resp_internal(r, "no connector for the institution");
		goto out;
	}
	ctx.institution_id = inst_id;
	ctx.now = (long long)now;
	ctx.psu_ip = req_header(r, "PSU-IP-Address");
	if ((op = c->answer(&ctx, state ? state : "", ans, n, &a)) == NULL) {
		resp_internal(r, "connector could not start an answer");
		goto out;
	}
	bank_run_blocking(c, op);
	c->op_free(op);
	/* Kept answers: those given before and these, for unattended refresh. */
	if (store && secret != NULL && a.outcome != BANK_FAILED &&
	    (kept = json_loads(secret, 0, NULL)) != NULL) {
		json_t *ka = json_object_get(kept, "answers");

		for (i = 0; i < n && json_is_object(ka); i++)
			json_object_set_new(ka, ans[i].key, json_string(ans[i].value));
		newsecret = json_dumps(kept, JSON_COMPACT);
	}
	if (record_outcome(db, r->client_id, sid, cid, &a, newsecret, 0) == -1) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	log_info("event=answer connection_id=%s session_id=%s outcome=%s%s%s",
	    cid, sid, a.outcome == BANK_AUTHORIZED ? "authorized" :
	    a.outcome == BANK_CHALLENGE ? "challenge" : "failed",
	    a.outcome == BANK_FAILED ? " error=" : "",
	    a.outcome == BANK_FAILED ? err_name(a.error.code) : "");
	if (a.outcome == BANK_FAILED) {
		respond_failure(r, &a, cid, sid);
		goto out;
	}
	resp_begin(r, 200, &w);
	session_write(&w, db, sid);
out:
	db_done(s);
	vault_free(state, statelen);
	vault_free(secret, secretlen);
	wipe_free(newsecret);
	json_decref(kept);
	json_decref(asked);
	bank_auth_free(&a);
	v_free(&v);
}

/*
 * GET /v1/sessions/{id}: the session (a live one is kept alive by this
 * request); an expired one is gone: 410, as for answers.
 */
void
h_sessions_get(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct jw	 w;
	char		 sid[ID_MAX], cid[ID_MAX], status[32];
	int64_t		 expires = 0;
	int		 found = 0;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	s = db_q(db, "SELECT s.id, s.connection_id, s.status, s.expires_at FROM "
	    "sessions s JOIN connections c ON s.connection_id = c.id WHERE "
	    "s.id = ? AND c.client_id = ?", "tt", req_param(r, 0), r->client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(sid, sizeof(sid), "%s", db_col_text(s, 0));
		snprintf(cid, sizeof(cid), "%s", db_col_text(s, 1));
		snprintf(status, sizeof(status), "%s", db_col_text(s, 2));
		expires = db_col_int(s, 3);
		found = 1;
	}
	db_done(s);
	if (!found) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		return;
	}
	if (session_gone(r, db, sid, cid, status, sizeof(status), expires, 0))
		return;
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ? AND status = "
	    "'challenge_required'", "it", (int64_t)clock_now() + cfg.session_idle,
	    sid);
	resp_begin(r, 200, &w);
	session_write(&w, db, sid);
}
