/*
 * connect_pages.c: the HTML of the Connect page's steps (connect.c runs
 * the flow): the bank list and its search, the consent, the credentials,
 * each kind of challenge, the success, and every error in plain words,
 * in the session's language (strings.def).  Every text that came from
 * outside (a bank's prompt, a name) is escaped; nothing is inline script
 * or style.
 */
#include "web/connect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "http/http.h"

/* How an error reads to the end user, and whether the bank's session
 * survives it (the form can be sent again). */
static const struct {
	enum err	 e;
	enum web_str	 text;
	int		 keep_session;
} plain[] = {
	{ ERR_INVALID_PASSWORD, WS_E_CREDENTIALS, 0 },
	{ ERR_LOGIN_CREDENTIALS_INVALID, WS_E_CREDENTIALS, 0 },
	{ ERR_INVALID_USERNAME, WS_E_CREDENTIALS, 0 },
	{ ERR_LOGIN_CREDENTIALS_INCOMPLETE, WS_E_INCOMPLETE, 0 },
	{ ERR_ONLINE_ACCESS_BLOCKED, WS_E_BLOCKED, 0 },
	{ ERR_PIN_CHANGE_REQUIRED, WS_E_BLOCKED, 0 },
	{ ERR_HBCI_ACTIVATION_REQUIRED, WS_E_BLOCKED, 0 },
	{ ERR_ACCOUNT_NOT_ACTIVATED, WS_E_BLOCKED, 0 },
	{ ERR_TAN_SCHEME_NOT_ACTIVATED, WS_E_BLOCKED, 0 },
	{ ERR_TAN_SCHEME_BLOCKED, WS_E_BLOCKED, 0 },
	{ ERR_CHANNEL_NOT_PERMITTED, WS_E_BLOCKED, 0 },
	{ ERR_INVALID_TAN, WS_E_CODE, 0 },
	{ ERR_INVALID_OTP, WS_E_CODE, 0 },
	{ ERR_INVALID_SECURITY_RESPONSE, WS_E_ANSWER, 0 },
	{ ERR_QUESTION_NOT_FOUND, WS_E_ANSWER, 0 },
	{ ERR_SECURITYRESPONSES_INCOMPLETE, WS_E_MISSING, 1 },
	{ ERR_UNKNOWN_CHALLENGE_KEY, WS_E_CSRF, 1 },
	{ ERR_SESSION_EXPIRED, WS_E_EXPIRED, 0 },
	{ ERR_SESSION_NONEXISTENT, WS_E_EXPIRED, 0 },
	{ ERR_CONCURRENT_SESSION, WS_E_CONCURRENT, 0 },
	{ ERR_BANK_NOT_SUPPORTED, WS_E_BANK_DOWN, 0 },
	{ ERR_SERVICE_UNAVAILABLE, WS_E_BANK_DOWN, 0 },
	{ ERR_CONNECT_TOKEN_UNKNOWN, WS_E_LINK_UNKNOWN, 0 },
	{ ERR_CONNECT_TOKEN_EXPIRED, WS_E_LINK_EXPIRED, 0 },
	{ ERR_CONNECT_TOKEN_USED, WS_E_LINK_USED, 0 },
	{ ERR_CONNECT_SESSION_INVALID, WS_E_SESSION_GONE, 0 },
	{ ERR_CSRF_REJECTED, WS_E_CSRF, 0 },
};

/* The words for a catalog code: the table, else by the error's group. */
enum web_str
connect_plain_text(int code, int *keep_session)
{
	enum err	e = err_by_code(code);
	size_t		i;

	*keep_session = 0;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (plain[i].e == e) {
			*keep_session = plain[i].keep_session;
			return plain[i].text;
		}
	if (e == ERR_OK)
		return WS_E_OTHER;
	switch (err_info(e)->group) {
	case ERRG_USER:
		return WS_E_USER_OTHER;
	case ERRG_BANK:
	case ERRG_CONNECTIVITY:
		return WS_E_BANK_DOWN;
	default:
		return WS_E_OTHER;
	}
}

