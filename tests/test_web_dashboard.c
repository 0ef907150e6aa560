/*
 * API tests of the dashboard (GET /dashboard, POST /dashboard/login,
 * /logout, /webhooks/resend): the real server on loopback, a browser played
 * by hand.  Logins by client secret and by dashboard user (made with the
 * CLI), the cookie's attributes, the anti-forgery checks, and isolation:
 * a client never sees or re-sends what is another's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static struct srv	S;

static int
setup(void **state)
{
	(void)state;
	return srv_start(&S, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

static void
contains(struct res *r, const char *s)
{
	if (r->body == NULL || strstr(r->body, s) == NULL)
		fail_msg("no \"%s\" in: %.3000s", s, r->body ? r->body : "");
}

/* A value of the answer's Set-Cookie ("name=value"), or "". */
static void
set_cookie(struct res *r, char *out, size_t n)
{
	char	*c = res_header(r, "Set-Cookie");

	snprintf(out, n, "%.*s", c != NULL ? (int)strcspn(c, ";") : 0,
	    c != NULL ? c : "");
	free(c);
}

/* The value="..." after marker in the body, or "". */
static void
field(struct res *r, const char *marker, char *out, size_t n)
{
	const char	*p = r->body ? strstr(r->body, marker) : NULL;

	*out = '\0';
	if (p != NULL && (p = strstr(p, "value=\"")) != NULL)
		snprintf(out, n, "%.*s", (int)strcspn(p + 7, "\""), p + 7);
}

static void
page(struct srv *s, const char *method, const char *path, const char *cookie,
    const char *form, const char *extra, struct res *r)
{
	char		 c[200];
	const char	*h[4] = { "Content-Type: application/x-www-form-urlencoded",
	    NULL, NULL, NULL };
	size_t		 n = 1;

	if (cookie != NULL && *cookie) {
		snprintf(c, sizeof(c), "Cookie: %s", cookie);
		h[n++] = c;
	}
	if (extra != NULL)
		h[n++] = extra;
	assert_int_equal(req(s, method, path, NULL, h, form, form ?
	    strlen(form) : 0, r), 0);
}

/*
 * Logs in as login/secret: the dashboard's cookie ("bf_dash=...") into
 * cookie, or "" when refused; the refusal's answer in *out when asked.
 */
static long
login(struct srv *s, const char *login, const char *secret,
    char cookie[200], const char *extra)
{
	struct res	r;
	char		pre[200], pv[100], form[600];
	long		status;

	page(s, "GET", "/dashboard", NULL, NULL, NULL, &r);
	assert_status(&r, 200);
	contains(&r, "<label for=\"login\">");
	set_cookie(&r, pre, sizeof(pre));
	field(&r, "name=\"pre\"", pv, sizeof(pv));
	res_free(&r);
	snprintf(form, sizeof(form), "pre=%s&login=%s&secret=%s", pv, login,
	    secret);
	page(s, "POST", "/dashboard/login", pre, form, extra, &r);
	status = r.status;
	*cookie = '\0';
	if (status == 303) {
		set_cookie(&r, cookie, 200);
		assert_non_null(strstr(r.headers, "HttpOnly"));
		assert_non_null(strstr(r.headers, "SameSite=Strict"));
		if (extra != NULL)
			assert_non_null(strstr(r.headers, "; Secure"));
		else
			assert_null(strstr(r.headers, "; Secure"));
	}
	res_free(&r);
	return status;
}

static void
logins_are_checked(void **state)
{
	struct res	 r;
	char		 cookie[200], *csp;

	(void)state;
	page(&S, "GET", "/dashboard", NULL, NULL, NULL, &r);
	csp = res_header(&r, "Content-Security-Policy");
	assert_non_null(csp);
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	free(csp);
	res_free(&r);
	/* Without the login form's cookie: refused before any check. */
	page(&S, "POST", "/dashboard/login", NULL, "pre=x&login=a&secret=b",
	    NULL, &r);
	assert_error(&r, 403, "CSRF_REJECTED");
	res_free(&r);
	assert_int_equal(login(&S, S.client_id, "bfs_wrong", cookie, NULL),
	    401);
	assert_int_equal(login(&S, "cli_doesnotexist", "bfs_wrong", cookie,
	    NULL), 401);
	assert_int_equal(login(&S, "nobody@example.com", "wrong", cookie,
	    NULL), 401);
	assert_int_equal(login(&S, S.client_id, S.client_secret, cookie,
	    "X-Forwarded-Proto: https"), 303);
	assert_int_equal(login(&S, S.client_id, S.client_secret, cookie,
	    NULL), 303);
	page(&S, "GET", "/dashboard", cookie, NULL, NULL, &r);
	assert_status(&r, 200);
	contains(&r, "Users and connections");
	contains(&r, "<svg");
	res_free(&r);
}

