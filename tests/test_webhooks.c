/*
 * Webhook delivery against real receivers: small HTTP servers
 * (libmicrohttpd) on loopback ports inside this process, which record every
 * request and check its signature with the client's secret as a client's
 * endpoint would.  Events are queued with webhooks_enqueue() into a real
 * SQLite file and sent by the real delivery thread.  Retry timings are
 * shortened through the settings (base 100 ms, max 400 ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/vault.h"
#include "jobs/webhooks.h"
#include "store/store.h"

#define SECRET_A	"whsec_a_0123456789abcdefghij"
#define SECRET_B	"whsec_b_klmnopqrstuvwxyz98765"

#include "harness.h"
#include "receiver.h"

/* ---- the server side ---------------------------------------------------- */

static char	dir[64];
static char	dburl[512];
static int	saved_stderr = -1;

static struct db *
db(void)
{
	struct db	*d = store_db();

	assert_non_null(d);
	return d;
}

/* A client row, as `bankfeed clients create` leaves it (minus the hash). */
static void
new_client(char id[ID_MAX])
{
	id_new("cli", id);
	assert_int_equal(db_run(db(), "INSERT INTO clients (id, name, "
	    "secret_hash, created_at) VALUES (?, 'test', 'x', ?)", "ti", id,
	    (int64_t)time(NULL)), DB_OK);
}

static void
set_webhook(const char *client, struct receiver *rx)
{
	char		url[128];
	long long	created;

	rx_url(rx, url, sizeof(url));
	assert_int_equal(webhooks_set(db(), client, url, rx->secret,
	    strlen(rx->secret), &created), 0);
	assert_true(created > 0);
}

static void
enqueue(const char *client, const char *type, long seq)
{
	char	data[128];

	snprintf(data, sizeof(data), "{\"seq\":%ld,\"id\":\"tsk_x\"}", seq);
	assert_int_equal(webhooks_enqueue(db(), client, type, data), 0);
}

