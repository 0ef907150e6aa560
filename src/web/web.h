/*
 * web: the pages bankfeed serves to browsers, rendered by the server from
 * templates in the binary (no build step, no framework): the Connect page
 * for end users (connect.c) and the dashboard for clients (dashboard.c).
 * web.c holds what both share: languages, HTML writing, the security
 * headers, cookies, browser sessions with their anti-forgery token, and
 * calls of the API's own handlers on behalf of a session's client.
 */
#ifndef BF_WEB_H
#define BF_WEB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/ids.h"

struct req;

/* Languages of the pages (strings.def has a column for each). */
enum web_lang { LANG_EN, LANG_DE, LANG_FR, LANG_NL, LANG__COUNT };

enum web_str {
#define S(id, en, de, fr, nl) WS_##id,
#include "web/strings.def"
#undef S
	WS__COUNT
};

const char	*web_t(enum web_lang, enum web_str);
const char	*web_lang_code(enum web_lang);
/* "en", "de", "fr" or "nl": 0 and *out, or -1. */
int		 web_lang_parse(const char *code, enum web_lang *out);
/* The language asked for (a code or NULL), else the browser's
 * Accept-Language, else English. */
enum web_lang	 web_lang_pick(struct req *, const char *asked);

/* HTML: text with & < > " ' escaped. */
void		 web_esc(struct buf *, const char *);
/* A string of strings.def with {1} and {2} replaced by a1, a2 (escaped). */
void		 web_fmt(struct buf *, enum web_lang, enum web_str,
		    const char *a1, const char *a2);
/*
 * The page frame: <!doctype html> to <main>, with the stylesheet and
 * script of the binary (only these: the CSP allows nothing else), and its
 * end.
 */
void		 web_page_begin(struct buf *, enum web_lang, const char *title,
		    const char *script);
void		 web_page_end(struct buf *);
/*
 * Answers r with the HTML page b and the security headers: a strict CSP
 * (scripts, styles and images of this origin only; forms post here only;
 * frame_ancestors: the origins that may frame the page, NULL: none),
 * nosniff, no referrer.  err: the catalog entry the page reports, or 0.
 */
void		 web_send(struct req *, int status, struct buf *b,
		    const char *frame_ancestors, int err);
/*
 * Whether the request asks for HTML (a browser's Accept).  An error of a
 * page is an HTML page for browsers and the API's error object (API.md)
 * for every other client, with the same status and catalog entry.
 */
int		 web_wants_html(struct req *);
/* 303 See Other to location (the page after a form). */
void		 web_redirect(struct req *, const char *location);

/* Cookies: the value of name (0), or -1. */
int		 web_cookie(struct req *, const char *name, char *out,
		    size_t outn);
/* Sets (or with value NULL clears) a cookie: HttpOnly, SameSite, Secure
 * when the request came over TLS (X-Forwarded-Proto: https). */
void		 web_set_cookie(struct req *, const char *name,
		    const char *value, const char *path, const char *samesite);

/* A random token: prefix + "_" + 32 base32 characters, and its keyed hash. */
#define WEB_TOKEN_MAX	48
void		 web_token_new(const char *prefix, char token[WEB_TOKEN_MAX],
		    char hash[65]);
void		 web_token_hash(const char *token, char hash[65]);

/* A browser's session (table web_sessions), found by its cookie. */
struct web_session {
	char	id_hash[65];
	char	csrf[WEB_TOKEN_MAX];
	char	client_id[ID_MAX];
	char	token_hash[65];
	char	user_id[ID_MAX];
	char	login[256];
	char	institution_id[64];
	int	consented;
	char	language[4];
	char	connection_id[ID_MAX];
	char	session_id[ID_MAX];
	int	error_code;
	char	error_message[512];
};

/*
 * Starts a session of kind ("connect", "dashboard") for ws->client_id (and
 * the other fields set in ws) and sets its cookie (name, path, SameSite:
 * "Lax" for a page opened from another site, else "Strict").  ws gets its
 * id and csrf token.  0, or -1.
 */
int		 web_session_start(struct req *, const char *kind,
		    const char *cookie, const char *path, const char *samesite,
		    struct web_session *ws);
/* Loads the live session of the request's cookie and moves its expiry:
 * 1 found, 0 none (no cookie, ended, another kind). */
int		 web_session_load(struct req *, const char *kind,
		    const char *cookie, struct web_session *ws);
/* Writes the session's fields back.  0, or -1. */
int		 web_session_save(const struct web_session *);
void		 web_session_end(const struct web_session *);
/* Whether the form's csrf field is the session's (constant time). */
int		 web_csrf_ok(struct req *, const struct web_session *);
/* The hidden csrf field of a form of the session. */
void		 web_csrf_field(struct buf *, const struct web_session *);
/* A field of the request's form body, decoded; "" when absent. */
void		 web_form(struct req *, const char *key, char *out, size_t n);
/*
 * Every field of the form body whose name starts with prefix, as
 * {"rest of the name": "value"} (decoded; fields of more than
 * WEB_FIELD_MAX - 1 bytes, or with bad escapes or NUL, left out).
 */
#define WEB_FIELD_MAX	300
json_t		*web_form_fields(struct req *, const char *prefix);

/*
 * Runs an API handler for the session's client as if the client had called
 * it, with body (a JSON object, borrowed, or NULL) and path parameter
 * param; the handler's answer is taken back from r: its status, and its
 * JSON body in *out (owned; NULL when none).  -1 when the handler could not
 * answer at once (it suspended r while the bank works): then(r, status,
 * out, arg) is called with its answer when r is resumed, on the thread
 * that resumes it (perhaps before web_call returns), and must answer r;
 * the caller must not touch r, nor what arg points to, again.
 */
typedef void	(*web_then_fn)(struct req *, int status, json_t *out,
		    void *arg);
int		 web_call(struct req *, void (*handler)(struct req *),
		    json_t *body, const char *param, json_t **out,
		    web_then_fn then, void *arg);

/*
 * requests.c: the recent API requests of each client (this node's, since
 * it started), for the dashboard.  dispatch_done() notes every request.
 */
struct web_request {
	long long	at;
	char		client_id[ID_MAX];
	char		method[8];
	char		path[160];
	char		request_id[72];
	int		status;
	int		err_code;
};

void		 web_requests_note(const struct req *);
/* The client's most recent requests, newest first: how many were written. */
size_t		 web_requests_recent(const char *client_id,
		    struct web_request *out, size_t max);

/* GET /assets/{name}: the stylesheet and scripts of the pages. */
void		 h_web_asset(struct req *);
/* GET /connect, POST /connect: connect.c */
void		 h_connect_get(struct req *);
void		 h_connect_post(struct req *);
/* GET /dashboard, POST /dashboard/login, ...: dashboard.c */
void		 h_dashboard_get(struct req *);
void		 h_dashboard_login(struct req *);
void		 h_dashboard_logout(struct req *);
void		 h_dashboard_resend(struct req *);
/* The login page, saying e (ERR_OK: nothing) above its form. */
void		 dashboard_login_page(struct req *, enum err e);
/* bankfeed dashboard-user add|list|delete */
int		 dashboard_user_cmd(int argc, char **argv);

/* api/connect_tokens.c: whether a redirect_uri is acceptable. */
int		 connect_redirect_ok(const char *uri);

#endif
