/*
 * Several bankfeed nodes on one PostgreSQL database (issue 13), as real
 * processes: three servers started on the same database (each with its
 * own data dir, the same master key), requests spread over them, one
 * killed with SIGKILL while its syncs run.
 *
 * PostgreSQL only: without BANKFEED_TEST_PG (scripts/pg-tests.sh sets it)
 * every test here is skipped.  SQLite is one node's database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "receiver.h"

#define NODES		3
#define CONNS		30
#define ROUNDS		10		/* CONNS * ROUNDS syncs: 300 */
#define KILL_ROUND	2
#define SECRET		"whsec_nodes_0123456789abcdef"
#define PSU		"PSU-IP-Address: 192.0.2.9"

static struct srv	 node[NODES];
static int		 alive[NODES];

/* Another node on first's database: its own dir and log, the same key. */
static void
join(struct srv *first, struct srv *n, const char *const *env)
{
	char	tmpl[] = "/tmp/bankfeed-test-XXXXXX", cmd[1024];

	*n = *first;
	assert_non_null(mkdtemp(tmpl));
	snprintf(n->dir, sizeof(n->dir), "%s", tmpl);
	snprintf(n->data, sizeof(n->data), "%s", tmpl);
	snprintf(n->log, sizeof(n->log), "%s/server.log", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -p '%s/master.key' '%s/'", first->data,
	    n->data);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(n->data, 0700), 0);
	assert_int_equal(srv_restart(n, env), 0);
}

static void
start_nodes(const char *const *env)
{
	int	i;

	assert_int_equal(srv_start(&node[0], env), 0);
	alive[0] = 1;
	for (i = 1; i < NODES; i++) {
		join(&node[0], &node[i], env);
		alive[i] = 1;
	}
}

static void
stop_nodes(void)
{
	int	i;

	/* The others first: the database is dropped with node 0. */
	for (i = NODES - 1; i >= 0; i--) {
		if (i > 0)
			node[i].db_url[0] = '\0';
		if (alive[i])
			srv_cleanup(&node[i]);
		else {
			node[i].pid = 0;
			srv_cleanup(&node[i]);
		}
		alive[i] = 0;
	}
}

/* The i-th node still running, counting round-robin from i. */
static struct srv *
pick(int i)
{
	int	k;

	for (k = 0; k < NODES; k++)
		if (alive[(i + k) % NODES])
			return &node[(i + k) % NODES];
	fail_msg("no node left");
	return NULL;
}

/* A new user's connection of the sandbox's username; its id. */
static void
connect_user(struct srv *s, const char *username, char cid[64])
{
	assert_int_equal(srv_connect(s, username, cid), 0);
}

/*
 * POST /v1/connections/{cid}/sync on s, without waiting: the status, the
 * task's id in tid (when there is one).  Attended (PSU) or not.
 */
static long
sync_start(struct srv *s, const char *cid, int attended, char tid[64],
    struct res *out)
{
	static const char *const psu[] = { PSU, NULL };
	const char	*body = "{\"wait_seconds\":0}";
	char		 path[256];
	struct res	 r;
	long		 status;

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(req(s, "POST", path, s->token, attended ? psu : NULL,
	    body, strlen(body), &r), 0);
	status = r.status;
	if (tid != NULL)
		snprintf(tid, 64, "%s", jstr(r.json, "id") ? jstr(r.json, "id") :
		    "");
	if (out != NULL)
		*out = r;
	else
		res_free(&r);
	return status;
}

/* The task's status, asked of any node still running ("" on failure). */
static void
task_status(const char *tid, char *status, size_t n, int i)
{
	struct res	r;
	char		path[256];

	snprintf(path, sizeof(path), "/v1/tasks/%s", tid);
	*status = '\0';
	if (get(pick(i), path, &r) == 0 && r.status == 200)
		snprintf(status, n, "%s", jstr(r.json, "status"));
	res_free(&r);
}

