/*
 * An XS2A bank through the public API: the real server, an institution of
 * protocol xs2a pointed at a scripted bank in this process (xs2a_bank.c).
 *
 * - Redirect SCA: the session shows a `redirect` challenge with the bank's
 *   URL; the bank's return to GET /v1/callback/xs2a?state=... (the state
 *   taken from the TPP-Redirect-URI the bank got) authorizes it.
 * - Decoupled SCA: reading the session asks the bank until it confirms.
 * - A sync of the authorized connection stores the bank's accounts and
 *   transactions; 20 syncs against a slow bank overlap (the engine is
 *   woken by the connector, no worker waits).
 * - The callback refuses a state this server did not make.
 *
 * The institution comes from an institutions file (BANKFEED_INSTITUTIONS)
 * written by the test, as an operator would.
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

#include <cmocka.h>

#include "core/errors.h"
#include "harness.h"
#include "xs2a_bank.h"

static struct srv	S;
static struct fb	bank;
static int		have_xs2a;
static char		inst_file[256];

static const char ACCOUNTS[] =
    "{\"accounts\":[{\"resourceId\":\"acc-1\",\"iban\":"
    "\"DE89370400440532013000\",\"currency\":\"EUR\",\"name\":\"Giro\","
    "\"cashAccountType\":\"CACC\",\"ownerName\":\"Erika Mustermann\"}]}";
static const char BALANCES[] =
    "{\"balances\":[{\"balanceAmount\":{\"currency\":\"EUR\",\"amount\":"
    "\"1500.25\"},\"balanceType\":\"closingBooked\",\"referenceDate\":"
    "\"2026-03-31\"}]}";
static const char TXNS[] =
    "{\"transactions\":{\"booked\":[{\"transactionId\":\"t1\","
    "\"bookingDate\":\"2026-01-05\",\"transactionAmount\":{\"currency\":"
    "\"EUR\",\"amount\":\"-12.30\"},\"creditorName\":\"Bäckerei\","
    "\"remittanceInformationUnstructured\":\"Brot\"},{\"transactionId\":"
    "\"t2\",\"bookingDate\":\"2026-01-06\",\"transactionAmount\":{"
    "\"currency\":\"EUR\",\"amount\":\"100.00\"},\"debtorName\":\"Max\"}],"
    "\"pending\":[]}}";

static void
rule(const char *method, const char *path, int status, const char *body,
    int delay_ms, int uses)
{
	struct fb_rule	r = { method, path, status, NULL, NULL, body, 0,
	    delay_ms, uses };

	fb_rule(&bank, &r);
}

static int
setup(void **unused)
{
	char		 url[128];
	const char	*env[] = { inst_file, NULL };
	struct res	 r;
	FILE		*f;

	(void)unused;
	fb_start(&bank);
	fb_url(&bank, url, sizeof(url));
	snprintf(inst_file, sizeof(inst_file), "/tmp/bankfeed-inst-%d.json",
	    (int)getpid());
	if ((f = fopen(inst_file, "w")) == NULL)
		return -1;
	fprintf(f, "[{\"id\":\"xs2a_test\",\"name\":\"XS2A Test Bank\","
	    "\"country\":\"DE\",\"bic\":\"TESTDEFFXXX\",\"protocol\":\"xs2a\","
	    "\"base_url\":\"%s\",\"sca_approaches\":[\"REDIRECT\","
	    "\"DECOUPLED\",\"EMBEDDED\"],\"requires_psu_ip\":false,"
	    "\"tpp_redirect_uri\":\"https://bankfeed.example/v1/callback/"
	    "xs2a\",\"status\":\"up\"}]\n", url);
	fclose(f);
	memmove(inst_file + strlen("BANKFEED_INSTITUTIONS="), inst_file,
	    strlen(inst_file) + 1);
	memcpy(inst_file, "BANKFEED_INSTITUTIONS=", strlen(
	    "BANKFEED_INSTITUTIONS="));
	if (srv_start(&S, env) != 0)
		return -1;
	assert_int_equal(get(&S, "/v1/institutions?q=XS2A%20Test", &r), 0);
	have_xs2a = r.status == 200 && r.body != NULL &&
	    strstr(r.body, "\"xs2a_test\"") != NULL;
	assert_true(have_xs2a);
	res_free(&r);
	return 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	srv_cleanup(&S);
	fb_stop(&bank);
	unlink(inst_file + strlen("BANKFEED_INSTITUTIONS="));
	return 0;
}

/* POST /v1/connections to xs2a_test, as the end user at 203.0.113.9. */
static void
connect_xs2a(struct res *r)
{
	static const char *const hdrs[] = { "PSU-IP-Address: 203.0.113.9",
	    NULL };
	char	user[64], body[512];

	srv_new_user(&S, user);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"xs2a_test\",\"credentials\":{\"username\":\"PSU-4711\","
	    "\"password\":\"-\"}}", user);
	assert_int_equal(req(&S, "POST", "/v1/connections", S.token, hdrs,
	    body, strlen(body), r), 0);
}

