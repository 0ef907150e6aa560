/*
 * dashboard_auth.c: who may see a client's dashboard.  A client logs in
 * with its id and secret, or a dashboard user (made on the server's
 * machine with `bankfeed dashboard-user add`) with an email and password.
 * Both are checked against argon2id hashes by the check pool of clients.c
 * (never on an HTTP thread); a login that passes gets a session cookie
 * (HttpOnly, SameSite=Strict, Secure over TLS) whose forms carry the
 * session's anti-forgery token.  The login form itself is protected by a
 * double-submit cookie.  Failed logins are limited per address.
 */
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/jw.h"
#include "http/http.h"
#include "store/store.h"

#define PRE_COOKIE	"bf_dash_login"
#define LOGIN_MAX	256
#define FAIL_BURST	10.0
#define FAIL_RATE	(10.0 / 60.0)	/* a second: 10 a minute */

static struct ratelimit	fails = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The email of a dashboard user's login while the pool checks it: the
 * pool's answer carries the client, and the session records who it is.
 */
#define PENDING_MAX	64
static struct {
	const struct req	*r;
	char			 email[LOGIN_MAX];
} pending[PENDING_MAX];
static pthread_mutex_t	pending_lock = PTHREAD_MUTEX_INITIALIZER;

/* 0, or -1 when PENDING_MAX logins are being checked already. */
static int
pending_put(const struct req *r, const char *email)
{
	size_t	i;
	int	rc = -1;

	pthread_mutex_lock(&pending_lock);
	for (i = 0; i < PENDING_MAX; i++)
		if (pending[i].r == NULL) {
			pending[i].r = r;
			snprintf(pending[i].email, LOGIN_MAX, "%s", email);
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&pending_lock);
	return rc;
}

/* Takes r's email into out ("" when none). */
static void
pending_take(const struct req *r, char out[LOGIN_MAX])
{
	size_t	i;

	*out = '\0';
	pthread_mutex_lock(&pending_lock);
	for (i = 0; i < PENDING_MAX; i++)
		if (pending[i].r == r) {
			snprintf(out, LOGIN_MAX, "%s", pending[i].email);
			pending[i].r = NULL;
			break;
		}
	pthread_mutex_unlock(&pending_lock);
}

static void
fail_key(struct req *r, char key[RL_KEY_MAX])
{
	char	addr[RL_KEY_MAX - 8];

	ratelimit_addr_key(r->peer_ip, addr, sizeof(addr));
	snprintf(key, RL_KEY_MAX, "dash %s", addr);
}

/*
 * The login page, with err (a catalog entry, or ERR_OK) said above the
 * form (a client that does not ask for HTML gets the error object).  Sets
 * the double-submit cookie its form must come back with.
 */
void
dashboard_login_page(struct req *r, enum err e)
{
	struct buf	 b;
	char		 pre[WEB_TOKEN_MAX], hash[65];
	enum web_lang	 l = web_lang_pick(r, NULL);

	if (e != ERR_OK && !web_wants_html(r)) {
		resp_error(r, e, NULL, NULL);
		return;
	}
	web_token_new("pre", pre, hash);
	buf_init(&b, 1 << 20);
	web_page_begin(&b, l, "bankfeed dashboard: log in", NULL);
	buf_addstr(&b, "<h1>bankfeed dashboard</h1>\n");
	if (e != ERR_OK)
		buf_printf(&b, "<div class=\"alert\" role=\"alert\" "
		    "data-error-name=\"%s\"><p>%s</p><p class=\"muted\">%d %s"
		    "</p></div>\n", err_name(e), e == ERR_TOO_MANY_REQUESTS ?
		    "Too many failed logins from this address. Wait a minute, "
		    "then try again." : e == ERR_SERVICE_UNAVAILABLE ?
		    "The server is busy checking other logins. Try again in a "
		    "moment." : e == ERR_CSRF_REJECTED ? "The form was out of "
		    "date. Try again." : "Unknown login, or the wrong secret or "
		    "password.", err_code(e), err_name(e));
	buf_addstr(&b, "<form method=\"post\" action=\"/dashboard/login\">\n"
	    "<input type=\"hidden\" name=\"pre\" value=\"");
	web_esc(&b, pre);
	buf_addstr(&b, "\">\n<label for=\"login\">Client ID, or your email"
	    "</label>\n<input type=\"text\" id=\"login\" name=\"login\" "
	    "autocomplete=\"username\" required maxlength=\"255\" "
	    "spellcheck=\"false\">\n<label for=\"secret\">Client secret, or "
	    "your password</label>\n<input type=\"password\" id=\"secret\" "
	    "name=\"secret\" autocomplete=\"current-password\" required "
	    "maxlength=\"255\">\n<button type=\"submit\">Log in</button>\n"
	    "</form>\n<p class=\"muted\">A dashboard user is made on the "
	    "server with <code>bankfeed dashboard-user add</code>.</p>\n");
	web_page_end(&b);
	web_set_cookie(r, PRE_COOKIE, pre, "/dashboard", "Strict");
	web_send(r, e == ERR_OK ? 200 : err_http(e), &b, NULL,
	    e == ERR_OK ? 0 : err_code(e));
	buf_free(&b);
}

