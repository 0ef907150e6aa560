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

/*
 * The state parameter of bankfeed's callback URL for a session: the
 * session id sealed under the master key (vault tokens), so it cannot be
 * guessed or made for another session, and opens only here.
 */
#define CALLBACK_AAD	"xs2a-callback"
#define CALLBACK_STATE_MAX	VAULT_TOKEN_LEN(ID_MAX)

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
	int		 ok = 0, same = 0;
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
		/* The same challenge again (a decoupled one still waiting):
		 * nothing new to tell the client's webhook. */
		same = !new_session && db_exists(db, "SELECT 1 FROM sessions "
		    "WHERE id = ? AND status = 'challenge_required' AND "
		    "challenges = ?", "tt", session_id, ch) == 1;
		if (db_run(db, "UPDATE sessions SET status = 'challenge_required', "
		    "challenges = ?, state = ?, secret = ?, expires_at = ? WHERE "
		    "id = ?", "tbbit", ch, st, stn, sec, secn, now + cfg.session_idle,
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
	char			  cb[CALLBACK_STATE_MAX];
	struct jw		  w;

	bank_auth_init(&a);
	if (c == NULL) {
		resp_internal(r, "no connector for the institution");
		goto out;
	}
	/* The session's id first: a redirect brings the user back to it. */
	id_new("ses", sid);
	memset(&ctx, 0, sizeof(ctx));
	ctx.institution_id = institution_id;
	ctx.now = clock_now();
	ctx.psu_ip = req_header(r, "PSU-IP-Address");
	ctx.callback_state = callback_state(sid, cb) == 0 ? cb : NULL;
	if ((op = c->login(&ctx, &sec, &a)) == NULL) {
		resp_internal(r, "connector could not start a login");
		goto out;
	}
	bank_run_blocking(c, op);
	c->op_free(op);
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

/* A session with what the bank's connector needs to go on with it. */
struct sess {
	char	 sid[ID_MAX], cid[ID_MAX], client_id[ID_MAX];
	char	 inst_id[64], status[32];
	json_t	*asked;			/* its challenges */
	int64_t	 expires;
	char	*state, *secret;	/* vault memory, or NULL */
	size_t	 statelen, secretlen;
	int	 store;			/* the connection keeps credentials */
};

static void
sess_free(struct sess *ss)
{
	json_decref(ss->asked);
	vault_free(ss->state, ss->statelen);
	vault_free(ss->secret, ss->secretlen);
	memset(ss, 0, sizeof(*ss));
}

/* Loads a session of client_id (NULL: of any client).  1, or 0 if none. */
static int
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

/* Whether the session waits for a challenge of this kind. */
static int
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
 * Passes answers (none for a poll or a return from the bank) to the
 * bank's connector and records the outcome, with the answers kept for
 * unattended refreshes when the connection stores credentials.  0, or -1
 * after answering r with an internal error.
 */
static int
sess_advance(struct req *r, struct db *db, struct sess *ss,
    const char *psu_ip, const struct bank_answer *ans, size_t n,
    struct bank_auth *a)
{
	const struct institution *inst = institution_find(ss->inst_id);
	const struct connector	 *c = inst ? connector_for(inst->protocol) : NULL;
	struct bank_ctx		  ctx;
	struct bank_op		 *op;
	json_t			 *kept = NULL, *ka;
	char			 *newsecret = NULL, cb[CALLBACK_STATE_MAX];
	size_t			  i;
	int			  rc = -1;

	if (c == NULL) {
		resp_internal(r, "no connector for the institution");
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.institution_id = ss->inst_id;
	ctx.now = clock_now();
	ctx.psu_ip = psu_ip;
	ctx.callback_state = callback_state(ss->sid, cb) == 0 ? cb : NULL;
	if ((op = c->answer(&ctx, ss->state ? ss->state : "", ans, n, a)) ==
	    NULL) {
		resp_internal(r, "connector could not start an answer");
		return -1;
	}
	bank_run_blocking(c, op);
	c->op_free(op);
	/* Kept answers: those given before and these, for unattended refresh. */
	if (ss->store && ss->secret != NULL && a->outcome != BANK_FAILED &&
	    (kept = json_loads(ss->secret, 0, NULL)) != NULL) {
		ka = json_object_get(kept, "answers");
		for (i = 0; i < n && json_is_object(ka); i++)
			json_object_set_new(ka, ans[i].key,
			    json_string(ans[i].value));
		newsecret = json_dumps(kept, JSON_COMPACT);
	}
	if (record_outcome(db, ss->client_id, ss->sid, ss->cid, a, newsecret,
	    0) == -1)
		resp_internal(r, db_errmsg(db));
	else
		rc = 0;
	log_info("event=answer connection_id=%s session_id=%s outcome=%s%s%s",
	    ss->cid, ss->sid, a->outcome == BANK_AUTHORIZED ? "authorized" :
	    a->outcome == BANK_CHALLENGE ? "challenge" : "failed",
	    a->outcome == BANK_FAILED ? " error=" : "",
	    a->outcome == BANK_FAILED ? err_name(a->error.code) : "");
	wipe_free(newsecret);
	json_decref(kept);
	return rc;
}

/*
 * POST /v1/sessions/{id}/answers: the user's answers to the bank's
 * challenges.  Challenges that take no answer (redirect, decoupled) may be
 * left out: answers without them ask the bank whether the end user has
 * finished there.
 */
void
h_sessions_answer(struct req *r)
{
	static const char *const fields[] = { "answers", NULL };
	struct db	*db = store_db();
	struct sess	 ss;
	struct vctx	 v;
	json_t		*answers, *val;
	const char	*key;
	char		 missing[512], unknown[512];
	size_t		 n = 0, i;
	struct bank_answer ans[BANK_MAX_CHALLENGES];
	struct bank_auth a;
	struct jw	 w;

	memset(&ss, 0, sizeof(ss));
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
	if (!sess_load(db, req_param(r, 0), r->client_id, &ss)) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		goto out;
	}
	if (strcmp(ss.status, "authorized") == 0) {
		resp_error(r, ERR_ALREADY_AUTHORIZED, NULL, NULL);
		goto out;
	}
	if (session_gone(r, db, ss.sid, ss.cid, ss.status, sizeof(ss.status),
	    ss.expires, 1))
		goto out;
	/* Keys not asked, and keys asked but not answered. */
	unknown[0] = missing[0] = '\0';
	json_object_foreach(answers, key, val) {
		int found = 0;

		json_array_foreach(ss.asked, i, val)
			if (strcmp(json_string_value(json_object_get(val, "key")),
			    key) == 0)
				found = 1;
		if (!found && strlen(unknown) + strlen(key) + 3 < sizeof(unknown))
			snprintf(unknown + strlen(unknown), sizeof(unknown) -
			    strlen(unknown), "%s%s", *unknown ? ", " : "", key);
	}
	json_array_foreach(ss.asked, i, val) {
		const char *k = json_string_value(json_object_get(val, "key"));
		enum bank_chal_kind kind = BANK_CHAL_QUESTION;

		bank_chal_kind_parse(json_string_value(json_object_get(val,
		    "kind")), &kind);
		if (json_object_get(answers, k) == NULL) {
			if (bank_chal_answered(kind) &&
			    strlen(missing) + strlen(k) + 3 < sizeof(missing))
				snprintf(missing + strlen(missing),
				    sizeof(missing) - strlen(missing), "%s%s",
				    *missing ? ", " : "", k);
		} else if (n < BANK_MAX_CHALLENGES) {
			ans[n].key = k;
			ans[n].value = json_string_value(json_object_get(answers, k));
			n++;
		}
	}
	/* Every request moves the idle expiry. */
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ?", "it",
	    (int64_t)clock_now() + cfg.session_idle, ss.sid);
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
	if (sess_advance(r, db, &ss, req_header(r, "PSU-IP-Address"), ans, n,
	    &a) == -1)
		goto out;
	if (a.outcome == BANK_FAILED) {
		respond_failure(r, &a, ss.cid, ss.sid);
		goto out;
	}
	resp_begin(r, 200, &w);
	session_write(&w, db, ss.sid);
out:
	sess_free(&ss);
	bank_auth_free(&a);
	v_free(&v);
}

/*
 * GET /v1/sessions/{id}: the session (a live one is kept alive by this
 * request); an expired one is gone: 410, as for answers.  A session that
 * waits for a confirmation in the bank's app (a `decoupled` challenge)
 * asks the bank first, at most once per the bank's poll interval, so the
 * client sees it become authorized by reading it.
 */
void
h_sessions_get(struct req *r)
{
	struct db	*db = store_db();
	struct sess	 ss;
	struct bank_auth a;
	struct jw	 w;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (!sess_load(db, req_param(r, 0), r->client_id, &ss)) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		return;
	}
	bank_auth_init(&a);
	if (session_gone(r, db, ss.sid, ss.cid, ss.status, sizeof(ss.status),
	    ss.expires, 0))
		goto out;
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ? AND status = "
	    "'challenge_required'", "it", (int64_t)clock_now() + cfg.session_idle,
	    ss.sid);
	if (strcmp(ss.status, "challenge_required") == 0 &&
	    sess_asks(&ss, BANK_CHAL_DECOUPLED) &&
	    sess_advance(r, db, &ss, req_header(r, "PSU-IP-Address"), NULL, 0,
	    &a) == -1)
		goto out;
	resp_begin(r, 200, &w);
	session_write(&w, db, ss.sid);
