/*
 * The Connect page: where an end user links a bank account to a client's
 * app.  The client makes a token (POST /v1/connect_tokens) and sends the
 * browser to GET /connect?token=...; the page trades the token (once) for
 * a session in a cookie and goes through the steps as plain forms, each
 * POST answered 303 to GET /connect (post/redirect/get):
 *
 *   bank (search, pick) -> consent -> credentials -> the bank's
 *   challenges (question, tan, choice, redirect, decoupled) -> success,
 *   which sends the browser to redirect_uri?connection_id=... (a framing
 *   page gets a postMessage instead).
 *
 * The bank is reached through the API's own handlers (POST /v1/connections,
 * GET /v1/sessions/{id}, POST /v1/sessions/{id}/answers), called for the
 * token's client (web_call): the page adds no authorization logic of its
 * own, and what the bank says is recorded exactly as for the API.
 */
#include "web/connect_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "http/http.h"
#include "store/store.h"

#define COOKIE	CONNECT_COOKIE
#define PATH	CONNECT_PATH

static void
cpage_free(struct cpage *cp)
{
	json_decref(cp->allowed);
	cp->allowed = NULL;
}

/* The origin (scheme://host[:port]) of an absolute URI. */
static void
uri_origin(const char *u, char *out, size_t n)
{
	const char	*h = strstr(u, "://");
	size_t		 len;

	*out = '\0';
	if (h == NULL)
		return;
	len = (size_t)(h + 3 - u) + strcspn(h + 3, "/?#");
	if (len < n)
		snprintf(out, n, "%.*s", (int)len, u);
}

/* Loads the session's token details and the client's name. */
static void
cpage_context(struct cpage *cp)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	const char	*lang = NULL;
	char		 tlang[4] = "";

	s = db_q(db, "SELECT t.redirect_uri, t.institutions, t.language, c.name "
	    "FROM clients c LEFT JOIN connect_tokens t ON t.token_hash = ? "
	    "WHERE c.id = ?", "tt", cp->ws.token_hash, cp->ws.client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(cp->redirect, sizeof(cp->redirect), "%s",
		    db_col_text(s, 0) ? db_col_text(s, 0) : "");
		if (db_col_text(s, 1) != NULL)
			cp->allowed = json_loads(db_col_text(s, 1), 0, NULL);
		snprintf(tlang, sizeof(tlang), "%s", db_col_text(s, 2) ?
		    db_col_text(s, 2) : "");
		snprintf(cp->client_name, sizeof(cp->client_name), "%s",
		    db_col_text(s, 3) ? db_col_text(s, 3) : "");
	}
	db_done(s);
	uri_origin(cp->redirect, cp->origin, sizeof(cp->origin));
	if (*cp->ws.language)
		lang = cp->ws.language;
	else if (*tlang)
		lang = tlang;
	cp->lang = web_lang_pick(cp->r, lang);
}

/* Forgets the bank's session (and keeps the error to show). */
static void
drop_session(struct cpage *cp)
{
	cp->ws.session_id[0] = '\0';
}

static void
set_error(struct cpage *cp, json_t *answer)
{
	json_t		*err = json_object_get(answer, "error");
	const char	*msg = json_string_value(json_object_get(err, "message"));

	cp->ws.error_code = (int)json_integer_value(json_object_get(err,
	    "code"));
	if (cp->ws.error_code == 0)
		cp->ws.error_code = err_code(ERR_INTERNAL_ERROR);
	snprintf(cp->ws.error_message, sizeof(cp->ws.error_message), "%s",
	    msg != NULL ? msg : "");
}

/*
 * The bank's session now (GET /v1/sessions/{id}: it also asks the bank
 * whether a decoupled confirmation came): 1 with *out when there is one
 * to show, 0 after it ended (an error is then the session's).
 */
static int
bank_session(struct cpage *cp, json_t **out)
{
	json_t		*s = NULL;
	const char	*st;
	int		 status;

	*out = NULL;
	if (*cp->ws.session_id == '\0')
		return 0;
	status = web_call(cp->r, h_sessions_get, NULL, cp->ws.session_id, &s);
	if (status == -1) {
		cp->gone = 1;
		return 0;
	}
	st = json_string_value(json_object_get(s, "status"));
	if (status == 200 && st != NULL && strcmp(st, "failed") != 0) {
		*out = s;
		return 1;
	}
	/* Failed at the bank meanwhile (a decoupled confirmation refused):
	 * the session's error is the one to show. */
	if (status > 0)
		set_error(cp, s);
	drop_session(cp);
	web_session_save(&cp->ws);
	json_decref(s);
	return 0;
}