/* After a check (on the pool's thread, or the HTTP one). */
static void
login_answer(struct req *r, const char *client_id, enum client_verdict v)
{
	struct web_session	ws;
	char			key[RL_KEY_MAX], email[LOGIN_MAX];
	const char		*keys[] = { key };

	pending_take(r, email);
	if (v == CLIENT_BUSY) {
		dashboard_login_page(r, ERR_SERVICE_UNAVAILABLE);
		return;
	}
	if (v != CLIENT_OK) {
		dashboard_login_page(r, ERR_INVALID_CLIENT_AUTHORIZATION);
		return;
	}
	fail_key(r, key);
	ratelimit_give(&fails, keys, 1, FAIL_RATE, FAIL_BURST);
	memset(&ws, 0, sizeof(ws));
	snprintf(ws.client_id, sizeof(ws.client_id), "%s", client_id);
	snprintf(ws.login, sizeof(ws.login), "%s", *email ? email : client_id);
	if (web_session_start(r, "dashboard", "bf_dash", "/dashboard",
	    "Strict", &ws) == -1) {
		resp_internal(r, "cannot start a dashboard session");
		return;
	}
	/* One Set-Cookie an answer (resp_header): the login form's cookie
	 * stays, and is replaced at the next login page. */
	web_redirect(r, "/dashboard");
}

static void
checked(struct req *r, const struct client_check *cc, enum client_verdict v)
{
	login_answer(r, cc->id, v);
}

/* A dashboard user's client and hash into cc: 0, or -1 when none. */
static int
dashboard_user(const char *email, struct client_check *cc)
{
	struct db_stmt	*s;
	int		 found = 0;

	memset(cc, 0, sizeof(*cc));
	s = db_q(store_db(), "SELECT client_id, password_hash FROM "
	    "dashboard_users WHERE email = ?", "t", email);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(cc->id, sizeof(cc->id), "%s", db_col_text(s, 0));
		snprintf(cc->hash, sizeof(cc->hash), "%s", db_col_text(s, 1));
		found = 1;
	}
	db_done(s);
	return found ? 0 : -1;
}

/* POST /dashboard/login: login and secret, and the form's pre field. */
void
h_dashboard_login(struct req *r)
{
	char			 login[LOGIN_MAX], secret[LOGIN_MAX];
	char			 pre[WEB_TOKEN_MAX], cookie[WEB_TOKEN_MAX];
	char			 key[RL_KEY_MAX];
	const char		*keys[] = { key };
	struct client_check	 cc;
	enum client_verdict	 v = CLIENT_BAD;
	long long		 hold_ms = 0;
	int			 retry;

	memset(&cc, 0, sizeof(cc));
	web_form(r, "login", login, sizeof(login));
	web_form(r, "secret", secret, sizeof(secret));
	web_form(r, "pre", pre, sizeof(pre));
	if (*pre == '\0' || web_cookie(r, PRE_COOKIE, cookie,
	    sizeof(cookie)) == -1 || strlen(pre) != strlen(cookie) ||
	    sodium_memcmp(pre, cookie, strlen(pre)) != 0) {
		dashboard_login_page(r, ERR_CSRF_REJECTED);
		goto out;
	}
	fail_key(r, key);
	if (ratelimit_take(&fails, keys, 1, FAIL_RATE, FAIL_BURST,
	    &retry) == -1) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", retry);
		resp_header(r, "Retry-After", ra);
		dashboard_login_page(r, ERR_TOO_MANY_REQUESTS);
		goto out;
	}
	if (strchr(login, '@') != NULL) {
		/* An unknown email is answered as late as a check would be
		 * (clients_check_end of no hash): the timing tells nothing. */
		if (dashboard_user(login, &cc) == -1)
			v = clients_check_end(&cc, secret, &hold_ms, r, checked);
		else if (pending_put(r, login) == -1)
			v = CLIENT_BUSY;
		else
			v = clients_check_end(&cc, secret, &hold_ms, r, checked);
	} else if ((v = clients_check_begin(&cc, login, secret)) ==
	    CLIENT_UNCHECKED)
		v = clients_check_end(&cc, secret, &hold_ms, r, checked);
	/* Queued: the pool answers r. */
	if (v == CLIENT_QUEUED)
		goto out;
	login_answer(r, cc.id, v);
	if (v == CLIENT_BAD && hold_ms > 0)
		hold_answer(r, hold_ms);
