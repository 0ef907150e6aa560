/*
 * Logins that wait on a slow bank hold no HTTP thread (issue 12): the
 * real server with two HTTP threads, the built-in institution sandbox_xs2a
 * pointed at `bankfeed sandbox-bank --latency-ms 2000` (every answer of
 * the bank two seconds late), driven through the public API only.
 *
 * - 16 logins at once (more than the server's HTTP threads): GET /health
 *   answers within 100 ms all the while, every login ends authorized, and
 *   together they take about as long as one.
 * - A POST /v1/connections repeated with the same Idempotency-Key while
 *   the first still waits on the bank is told 423 RESOURCE_BUSY and acts
 *   not; once the first answered, the repeat gets its answer again.
 * - A decoupled SCA (user_sca_decoupled) finishes although nobody reads
 *   the session: the server asks the bank in the background at the bank's
 *   wait, and the client's webhook hears connection.authorized.
 * - Answers to a session whose earlier request still waits on the bank
 *   get 423 RESOURCE_BUSY.
 * - A stop answers a login still with the bank 503 SERVICE_UNAVAILABLE
 *   after half the shutdown grace, and keeps nothing of it; a decoupled
 *   SCA left waiting by a stop is asked again after the restart, and
 *   asked no more once its session expired.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "receiver.h"

#define LATENCY_MS	2000
#define N_LOGINS	16
#define SECRET		"whsec_login_async_0123456789"

static struct srv	S;		/* bankfeed serve, 2 HTTP threads */
static struct srv	B;		/* bankfeed sandbox-bank, slow */
static const char *const PSU[] = { "PSU-IP-Address: 192.0.2.44", NULL };

static int
setup(void **unused)
{
	const char	*env[] = { "BANKFEED_THREADS=2",
	    "BANKFEED_WEBHOOK_RETRY_BASE_MS=200", NULL };

	(void)unused;
	return srv_start_with_bank(&S, &B, 2000, env);
}

static int
teardown(void **unused)
{
	(void)unused;
	srv_cleanup(&S);
	srv_cleanup(&B);
	return 0;
}

static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The body of POST /v1/connections for user as username at sandbox_xs2a. */
static void
login_body(char *out, size_t n, const char *user, const char *username)
{
	snprintf(out, n, "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox_xs2a\",\"credentials\":{\"username\":\"%s\","
	    "\"password\":\"pass_good\"}}", user, username);
}

/* One login, run on a thread of its own. */
struct login {
	struct srv	*s;		/* NULL: S */
	pthread_t	 th;
	char		 body[512];
	const char	*key;		/* Idempotency-Key, or NULL */
	struct res	 r;
	int		 rc;
	long long	 ms;		/* how long it took */
};

static pthread_mutex_t	done_lock = PTHREAD_MUTEX_INITIALIZER;
static int		done;

static void *
login_main(void *arg)
{
	struct login	*l = arg;
	const char	*hdrs[3] = { PSU[0], NULL, NULL };
	char		 key[128];
	long long	 t0 = mono_ms();

	if (l->key != NULL) {
		snprintf(key, sizeof(key), "Idempotency-Key: %s", l->key);
		hdrs[1] = key;
	}
	if (l->s == NULL)
		l->s = &S;
	l->rc = req(l->s, "POST", "/v1/connections", l->s->token, hdrs, l->body,
	    strlen(l->body), &l->r);
	l->ms = mono_ms() - t0;
	pthread_mutex_lock(&done_lock);
	done++;
	pthread_mutex_unlock(&done_lock);
	return NULL;
}

static int
logins_done(void)
{
	int	n;

	pthread_mutex_lock(&done_lock);
	n = done;
	pthread_mutex_unlock(&done_lock);
	return n;
}

static void
login_start(struct login *l, const char *username, const char *key)
{
	char	user[64];

	srv_new_user(l->s != NULL ? l->s : &S, user);
	login_body(l->body, sizeof(l->body), user, username);
	l->key = key;
	assert_int_equal(pthread_create(&l->th, NULL, login_main, l), 0);
}