static int
connection_authorized(struct cpage *cp)
{
	return *cp->ws.connection_id != '\0' && db_exists(store_db(),
	    "SELECT 1 FROM connections WHERE id = ? AND client_id = ? AND "
	    "status = 'authorized'", "tt", cp->ws.connection_id,
	    cp->ws.client_id) == 1;
}

/* Renders the step the session is at. */
static void
render(struct cpage *cp)
{
	struct buf	 b;
	json_t		*s = NULL;
	const struct institution *in = *cp->ws.institution_id ?
	    institution_find(cp->ws.institution_id) : NULL;

	buf_init(&b, 4 << 20);
	if (connection_authorized(cp))
		connect_page_success(cp, &b);
	else if (bank_session(cp, &s) && strcmp(json_string_value(
	    json_object_get(s, "status")), "challenge_required") == 0)
		connect_page_challenges(cp, &b, s);
	else if (s != NULL && connection_authorized(cp))
		connect_page_success(cp, &b);
	else if (in != NULL && cp->ws.consented)
		connect_page_credentials(cp, &b, in);
	else if (in != NULL)
		connect_page_consent(cp, &b, in);
	else
		connect_page_banks(cp, &b);
	if (!connection_authorized(cp))
		connect_page_foot(cp, &b);
	/* Handed on: whoever took r answers it, not this page. */
	if (!cp->gone)
		connect_send(cp, 200, &b, cp->ws.error_code);
	json_decref(s);
	buf_free(&b);
}

/*
 * GET /connect?token=...: the token, once, becomes a session in a cookie,
 * and the browser comes back without the token in its address.  The same
 * browser opening the link again goes on with its session.
 */
static void
open_token(struct req *r, const char *token)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct web_session ws, cur;
	char		 hash[65], lang[4] = "";
	int64_t		 expires = 0, used = 0, now = (int64_t)clock_now();
	int		 found = 0;
	enum web_lang	 l;

	memset(&ws, 0, sizeof(ws));
	web_token_hash(token, hash);
	s = db_q(db, "SELECT client_id, user_id, language, expires_at, used_at "
	    "FROM connect_tokens WHERE token_hash = ?", "t", hash);
	if (s != NULL && db_step(s) == DB_ROW) {
		found = 1;
		snprintf(ws.client_id, sizeof(ws.client_id), "%s",
		    db_col_text(s, 0));
		snprintf(ws.user_id, sizeof(ws.user_id), "%s", db_col_text(s, 1));
		snprintf(lang, sizeof(lang), "%s", db_col_text(s, 2) ?
		    db_col_text(s, 2) : "");
		expires = db_col_int(s, 3);
		used = db_col_null(s, 4) ? 0 : 1;
	}
	db_done(s);
	l = web_lang_pick(r, *lang ? lang : NULL);
	if (!found) {
		connect_dead_end(r, l, ERR_CONNECT_TOKEN_UNKNOWN);
		return;
	}
	if (web_session_load(r, "connect", COOKIE, &cur) &&
	    strcmp(cur.token_hash, hash) == 0) {
		web_redirect(r, PATH);
		return;
	}
	if (used) {
		connect_dead_end(r, l, ERR_CONNECT_TOKEN_USED);
		return;
	}
	if (expires <= now) {
		connect_dead_end(r, l, ERR_CONNECT_TOKEN_EXPIRED);
		return;
	}
	if (db_run(db, "UPDATE connect_tokens SET used_at = ? WHERE token_hash "
	    "= ? AND used_at IS NULL", "it", now, hash) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	if (db_changes(db) != 1) {
		connect_dead_end(r, l, ERR_CONNECT_TOKEN_USED);
		return;
	}
	snprintf(ws.token_hash, sizeof(ws.token_hash), "%s", hash);
	if (web_session_start(r, "connect", COOKIE, PATH, "Lax", &ws) == -1) {
		resp_internal(r, "cannot start a connect session");
		return;
	}
	web_redirect(r, PATH);
}

