/*
 * A PostgreSQL database that goes away and comes back (issue 13): the
 * test runs its own cluster (scripts/pg-cluster.sh), since it stops it,
 * and a real server on it.  Meanwhile requests get 503 SERVICE_UNAVAILABLE
 * with Retry-After; afterwards the server reconnects by itself and the
 * sync that was under way completes, its data stored.
 *
 * PostgreSQL only: skipped without BANKFEED_TEST_PG.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CLUSTER	BANKFEED_SOURCE_DIR "/scripts/pg-cluster.sh"

/* The test's own cluster, stopped by teardown however the test ends. */
static char	dir[] = "/tmp/bankfeed-pgout-XXXXXX";
static int	made;
static char	saved[512];

/* Runs the cluster script with args; its first line of output in out. */
static int
cluster(const char *args, char *out, size_t n)
{
	char	 cmd[1024], line[512] = "";
	FILE	*f;

	snprintf(cmd, sizeof(cmd), "bash '%s' %s", CLUSTER, args);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	while (fgets(cmd, sizeof(cmd), f) != NULL)
		;
	line[strcspn(line, "\n")] = '\0';
	if (out != NULL)
		snprintf(out, n, "%s", line);
	return pclose(f) == 0 ? 0 : -1;
}

static long
status_of(struct srv *s, const char *path, int *retry_after)
{
	struct res	 r;
	char		*h;
	long		 st;

	assert_int_equal(get(s, path, &r), 0);
	st = r.status;
	h = res_header(&r, "Retry-After");
	*retry_after = h != NULL ? atoi(h) : 0;
	if (st == 503)
		assert_string_equal(jstr(r.json, "error.name"),
		    "SERVICE_UNAVAILABLE");
	free(h);
	res_free(&r);
	return st;
}

static void
database_away_then_back(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0",
	    "BANKFEED_TASK_LEASE_SECONDS=3", "BANKFEED_SANDBOX_SLOW_MS=3000",
	    NULL };
	static const char *const psu[] = { "PSU-IP-Address: 192.0.2.3", NULL };
	char		 args[600], params[512], cid[64], tid[64], path[256];
	struct srv	 s;
	struct res	 r;
	json_t		*accs;
	time_t		 end;
	int		 retry;

	(void)state;
	if (!srv_pg())
		skip();
	assert_non_null(mkdtemp(dir));
	made = 1;
	snprintf(args, sizeof(args), "start '%s'", dir);
	assert_int_equal(cluster(args, params, sizeof(params)), 0);
	snprintf(saved, sizeof(saved), "%s", getenv("BANKFEED_TEST_PG"));
	setenv("BANKFEED_TEST_PG", params, 1);

	assert_int_equal(srv_start(&s, env), 0);
	s.internal_ok = 1;
	assert_int_equal(srv_connect(&s, "user_slow", cid), 0);
	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(req(&s, "POST", path, s.token, psu,
	    "{\"wait_seconds\":0}", 18, &r), 0);
	assert_int_equal(r.status / 100, 2);
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);

	/* The database stops while the sync waits at the bank. */
	usleep(300000);
	snprintf(args, sizeof(args), "pgctl '%s' stop -m fast -w", dir);
	assert_int_equal(cluster(args, NULL, 0), 0);
	assert_int_equal(status_of(&s, "/v1/users", &retry), 503);
	assert_true(retry >= 1);
	snprintf(path, sizeof(path), "/v1/tasks/%s", tid);
	assert_int_equal(status_of(&s, path, &retry), 503);
	assert_true(retry >= 1);
	sleep(1);
	assert_int_equal(status_of(&s, "/v1/users", &retry), 503);

	/* Back: the server reconnects by itself, the sync completes. */
	snprintf(args, sizeof(args), "pgctl '%s' start -w", dir);
	assert_int_equal(cluster(args, NULL, 0), 0);
	end = time(NULL) + 10;
	while (status_of(&s, "/v1/users", &retry) != 200) {
		assert_true(time(NULL) < end);
		usleep(200000);
	}
	end = time(NULL) + 60;
	for (;;) {
		assert_int_equal(get(&s, path, &r), 0);
		/* Each thread reconnects at its own next statement. */
		if (r.status == 503) {
			assert_true(time(NULL) < end);
			res_free(&r);
			usleep(200000);
			continue;
		}
		assert_status(&r, 200);
		if (strcmp(jstr(r.json, "status"), "completed") == 0)
			break;
		assert_string_not_equal(jstr(r.json, "status"), "failed");
		assert_true(time(NULL) < end);
		res_free(&r);
		usleep(200000);
	}
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	assert_non_null(accs = get_all(&s, path));
	assert_true(json_array_size(accs) > 0);
	json_decref(accs);
	assert_true(log_contains(&s, "database connection restored"));

	srv_cleanup(&s);
}

static int
teardown(void **state)
{
	char	args[600];

	(void)state;
	if (made) {
		setenv("BANKFEED_TEST_PG", saved, 1);
		snprintf(args, sizeof(args), "stop '%s'", dir);
		cluster(args, NULL, 0);
		made = 0;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(database_away_then_back, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