/* Waits until every task of ids is finished; fails after timeout_s. */
static void
wait_tasks(char (*ids)[64], int n, int timeout_s)
{
	char	status[32];
	time_t	end = time(NULL) + timeout_s;
	int	i = 0;

	while (i < n) {
		task_status(ids[i], status, sizeof(status), i);
		if (strcmp(status, "queued") != 0 &&
		    strcmp(status, "running") != 0 && status[0] != '\0') {
			i++;
			continue;
		}
		if (time(NULL) > end)
			fail_msg("task %s still %s after %d s", ids[i], status,
			    timeout_s);
		usleep(100000);
	}
}

/* Every transaction of a connection: how many, and none twice. */
static size_t
count_transactions(struct srv *s, const char *cid)
{
	json_t		*accs, *txs, *a, *t, *seen = json_object();
	char		 path[256];
	size_t		 i, j, n = 0;

	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	accs = get_all(s, path);
	assert_non_null(accs);
	assert_true(json_array_size(accs) > 0);
	json_array_foreach(accs, i, a) {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions",
		    jstr(a, "id"));
		txs = get_all(s, path);
		assert_non_null(txs);
		json_array_foreach(txs, j, t) {
			if (json_object_get(seen, jstr(t, "id")) != NULL)
				fail_msg("transaction %s twice", jstr(t, "id"));
			json_object_set_new(seen, jstr(t, "id"), json_true());
			n++;
		}
		json_decref(txs);
	}
	json_decref(accs);
	json_decref(seen);
	return n;
}

/* Whether the receiver got a 2xx delivery of type about data_id. */
static int
delivered(struct receiver *rx, const char *type, const char *data_id)
{
	int	i, found = 0;

	pthread_mutex_lock(&rx->lock);
	for (i = 0; i < rx->n && !found; i++)
		found = rx->got[i].answered / 100 == 2 && rx->got[i].sig_ok &&
		    strcmp(rx->got[i].type, type) == 0 &&
		    strcmp(rx->got[i].data_id, data_id) == 0;
	pthread_mutex_unlock(&rx->lock);
	return found;
}

/*
 * 300 syncs over three nodes, one node killed (SIGKILL) while its syncs
 * wait at the bank: every task completes (the others take its tasks over
 * once their lease ran out), every connection holds each transaction
 * once, and every task's webhook event is delivered.
 */