/* The alert box of an error: plain words, the bank's own, a reference. */
static void
error_box(struct buf *b, enum web_lang l, int code, const char *bank_message)
{
	enum err	 e = err_by_code(code);
	int		 keep;
	char		 ref[128];

	buf_printf(b, "<div class=\"alert\" role=\"alert\" id=\"error\" "
	    "data-error-code=\"%d\" data-error-name=\"%s\">\n<p><strong>",
	    code, e != ERR_OK ? err_name(e) : "");
	web_esc(b, web_t(l, WS_ERROR_H));
	buf_addstr(b, "</strong></p>\n<p>");
	web_esc(b, web_t(l, connect_plain_text(code, &keep)));
	buf_addstr(b, "</p>\n");
	if (bank_message != NULL && *bank_message != '\0') {
		buf_addstr(b, "<p>");
		web_esc(b, web_t(l, WS_BANK_SAID));
		buf_addstr(b, " <q>");
		web_esc(b, bank_message);
		buf_addstr(b, "</q></p>\n");
	}
	snprintf(ref, sizeof(ref), "%d %s", code, e != ERR_OK ? err_name(e) :
	    "");
	buf_addstr(b, "<p class=\"muted\">");
	web_fmt(b, l, WS_REFERENCE, ref, NULL);
	buf_addstr(b, "</p>\n</div>\n");
}

/* Sends a page of cp (frame-ancestors: the redirect's origin). */
void
connect_send(struct cpage *cp, int status, struct buf *b, int err)
{
	web_page_end(b);
	web_send(cp->r, status, b, cp->origin, err);
}

/* A page that only says what went wrong (no session to go on with); the
 * error object for a client that does not ask for HTML. */
void
connect_dead_end(struct req *r, enum web_lang l, enum err e)
{
	struct buf	b;

	if (!web_wants_html(r)) {
		resp_error(r, e, NULL, NULL);
		return;
	}
	buf_init(&b, 1 << 20);
	web_page_begin(&b, l, web_t(l, WS_TITLE), NULL);
	buf_addstr(&b, "<h1>");
	web_esc(&b, web_t(l, WS_TITLE));
	buf_addstr(&b, "</h1>\n");
	error_box(&b, l, err_code(e), NULL);
	web_page_end(&b);
	web_send(r, err_http(e), &b, NULL, err_code(e));
	buf_free(&b);
}

/* Whether the token lets the end user pick institution id. */
int
connect_allowed(const struct cpage *cp, const struct institution *in)
{
	json_t	*e;
	size_t	 i;

	if (strcmp(in->protocol, "file") == 0)
		return 0;
	if (cp->allowed == NULL)
		return 1;
	json_array_foreach(cp->allowed, i, e)
		if (strcmp(json_string_value(e), in->id) == 0)
			return 1;
	return 0;
}

/* The start of every step's page: title, step, and the last error. */
static void
page_head(struct cpage *cp, struct buf *b, int step, const char *script,
    enum web_str heading, const char *arg)
{
	char	n[8];

	web_page_begin(b, cp->lang, web_t(cp->lang, WS_TITLE), script);
	snprintf(n, sizeof(n), "%d", step);
	buf_addstr(b, "<p class=\"step\">");
	web_fmt(b, cp->lang, WS_STEP, n, NULL);
	buf_addstr(b, "</p>\n<h1>");
	web_fmt(b, cp->lang, heading, arg, NULL);
	buf_addstr(b, "</h1>\n");
	if (cp->ws.error_code != 0)
		error_box(b, cp->lang, cp->ws.error_code, cp->ws.error_message);
}

/* A form of one button (and hidden fields): action, and its label. */
static void
button_form(struct cpage *cp, struct buf *b, const char *action,
    enum web_str label, int secondary)
{
	buf_addstr(b, "<form method=\"post\" action=\"/connect\">\n");
	web_csrf_field(b, &cp->ws);
	buf_printf(b, "<button type=\"submit\" name=\"action\" value=\"%s\"%s>",
	    action, secondary ? " class=\"secondary\"" : "");
	web_esc(b, web_t(cp->lang, label));
	buf_addstr(b, "</button>\n</form>\n");
}

