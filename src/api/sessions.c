/*
 * sessions: the routes of an authorization session once it exists:
 * GET /v1/sessions/{id}, POST /v1/sessions/{id}/answers and the bank's
 * way back, GET /v1/callback/xs2a.  What they ask of the bank runs as an
 * authrun (authrun.h): the request waits for it suspended, holding no
 * HTTP thread.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authflow.h"
#include "api/authrun.h"
#include "banks/connector.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/vault.h"
#include "http/http.h"
#include "store/store.h"

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

/* Another operation of this session is with the bank: come back soon. */
static void
respond_busy(struct req *r)
{
	resp_header(r, "Retry-After", "1");
	resp_error_field(r, ERR_RESOURCE_BUSY, "session", "An earlier request "
	    "of this session is waiting for the bank; try again in a moment.");
}

/* The bank's outcome for answers: the session, or the failure. */
static void
answer_done(struct authrun *ar, struct req *r, struct db *db)
{
	struct jw	w;

	if (authflow_recorded(ar, r, db, "answer") == -1)
		return;
	if (ar->a.outcome == BANK_FAILED) {
		authflow_respond_failure(r, ar);
		return;
	}
	resp_begin(r, 200, &w);
	session_write(&w, db, ar->sid);
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

	memset(&ss, 0, sizeof(ss));
	v_init(&v);
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
	if (sess_advance(r, &ss, req_header(r, "PSU-IP-Address"), ans, n,
	    answer_done) == 1)
		respond_busy(r);
out:
	sess_free(&ss);
	v_free(&v);
}

/* The bank's outcome for a read: the session as it is now. */
static void
get_done(struct authrun *ar, struct req *r, struct db *db)
{
	struct jw	w;

	if (authflow_recorded(ar, r, db, "answer") == -1)
		return;
	resp_begin(r, 200, &w);
	session_write(&w, db, ar->sid);
}

/*
 * GET /v1/sessions/{id}: the session (a live one is kept alive by this
 * request); an expired one is gone: 410, as for answers.  A session that
 * waits for a confirmation in the bank's app (a `decoupled` challenge)
 * asks the bank first, at most once per the bank's poll interval, so the
 * client sees it become authorized by reading it (the background poll
 * finishes it too).  While another request or the poll asks the bank, the
 * session is shown as it stands.
 */
void
h_sessions_get(struct req *r)
{
	struct db	*db = store_db();
	struct sess	 ss;
	struct jw	 w;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (!sess_load(db, req_param(r, 0), r->client_id, &ss)) {
		resp_error(r, ERR_SESSION_NONEXISTENT, NULL, NULL);
		return;
	}
	if (session_gone(r, db, ss.sid, ss.cid, ss.status, sizeof(ss.status),
	    ss.expires, 0))
		goto out;
	db_run(db, "UPDATE sessions SET expires_at = ? WHERE id = ? AND status = "
	    "'challenge_required'", "it", (int64_t)clock_now() + cfg.session_idle,
	    ss.sid);
	if (strcmp(ss.status, "challenge_required") == 0 &&
	    sess_asks(&ss, BANK_CHAL_DECOUPLED) &&
	    sess_advance(r, &ss, req_header(r, "PSU-IP-Address"), NULL, 0,
	    get_done) != 1)
		goto out;
	resp_begin(r, 200, &w);
	session_write(&w, db, ss.sid);
out:
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

/* The bank's outcome after the end user came back: a page, or the error. */
static void
callback_done(struct authrun *ar, struct req *r, struct db *db)
{
	if (authflow_recorded(ar, r, db, "answer") == -1)
		return;
	if (ar->a.outcome == BANK_FAILED)
		authflow_respond_failure(r, ar);
	else if (ar->a.outcome == BANK_AUTHORIZED)
		callback_page(r, "Access granted", "Your bank has confirmed "
		    "the access. You can close this window.");
	else
		callback_page(r, "Not confirmed yet", "Your bank has not "
		    "confirmed the access yet. Finish at your bank, or close "
		    "this window and start again.");
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
	struct bank_answer ans = { "redirect", "returned" };
	const char	*state = req_query(r, "state");
	char		 sid[ID_MAX];
	size_t		 sidlen;

	memset(&ss, 0, sizeof(ss));
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
	if (sess_advance(r, &ss, NULL, sess_asks(&ss, BANK_CHAL_REDIRECT) ?
	    &ans : NULL, sess_asks(&ss, BANK_CHAL_REDIRECT) ? 1 : 0,
	    callback_done) == 1)
		respond_busy(r);
out:
	sess_free(&ss);
}
