/*
 * API tests of the foundation: the real server on a loopback port with a
 * fresh SQLite file, driven over HTTP as a client would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "harness.h"

static struct srv S;

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
health_needs_no_token(void **state)
{
	struct res	r;

	(void)state;
	assert_int_equal(req(&S, "GET", "/health", NULL, NULL, NULL, 0, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	assert_non_null(jstr(r.json, "version"));
	res_free(&r);
}

static void
errors_catalog_is_public_and_complete(void **state)
{
	struct res	 r;
	json_t		*e;
	size_t		 i;
	int		 saw_1000 = 0, saw_sandbox = 0;

	(void)state;
	assert_int_equal(req(&S, "GET", "/v1/errors", NULL, NULL, NULL, 0, &r), 0);
	assert_status(&r, 200);
	assert_true(json_array_size(jget(r.json, "data")) > 60);
	json_array_foreach(jget(r.json, "data"), i, e) {
		assert_non_null(jstr(e, "name"));
		assert_non_null(jstr(e, "group"));
		assert_non_null(jstr(e, "description"));
		assert_non_null(jstr(e, "reproduce"));
		assert_true(json_is_array(jget(e, "aliases")));
		assert_true(json_is_boolean(jget(e, "retryable")));
		assert_true(jint(e, "http_status") >= 400);
		if (jint(e, "code") == 1000)
			saw_1000 = 1;
		if (strcmp(jstr(e, "name"), "ONLINE_ACCESS_BLOCKED") == 0) {
			assert_non_null(strstr(jstr(e, "reproduce"),
			    "user_online_access_blocked"));
			saw_sandbox = 1;
		}
	}
	assert_true(saw_1000 && saw_sandbox);
	res_free(&r);
}

static void
token_by_basic_form_and_json(void **state)
{
	struct res	 r;
	char		 body[512], basic[512], hdr[600];
	const char	*form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	const char	*json[] = { "Content-Type: application/json", NULL };
	FILE		*p;

	(void)state;
	/* HTTP Basic, as curl -u sends it */
	snprintf(body, sizeof(body), "printf '%%s' '%s:%s' | base64 -w0",
	    S.client_id, S.client_secret);
	p = popen(body, "r");
	assert_non_null(p);
	assert_non_null(fgets(basic, sizeof(basic), p));
	pclose(p);
	snprintf(hdr, sizeof(hdr), "Authorization: Basic %s", basic);
	{
		const char *h[] = { hdr, form[0], NULL };

		assert_int_equal(req(&S, "POST", "/oauth/token", NULL, h,
		    "grant_type=client_credentials", 29, &r), 0);
	}
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "token_type"), "Bearer");
	assert_int_equal(jint(r.json, "expires_in"), 3600);
	assert_non_null(jstr(r.json, "access_token"));
	res_free(&r);

	snprintf(body, sizeof(body), "{\"grant_type\":\"client_credentials\","
	    "\"client_id\":\"%s\",\"client_secret\":\"%s\"}", S.client_id,
	    S.client_secret);
	assert_int_equal(req(&S, "POST", "/oauth/token", NULL, json, body,
	    strlen(body), &r), 0);
	assert_status(&r, 200);
	res_free(&r);
}

