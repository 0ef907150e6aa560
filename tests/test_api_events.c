/*
 * Webhook events end to end: a real receiver on loopback hears of sessions
 * waiting for answers, authorized connections, and finished or failed
 * syncs, each signed; taken down for a while, it gets every event once it
 * is back.
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
#include "receiver.h"

#define SECRET "whsec_end_to_end_0123456789"

static int
saw(struct receiver *rx, const char *type, const char *data_id)
{
	int	i, n = 0;

	pthread_mutex_lock(&rx->lock);
	for (i = 0; i < rx->n; i++)
		if (strcmp(rx->got[i].type, type) == 0 &&
		    strcmp(rx->got[i].data_id, data_id) == 0 &&
		    rx->got[i].answered / 100 == 2) {
			assert_true(rx->got[i].sig_ok);
			assert_true(rx->got[i].shape_ok);
			assert_string_equal(rx->got[i].hdr_type, type);
			n++;
		}
	pthread_mutex_unlock(&rx->lock);
	return n;
}

static void
wait_saw(struct receiver *rx, const char *type, const char *data_id)
{
	int	tries;

	for (tries = 0; tries < 300 && saw(rx, type, data_id) == 0; tries++)
		usleep(50000);
	if (saw(rx, type, data_id) == 0)
		fail_msg("no %s event for %s", type, data_id);
}

/* PUTs the receiver as s's webhook (the body is left in body); the status. */
static long
put_webhook_to(struct srv *s, struct receiver *rx, char *body, size_t n)
{
	struct res	r;
	char		url[128];
	long		status;

	rx_url(rx, url, sizeof(url));
	snprintf(body, n, "{\"url\":\"%s\",\"secret\":\"%s\"}", url, SECRET);
	assert_int_equal(req(s, "PUT", "/v1/webhook", s->token, NULL, body,
	    strlen(body), &r), 0);
	status = r.status;
	res_free(&r);
	return status;
}

static void
events_of_a_connection_reach_the_receiver(void **state)
{
	const char	*env[] = { "BANKFEED_WEBHOOK_RETRY_BASE_MS=200",
	    "BANKFEED_WEBHOOK_RETRY_MAX_MS=400", NULL };
	struct receiver	*rx = rx_new(SECRET, 200);
	struct srv	 s;
	struct res	 r, a;
	char		 body[512], user[64], cid[64], sid[64], tid[64];
	char		 path[256], tid2[64], tid3[64];
	int		 i, j;

	(void)state;
	rx_up(rx);
	assert_int_equal(srv_start(&s, env), 0);
	assert_int_equal(put_webhook_to(&s, rx, body, sizeof(body)), 200);

	assert_int_equal(post(&s, "/v1/users", "{}", &r), 0);
	snprintf(user, sizeof(user), "%s", jstr(r.json, "id"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_mfa_question\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(post(&s, "/v1/connections", body, &r), 0);
	assert_status(&r, 201);
	snprintf(cid, sizeof(cid), "%s", jstr(r.json, "connection.id"));
	snprintf(sid, sizeof(sid), "%s", jstr(r.json, "session.id"));
	res_free(&r);
	wait_saw(rx, "session.challenge_required", sid);

	snprintf(path, sizeof(path), "/v1/sessions/%s/answers", sid);
	assert_int_equal(post(&s, path, "{\"answers\":{\"sq_car_colour\":"
	    "\"blue\"}}", &a), 0);
	assert_status(&a, 200);
	res_free(&a);
	wait_saw(rx, "connection.authorized", cid);

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(post(&s, path, "{\"wait_seconds\":30}", &r), 0);
	assert_string_equal(jstr(r.json, "status"), "completed");
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	wait_saw(rx, "task.completed", tid);

	/* The receiver goes down; two more syncs happen meanwhile. */
	rx_down(rx);
	assert_int_equal(req(&s, "POST", path, s.token, (const char *[]){
	    "PSU-IP-Address: 192.0.2.7", NULL }, "{\"wait_seconds\":30}", 19,
	    &r), 0);
	snprintf(tid2, sizeof(tid2), "%s", jstr(r.json, "id"));
	res_free(&r);
	assert_int_equal(req(&s, "POST", path, s.token, (const char *[]){
	    "PSU-IP-Address: 192.0.2.7", NULL }, "{\"wait_seconds\":30}", 19,
	    &r), 0);
	snprintf(tid3, sizeof(tid3), "%s", jstr(r.json, "id"));
	res_free(&r);
	sleep(2);	/* several failed attempts */
	rx_up(rx);
	wait_saw(rx, "task.completed", tid2);
	wait_saw(rx, "task.completed", tid3);

	/* every delivered event has its own id */
	pthread_mutex_lock(&rx->lock);
	for (i = 0; i < rx->n; i++)
		for (j = i + 1; j < rx->n; j++)
			if (rx->got[i].answered / 100 == 2 &&
			    rx->got[j].answered / 100 == 2)
				assert_string_not_equal(rx->got[i].id, rx->got[j].id);
	pthread_mutex_unlock(&rx->lock);

	/* a failed sync is announced too */
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_no_active_consent\","
	    "\"password\":\"pass_good\"}}", user);
	assert_int_equal(post(&s, "/v1/connections", body, &r), 0);
	snprintf(path, sizeof(path), "/v1/connections/%s/sync",
	    jstr(r.json, "connection.id"));
	res_free(&r);
	assert_int_equal(post(&s, path, "{\"wait_seconds\":30}", &r), 0);
	assert_string_equal(jstr(r.json, "status"), "failed");
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	wait_saw(rx, "task.failed", tid);

	assert_false(log_contains(&s, SECRET));
	srv_cleanup(&s);
	rx_down(rx);
	rx_free(rx);
}

/*
 * With BANKFEED_WEBHOOK_PRIVATE=0, a webhook set earlier to a loopback
 * receiver gets nothing: each delivery checks the address it connects to,
 * and says why it failed in the log.
 */
static void
private_receivers_are_refused_when_configured(void **state)
{
	const char	*closed[] = { "BANKFEED_WEBHOOK_PRIVATE=0",
	    "BANKFEED_WEBHOOK_RETRY_BASE_MS=200", NULL };
	struct receiver	*rx = rx_new(SECRET, 200);
	struct srv	 s;
	struct res	 r;
	char		 body[512];
	int		 n;

	(void)state;
	rx_up(rx);
	assert_int_equal(srv_start(&s, NULL), 0);
	assert_int_equal(put_webhook_to(&s, rx, body, sizeof(body)), 200);
	srv_stop(&s);
	assert_int_equal(srv_restart(&s, closed), 0);

	/* The loopback URL cannot be set now... */
	assert_int_equal(req(&s, "PUT", "/v1/webhook", s.token, NULL, body,
	    strlen(body), &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(strstr(r.body, "BANKFEED_WEBHOOK_PRIVATE=0"));
	res_free(&r);
	/* ...and the one set before is not delivered to. */
	assert_int_equal(post(&s, "/v1/users", "{}", &r), 0);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", jstr(r.json, "id"));
	res_free(&r);
	assert_int_equal(post(&s, "/v1/connections", body, &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	assert_true(log_wait(&s, "private and BANKFEED_WEBHOOK_PRIVATE is 0",
	    10000));
	pthread_mutex_lock(&rx->lock);
	n = rx->n;
	pthread_mutex_unlock(&rx->lock);
	assert_int_equal(n, 0);
	srv_cleanup(&s);
	rx_down(rx);
	rx_free(rx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_of_a_connection_reach_the_receiver),
		cmocka_unit_test(private_receivers_are_refused_when_configured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