/* The end of every page: the language switch (a GET form). */
void
connect_page_foot(struct cpage *cp, struct buf *b)
{
	int	i;

	buf_addstr(b, "<form class=\"lang\" method=\"get\" action=\"/connect\">"
	    "\n<div><label for=\"lang\">");
	web_esc(b, web_t(cp->lang, WS_LANGUAGE));
	buf_addstr(b, "</label>\n<select id=\"lang\" name=\"lang\">\n");
	for (i = 0; i < LANG__COUNT; i++) {
		buf_printf(b, "<option value=\"%s\"%s>", web_lang_code(i),
		    (int)cp->lang == i ? " selected" : "");
		web_esc(b, web_t(i, WS_LANG_NAME));
		buf_addstr(b, "</option>\n");
	}
	buf_addstr(b, "</select></div>\n<button type=\"submit\" "
	    "class=\"secondary\">");
	web_esc(b, web_t(cp->lang, WS_CHANGE));
	buf_addstr(b, "</button>\n</form>\n<p class=\"muted\">");
	web_esc(b, web_t(cp->lang, WS_SECURED));
	buf_addstr(b, "</p>\n");
}

/* Case-insensitive substring test ("" is in everything). */
static int
contains(const char *hay, const char *needle)
{
	size_t	n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

void
connect_page_banks(struct cpage *cp, struct buf *b)
{
	const char	*q = req_query(cp->r, "q");
	size_t		 i, shown = 0;

	page_head(cp, b, 1, "connect.js", WS_PICK_H, NULL);
	buf_addstr(b, "<form class=\"search\" method=\"get\" action=\"/connect\" "
	    "role=\"search\">\n<div><label for=\"q\">");
	web_esc(b, web_t(cp->lang, WS_SEARCH_LABEL));
	buf_addstr(b, "</label>\n<input type=\"search\" id=\"q\" name=\"q\" "
	    "autocomplete=\"off\" value=\"");
	web_esc(b, q != NULL ? q : "");
	buf_addstr(b, "\"></div>\n<button type=\"submit\">");
	web_esc(b, web_t(cp->lang, WS_SEARCH_BTN));
	buf_addstr(b, "</button>\n</form>\n<form method=\"post\" action=\""
	    "/connect\">\n");
	web_csrf_field(b, &cp->ws);
	buf_addstr(b, "<input type=\"hidden\" name=\"action\" value=\"bank\">\n"
	    "<ul class=\"banks\">\n");
	for (i = 0; i < institutions_count(); i++) {
		const struct institution *in = institution_at(i);

		if (!connect_allowed(cp, in) || (q != NULL && !contains(in->name, q) &&
		    !contains(in->id, q)))
			continue;
		buf_addstr(b, "<li><button type=\"submit\" name=\"institution_id\""
		    " value=\"");
		web_esc(b, in->id);
		buf_addstr(b, "\">");
		web_esc(b, in->name);
		if (strcmp(in->status, "up") != 0) {
			buf_addstr(b, " <span class=\"note\">(");
			web_esc(b, web_t(cp->lang, WS_MAINTENANCE));
			buf_addstr(b, ")</span>");
		}
		buf_addstr(b, "</button></li>\n");
		shown++;
	}
	buf_addstr(b, "</ul>\n</form>\n");
	if (shown == 0) {
		buf_addstr(b, "<p id=\"no-banks\">");
		web_esc(b, web_t(cp->lang, WS_NO_BANKS));
		buf_addstr(b, "</p>\n");
	}
}

static void
cancel_link(struct cpage *cp, struct buf *b)
{
	if (*cp->redirect == '\0')
		return;
	buf_addstr(b, "<p><a href=\"");
	web_esc(b, cp->redirect);
	buf_printf(b, "%serror=user_cancelled\">", strchr(cp->redirect, '?') ?
	    "&" : "?");
	web_esc(b, web_t(cp->lang, WS_CANCEL));
	buf_addstr(b, "</a></p>\n");
}

void
connect_page_consent(struct cpage *cp, struct buf *b,
    const struct institution *in)
{
	char	days[16];

	snprintf(days, sizeof(days), "%d", (int)cfg.consent_days);
	page_head(cp, b, 2, "connect.js", WS_CONSENT_H, NULL);
	buf_addstr(b, "<p>");
	web_fmt(b, cp->lang, WS_CONSENT_INTRO, *cp->client_name ?
	    cp->client_name : "bankfeed", in->name);
	buf_addstr(b, "</p>\n<ul>\n<li>");
	web_esc(b, web_t(cp->lang, WS_CONSENT_ACCOUNTS));
	buf_addstr(b, "</li>\n<li>");
	web_esc(b, web_t(cp->lang, WS_CONSENT_BALANCES));
	buf_addstr(b, "</li>\n<li>");
	web_esc(b, web_t(cp->lang, WS_CONSENT_TXNS));
	buf_addstr(b, "</li>\n</ul>\n<p>");
	web_fmt(b, cp->lang, WS_CONSENT_DAYS, days, NULL);
	buf_addstr(b, "</p>\n<p>");
	web_esc(b, web_t(cp->lang, WS_CONSENT_NOPAY));
	buf_addstr(b, "</p>\n");
	button_form(cp, b, "consent", WS_AGREE_BTN, 0);
	button_form(cp, b, "change_bank", WS_OTHER_BANK, 1);
	cancel_link(cp, b);
}

void
connect_page_credentials(struct cpage *cp, struct buf *b,
    const struct institution *in)
{
	page_head(cp, b, 3, "connect.js", WS_CRED_H, in->name);
	buf_addstr(b, "<p>");
	web_esc(b, web_t(cp->lang, WS_CRED_NOTE));
	buf_addstr(b, "</p>\n<form method=\"post\" action=\"/connect\">\n");
	web_csrf_field(b, &cp->ws);
	buf_addstr(b, "<label for=\"username\">");
	web_esc(b, web_t(cp->lang, WS_USERNAME));
	buf_addstr(b, "</label>\n<input type=\"text\" id=\"username\" "
	    "name=\"username\" autocomplete=\"username\" required "
	    "maxlength=\"256\" autocapitalize=\"none\" spellcheck=\"false\">\n"
	    "<label for=\"password\">");
	web_esc(b, web_t(cp->lang, WS_PASSWORD));
	buf_addstr(b, "</label>\n<input type=\"password\" id=\"password\" "
	    "name=\"password\" autocomplete=\"current-password\" required "
	    "maxlength=\"256\">\n<button type=\"submit\" name=\"action\" "
	    "value=\"login\">");
	web_esc(b, web_t(cp->lang, WS_SIGNIN_BTN));
	buf_addstr(b, "</button>\n</form>\n");
	button_form(cp, b, "change_bank", WS_OTHER_BANK, 1);
	cancel_link(cp, b);
}

/* One challenge's fields (question, tan, choice) or its link (redirect). */
static void
challenge_fields(struct cpage *cp, struct buf *b, json_t *c, size_t i)
{
	const char	*key = json_string_value(json_object_get(c, "key"));
	const char	*kind = json_string_value(json_object_get(c, "kind"));
	const char	*prompt = json_string_value(json_object_get(c, "prompt"));
	json_t		*opts = json_object_get(c, "options"), *o;
	size_t		 j;

	if (key == NULL || kind == NULL)
		return;
	if (strcmp(kind, "choice") == 0) {
		buf_addstr(b, "<fieldset>\n<legend>");
		web_esc(b, prompt != NULL ? prompt : web_t(cp->lang,
		    WS_CHOICE_HINT));
		buf_addstr(b, "</legend>\n");
		json_array_foreach(opts, j, o) {
			buf_printf(b, "<label for=\"c%zu_%zu\"><input type=\"radio\""
			    " id=\"c%zu_%zu\" name=\"a_", i, j, i, j);
			web_esc(b, key);
			buf_addstr(b, "\" value=\"");
			web_esc(b, json_string_value(o));
			buf_printf(b, "\"%s> ", j == 0 ? " required" : "");
			web_esc(b, json_string_value(o));
			buf_addstr(b, "</label>\n");
		}
		buf_addstr(b, "</fieldset>\n");
	} else if (strcmp(kind, "question") == 0 || strcmp(kind, "tan") == 0) {
		int tan = strcmp(kind, "tan") == 0;

		if (tan) {
			buf_addstr(b, "<p>");
			web_esc(b, web_t(cp->lang, WS_TAN_HINT));
			buf_addstr(b, "</p>\n");
		}
		buf_printf(b, "<label for=\"c%zu\">", i);
		web_esc(b, prompt != NULL ? prompt : key);
		buf_printf(b, "</label>\n<input type=\"text\" id=\"c%zu\" "
		    "name=\"a_", i);
		web_esc(b, key);
		buf_printf(b, "\" required maxlength=\"256\" autocomplete=\"%s\""
		    "%s>\n", tan ? "one-time-code" : "off", tan ?
		    " inputmode=\"numeric\"" : "");
	} else if (strcmp(kind, "redirect") == 0) {
		const char *url = json_string_value(json_object_get(c, "url"));

		buf_addstr(b, "<p>");
		web_esc(b, web_t(cp->lang, WS_REDIRECT_P));
		buf_addstr(b, "</p>\n");
		if (url != NULL && (strncmp(url, "https://", 8) == 0 ||
		    strncmp(url, "http://", 7) == 0)) {
			buf_addstr(b, "<p><a class=\"button\" id=\"bank-link\" "
			    "target=\"_blank\" rel=\"noopener noreferrer\" href=\"");
			web_esc(b, url);
			buf_addstr(b, "\">");
			web_esc(b, web_t(cp->lang, WS_REDIRECT_LINK));
			buf_addstr(b, "</a></p>\n");
		}
	} else if (strcmp(kind, "decoupled") == 0) {
		buf_addstr(b, "<p>");
		web_esc(b, prompt != NULL ? prompt : "");
		buf_addstr(b, "</p>\n<p>");
		web_esc(b, web_t(cp->lang, WS_DECOUPLED_P));
		buf_addstr(b, "</p>\n<p role=\"status\" aria-live=\"polite\">");
		web_esc(b, web_t(cp->lang, WS_WAITING));
		buf_addstr(b, "</p>\n");
	}
}

/* The bank's challenges: one form with a field for each answer. */
void
connect_page_challenges(struct cpage *cp, struct buf *b, json_t *session)
{
	json_t	*chs = json_object_get(session, "challenges"), *c;
	size_t	 i;
	int	 answered = 0, waiting = 0;

	json_array_foreach(chs, i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));

		if (kind != NULL && (strcmp(kind, "decoupled") == 0 ||
		    strcmp(kind, "redirect") == 0))
			waiting = 1;
		else if (kind != NULL)
			answered = 1;
	}
	page_head(cp, b, 4, "connect.js", WS_CHALLENGE_H, NULL);
	/*
	 * A confirmation in the bank's app, or on its website (whose return
	 * to bankfeed authorizes the session): the script asks the page
	 * again every few seconds and shows the next step by itself; without
	 * it, the button asks.
	 */
	buf_printf(b, "<form method=\"post\" action=\"/connect\" "
	    "id=\"challenge\"%s>\n", waiting && !answered ?
	    " data-poll=\"3\"" : "");
	web_csrf_field(b, &cp->ws);
	json_array_foreach(chs, i, c)
		challenge_fields(cp, b, c, i);
	buf_printf(b, "<button type=\"submit\" name=\"action\" value=\"%s\">",
	    answered ? "answer" : "check");
	web_esc(b, web_t(cp->lang, answered ? WS_CONTINUE_BTN : WS_DONE_BTN));
	buf_addstr(b, "</button>\n</form>\n");
	cancel_link(cp, b);
}

