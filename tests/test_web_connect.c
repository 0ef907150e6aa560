/*
 * API tests of POST /v1/connect_tokens and the Connect page (GET and POST
 * /connect): the real server on loopback, a browser played by hand: the
 * cookie the page sets, the anti-forgery field of its forms, the 303
 * after each form.  What a browser test (tests/browser) cannot see well is
 * checked here: status codes, headers, refusals, single use, isolation.
 * These requests send no Accept: text/html, so the page's errors come as
 * the API's error object (a browser gets the same status as a page).
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
static struct srv	B;	/* bankfeed sandbox-bank: a bank over XS2A */

static int
setup(void **state)
{
	(void)state;
	return srv_start_with_bank(&S, &B, 300, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	srv_cleanup(&B);
	return 0;
}

/* A browser: its cookie and the csrf field of the last page. */
struct browser {
	char	cookie[128];
	char	csrf[64];
};

/* A connect token of s's client for user (extra: more JSON members). */
static void
new_token(struct srv *s, const char *user, const char *extra, char tok[64])
{
	struct res	r;
	char		body[512];

	snprintf(body, sizeof(body), "{\"user_id\":\"%s\"%s%s}", user,
	    extra ? "," : "", extra ? extra : "");
	assert_int_equal(post(s, "/v1/connect_tokens", body, &r), 0);
	assert_status(&r, 201);
	assert_non_null(strstr(jstr(r.json, "url"), jstr(r.json,
	    "connect_token")));
	assert_non_null(jstr(r.json, "expires_at"));
	snprintf(tok, 64, "%s", jstr(r.json, "connect_token"));
	res_free(&r);
}

/* A GET of the page with the browser's cookie (b may be NULL). */
static void
page_get(struct srv *s, struct browser *b, const char *path,
    const char *lang, struct res *r)
{
	char		 cookie[160], al[80];
	const char	*h[3] = { NULL, NULL, NULL };
	size_t		 n = 0;
	char		*set, *p;

	if (b != NULL && *b->cookie) {
		snprintf(cookie, sizeof(cookie), "Cookie: %s", b->cookie);
		h[n++] = cookie;
	}
	if (lang != NULL) {
		snprintf(al, sizeof(al), "Accept-Language: %s", lang);
		h[n++] = al;
	}
	assert_int_equal(req(s, "GET", path, NULL, h, NULL, 0, r), 0);
	if (b != NULL && (set = res_header(r, "Set-Cookie")) != NULL) {
		snprintf(b->cookie, sizeof(b->cookie), "%.*s",
		    (int)strcspn(set, ";"), set);
		free(set);
	}
	if (b != NULL && r->body != NULL &&
	    (p = strstr(r->body, "name=\"csrf\" value=\"")) != NULL)
		snprintf(b->csrf, sizeof(b->csrf), "%.*s",
		    (int)strcspn(p + 19, "\""), p + 19);
}

/* POST /connect with form fields (the csrf field first, from b). */
static void
page_post(struct srv *s, struct browser *b, const char *csrf,
    const char *fields, struct res *r)
{
	char		 cookie[160], body[1024];
	const char	*h[3] = { "Content-Type: application/x-www-form-urlencoded",
	    NULL, NULL };

	if (b != NULL && *b->cookie) {
		snprintf(cookie, sizeof(cookie), "Cookie: %s", b->cookie);
		h[1] = cookie;
	}
	snprintf(body, sizeof(body), "csrf=%s&%s", csrf, fields);
	assert_int_equal(req(s, "POST", "/connect", NULL, h, body,
	    strlen(body), r), 0);
}

/* Opens the link: 303 to /connect with the session's cookie. */
static void
open_link(struct srv *s, struct browser *b, const char *tok)
{
	struct res	r;
	char		path[128], *loc;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "/connect?token=%s", tok);
	page_get(s, b, path, NULL, &r);
	assert_status(&r, 303);
	loc = res_header(&r, "Location");
	assert_string_equal(loc, "/connect");
	free(loc);
	assert_non_null(strstr(r.headers, "HttpOnly"));
	assert_non_null(strstr(r.headers, "SameSite="));
	assert_true(*b->cookie != '\0');
	res_free(&r);
	page_get(s, b, "/connect", NULL, &r);
	assert_status(&r, 200);
	assert_true(*b->csrf != '\0');
	res_free(&r);
}

/* A form step that must answer 303 back to the page, then the page. */
static void
step(struct srv *s, struct browser *b, const char *fields, struct res *page)
{
	struct res	r;

	page_post(s, b, b->csrf, fields, &r);
	assert_status(&r, 303);
	res_free(&r);
	page_get(s, b, "/connect", NULL, page);
	assert_status(page, 200);
}

