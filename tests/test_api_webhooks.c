/*
 * API tests of PUT/GET/DELETE /v1/webhook: the real server on a loopback
 * port with a fresh SQLite file, driven over HTTP as a client would.  The
 * signing secret must never come back: not in a response, not in the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define SECRET		"whsec_api_3f9a1c7e5b2d8f4a6c0e"
#define SECRET2		"whsec_api_other_client_77aa99bb"
#define URL1		"https://app.example.com/hooks/bankfeed"
#define URL2		"http://127.0.0.1:9/hooks?from=bankfeed"

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

/* Every response of this file goes through here: no secret in it. */
static void
no_secret(struct res *r)
{
	assert_null(r->body != NULL ? strstr(r->body, SECRET) : NULL);
	assert_null(r->body != NULL ? strstr(r->body, SECRET2) : NULL);
	assert_null(r->headers != NULL ? strstr(r->headers, SECRET) : NULL);
	assert_null(r->body != NULL ? strstr(r->body, "secret\":\"") : NULL);
}

static void
put_webhook(struct srv *s, const char *token, const char *body, struct res *r)
{
	assert_int_equal(req(s, "PUT", "/v1/webhook", token, NULL, body,
	    strlen(body), r), 0);
	no_secret(r);
}

static void
get_webhook(struct srv *s, const char *token, struct res *r)
{
	assert_int_equal(req(s, "GET", "/v1/webhook", token, NULL, NULL, 0, r), 0);
	no_secret(r);
}

static void
delete_webhook(struct srv *s, const char *token, struct res *r)
{
	assert_int_equal(req(s, "DELETE", "/v1/webhook", token, NULL, NULL, 0,
	    r), 0);
	no_secret(r);
}