void
connect_page_success(struct cpage *cp, struct buf *b)
{
	char	url[2300];

	snprintf(url, sizeof(url), "%s%sconnection_id=%s", cp->redirect,
	    strchr(cp->redirect, '?') != NULL ? "&" : "?", cp->ws.connection_id);
	web_page_begin(b, cp->lang, web_t(cp->lang, WS_SUCCESS_H), "connect.js");
	buf_addstr(b, "<div class=\"ok\" id=\"done\" data-connection-id=\"");
	web_esc(b, cp->ws.connection_id);
	buf_addstr(b, "\" data-origin=\"");
	web_esc(b, cp->origin);
	buf_addstr(b, "\" data-redirect=\"");
	if (*cp->redirect)
		web_esc(b, url);
	buf_addstr(b, "\">\n<h1>");
	web_esc(b, web_t(cp->lang, WS_SUCCESS_H));
	buf_addstr(b, "</h1>\n<p>");
	web_esc(b, web_t(cp->lang, *cp->redirect ? WS_SUCCESS_P :
	    WS_SUCCESS_CLOSE));
	buf_addstr(b, "</p>\n</div>\n");
	if (*cp->redirect) {
		buf_addstr(b, "<p><a class=\"button\" id=\"back\" href=\"");
		web_esc(b, url);
		buf_addstr(b, "\">");
		web_esc(b, web_t(cp->lang, WS_BACK_BTN));
		buf_addstr(b, "</a></p>\n");
	}
}