static void
contains(struct res *r, const char *s)
{
	if (r->body == NULL || strstr(r->body, s) == NULL)
		fail_msg("no \"%s\" in: %.3000s", s, r->body ? r->body : "");
}

static void
tokens_are_checked_field_by_field(void **state)
{
	struct res	r;
	char		user[64], body[512];

	(void)state;
	srv_new_user(&S, user);
	assert_int_equal(post(&S, "/v1/connect_tokens", "{}", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(jget(r.json, "error.data"), "user_id"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"redirect_uri\":"
	    "\"http://evil.example/cb\",\"language\":\"xx\",\"institutions\":"
	    "[\"nope\"]}", user);
	assert_int_equal(post(&S, "/v1/connect_tokens", body, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(jget(r.json, "error.data"), "redirect_uri"));
	assert_non_null(jget(jget(r.json, "error.data"), "language"));
	assert_non_null(json_object_get(jget(r.json, "error.data"),
	    "institutions.0"));
	res_free(&r);
	assert_int_equal(post(&S, "/v1/connect_tokens",
	    "{\"user_id\":\"usr_doesnotexist\"}", &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	assert_int_equal(req(&S, "POST", "/v1/connect_tokens", NULL, NULL, "{}",
	    2, &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
}

static void
a_token_opens_one_session_once(void **state)
{
	struct browser	 b, other;
	struct res	 r;
	char		 user[64], tok[64], path[128];

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, NULL, tok);
	open_link(&S, &b, tok);
	/* The same browser again: it goes on with its session. */
	snprintf(path, sizeof(path), "/connect?token=%s", tok);
	page_get(&S, &b, path, NULL, &r);
	assert_status(&r, 303);
	res_free(&r);
	/* Another browser with the same link: refused. */
	memset(&other, 0, sizeof(other));
	page_get(&S, &other, path, NULL, &r);
	assert_error(&r, 409, "CONNECT_TOKEN_USED");
	assert_null(strstr(r.headers, "Set-Cookie"));
	res_free(&r);
	page_get(&S, &other, "/connect?token=ct_doesnotexist", NULL, &r);
	assert_error(&r, 404, "CONNECT_TOKEN_UNKNOWN");
	res_free(&r);
	page_get(&S, &other, "/connect", NULL, &r);
	assert_error(&r, 401, "CONNECT_SESSION_INVALID");
	res_free(&r);
}

static void
an_old_token_has_expired(void **state)
{
	static const char *const env[] = {
	    "BANKFEED_CONNECT_TOKEN_TTL_SECONDS=1", NULL };
	struct srv	 t;
	struct browser	 b;
	struct res	 r;
	char		 user[64], tok[64], path[128];

	(void)state;
	assert_int_equal(srv_start(&t, env), 0);
	srv_new_user(&t, user);
	new_token(&t, user, NULL, tok);
	sleep(2);
	memset(&b, 0, sizeof(b));
	snprintf(path, sizeof(path), "/connect?token=%s", tok);
	page_get(&t, &b, path, "de-DE,de;q=0.9", &r);
	assert_error(&r, 410, "CONNECT_TOKEN_EXPIRED");
	assert_true(*b.cookie == '\0');
	res_free(&r);
	srv_cleanup(&t);
}

static void
pages_send_a_strict_policy(void **state)
{
	struct browser	 b;
	struct res	 r;
	char		 user[64], tok[64], *csp, *v;

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, "\"redirect_uri\":\"https://app.example.com/"
	    "linked?x=1\"", tok);
	open_link(&S, &b, tok);
	page_get(&S, &b, "/connect", NULL, &r);
	csp = res_header(&r, "Content-Security-Policy");
	assert_non_null(csp);
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_non_null(strstr(csp, "script-src 'self'"));
	assert_non_null(strstr(csp, "style-src 'self'"));
	assert_non_null(strstr(csp, "form-action 'self'"));
	assert_non_null(strstr(csp, "frame-ancestors https://app.example.com"));
	assert_null(strstr(csp, "unsafe-inline"));
	free(csp);
	v = res_header(&r, "X-Content-Type-Options");
	assert_string_equal(v, "nosniff");
	free(v);
	/* No inline script or style, nothing from another origin. */
	assert_null(strstr(r.body, "<script>"));
	assert_null(strstr(r.body, "style="));
	assert_null(strstr(r.body, "<style"));
	assert_null(strstr(r.body, "src=\"http"));
	assert_null(strstr(r.body, "href=\"//"));
	res_free(&r);
	/* Without a redirect_uri, no page may frame it; the token's language
	 * wins over the browser's. */
	new_token(&S, user, "\"language\":\"fr\"", tok);
	open_link(&S, &b, tok);
	page_get(&S, &b, "/connect", "de-DE,de;q=0.9", &r);
	contains(&r, "<html lang=\"fr\">");
	contains(&r, "Choisissez votre banque");
	csp = res_header(&r, "Content-Security-Policy");
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	free(csp);
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/assets/web.css", NULL, NULL, NULL, 0,
	    &r), 0);
	assert_status(&r, 200);
	assert_non_null(strstr(r.headers, "text/css"));
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/assets/connect.js", NULL, NULL, NULL,
	    0, &r), 0);
	assert_status(&r, 200);
	assert_non_null(strstr(r.headers, "text/javascript"));
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/assets/nope.js", NULL, NULL, NULL, 0,
	    &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

static void
forms_without_the_sessions_csrf_are_refused(void **state)
{
	struct browser	 a, b;
	struct res	 r;
	char		 user[64], tok[64];

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, NULL, tok);
	open_link(&S, &a, tok);
	new_token(&S, user, NULL, tok);
	open_link(&S, &b, tok);
	page_post(&S, &a, "", "action=bank&institution_id=sandbox", &r);
	assert_error(&r, 403, "CSRF_REJECTED");
	res_free(&r);
	/* Another session's token does not do either. */
	page_post(&S, &a, b.csrf, "action=bank&institution_id=sandbox", &r);
	assert_error(&r, 403, "CSRF_REJECTED");
	res_free(&r);
	/* No cookie: no session. */
	page_post(&S, NULL, a.csrf, "action=bank&institution_id=sandbox", &r);
	assert_error(&r, 401, "CONNECT_SESSION_INVALID");
	res_free(&r);
	/* Nothing changed: the page still asks for the bank. */
	page_get(&S, &a, "/connect", NULL, &r);
	contains(&r, "Choose your bank");
	res_free(&r);
}

/* Goes to the credentials of institution and signs in as username. */
static void
sign_in_at(struct srv *s, struct browser *b, const char *institution,
    const char *username, struct res *page)
{
	char	fields[256];

	snprintf(fields, sizeof(fields), "action=bank&institution_id=%s",
	    institution);
	step(s, b, fields, page);
	contains(page, "Allow access to your account data");
	contains(page, "180 days");
	res_free(page);
	step(s, b, "action=consent", page);
	contains(page, "Sign in to Sandbox Bank");
	contains(page, "<label for=\"password\">");
	res_free(page);
	snprintf(fields, sizeof(fields), "action=login&username=%s&password="
	    "pass_good", username);
	step(s, b, fields, page);
}

/* The same at the Sandbox Bank (in process: it answers at once). */
static void
sign_in(struct srv *s, struct browser *b, const char *username,
    struct res *page)
{
	sign_in_at(s, b, "sandbox", username, page);
}

/* The connection of a success page, as the API shows it. */
static void
connected(struct srv *s, struct res *page, const char *redirect)
{
	struct res	 r;
	char		 id[64], path[128];
	const char	*p = strstr(page->body, "data-connection-id=\"");

	assert_non_null(p);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(p + 20, "\""), p + 20);
	if (redirect != NULL) {
		char want[256];

		snprintf(want, sizeof(want), "href=\"%s", redirect);
		contains(page, want);
		contains(page, id);
	}
	snprintf(path, sizeof(path), "/v1/connections/%s", id);
	assert_int_equal(get(s, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "authorized");
	res_free(&r);
}

static void
every_challenge_kind_leads_to_the_app(void **state)
{
	struct browser	 b;
	struct res	 p;
	char		 user[64], tok[64];

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, "\"redirect_uri\":\"http://localhost:9/done\"", tok);
	open_link(&S, &b, tok);
	sign_in(&S, &b, "user_mfa_choice", &p);
	contains(&p, "<fieldset>");
	contains(&p, "name=\"a_tan_method\" value=\"push\"");
	res_free(&p);
	step(&S, &b, "action=answer&a_tan_method=sms", &p);
	contains(&p, "autocomplete=\"one-time-code\"");
	res_free(&p);
	step(&S, &b, "action=answer&a_tan=123456", &p);
	contains(&p, "Your account is connected");
	connected(&S, &p, "http://localhost:9/done?connection_id=con_");
	res_free(&p);

	new_token(&S, user, NULL, tok);
	open_link(&S, &b, tok);
	sign_in(&S, &b, "user_mfa_questions", &p);
	contains(&p, "name=\"a_sq_sky_colour\"");
	res_free(&p);
	/* One left out: said, and the others can be sent again. */
	step(&S, &b, "action=answer&a_sq_car_colour=blue", &p);
	contains(&p, "data-error-name=\"SECURITYRESPONSES_INCOMPLETE\"");
	contains(&p, "name=\"a_sq_sky_colour\"");
	res_free(&p);
	step(&S, &b, "action=answer&a_sq_car_colour=blue&a_sq_favourite_colour="
	    "blue&a_sq_sky_colour=blue", &p);
	contains(&p, "You can close this window now.");
	connected(&S, &p, NULL);
	res_free(&p);
}