/* The state of the TPP-Redirect-URI of the last consent request. */
static void
state_sent(char *out, size_t n)
{
	struct fb_req	 r;
	size_t		 i;
	char		 v[1024];
	const char	*s = NULL;

	for (i = fb_count(&bank); i-- > 0;) {
		assert_int_equal(fb_get(&bank, i, &r), 0);
		free(r.body);
		if (strcmp(r.path, "/v1/consents") == 0 &&
		    fb_header(&r, "TPP-Redirect-URI", v, sizeof(v)) != NULL) {
			s = strstr(v, "state=");
			break;
		}
	}
	assert_non_null(s);
	snprintf(out, n, "%s", s + 6);
}

/* The bank sends the end user's browser back: no token, only the state. */
static void
come_back(const char *state, struct res *r)
{
	char	path[512];

	snprintf(path, sizeof(path), "/v1/callback/xs2a?state=%s", state);
	assert_int_equal(req(&S, "GET", path, NULL, NULL, NULL, 0, r), 0);
	assert_status(r, 200);
}

static void
sync_and_check(const char *cid)
{
	char		 path[256];
	struct res	 r;

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(post(&S, path, "{\"wait_seconds\":60}", &r), 0);
	assert_status(&r, 200);
	if (strcmp(jstr(r.json, "status"), "completed") != 0)
		fail_msg("sync: %s", r.body);
	assert_int_equal(jint(r.json, "result.accounts"), 1);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "data.0.iban"),
	    "DE89370400440532013000");
	assert_string_equal(jstr(r.json, "data.0.balances.0.amount"), "1500.25");
	res_free(&r);
}

static void
script_fetch(int delay_ms)
{
	rule("GET", "/v1/accounts", 200, ACCOUNTS, delay_ms, 0);
	rule("GET", "/v1/accounts/acc-1/balances", 200, BALANCES, 0, 0);
	rule("GET", "/v1/accounts/acc-1/transactions", 200, TXNS, delay_ms, 0);
}

static void
redirect_through_the_callback(void **unused)
{
	struct res	 r, s;
	char		 state[256], path[512], sid[64], cid[64];

	(void)unused;
	if (!have_xs2a)
		skip();
	fb_reset(&bank);
	rule("POST", "/v1/consents", 201, "{\"consentStatus\":\"received\","
	    "\"consentId\":\"cons-red\",\"_links\":{\"scaRedirect\":{\"href\":"
	    "\"https://www.testbank.com/authentication/cons-red\"}}}", 0, 0);
	rule("GET", "/v1/consents/cons-red/status", 200,
	    "{\"consentStatus\":\"valid\"}", 0, 0);
	script_fetch(0);
	connect_xs2a(&r);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.status"),
	    "challenge_required");
	assert_string_equal(jstr(r.json, "session.challenges.0.kind"),
	    "redirect");
	assert_string_equal(jstr(r.json, "session.challenges.0.url"),
	    "https://www.testbank.com/authentication/cons-red");
	snprintf(sid, sizeof(sid), "%s", jstr(r.json, "session.id"));
	snprintf(cid, sizeof(cid), "%s", jstr(r.json, "connection.id"));
	res_free(&r);
	state_sent(state, sizeof(state));
	come_back(state, &r);
	assert_non_null(strstr(r.body, "Access granted"));
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/sessions/%s", sid);
	assert_int_equal(get(&S, path, &s), 0);
	assert_string_equal(jstr(s.json, "status"), "authorized");
	res_free(&s);
	/* Back again (a reload): the same page, no second authorization. */
	come_back(state, &r);
	assert_non_null(strstr(r.body, "Access granted"));
	res_free(&r);
	sync_and_check(cid);
}