static void
syncs_survive_a_node_killed_mid_sync(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0",
	    "BANKFEED_TASK_LEASE_SECONDS=3", "BANKFEED_SANDBOX_SLOW_MS=1000",
	    "BANKFEED_WEBHOOK_RETRY_BASE_MS=200",
	    "BANKFEED_WEBHOOK_RETRY_MAX_MS=1000", NULL };
	static char	 tasks[CONNS * ROUNDS][64];
	struct receiver	*rx = rx_new(SECRET, 200);
	char		 cids[CONNS][64], control[64], url[128], body[512];
	char		 path[600], id[128], held[300];
	struct res	 r;
	FILE		*f;
	size_t		 want;
	long		 killed_running = 0;
	int		 c, k, n = 0;
	time_t		 end;

	(void)state;
	if (!srv_pg())
		skip();
	rx_up(rx);
	start_nodes(env);
	rx_url(rx, url, sizeof(url));
	snprintf(body, sizeof(body), "{\"url\":\"%s\",\"secret\":\"%s\"}", url,
	    SECRET);
	assert_int_equal(req(&node[1], "PUT", "/v1/webhook", node[1].token,
	    NULL, body, strlen(body), &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	for (c = 0; c < CONNS; c++)
		connect_user(pick(c), "user_slow", cids[c]);
	/* A statement that counts the tasks node 2 runs (its node.id). */
	snprintf(path, sizeof(path), "%s/node.id", node[2].data);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(id, sizeof(id), f));
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	snprintf(held, sizeof(held), "UPDATE tasks SET lease_owner = "
	    "lease_owner WHERE status = 'running' AND lease_owner = '%s'", id);

	for (k = 0; k < ROUNDS; k++) {
		for (c = 0; c < CONNS; c++) {
			long st = sync_start(pick(c + k), cids[c], 1, tasks[n],
			    NULL);

			if (st != 200 && st != 202)
				fail_msg("sync: status %ld", st);
			assert_true(tasks[n][0] != '\0');
			n++;
		}
		if (k == KILL_ROUND) {
			/* Once it runs syncs (they wait at the bank 1 s). */
			for (c = 0; c < 50 && killed_running <= 0; c++) {
				killed_running = srv_sql(&node[0], held);
				usleep(100000);
			}
			srv_kill(&node[2]);
			alive[2] = 0;
		}
		wait_tasks(tasks + n - CONNS, CONNS, 60);
	}
	assert_int_equal(n, CONNS * ROUNDS);
	assert_true(killed_running > 0);
	for (c = 0; c < n; c++) {
		char	status[32];

		task_status(tasks[c], status, sizeof(status), c);
		if (strcmp(status, "completed") != 0)
			fail_msg("task %s is %s", tasks[c], status);
	}
	assert_true(log_contains(&node[0], "took back tasks") ||
	    log_contains(&node[1], "took back tasks"));

	/* What one sync on one node stores is what every connection holds. */
	connect_user(pick(0), "user_slow", control);
	assert_int_equal(sync_start(pick(0), control, 1, tasks[0], NULL) / 100,
	    2);
	wait_tasks(tasks, 1, 60);
	want = count_transactions(pick(0), control);
	assert_true(want > 0);
	for (c = 0; c < CONNS; c++)
		assert_int_equal(count_transactions(pick(c), cids[c]), want);

	/* Every sync's event, delivered (at least once). */
	end = time(NULL) + 60;
	for (c = 0; c < n; c++)
		while (!delivered(rx, "task.completed", tasks[c])) {
			if (time(NULL) > end)
				fail_msg("no task.completed for %s", tasks[c]);
			usleep(100000);
		}
	stop_nodes();
	rx_free(rx);
}

/*
 * The database decides the PSD2 limit, not a node's memory: four
 * unattended syncs on different nodes use a connection's day, and the
 * fifth is refused whichever node gets it.
 */
static void
fifth_unattended_sync_refused_on_every_node(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0", NULL };
	char		 cid[64], tid[64];
	struct res	 r;
	int		 i;

	(void)state;
	if (!srv_pg())
		skip();
	start_nodes(env);
	connect_user(&node[0], "user_good", cid);
	for (i = 0; i < 4; i++) {
		assert_int_equal(sync_start(&node[i % NODES], cid, 0, tid, NULL) /
		    100, 2);
		wait_tasks(&tid, 1, 60);
	}
	for (i = 0; i < NODES; i++) {
		assert_int_equal(sync_start(&node[i], cid, 0, NULL, &r), 429);
		assert_string_equal(jstr(r.json, "error.name"),
		    "API_USAGE_LIMIT_REACHED");
		res_free(&r);
	}
	stop_nodes();
}

/* A client's requests spread over the nodes share one token bucket. */
static void
request_limit_is_shared_by_the_nodes(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=1",
	    "BANKFEED_RATE_BURST=20", NULL };
	struct res	 r;
	int		 i, ok = 0, last = 0;

	(void)state;
	if (!srv_pg())
		skip();
	start_nodes(env);
	/* srv_start's own requests took a token or two. */
	for (i = 0; i < 30; i++) {
		assert_int_equal(get(&node[i % NODES], "/v1/users", &r), 0);
		if (r.status == 200)
			ok++;
		else
			assert_error(&r, 429, "TOO_MANY_REQUESTS");
		last = i >= 27 ? last + (r.status == 429) : 0;
		res_free(&r);
	}
	/* Three nodes alone would have let 60 through. */
	assert_true(ok >= 17 && ok <= 22);
	assert_int_equal(last, NODES);
	stop_nodes();
}