out:
	clients_check_free(&cc);
	sodium_memzero(secret, sizeof(secret));
}

/* POST /dashboard/logout */
void
h_dashboard_logout(struct req *r)
{
	struct web_session	ws;

	if (web_session_load(r, "dashboard", "bf_dash", &ws) &&
	    web_csrf_ok(r, &ws))
		web_session_end(&ws);
	web_set_cookie(r, "bf_dash", NULL, "/dashboard", "Strict");
	web_redirect(r, "/dashboard");
}

/* ---- bankfeed dashboard-user add|list|delete ---- */

static int
usage(void)
{
	fprintf(stderr, "usage: bankfeed dashboard-user add --client CLIENT_ID "
	    "--email EMAIL [--password-stdin]\n"
	    "       bankfeed dashboard-user list\n"
	    "       bankfeed dashboard-user delete --email EMAIL\n"
	    "add prints a new password once, or reads it from the first line "
	    "of standard input (--password-stdin, at least 12 characters).\n");
	return 2;
}

/* The value of --name in argv, or NULL. */
static const char *
opt(int argc, char **argv, const char *name)
{
	int	i;

	for (i = 2; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
has(int argc, char **argv, const char *name)
{
	int	i;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static int
user_add(const char *client, const char *email, int from_stdin)
{
	struct db	*db = store_db();
	char		 pw[LOGIN_MAX], hash[crypto_pwhash_STRBYTES], h[65];
	size_t		 n;
	int		 rc = 1;

	if (db == NULL || db_exists(db, "SELECT 1 FROM clients WHERE id = ?",
	    "t", client) != 1) {
		fprintf(stderr, "bankfeed: no client %s\n", client);
		return 1;
	}
	if (from_stdin) {
		if (fgets(pw, sizeof(pw), stdin) == NULL)
			pw[0] = '\0';
		n = strcspn(pw, "\r\n");
		pw[n] = '\0';
		if (n < 12) {
			fprintf(stderr, "bankfeed: the password needs at least "
			    "12 characters\n");
			goto out;
		}
	} else
		web_token_new("pw", pw, h);
	if (crypto_pwhash_str(hash, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		goto out;
	if (db_run(db, "INSERT INTO dashboard_users (email, client_id, "
	    "password_hash, created_at) VALUES (?, ?, ?, ?)", "ttti", email,
	    client, hash, (int64_t)time(NULL)) != DB_OK) {
		fprintf(stderr, "bankfeed: could not add %s (it may exist "
		    "already)\n", email);
		goto out;
	}
	printf("email:    %s\nclient:   %s\n", email, client);
	if (!from_stdin)
		printf("password: %s\n(the password is shown only now: bankfeed "
		    "keeps only its hash)\n", pw);
	rc = 0;
out:
	sodium_memzero(pw, sizeof(pw));
	return rc;
}

int
dashboard_user_cmd(int argc, char **argv)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	const char	*client = opt(argc, argv, "--client");
	const char	*email = opt(argc, argv, "--email");

	if (argc < 2 || db == NULL)
		return usage();
	if (strcmp(argv[1], "add") == 0 && client != NULL && email != NULL &&
	    strchr(email, '@') != NULL && strlen(email) < LOGIN_MAX)
		return user_add(client, email, has(argc, argv,
		    "--password-stdin"));
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		s = db_q(db, "SELECT email, client_id FROM dashboard_users "
		    "ORDER BY client_id, email", "");
		while (s != NULL && db_step(s) == DB_ROW)
			printf("%s\t%s\n", db_col_text(s, 0), db_col_text(s, 1));
		db_done(s);
		return 0;
	}
	if (strcmp(argv[1], "delete") == 0 && email != NULL) {
		if (db_run(db, "DELETE FROM dashboard_users WHERE email = ?", "t",
		    email) != DB_OK || db_changes(db) == 0) {
			fprintf(stderr, "bankfeed: no dashboard user %s\n", email);
			return 1;
		}
		/* Logged out everywhere. */
		db_run(db, "DELETE FROM web_sessions WHERE kind = 'dashboard' AND "
		    "login = ?", "t", email);
		printf("deleted %s\n", email);
		return 0;
	}
	return usage();
}