static void
decoupled_confirms_while_the_session_is_read(void **unused)
{
	struct res	r;
	char		path[256], sid[64];
	int		i;

	(void)unused;
	if (!have_xs2a)
		skip();
	fb_reset(&bank);
	{
		struct fb_rule c = { "POST", "/v1/consents", 201, NULL,
		    "ASPSP-SCA-Approach: DECOUPLED", "{\"consentStatus\":"
		    "\"received\",\"consentId\":\"cons-dec\",\"psuMessage\":"
		    "\"Confirm in your SecureGo app.\",\"_links\":{\"scaStatus\":"
		    "{\"href\":\"/v1/consents/cons-dec/authorisations/a-9\"}}}",
		    0, 0, 0 };

		fb_rule(&bank, &c);
	}
	rule("GET", "/v1/consents/cons-dec/authorisations/a-9", 200,
	    "{\"scaStatus\":\"started\"}", 0, 1);
	rule("GET", "/v1/consents/cons-dec/authorisations/a-9", 200,
	    "{\"scaStatus\":\"finalised\"}", 0, 0);
	rule("GET", "/v1/consents/cons-dec/status", 200,
	    "{\"consentStatus\":\"valid\"}", 0, 0);
	connect_xs2a(&r);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.challenges.0.kind"),
	    "decoupled");
	assert_string_equal(jstr(r.json, "session.challenges.0.prompt"),
	    "Confirm in your SecureGo app.");
	snprintf(sid, sizeof(sid), "%s", jstr(r.json, "session.id"));
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/sessions/%s", sid);
	for (i = 0; i < 10; i++) {
		assert_int_equal(get(&S, path, &r), 0);
		assert_status(&r, 200);
		if (strcmp(jstr(r.json, "status"), "authorized") == 0)
			break;
		assert_string_equal(jstr(r.json, "challenges.0.kind"),
		    "decoupled");
		res_free(&r);
		sleep(1);
	}
	assert_string_equal(jstr(r.json, "status"), "authorized");
	res_free(&r);
}

/* 20 syncs on a bank that takes a second per answer: they overlap. */
static void
syncs_waiting_on_a_slow_bank_overlap(void **unused)
{
	enum { N = 20 };
	struct res	 r;
	char		 cid[N][64], path[512], state[256], tid[N][64];
	time_t		 t0;
	int		 i, done;

	(void)unused;
	if (!have_xs2a)
		skip();
	for (i = 0; i < N; i++) {
		fb_reset(&bank);
		rule("POST", "/v1/consents", 201, "{\"consentStatus\":"
		    "\"received\",\"consentId\":\"c\",\"_links\":{"
		    "\"scaRedirect\":{\"href\":\"https://www.testbank.com/a\"}}}",
		    0, 0);
		rule("GET", "/v1/consents/c/status", 200,
		    "{\"consentStatus\":\"valid\"}", 0, 0);
		connect_xs2a(&r);
		snprintf(cid[i], sizeof(cid[i]), "%s",
		    jstr(r.json, "connection.id"));
		res_free(&r);
		state_sent(state, sizeof(state));
		come_back(state, &r);
		res_free(&r);
	}
	fb_reset(&bank);
	script_fetch(1000);
	t0 = time(NULL);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/v1/connections/%.63s/sync", cid[i]);
		assert_int_equal(post(&S, path, "{\"wait_seconds\":0}", &r), 0);
		assert_status(&r, 202);
		snprintf(tid[i], sizeof(tid[i]), "%s", jstr(r.json, "id"));
		res_free(&r);
	}
	for (done = 0; done < N && time(NULL) - t0 < 30;) {
		sleep(1);
		for (done = i = 0; i < N; i++) {
			snprintf(path, sizeof(path), "/v1/tasks/%.63s", tid[i]);
			assert_int_equal(get(&S, path, &r), 0);
			done += strcmp(jstr(r.json, "status"), "completed") == 0;
			res_free(&r);
		}
	}
	assert_int_equal(done, N);
	/* Each sync waits 2 s on the bank; 20 of them one after the other
	 * on 4 workers would take 10 s. */
	assert_true(time(NULL) - t0 <= 6);
}

static void
the_callback_refuses_a_state_it_did_not_make(void **unused)
{
	struct res	r;

	(void)unused;
	assert_int_equal(req(&S, "GET", "/v1/callback/xs2a?state="
	    "c2VzXzEyMzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9w", NULL, NULL, NULL, 0,
	    &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.state"));
	res_free(&r);
	assert_int_equal(req(&S, "GET", "/v1/callback/xs2a", NULL, NULL, NULL,
	    0, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_callback_refuses_a_state_it_did_not_make),
		cmocka_unit_test(redirect_through_the_callback),
		cmocka_unit_test(decoupled_confirms_while_the_session_is_read),
		cmocka_unit_test(syncs_waiting_on_a_slow_bank_overlap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