/* The outbox row of a client's event seq: attempts, delivered, last_error. */
static int
outbox_row(const char *client, long seq, long long *attempts, int *delivered,
    char *err, size_t errn)
{
	struct db_stmt	*s;
	char		 like[64];
	int		 found = 0;

	/* The payload's data as enqueue() wrote it (SQL both databases run). */
	snprintf(like, sizeof(like), "%%\"data\":{\"seq\":%ld,%%", seq);
	s = db_q(db(), "SELECT attempts, delivered_at, last_error FROM "
	    "webhook_outbox WHERE client_id = ? AND payload LIKE ?", "tt",
	    client, like);
	assert_non_null(s);
	if (db_step(s) == DB_ROW) {
		found = 1;
		*attempts = db_col_int(s, 0);
		*delivered = !db_col_null(s, 1);
		snprintf(err, errn, "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
	}
	db_done(s);
	return found;
}

static void
restart_delivery(long long base_ms, long long max_ms, long long max_age)
{
	webhooks_stop();
	cfg.webhook_retry_base_ms = base_ms;
	cfg.webhook_retry_max_ms = max_ms;
	cfg.webhook_max_age = max_age;
	assert_int_equal(webhooks_start(), 0);
}

static int
group_setup(void **state)
{
	char	 tmpl[] = "/tmp/bankfeed-webhooks-XXXXXX", logpath[128];
	char	 a0[] = "test", a1[] = "--webhook-retry-base-ms", a2[] = "100",
		 a3[] = "--webhook-retry-max-ms", a4[] = "400",
		 a5[] = "--webhook-timeout", a6[] = "1",
		 a7[] = "--shutdown-grace", a8[] = "2";
	char	*argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL };
	int	 argc = 9, fd;

	(void)state;
	if (sodium_init() < 0 || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	/* Every log line of the run goes to a file, to search it for secrets. */
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	if (config_load(&argc, argv) == -1)
		return -1;
	log_set_level(LOG_INFO);
	if (srv_pg()) {
		if (srv_pg_create(dburl, sizeof(dburl)) == -1)
			return -1;
	} else
		snprintf(dburl, sizeof(dburl), "sqlite:%s/bankfeed.db", dir);
	if (vault_init(dir) == -1 || store_init(dburl) == -1)
		return -1;
	return webhooks_start();
}

static int
group_teardown(void **state)
{
	char	cmd[256];

	(void)state;
	webhooks_stop();
	store_shutdown();
	if (srv_pg())
		srv_pg_drop(dburl);
	vault_shutdown();
	config_free();
	/* The log, for ctest --output-on-failure. */
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	snprintf(cmd, sizeof(cmd), "grep -v ' level=' %s/log >&2; tail -n 40 %s/log >&2; rm -rf %s",
	    dir, dir, dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

/* ---- the tests ------------------------------------------------------------ */

static void
events_arrive_signed_in_order(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX];
	int		 i, k;

	(void)state;
	new_client(cli);
	set_webhook(cli, rx);
	for (i = 0; i < 5; i++)
		enqueue(cli, i % 2 ? WEBHOOK_TASK_FAILED : WEBHOOK_TASK_COMPLETED, i);
	assert_int_equal(wait_delivered(rx, 0, 4, 5000), 0);
	sleep_ms(300);
	assert_int_equal(rx_count(rx), 5);	/* each once: all were 2xx */
	for (i = 0; i < 5; i++) {
		struct got *g = &rx->got[i];

		assert_int_equal(g->seq, i);
		assert_true(g->sig_ok);
		assert_true(g->shape_ok);
		assert_true(g->json_ct);
		assert_true(id_valid(g->id, "evt"));
		assert_string_equal(g->hdr_id, g->id);
		assert_string_equal(g->type, i % 2 ? "task.failed" : "task.completed");
		assert_string_equal(g->hdr_type, g->type);
		for (k = 0; k < i; k++)
			assert_string_not_equal(rx->got[k].id, g->id);
	}
	/* The signature is the secret's: the other client's key refuses it. */
	rx->secret = SECRET_B;
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 5);
	assert_int_equal(wait_count(rx, 6, 5000), 0);
	assert_false(rx->got[5].sig_ok);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

static void
nothing_is_queued_without_a_webhook(void **state)
{
	char		 cli[ID_MAX];
	struct db_stmt	*s;

	(void)state;
	new_client(cli);
	assert_int_equal(webhooks_enqueue(db(), cli, WEBHOOK_TASK_COMPLETED,
	    "{\"seq\":1}"), 0);
	s = db_q(db(), "SELECT COUNT(*) FROM webhook_outbox WHERE client_id = ?",
	    "t", cli);
	assert_non_null(s);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_col_int(s, 0), 0);
	db_done(s);
	/* What no receiver could parse is refused at once. */
	assert_int_equal(webhooks_enqueue(db(), cli, WEBHOOK_TASK_COMPLETED,
	    "{\"seq\":"), -1);
	assert_int_equal(webhooks_enqueue(db(), cli, WEBHOOK_TASK_COMPLETED,
	    "[1]"), -1);
}

/*
 * The "Done when" of issue 3: the receiver goes down for a while, events
 * keep coming, and once it is back it has every one, signed, in order.
 */
static void
receiver_down_then_back_gets_every_event(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX], ids[7][64], err[256];
	long		 last = -1;
	long long	 attempts;
	int		 i, delivered;

	(void)state;
	new_client(cli);
	set_webhook(cli, rx);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 0);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 1);
	assert_int_equal(wait_delivered(rx, 0, 1, 5000), 0);

	rx_down(rx);
	for (i = 2; i < 7; i++) {
		enqueue(cli, i == 4 ? WEBHOOK_CONNECTION_AUTHORIZED :
		    WEBHOOK_TASK_COMPLETED, i);
		sleep_ms(100);
	}
	sleep_ms(1000);
	/* It was tried again and again meanwhile. */
	assert_true(outbox_row(cli, 2, &attempts, &delivered, err, sizeof(err)));
	assert_false(delivered);
	assert_true(attempts >= 3);
	assert_non_null(strstr(err, "onnect"));
	/* The events behind it waited their turn. */
	assert_true(outbox_row(cli, 6, &attempts, &delivered, err, sizeof(err)));
	assert_int_equal(attempts, 0);

	rx_up(rx);	/* on the same port */
	assert_int_equal(wait_delivered(rx, 2, 6, 5000), 0);
	sleep_ms(200);
	memset(ids, 0, sizeof(ids));
	pthread_mutex_lock(&rx->lock);
	for (i = 0; i < rx->n; i++) {
		struct got *g = &rx->got[i];

		assert_true(g->sig_ok);
		assert_true(g->seq >= 0 && g->seq < 7);
		/* a repeat keeps its id; no two events share one */
		if (ids[g->seq][0] == '\0')
			snprintf(ids[g->seq], sizeof(ids[0]), "%s", g->id);
		assert_string_equal(ids[g->seq], g->id);
		/* first arrivals in order of creation */
		assert_true(g->seq >= last);
		last = g->seq;
	}
	pthread_mutex_unlock(&rx->lock);
	for (i = 0; i < 7; i++) {
		int k;

		assert_true(ids[i][0] != '\0');
		for (k = 0; k < i; k++)
			assert_string_not_equal(ids[k], ids[i]);
	}
	assert_true(outbox_row(cli, 2, &attempts, &delivered, err, sizeof(err)));
	assert_true(delivered);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