static void
set_get_replace_delete(void **state)
{
	struct res	 r;
	char		 created[64];

	(void)state;
	get_webhook(&S, S.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);

	put_webhook(&S, S.token, "{\"url\":\"" URL1 "\",\"secret\":\"" SECRET
	    "\"}", &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL1);
	assert_non_null(jstr(r.json, "created_at"));
	assert_int_equal(json_object_size(r.json), 2);	/* url, created_at */
	snprintf(created, sizeof(created), "%s", jstr(r.json, "created_at"));
	res_free(&r);

	get_webhook(&S, S.token, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL1);
	assert_string_equal(jstr(r.json, "created_at"), created);
	assert_int_equal(json_object_size(r.json), 2);
	res_free(&r);

	/* PUT again replaces the URL; the webhook keeps its creation time. */
	put_webhook(&S, S.token, "{\"url\":\"" URL2 "\",\"secret\":\"" SECRET
	    "\"}", &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL2);
	assert_string_equal(jstr(r.json, "created_at"), created);
	res_free(&r);
	get_webhook(&S, S.token, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL2);
	res_free(&r);

	delete_webhook(&S, S.token, &r);
	assert_status(&r, 204);
	assert_int_equal(r.len, 0);
	res_free(&r);
	get_webhook(&S, S.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	delete_webhook(&S, S.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

/* Every problem of a body at once, each under its field (code 1000). */
static void
bad_bodies_are_refused_field_by_field(void **state)
{
	static const struct {
		const char	*body;
		const char	*fields[3];
	} cases[] = {
		{ "{\"url\":\"ftp://example.com/x\",\"secret\":\"short\"}",
		    { "url", "secret", NULL } },
		{ "{\"url\":\"example.com/hooks\",\"secret\":\"" SECRET "\"}",
		    { "url", NULL } },
		{ "{\"url\":\"http://\",\"secret\":\"" SECRET "\"}",
		    { "url", NULL } },
		{ "{\"url\":\"file:///etc/passwd\",\"secret\":\"" SECRET "\"}",
		    { "url", NULL } },
		{ "{\"url\":5,\"secret\":true}", { "url", "secret", NULL } },
		{ "{\"url\":null,\"secret\":[\"" SECRET "\"]}",
		    { "url", "secret", NULL } },
		{ "{}", { "url", "secret", NULL } },
		{ "{\"url\":\"" URL1 "\",\"secret\":\"" SECRET "\","
		    "\"events\":[\"task.completed\"]}", { "events", NULL } },
		{ "{\"url\":\"" URL1 "\",\"secret\":\"0123456789abcde\"}",
		    { "secret", NULL } },
	};
	struct res	 r;
	char		 body[1024], longsecret[258];
	size_t		 i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_webhook(&S, S.token, cases[i].body, &r);
		if (r.status != 400)
			fail_msg("case %zu: status %ld, body %s", i, r.status,
			    r.body);
		assert_int_equal(jint(r.json, "error.code"), 1000);
		for (k = 0; cases[i].fields[k] != NULL; k++)
			if (!json_is_array(jget(jget(r.json, "error.data"),
			    cases[i].fields[k])))
				fail_msg("case %zu: no message for %s in %s", i,
				    cases[i].fields[k], r.body);
		assert_int_equal(json_object_size(jget(r.json, "error.data")), k);
		res_free(&r);
	}
	/* 256 characters are fine, 257 are not. */
	memset(longsecret, 'k', 257);
	longsecret[257] = '\0';
	snprintf(body, sizeof(body), "{\"url\":\"" URL1 "\",\"secret\":\"%s\"}",
	    longsecret);
	put_webhook(&S, S.token, body, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.secret"));
	res_free(&r);
	longsecret[256] = '\0';
	snprintf(body, sizeof(body), "{\"url\":\"" URL1 "\",\"secret\":\"%s\"}",
	    longsecret);
	put_webhook(&S, S.token, body, &r);
	assert_status(&r, 200);
	res_free(&r);
	delete_webhook(&S, S.token, &r);
	assert_status(&r, 204);
	res_free(&r);

	/* Not JSON at all. */
	put_webhook(&S, S.token, "{\"url\":", &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	{
		const char	*form[] = {
		    "Content-Type: application/x-www-form-urlencoded", NULL };
		const char	*b = "url=" URL1 "&secret=" SECRET;

		assert_int_equal(req(&S, "PUT", "/v1/webhook", S.token, form, b,
		    strlen(b), &r), 0);
		no_secret(&r);
		assert_status(&r, 415);
		res_free(&r);
	}
	/* None of that set anything. */
	get_webhook(&S, S.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

static void
a_token_is_needed(void **state)
{
	struct res	r;

	(void)state;
	put_webhook(&S, NULL, "{\"url\":\"" URL1 "\",\"secret\":\"" SECRET "\"}",
	    &r);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	get_webhook(&S, NULL, &r);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	delete_webhook(&S, "bft_notarealtoken", &r);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
}

/* A client sees and changes only its own webhook. */
static void
clients_are_isolated(void **state)
{
	struct srv	 b;
	struct res	 r;

	(void)state;
	assert_int_equal(srv_new_client(&S, &b), 0);
	put_webhook(&S, S.token, "{\"url\":\"" URL1 "\",\"secret\":\"" SECRET
	    "\"}", &r);
	assert_status(&r, 200);
	res_free(&r);

	get_webhook(&S, b.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	delete_webhook(&S, b.token, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	put_webhook(&S, b.token, "{\"url\":\"" URL2 "\",\"secret\":\"" SECRET2
	    "\"}", &r);
	assert_status(&r, 200);
	res_free(&r);

	get_webhook(&S, S.token, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL1);
	res_free(&r);
	get_webhook(&S, b.token, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "url"), URL2);
	res_free(&r);

	delete_webhook(&S, b.token, &r);
	assert_status(&r, 204);
	res_free(&r);
	get_webhook(&S, S.token, &r);
	assert_status(&r, 200);		/* the other one's is still there */
	res_free(&r);
	delete_webhook(&S, S.token, &r);
	assert_status(&r, 204);
	res_free(&r);
}

static void
other_methods_are_not_allowed(void **state)
{
	struct res	 r;
	char		*allow;

	(void)state;
	assert_int_equal(req(&S, "POST", "/v1/webhook", S.token, NULL, "{}", 2,
	    &r), 0);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	allow = res_header(&r, "Allow");
	assert_non_null(allow);
	assert_non_null(strstr(allow, "PUT"));
	assert_non_null(strstr(allow, "GET"));
	assert_non_null(strstr(allow, "DELETE"));
	free(allow);
	res_free(&r);
}

/* Last: after all of the above, the server's log never held a secret. */
static void
no_secret_in_the_server_log(void **state)
{
	(void)state;
	assert_true(log_contains(&S, "event=webhook_set"));
	assert_true(log_contains(&S, "msg=\"webhook delivery started\""));
	assert_false(log_contains(&S, SECRET));
	assert_false(log_contains(&S, SECRET2));
	assert_false(log_contains(&S, "whsec_"));
	assert_false(log_contains(&S, "kkkkkkkkkkkkkkkk"));
}

/*
 * BANKFEED_WEBHOOK_PRIVATE=0: URLs naming this host or a non-public
 * address are refused under "url"; public names and addresses are not.
 */
static void
private_addresses_refused_when_configured(void **state)
{
	const char	*env[] = { "BANKFEED_WEBHOOK_PRIVATE=0", NULL };
	static const char *const refused[] = {
		"http://127.0.0.1:9/h", "http://localhost/h",
		"https://api.localhost/h", "http://10.0.0.7/h",
		"http://172.20.1.1/h", "http://192.168.1.10:8080/h",
		"http://169.254.169.254/latest/meta-data", "http://[::1]:9/h",
		"http://[fd00::1]/h", "http://[fe80::1]/h",
		"http://[::ffff:127.0.0.1]/h", "http://0.0.0.0/h",
		"http://100.64.0.1/h", NULL,
	};
	static const char *const allowed[] = {
		"https://app.example.com/hooks", "http://203.0.113.5/h",
		"http://[2001:db8::1]/h", "http://8.8.8.8/h", NULL,
	};
	struct srv	 t;
	struct res	 r;
	char		 body[256];
	size_t		 i;

	(void)state;
	assert_int_equal(srv_start(&t, env), 0);
	for (i = 0; refused[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\""
		    SECRET "\"}", refused[i]);
		put_webhook(&t, t.token, body, &r);
		if (r.status != 400)
			fail_msg("%s: status %ld", refused[i], r.status);
		assert_error(&r, 400, "INVALID_REQUEST");
		assert_non_null(jget(jget(r.json, "error.data"), "url"));
		res_free(&r);
	}
	for (i = 0; allowed[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\""
		    SECRET "\"}", allowed[i]);
		put_webhook(&t, t.token, body, &r);
		if (r.status != 200)
			fail_msg("%s: status %ld", allowed[i], r.status);
		res_free(&r);
	}
	srv_cleanup(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_get_replace_delete),
		cmocka_unit_test(private_addresses_refused_when_configured),
		cmocka_unit_test(bad_bodies_are_refused_field_by_field),
		cmocka_unit_test(a_token_is_needed),
		cmocka_unit_test(clients_are_isolated),
		cmocka_unit_test(other_methods_are_not_allowed),
		cmocka_unit_test(no_secret_in_the_server_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