/* A user, a webhook and a connection of s's client: its event's id. */
static void
some_data(struct srv *s, char user[64], char event[64])
{
	struct res	 r;
	char		 body[256];
	int		 i;

	static const char hook[] = "{\"url\":\"http://127.0.0.1:9/h\","
	    "\"secret\":\"whsec_dash_test_0123456789abcdef\"}";

	assert_int_equal(req(s, "PUT", "/v1/webhook", s->token, NULL, hook,
	    strlen(hook), &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	assert_int_equal(req(s, "POST", "/v1/users", s->token, NULL, "{}", 2,
	    &r), 0);
	snprintf(user, 64, "%s", jstr(r.json, "id"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(req(s, "POST", "/v1/connections", s->token, NULL, body,
	    strlen(body), &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	*event = '\0';
	for (i = 0; i < 50 && *event == '\0'; i++) {
		char	c[200];

		assert_int_equal(login(s, s->client_id, s->client_secret, c,
		    NULL), 303);
		page(s, "GET", "/dashboard", c, NULL, NULL, &r);
		if (strstr(r.body, ">evt_") != NULL)
			snprintf(event, 64, "%.*s", (int)strcspn(strstr(r.body,
			    ">evt_") + 1, "<"), strstr(r.body, ">evt_") + 1);
		res_free(&r);
		if (*event == '\0')
			usleep(100000);
	}
	assert_true(*event != '\0');
}

static void
clients_see_and_resend_only_their_own(void **state)
{
	struct srv	 other;
	struct res	 r;
	char		 user[64], event[64], mine[200], theirs[200];
	char		 csrf[100], csrf2[100], form[300];

	(void)state;
	some_data(&S, user, event);
	assert_int_equal(srv_new_client(&S, &other), 0);
	assert_int_equal(login(&S, S.client_id, S.client_secret, mine, NULL),
	    303);
	assert_int_equal(login(&S, other.client_id, other.client_secret,
	    theirs, NULL), 303);
	page(&S, "GET", "/dashboard", mine, NULL, NULL, &r);
	contains(&r, user);
	contains(&r, "Completed");
	field(&r, "name=\"csrf\"", csrf, sizeof(csrf));
	res_free(&r);
	page(&S, "GET", "/dashboard", theirs, NULL, NULL, &r);
	assert_null(strstr(r.body, user));
	assert_null(strstr(r.body, event));
	res_free(&r);
	/* Re-send: without the form's token, refused; another's event is
	 * not found; one's own goes out again. */
	snprintf(form, sizeof(form), "event_id=%s", event);
	page(&S, "POST", "/dashboard/webhooks/resend", mine, form, NULL, &r);
	assert_error(&r, 403, "CSRF_REJECTED");
	res_free(&r);
	page(&S, "GET", "/dashboard", theirs, NULL, NULL, &r);
	field(&r, "name=\"csrf\"", csrf2, sizeof(csrf2));
	res_free(&r);
	snprintf(form, sizeof(form), "csrf=%s&event_id=%s", csrf2, event);
	page(&S, "POST", "/dashboard/webhooks/resend", theirs, form, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	snprintf(form, sizeof(form), "csrf=%s&event_id=%s", csrf, event);
	page(&S, "POST", "/dashboard/webhooks/resend", mine, form, NULL, &r);
	assert_status(&r, 303);
	res_free(&r);
	page(&S, "GET", "/dashboard", NULL, NULL, NULL, &r);
	contains(&r, "Log in");
	res_free(&r);
}

static void
dashboard_users_log_in_until_deleted(void **state)
{
	char	 cmd[1024], line[256], pw[128] = "", cookie[200];
	char	 csrf[100], form[200];
	FILE	*p;
	struct res r;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s dashboard-user add --client %s --email "
	    "ops@example.com --data-dir %s 2>/dev/null", BANKFEED_BIN,
	    S.client_id, S.data);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL)
		if (strncmp(line, "password: ", 10) == 0)
			snprintf(pw, sizeof(pw), "%.*s", (int)strcspn(line + 10,
			    "\n"), line + 10);
	assert_int_equal(pclose(p), 0);
	assert_true(*pw != '\0');
	assert_int_equal(login(&S, "ops@example.com", "wrong", cookie, NULL),
	    401);
	assert_int_equal(login(&S, "ops@example.com", pw, cookie, NULL), 303);
	page(&S, "GET", "/dashboard", cookie, NULL, NULL, &r);
	contains(&r, "ops@example.com");
	field(&r, "name=\"csrf\"", csrf, sizeof(csrf));
	res_free(&r);
	/* Logging out ends the session. */
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	page(&S, "POST", "/dashboard/logout", cookie, form, NULL, &r);
	assert_status(&r, 303);
	res_free(&r);
	page(&S, "GET", "/dashboard", cookie, NULL, NULL, &r);
	contains(&r, "<label for=\"login\">");
	res_free(&r);
	/* A deleted user's session ends at once. */
	assert_int_equal(login(&S, "ops@example.com", pw, cookie, NULL), 303);
	snprintf(cmd, sizeof(cmd), "%s dashboard-user delete --email "
	    "ops@example.com --data-dir %s >/dev/null 2>&1", BANKFEED_BIN,
	    S.data);
	assert_int_equal(system(cmd), 0);
	page(&S, "GET", "/dashboard", cookie, NULL, NULL, &r);
	contains(&r, "<label for=\"login\">");
	res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logins_are_checked),
		cmocka_unit_test(clients_see_and_resend_only_their_own),
		cmocka_unit_test(dashboard_users_log_in_until_deleted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