static void
failed_attempts_back_off_exponentially(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 503);
	char		 cli[ID_MAX], err[256];
	const int	 want[] = { 100, 200, 400, 400 };	/* capped at max */
	long long	 attempts;
	int		 i, n, delivered;
	int64_t		 gap;

	(void)state;
	new_client(cli);
	set_webhook(cli, rx);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_count(rx, 5, 5000), 0);
	for (i = 0; i < 4; i++) {
		gap = rx->got[i + 1].at - rx->got[i].at;
		if (gap < want[i] - 20 || gap > want[i] + 300)
			fail_msg("wait before attempt %d was %lld ms, want about %d",
			    i + 2, (long long)gap, want[i]);
	}
	assert_true(outbox_row(cli, 0, &attempts, &delivered, err, sizeof(err)));
	assert_string_equal(err, "HTTP 503");

	rx_set(rx, 200);
	assert_int_equal(wait_delivered(rx, 0, 0, 5000), 0);
	n = rx_count(rx);
	sleep_ms(600);
	assert_int_equal(rx_count(rx), n);	/* delivered: no more attempts */
	assert_true(outbox_row(cli, 0, &attempts, &delivered, err, sizeof(err)));
	assert_true(delivered);
	assert_int_equal(attempts, n);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

static void
events_are_given_up_after_max_age(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX], err[256];
	long long	 attempts;
	int		 delivered;

	(void)state;
	restart_delivery(100, 400, 2);
	new_client(cli);
	set_webhook(cli, rx);
	rx_down(rx);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 100);
	sleep_ms(3200);
	assert_true(outbox_row(cli, 100, &attempts, &delivered, err, sizeof(err)));
	assert_false(delivered);
	assert_true(attempts >= 3);
	assert_true(strncmp(err, "gave up after ", 14) == 0);

	rx_up(rx);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 101);
	assert_int_equal(wait_delivered(rx, 101, 101, 5000), 0);
	sleep_ms(300);
	assert_int_equal(rx_count(rx), 1);	/* the old one never came */
	/* Kept in the outbox, marked. */
	assert_true(outbox_row(cli, 100, &attempts, &delivered, err, sizeof(err)));
	assert_false(delivered);
	restart_delivery(100, 400, 86400);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

