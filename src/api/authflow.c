#include "api/authflow.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/authrun.h"
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
		jw_kstr(&w, "kind", bank_chal_kind_name(c->kind));
		jw_kstr(&w, "prompt", c->prompt);
		if (c->noptions > 0) {
			jw_key(&w, "options");
			jw_arr(&w);
			for (j = 0; j < c->noptions; j++)
				jw_str(&w, c->options[j]);
			jw_arr_end(&w);
		}
		if (c->kind == BANK_CHAL_REDIRECT)
			jw_kstr(&w, "url", c->url);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	return buf_steal(&b, NULL);
}

/* The state parameter of bankfeed's callback URL for a session. */
static int
callback_state(const char *sid, char out[CALLBACK_STATE_MAX])
{
	return vault_token_seal(sid, strlen(sid), CALLBACK_AAD, out,
	    CALLBACK_STATE_MAX);
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

/*
 * Records the outcome of a login or an answer for session_id, in one
 * transaction with its webhook.  secret: the JSON to keep (only when the
 * client asked to store credentials), or NULL.  An existing session is
 * changed only while it waits for answers; a background poll (which
 * never moves the idle expiry) only before it expires.  0; 1 when the
 * session had ended (nothing recorded); -1 on a database error.
 */
static int
record_outcome(struct db *db, const char *client_id, const char *session_id,
    const char *connection_id, const struct bank_auth *a, const char *secret,
    int new_session, int background)
{
	unsigned char	*st = NULL, *sec = NULL;
	size_t		 stn = 0, secn = 0;
	char		*ch = challenges_json(a);
	int64_t		 now = (int64_t)clock_now();
	int		 ok = 0, same = 0, ended = 0;
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
	if (!new_session && db_exists(db, "SELECT 1 FROM sessions WHERE id = ? "
	    "AND status = 'challenge_required' AND (? = 0 OR expires_at > ?)",
	    "tni", session_id, background, now) != 1) {
		/* It ended meanwhile (elsewhere, or it expired): as it is. */
		db_rollback(db);
		ended = 1;
		goto out;
	}
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
		/* The same challenge again (a decoupled one still waiting):
		 * nothing new to tell the client's webhook. */
		same = !new_session && db_exists(db, "SELECT 1 FROM sessions "
		    "WHERE id = ? AND status = 'challenge_required' AND "
		    "challenges = ?", "tt", session_id, ch) == 1;
		if (db_run(db, "UPDATE sessions SET status = 'challenge_required', "
		    "challenges = ?, state = ?, secret = ?, expires_at = CASE WHEN "
		    "? = 1 THEN expires_at ELSE ? END WHERE id = ?", "tbbnit", ch,
		    st, stn, sec, secn, background, now + cfg.session_idle,
		    session_id) != DB_OK)
			goto abort;
		jw_init(&w, &b);
		if (!same && session_write(&w, db, session_id) == 0)
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
	return ended ? 1 : ok ? 0 : -1;
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

static void	poll_later(struct authrun *, struct db *);

/*
 * The common part of every outcome: recorded (-1 after answering r with
 * an internal error), logged, and a decoupled challenge asked again in
 * the background at the bank's time.
 */
static int
recorded(struct authrun *ar, struct req *r, struct db *db, const char *event,
    int new_session)
{
	const struct bank_auth	*a = &ar->a;
	int			 rc = db == NULL ? -1 : record_outcome(db,
	    ar->client_id, ar->sid, ar->cid, a, ar->secret, new_session,
	    ar->background);

	if (rc == 1) {
		log_info("event=%s connection_id=%s session_id=%s "
		    "outcome=dropped reason=session_ended", event, ar->cid,
		    ar->sid);
		return 0;
	}
	if (rc == -1) {
		log_error("msg=\"cannot record an authorization\" session_id=%s "
		    "reason=\"%s\"", ar->sid, db ? db_errmsg(db) : "no database");
		if (r != NULL)
			resp_internal(r, db != NULL ? db_errmsg(db) :
			    "no database");
		return -1;
	}
	log_info("event=%s connection_id=%s session_id=%s outcome=%s%s%s",
	    event, ar->cid, ar->sid, a->outcome == BANK_AUTHORIZED ?
	    "authorized" : a->outcome == BANK_CHALLENGE ? "challenge" : "failed",
	    a->outcome == BANK_FAILED ? " error=" : "",
	    a->outcome == BANK_FAILED ? err_name(a->error.code) : "");
	poll_later(ar, db);
	return 0;
}

int
authflow_recorded(struct authrun *ar, struct req *r, struct db *db,
    const char *event)
{
	return recorded(ar, r, db, event, 0);
}

void
authflow_respond_failure(struct req *r, const struct authrun *ar)
{
	respond_failure(r, &ar->a, ar->cid, ar->sid);
}

void
authflow_dropped(const char *connection_id)
{
	struct db	*db = store_db();

	if (db != NULL)
		db_run(db, "DELETE FROM connections WHERE id = ? AND status = "
		    "'pending'", "t", connection_id);
}

static void
login_done(struct authrun *ar, struct req *r, struct db *db)
{
	struct jw	w;

	if (recorded(ar, r, db, "login", 1) == -1)
		return;
	if (ar->a.outcome == BANK_FAILED) {
		respond_failure(r, &ar->a, ar->cid, ar->sid);
		return;
	}
	resp_begin(r, 201, &w);
	if (ar->with_connection) {
		jw_obj(&w);
		jw_key(&w, "connection");
		connection_write(&w, db, ar->cid);
		jw_key(&w, "session");
		session_write(&w, db, ar->sid);
		jw_obj_end(&w);
	} else
		session_write(&w, db, ar->sid);
}

/* Seals sid into out (the callback URL's state); ctx points at it. */
static void
ctx_callback(struct authrun *ar, const char *sid)
{
	ar->ctx.callback_state = callback_state(sid, ar->cb) == 0 ? ar->cb :
	    NULL;
}

void
authflow_login(struct req *r, struct db *db, const char *connection_id,
    const char *institution_id, const char *username, const char *password,
    int store_credentials, int with_connection)
{
	struct bank_secret	 sec = { username, password };
	struct authrun		*ar;

	(void)db;
	if ((ar = authrun_new(institution_id, req_header(r, "PSU-IP-Address"),
	    login_done)) == NULL || ar->c == NULL) {
		resp_internal(r, ar ? "no connector for the institution" :
		    "out of memory");
		goto fail;
	}
	/* The session's id first: a redirect brings the user back to it. */
	id_new("ses", ar->sid);
	snprintf(ar->cid, sizeof(ar->cid), "%s", connection_id);
	snprintf(ar->client_id, sizeof(ar->client_id), "%s", r->client_id);
	ar->with_connection = with_connection;
	ctx_callback(ar, ar->sid);
	if (store_credentials &&
	    (ar->secret = secret_json(username, password, NULL)) == NULL) {
		resp_internal(r, "cannot keep credentials");
		goto fail;
	}
	if ((ar->op = ar->c->login(&ar->ctx, &sec, &ar->a)) == NULL) {
		resp_internal(r, "connector could not start a login");
		goto fail;
	}
	authrun_go(ar, r);
	return;
fail:
	authrun_free(ar);
}

void
sess_free(struct sess *ss)
{
	json_decref(ss->asked);
	vault_free(ss->state, ss->statelen);
	vault_free(ss->secret, ss->secretlen);
	memset(ss, 0, sizeof(*ss));
}

int
sess_load(struct db *db, const char *sid, const char *client_id,
    struct sess *ss)
{
	struct db_stmt	*s;
	const void	*blob;
	size_t		 bn;
	char		 aad[ID_MAX + 16];

	memset(ss, 0, sizeof(*ss));
	s = db_q(db, "SELECT s.id, s.connection_id, s.status, s.challenges, "
	    "s.expires_at, s.state, s.secret, c.institution_id, "
	    "c.store_credentials, c.client_id FROM sessions s JOIN "
	    "connections c ON s.connection_id = c.id WHERE s.id = ? AND "
	    "(c.client_id = ? OR ? IS NULL)", "ttt", sid, client_id, client_id);
	if (s == NULL || db_step(s) != DB_ROW) {
		db_done(s);
		return 0;
	}
	snprintf(ss->sid, sizeof(ss->sid), "%s", db_col_text(s, 0));
	snprintf(ss->cid, sizeof(ss->cid), "%s", db_col_text(s, 1));
	snprintf(ss->status, sizeof(ss->status), "%s", db_col_text(s, 2));
	ss->asked = json_loads(db_col_text(s, 3), 0, NULL);
	ss->expires = db_col_int(s, 4);
	snprintf(ss->inst_id, sizeof(ss->inst_id), "%s", db_col_text(s, 7));
	ss->store = (int)db_col_int(s, 8);
	snprintf(ss->client_id, sizeof(ss->client_id), "%s", db_col_text(s, 9));
	snprintf(aad, sizeof(aad), "%s:state", ss->sid);
	if ((blob = db_col_blob(s, 5, &bn)) != NULL && bn > 0 &&
	    vault_open(blob, bn, aad, &ss->state, &ss->statelen) == -1)
		ss->state = NULL;
	snprintf(aad, sizeof(aad), "%s:secret", ss->sid);
	if ((blob = db_col_blob(s, 6, &bn)) != NULL && bn > 0 &&
	    vault_open(blob, bn, aad, &ss->secret, &ss->secretlen) == -1)
		ss->secret = NULL;
	db_done(s);
	return 1;
}

int
sess_asks(const struct sess *ss, enum bank_chal_kind kind)
{
	enum bank_chal_kind	 k;
	json_t			*c;
	size_t			 i;

	json_array_foreach(ss->asked, i, c)
		if (bank_chal_kind_parse(json_string_value(json_object_get(c,
		    "kind")), &k) == 0 && k == kind)
			return 1;
	return 0;
}

/*
 * What to keep for unattended refreshes when the connection stores
 * credentials: the kept JSON with these answers added (NULL otherwise).
 */
static char *
kept_secret(const struct sess *ss, const struct bank_answer *ans, size_t n)
{
	json_t	*kept, *ka;
	char	*s;
	size_t	 i;

	if (!ss->store || ss->secret == NULL ||
	    (kept = json_loads(ss->secret, 0, NULL)) == NULL)
		return NULL;
	ka = json_object_get(kept, "answers");
	for (i = 0; i < n && json_is_object(ka); i++)
		json_object_set_new(ka, ans[i].key, json_string(ans[i].value));
	s = json_dumps(kept, JSON_COMPACT);
	json_decref(kept);
	return s;
}

/* Takes the session's place in ar: ids, state, what to keep.  0 or -1. */
static int
sess_start(struct authrun *ar, const struct sess *ss,
    const struct bank_answer *ans, size_t n)
{
	snprintf(ar->cid, sizeof(ar->cid), "%s", ss->cid);
	snprintf(ar->client_id, sizeof(ar->client_id), "%s", ss->client_id);
	ctx_callback(ar, ss->sid);
	ar->secret = kept_secret(ss, ans, n);
	ar->op = ar->c->answer(&ar->ctx, ss->state ? ss->state : "", ans, n,
	    &ar->a);
	return ar->op != NULL ? 0 : -1;
}

int
sess_advance(struct req *r, struct sess *ss, const char *psu_ip,
    const struct bank_answer *ans, size_t n, authrun_done_fn done)
{
	struct authrun	*ar;

	if ((ar = authrun_new(ss->inst_id, psu_ip, done)) == NULL ||
	    ar->c == NULL) {
		resp_internal(r, ar ? "no connector for the institution" :
		    "out of memory");
		authrun_free(ar);
		return -1;
	}
	if (authrun_claim(ar, ss->sid) == -1) {
		authrun_free(ar);
		return 1;
	}
	if (sess_start(ar, ss, ans, n) == -1) {
		resp_internal(r, "connector could not start an answer");
		authrun_free(ar);
		return -1;
	}
	authrun_go(ar, r);
	return 0;
}

/* ---- the background poll of a decoupled SCA ---- */

/* Milliseconds of CLOCK_MONOTONIC when the server's clock shows unix. */
static long long
mono_at(long long unix_s)
{
	long long	d = unix_s - (long long)clock_now();

	return bank_monotonic_ms() + (d > 0 ? d * 1000 : 0);
}

/* The poll at its time: the session as it is now, asked again. */
static int
poll_begin(struct authrun *ar, struct db *db)
{
	struct sess	ss;
	int		rc = -1;

	if (authrun_claim(ar, ar->sid) == -1) {
		/* A request asks the bank now; look again in a second. */
		ar->due_ms = bank_monotonic_ms() + 1000;
		return 1;
	}
	if (db == NULL || !sess_load(db, ar->sid, NULL, &ss))
		return -1;
	ar->ctx.now = clock_now();
	if (ar->c != NULL && strcmp(ss.status, "challenge_required") == 0 &&
	    sess_asks(&ss, BANK_CHAL_DECOUPLED) && ss.expires > ar->ctx.now &&
	    strcmp(ss.inst_id, ar->inst_id) == 0)
		rc = sess_start(ar, &ss, NULL, 0);
	sess_free(&ss);
	return rc;
}

static void
poll_done(struct authrun *ar, struct req *r, struct db *db)
{
	recorded(ar, r, db, "poll", 0);
}

/*
 * After an outcome that is a decoupled challenge: the bank is asked again
 * at its own time (poll_at), in the background, until the session ends or
 * expires; a request that reads or answers the session meanwhile asks
 * instead, and the poll then waits for its outcome's time.
 */
static void
poll_later(struct authrun *done, struct db *db)
{
	struct authrun	*ar;
	struct db_stmt	*s;
	long long	 expires;

	if (done->a.outcome != BANK_CHALLENGE || done->a.poll_at <= 0 ||
	    db == NULL)
		return;
	s = db_q(db, "SELECT expires_at FROM sessions WHERE id = ? AND status = "
	    "'challenge_required'", "t", done->sid);
	expires = s != NULL && db_step(s) == DB_ROW ? db_col_int(s, 0) : 0;
	db_done(s);
	if (expires <= done->a.poll_at)
		return;
	if ((ar = authrun_new(done->inst_id, NULL, poll_done)) == NULL)
		return;
	ar->begin = poll_begin;
	authrun_poll(ar, done->sid, mono_at(done->a.poll_at), mono_at(expires));
}

void
authflow_start(void)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct authrun	*ar;
	long long	 now = (long long)clock_now();

	if (db == NULL)
		return;
	/* Sessions a stop left waiting for a confirmation in the bank's app. */
	s = db_q(db, "SELECT s.id, s.expires_at, c.institution_id FROM sessions "
	    "s JOIN connections c ON s.connection_id = c.id WHERE s.status = "
	    "'challenge_required' AND s.expires_at > ? AND s.challenges LIKE "
	    "'%\"kind\":\"decoupled\"%'", "i", (int64_t)now);
	while (s != NULL && db_step(s) == DB_ROW) {
		if ((ar = authrun_new(db_col_text(s, 2), NULL, poll_done)) == NULL)
			break;
		ar->begin = poll_begin;
		authrun_poll(ar, db_col_text(s, 0), bank_monotonic_ms(),
		    mono_at(db_col_int(s, 1)));
	}
	db_done(s);
}

void
authflow_release(void)
{
	authrun_release((int)(cfg.shutdown_grace / 2));
}