static void
errors_read_in_plain_words(void **state)
{
	struct browser	 b;
	struct res	 p;
	char		 user[64], tok[64];

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, NULL, tok);
	open_link(&S, &b, tok);
	step(&S, &b, "action=bank&institution_id=sandbox", &p);
	res_free(&p);
	step(&S, &b, "action=consent", &p);
	res_free(&p);
	step(&S, &b, "action=login&username=user_good&password=wrong", &p);
	contains(&p, "data-error-name=\"INVALID_PASSWORD\"");
	contains(&p, "The username or password is not right.");
	contains(&p, "<label for=\"username\">");
	res_free(&p);
	step(&S, &b, "action=login&username=user_mfa_tan&password=pass_good",
	    &p);
	res_free(&p);
	step(&S, &b, "action=answer&a_tan=000000", &p);
	contains(&p, "data-error-name=\"INVALID_TAN\"");
	contains(&p, "Sign in again to get a new code.");
	res_free(&p);
	step(&S, &b, "action=login&username=user_bank_maintenance&password="
	    "pass_good", &p);
	contains(&p, "data-error-name=\"BANK_MAINTENANCE\"");
	contains(&p, "This is not your fault");
	contains(&p, "<q>");
	res_free(&p);
	/* The languages: the browser's, and the switch on the page. */
	page_get(&S, &b, "/connect?lang=nl", NULL, &p);
	contains(&p, "<html lang=\"nl\">");
	contains(&p, "Dat is niet gelukt");
	res_free(&p);
	page_get(&S, &b, "/connect?lang=fr", NULL, &p);
	contains(&p, "Identifiant");
	res_free(&p);
}