static void
a_slow_receiver_holds_up_no_other_client(void **state)
{
	struct receiver	*slow = rx_new(SECRET_A, 200), *fast = rx_new(SECRET_B, 200);
	char		 a[ID_MAX], b[ID_MAX], err[256];
	long long	 attempts;
	int64_t		 t0;
	int		 delivered;

	(void)state;
	slow->delay_ms = 1500;		/* past the 1 s webhook timeout */
	new_client(a);
	new_client(b);
	set_webhook(a, slow);
	set_webhook(b, fast);
	enqueue(a, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_count(slow, 1, 5000), 0);
	t0 = now_ms();
	enqueue(b, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_delivered(fast, 0, 0, 5000), 0);
	assert_true(fast->got[0].at - t0 < 500);
	assert_true(fast->got[0].sig_ok);
	/* The slow one timed out and waits for its retry. */
	sleep_ms(1200);
	assert_true(outbox_row(a, 0, &attempts, &delivered, err, sizeof(err)));
	assert_false(delivered);
	assert_true(attempts >= 1);
	assert_non_null(strstr(err, "imeout"));
	assert_int_equal(webhooks_delete(db(), a), 0);
	assert_int_equal(webhooks_delete(db(), b), 0);
	rx_free(slow);
	rx_free(fast);
}

static void
pending_events_survive_a_restart(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX];
	int		 i;

	(void)state;
	new_client(cli);
	set_webhook(cli, rx);
	rx_down(rx);
	for (i = 0; i < 3; i++)
		enqueue(cli, WEBHOOK_SESSION_CHALLENGE_REQUIRED, i);
	sleep_ms(300);
	/* The whole process's state goes: thread, connections. */
	webhooks_stop();
	store_shutdown();
	assert_int_equal(store_init(dburl), 0);
	rx_up(rx);
	assert_int_equal(webhooks_start(), 0);
	assert_int_equal(wait_delivered(rx, 0, 2, 5000), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rx->got[i].seq, i);
		assert_true(rx->got[i].sig_ok);
		assert_string_equal(rx->got[i].type, "session.challenge_required");
	}
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

/* Stopping waits for a delivery in flight: no repeat after the restart. */
static void
stopping_lets_a_delivery_in_flight_finish(void **state)
{
	struct receiver	*rx = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX], err[256];
	long long	 attempts;
	int		 delivered;

	(void)state;
	rx->delay_ms = 400;
	new_client(cli);
	set_webhook(cli, rx);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_count(rx, 1, 5000), 0);
	webhooks_stop();		/* while the receiver is still answering */
	assert_true(outbox_row(cli, 0, &attempts, &delivered, err, sizeof(err)));
	assert_true(delivered);
	assert_int_equal(webhooks_start(), 0);
	sleep_ms(500);
	assert_int_equal(rx_count(rx), 1);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(rx);
}

static void
a_new_url_gets_waiting_events_and_delete_drops_them(void **state)
{
	struct receiver	*old = rx_new(SECRET_A, 503), *neu = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX], err[256];
	long long	 attempts;
	int64_t		 t0;
	int		 delivered;

	(void)state;
	restart_delivery(5000, 60000, 86400);	/* a retry would be 5 s away */
	new_client(cli);
	set_webhook(cli, old);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_count(old, 1, 5000), 0);
	sleep_ms(100);
	t0 = now_ms();
	set_webhook(cli, neu);
	assert_int_equal(wait_delivered(neu, 0, 0, 3000), 0);
	assert_true(neu->got[0].at - t0 < 1000);

	/* Dropped with the webhook: never sent, even to a webhook set later. */
	rx_set(neu, 503);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 1);
	assert_int_equal(wait_count(neu, 2, 3000), 0);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	assert_int_equal(webhooks_delete(db(), cli), 1);
	assert_true(outbox_row(cli, 1, &attempts, &delivered, err, sizeof(err)));
	assert_true(strncmp(err, "dropped", 7) == 0);
	rx_set(neu, 200);
	set_webhook(cli, neu);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 2);
	assert_int_equal(wait_delivered(neu, 2, 2, 3000), 0);
	assert_int_equal(rx_delivered(neu, 1), 0);
	restart_delivery(100, 400, 86400);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(old);
	rx_free(neu);
}