static void
token_refused_for_wrong_secret_or_grant(void **state)
{
	struct res	 r;
	char		 body[512];
	const char	*form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

	(void)state;
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s"
	    "&client_secret=bfs_wrong", S.client_id);
	assert_int_equal(req(&S, "POST", "/oauth/token", NULL, form, body,
	    strlen(body), &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	assert_int_equal(jint(r.json, "error.code"), 1004);
	res_free(&r);

	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id="
	    "cli_nope&client_secret=%s", S.client_secret);
	assert_int_equal(req(&S, "POST", "/oauth/token", NULL, form, body,
	    strlen(body), &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);

	snprintf(body, sizeof(body), "grant_type=password&client_id=%s"
	    "&client_secret=%s", S.client_id, S.client_secret);
	assert_int_equal(req(&S, "POST", "/oauth/token", NULL, form, body,
	    strlen(body), &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.grant_type"));
	res_free(&r);

	assert_int_equal(req(&S, "POST", "/oauth/token", NULL, form,
	    "grant_type=client_credentials", 29, &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
}

static void
v1_needs_a_valid_bearer_token(void **state)
{
	struct res	 r;
	const char	*basic[] = { "Authorization: Basic Zm9vOmJhcg==", NULL };

	(void)state;
	assert_int_equal(req(&S, "GET", "/v1/users", NULL, NULL, NULL, 0, &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	assert_int_equal(jint(r.json, "error.code"), 1004);
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/v1/users", "bft_notarealtoken", NULL,
	    NULL, 0, &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/v1/institutions", NULL, basic, NULL, 0,
	    &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
}

static void
expired_tokens_are_refused(void **state)
{
	struct srv	 t;
	const char	*env[] = { "BANKFEED_TOKEN_TTL_SECONDS=1", NULL };
	struct res	 r;

	(void)state;
	assert_int_equal(srv_start(&t, env), 0);
	assert_int_equal(get(&t, "/v1/users", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	sleep(2);
	assert_int_equal(get(&t, "/v1/users", &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	srv_cleanup(&t);
}

/* A client deleted on the CLI while the server runs loses access at once. */
static void
deleted_client_loses_access_within_a_second(void **state)
{
	struct srv	 c;
	struct res	 r;
	char		 cmd[1024];

	(void)state;
	assert_int_equal(srv_new_client(&S, &c), 0);
	assert_int_equal(get(&c, "/v1/users", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	snprintf(cmd, sizeof(cmd), "%s clients delete %s --data-dir %s "
	    ">/dev/null 2>&1", BANKFEED_BIN, c.client_id, S.dir);
	srv_use_db(&S);
	assert_int_equal(system(cmd), 0);
	usleep(1100000);
	assert_int_equal(get(&c, "/v1/users", &r), 0);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
}

static void
content_negotiation(void **state)
{
	struct res	 r;
	char		*ct;
	const char	*ok[] = { "Accept: */*", "Accept: application/json",
	    "Accept: application/vnd.bankfeed.v1+json",
	    "Accept: text/html, application/json;q=0.9", NULL };
	const char	*v9[] = { "Accept: application/vnd.bankfeed.v9+json", NULL };
	const char	*xml[] = { "Accept: text/xml", NULL };
	size_t		 i;

	(void)state;
	for (i = 0; ok[i] != NULL; i++) {
		const char *h[] = { ok[i], NULL };

		assert_int_equal(req(&S, "GET", "/v1/users", S.token, h, NULL, 0,
		    &r), 0);
		assert_status(&r, 200);
		ct = res_header(&r, "Content-Type");
		assert_non_null(ct);
		if (strstr(ok[i], "vnd") != NULL)
			assert_string_equal(ct, "application/vnd.bankfeed.v1+json");
		free(ct);
		res_free(&r);
	}
	assert_int_equal(req(&S, "GET", "/v1/users", S.token, v9, NULL, 0, &r), 0);
	assert_error(&r, 404, "VERSION_NOT_FOUND");
	assert_string_equal(jstr(r.json, "error.description"),
	    "Specific version not found. Supported versions are 'v1'");
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/v1/users", S.token, xml, NULL, 0, &r), 0);
	assert_error(&r, 406, "NOT_ACCEPTABLE");
	ct = res_header(&r, "Content-Type");
	assert_string_equal(ct, "application/json");
	free(ct);
	res_free(&r);
}

static void
unknown_paths_and_methods(void **state)
{
	struct res	 r;
	char		*allow;

	(void)state;
	assert_int_equal(get(&S, "/v1/nothing-here", &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	assert_int_equal(jint(r.json, "error.code"), 1002);
	res_free(&r);
	assert_int_equal(get(&S, "/", &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	assert_int_equal(req(&S, "PATCH", "/v1/users", S.token, NULL, NULL, 0,
	    &r), 0);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	allow = res_header(&r, "Allow");
	assert_non_null(allow);
	assert_non_null(strstr(allow, "GET"));
	assert_non_null(strstr(allow, "POST"));
	free(allow);
	res_free(&r);
	assert_int_equal(req(&S, "PUT", "/health", NULL, NULL, "{}", 2, &r), 0);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	res_free(&r);
}

static void
request_ids_are_echoed_or_made(void **state)
{
	struct res	 r;
	const char	*h[] = { "X-Request-Id: my-trace-123", NULL };
	char		*id;

	(void)state;
	assert_int_equal(req(&S, "GET", "/health", NULL, h, NULL, 0, &r), 0);
	id = res_header(&r, "X-Request-Id");
	assert_string_equal(id, "my-trace-123");
	free(id);
	res_free(&r);
	assert_int_equal(get(&S, "/v1/nope", &r), 0);
	id = res_header(&r, "X-Request-Id");
	assert_non_null(id);
	assert_string_equal(id, jstr(r.json, "error.request_id"));
	free(id);
	res_free(&r);
}

static void
users_create_get_list_delete(void **state)
{
	struct res	 r;
	char		 id[64], path[128];

	(void)state;
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":\"cust-1\"}",
	    &r), 0);
	assert_status(&r, 201);
	assert_true(strncmp(jstr(r.json, "id"), "usr_", 4) == 0);
	assert_string_equal(jstr(r.json, "external_ref"), "cust-1");
	assert_non_null(jstr(r.json, "created_at"));
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	res_free(&r);

	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":\"cust-1\"}",
	    &r), 0);
	assert_error(&r, 409, "ENTRY_ALREADY_EXISTS");
	assert_int_equal(jint(r.json, "error.code"), 1001);
	res_free(&r);

	snprintf(path, sizeof(path), "/v1/users/%s", id);
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "id"), id);
	res_free(&r);

	assert_int_equal(get(&S, "/v1/users?external_ref=cust-1", &r), 0);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	assert_true(json_is_null(jget(r.json, "next_cursor")));
	res_free(&r);

	assert_int_equal(del(&S, path, &r), 0);
	assert_status(&r, 204);
	res_free(&r);
	assert_int_equal(get(&S, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	assert_int_equal(del(&S, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);

	/* With no body at all: a user without external_ref. */
	assert_int_equal(post(&S, "/v1/users", NULL, &r), 0);
	assert_status(&r, 201);
	assert_true(json_is_null(jget(r.json, "external_ref")));
	res_free(&r);
}

static void
users_list_pages_without_skips_or_repeats(void **state)
{
	struct srv	 t;
	struct res	 r;
	char		 path[512], seen[40][64];
	int		 nseen = 0, i, j, pages = 0;
	const char	*cur = NULL;
	char		 cursor[256] = "";

	(void)state;
	assert_int_equal(srv_new_client(&S, &t), 0);
	for (i = 0; i < 7; i++) {
		assert_int_equal(post(&t, "/v1/users", "{}", &r), 0);
		assert_status(&r, 201);
		res_free(&r);
	}
	do {
		if (cursor[0] != '\0')
			snprintf(path, sizeof(path), "/v1/users?limit=3&cursor=%s",
			    cursor);
		else
			snprintf(path, sizeof(path), "/v1/users?limit=3");
		assert_int_equal(get(&t, path, &r), 0);
		assert_status(&r, 200);
		for (i = 0; i < (int)json_array_size(jget(r.json, "data")); i++) {
			const char *id = json_string_value(json_object_get(
			    json_array_get(jget(r.json, "data"), (size_t)i), "id"));

			for (j = 0; j < nseen; j++)
				assert_string_not_equal(seen[j], id);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", id);
		}
		/* a user made while paging shows up at most once too */
		if (pages == 0) {
			struct res r2;

			assert_int_equal(post(&t, "/v1/users", "{}", &r2), 0);
			res_free(&r2);
		}
		cur = jstr(r.json, "next_cursor");
		snprintf(cursor, sizeof(cursor), "%s", cur ? cur : "");
		res_free(&r);
		pages++;
	} while (cursor[0] != '\0' && pages < 10);
	assert_true(nseen >= 7 && nseen <= 8);

	assert_int_equal(get(&t, "/v1/users?limit=0", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.limit"));
	res_free(&r);
	assert_int_equal(get(&t, "/v1/users?limit=501", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	assert_int_equal(get(&t, "/v1/users?cursor=garbage", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.cursor"));
	res_free(&r);
}

static void
another_clients_user_is_not_found(void **state)
{
	struct srv	 other;
	struct res	 r;
	char		 path[256];

	(void)state;
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":\"mine\"}", &r), 0);
	assert_status(&r, 201);
	snprintf(path, sizeof(path), "/v1/users/%s", jstr(r.json, "id"));
	res_free(&r);
	assert_int_equal(srv_new_client(&S, &other), 0);
	assert_int_equal(get(&other, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	assert_int_equal(del(&other, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	/* the same external_ref is fine for another client */
	assert_int_equal(post(&other, "/v1/users", "{\"external_ref\":\"mine\"}",
	    &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	assert_int_equal(get(&other, "/v1/users?external_ref=mine", &r), 0);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	res_free(&r);
	/* and the owner still sees its own */
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	res_free(&r);
}

/* Counts the client's users: stored bytes must not change on bad input. */
static int
count_users(void)
{
	struct res	r;
	int		n;

	assert_int_equal(get(&S, "/v1/users?limit=500", &r), 0);
	n = (int)json_array_size(jget(r.json, "data"));
	res_free(&r);
	return n;
}

static void
bad_bodies_get_clear_errors_and_store_nothing(void **state)
{
	struct res	 r;
	int		 before = count_users();
	const char	*plain[] = { "Content-Type: text/plain", NULL };
	static const char garbage[] = "\x00\xff\xfe\x01binary\x80\x81";
	char		*big, *deep;
	size_t		 i;

	(void)state;
	/* wrong types and unknown fields: all problems at once */
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":5,\"extra\":true}",
	    &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_int_equal(jint(r.json, "error.code"), 1000);
	assert_string_equal(jstr(r.json, "error.data.external_ref.0"),
	    "Not a valid string: got a number.");
	assert_string_equal(jstr(r.json, "error.data.extra.0"), "Unknown field.");
	assert_true(json_is_null(jget(r.json, "error.message")));
	res_free(&r);
	/* malformed JSON */
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\": ", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(strstr(jstr(r.json, "error.data.body.0"), "Malformed JSON"));
	res_free(&r);
	/* not an object */
	assert_int_equal(post(&S, "/v1/users", "[1,2]", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	/* invalid UTF-8 inside a string */
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":\"a\xc3\x28\"}",
	    &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	/* binary garbage */
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, NULL, garbage,
	    sizeof(garbage) - 1, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	/* empty and too long strings */
	assert_int_equal(post(&S, "/v1/users", "{\"external_ref\":\"\"}", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	/* a body that is not JSON */
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, plain, "hello", 5,
	    &r), 0);
	assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	res_free(&r);
	/* 10 MB */
	big = malloc(10u << 20);
	memset(big, 'a', 10u << 20);
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, NULL, big,
	    10u << 20, &r), 0);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	res_free(&r);
	free(big);
	/* deep nesting */
	deep = malloc(200001);
	for (i = 0; i < 100000; i++)
		deep[i] = '[';
	for (; i < 200000; i++)
		deep[i] = ']';
	deep[i] = '\0';
	assert_int_equal(post(&S, "/v1/users", deep, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	free(deep);
	assert_int_equal(count_users(), before);
	/* and the server still answers */
	assert_int_equal(req(&S, "GET", "/health", NULL, NULL, NULL, 0, &r), 0);
	assert_status(&r, 200);
	res_free(&r);
}

static void
idempotency_key_replays_and_refuses_reuse(void **state)
{
	struct res	 a, b;
	const char	*k1[] = { "Idempotency-Key: key-one", NULL };
	const char	*body = "{\"external_ref\":\"idem-1\"}";
	char		*replayed;

	(void)state;
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, k1, body,
	    strlen(body), &a), 0);
	assert_status(&a, 201);
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, k1, body,
	    strlen(body), &b), 0);
	assert_status(&b, 201);
	assert_string_equal(jstr(a.json, "id"), jstr(b.json, "id"));
	replayed = res_header(&b, "Idempotent-Replayed");
	assert_string_equal(replayed, "true");
	free(replayed);
	res_free(&b);
	assert_int_equal(req(&S, "POST", "/v1/users", S.token, k1, "{}", 2, &b), 0);
	assert_error(&b, 422, "IDEMPOTENCY_KEY_REUSED");
	res_free(&b);
	res_free(&a);
	assert_int_equal(get(&S, "/v1/users?external_ref=idem-1", &a), 0);
	assert_int_equal(json_array_size(jget(a.json, "data")), 1);
	res_free(&a);
}

static void
rate_limit_answers_429_with_retry_after(void **state)
{
	struct srv	 t;
	const char	*env[] = { "BANKFEED_RATE_LIMIT=1", "BANKFEED_RATE_BURST=3",
	    NULL };
	struct res	 r;
	char		*ra;
	int		 i;

	(void)state;
	assert_int_equal(srv_start(&t, env), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(get(&t, "/v1/users", &r), 0);
		assert_status(&r, 200);
		res_free(&r);
	}
	assert_int_equal(get(&t, "/v1/users", &r), 0);
	assert_error(&r, 429, "TOO_MANY_REQUESTS");
	ra = res_header(&r, "Retry-After");
	assert_non_null(ra);
	assert_true(atoi(ra) >= 1 && atoi(ra) <= 1);
	free(ra);
	res_free(&r);
	sleep(1);
	assert_int_equal(get(&t, "/v1/users", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	srv_cleanup(&t);
}

static void
institutions_list_and_filter(void **state)
{
	struct res	r;

	(void)state;
	assert_int_equal(get(&S, "/v1/institutions", &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "data.0.id"), "sandbox");
	assert_string_equal(jstr(r.json, "data.0.status"), "up");
	res_free(&r);
	assert_int_equal(get(&S, "/v1/institutions?country=de&q=psu", &r), 0);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	assert_string_equal(jstr(r.json, "data.0.id"), "sandbox_psu_ip");
	assert_true(json_is_true(jget(r.json, "data.0.requires_psu_ip")));
	res_free(&r);
	assert_int_equal(get(&S, "/v1/institutions?country=FR", &r), 0);
	assert_int_equal(json_array_size(jget(r.json, "data")), 0);
	res_free(&r);
	assert_int_equal(get(&S, "/v1/institutions?country=Germany", &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	assert_int_equal(get(&S, "/v1/institutions/sandbox", &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "bic"), "SNDBDEB1XXX");
	res_free(&r);
	assert_int_equal(get(&S, "/v1/institutions/nope", &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

static void
access_log_has_one_line_per_request_and_no_secrets(void **state)
{
	struct res	r;
	const char	*h[] = { "X-Request-Id: log-line-check", NULL };

	(void)state;
	assert_int_equal(req(&S, "GET", "/v1/users?external_ref=zzz", S.token, h,
	    NULL, 0, &r), 0);
	res_free(&r);
	/* The line is written once the response is out: wait for it. */
	assert_true(log_wait(&S, "method=GET path=\"/v1/users\" status=200 "
	    "duration_ms=", 5000));
	assert_true(log_wait(&S, "request_id=log-line-check", 5000));
	assert_false(log_contains(&S, S.token));
	assert_false(log_contains(&S, S.client_secret));
	assert_false(log_contains(&S, "external_ref=zzz"));
}

/* Runs the binary with args; its exit status, and stdout into out. */
static int
run_bin(const char *args, char *out, size_t n)
{
	char	 cmd[1024];
	FILE	*p;
	size_t	 got;
	int	 st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", BANKFEED_BIN, args);
	assert_non_null(p = popen(cmd, "r"));
	got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Issue 11, item 9e: --help and -h print the help and succeed, as help does. */
static void
help_flags_print_the_help(void **state)
{
	static const char *const asks[] = { "help", "--help", "-h", "" };
	static char	 out[65536], first[65536];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		if (run_bin(asks[i], out, sizeof(out)) != 0)
			fail_msg("bankfeed %s: exit status not 0", asks[i]);
		assert_non_null(strstr(out, "usage: bankfeed COMMAND"));
		assert_non_null(strstr(out, "--task-timeout"));
		if (i == 0)
			memcpy(first, out, sizeof(first));
		else
			assert_string_equal(out, first);
	}
	assert_int_equal(run_bin("--nope", out, sizeof(out)), 2);
	assert_int_equal(run_bin("nope", out, sizeof(out)), 2);
}

static void
sigterm_stops_cleanly(void **state)
{
	struct srv	t;
	struct res	r;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	srv_stop(&t);
	assert_true(log_contains(&t, "msg=\"stopped\""));
	assert_int_not_equal(req(&t, "GET", "/health", NULL, NULL, NULL, 0, &r), 0);
	srv_cleanup(&t);
}

static int
connect_loopback(int port)
{
	struct sockaddr_in	sa;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * SIGTERM while a request is under way: that request is still answered
 * in full, and one that arrives during the grace period gets 503
 * SERVICE_UNAVAILABLE (30006) with Retry-After and a closed connection,
 * never a reset or an HTML page.
 */
static void
stopping_server_finishes_requests_and_turns_new_ones_away(void **state)
{
	struct srv	 t;
	struct res	 r;
	const char	*body = "{\"external_ref\":\"stop-1\"}";
	char		 head[512], answer[4096] = "";
	char		*v;
	size_t		 half = 8, got = 0;
	ssize_t		 n;
	int		 fd, tries;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	/*
	 * A POST whose body is not sent yet: the server's 100 Continue says
	 * it has taken the request in, so the request is in flight.
	 */
	assert_true((fd = connect_loopback(t.port)) != -1);
	snprintf(head, sizeof(head), "POST /v1/users HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Expect: 100-continue\r\n\r\n", t.token, strlen(body));
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	while (strstr(answer, "\r\n\r\n") == NULL && got < sizeof(answer) - 1 &&
	    (n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		answer[got] = '\0';
	}
	assert_true(strncmp(answer, "HTTP/1.1 100", 12) == 0);
	got = 0;
	answer[0] = '\0';
	assert_int_equal(write(fd, body, half), (ssize_t)half);
	assert_int_equal(kill(t.pid, SIGTERM), 0);

	/* Once the signal is taken, a new request is turned away. */
	for (tries = 0; tries < 500; tries++) {
		assert_int_equal(get(&t, "/v1/users", &r), 0);
		if (r.status == 503)
			break;
		assert_status(&r, 200);
		res_free(&r);
		usleep(20000);
	}
	assert_error(&r, 503, "SERVICE_UNAVAILABLE");
	assert_int_equal(jint(r.json, "error.code"), 30006);
	assert_non_null(v = res_header(&r, "Retry-After"));
	assert_string_equal(v, "1");
	free(v);
	assert_non_null(v = res_header(&r, "Connection"));
	assert_string_equal(v, "close");
	free(v);
	res_free(&r);

	/* The request that was under way is finished and answered. */
	assert_int_equal(write(fd, body + half, strlen(body) - half),
	    (ssize_t)(strlen(body) - half));
	while (got < sizeof(answer) - 1 &&
	    (n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		answer[got] = '\0';
		if (strstr(answer, "\r\n\r\n") != NULL &&
		    strstr(answer, "stop-1") != NULL)
			break;
	}
	close(fd);
	answer[got] = '\0';
	assert_true(strncmp(answer, "HTTP/1.1 201", 12) == 0);
	assert_non_null(strstr(answer, "\"external_ref\":\"stop-1\""));
	srv_stop(&t);
	assert_true(log_contains(&t, "msg=\"stopped\""));
	srv_cleanup(&t);
}

/* Overwrites the first page of table or index name with garbage. */
static void
damage_page(const char *dir, const char *name)
{
	char		 path[512];
	sqlite3		*h;
	sqlite3_stmt	*st;
	unsigned char	 junk[65536];
	int64_t		 root = 0, size = 0;
	size_t		 i;
	int		 fd;

	snprintf(path, sizeof(path), "%s/bankfeed.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT rootpage, "
	    "(SELECT page_size FROM pragma_page_size) FROM sqlite_schema "
	    "WHERE name = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int64(st, 0);
	size = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_true(root > 1 && size > 0 && size <= (int64_t)sizeof(junk));
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7919u >> 3);
	assert_true((fd = open(path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, junk, (size_t)size, (root - 1) * size),
	    (ssize_t)size);
	close(fd);
}

/*
 * A damaged database page under a list: the answer is 500 INTERNAL_ERROR
 * (30000) with the request id, the reason goes to the log only, and never
 * a 200 with the rows that could still be read.
 */
static void
storage_failure_is_internal_error_never_a_short_list(void **state)
{
	struct srv	 t;
	struct res	 r;
	char		*rid;
	int		 i;

	(void)state;
	/* SQLite's pages: PostgreSQL keeps its own (and checks them itself). */
	if (srv_pg())
		skip();
	assert_int_equal(srv_start(&t, NULL), 0);
	t.internal_ok = 1;
	for (i = 0; i < 40; i++) {
		assert_int_equal(post(&t, "/v1/users", "{}", &r), 0);
		assert_status(&r, 201);
		res_free(&r);
	}
	srv_stop(&t);
	damage_page(t.dir, "users");
	damage_page(t.dir, "users_client");
	assert_int_equal(srv_restart(&t, NULL), 0);
	assert_int_equal(get(&t, "/v1/users?limit=100", &r), 0);
	assert_error(&r, 500, "INTERNAL_ERROR");
	assert_int_equal(jint(r.json, "error.code"), 30000);
	assert_non_null(rid = res_header(&r, "X-Request-Id"));
	assert_string_equal(jstr(r.json, "error.request_id"), rid);
	assert_null(strstr(r.body, "malformed"));
	assert_null(strstr(r.body, "sqlite"));
	assert_true(log_contains(&t, rid));
	assert_true(log_contains(&t, "malformed"));
	free(rid);
	res_free(&r);
	/* The rest of the server still answers. */
	assert_int_equal(get(&t, "/v1/institutions", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	srv_cleanup(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health_needs_no_token),
		cmocka_unit_test(errors_catalog_is_public_and_complete),
		cmocka_unit_test(token_by_basic_form_and_json),
		cmocka_unit_test(token_refused_for_wrong_secret_or_grant),
		cmocka_unit_test(v1_needs_a_valid_bearer_token),
		cmocka_unit_test(expired_tokens_are_refused),
		cmocka_unit_test(deleted_client_loses_access_within_a_second),
		cmocka_unit_test(content_negotiation),
		cmocka_unit_test(unknown_paths_and_methods),
		cmocka_unit_test(request_ids_are_echoed_or_made),
		cmocka_unit_test(users_create_get_list_delete),
		cmocka_unit_test(users_list_pages_without_skips_or_repeats),
		cmocka_unit_test(another_clients_user_is_not_found),
		cmocka_unit_test(bad_bodies_get_clear_errors_and_store_nothing),
		cmocka_unit_test(idempotency_key_replays_and_refuses_reuse),
		cmocka_unit_test(rate_limit_answers_429_with_retry_after),
		cmocka_unit_test(institutions_list_and_filter),
		cmocka_unit_test(access_log_has_one_line_per_request_and_no_secrets),
		cmocka_unit_test(help_flags_print_the_help),
		cmocka_unit_test(sigterm_stops_cleanly),
		cmocka_unit_test(storage_failure_is_internal_error_never_a_short_list),
		cmocka_unit_test(
		    stopping_server_finishes_requests_and_turns_new_ones_away),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