static pthread_barrier_t	 together;

/*
 * Starts a node, then waits for the test's end: a server gets SIGKILL
 * when the thread that started it ends (PR_SET_PDEATHSIG, harness.c).
 */
static void *
start_one(void *arg)
{
	struct srv	*n = arg;

	if (srv_restart(n, NULL) != 0)
		n->port = -1;
	pthread_barrier_wait(&together);	/* all started */
	pthread_barrier_wait(&together);	/* all stopped */
	return NULL;
}

/*
 * Nodes started at the same moment on a new database: one applies each
 * migration, the others wait and find the schema made; all of them serve.
 */
static void
nodes_started_together_migrate_once(void **state)
{
	struct srv	 n[NODES];
	pthread_t	 t[NODES];
	char		 url[512], tmpl[32], want[64];
	struct res	 r;
	int		 i, v, migrated = 0;

	(void)state;
	if (!srv_pg())
		skip();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(srv_pg_create(url, sizeof(url)), 0);
	for (i = 0; i < NODES; i++) {
		memset(&n[i], 0, sizeof(n[i]));
		snprintf(tmpl, sizeof(tmpl), "/tmp/bankfeed-test-XXXXXX");
		assert_non_null(mkdtemp(tmpl));
		snprintf(n[i].dir, sizeof(n[i].dir), "%s", tmpl);
		snprintf(n[i].data, sizeof(n[i].data), "%s", tmpl);
		snprintf(n[i].log, sizeof(n[i].log), "%s/server.log", tmpl);
		snprintf(n[i].db_url, sizeof(n[i].db_url), "%s", url);
	}
	pthread_barrier_init(&together, NULL, NODES + 1);
	for (i = 0; i < NODES; i++)
		assert_int_equal(pthread_create(&t[i], NULL, start_one, &n[i]), 0);
	pthread_barrier_wait(&together);
	for (i = 0; i < NODES; i++) {
		assert_true(n[i].port > 0);
		for (v = 1; v <= 4; v++) {
			snprintf(want, sizeof(want), "msg=\"schema migrated\" "
			    "version=%d", v);
			migrated += log_contains(&n[i], want);
		}
		assert_int_equal(get(&n[i], "/health", &r), 0);
		assert_status(&r, 200);
		res_free(&r);
	}
	assert_int_equal(migrated, 4);	/* each once, on one node or another */
	for (i = NODES - 1; i >= 0; i--) {
		if (i > 0)
			n[i].db_url[0] = '\0';
		srv_cleanup(&n[i]);
	}
	pthread_barrier_wait(&together);
	for (i = 0; i < NODES; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&together);
}

/*
 * A task queued by a node that stopped before any node claimed it (as
 * written to the database): another node runs it all the same.
 */
static void
a_task_no_node_claimed_is_run(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0", NULL };
	char	 cid[64], tid[1][64], sql[512], from[11], to[11], status[32];
	time_t	 now = (time_t)srv_bank_now(), then = now - 30 * 86400;

	(void)state;
	if (!srv_pg())
		skip();
	start_nodes(env);
	connect_user(&node[0], "user_good", cid);
	strftime(from, sizeof(from), "%Y-%m-%d", gmtime(&then));
	strftime(to, sizeof(to), "%Y-%m-%d", gmtime(&now));
	snprintf(tid[0], sizeof(tid[0]), "tsk_orphanorphanorphanorphan");
	snprintf(sql, sizeof(sql), "INSERT INTO tasks (id, client_id, "
	    "connection_id, kind, status, params, created_at) VALUES ('%s', "
	    "'%s', '%s', 'sync', 'queued', '{\"from\":\"%s\",\"to\":\"%s\"}', "
	    "%lld)", tid[0], node[0].client_id, cid, from, to,
	    (long long)time(NULL));
	assert_int_equal(srv_sql(&node[0], sql), 1);
	wait_tasks(tid, 1, 20);
	task_status(tid[0], status, sizeof(status), 1);
	assert_string_equal(status, "completed");
	stop_nodes();
}