static void
redirects_are_not_followed_and_big_answers_are_cut(void **state)
{
	struct receiver	*redir = rx_new(SECRET_A, 302), *target = rx_new(SECRET_A, 200);
	char		 cli[ID_MAX], err[256];
	long long	 attempts;
	int		 delivered;

	(void)state;
	rx_url(target, redir->location, sizeof(redir->location));
	new_client(cli);
	set_webhook(cli, redir);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 0);
	assert_int_equal(wait_count(redir, 2, 5000), 0);
	assert_int_equal(rx_count(target), 0);
	assert_true(outbox_row(cli, 0, &attempts, &delivered, err, sizeof(err)));
	assert_false(delivered);
	assert_string_equal(err, "HTTP 302");
	assert_int_equal(webhooks_delete(db(), cli), 0);

	/* 2 MB of answer: read up to the cap, and the 200 still counts. */
	target->big = 2u << 20;
	set_webhook(cli, target);
	enqueue(cli, WEBHOOK_TASK_COMPLETED, 1);
	assert_int_equal(wait_count(target, 1, 5000), 0);
	sleep_ms(500);
	assert_int_equal(rx_count(target), 1);
	assert_true(outbox_row(cli, 1, &attempts, &delivered, err, sizeof(err)));
	assert_true(delivered);
	assert_int_equal(attempts, 1);
	assert_int_equal(webhooks_delete(db(), cli), 0);
	rx_free(redir);
	rx_free(target);
}

static void
urls_are_checked(void **state)
{
	(void)state;
	assert_true(webhooks_url_ok("https://app.example.com/hooks/bankfeed"));
	assert_true(webhooks_url_ok("http://127.0.0.1:8080/x?y=1"));
	assert_true(webhooks_url_ok("http://[::1]:9/"));
	assert_false(webhooks_url_ok("ftp://example.com/"));
	assert_false(webhooks_url_ok("file:///etc/passwd"));
	assert_false(webhooks_url_ok("HTTP://example.com/"));
	assert_false(webhooks_url_ok("http://"));
	assert_false(webhooks_url_ok("example.com/hooks"));
	assert_false(webhooks_url_ok("http://exa mple.com/"));
	assert_false(webhooks_url_ok("http://example.com:99999/"));
}

/* Last: the log of every test above holds no secret. */
static void
no_secret_in_the_log(void **state)
{
	char	 path[128], line[8192];
	FILE	*f;
	int	 lines = 0;

	(void)state;
	fflush(stderr);
	snprintf(path, sizeof(path), "%s/log", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		assert_null(strstr(line, SECRET_A));
		assert_null(strstr(line, SECRET_B));
		assert_null(strstr(line, "whsec_"));
	}
	fclose(f);
	assert_true(lines > 10);	/* there was a log to search */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls_are_checked),
		cmocka_unit_test(events_arrive_signed_in_order),
		cmocka_unit_test(nothing_is_queued_without_a_webhook),
		cmocka_unit_test(receiver_down_then_back_gets_every_event),
		cmocka_unit_test(failed_attempts_back_off_exponentially),
		cmocka_unit_test(events_are_given_up_after_max_age),
		cmocka_unit_test(a_slow_receiver_holds_up_no_other_client),
		cmocka_unit_test(pending_events_survive_a_restart),
		cmocka_unit_test(stopping_lets_a_delivery_in_flight_finish),
		cmocka_unit_test(a_new_url_gets_waiting_events_and_delete_drops_them),
		cmocka_unit_test(redirects_are_not_followed_and_big_answers_are_cut),
		cmocka_unit_test(no_secret_in_the_log),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