/* The login ended 201 with its connection authorized. */
static void
login_authorized(struct login *l)
{
	assert_int_equal(pthread_join(l->th, NULL), 0);
	assert_int_equal(l->rc, 0);
	assert_status(&l->r, 201);
	assert_string_equal(jstr(l->r.json, "connection.status"), "authorized");
	assert_string_equal(jstr(l->r.json, "session.status"), "authorized");
}

static void
logins_on_a_slow_bank_leave_the_server_answering(void **unused)
{
	static struct login	 one, l[N_LOGINS];
	struct res		 r;
	long long		 t0, t, worst = 0, took;
	int			 i, samples = 0;

	(void)unused;
	/* One alone first: how long the bank takes for a login. */
	done = 0;
	login_start(&one, "user_good", NULL);
	login_authorized(&one);
	assert_true(one.ms >= LATENCY_MS);
	res_free(&one.r);

	done = 0;
	t0 = mono_ms();
	for (i = 0; i < N_LOGINS; i++)
		login_start(&l[i], "user_good", NULL);
	/* While they wait on the bank, the server answers at once. */
	while (logins_done() < N_LOGINS) {
		t = mono_ms();
		assert_int_equal(get(&S, "/health", &r), 0);
		t = mono_ms() - t;
		assert_status(&r, 200);
		res_free(&r);
		if (logins_done() < N_LOGINS) {
			samples++;
			if (t > worst)
				worst = t;
		}
		usleep(100 * 1000);
	}
	took = mono_ms() - t0;
	for (i = 0; i < N_LOGINS; i++) {
		login_authorized(&l[i]);
		res_free(&l[i].r);
	}
	fprintf(stderr, "%d logins: %lld ms (one alone: %lld ms); GET /health "
	    "at worst %lld ms over %d samples\n", N_LOGINS, took, one.ms, worst,
	    samples);
	assert_true(samples >= 5);
	assert_true(worst < 100);
	/* Side by side: on 2 threads, one after the other, they would take
	 * 8 times as long as one. */
	assert_true(took < 2 * one.ms + 2000);
}

static void
a_repeated_login_waits_for_the_first(void **unused)
{
	static struct login	 first;
	const char		*hdrs[3] = { PSU[0],
	    "Idempotency-Key: login-async-once", NULL };
	struct res		 r;
	char			 path[128], user[64], *h;
	const char		*cid;

	(void)unused;
	done = 0;
	login_start(&first, "user_good", "login-async-once");
	usleep(500 * 1000);
	/* The same request again while the first waits on the bank. */
	assert_int_equal(logins_done(), 0);
	assert_int_equal(req(&S, "POST", "/v1/connections", S.token, hdrs,
	    first.body, strlen(first.body), &r), 0);
	assert_error(&r, 423, "RESOURCE_BUSY");
	assert_non_null(h = res_header(&r, "Retry-After"));
	free(h);
	res_free(&r);
	login_authorized(&first);
	cid = jstr(first.r.json, "connection.id");
	/* Once it answered, a repeat gets that answer, not a new login. */
	assert_int_equal(req(&S, "POST", "/v1/connections", S.token, hdrs,
	    first.body, strlen(first.body), &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "connection.id"), cid);
	assert_non_null(h = res_header(&r, "Idempotent-Replayed"));
	free(h);
	res_free(&r);
	/* The user has that one connection. */
	assert_non_null(strstr(first.body, "\"user_id\":\""));
	snprintf(user, sizeof(user), "%.32s", strstr(first.body,
	    "\"user_id\":\"") + 11);
	user[strcspn(user, "\"")] = '\0';
	snprintf(path, sizeof(path), "/v1/connections?user_id=%s", user);
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	assert_string_equal(jstr(r.json, "data.0.id"), cid);
	res_free(&r);
	res_free(&first.r);
}

/* Waits up to ms for the receiver to get an event of type about id. */
static int
event_seen(struct receiver *rx, const char *type, const char *id, int ms)
{
	long long	until = mono_ms() + ms;
	int		i, seen = 0;

	while (!seen && mono_ms() < until) {
		pthread_mutex_lock(&rx->lock);
		for (i = 0; i < rx->n; i++)
			if (strcmp(rx->got[i].type, type) == 0 &&
			    strcmp(rx->got[i].data_id, id) == 0 &&
			    rx->got[i].sig_ok)
				seen = 1;
		pthread_mutex_unlock(&rx->lock);
		if (!seen)
			usleep(100 * 1000);
	}
	return seen;
}