void
h_connect_get(struct req *r)
{
	struct cpage	 cp;
	const char	*token = req_query(r, "token");
	const char	*lang = req_query(r, "lang");
	enum web_lang	 l;

	memset(&cp, 0, sizeof(cp));
	cp.r = r;
	if (store_db() == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (token != NULL) {
		open_token(r, token);
		return;
	}
	if (!web_session_load(r, "connect", COOKIE, &cp.ws)) {
		connect_dead_end(r, web_lang_pick(r, lang), ERR_CONNECT_SESSION_INVALID);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", cp.ws.client_id);
	if (lang != NULL && web_lang_parse(lang, &l) == 0) {
		snprintf(cp.ws.language, sizeof(cp.ws.language), "%s",
		    web_lang_code(l));
		web_session_save(&cp.ws);
	}
	cpage_context(&cp);
	render(&cp);
	cpage_free(&cp);
}

/* Sends credentials to the bank: POST /v1/connections for the user. */
static void
act_login(struct cpage *cp)
{
	char	 user[300], pass[300];
	json_t	*body, *out = NULL;
	int	 status;

	web_form(cp->r, "username", user, sizeof(user));
	web_form(cp->r, "password", pass, sizeof(pass));
	body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "user_id", cp->ws.user_id,
	    "institution_id", cp->ws.institution_id, "credentials",
	    "username", user, "password", pass);
	sodium_memzero(pass, sizeof(pass));
	status = web_call(cp->r, h_connections_create, body, NULL, &out);
	json_decref(body);
	if (status == -1) {
		cp->gone = 1;
		return;
	}
	drop_session(cp);
	cp->ws.error_code = 0;
	cp->ws.error_message[0] = '\0';
	if (status == 201) {
		snprintf(cp->ws.connection_id, sizeof(cp->ws.connection_id), "%s",
		    json_string_value(json_object_get(json_object_get(out,
		    "connection"), "id")));
		snprintf(cp->ws.session_id, sizeof(cp->ws.session_id), "%s",
		    json_string_value(json_object_get(json_object_get(out,
		    "session"), "id")));
	} else if (status > 0)
		set_error(cp, out);
	json_decref(out);
}

/* The bank's own page (a redirect) may have finished the session first. */
static int
already_authorized(json_t *answer)
{
	json_t	*code = json_object_get(json_object_get(answer, "error"), "code");

	return json_integer_value(code) == err_code(ERR_ALREADY_AUTHORIZED);
}

/* Answers the challenges (or, none given, asks whether the user has
 * confirmed at the bank): POST /v1/sessions/{id}/answers. */
static void
act_answer(struct cpage *cp, int with_answers)
{
	json_t	*body, *out = NULL;
	int	 status, keep;

	if (*cp->ws.session_id == '\0')
		return;
	body = json_pack("{s:o}", "answers", with_answers ?
	    web_form_fields(cp->r, "a_") : json_object());
	status = web_call(cp->r, h_sessions_answer, body, cp->ws.session_id,
	    &out);
	json_decref(body);
	if (status == -1) {
		cp->gone = 1;
		return;
	}
	cp->ws.error_code = 0;
	cp->ws.error_message[0] = '\0';
	if (status > 0 && status != 200 && !already_authorized(out)) {
		set_error(cp, out);
		connect_plain_text(cp->ws.error_code, &keep);
		if (!keep)
			drop_session(cp);
	}
	json_decref(out);
}

void
h_connect_post(struct req *r)
{
	struct cpage	 cp;
	char		 action[32], inst[INSTITUTION_ID_MAX];
	const struct institution *in;

	memset(&cp, 0, sizeof(cp));
	cp.r = r;
	if (store_db() == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (!web_session_load(r, "connect", COOKIE, &cp.ws)) {
		connect_dead_end(r, web_lang_pick(r, NULL), ERR_CONNECT_SESSION_INVALID);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", cp.ws.client_id);
	cpage_context(&cp);
	if (!web_csrf_ok(r, &cp.ws)) {
		connect_dead_end(r, cp.lang, ERR_CSRF_REJECTED);
		goto out;
	}
	web_form(r, "action", action, sizeof(action));
	if (connection_authorized(&cp))
		;	/* done: nothing more to change */
	else if (strcmp(action, "bank") == 0) {
		web_form(r, "institution_id", inst, sizeof(inst));
		if ((in = institution_find(inst)) != NULL && connect_allowed(&cp, in)) {
			snprintf(cp.ws.institution_id,
			    sizeof(cp.ws.institution_id), "%s", in->id);
			cp.ws.consented = 0;
			cp.ws.error_code = 0;
		}
	} else if (strcmp(action, "change_bank") == 0) {
		cp.ws.institution_id[0] = '\0';
		cp.ws.consented = 0;
		cp.ws.error_code = 0;
		drop_session(&cp);
	} else if (strcmp(action, "consent") == 0 && *cp.ws.institution_id)
		cp.ws.consented = 1;
	else if (strcmp(action, "login") == 0 && cp.ws.consented)
		act_login(&cp);
	else if (strcmp(action, "answer") == 0 || strcmp(action, "check") == 0)
		act_answer(&cp, strcmp(action, "answer") == 0);
	if (cp.gone)
		goto out;
	if (web_session_save(&cp.ws) == -1) {
		resp_internal(r, "cannot save the connect session");
		goto out;
	}
	web_redirect(r, PATH);
out:
	cpage_free(&cp);
}

