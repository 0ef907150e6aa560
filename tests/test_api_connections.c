#define _GNU_SOURCE
/*
 * Bank connections through the public API, against the Sandbox Bank: every
 * error a bank can cause, the MFA flows, every session error, syncs as
 * durable tasks, and what is (not) kept of a user's credentials.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/errors.h"
#include "harness.h"

static struct srv S;

static const char *const env[] = { "BANKFEED_SANDBOX_SLOW_MS=1500", NULL };

static int
setup(void **state)
{
	(void)state;
	return srv_start(&S, env);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

/* POST /v1/connections for a new user of s. */
static void
connect_as(struct srv *s, const char *username, const char *password,
    int store, struct res *r)
{
	char	user[64], body[512];

	srv_new_user(s, user);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"%s\",\"password\":"
	    "\"%s\"},\"store_credentials\":%s}", user, username, password,
	    store ? "true" : "false");
	assert_int_equal(post(s, "/v1/connections", body, r), 0);
}

/* Answers a session's challenges: questions "blue", TANs tan, a choice sms. */
static void
answer_all(struct srv *s, struct res *sess, const char *tan, struct res *out)
{
	char		 path[256], body[1024];
	json_t		*ch = jget(sess->json, "challenges"), *c;
	size_t		 i, o;

	if (ch == NULL)
		ch = jget(sess->json, "session.challenges");
	snprintf(path, sizeof(path), "/v1/sessions/%s/answers",
	    jstr(sess->json, "id") ? jstr(sess->json, "id") :
	    jstr(sess->json, "session.id"));
	o = (size_t)snprintf(body, sizeof(body), "{\"answers\":{");
	json_array_foreach(ch, i, c) {
		const char *kind = jstr(c, "kind"), *v = "blue";

		if (strcmp(kind, "tan") == 0)
			v = tan;
		else if (strcmp(kind, "choice") == 0)
			v = "sms";
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s\"%s\":\"%s\"",
		    i ? "," : "", jstr(c, "key"), v);
	}
	snprintf(body + o, sizeof(body) - o, "}}");
	assert_int_equal(post(s, path, body, out), 0);
}

/* A connection authorized through whatever challenges it meets. */
static void
connect_authorized(struct srv *s, const char *username, int store,
    char cid[64])
{
	struct res	r, a;

	connect_as(s, username, "pass_good", store, &r);
	assert_status(&r, 201);
	snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
	if (strcmp(jstr(r.json, "session.status"), "challenge_required") == 0) {
		answer_all(s, &r, "123456", &a);
		while (a.status == 200 &&
		    strcmp(jstr(a.json, "status"), "challenge_required") == 0) {
			struct res next;

			answer_all(s, &a, "123456", &next);
			res_free(&a);
			a = next;
		}
		assert_status(&a, 200);
		assert_string_equal(jstr(a.json, "status"), "authorized");
		res_free(&a);
	}
	res_free(&r);
}

static void
sync_conn(struct srv *s, const char *cid, const char *body,
    const char *const *hdrs, struct res *r)
{
	char	path[256];

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(req(s, "POST", path, s->token, hdrs, body ? body : "{}",
	    strlen(body ? body : "{}"), r), 0);
}

/* Polls a task until it ends; returns its last state in r. */
static void
wait_task(struct srv *s, const char *tid, int seconds, struct res *r)
{
	char		path[256];
	time_t		end = time(NULL) + seconds;

	snprintf(path, sizeof(path), "/v1/tasks/%s", tid);
	for (;;) {
		assert_int_equal(get(s, path, r), 0);
		assert_status(r, 200);
		if (strcmp(jstr(r->json, "status"), "queued") != 0 &&
		    strcmp(jstr(r->json, "status"), "running") != 0)
			return;
		if (time(NULL) > end)
			fail_msg("task %s still %s", tid, jstr(r->json, "status"));
		res_free(r);
		usleep(100000);
	}
}