/* A receiver for s's webhook events, up. */
static struct receiver *
webhook_to(struct srv *s)
{
	struct receiver	*rx = rx_new(SECRET, 200);
	struct res	 r;
	char		 body[512], url[128];

	rx_up(rx);
	rx_url(rx, url, sizeof(url));
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\"%s\"}", url,
	    SECRET);
	assert_int_equal(req(s, "PUT", "/v1/webhook", s->token, NULL, body,
	    strlen(body), &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	return rx;
}

/* POST /v1/connections of a new user of s as user_sca_decoupled. */
static void
login_decoupled(struct srv *s, char cid[64], char sid[64])
{
	struct res	r;
	char		body[512], user[64];

	srv_new_user(s, user);
	login_body(body, sizeof(body), user, "user_sca_decoupled");
	assert_int_equal(req(s, "POST", "/v1/connections", s->token, PSU, body,
	    strlen(body), &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.challenges.0.kind"),
	    "decoupled");
	snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
	snprintf(sid, 64, "%s", jstr(r.json, "session.id"));
	res_free(&r);
}

static void
a_decoupled_approval_needs_no_reader(void **unused)
{
	struct receiver	*rx = webhook_to(&S);
	struct res	 r;
	char		 cid[64], sid[64], path[128];

	(void)unused;
	login_decoupled(&S, cid, sid);
	/* Nobody reads the session: the bank approves (5 s after the start,
	 * or at the third status request) and the poll hears of it. */
	assert_true(event_seen(rx, "connection.authorized", cid, 40000));
	assert_true(log_contains(&S, "event=poll"));
	snprintf(path, sizeof(path), "/v1/connections/%s", cid);
	assert_int_equal(get(&S, path, &r), 0);
	assert_string_equal(jstr(r.json, "status"), "authorized");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/sessions/%s", sid);
	assert_int_equal(get(&S, path, &r), 0);
	assert_string_equal(jstr(r.json, "status"), "authorized");
	assert_int_equal(json_array_size(jget(r.json, "challenges")), 0);
	res_free(&r);
	assert_int_equal(del(&S, "/v1/webhook", &r), 0);
	res_free(&r);
	rx_free(rx);
}

/* An answer on a thread of its own. */
struct answer {
	pthread_t	 th;
	char		 path[128];
	struct res	 r;
	int		 rc;
};

static void *
answer_main(void *arg)
{
	struct answer	*a = arg;

	a->rc = req(&S, "POST", a->path, S.token, PSU, "{\"answers\":"
	    "{\"tan\":\"123456\"}}", strlen("{\"answers\":{\"tan\":"
	    "\"123456\"}}"), &a->r);
	return NULL;
}

static void
an_answer_while_another_waits_is_busy(void **unused)
{
	static struct answer	 a;
	struct res		 r;
	char			 body[512], user[64], *h;

	(void)unused;
	srv_new_user(&S, user);
	login_body(body, sizeof(body), user, "user_mfa_tan");
	assert_int_equal(req(&S, "POST", "/v1/connections", S.token, PSU, body,
	    strlen(body), &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.challenges.0.kind"), "tan");
	snprintf(a.path, sizeof(a.path), "/v1/sessions/%s/answers",
	    jstr(r.json, "session.id"));
	res_free(&r);
	assert_int_equal(pthread_create(&a.th, NULL, answer_main, &a), 0);
	usleep(500 * 1000);
	/* The TAN is with the bank: a second answer does not race it. */
	assert_int_equal(req(&S, "POST", a.path, S.token, PSU, "{\"answers\":"
	    "{\"tan\":\"123456\"}}", strlen("{\"answers\":{\"tan\":"
	    "\"123456\"}}"), &r), 0);
	assert_error(&r, 423, "RESOURCE_BUSY");
	assert_non_null(h = res_header(&r, "Retry-After"));
	free(h);
	res_free(&r);
	assert_int_equal(pthread_join(a.th, NULL), 0);
	assert_int_equal(a.rc, 0);
	assert_status(&a.r, 200);
	assert_string_equal(jstr(a.r.json, "status"), "authorized");
	res_free(&a.r);
}

/* Another server on the slow bank, with one more setting; again: restart. */
static void
other_server(struct srv *s, const char *extra, int again)
{
	char		 url[128];
	const char	*env[] = { url, "BANKFEED_THREADS=2",
	    "BANKFEED_WEBHOOK_RETRY_BASE_MS=200", extra, NULL };

	snprintf(url, sizeof(url), "BANKFEED_SANDBOX_XS2A_URL=http://"
	    "127.0.0.1:%d", B.port);
	assert_int_equal(again ? srv_restart(s, env) : srv_start(s, env), 0);
}

static void
a_stop_answers_logins_still_with_the_bank(void **unused)
{
	static struct login	 l;
	struct srv		 s;
	struct res		 r;
	char			 path[256], user[64], *h;

	(void)unused;
	other_server(&s, "BANKFEED_SHUTDOWN_GRACE_SECONDS=2", 0);
	memset(&l, 0, sizeof(l));
	l.s = &s;
	login_start(&l, "user_good", NULL);
	usleep(500 * 1000);
	/* The stop gives it a second (half the grace), then answers 503. */
	srv_stop(&s);
	assert_int_equal(pthread_join(l.th, NULL), 0);
	assert_int_equal(l.rc, 0);
	assert_error(&l.r, 503, "SERVICE_UNAVAILABLE");
	assert_non_null(h = res_header(&l.r, "Retry-After"));
	free(h);
	res_free(&l.r);
	assert_true(log_contains(&s, "stopping: authorization still with the "
	    "bank"));
	/* As if it had not happened: the user has no connection. */
	other_server(&s, "BANKFEED_SHUTDOWN_GRACE_SECONDS=2", 1);
	snprintf(user, sizeof(user), "%.32s", strstr(l.body, "\"user_id\":\"") +
	    11);
	user[strcspn(user, "\"")] = '\0';
	snprintf(path, sizeof(path), "/v1/connections?user_id=%s", user);
	assert_int_equal(get(&s, path, &r), 0);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "data")), 0);
	res_free(&r);
	srv_cleanup(&s);
}

static void
the_poll_goes_on_after_a_restart(void **unused)
{
	struct srv	 s;
	struct receiver	*rx;
	char		 cid[64], sid[64];

	(void)unused;
	other_server(&s, "BANKFEED_LOG_LEVEL=info", 0);
	rx = webhook_to(&s);
	login_decoupled(&s, cid, sid);
	srv_stop(&s);
	other_server(&s, "BANKFEED_LOG_LEVEL=info", 1);
	/* The restarted server asks the bank again by itself. */
	assert_true(event_seen(rx, "connection.authorized", cid, 40000));
	rx_free(rx);
	srv_cleanup(&s);
}

static void
the_poll_ends_with_the_session(void **unused)
{
	struct srv	 s;
	struct receiver	*rx;
	struct res	 r;
	char		 cid[64], sid[64], path[128];

	(void)unused;
	/* Sessions live 3 s without a request: less than the bank needs. */
	other_server(&s, "BANKFEED_SESSION_IDLE_SECONDS=3", 0);
	rx = webhook_to(&s);
	login_decoupled(&s, cid, sid);
	/* The bank approves meanwhile, but after the session expired: the
	 * poll (which does not keep the session alive) asks no more. */
	assert_false(event_seen(rx, "connection.authorized", cid, 9000));
	assert_true(log_contains(&s, "event=poll"));
	snprintf(path, sizeof(path), "/v1/connections/%s", cid);
	assert_int_equal(get(&s, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "pending");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/sessions/%s", sid);
	assert_int_equal(get(&s, path, &r), 0);
	assert_error(&r, 410, "SESSION_EXPIRED");
	res_free(&r);
	rx_free(rx);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logins_on_a_slow_bank_leave_the_server_answering),
		cmocka_unit_test(a_repeated_login_waits_for_the_first),
		cmocka_unit_test(a_decoupled_approval_needs_no_reader),
		cmocka_unit_test(an_answer_while_another_waits_is_busy),
		cmocka_unit_test(a_stop_answers_logins_still_with_the_bank),
		cmocka_unit_test(the_poll_goes_on_after_a_restart),
		cmocka_unit_test(the_poll_ends_with_the_session),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