struct idem_call {
	struct srv	*s;
	const char	*key;
	long		 status;
	char		 id[64];
};

static void *
idem_post(void *arg)
{
	struct idem_call	*c = arg;
	char			 hdr[128];
	const char		*hdrs[] = { hdr, NULL };
	const char		*body = "{\"external_ref\":\"idem-nodes\"}";
	struct res		 r;

	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", c->key);
	if (req(c->s, "POST", "/v1/users", c->s->token, hdrs, body,
	    strlen(body), &r) == 0) {
		c->status = r.status;
		snprintf(c->id, sizeof(c->id), "%s", jstr(r.json, "id") ?
		    jstr(r.json, "id") : "");
	}
	res_free(&r);
	return NULL;
}

/*
 * One Idempotency-Key sent to every node at once: one user is made, and
 * each node answers with it (or, while the first request runs, 423
 * RESOURCE_BUSY, to try again); sent again later with another body, it is refused on any.
 */
static void
idempotency_key_holds_across_nodes(void **state)
{
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0", NULL };
	struct idem_call c[NODES];
	pthread_t	 t[NODES];
	const char	*other[] = { "Idempotency-Key: idem-k", NULL };
	struct res	 r;
	char		 first[64] = "";
	int		 i, made = 0;

	(void)state;
	if (!srv_pg())
		skip();
	start_nodes(env);
	for (i = 0; i < NODES; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].s = &node[i];
		c[i].key = "idem-k";
		assert_int_equal(pthread_create(&t[i], NULL, idem_post, &c[i]),
		    0);
	}
	for (i = 0; i < NODES; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NODES; i++) {
		if (c[i].status == 423)
			continue;	/* RESOURCE_BUSY: the first still ran */
		assert_int_equal(c[i].status, 201);
		if (made++ > 0)
			assert_string_equal(c[i].id, first);
		snprintf(first, sizeof(first), "%s", c[i].id);
	}
	assert_true(made >= 1);
	/* Again on each node: the same user, replayed. */
	for (i = 0; i < NODES; i++) {
		c[i].status = 0;
		idem_post(&c[i]);
		assert_int_equal(c[i].status, 201);
		if (i > 0)
			assert_string_equal(c[i].id, c[0].id);
	}
	assert_int_equal(req(&node[2], "POST", "/v1/users", node[2].token,
	    other, "{}", 2, &r), 0);
	assert_error(&r, 422, "IDEMPOTENCY_KEY_REUSED");
	res_free(&r);
	assert_int_equal(get(&node[1], "/v1/users?external_ref=idem-nodes", &r),
	    0);
	assert_int_equal(json_array_size(jget(r.json, "data")), 1);
	res_free(&r);
	stop_nodes();
}

/* A lease shorter than two renewals would lapse under a live node. */
static void
a_short_task_lease_is_refused(void **state)
{
	char	 cmd[600], out[512] = "";
	FILE	*f;
	size_t	 n;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s serve --listen 127.0.0.1:0 --data-dir "
	    "/nonexistent --task-lease 2 2>&1", BANKFEED_BIN);
	assert_non_null(f = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_int_not_equal(pclose(f), 0);
	assert_non_null(strstr(out, "task-lease must be at least 3"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syncs_survive_a_node_killed_mid_sync),
		cmocka_unit_test(fifth_unattended_sync_refused_on_every_node),
		cmocka_unit_test(request_limit_is_shared_by_the_nodes),
		cmocka_unit_test(nodes_started_together_migrate_once),
		cmocka_unit_test(idempotency_key_holds_across_nodes),
		cmocka_unit_test(a_task_no_node_claimed_is_run),
		cmocka_unit_test(a_short_task_lease_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
