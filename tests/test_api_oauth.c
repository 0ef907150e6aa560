/*
 * API tests of POST /oauth/token under abuse: the failure limits per
 * address and per client id, the cap on argon2id checks running at once,
 * unknown client ids, and the memory of verified secrets.  The real server
 * on loopback; other addresses are 127.0.0.2 and up (the whole of 127/8 is
 * local), which the server sees as other peers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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

/* POST /oauth/token from address ip (NULL: the usual one). */
static void
token_from(struct srv *s, const char *ip, const char *id, const char *secret,
    struct res *r)
{
	struct srv	from = *s;
	char		body[512];

	snprintf(from.source_ip, sizeof(from.source_ip), "%s", ip ? ip : "");
	snprintf(body, sizeof(body), "grant_type=client_credentials&"
	    "client_id=%s&client_secret=%s", id, secret);
	assert_int_equal(req(&from, "POST", "/oauth/token", NULL, form, body,
	    strlen(body), r), 0);
}

/* A token request from ip that must get status (200, 401 or 429). */
static void
expect_token(struct srv *s, const char *ip, const char *id,
    const char *secret, int status)
{
	struct res	r;

	token_from(s, ip, id, secret, &r);
	if (status == 401)
		assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	else if (status == 429)
		assert_error(&r, 429, "TOO_MANY_REQUESTS");
	else
		assert_status(&r, status);
	res_free(&r);
}

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

static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Retry-After is the true wait: with a bucket refilled every period
 * seconds that was full span_ms ago (as the test saw it), the wait is
 * period seconds less what has refilled since, rounded up.
 */
static void
assert_true_wait(int retry, int period, double span_ms)
{
	int	least = period - (int)(span_ms / 1000.0);

	if (retry > period || retry < (least > 1 ? least : 1))
		fail_msg("Retry-After %d, want %d (less the %.0f ms the test "
		    "took)", retry, period, span_ms);
}

/*
 * The server's peak resident memory since the last peak_reset(), in MiB:
 * an argon2id check fills 64 MiB, which shows here even after it is freed.
 */
static void
peak_reset(struct srv *s)
{
	char	 path[64];
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)s->pid);
	if ((f = fopen(path, "w")) == NULL)
		skip();		/* no way to see peaks here */
	fputs("5", f);
	fclose(f);
}

static long
peak_mib(struct srv *s)
{
	char	 path[64], line[256];
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	assert_true(kb > 0);
	return kb / 1024;
}

/*
 * Failed attempts from one address: once its bucket is empty it gets 429
 * with the true wait (30 a minute: 2 s, not a token "1"), other addresses
 * go on, and a client that fetched a token before is never refused.
 */
static void
failures_from_one_address_get_429_with_the_true_wait(void **state)
{
	struct srv	 s;
	struct res	 r;
	const char	*env[] = { "BANKFEED_OAUTH_FAILURES_PER_MINUTE=30",
	    "BANKFEED_OAUTH_FAILURE_BURST=1", NULL };
	double		 t0;
	int		 wait;

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	t0 = mono_ms();
	expect_token(&s, "127.0.0.1", "cli_nobody1", "bfs_x", 401);
	/* another client id, the same address */
	token_from(&s, "127.0.0.1", "cli_nobody2", "bfs_x", &r);
	assert_error(&r, 429, "TOO_MANY_REQUESTS");
	assert_int_equal(jint(r.json, "error.code"), 1055);
	wait = retry_after(&r);
	assert_true_wait(wait, 2, mono_ms() - t0);
	res_free(&r);

	expect_token(&s, "127.0.0.2", "cli_nobody3", "bfs_x", 401);
	/* The client with its right secret, from the blocked address. */
	expect_token(&s, "127.0.0.1", s.client_id, s.client_secret, 200);

	sleep((unsigned)wait);
	expect_token(&s, "127.0.0.1", "cli_nobody4", "bfs_x", 401);
	srv_cleanup(&s);
}

/*
 * Failed attempts on one client id, each from another address: the id's
 * bucket empties, so the next address is refused for that id (but not for
 * others), known and unknown ids alike; the client itself still gets its
 * tokens, and successes never use up anything.
 */