static void
assert_bank_error(json_t *err, enum err e)
{
	const struct err_info *ei = err_info(e);

	assert_non_null(err);
	assert_int_equal(json_integer_value(json_object_get(err, "code")), ei->code);
	assert_string_equal(json_string_value(json_object_get(err, "name")),
	    ei->name);
	assert_string_equal(json_string_value(json_object_get(err, "group")),
	    err_group_name(ei->group));
	/* the bank's own words, not our description */
	assert_true(json_is_string(json_object_get(err, "message")));
	assert_true(strlen(json_string_value(json_object_get(err, "message"))) > 10);
	assert_string_not_equal(json_string_value(json_object_get(err, "message")),
	    ei->description);
}

/*
 * Every catalog entry a bank can cause, caused through the API with its
 * sandbox username, at the step where a real bank would fail.
 */
static void
every_bank_error_reproduces(void **state)
{
	int	i, n = 0;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++) {
		const struct err_info	*ei = err_info((enum err)i);
		char			 user[96], cid[64], path[160];
		struct res		 r, a;
		json_t			*acc;
		size_t			 k;
		int			 errored = 0;

		if (ei->stage == STG_NONE)
			continue;
		err_sandbox_username((enum err)i, user, sizeof(user));
		n++;
		switch (ei->stage) {
		case STG_LOGIN:
			connect_as(&S, user, "pass_good", 0, &r);
			if (r.status != ei->http)
				fail_msg("%s: status %ld, want %d: %s", user,
				    r.status, ei->http, r.body);
			assert_bank_error(jget(r.json, "error"), (enum err)i);
			assert_non_null(jstr(r.json, "error.data.connection_id"));
			res_free(&r);
			break;
		case STG_CHALLENGE:
			connect_as(&S, user, "pass_good", 0, &r);
			assert_status(&r, 201);
			assert_string_equal(jstr(r.json, "session.status"),
			    "challenge_required");
			answer_all(&S, &r, "123456", &a);
			if (a.status != ei->http)
				fail_msg("%s: status %ld, want %d: %s", user,
				    a.status, ei->http, a.body);
			assert_bank_error(jget(a.json, "error"), (enum err)i);
			res_free(&a);
			res_free(&r);
			break;
		case STG_SYNC:
			connect_authorized(&S, user, 0, cid);
			sync_conn(&S, cid, "{\"wait_seconds\":30}", NULL, &r);
			assert_status(&r, 200);
			assert_string_equal(jstr(r.json, "status"), "failed");
			assert_bank_error(jget(r.json, "error"), (enum err)i);
			res_free(&r);
			break;
		case STG_ACCOUNT:
			connect_authorized(&S, user, 0, cid);
			sync_conn(&S, cid, "{\"wait_seconds\":30}", NULL, &r);
			assert_status(&r, 200);
			assert_string_equal(jstr(r.json, "status"), "completed");
			res_free(&r);
			snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s",
			    cid);
			assert_int_equal(get(&S, path, &r), 0);
			json_array_foreach(jget(r.json, "data"), k, acc) {
				if (strcmp(jstr(acc, "status"), "error") != 0)
					continue;
				assert_bank_error(jget(acc, "error"), (enum err)i);
				errored++;
			}
			/* one account marked, not the whole connection */
			assert_int_equal(errored, 1);
			assert_true(json_array_size(jget(r.json, "data")) >= 2);
			res_free(&r);
			break;
		default:
			break;
		}
	}
	assert_true(n >= 30);
}

static void
wrong_password_and_unknown_username(void **state)
{
	struct res	r;
	char		path[256];

	(void)state;
	connect_as(&S, "user_good", "wrong", 0, &r);
	assert_error(&r, 422, "INVALID_PASSWORD");
	assert_non_null(jstr(r.json, "error.message"));
	snprintf(path, sizeof(path), "/v1/connections/%s",
	    jstr(r.json, "error.data.connection_id"));
	res_free(&r);
	/* the failed connection is kept, with its error, for the client to see */
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "failed");
	assert_int_equal(jint(r.json, "error.code"), 10001);
	res_free(&r);
	connect_as(&S, "somebody", "pass_good", 0, &r);
	assert_error(&r, 422, "INVALID_USERNAME");
	res_free(&r);
}