static void
clients_see_only_their_own(void **state)
{
	struct srv	 other;
	struct res	 r;
	char		 user[64], body[128];

	(void)state;
	srv_new_user(&S, user);
	assert_int_equal(srv_new_client(&S, &other), 0);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\"}", user);
	assert_int_equal(req(&S, "POST", "/v1/connect_tokens", other.token, NULL,
	    body, strlen(body), &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

/*
 * A bank reached over XS2A answers later (sandbox-bank, 300 ms an answer):
 * the API's handlers wait for it without an HTTP thread, and the page
 * still answers each form with its redirect and shows the next step, an
 * embedded TAN and a confirmation in the bank's app alike.
 */
static void
a_bank_that_answers_later_leads_to_the_app_too(void **state)
{
	struct browser	 b;
	struct res	 p;
	char		 user[64], tok[64];
	int		 i;

	(void)state;
	srv_new_user(&S, user);
	new_token(&S, user, "\"redirect_uri\":\"http://localhost:9/done\"", tok);
	open_link(&S, &b, tok);
	sign_in_at(&S, &b, "sandbox_xs2a", "user_mfa_tan", &p);
	contains(&p, "autocomplete=\"one-time-code\"");
	res_free(&p);
	step(&S, &b, "action=answer&a_tan=123456", &p);
	contains(&p, "Your account is connected");
	connected(&S, &p, "http://localhost:9/done?connection_id=con_");
	res_free(&p);

	/* Decoupled: the page waits; asking again finds it confirmed. */
	new_token(&S, user, NULL, tok);
	open_link(&S, &b, tok);
	sign_in_at(&S, &b, "sandbox_xs2a", "user_sca_decoupled", &p);
	for (i = 0; i < 40 && strstr(p.body, "Your account is connected") ==
	    NULL; i++) {
		res_free(&p);
		usleep(250 * 1000);
		step(&S, &b, "action=check", &p);
	}
	contains(&p, "Your account is connected");
	connected(&S, &p, NULL);
	res_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_are_checked_field_by_field),
		cmocka_unit_test(a_token_opens_one_session_once),
		cmocka_unit_test(an_old_token_has_expired),
		cmocka_unit_test(pages_send_a_strict_policy),
		cmocka_unit_test(forms_without_the_sessions_csrf_are_refused),
		cmocka_unit_test(every_challenge_kind_leads_to_the_app),
		cmocka_unit_test(a_bank_that_answers_later_leads_to_the_app_too),
		cmocka_unit_test(errors_read_in_plain_words),
		cmocka_unit_test(clients_see_only_their_own),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