static void
failures_on_one_client_id_get_429_from_any_address(void **state)
{
	struct srv	 s;
	struct res	 r;
	const char	*env[] = { "BANKFEED_OAUTH_FAILURES_PER_MINUTE=30",
	    "BANKFEED_OAUTH_FAILURE_BURST=2", NULL };
	double		 t0;
	int		 i;

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	for (i = 0; i < 5; i++)
		expect_token(&s, "127.0.0.9", s.client_id, s.client_secret, 200);
	t0 = mono_ms();
	expect_token(&s, "127.0.0.2", s.client_id, "bfs_wrong", 401);
	expect_token(&s, "127.0.0.3", s.client_id, "bfs_wrong", 401);
	token_from(&s, "127.0.0.4", s.client_id, "bfs_wrong", &r);
	assert_error(&r, 429, "TOO_MANY_REQUESTS");
	assert_true_wait(retry_after(&r), 2, mono_ms() - t0);
	res_free(&r);
	expect_token(&s, "127.0.0.4", "cli_nobody", "bfs_wrong", 401);
	expect_token(&s, "127.0.0.5", s.client_id, s.client_secret, 200);

	/* An id that does not exist is limited the same way. */
	expect_token(&s, "127.0.0.6", "cli_ghost", "bfs_wrong", 401);
	expect_token(&s, "127.0.0.7", "cli_ghost", "bfs_wrong", 401);
	expect_token(&s, "127.0.0.8", "cli_ghost", "bfs_wrong", 429);
	srv_cleanup(&s);
}

/* POST /oauth/token from address ip saying X-Forwarded-For: xff. */
static void
token_via(struct srv *s, const char *ip, const char *xff, const char *id,
    struct res *r)
{
	struct srv	from = *s;
	char		body[256], hdr[256];
	const char	*headers[] = { form[0], hdr, NULL };

	snprintf(from.source_ip, sizeof(from.source_ip), "%s", ip);
	snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s", xff);
	snprintf(body, sizeof(body), "grant_type=client_credentials&"
	    "client_id=%s&client_secret=bfs_x", id);
	assert_int_equal(req(&from, "POST", "/oauth/token", NULL, headers,
	    body, strlen(body), r), 0);
}

static void
expect_via(struct srv *s, const char *ip, const char *xff, int status)
{
	static int	n;
	struct res	r;
	char		id[32];

	/* each attempt on another id: only the address's limit is at work */
	snprintf(id, sizeof(id), "cli_nobody%d", ++n);
	token_via(s, ip, xff, id, &r);
	if (r.status != status)
		fail_msg("from %s saying %s: status %ld, want %d: %s", ip, xff,
		    r.status, status, r.body);
	res_free(&r);
}

/*
 * Behind a reverse proxy every peer is the proxy.  With the proxy in
 * BANKFEED_TRUSTED_PROXIES, the address its X-Forwarded-For names is the
 * one limited, each client on its own; what a client writes to the left
 * of the proxy's entry changes nothing, and a peer that is not a trusted
 * proxy is limited as itself whatever it says.
 */
static void
trusted_proxies_name_the_client_untrusted_peers_cannot(void **state)
{
	struct srv	 s;
	const char	*env[] = { "BANKFEED_OAUTH_FAILURES_PER_MINUTE=30",
	    "BANKFEED_OAUTH_FAILURE_BURST=1",
	    "BANKFEED_TRUSTED_PROXIES=127.0.0.1, 10.0.0.0/8", NULL };

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	expect_via(&s, "127.0.0.1", "198.51.100.7", 401);
	expect_via(&s, "127.0.0.1", "198.51.100.7", 429);
	/* another client behind the same proxy has its own bucket */
	expect_via(&s, "127.0.0.1", "198.51.100.8:51234", 401);
	/* through a second trusted hop, and with a forged left part */
	expect_via(&s, "127.0.0.1", "198.51.100.7, 10.1.2.3", 429);
	expect_via(&s, "127.0.0.1", "203.0.113.99, 198.51.100.7", 429);
	expect_via(&s, "127.0.0.1", "[2001:db8::7]:443", 401);
	/* a peer that is no trusted proxy cannot pick its address */
	expect_via(&s, "127.0.0.2", "198.51.100.20", 401);
	expect_via(&s, "127.0.0.2", "198.51.100.21", 429);
	srv_cleanup(&s);
}