out:
	bank_auth_free(&a);
	sess_free(&ss);
}

/* The page the end user's browser shows after the bank sent it back. */
static void
callback_page(struct req *r, const char *title, const char *text)
{
	struct buf	b;

	buf_init(&b, 4096);
	buf_printf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n"
	    "<p>%s</p></body></html>\n", title, title, text);
	resp_text(r, 200, "text/html; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

/*
 * GET /v1/callback/xs2a?state=...: where a bank's redirect SCA sends the
 * end user's browser back (the institution's tpp_redirect_uri).  No
 * bearer token: the state is the session id sealed by this server, so
 * only a session's own redirect gets here.  bankfeed asks the bank for
 * the consent's status, records the outcome (with its webhook) and shows
 * the browser a short page; a failure answers the error object.
 */
void
h_callback_xs2a(struct req *r)
{
	struct db	*db = store_db();
	struct sess	 ss;
	struct bank_auth a;
	struct bank_answer ans = { "redirect", "returned" };
	const char	*state = req_query(r, "state");
	char		 sid[ID_MAX];
	size_t		 sidlen;

	memset(&ss, 0, sizeof(ss));
	bank_auth_init(&a);
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	if (state == NULL || vault_token_open(state, CALLBACK_AAD, sid,
	    sizeof(sid), &sidlen) == -1) {
		resp_error_field(r, ERR_INVALID_REQUEST, "state", "Not a state "
		    "this server gave to a bank.");
		goto out;
	}
	sid[sidlen < sizeof(sid) ? sidlen : sizeof(sid) - 1] = '\0';
	if (!sess_load(db, sid, NULL, &ss)) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		goto out;
	}
	if (strcmp(ss.status, "authorized") == 0) {
		callback_page(r, "Access granted", "Your bank has confirmed "
		    "the access. You can close this window.");
		goto out;
	}
	if (session_gone(r, db, ss.sid, ss.cid, ss.status, sizeof(ss.status),
	    ss.expires, 1))
		goto out;
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ?", "it",
	    (int64_t)clock_now() + cfg.session_idle, ss.sid);
	if (sess_advance(r, db, &ss, NULL, sess_asks(&ss, BANK_CHAL_REDIRECT) ?
	    &ans : NULL, sess_asks(&ss, BANK_CHAL_REDIRECT) ? 1 : 0, &a) == -1)
		goto out;
	if (a.outcome == BANK_FAILED)
		respond_failure(r, &a, ss.cid, ss.sid);
	else if (a.outcome == BANK_AUTHORIZED)
		callback_page(r, "Access granted", "Your bank has confirmed "
		    "the access. You can close this window.");
	else
		callback_page(r, "Not confirmed yet", "Your bank has not "
		    "confirmed the access yet. Finish at your bank, or close "
		    "this window and start again.");
out:
	sess_free(&ss);
	bank_auth_free(&a);
}
