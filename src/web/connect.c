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

static struct cpage *
cpage_new(struct req *r)
{
	struct cpage	*cp = calloc(1, sizeof(*cp));

	if (cp == NULL)
		resp_internal(r, "out of memory");
	else
		cp->r = r;
	return cp;
}

static void
cpage_done(struct cpage *cp)
{
	json_decref(cp->allowed);
	free(cp);
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
 * What GET /v1/sessions/{id} answered (status, s): 1 with *out when there
 * is a session to show, 0 after it ended (an error is then the session's).
 */
static int
bank_session_result(struct cpage *cp, int status, json_t *s, json_t **out)
{
	const char	*st = json_string_value(json_object_get(s, "status"));

	*out = NULL;
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

static void	render_step(struct cpage *, int, json_t *);

/* The session's answer came after the bank's (web_call's then). */
static void
bank_session_then(struct req *r, int status, json_t *s, void *arg)
{
	struct cpage	*cp = arg;
	json_t		*out;
	int		 have;

	(void)r;
	have = bank_session_result(cp, status, s, &out);
	render_step(cp, have, out);
	cpage_done(cp);
}

/*
 * The bank's session now (GET /v1/sessions/{id}: it also asks the bank
 * whether a decoupled confirmation came): 1 with *out when there is one
 * to show, 0 after it ended.  -1 when the bank must be waited for: the
 * page is then rendered by bank_session_then(), perhaps already, so cp
 * is no longer the caller's to touch.
 */
static int
bank_session(struct cpage *cp, json_t **out)
{
	json_t		*s = NULL;
	int		 status;

	*out = NULL;
	if (*cp->ws.session_id == '\0')
		return 0;
	status = web_call(cp->r, h_sessions_get, NULL, cp->ws.session_id, &s,
	    bank_session_then, cp);
	if (status == -1)
		return -1;
	return bank_session_result(cp, status, s, out);
}

static int
connection_authorized(struct cpage *cp)
{
	return *cp->ws.connection_id != '\0' && db_exists(store_db(),
	    "SELECT 1 FROM connections WHERE id = ? AND client_id = ? AND "
	    "status = 'authorized'", "tt", cp->ws.connection_id,
	    cp->ws.client_id) == 1;
}

/*
 * Renders the step the session is at, given the bank's session (have, s:
 * bank_session's answer; s is freed here).
 */
static void
render_step(struct cpage *cp, int have, json_t *s)
{
	struct buf	 b;
	const struct institution *in = *cp->ws.institution_id ?
	    institution_find(cp->ws.institution_id) : NULL;

	buf_init(&b, 4 << 20);
	if (connection_authorized(cp))
		connect_page_success(cp, &b);
	else if (have && strcmp(json_string_value(json_object_get(s,
	    "status")), "challenge_required") == 0)
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
	connect_send(cp, 200, &b, cp->ws.error_code);
	json_decref(s);
	buf_free(&b);
}

/*
 * Renders the step the session is at and frees cp; or, when the bank must
 * be waited for, leaves both to bank_session_then().
 */
static void
render(struct cpage *cp)
{
	json_t	*s = NULL;
	int	 have = 0;

	if (!connection_authorized(cp) && (have = bank_session(cp, &s)) == -1)
		return;
	render_step(cp, have, s);
	cpage_done(cp);
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
	struct cpage	*cp;
	const char	*token = req_query(r, "token");
	const char	*lang = req_query(r, "lang");
	enum web_lang	 l;

	if (store_db() == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (token != NULL) {
		open_token(r, token);
		return;
	}
	if ((cp = cpage_new(r)) == NULL)
		return;
	if (!web_session_load(r, "connect", COOKIE, &cp->ws)) {
		connect_dead_end(r, web_lang_pick(r, lang), ERR_CONNECT_SESSION_INVALID);
		cpage_done(cp);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", cp->ws.client_id);
	if (lang != NULL && web_lang_parse(lang, &l) == 0) {
		snprintf(cp->ws.language, sizeof(cp->ws.language), "%s",
		    web_lang_code(l));
		web_session_save(&cp->ws);
	}
	cpage_context(cp);
	render(cp);
}

/* A step's form is done: the session is saved and the browser comes back
 * to GET /connect (post/redirect/get); cp goes. */
static void
post_done(struct cpage *cp)
{
	if (web_session_save(&cp->ws) == -1)
		resp_internal(cp->r, "cannot save the connect session");
	else
		web_redirect(cp->r, PATH);
	cpage_done(cp);
}

/* What POST /v1/connections answered (status, out; out is freed). */
static void
login_result(struct cpage *cp, int status, json_t *out)
{
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

static void
login_then(struct req *r, int status, json_t *out, void *arg)
{
	(void)r;
	login_result(arg, status, out);
	post_done(arg);
}

/*
 * Sends credentials to the bank: POST /v1/connections for the user.  -1
 * when the bank must be waited for: login_then() finishes the page, and
 * cp is no longer the caller's.
 */
static int
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
	/* Once the bank has answered, login_then() finishes the page. */
	status = web_call(cp->r, h_connections_create, body, NULL, &out,
	    login_then, cp);
	json_decref(body);
	if (status == -1)
		return -1;
	login_result(cp, status, out);
	return 0;
}

/* The bank's own page (a redirect) may have finished the session first. */
static int
already_authorized(json_t *answer)
{
	json_t	*code = json_object_get(json_object_get(answer, "error"), "code");

	return json_integer_value(code) == err_code(ERR_ALREADY_AUTHORIZED);
}

/* What POST /v1/sessions/{id}/answers answered (out is freed). */
static void
answer_result(struct cpage *cp, int status, json_t *out)
{
	int	keep;

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

static void
answer_then(struct req *r, int status, json_t *out, void *arg)
{
	(void)r;
	answer_result(arg, status, out);
	post_done(arg);
}

/*
 * Answers the challenges (or, none given, asks whether the user has
 * confirmed at the bank): POST /v1/sessions/{id}/answers.  -1 as
 * act_login, with answer_then().
 */
static int
act_answer(struct cpage *cp, int with_answers)
{
	json_t	*body, *out = NULL;
	int	 status;

	if (*cp->ws.session_id == '\0')
		return 0;
	body = json_pack("{s:o}", "answers", with_answers ?
	    web_form_fields(cp->r, "a_") : json_object());
	status = web_call(cp->r, h_sessions_answer, body, cp->ws.session_id,
	    &out, answer_then, cp);
	json_decref(body);
	if (status == -1)
		return -1;
	answer_result(cp, status, out);
	return 0;
}

void
h_connect_post(struct req *r)
{
	struct cpage	*cp;
	char		 action[32], inst[INSTITUTION_ID_MAX];
	const struct institution *in;

	if (store_db() == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if ((cp = cpage_new(r)) == NULL)
		return;
	if (!web_session_load(r, "connect", COOKIE, &cp->ws)) {
		connect_dead_end(r, web_lang_pick(r, NULL), ERR_CONNECT_SESSION_INVALID);
		cpage_done(cp);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", cp->ws.client_id);
	cpage_context(cp);
	if (!web_csrf_ok(r, &cp->ws)) {
		connect_dead_end(r, cp->lang, ERR_CSRF_REJECTED);
		cpage_done(cp);
		return;
	}
	web_form(r, "action", action, sizeof(action));
	if (connection_authorized(cp))
		;	/* done: nothing more to change */
	else if (strcmp(action, "bank") == 0) {
		web_form(r, "institution_id", inst, sizeof(inst));
		if ((in = institution_find(inst)) != NULL && connect_allowed(cp, in)) {
			snprintf(cp->ws.institution_id,
			    sizeof(cp->ws.institution_id), "%s", in->id);
			cp->ws.consented = 0;
			cp->ws.error_code = 0;
		}
	} else if (strcmp(action, "change_bank") == 0) {
		cp->ws.institution_id[0] = '\0';
		cp->ws.consented = 0;
		cp->ws.error_code = 0;
		drop_session(cp);
	} else if (strcmp(action, "consent") == 0 && *cp->ws.institution_id)
		cp->ws.consented = 1;
	else if (strcmp(action, "login") == 0 && cp->ws.consented) {
		if (act_login(cp) == -1)
			return;		/* login_then() finishes the page */
	} else if (strcmp(action, "answer") == 0 ||
	    strcmp(action, "check") == 0) {
		if (act_answer(cp, strcmp(action, "answer") == 0) == -1)
			return;		/* answer_then() finishes the page */
	}
	post_done(cp);
}