/* A list that does not parse stops the start, naming the bad entry. */
static void
a_bad_trusted_proxy_stops_the_start(void **state)
{
	char	 cmd[1024], out[4096];
	size_t	 n;
	FILE	*p;
	int	 status;

	(void)state;
	/* (a database of its own: the suite's PostgreSQL pass names one) */
	snprintf(cmd, sizeof(cmd), "env -u BANKFEED_DATABASE_URL "
	    "BANKFEED_TRUSTED_PROXIES='127.0.0.1, 10.0.0.0/33' %s serve --listen 127.0.0.1:0 --data-dir "
	    "\"$(mktemp -d)\" 2>&1", BANKFEED_BIN);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	assert_int_not_equal(status, 0);
	if (strstr(out, "BANKFEED_TRUSTED_PROXIES") == NULL ||
	    strstr(out, "10.0.0.0/33") == NULL)
		fail_msg("no word of the bad entry: %s", out);
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

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define SENDERS	4
#define PROBES	25

struct sender {
	struct srv	*s;
	atomic_int	*stop;
	char		 ip[32];
	int		 n401, n503, nother;
};

/*
 * Wrong secrets of a real client from k->ip, one after the other until
 * told to stop.
 */
static void *
send_wrong_secrets(void *arg)
{
	struct sender	*k = arg;
	struct srv	 from = *k->s;
	struct res	 r;
	char		 body[512];
	long		 status;

	snprintf(from.source_ip, sizeof(from.source_ip), "%s", k->ip);
	snprintf(body, sizeof(body), "grant_type=client_credentials&"
	    "client_id=%s&client_secret=bfs_wrong", from.client_id);
	while (!atomic_load(k->stop)) {
		if (req(&from, "POST", "/oauth/token", NULL, form, body,
		    strlen(body), &r) != 0)
			r.status = -1;
		status = r.status;
		res_free(&r);
		if (status == 401)
			k->n401++;
		else if (status == 503) {
			k->n503++;
			usleep(10000);	/* not a busy loop */
		} else
			k->nother++;
	}
	return NULL;
}

/*
 * argon2id takes a tenth of a second or more; were it run on an HTTP
 * thread, every connection of that thread would wait that long.  With one
 * HTTP thread and the checks kept busy with wrong secrets (from several
 * addresses at once; the failure limit of the client id is raised),
 * GET /health still answers at once.
 */
static void
secret_checks_do_not_stall_other_requests(void **state)
{
	struct srv	 s;
	struct res	 r;
	const char	*env[] = { "BANKFEED_THREADS=1",
	    "BANKFEED_OAUTH_MAX_HASHES=2", "BANKFEED_OAUTH_FAILURE_BURST=1000",
	    NULL };
	struct sender	 k[SENDERS];
	pthread_t	 t[SENDERS];
	atomic_int	 stop = 0;
	double		 lat[PROBES], t0;
	int		 i, n401 = 0, n503 = 0, nother = 0;

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	for (i = 0; i < SENDERS; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].s = &s;
		k[i].stop = &stop;
		snprintf(k[i].ip, sizeof(k[i].ip), "127.0.3.%d", i + 1);
		assert_int_equal(pthread_create(&t[i], NULL,
		    send_wrong_secrets, &k[i]), 0);
	}
	usleep(50000);
	for (i = 0; i < PROBES; i++) {
		t0 = mono_ms();
		assert_int_equal(req(&s, "GET", "/health", NULL, NULL, NULL, 0,
		    &r), 0);
		lat[i] = mono_ms() - t0;
		assert_status(&r, 200);
		res_free(&r);
		usleep(20000);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < SENDERS; i++) {
		pthread_join(t[i], NULL);
		n401 += k[i].n401;
		n503 += k[i].n503;
		nother += k[i].nother;
	}
	qsort(lat, PROBES, sizeof(lat[0]), cmp_double);
	printf("GET /health while checking secrets: median %.1f ms, "
	    "90th %.1f ms, max %.1f ms; token answers: %d 401, %d 503, "
	    "%d other\n", lat[PROBES / 2], lat[PROBES * 9 / 10],
	    lat[PROBES - 1], n401, n503, nother);
	assert_int_equal(nother, 0);
	assert_true(n401 >= 2);
	if (lat[PROBES / 2] >= 20.0)
		fail_msg("GET /health took %.1f ms (median) while secrets were "
		    "checked", lat[PROBES / 2]);
	srv_cleanup(&s);
}

/*
 * An id that does not exist is refused without an argon2id check (no
 * 64 MiB peak), with the same answer as a wrong secret and in about the
 * time one takes, so the time does not tell which ids exist.
 */
