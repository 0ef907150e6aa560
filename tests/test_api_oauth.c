/*
 * API tests of POST /oauth/token under abuse: the failure limits per
 * address and per client id, the cap on argon2id checks running at once,
 * unknown client ids, and the memory of verified secrets.  The real server
 * on loopback; other addresses are 127.0.0.2 and up (the whole of 127/8 is
 * local), which the server sees as other peers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include "harness.h"

static const char *const form[] = {
	"Content-Type: application/x-www-form-urlencoded", NULL };

static int
retry_after(struct res *r)
{
	char	*v = res_header(r, "Retry-After");
	long	 n;

	assert_non_null(v);
	n = strtol(v, NULL, 10);
	free(v);
	return (int)n;
}

#define RACERS 8

struct racer {
	struct srv		*s;
	pthread_barrier_t	*go;
	struct res		 r;
};

static void *
race(void *arg)
{
	struct racer	*k = arg;
	struct srv	 from = *k->s;
	char		 body[512];

	snprintf(body, sizeof(body), "grant_type=client_credentials&"
	    "client_id=%s&client_secret=bfs_wrong", from.client_id);
	pthread_barrier_wait(k->go);
	if (req(&from, "POST", "/oauth/token", NULL, form, body, strlen(body),
	    &k->r) != 0)
		k->r.status = -1;
	return NULL;
}

/* RACERS wrong secrets sent at once; counts the 401 and 503 answers. */
static void
race_round(struct srv *s, int *n401, int *n503)
{
	struct racer		 k[RACERS];
	pthread_t		 t[RACERS];
	pthread_barrier_t	 go;
	int			 i;

	pthread_barrier_init(&go, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].s = s;
		k[i].go = &go;
		assert_int_equal(pthread_create(&t[i], NULL, race, &k[i]), 0);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < RACERS; i++) {
		if (k[i].r.status == 401)
			(*n401)++;
		else {
			assert_error(&k[i].r, 503, "SERVICE_UNAVAILABLE");
			assert_true(retry_after(&k[i].r) >= 1);
			(*n503)++;
		}
		res_free(&k[i].r);
	}
}

/*
 * With one argon2id check allowed at a time, wrong secrets sent at once
 * are not queued behind each other: those that find the check busy get
 * 503 with Retry-After at once.  (Connections that one server thread
 * took together are served one after the other, never at once, so a
 * round may see no 503: up to five rounds.)
 */
static void
concurrent_secret_checks_are_capped_with_503(void **state)
{
	struct srv	 s;
	const char	*env[] = { "BANKFEED_OAUTH_MAX_HASHES=1",
	    "BANKFEED_THREADS=8", "BANKFEED_OAUTH_FAILURE_BURST=100", NULL };
	int		 round, n401 = 0, n503 = 0;

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	for (round = 0; round < 5 && n503 == 0; round++)
		race_round(&s, &n401, &n503);
	assert_true(n401 >= 1);
	assert_true(n503 >= 1);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_secret_checks_are_capped_with_503),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