static void
bad_connection_requests(void **state)
{
	struct res	 r;
	char		 user[64], body[512];
	struct srv	 other;

	(void)state;
	srv_new_user(&S, user);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\"}}", user);
	assert_int_equal(post(&S, "/v1/connections", body, &r), 0);
	assert_error(&r, 400, "LOGIN_CREDENTIALS_INCOMPLETE");
	/* data keys are dotted field paths */
	assert_non_null(json_object_get(jget(r.json, "error.data"),
	    "credentials.password"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":5,\"institution_id\":"
	    "\"sandbox\",\"credentials\":[\"a\"]}");
	assert_int_equal(post(&S, "/v1/connections", body, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.user_id"));
	assert_non_null(jget(r.json, "error.data.credentials"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"nobank\",\"credentials\":{\"username\":\"a\",\"password\":\"b\"}}",
	    user);
	assert_int_equal(post(&S, "/v1/connections", body, &r), 0);
	assert_error(&r, 422, "UNPROCESSABLE_ENTITY");
	res_free(&r);
	/* PSU-IP-Address is an address, on creation as on syncs */
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(req(&S, "POST", "/v1/connections", S.token,
	    (const char *[]){ "PSU-IP-Address: me", NULL }, body, strlen(body),
	    &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.PSU-IP-Address"));
	res_free(&r);
	snprintf(body, sizeof(body), "/v1/connections?user_id=%s", user);
	assert_int_equal(get(&S, body, &r), 0);
	assert_int_equal(json_array_size(jget(r.json, "data")), 0);
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox_maintenance\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(post(&S, "/v1/connections", body, &r), 0);
	assert_error(&r, 422, "BANK_NOT_SUPPORTED");
	assert_int_equal(jint(r.json, "error.code"), 40000);
	res_free(&r);
	/* another client's user */
	assert_int_equal(srv_new_client(&S, &other), 0);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(post(&other, "/v1/connections", body, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

static void
mfa_flows_authorize(void **state)
{
	static const char *const users[] = { "user_mfa_question",
	    "user_mfa_questions", "user_mfa_tan", "user_mfa_choice" };
	static const size_t nch[] = { 1, 3, 1, 1 };
	size_t		 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct res	r, a, s;
		char		path[256];

		connect_as(&S, users[i], "pass_good", 0, &r);
		assert_status(&r, 201);
		assert_string_equal(jstr(r.json, "session.status"),
		    "challenge_required");
		assert_string_equal(jstr(r.json, "connection.status"), "pending");
		assert_int_equal(json_array_size(jget(r.json,
		    "session.challenges")), nch[i]);
		assert_non_null(jstr(r.json, "session.challenges.0.prompt"));
		answer_all(&S, &r, "123456", &a);
		assert_status(&a, 200);
		if (i == 3) {
			/* a choice of method, then its TAN */
			assert_string_equal(jstr(a.json, "status"),
			    "challenge_required");
			assert_string_equal(jstr(a.json, "challenges.0.kind"), "tan");
			answer_all(&S, &a, "123456", &s);
			res_free(&a);
			a = s;
			assert_status(&a, 200);
		}
		assert_string_equal(jstr(a.json, "status"), "authorized");
		snprintf(path, sizeof(path), "/v1/connections/%s",
		    jstr(a.json, "connection_id"));
		res_free(&a);
		assert_int_equal(get(&S, path, &a), 0);
		assert_string_equal(jstr(a.json, "status"), "authorized");
		assert_non_null(jstr(a.json, "consent_expires_at"));
		res_free(&a);
		res_free(&r);
	}
}

static void
wrong_answers_fail_the_session(void **state)
{
	struct res	r, a;
	char		path[256];

	(void)state;
	connect_as(&S, "user_mfa_tan", "pass_good", 0, &r);
	answer_all(&S, &r, "000000", &a);
	assert_error(&a, 422, "INVALID_TAN");
	assert_non_null(jstr(a.json, "error.message"));
	res_free(&a);
	snprintf(path, sizeof(path), "/v1/sessions/%s", jstr(r.json, "session.id"));
	assert_int_equal(get(&S, path, &a), 0);
	assert_string_equal(jstr(a.json, "status"), "failed");
	assert_string_equal(jstr(a.json, "error.name"), "INVALID_TAN");
	res_free(&a);
	res_free(&r);

	connect_as(&S, "user_mfa_question", "pass_good", 0, &r);
	snprintf(path, sizeof(path), "/v1/sessions/%s/answers",
	    jstr(r.json, "session.id"));
	assert_int_equal(post(&S, path, "{\"answers\":{\"sq_car_colour\":\"red\"}}",
	    &a), 0);
	assert_error(&a, 422, "INVALID_SECURITY_RESPONSE");
	res_free(&a);
	res_free(&r);
}

static void
session_nonexistent(void **state)
{
	struct res	r;

	(void)state;
	assert_int_equal(post(&S, "/v1/sessions/ses_nope/answers",
	    "{\"answers\":{\"a\":\"b\"}}", &r), 0);
	assert_error(&r, 404, "SESSION_NONEXISTENT");
	res_free(&r);
	assert_int_equal(get(&S, "/v1/sessions/ses_nope", &r), 0);
	assert_error(&r, 404, "SESSION_NONEXISTENT");
	res_free(&r);
}

static void
session_expired(void **state)
{
	struct srv	 t;
	const char	*e[] = { "BANKFEED_SESSION_IDLE_SECONDS=1", NULL };
	struct res	 r, a;
	char		 path[256];

	(void)state;
	assert_int_equal(srv_start(&t, e), 0);
	connect_as(&t, "user_mfa_question", "pass_good", 0, &r);
	assert_status(&r, 201);
	sleep(2);
	/* issue 11, item 9a: GET says it is gone, as answers do (410) */
	snprintf(path, sizeof(path), "/v1/sessions/%s", jstr(r.json, "session.id"));
	assert_int_equal(get(&t, path, &a), 0);
	assert_error(&a, 410, "SESSION_EXPIRED");
	assert_int_equal(jint(a.json, "error.code"), 1041);
	assert_string_equal(jstr(a.json, "error.description"), "The session "
	    "expired after 1 second without a request. Create the connection's "
	    "session again.");
	assert_non_null(strstr(jstr(a.json, "error.data.session.0"),
	    jstr(r.json, "connection.id")));
	res_free(&a);
	answer_all(&t, &r, "123456", &a);
	assert_error(&a, 410, "SESSION_EXPIRED");
	res_free(&a);
	assert_int_equal(get(&t, path, &a), 0);
	assert_error(&a, 410, "SESSION_EXPIRED");
	res_free(&a);
	res_free(&r);
	srv_cleanup(&t);
}

static void
concurrent_session(void **state)
{
	struct srv	o;
	struct res	r, r2, r3;
	char		body[512], path[128], ouser[64];

	(void)state;
	connect_as(&S, "user_mfa_tan", "pass_good", 0, &r);
	assert_status(&r, 201);
	/* the same login again while the first waits for its TAN */
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_mfa_tan\","
	    "\"password\":\"pass_good\"}}", jstr(r.json, "connection.user_id"));
	assert_int_equal(post(&S, "/v1/connections", body, &r2), 0);
	assert_error(&r2, 409, "CONCURRENT_SESSION");
	/* it names nothing of the waiting session: no id, no time */
	assert_null(strstr(r2.body, jstr(r.json, "session.id")));
	assert_null(strstr(r2.body, jstr(r.json, "connection.id")));
	assert_null(strstr(r2.body, jstr(r.json, "session.expires_at")));
	assert_null(strstr(r2.body, "20"));	/* no year of any timestamp */
	res_free(&r2);
	snprintf(path, sizeof(path), "/v1/connections/%s/sessions",
	    jstr(r.json, "connection.id"));
	assert_int_equal(post(&S, path, "{\"credentials\":{\"username\":"
	    "\"user_mfa_tan\",\"password\":\"pass_good\"}}", &r2), 0);
	assert_error(&r2, 409, "CONCURRENT_SESSION");
	assert_null(strstr(r2.body, jstr(r.json, "session.id")));
	assert_null(strstr(r2.body, jstr(r.json, "session.expires_at")));
	res_free(&r2);
	/*
	 * Issue 11, item 9d: another client's sessions are none of this
	 * client's business.  The same bank login, waiting with client S, is
	 * no conflict for client o: it gets its own session.
	 */
	assert_int_equal(srv_new_client(&S, &o), 0);
	srv_new_user(&o, ouser);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_mfa_tan\","
	    "\"password\":\"pass_good\"}}", ouser);
	assert_int_equal(post(&o, "/v1/connections", body, &r2), 0);
	assert_status(&r2, 201);
	assert_string_equal(jstr(r2.json, "session.status"), "challenge_required");
	assert_string_not_equal(jstr(r2.json, "session.id"),
	    jstr(r.json, "session.id"));
	/* and its own is a conflict for itself alone */
	assert_int_equal(post(&o, "/v1/connections", body, &r3), 0);
	assert_error(&r3, 409, "CONCURRENT_SESSION");
	assert_null(strstr(r3.body, jstr(r.json, "session.id")));
	assert_null(strstr(r3.body, jstr(r2.json, "session.id")));
	res_free(&r3);
	res_free(&r2);
	/* once answered, a new session is fine */
	answer_all(&S, &r, "123456", &r2);
	assert_status(&r2, 200);
	res_free(&r2);
	res_free(&r);
}

static void
unknown_challenge_key(void **state)
{
	struct res	r, a;
	char		path[256];

	(void)state;
	connect_as(&S, "user_mfa_question", "pass_good", 0, &r);
	snprintf(path, sizeof(path), "/v1/sessions/%s/answers",
	    jstr(r.json, "session.id"));
	assert_int_equal(post(&S, path, "{\"answers\":{\"sq_car_colour\":"
	    "\"blue\",\"nope\":\"blue\"}}", &a), 0);
	assert_error(&a, 400, "UNKNOWN_CHALLENGE_KEY");
	assert_non_null(strstr(jstr(a.json, "error.data.answers.0"), "nope"));
	res_free(&a);
	/* the session is still open: the right answer works */
	answer_all(&S, &r, "123456", &a);
	assert_status(&a, 200);
	res_free(&a);
	res_free(&r);
}

static void
securityresponses_incomplete(void **state)
{
	struct res	r, a;
	char		path[256];

	(void)state;
	connect_as(&S, "user_mfa_questions", "pass_good", 0, &r);
	snprintf(path, sizeof(path), "/v1/sessions/%s/answers",
	    jstr(r.json, "session.id"));
	assert_int_equal(post(&S, path, "{\"answers\":{\"sq_car_colour\":"
	    "\"blue\"}}", &a), 0);
	assert_error(&a, 400, "SECURITYRESPONSES_INCOMPLETE");
	res_free(&a);
	res_free(&r);
}

static void
already_authorized(void **state)
{
	struct res	r, a;

	(void)state;
	connect_as(&S, "user_mfa_question", "pass_good", 0, &r);
	answer_all(&S, &r, "123456", &a);
	assert_status(&a, 200);
	res_free(&a);
	answer_all(&S, &r, "123456", &a);
	assert_error(&a, 409, "ALREADY_AUTHORIZED");
	res_free(&a);
	res_free(&r);
}

static void
sync_before_authorization(void **state)
{
	struct res	r, s;

	(void)state;
	connect_as(&S, "user_mfa_question", "pass_good", 0, &r);
	sync_conn(&S, jstr(r.json, "connection.id"), NULL, NULL, &s);
	assert_error(&s, 409, "CONNECTION_NOT_AUTHORIZED");
	res_free(&s);
	res_free(&r);
}

static void
sync_waits_dispatches_and_dedups(void **state)
{
	struct res	 r, r2, d;
	char		 cid[64], tid[64], path[128], *ra;
	time_t		 t0;

	(void)state;
	connect_authorized(&S, "user_slow", 0, cid);
	/* wait 0: dispatched at once */
	sync_conn(&S, cid, "{\"wait_seconds\":0}", NULL, &r);
	assert_status(&r, 202);
	assert_true(json_is_true(jget(r.json, "dispatched")));
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	/* a second sync while it runs is the same task */
	sync_conn(&S, cid, "{\"wait_seconds\":0}", NULL, &r2);
	assert_status(&r2, 202);
	assert_string_equal(jstr(r2.json, "id"), tid);
	res_free(&r2);
	/* the connection cannot go while its sync runs */
	snprintf(path, sizeof(path), "/v1/connections/%s", cid);
	assert_int_equal(del(&S, path, &d), 0);
	assert_error(&d, 423, "RESOURCE_BUSY");
	assert_int_equal(jint(d.json, "error.code"), 1008);
	ra = res_header(&d, "Retry-After");
	assert_non_null(ra);
	free(ra);
	res_free(&d);
	wait_task(&S, tid, 30, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_true(jint(r.json, "result.transactions_added") > 100);
	res_free(&r);
	/* waiting: 200 with the finished task, after the bank's 1.5 s */
	t0 = time(NULL);
	sync_conn(&S, cid, "{\"wait_seconds\":30}", (const char *[]){
	    "PSU-IP-Address: 192.0.2.10", NULL }, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_false(json_is_true(jget(r.json, "dispatched")));
	/* a re-sync stores nothing twice */
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	assert_true(time(NULL) - t0 >= 1);
	res_free(&r);
	assert_int_equal(del(&S, path, &d), 0);
	assert_status(&d, 204);
	res_free(&d);
	assert_int_equal(get(&S, path, &d), 0);
	assert_error(&d, 404, "ENTITY_NOT_FOUND");
	res_free(&d);
}

/*
 * Issue 11, item 9c: a task expires at its limit, also while its bank is
 * slow to answer (the limit is 2 s, the bank takes 60), and its error
 * says the limit in force, as GET /v1/errors does.
 */
static void
tasks_expire_after_the_limit(void **state)
{
	struct srv	 t;
	const char	*e[] = { "BANKFEED_TASK_TIMEOUT_SECONDS=2",
	    "BANKFEED_SANDBOX_SLOW_MS=60000", NULL };
	struct res	 r;
	char		 cid[64], path[128];
	json_t		*entry;
	size_t		 i;
	time_t		 t0;

	(void)state;
	assert_int_equal(srv_start(&t, e), 0);
	connect_authorized(&t, "user_slow", 0, cid);
	t0 = time(NULL);
	sync_conn(&t, cid, "{\"wait_seconds\":30}", NULL, &r);
	assert_status(&r, 200);
	if (time(NULL) - t0 > 6)
		fail_msg("the task expired after %lld s, its limit is 2 s",
		    (long long)(time(NULL) - t0));
	assert_string_equal(jstr(r.json, "status"), "expired");
	assert_int_equal(jint(r.json, "error.code"), 30005);
	assert_string_equal(jstr(r.json, "error.name"), "TASK_EXPIRED");
	assert_string_equal(jstr(r.json, "error.description"), "Task is expired: "
	    "it did not finish within 2 seconds of its start.");
	snprintf(path, sizeof(path), "/v1/tasks/%s", jstr(r.json, "id"));
	res_free(&r);
	assert_int_equal(get(&t, path, &r), 0);
	assert_string_equal(jstr(r.json, "status"), "expired");
	assert_non_null(strstr(jstr(r.json, "error.description"), "2 seconds"));
	res_free(&r);
	assert_int_equal(req(&t, "GET", "/v1/errors", NULL, NULL, NULL, 0, &r), 0);
	json_array_foreach(jget(r.json, "data"), i, entry)
		if (strcmp(jstr(entry, "name"), "TASK_EXPIRED") == 0)
			assert_non_null(strstr(jstr(entry, "description"),
			    "within 2 seconds"));
		else if (strcmp(jstr(entry, "name"), "SESSION_EXPIRED") == 0)
			assert_non_null(strstr(jstr(entry, "description"),
			    "after 8 minutes"));
	res_free(&r);
	srv_cleanup(&t);
}

/* Every transaction id of an account, through the paginated API. */
static long
count_transactions(struct srv *s, const char *account_id, int check_unique)
{
	char		 path[512], cursor[256] = "";
	long		 n = 0;
	struct res	 r;
	char		(*seen)[40] = check_unique ? calloc(120000, 40) : NULL;

	do {
		json_t	*t;
		size_t	 i;

		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
		    "limit=500%s%s", account_id, cursor[0] ? "&cursor=" : "",
		    cursor);
		assert_int_equal(get(s, path, &r), 0);
		assert_status(&r, 200);
		json_array_foreach(jget(r.json, "data"), i, t) {
			if (seen != NULL && n < 120000)
				snprintf(seen[n], 40, "%s", jstr(t, "id"));
			n++;
		}
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor") ?
		    jstr(r.json, "next_cursor") : "");
		res_free(&r);
	} while (cursor[0] != '\0');
	if (seen != NULL) {
		qsort(seen, (size_t)(n < 120000 ? n : 120000), 40,
		    (int (*)(const void *, const void *))strcmp);
		for (long i = 1; i < n && i < 120000; i++)
			if (strcmp(seen[i - 1], seen[i]) == 0)
				fail_msg("transaction %s listed twice", seen[i]);
		free(seen);
	}
	return n;
}

static void
a_killed_sync_resumes_after_restart(void **state)
{
	struct srv	 t;
	struct res	 r;
	char		 cid[64], tid[64], path[160], acc[64];
	int		 tries;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	connect_authorized(&t, "user_large", 0, cid);
	sync_conn(&t, cid, "{\"wait_seconds\":0}", NULL, &r);
	assert_status(&r, 202);
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	/* kill -9 once part of the account's transactions is stored */
	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	acc[0] = '\0';
	for (tries = 0; tries < 400; tries++) {
		assert_int_equal(get(&t, path, &r), 0);
		if (jstr(r.json, "data.0.id") != NULL)
			snprintf(acc, sizeof(acc), "%s", jstr(r.json, "data.0.id"));
		res_free(&r);
		if (acc[0] != '\0')
			break;
		usleep(20000);
	}
	assert_true(acc[0] != '\0');
	srv_kill(&t);
	assert_int_equal(srv_restart(&t, NULL), 0);
	wait_task(&t, tid, 240, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	assert_int_equal(count_transactions(&t, acc, 1), 100000);
	/* and a re-sync adds nothing */
	sync_conn(&t, cid, "{\"wait_seconds\":200}", NULL, &r);
	assert_status(&r, 200);
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	assert_int_equal(jint(r.json, "result.transactions_updated"), 0);
	res_free(&r);
	srv_cleanup(&t);
}

/* Whether any file under dir contains needle (as bytes). */
static int
dir_contains(const char *dir, const char *needle)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	int		 found = 0;

	while (d != NULL && !found && (e = readdir(d)) != NULL) {
		char	 path[600], *buf;
		FILE	*f;
		long	 n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
			found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
		free(buf);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static void
credentials_are_sealed_at_rest(void **state)
{
	struct srv	 t;
	char		 cid[64], key[600];
	struct stat	 st;
	struct res	 r;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	connect_authorized(&t, "user_mfa_question", 1, cid);
	connect_authorized(&t, "user_good", 0, cid);
	srv_stop(&t);		/* WAL checkpointed: every byte in the files */
	assert_false(dir_contains(t.dir, "pass_good"));
	assert_false(dir_contains(t.dir, "user_mfa_question"));
	snprintf(key, sizeof(key), "%s/master.key", t.dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* stored credentials let bankfeed authorize again unattended */
	assert_int_equal(srv_restart(&t, NULL), 0);
	connect_authorized(&t, "user_good", 1, cid);
	{
		char path[128];

		snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
		assert_int_equal(post(&t, path, "{}", &r), 0);
		assert_status(&r, 201);
		assert_string_equal(jstr(r.json, "status"), "authorized");
		res_free(&r);
	}
	/* without stored credentials, they must be sent */
	connect_authorized(&t, "user_good", 0, cid);
	{
		char path[128];

		snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
		assert_int_equal(post(&t, path, "{}", &r), 0);
		assert_error(&r, 400, "LOGIN_CREDENTIALS_INCOMPLETE");
		res_free(&r);
	}
	srv_cleanup(&t);
}

static void
stored_answers_serve_unattended_refresh(void **state)
{
	struct res	r;
	char		cid[64];

	(void)state;
	/* the bank asks another question at sync: no stored answer for it */
	connect_authorized(&S, "user_question_not_found", 1, cid);
	sync_conn(&S, cid, "{\"wait_seconds\":30}", NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "failed");
	assert_string_equal(jstr(r.json, "error.name"), "QUESTION_NOT_FOUND");
	res_free(&r);
}

static void
connections_list_by_user(void **state)
{
	struct res	 r, c;
	char		 path[512], cursor[256] = "";
	int		 n = 0, pages = 0;

	(void)state;
	connect_as(&S, "user_good", "pass_good", 0, &c);
	assert_status(&c, 201);
	snprintf(path, sizeof(path), "/v1/connections?user_id=%s",
	    jstr(c.json, "connection.user_id"));
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	assert_string_equal(jstr(r.json, "data.0.id"), jstr(c.json,
	    "connection.id"));
	assert_string_equal(jstr(r.json, "data.0.status"), "authorized");
	res_free(&r);
	res_free(&c);
	/* without a user: all of the client's, page by page */
	do {
		snprintf(path, sizeof(path), "/v1/connections?limit=10%s%s",
		    cursor[0] ? "&cursor=" : "", cursor);
		assert_int_equal(get(&S, path, &r), 0);
		assert_status(&r, 200);
		n += (int)json_array_size(jget(r.json, "data"));
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor") ?
		    jstr(r.json, "next_cursor") : "");
		res_free(&r);
		pages++;
	} while (cursor[0] != '\0');
	assert_true(n > 10 && pages > 1);
}

struct inflight {
	struct srv	*s;
	char		 cid[64];
	struct res	 r;
	int		 rc;
};

static void *
waiting_sync(void *arg)
{
	struct inflight	*f = arg;
	char		 path[256];

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", f->cid);
	f->rc = req(f->s, "POST", path, f->s->token, NULL,
	    "{\"wait_seconds\":60}", 19, &f->r);
	return NULL;
}

/* SIGTERM while a request waits: it is answered before the server exits. */
static void
sigterm_answers_requests_in_flight(void **state)
{
	struct srv	 t;
	struct inflight	 f;
	pthread_t	 th;
	const char	*e[] = { "BANKFEED_SANDBOX_SLOW_MS=20000", NULL };

	(void)state;
	assert_int_equal(srv_start(&t, e), 0);
	memset(&f, 0, sizeof(f));
	f.s = &t;
	connect_authorized(&t, "user_slow", 0, f.cid);
	assert_int_equal(pthread_create(&th, NULL, waiting_sync, &f), 0);
	usleep(500000);
	srv_stop(&t);		/* fails the test unless the exit is clean */
	pthread_join(th, NULL);
	assert_int_equal(f.rc, 0);
	assert_status(&f.r, 202);
	assert_true(json_is_true(jget(f.r.json, "dispatched")));
	res_free(&f.r);
	/* the task outlives the stop: the next start takes it back */
	assert_int_equal(srv_restart(&t, (const char *[]){
	    "BANKFEED_SANDBOX_SLOW_MS=100", NULL }), 0);
	{
		struct res	r;
		char		path[256];
		int		i;

		snprintf(path, sizeof(path), "/v1/connections/%s", f.cid);
		for (i = 0; i < 100; i++) {
			assert_int_equal(get(&t, path, &r), 0);
			if (jstr(r.json, "last_synced_at") != NULL)
				break;
			res_free(&r);
			usleep(100000);
		}
		assert_non_null(jstr(r.json, "last_synced_at"));
		res_free(&r);
	}
	srv_cleanup(&t);
}

static void
no_secret_in_the_log(void **state)
{
	(void)state;
	assert_false(log_contains_word(&S, "pass_good"));
	assert_false(log_contains_word(&S, "blue"));
	assert_false(log_contains_word(&S, "123456"));
	assert_false(log_contains(&S, S.client_secret));
	assert_false(log_contains(&S, S.token));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_bank_error_reproduces),
		cmocka_unit_test(wrong_password_and_unknown_username),
		cmocka_unit_test(bad_connection_requests),
		cmocka_unit_test(mfa_flows_authorize),
		cmocka_unit_test(wrong_answers_fail_the_session),
		cmocka_unit_test(session_nonexistent),
		cmocka_unit_test(session_expired),
		cmocka_unit_test(concurrent_session),
		cmocka_unit_test(unknown_challenge_key),
		cmocka_unit_test(securityresponses_incomplete),
		cmocka_unit_test(already_authorized),
		cmocka_unit_test(sync_before_authorization),
		cmocka_unit_test(sync_waits_dispatches_and_dedups),
		cmocka_unit_test(tasks_expire_after_the_limit),
		cmocka_unit_test(a_killed_sync_resumes_after_restart),
		cmocka_unit_test(credentials_are_sealed_at_rest),
		cmocka_unit_test(stored_answers_serve_unattended_refresh),
		cmocka_unit_test(connections_list_by_user),
		cmocka_unit_test(sigterm_answers_requests_in_flight),
		cmocka_unit_test(no_secret_in_the_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