static void
unknown_client_ids_cost_no_argon2id(void **state)
{
	struct srv	 s;
	struct res	 r;
	char		 id[64], ip[32];
	double		 t0, known[3], unknown[3];
	char		*www;
	int		 i;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	for (i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "127.0.1.%d", i + 1);
		t0 = mono_ms();
		token_from(&s, ip, s.client_id, "bfs_wrong", &r);
		known[i] = mono_ms() - t0;
		assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
		res_free(&r);
	}
	peak_reset(&s);
	for (i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "127.0.2.%d", i + 1);
		snprintf(id, sizeof(id), "cli_doesnotexist%d", i);
		t0 = mono_ms();
		token_from(&s, ip, id, "bfs_wrong", &r);
		unknown[i] = mono_ms() - t0;
		assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
		assert_int_equal(jint(r.json, "error.code"), 1004);
		www = res_header(&r, "WWW-Authenticate");
		assert_string_equal(www, "Basic realm=\"bankfeed\"");
		free(www);
		res_free(&r);
	}
	assert_true(peak_mib(&s) < 48);
	qsort(known, 3, sizeof(known[0]), cmp_double);
	qsort(unknown, 3, sizeof(unknown[0]), cmp_double);
	if (unknown[1] < known[1] / 2)
		fail_msg("an unknown id is answered in %.0f ms, a wrong secret "
		    "in %.0f ms", unknown[1], known[1]);
	srv_cleanup(&s);
}

struct pending {
	struct srv	*s;
	const char	*id;
	struct res	 r;
};

static void *
pending_request(void *arg)
{
	struct pending	*p = arg;

	token_from(p->s, NULL, p->id, "bfs_wrong", &p->r);
	return NULL;
}

/*
 * A server told to stop while it holds an unknown id's answer and checks
 * a client's wrong secret (on the check pool) sends both answers and
 * stops cleanly (srv_stop fails the test on any other exit).
 */
static void
stopping_sends_held_and_checked_answers(void **state)
{
	struct srv	s;
	struct pending	p[2];
	pthread_t	t[2];
	int		i;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	for (i = 0; i < 2; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].s = &s;
		p[i].id = i == 0 ? "cli_doesnotexist" : s.client_id;
		assert_int_equal(pthread_create(&t[i], NULL, pending_request,
		    &p[i]), 0);
	}
	usleep(30000);
	srv_stop(&s);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_true(p[i].r.status == 401 || p[i].r.status == 503);
		res_free(&p[i].r);
	}
	srv_cleanup(&s);
}

/*
 * A client id and secret verified once are remembered: fetching tokens
 * again costs no argon2id check.  The memory holds only that exact pair
 * of a client that still exists: another secret is checked (and refused),
 * and a deleted client is refused at once.  Turned off, every fetch
 * checks, and a client's successes never count as failures.
 */
static void
verified_secrets_are_remembered_not_rehashed(void **state)
{
	struct srv	 s;
	const char	*off[] = { "BANKFEED_OAUTH_CACHE_SECONDS=0",
	    "BANKFEED_OAUTH_FAILURE_BURST=1", NULL };
	char		 cmd[1024];
	int		 i;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	peak_reset(&s);
	for (i = 0; i < 3; i++)
		expect_token(&s, NULL, s.client_id, s.client_secret, 200);
	assert_true(peak_mib(&s) < 48);
	expect_token(&s, NULL, s.client_id, "bfs_wrong", 401);

	snprintf(cmd, sizeof(cmd), "%s clients delete %s --data-dir %s "
	    ">/dev/null 2>&1", BANKFEED_BIN, s.client_id, s.dir);
	srv_use_db(&s);
	assert_int_equal(system(cmd), 0);
	expect_token(&s, NULL, s.client_id, s.client_secret, 401);
	srv_cleanup(&s);

	assert_int_equal(srv_start(&s, off), 0);
	peak_reset(&s);
	for (i = 0; i < 3; i++)
		expect_token(&s, NULL, s.client_id, s.client_secret, 200);
	assert_true(peak_mib(&s) >= 60);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    failures_from_one_address_get_429_with_the_true_wait),
		cmocka_unit_test(
		    failures_on_one_client_id_get_429_from_any_address),
		cmocka_unit_test(
		    trusted_proxies_name_the_client_untrusted_peers_cannot),
		cmocka_unit_test(a_bad_trusted_proxy_stops_the_start),
		cmocka_unit_test(concurrent_secret_checks_are_capped_with_503),
		cmocka_unit_test(secret_checks_do_not_stall_other_requests),
		cmocka_unit_test(unknown_client_ids_cost_no_argon2id),
		cmocka_unit_test(stopping_sends_held_and_checked_answers),
		cmocka_unit_test(verified_secrets_are_remembered_not_rehashed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
