/*
 * The XS2A connector.
 *
 * - Mapping: every back row of xs2a_codes.def, status fallbacks, the spec's own
 *   example bodies, and hostile bodies (invalid JSON, wrong types, missing
 *   fields, links to other hosts) through the parser functions directly.
 * - Flows against a scripted bank (xs2a_bank.c) on a loopback port:
 *   embedded, decoupled and redirect SCA, paging, camt bodies, per-account
 *   errors, 10 MB pages, HTML answers, retries, refused connections,
 *   timeouts, TLS failures, and many operations waiting at once.
 * - Prism (tests/prism, `npm ci` there first; skipped without it): the
 *   same flows relayed through Prism in mock mode with --errors on the
 *   NextGenPSD2 spec of ../shared/corpus; every request the connector
 *   sends must pass its validation.
 *
 *   The spec's authorisation bodies are oneOf [{}, updatePsuAuthentication,
 *   selectPsuAuthenticationMethod, transactionAuthorisation, ...]: the
 *   empty schema {} matches every body, so any body with content matches
 *   two alternatives and fails oneOf — no client can pass it.  Such a
 *   request is judged twice: by the official spec, where the only
 *   violations allowed are at ["request","body"], and by a copy of the
 *   spec in which `- {}` of those oneOfs reads as the empty object it
 *   stands for (maxProperties 0), where it must pass with none at all.
 */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <pthread.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "banks/institutions.h"
#include "banks/xs2a_int.h"
#include "doccheck.h"
#include "xs2a_bank.h"

#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "."
#endif
#define EXAMPLES BF_SOURCE_DIR "/../shared/corpus/xs2a/spec_examples/"
#define SPEC BF_SOURCE_DIR "/../shared/corpus/xs2a/psd2-api_v1.3.11-2021-10-01v1.yaml"
#define PRISM_DIR BF_SOURCE_DIR "/tests/prism"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct fb	bank;
static long long	clock_s = 1780000000;	/* the ctx's now, moved by tests */

/* ---- helpers ---- */

/* A file's bytes, NUL-terminated, or NULL. */
static char *
slurp(const char *path)
{
	size_t	n;

	return doc_slurp(path, &n);
}

static json_t *
example(const char *name)
{
	char	 path[512];
	json_t	*j;

	snprintf(path, sizeof(path), "%s%s", EXAMPLES, name);
	j = json_load_file(path, 0, NULL);
	if (j == NULL)
		fprintf(stderr, "missing spec example %s\n", path);
	return j;
}

static struct xs2a_resp
resp_of(long status, const char *ctype, const char *body)
{
	struct xs2a_resp	r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = body;
	r.len = strlen(body);
	snprintf(r.ctype, sizeof(r.ctype), "%s", ctype);
	r.retry_after = -1;
	return r;
}

/*
 * Makes xs2a_test an institution at url with the approaches sca (a JSON
 * list's inside, "\"REDIRECT\",\"EMBEDDED\""), through an institutions
 * file, as the server reads it.
 */
static void
use_url(const char *url, const char *sca, const char *redirect_uri)
{
	char	 path[] = "/tmp/bankfeed-xs2a-inst-XXXXXX";
	char	 extra[512] = "";
	FILE	*f;
	int	 fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	if (redirect_uri != NULL)
		snprintf(extra, sizeof(extra), ",\"tpp_redirect_uri\":\"%s\"",
		    redirect_uri);
	fprintf(f, "[{\"id\":\"xs2a_test\",\"name\":\"XS2A Test Bank\","
	    "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":\"%s\","
	    "\"sca_approaches\":[%s]%s}]\n", url, sca, extra);
	fclose(f);
	institutions_free();
	assert_int_equal(institutions_load(path, NULL, stderr), 0);
	unlink(path);
}

/* "REDIRECT,EMBEDDED" as a JSON list's inside. */
static void
use_bank(const char *sca, const char *redirect_uri)
{
	char	url[128], list[128];
	size_t	i, o = 0;

	fb_url(&bank, url, sizeof(url));
	list[o++] = '"';
	for (i = 0; sca[i] != '\0' && o + 4 < sizeof(list); i++) {
		if (sca[i] == ',') {
			memcpy(list + o, "\",\"", 3);
			o += 3;
		} else
			list[o++] = sca[i];
	}
	list[o++] = '"';
	list[o] = '\0';
	use_url(url, list, redirect_uri);
}

static void
rule(const char *method, const char *path, int status, const char *body)
{
	struct fb_rule	r = { method, path, status, NULL, NULL, body, 0, 0, 0 };

	fb_rule(&bank, &r);
}

/* A rule with one more header, used `uses` times (0: always). */
static void
rule_with(const char *method, const char *path, int status,
    const char *header, const char *body, int uses)
{
	struct fb_rule	r = { method, path, status, NULL, header, body, 0, 0,
	    uses };

	fb_rule(&bank, &r);
}

static void
rule_once(const char *method, const char *path, int status, const char *body)
{
	struct fb_rule	r = { method, path, status, NULL, NULL, body, 0, 0, 1 };

	fb_rule(&bank, &r);
}

static struct bank_ctx
ctx(void)
{
	struct bank_ctx	c = { .institution_id = "xs2a_test", .now = clock_s,
	    .psu_ip = "198.51.100.7", .callback_state = "St4te-0f_the-session" };

	return c;
}

static void
run(struct bank_op *op)
{
	const struct connector	*c = connector_for("xs2a");

	assert_non_null(op);
	bank_run_blocking(c, op);
	c->op_free(op);
}

static void
login(const char *user, const char *pw, struct bank_auth *a)
{
	const struct connector	*c = connector_for("xs2a");
	struct bank_ctx		 x = ctx();
	struct bank_secret	 s = { user, pw };

	bank_auth_init(a);
	run(c->login(&x, &s, a));
}

/* Answers with one key (or none), on a state copied from the last one. */
static void
answer(struct bank_auth *a, const char *key, const char *value)
{
	const struct connector	*c = connector_for("xs2a");
	struct bank_ctx		 x;
	struct bank_answer	 ans = { key, value };
	char			*state = strdup(buf_str(&a->state));

	clock_s += 10;
	x = ctx();
	bank_auth_free(a);
	bank_auth_init(a);
	run(c->answer(&x, state, &ans, key != NULL ? 1 : 0, a));
	free(state);
}

/* What a fetch delivered. */
struct got {
	char	 acc[16][128];
	int	 nacc;
	char	 accerr[16][128];
	enum err accerr_code[16];
	int	 naccerr;
	long	 ntx;
	char	 first_id[16][64];	/* first transaction id per account */
	int64_t	 sum;
	int	 npending;
	char	 last_cp[128];
	char	 last_desc[256];
	char	 balances[256];
};

static int
on_account(void *arg, const struct rec_account *a)
{
	struct got	*g = arg;
	size_t		 i;

	snprintf(g->acc[g->nacc], sizeof(g->acc[0]), "%s", a->bank_id);
	for (i = 0; i < a->nbalances; i++)
		snprintf(g->balances + strlen(g->balances), sizeof(g->balances) -
		    strlen(g->balances), "%s%s=%lld", g->balances[0] ? "," : "",
		    bal_type_name(a->balances[i].type),
		    (long long)a->balances[i].amount);
	g->nacc++;
	return 0;
}

static int
on_account_error(void *arg, const char *key, const struct bank_error *e)
{
	struct got	*g = arg;

	snprintf(g->accerr[g->naccerr], sizeof(g->accerr[0]), "%s", key);
	g->accerr_code[g->naccerr++] = e->code;
	return 0;
}

static int
on_txn(void *arg, const char *key, const struct rec_txn *t)
{
	struct got	*g = arg;
	int		 i;

	for (i = 0; i < g->nacc; i++)
		if (strcmp(g->acc[i], key) == 0 && g->first_id[i][0] == '\0')
			snprintf(g->first_id[i], sizeof(g->first_id[0]), "%s",
			    t->bank_id ? t->bank_id : "(none)");
	g->ntx++;
	g->sum += t->amount;
	g->npending += t->status == TXN_PENDING;
	snprintf(g->last_cp, sizeof(g->last_cp), "%s",
	    t->cp_name ? t->cp_name : "");
	snprintf(g->last_desc, sizeof(g->last_desc), "%s",
	    t->description ? t->description : "");
	return 0;
}

static void
fetch(const char *state, struct got *g, struct bank_fetch_result *res)
{
	const struct connector	*c = connector_for("xs2a");
	struct bank_ctx		 x = ctx();
	struct bank_fetch_req	 req = { "2026-01-01", "2026-03-31", NULL,
	    NULL, 0 };
	struct bank_sink	 sink = { g, on_account, on_account_error,
	    on_txn };

	memset(g, 0, sizeof(*g));
	bank_fetch_result_init(res);
	run(c->fetch(&x, state, &req, &sink, res));
}

/* The n-th request the bank got (freed by the caller's fb_req body). */
static struct fb_req
req_at(size_t i)
{
	struct fb_req	r;

	assert_int_equal(fb_get(&bank, i, &r), 0);
	return r;
}

static const char *
hdr(const struct fb_req *r, const char *name)
{
	static char	v[1024];

	return fb_header(r, name, v, sizeof(v));
}

static void
assert_uuid4(const char *s)
{
	size_t	i;

	assert_non_null(s);
	assert_int_equal(strlen(s), 36);
	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
	assert_int_equal(s[14], '4');
}

static const char AUTHORIZED_STATE[] =
    "{\"v\":1,\"consent\":\"cons-1\",\"authorized\":true}";

/* ---- mapping ---- */

/* The entry a T or S row gives at st without W rows, and per account. */
static enum err
row_entry(const struct xs2a_tpp_row *row, int st, int *pa)
{
	*pa = st == XS_ACCOUNT && row->at[XS_ACCOUNT] != ERR_OK;
	if (st == XS_ACCOUNT && !*pa)
		return row->at[XS_FETCH];
	return row->at[st];
}

/*
 * Every code of the table, at every stage: its entry and the bank's text
 * (words that no W row knows); on an account's own requests, the account
 * entry (marking that account) or the fetch's (failing the sync).
 */
static void
every_tpp_code_maps_to_its_entry_with_the_banks_text(void **unused)
{
	const struct xs2a_tpp_row *tpp = xs2a_tpp_rows;
	size_t			 i;
	int			 st;

	(void)unused;
	for (i = 0; i < xs2a_ntpp_rows; i++)
		for (st = 0; st < XS2A_NSTAGES; st++) {
			char			 body[512], text[64];
			struct xs2a_resp	 r;
			struct bank_error	 e;
			int			 pa = -1, want_pa;

			snprintf(text, sizeof(text), "The bank's words, row "
			    "%zu.", i);
			snprintf(body, sizeof(body), "{\"tppMessages\":[{"
			    "\"category\":\"ERROR\",\"code\":\"%s\",\"text\":"
			    "\"%s\"}]}", tpp[i].code, text);
			r = resp_of(tpp[i].http, "application/json", body);
			xs2a_map_error(&r, (enum xs2a_stage)st, &e, &pa);
			assert_int_equal(e.code, row_entry(&tpp[i], st,
			    &want_pa));
			assert_int_equal(pa, want_pa);
			assert_string_equal(e.message, text);
		}
	/* Every status row, an answer with an unknown code. */
	for (i = 0; i < xs2a_nstatus_rows; i++)
		for (st = 0; st < XS2A_NSTAGES; st++) {
			const struct xs2a_tpp_row *s = &xs2a_status_rows[i];
			struct xs2a_resp	 r;
			struct bank_error	 e;
			int			 pa = -1, want_pa;

			r = resp_of(s->http != 0 ? s->http : 418,
			    "application/json", "{\"tppMessages\":[{"
			    "\"category\":\"ERROR\",\"code\":\"NO_SUCH_CODE\"}]}");
			xs2a_map_error(&r, (enum xs2a_stage)st, &e, &pa);
			assert_int_equal(e.code, row_entry(s, st, &want_pa));
			assert_int_equal(pa, want_pa);
		}
	/* The spec's own list: each code named there is in the table. */
	{
		static const char *const spec_codes[] = {
			"CERTIFICATE_INVALID", "ROLE_INVALID",
			"CERTIFICATE_EXPIRED", "CERTIFICATE_BLOCKED",
			"CERTIFICATE_REVOKED", "CERTIFICATE_MISSING",
			"SIGNATURE_INVALID", "SIGNATURE_MISSING", "FORMAT_ERROR",
			"PARAMETER_NOT_CONSISTENT", "PARAMETER_NOT_SUPPORTED",
			"PSU_CREDENTIALS_INVALID", "SERVICE_INVALID",
			"SERVICE_BLOCKED", "CORPORATE_ID_INVALID",
			"CONSENT_UNKNOWN", "CONSENT_INVALID", "CONSENT_EXPIRED",
			"TOKEN_UNKNOWN", "TOKEN_INVALID", "TOKEN_EXPIRED",
			"RESOURCE_UNKNOWN", "RESOURCE_EXPIRED",
			"RESOURCE_BLOCKED", "TIMESTAMP_INVALID", "PERIOD_INVALID",
			"SCA_METHOD_UNKNOWN", "SCA_INVALID", "STATUS_INVALID",
			"SESSIONS_NOT_SUPPORTED", "ACCESS_EXCEEDED",
			"REQUESTED_FORMATS_INVALID", "PRODUCT_INVALID",
			"PRODUCT_UNKNOWN",
		};
		size_t	k;

		for (k = 0; k < NELEM(spec_codes); k++) {
			for (i = 0; i < xs2a_ntpp_rows; i++)
				if (strcmp(tpp[i].code, spec_codes[k]) == 0)
					break;
			if (i == xs2a_ntpp_rows)
				fail_msg("%s is not in xs2a_codes.def",
				    spec_codes[k]);
		}
	}
}

/*
 * Every W row: its code (or any), status, stage and path, or a sentence
 * with its first word in another case, gives its entry; the same answer
 * without them gives the T or S row's.
 */
static void
paths_and_words_tell_shared_codes_apart(void **unused)
{
	size_t	i;

	(void)unused;
	for (i = 0; i < xs2a_nwords_rows; i++) {
		const struct xs2a_words_row *w = &xs2a_words_rows[i];
		const struct xs2a_tpp_row *t;
		const char	*code = w->code[0] ? w->code : "BANK_OWN_CODE";
		char		 body[768], text[256], word[64];
		struct xs2a_resp r;
		struct bank_error e;
		size_t		 k, n = strcspn(w->words, "|");
		int		 http, pa, want_pa;

		t = xs2a_code_known(w->code);
		http = w->http != 0 ? w->http : t != NULL ? t->http : 400;
		for (k = 0; k < n && k + 1 < sizeof(word); k++)
			word[k] = (char)toupper((unsigned char)w->words[k]);
		word[k] = '\0';
		snprintf(text, sizeof(text), "Dear customer: %s (see above).",
		    word);
		snprintf(body, sizeof(body), "{\"tppMessages\":[{\"category\":"
		    "\"ERROR\",\"code\":\"%s\",\"path\":\"%s%s\",\"text\":"
		    "\"%s\"}]}", code, w->path, w->path[0] ? ".inner" : "",
		    text);
		r = resp_of(http, "application/json", body);
		xs2a_map_error(&r, w->stage, &e, &pa);
		if (e.code != w->entry)
			fail_msg("W row %zu (%s %s): %s", i, w->code, w->path[0] ?
			    w->path : w->words, err_name(e.code));
		assert_string_equal(e.message, text);
		/* Neither the path nor the words: the code's own row. */
		snprintf(body, sizeof(body), "{\"tppMessages\":[{\"category\":"
		    "\"ERROR\",\"code\":\"%s\",\"text\":\"Sorry.\"}]}",
		    code);
		r = resp_of(http, "application/json", body);
		xs2a_map_error(&r, w->stage, &e, &pa);
		assert_int_equal(e.code, row_entry(xs2a_code_back(http,
		    code), w->stage, &want_pa));
		assert_int_not_equal(e.code, w->entry);
	}
}

static void
errors_without_known_codes_map_by_status(void **unused)
{
	struct xs2a_resp	r;
	struct bank_error	e;
	int			pa;

	(void)unused;
	/* A gateway's HTML page is no answer of the interface. */
	r = resp_of(502, "text/html", "<html><body>Bad Gateway</body></html>");
	xs2a_map_error(&r, XS_FETCH, &e, &pa);
	assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
	assert_non_null(strstr(e.message, "502"));
	assert_non_null(strstr(e.message, "text/html"));
	r = resp_of(503, "application/json", "");
	xs2a_map_error(&r, XS_FETCH, &e, &pa);
	assert_int_equal(e.code, ERR_BANK_PROCESSING_NOT_POSSIBLE);
	r = resp_of(503, "application/json", "");
	xs2a_map_error(&r, XS_LOGIN, &e, &pa);
	assert_int_equal(e.code, ERR_LOGIN_NOT_POSSIBLE);
	r = resp_of(404, "application/json", "");
	xs2a_map_error(&r, XS_FETCH, &e, &pa);
	assert_int_equal(e.code, ERR_BANK_OR_ACCOUNT_UNKNOWN);
	assert_int_equal(pa, 0);
	xs2a_map_error(&r, XS_ACCOUNT, &e, &pa);
	assert_int_equal(e.code, ERR_BANK_OR_ACCOUNT_UNKNOWN);
	assert_int_equal(pa, 1);
	r = resp_of(302, "text/html", "");
	xs2a_map_error(&r, XS_LOGIN, &e, &pa);
	assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
	/* RFC 7807, which 1.3.x banks may send instead of tppMessages. */
	r = resp_of(401, "application/problem+json", "{\"type\":\"https://"
	    "berlingroup.com/error-codes/CONSENT_EXPIRED\",\"title\":\"Consent "
	    "expired\",\"detail\":\"The consent expired on 2026-01-01.\","
	    "\"code\":\"CONSENT_EXPIRED\"}");
	xs2a_map_error(&r, XS_FETCH, &e, &pa);
	assert_int_equal(e.code, ERR_NO_ACTIVE_CONSENT);
	assert_string_equal(e.message, "The consent expired on 2026-01-01.");
	/* An unknown code first, a known one after: the known one decides. */
	r = resp_of(400, "application/json", "{\"tppMessages\":[{\"category\":"
	    "\"ERROR\",\"code\":\"BANK_SPECIFIC_42\",\"text\":\"x\"},{"
	    "\"category\":\"ERROR\",\"code\":\"PERIOD_INVALID\",\"text\":"
	    "\"dateFrom is too old\"}]}");
	xs2a_map_error(&r, XS_FETCH, &e, &pa);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.message, "dateFrom is too old");
}

static void
spec_example_bodies_become_records(void **unused)
{
	static const char *const lists[] = { "accountListExample1.json",
	    "accountListExample2.json", "accountListExample3.json" };
	struct xs2a_account	*a;
	struct xs2a_page	 p;
	struct bank_error	 e;
	json_t			*j;
	size_t			 n, i;

	(void)unused;
	for (i = 0; i < NELEM(lists); i++) {
		if ((j = example(lists[i])) == NULL)
			skip();
		assert_int_equal(xs2a_parse_accounts(j, &a, &n, &e), 0);
		assert_true(n >= 1);
		assert_true(a[0].resource_id[0] != '\0');
		assert_true(a[0].key[0] != '\0');
		xs2a_accounts_free(a, n);
		json_decref(j);
	}
	/* Two sub-accounts of one multi-currency IBAN: two keys. */
	j = example("accountListExample2.json");
	assert_int_equal(xs2a_parse_accounts(j, &a, &n, &e), 0);
	if (n >= 2 && strcmp(a[0].iban, a[1].iban) == 0)
		assert_string_not_equal(a[0].key, a[1].key);
	xs2a_accounts_free(a, n);
	json_decref(j);
	j = example("balancesExample1_RegularAccount.json");
	a = calloc(1, sizeof(*a));
	assert_int_equal(xs2a_parse_balances(j, a, &e), 0);
	assert_true(a->nbal >= 1);
	json_decref(j);
	xs2a_accounts_free(a, 1);
	j = example("transactionsExample1_RegularAccount_json.json");
	assert_int_equal(xs2a_parse_transactions(j, "2026-02-01", &p, &e), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.txns[0].bank_id, "1234567");
	assert_int_equal(p.txns[0].amount, 25667);
	assert_string_equal(p.txns[0].booking_date, "2017-10-25");
	assert_string_equal(p.txns[0].description, "Example 1");
	assert_int_equal(p.txns[2].status, TXN_PENDING);
	assert_int_equal(p.txns[2].amount, -10003);
	assert_string_equal(p.txns[2].cp_name, "Claude Renault");
	assert_string_equal(p.txns[2].cp_iban, "FR7612345987650123456789014");
	/* Pending without bookingDate: its valueDate. */
	assert_string_equal(p.txns[2].booking_date, "2017-10-26");
	xs2a_page_free(&p);
	for (i = 0; i < 2; i++) {
		j = example(i ? "transactionsResponse200JsonExample.json" :
		    "transactionsExample3_MulticurrencyAccount_json.json");
		assert_non_null(j);
		assert_int_equal(xs2a_parse_transactions(j, "2026-02-01", &p,
		    &e), 0);
		/* The second holds only "information" (standing orders). */
		assert_int_equal(p.n, i ? 0 : 4);
		xs2a_page_free(&p);
	}
	/* A list too long to page: a download link instead. */
	j = example("transactionsExample2_Download_json.json");
	assert_int_equal(xs2a_parse_transactions(j, "2026-02-01", &p, &e), 0);
	assert_int_equal(p.n, 0);
	assert_true(p.next[0] != '\0');
	xs2a_page_free(&p);
}

/* Bodies a bank should not send: each is refused whole, with its reason. */
static void
hostile_bodies_are_refused_whole(void **unused)
{
	static const struct {
		const char	*body;
		const char	*why;
	} pages[] = {
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EUR\",\"amount\":12.5},\"bookingDate\":"
		  "\"2026-01-02\"}]}}", "amount" },
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EUR\",\"amount\":\"12.345\"},\"bookingDate\":"
		  "\"2026-01-02\"}]}}", "amount" },
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EURO\",\"amount\":\"1\"},\"bookingDate\":"
		  "\"2026-01-02\"}]}}", "currency" },
		{ "{\"transactions\":{\"booked\":[{\"bookingDate\":"
		  "\"2026-01-02\"}]}}", "transactionAmount" },
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EUR\",\"amount\":\"1\"}}]}}", "bookingDate" },
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EUR\",\"amount\":\"1\"},\"bookingDate\":"
		  "\"2026-02-30\"}]}}", "date" },
		{ "{\"transactions\":{\"booked\":{}}}", "array" },
		{ "{\"transactions\":\"none\"}", "object" },
		{ "{\"transactions\":{\"booked\":[{\"transactionAmount\":{"
		  "\"currency\":\"EUR\",\"amount\":\"1\"},\"bookingDate\":"
		  "\"2026-01-02\",\"transactionId\":42}]}}", "type" },
		{ "{\"transactions\":{\"booked\":[]," "\"_links\":{\"next\":{"
		  "\"href\":7}}}}", "href" },
		{ "{\"accounts\":[]}", "neither" },
	};
	static const struct {
		const char	*body;
		const char	*why;
	} lists[] = {
		{ "{\"accounts\":{}}", "accounts" },
		{ "{\"accounts\":[{\"iban\":\"DE02100100109307118603\"}]}",
		  "resourceId" },
		{ "{\"accounts\":[{\"resourceId\":\"a/../b\"}]}", "resourceId" },
		{ "{\"accounts\":[{\"resourceId\":\"x\"},{\"resourceId\":"
		  "\"x\"}]}", "Two accounts" },
		{ "{\"accounts\":[{\"resourceId\":\"x\",\"iban\":5}]}", "type" },
		{ "{\"accounts\":[{\"resourceId\":\"x\",\"balances\":[{"
		  "\"balanceType\":\"closingBooked\"}]}]}", "balanceAmount" },
	};
	struct xs2a_resp	 r;
	struct bank_error	 e;
	struct xs2a_page	 p;
	struct xs2a_account	*a;
	json_t			*j;
	size_t			 i, n;

	(void)unused;
	for (i = 0; i < NELEM(pages); i++) {
		j = json_loads(pages[i].body, 0, NULL);
		assert_non_null(j);
		memset(&e, 0, sizeof(e));
		if (xs2a_parse_transactions(j, "2026-02-01", &p, &e) != -1)
			fail_msg("page %zu was taken: %s", i, pages[i].body);
		assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
		if (strstr(e.message, pages[i].why) == NULL)
			fail_msg("page %zu: \"%s\" does not say %s", i,
			    e.message, pages[i].why);
		xs2a_page_free(&p);
	}
	for (i = 0; i < NELEM(lists); i++) {
		j = json_loads(lists[i].body, 0, NULL);
		assert_non_null(j);
		assert_int_equal(xs2a_parse_accounts(j, &a, &n, &e), -1);
		assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
		if (strstr(e.message, lists[i].why) == NULL)
			fail_msg("list %zu: \"%s\" does not say %s", i,
			    e.message, lists[i].why);
		assert_null(a);
		json_decref(j);
	}
	/* Not JSON at all, with or without a JSON Content-Type. */
	r = resp_of(200, "text/html", "<html><body>Maintenance</body></html>");
	assert_null(xs2a_json_body(&r, &e));
	assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
	r = resp_of(200, "application/json", "{\"accounts\": [");
	assert_null(xs2a_json_body(&r, &e));
	assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
	r = resp_of(200, "application/json", "[1, 2]");
	assert_null(xs2a_json_body(&r, &e));
}

static void
links_stay_on_the_banks_host(void **unused)
{
	static const char base[] = "https://api.bank.example:8443/psd2";
	static const struct {
		const char	*href;
		const char	*want;	/* NULL: refused */
	} links[] = {
		{ "/psd2/v1/accounts/a/transactions?page=2",
		  "https://api.bank.example:8443/psd2/v1/accounts/a/"
		  "transactions?page=2" },
		{ "https://api.bank.example:8443/psd2/v1/x",
		  "https://api.bank.example:8443/psd2/v1/x" },
		{ "https://API.Bank.Example:8443/psd2/v1/x",
		  "https://API.Bank.Example:8443/psd2/v1/x" },
		{ "v1/accounts?page=2",
		  "https://api.bank.example:8443/psd2/v1/accounts?page=2" },
		{ "https://evil.example/v1/accounts", NULL },
		{ "https://api.bank.example/v1/x", NULL },	/* port 443 */
		{ "http://api.bank.example:8443/v1/x", NULL },
		{ "https://api.bank.example:8443@evil.example/v1/x", NULL },
		{ "//evil.example/v1/x", NULL },
		{ "https://api.bank.example.evil.example:8443/x", NULL },
		{ "/v1/x\r\nX-Injected: 1", NULL },
		{ "www.test-api.com/xs2a/v1/accounts/1/transactions/download/",
		  NULL },
		{ "ftp://api.bank.example:8443/x", NULL },
	};
	struct bank_error	e;
	char			out[XS2A_URL_MAX];
	size_t			i;

	(void)unused;
	for (i = 0; i < NELEM(links); i++) {
		int rc = xs2a_link(base, links[i].href, out, sizeof(out), &e);

		if (links[i].want != NULL) {
			if (rc != 0)
				fail_msg("%s refused: %s", links[i].href,
				    e.message);
			assert_string_equal(out, links[i].want);
		} else {
			if (rc != -1)
				fail_msg("%s followed as %s", links[i].href, out);
			assert_int_equal(e.code, ERR_BANK_RESPONSE_INVALID);
		}
	}
}

static void
state_round_trips_and_keeps_no_secret(void **unused)
{
	struct xs2a_state	st, back;
	struct buf		b;

	(void)unused;
	memset(&st, 0, sizeof(st));
	snprintf(st.consent, sizeof(st.consent), "cons-1");
	snprintf(st.auth, sizeof(st.auth), "auth-9");
	snprintf(st.psu_id, sizeof(st.psu_id), "PSU-1");
	st.pending = PEND_METHOD;
	snprintf(st.prompt, sizeof(st.prompt), "Choose \"one\"");
	st.nmethods = 2;
	snprintf(st.methods[0].opt, BANK_OPTION_MAX, "sms");
	snprintf(st.methods[0].id, XS2A_ID_MAX, "sms");
	snprintf(st.methods[1].opt, BANK_OPTION_MAX, "method_2");
	snprintf(st.methods[1].id, XS2A_ID_MAX, "a-very-long-id");
	buf_init(&b, BANK_STATE_MAX);
	assert_int_equal(xs2a_state_write(&st, &b), 0);
	assert_int_equal(xs2a_state_read(buf_str(&b), &back), 0);
	assert_string_equal(back.consent, "cons-1");
	assert_string_equal(back.auth, "auth-9");
	assert_int_equal(back.pending, PEND_METHOD);
	assert_int_equal(back.nmethods, 2);
	assert_string_equal(back.methods[1].id, "a-very-long-id");
	assert_string_equal(back.prompt, "Choose \"one\"");
	buf_free(&b);
	assert_int_equal(xs2a_state_read("{\"v\":2}", &back), -1);
	assert_int_equal(xs2a_state_read("not json", &back), -1);
}

/* ---- flows against the scripted bank ---- */

static const char EMBEDDED_CONSENT[] =
    "{\"consentStatus\":\"received\",\"consentId\":\"cons-emb\","
    "\"_links\":{\"startAuthorisationWithPsuAuthentication\":{\"href\":"
    "\"/v1/consents/cons-emb/authorisations\"}}}";
static const char EMBEDDED_METHODS[] =
    "{\"scaStatus\":\"psuAuthenticated\",\"authorisationId\":\"auth-1\","
    "\"scaMethods\":[{\"authenticationType\":\"SMS_OTP\","
    "\"authenticationMethodId\":\"sms-1\",\"name\":\"SMS to +49 *** 567\"},"
    "{\"authenticationType\":\"PUSH_OTP\",\"authenticationMethodId\":"
    "\"push-2\",\"name\":\"SecureGo app\"}],\"_links\":{"
    "\"selectAuthenticationMethod\":{\"href\":\"/v1/consents/cons-emb/"
    "authorisations/auth-1\"}}}";
static const char EMBEDDED_TAN[] =
    "{\"scaStatus\":\"scaMethodSelected\",\"chosenScaMethod\":{"
    "\"authenticationType\":\"SMS_OTP\",\"authenticationMethodId\":"
    "\"sms-1\",\"name\":\"SMS to +49 *** 567\"},\"challengeData\":{"
    "\"otpMaxLength\":6,\"otpFormat\":\"integer\",\"additionalInformation\":"
    "\"Enter the TAN we sent to +49 *** 567.\"},\"_links\":{"
    "\"authoriseTransaction\":{\"href\":\"/v1/consents/cons-emb/"
    "authorisations/auth-1\"}}}";
static const char FINALISED[] =
    "{\"scaStatus\":\"finalised\",\"_links\":{\"scaStatus\":{\"href\":"
    "\"/v1/consents/cons-emb/authorisations/auth-1\"}}}";
static const char VALID[] = "{\"consentStatus\":\"valid\"}";

static void
embedded_sca_password_method_tan(void **unused)
{
	struct bank_auth	 a;
	struct fb_req		 r;
	json_t			*j;
	size_t			 i;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	rule_with("POST", "/v1/consents", 201, "ASPSP-SCA-Approach: EMBEDDED",
	    EMBEDDED_CONSENT, 0);
	rule("POST", "/v1/consents/cons-emb/authorisations", 201,
	    EMBEDDED_METHODS);
	rule_once("PUT", "/v1/consents/cons-emb/authorisations/auth-1", 200,
	    EMBEDDED_TAN);
	rule("PUT", "/v1/consents/cons-emb/authorisations/auth-1", 200,
	    FINALISED);
	rule("GET", "/v1/consents/cons-emb/status", 200, VALID);

	login("PSU-4711", "s3cret-Passw0rd", &a);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 1);
	assert_string_equal(a.challenges[0].key, "sca_method");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_CHOICE);
	assert_int_equal(a.challenges[0].noptions, 2);
	assert_string_equal(a.challenges[0].options[0], "sms-1");
	assert_string_equal(a.challenges[0].options[1], "push-2");
	assert_non_null(strstr(a.challenges[0].prompt, "SecureGo app"));
	assert_null(strstr(buf_str(&a.state), "s3cret"));

	answer(&a, "sca_method", "sms-1");
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_string_equal(a.challenges[0].key, "tan");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_TAN);
	assert_string_equal(a.challenges[0].prompt,
	    "Enter the TAN we sent to +49 *** 567.");

	answer(&a, "tan", "123456");
	assert_int_equal(a.outcome, BANK_AUTHORIZED);
	assert_non_null(strstr(buf_str(&a.state), "\"authorized\":true"));
	assert_null(strstr(buf_str(&a.state), "123456"));
	bank_auth_free(&a);

	/* What the bank got. */
	assert_int_equal(fb_count(&bank), 5);
	r = req_at(0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/v1/consents");
	assert_uuid4(hdr(&r, "X-Request-ID"));
	assert_string_equal(hdr(&r, "PSU-ID"), "PSU-4711");
	assert_string_equal(hdr(&r, "PSU-IP-Address"), "198.51.100.7");
	assert_string_equal(hdr(&r, "TPP-Redirect-Preferred"), "false");
	j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "access"), "allPsd2")), "allAccounts");
	assert_true(json_is_true(json_object_get(j, "recurringIndicator")));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "frequencyPerDay")), 4);
	assert_int_equal(strlen(json_string_value(json_object_get(j,
	    "validUntil"))), 10);
	json_decref(j);
	free(r.body);
	r = req_at(1);
	assert_string_equal(r.path, "/v1/consents/cons-emb/authorisations");
	assert_string_equal(r.body, "{\"psuData\":{\"password\":"
	    "\"s3cret-Passw0rd\"}}");
	assert_string_equal(hdr(&r, "PSU-ID"), "PSU-4711");
	free(r.body);
	r = req_at(2);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.body, "{\"authenticationMethodId\":\"sms-1\"}");
	free(r.body);
	r = req_at(3);
	assert_string_equal(r.body, "{\"scaAuthenticationData\":\"123456\"}");
	free(r.body);
	r = req_at(4);
	assert_string_equal(r.path, "/v1/consents/cons-emb/status");
	free(r.body);
	/* Every X-Request-ID differs. */
	for (i = 1; i < 5; i++) {
		struct fb_req	p = req_at(i - 1), q = req_at(i);
		char		a1[64], a2[64];

		assert_string_not_equal(fb_header(&p, "X-Request-ID", a1,
		    sizeof(a1)), fb_header(&q, "X-Request-ID", a2, sizeof(a2)));
		free(p.body);
		free(q.body);
	}
}

static void
embedded_wrong_password_and_wrong_tan(void **unused)
{
	struct bank_auth	a;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	rule("POST", "/v1/consents", 201, EMBEDDED_CONSENT);
	rule_once("POST", "/v1/consents/cons-emb/authorisations", 401,
	    "{\"tppMessages\":[{\"category\":\"ERROR\",\"code\":"
	    "\"PSU_CREDENTIALS_INVALID\",\"text\":\"Die PIN ist falsch.\"}]}");
	login("PSU-4711", "wrong", &a);
	assert_int_equal(a.outcome, BANK_FAILED);
	assert_int_equal(a.error.code, ERR_LOGIN_CREDENTIALS_INVALID);
	assert_string_equal(a.error.message, "Die PIN ist falsch.");
	bank_auth_free(&a);
	/* The POST that failed with 401 is not sent again. */
	assert_int_equal(fb_count(&bank), 2);

	rule("POST", "/v1/consents/cons-emb/authorisations", 201, EMBEDDED_TAN);
	rule("PUT", "/v1/consents/cons-emb/authorisations/auth-1", 401,
	    "{\"tppMessages\":[{\"category\":\"ERROR\",\"code\":"
	    "\"PSU_CREDENTIALS_INVALID\",\"text\":\"TAN falsch.\"}]}");
	login("PSU-4711", "right", &a);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_string_equal(a.challenges[0].key, "tan");
	answer(&a, "tan", "000000");
	assert_int_equal(a.outcome, BANK_FAILED);
	if (a.error.code != ERR_INVALID_TAN)
		fail_msg("%s: %s", err_name(a.error.code), a.error.message);
	assert_string_equal(a.error.message, "TAN falsch.");
	bank_auth_free(&a);
}

static void
decoupled_sca_polls_until_confirmed(void **unused)
{
	struct bank_auth	a;
	struct fb_req		r;
	size_t			before;

	(void)unused;
	fb_reset(&bank);
	use_bank("DECOUPLED", NULL);
	rule_with("POST", "/v1/consents", 201, "ASPSP-SCA-Approach: DECOUPLED",
	    "{\"consentStatus\":\"received\",\"consentId\":\"cons-dec\","
	    "\"_links\":{\"startAuthorisationWithPsuIdentification\":{"
	    "\"href\":\"/v1/consents/cons-dec/authorisations\"}}}", 0);
	rule("POST", "/v1/consents/cons-dec/authorisations", 201,
	    "{\"scaStatus\":\"received\",\"authorisationId\":\"123auth456\","
	    "\"psuMessage\":\"Please use your BankApp for transaction "
	    "Authorisation.\",\"_links\":{\"scaStatus\":{\"href\":\"/v1/"
	    "consents/cons-dec/authorisations/123auth456\"}}}");
	rule_with("GET", "/v1/consents/cons-dec/authorisations/123auth456",
	    200, "Retry-After: 5", "{\"scaStatus\":\"started\"}", 1);
	rule("GET", "/v1/consents/cons-dec/authorisations/123auth456", 200,
	    "{\"scaStatus\":\"finalised\"}");
	rule("GET", "/v1/consents/cons-dec/status", 200, VALID);

	login("PSU-4711", "unused", &a);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_string_equal(a.challenges[0].key, "decoupled");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_DECOUPLED);
	assert_string_equal(a.challenges[0].prompt, "Please use your BankApp "
	    "for transaction Authorisation.");
	r = req_at(1);
	assert_string_equal(r.body, "{}");
	assert_string_equal(hdr(&r, "PSU-ID"), "PSU-4711");
	free(r.body);

	answer(&a, NULL, NULL);		/* 10 s later: asks, still started */
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_DECOUPLED);
	before = fb_count(&bank);
	/* Within the bank's Retry-After (5 s): no request at all. */
	clock_s -= 8;
	answer(&a, NULL, NULL);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_int_equal(fb_count(&bank), before);
	answer(&a, NULL, NULL);
	assert_int_equal(a.outcome, BANK_AUTHORIZED);
	bank_auth_free(&a);
}

static void
redirect_sca_waits_for_the_return(void **unused)
{
	struct bank_auth	a;
	struct fb_req		r;

	(void)unused;
	fb_reset(&bank);
	use_bank("REDIRECT,DECOUPLED", "https://bankfeed.example/v1/callback/xs2a");
	rule_with("POST", "/v1/consents", 201, "ASPSP-SCA-Approach: REDIRECT",
	    "{\"consentStatus\":\"received\",\"consentId\":\"cons-red\","
	    "\"_links\":{\"scaRedirect\":{\"href\":\"https://www.testbank."
	    "com/authentication/cons-red\"},\"scaStatus\":{\"href\":\"/v1/"
	    "consents/cons-red/authorisations/123auth567\"}}}", 0);
	rule_once("GET", "/v1/consents/cons-red/status", 200,
	    "{\"consentStatus\":\"received\"}");
	rule("GET", "/v1/consents/cons-red/status", 200, VALID);

	login("", "", &a);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_string_equal(a.challenges[0].key, "redirect");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_REDIRECT);
	assert_string_equal(a.challenges[0].url,
	    "https://www.testbank.com/authentication/cons-red");
	r = req_at(0);
	assert_string_equal(hdr(&r, "TPP-Redirect-Preferred"), "true");
	assert_string_equal(hdr(&r, "TPP-Redirect-URI"), "https://bankfeed."
	    "example/v1/callback/xs2a?state=St4te-0f_the-session");
	assert_null(hdr(&r, "PSU-ID"));
	free(r.body);
	/* Back too early: the same challenge again. */
	answer(&a, "redirect", "returned");
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	assert_string_equal(a.challenges[0].url,
	    "https://www.testbank.com/authentication/cons-red");
	answer(&a, "redirect", "returned");
	assert_int_equal(a.outcome, BANK_AUTHORIZED);
	bank_auth_free(&a);

	/* The end user cancels at the bank. */
	fb_reset(&bank);
	rule("POST", "/v1/consents", 201, "{\"consentStatus\":\"received\","
	    "\"consentId\":\"c2\",\"_links\":{\"scaRedirect\":{\"href\":"
	    "\"https://www.testbank.com/a/c2\"}}}");
	rule("GET", "/v1/consents/c2/status", 200, "{\"consentStatus\":"
	    "\"rejected\"}");
	login("", "", &a);
	answer(&a, "redirect", "returned");
	assert_int_equal(a.outcome, BANK_FAILED);
	assert_int_equal(a.error.code, ERR_GENERIC_USER_ERROR);
	bank_auth_free(&a);
}

/* A bank that refuses allPsd2: the consent again, the PSU picks accounts. */
static void
a_refused_all_accounts_consent_is_asked_without_accounts(void **unused)
{
	struct bank_auth	 a;
	struct fb_req		 r;
	json_t			*j, *acc;

	(void)unused;
	fb_reset(&bank);
	use_bank("REDIRECT", NULL);
	rule_once("POST", "/v1/consents", 400, "{\"tppMessages\":[{"
	    "\"category\":\"ERROR\",\"code\":\"PARAMETER_NOT_SUPPORTED\","
	    "\"text\":\"allPsd2 is not supported\"}]}");
	rule("POST", "/v1/consents", 201, "{\"consentStatus\":\"received\","
	    "\"consentId\":\"c3\",\"_links\":{\"scaRedirect\":{\"href\":"
	    "\"https://www.testbank.com/a/c3\"}}}");
	login("", "", &a);
	assert_int_equal(a.outcome, BANK_CHALLENGE);
	bank_auth_free(&a);
	r = req_at(1);
	j = json_loads(r.body, 0, NULL);
	acc = json_object_get(j, "access");
	assert_null(json_object_get(acc, "allPsd2"));
	assert_int_equal(json_array_size(json_object_get(acc, "accounts")), 0);
	assert_true(json_is_array(json_object_get(acc, "transactions")));
	json_decref(j);
	free(r.body);
}

static const char ACCOUNTS[] =
    "{\"accounts\":[{\"resourceId\":\"acc-1\",\"iban\":"
    "\"DE89370400440532013000\",\"currency\":\"EUR\",\"name\":\"Giro\","
    "\"cashAccountType\":\"CACC\",\"ownerName\":\"Erika Mustermann\"},"
    "{\"resourceId\":\"acc-2\",\"maskedPan\":\"123456******1234\","
    "\"currency\":\"EUR\",\"product\":\"Visa\"}]}";
static const char BALANCES[] =
    "{\"balances\":[{\"balanceAmount\":{\"currency\":\"EUR\",\"amount\":"
    "\"1500.25\"},\"balanceType\":\"closingBooked\",\"referenceDate\":"
    "\"2026-03-31\"},{\"balanceAmount\":{\"currency\":\"EUR\",\"amount\":"
    "\"1400.00\"},\"balanceType\":\"interimAvailable\","
    "\"lastChangeDateTime\":\"2026-03-31T10:00:00Z\"},{\"balanceAmount\":"
    "{\"currency\":\"EUR\",\"amount\":\"0\"},\"balanceType\":"
    "\"nonInvoiced\"}]}";
static const char PAGE1[] =
    "{\"transactions\":{\"booked\":[{\"transactionId\":\"t1\","
    "\"bookingDate\":\"2026-01-05\",\"valueDate\":\"2026-01-05\","
    "\"transactionAmount\":{\"currency\":\"EUR\",\"amount\":\"-12.30\"},"
    "\"creditorName\":\"Bäckerei\",\"creditorAccount\":{\"iban\":"
    "\"DE02100100109307118603\"},\"remittanceInformationUnstructuredArray\":"
    "[\"Brot\",\"und Brötchen\"]}],\"pending\":[],\"_links\":{\"next\":{"
    "\"href\":\"/v1/accounts/acc-1/transactions?page=2\"}}}}";
static const char PAGE2[] =
    "{\"transactions\":{\"booked\":[{\"entryReference\":\"e2\","
    "\"bookingDate\":\"2026-01-06\",\"transactionAmount\":{\"currency\":"
    "\"EUR\",\"amount\":\"100\"},\"debtorName\":\"Max\","
    "\"remittanceInformationStructured\":{\"reference\":\"RF18539007547034\""
    "}}],\"pending\":[{\"transactionAmount\":{\"currency\":\"EUR\","
    "\"amount\":\"-3.50\"},\"remittanceInformationUnstructured\":"
    "\"Kaffee\"}]}}";
static const char CAMT[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
    "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-31T20:00:00"
    "</CreDtTm></GrpHdr><Stmt><Id>S1</Id><Acct><Id><Othr><Id>1234</Id>"
    "</Othr></Id><Ccy>EUR</Ccy></Acct>"
    "<Ntry><NtryRef>camt-1</NtryRef><Amt Ccy=\"EUR\">20.00</Amt><CdtDbtInd>"
    "DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-02-01</Dt></BookgDt>"
    "<AcctSvcrRef>camt-ref-1</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>"
    "Card payment</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    "</Stmt></BkToCstmrStmt></Document>\n";

/* A rule whose answer the bank holds delay_ms first. */
static void
rule_late(const char *path, const char *body, int delay_ms)
{
	struct fb_rule	r = { "GET", path, 200, NULL, NULL, body, 0, delay_ms,
	    0 };

	fb_rule(&bank, &r);
}

/*
 * After the list, the accounts' requests go out at once: with every
 * answer of an account 700 ms late, the sync takes about two of them (the
 * list, then all the rest together), not five one after the other.  Yet
 * the sink gets the accounts in the list's order, each account's record
 * before its transactions, though the second account's answers come
 * first; and an account that fails on its own requests is marked while
 * the others are read.
 */
static void
accounts_are_read_at_once_in_their_order(void **unused)
{
	struct got		 g;
	struct bank_fetch_result res;
	long long		 t0, ms;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	rule("GET", "/v1/accounts", 200, ACCOUNTS);
	rule_late("/v1/accounts/acc-1/balances", BALANCES, 700);
	rule_late("/v1/accounts/acc-1/transactions", "{\"transactions\":{"
	    "\"booked\":[{\"transactionId\":\"a1\",\"bookingDate\":"
	    "\"2026-01-02\",\"transactionAmount\":{\"currency\":\"EUR\","
	    "\"amount\":\"-1.00\"}}]}}", 700);
	rule_late("/v1/accounts/acc-2/balances", BALANCES, 50);
	rule_late("/v1/accounts/acc-2/transactions", "{\"transactions\":{"
	    "\"booked\":[{\"transactionId\":\"b1\",\"bookingDate\":"
	    "\"2026-01-03\",\"transactionAmount\":{\"currency\":\"EUR\","
	    "\"amount\":\"2.00\"}}]}}", 50);
	t0 = bank_monotonic_ms();
	fetch(AUTHORIZED_STATE, &g, &res);
	ms = bank_monotonic_ms() - t0;
	if (res.error.code != ERR_OK)
		fail_msg("%s: %s", err_name(res.error.code), res.error.message);
	assert_int_equal(fb_count(&bank), 5);
	/* One after the other: 2 x 700 ms at least. */
	if (ms >= 1400)
		fail_msg("the accounts were read one after the other (%lld ms)",
		    ms);
	assert_int_equal(g.nacc, 2);
	assert_string_equal(g.acc[0], "DE89370400440532013000");
	assert_string_equal(g.acc[1], "123456******1234");
	/* Each account's transactions came after its record. */
	assert_string_equal(g.first_id[0], "a1");
	assert_string_equal(g.first_id[1], "b1");
	assert_int_equal(g.ntx, 2);
	bank_fetch_result_free(&res);

	/* The first account's balances fail on their own: it is marked, in
	 * its turn, and the second is read. */
	fb_reset(&bank);
	rule("GET", "/v1/accounts", 200, ACCOUNTS);
	{
		struct fb_rule	r = { "GET", "/v1/accounts/acc-1/balances", 404,
		    NULL, NULL, "{\"tppMessages\":[{\"category\":\"ERROR\","
		    "\"code\":\"RESOURCE_UNKNOWN\",\"text\":\"No such "
		    "account.\"}]}", 0, 300, 0 };

		fb_rule(&bank, &r);
	}
	rule_late("/v1/accounts/acc-1/transactions", PAGE2, 600);
	rule_late("/v1/accounts/acc-2/balances", BALANCES, 0);
	rule_late("/v1/accounts/acc-2/transactions", PAGE2, 0);
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(g.naccerr, 1);
	assert_string_equal(g.accerr[0], "DE89370400440532013000");
	assert_int_equal(g.accerr_code[0], ERR_BANK_OR_ACCOUNT_UNKNOWN);
	assert_int_equal(g.nacc, 1);
	assert_string_equal(g.acc[0], "123456******1234");
	bank_fetch_result_free(&res);
}

static void
fetch_pages_balances_and_statement_bodies(void **unused)
{
	struct got		  g;
	struct bank_fetch_result  res;
	struct fb_req		  r;
	size_t			  i;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	rule("GET", "/v1/accounts", 200, ACCOUNTS);
	rule("GET", "/v1/accounts/*/balances", 200, BALANCES);
	rule_once("GET", "/v1/accounts/acc-1/transactions", 200, PAGE1);
	rule_once("GET", "/v1/accounts/acc-1/transactions", 200, PAGE2);
	/* The card account's bank offers no JSON: camt.053. */
	rule_once("GET", "/v1/accounts/acc-2/transactions", 406,
	    "{\"tppMessages\":[{\"category\":\"ERROR\",\"code\":"
	    "\"REQUESTED_FORMATS_INVALID\"}]}");
	{
		struct fb_rule x = { "GET", "/v1/accounts/acc-2/transactions",
		    200, "application/xml", NULL, CAMT, 0, 0, 0 };

		fb_rule(&bank, &x);
	}
	fetch(AUTHORIZED_STATE, &g, &res);
	if (res.error.code != ERR_OK)
		fail_msg("%s: %s", err_name(res.error.code), res.error.message);
	assert_int_equal(res.state.len, 0);	/* unchanged */
	assert_int_equal(g.nacc, 2);
	assert_string_equal(g.acc[0], "DE89370400440532013000");
	assert_string_equal(g.acc[1], "123456******1234");
	assert_string_equal(g.balances, "booked=150025,interim_available=140000,"
	    "booked=150025,interim_available=140000");
	assert_int_equal(g.ntx, 4);
	assert_int_equal(g.npending, 1);
	assert_int_equal(g.sum, -1230 + 10000 - 350 - 2000);
	assert_string_equal(g.first_id[0], "t1");
	assert_string_equal(g.first_id[1], "camt-ref-1");
	bank_fetch_result_free(&res);
	/* The list first; then the accounts' requests at once, each
	 * account's pages in order. */
	assert_int_equal(fb_count(&bank), 7);
	{
		int	first = 0, page2 = 0, xml = 0;

		for (i = 0; i < fb_count(&bank); i++) {
			r = req_at(i);
			assert_string_equal(hdr(&r, "Consent-ID"), "cons-1");
			assert_string_equal(hdr(&r, "PSU-IP-Address"),
			    "198.51.100.7");
			assert_uuid4(hdr(&r, "X-Request-ID"));
			if (i == 0)
				assert_string_equal(r.path, "/v1/accounts");
			if (strcmp(r.path, "/v1/accounts/acc-1/transactions")
			    == 0 && strcmp(r.query, "page=2") == 0) {
				assert_int_equal(first, 1);
				page2++;
			} else if (strcmp(r.path,
			    "/v1/accounts/acc-1/transactions") == 0) {
				assert_string_equal(r.query, "dateFrom="
				    "2026-01-01&dateTo=2026-03-31&"
				    "bookingStatus=both");
				assert_string_equal(hdr(&r, "Accept"),
				    "application/json");
				first++;
			}
			if (strcmp(r.path, "/v1/accounts/acc-2/transactions")
			    == 0 && strcmp(hdr(&r, "Accept"),
			    "application/xml") == 0)
				xml++;
			free(r.body);
		}
		assert_int_equal(first, 1);
		assert_int_equal(page2, 1);
		assert_int_equal(xml, 1);
	}
	/* Remittance arrays are joined; the debit's counterparty is the
	 * creditor.  (Checked on the first page alone.) */
	fb_reset(&bank);
	rule("GET", "/v1/accounts", 200, "{\"accounts\":[{\"resourceId\":"
	    "\"acc-1\",\"iban\":\"DE89370400440532013000\",\"currency\":"
	    "\"EUR\"}]}");
	rule("GET", "/v1/accounts/*/balances", 200, BALANCES);
	rule("GET", "/v1/accounts/acc-1/transactions", 200, "{\"transactions\":"
	    "{\"booked\":[{\"transactionId\":\"t1\",\"bookingDate\":"
	    "\"2026-01-05\",\"transactionAmount\":{\"currency\":\"EUR\","
	    "\"amount\":\"-12.30\"},\"creditorName\":\"Bäckerei\","
	    "\"remittanceInformationUnstructuredArray\":[\"Brot\","
	    "\"und Brötchen\"]}]}}");
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_string_equal(g.last_cp, "Bäckerei");
	assert_string_equal(g.last_desc, "Brot und Brötchen");
	bank_fetch_result_free(&res);
}

/* camt.052 (XML) and MT942 (text/plain) pages through the parsers. */
static void
statement_bodies_camt052_and_mt942(void **unused)
{
	static const char mt942[] =
	    ":20:INTRADAY1\r\n:25:DE89370400440532013000\r\n:28C:7/1\r\n"
	    ":34F:EUR0,\r\n:13D:2603311015+0100\r\n"
	    ":61:2603310331CR12,50NTRFNONREF//X1\r\n:86:Gutschrift\r\n"
	    ":61:2603310331DR2,00NCHGNONREF//X2\r\n:86:Entgelt\r\n"
	    ":90D:1EUR2,00\r\n:90C:1EUR12,50\r\n-\r\n";
	struct got		 g;
	struct bank_fetch_result res;
	char			*camt052 = slurp(BF_SOURCE_DIR "/tests/data/"
	    "statements/camt053/camt052_report.xml");
	const char		*bodies[] = { camt052, mt942 };
	const char		*types[] = { "application/xml", "text/plain" };
	const long		 want_sum[] = { -1230 - 350, 1250 - 200 };
	size_t			 i;

	(void)unused;
	assert_non_null(camt052);
	use_bank("EMBEDDED", NULL);
	for (i = 0; i < 2; i++) {
		struct fb_rule	x = { "GET", "/v1/accounts/acc-1/transactions",
		    200, types[i], NULL, bodies[i], 0, 0, 0 };

		fb_reset(&bank);
		rule("GET", "/v1/accounts", 200, "{\"accounts\":[{\"resourceId\":"
		    "\"acc-1\",\"iban\":\"DE89370400440532013000\"}]}");
		rule("GET", "/v1/accounts/acc-1/balances", 200, BALANCES);
		fb_rule(&bank, &x);
		fetch(AUTHORIZED_STATE, &g, &res);
		if (res.error.code != ERR_OK)
			fail_msg("%s: %s", err_name(res.error.code),
			    res.error.message);
		assert_int_equal(g.ntx, 2);
		assert_int_equal(g.sum, want_sum[i]);
		bank_fetch_result_free(&res);
	}
	/* A broken statement: refused whole. */
	fb_reset(&bank);
	rule("GET", "/v1/accounts", 200, "{\"accounts\":[{\"resourceId\":"
	    "\"acc-1\",\"iban\":\"DE89370400440532013000\"}]}");
	rule("GET", "/v1/accounts/acc-1/balances", 200, BALANCES);
	{
		struct fb_rule x = { "GET", "/v1/accounts/acc-1/transactions",
		    200, "application/xml", NULL, "<?xml version=\"1.0\"?>\n"
		    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.052."
		    "001.08\"><BkToCstmrAcctRpt><Rpt><Ntry><Amt Ccy=\"EUR\">1"
		    "</Amt>", 0, 0, 0 };

		fb_rule(&bank, &x);
	}
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_BANK_RESPONSE_INVALID);
	assert_int_equal(g.ntx, 0);
	bank_fetch_result_free(&res);
	free(camt052);
}

/* One account the bank does not know: marked; the other one delivered. */
static void
an_account_error_marks_only_that_account(void **unused)
{
	struct got		 g;
	struct bank_fetch_result res;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	rule("GET", "/v1/accounts", 200, ACCOUNTS);
	rule("GET", "/v1/accounts/acc-1/balances", 404, "{\"tppMessages\":[{"
	    "\"category\":\"ERROR\",\"code\":\"RESOURCE_UNKNOWN\",\"text\":"
	    "\"Account closed.\"}]}");
	rule("GET", "/v1/accounts/acc-2/balances", 200, BALANCES);
	rule("GET", "/v1/accounts/acc-2/transactions", 200, PAGE2);
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(g.naccerr, 1);
	assert_string_equal(g.accerr[0], "DE89370400440532013000");
	assert_int_equal(g.accerr_code[0], ERR_BANK_OR_ACCOUNT_UNKNOWN);
	assert_int_equal(g.nacc, 1);
	assert_int_equal(g.ntx, 2);
	bank_fetch_result_free(&res);
}

/*
 * Bad answers during a fetch: a catalog error, and nothing of the bad
 * page delivered.
 */
static void
bad_answers_fail_the_fetch_and_deliver_nothing_of_them(void **unused)
{
	static const struct {
		int		 status;
		const char	*ctype, *header, *body;
		size_t		 big;
		enum err	 want;
		const char	*says;
	} cases[] = {
		{ 200, "text/html", NULL, "<html><body>Wartung</body></html>", 0,
		  ERR_BANK_RESPONSE_INVALID, "not JSON" },
		{ 200, NULL, NULL, "{\"transactions\":{\"booked\":[", 0,
		  ERR_BANK_RESPONSE_INVALID, "not valid JSON" },
		{ 200, NULL, NULL, "{\"transactions\":{\"booked\":[{"
		  "\"transactionId\":\"ok\",\"bookingDate\":\"2026-01-02\","
		  "\"transactionAmount\":{\"currency\":\"EUR\",\"amount\":\"1\"}"
		  "},{\"transactionId\":\"bad\",\"bookingDate\":\"2026-01-02\","
		  "\"transactionAmount\":{\"currency\":\"EUR\",\"amount\":1}}]}}",
		  0, ERR_BANK_RESPONSE_INVALID, "amount" },
		{ 200, NULL, NULL, NULL, 10u << 20, ERR_BANK_RESPONSE_INVALID,
		  "larger than 8 MiB" },
		{ 200, NULL, NULL, "{\"transactions\":{\"booked\":[{"
		  "\"transactionId\":\"ok\",\"bookingDate\":\"2026-01-02\","
		  "\"transactionAmount\":{\"currency\":\"EUR\",\"amount\":\"1\"}"
		  "}],\"_links\":{\"next\":{\"href\":\"https://evil.example/v1/"
		  "accounts/acc-1/transactions?page=2\"}}}}", 0,
		  ERR_BANK_RESPONSE_INVALID, "evil.example" },
		{ 429, NULL, "Retry-After: 3600", "{\"tppMessages\":[{"
		  "\"category\":\"ERROR\",\"code\":\"ACCESS_EXCEEDED\",\"text\":"
		  "\"Only 4 accesses a day.\"}]}", 0,
		  ERR_API_USAGE_LIMIT_REACHED, "Only 4 accesses a day." },
		{ 401, NULL, NULL, "{\"tppMessages\":[{\"category\":\"ERROR\","
		  "\"code\":\"CONSENT_EXPIRED\",\"text\":\"Consent expired.\"}]}",
		  0, ERR_NO_ACTIVE_CONSENT, "Consent expired." },
		{ 502, "text/html", NULL, "<html>Bad Gateway</html>", 0,
		  ERR_BANK_RESPONSE_INVALID, "502" },
		{ 302, "text/html", "Location: https://evil.example/", "", 0,
		  ERR_BANK_RESPONSE_INVALID, "redirect" },
	};
	struct got		 g;
	struct bank_fetch_result res;
	size_t			 i;

	(void)unused;
	use_bank("EMBEDDED", NULL);
	for (i = 0; i < NELEM(cases); i++) {
		struct fb_rule	x = { "GET", "/v1/accounts/acc-1/transactions",
		    cases[i].status, cases[i].ctype, cases[i].header,
		    cases[i].body, cases[i].big, 0, 0 };

		fb_reset(&bank);
		rule("GET", "/v1/accounts", 200, "{\"accounts\":[{\"resourceId\":"
		    "\"acc-1\",\"iban\":\"DE89370400440532013000\"}]}");
		rule("GET", "/v1/accounts/acc-1/balances", 200, BALANCES);
		fb_rule(&bank, &x);
		fetch(AUTHORIZED_STATE, &g, &res);
		if (res.error.code != cases[i].want)
			fail_msg("case %zu: %s (%s), want %s", i,
			    err_name(res.error.code), res.error.message,
			    err_name(cases[i].want));
		if (strstr(res.error.message, cases[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i,
			    res.error.message, cases[i].says);
		assert_int_equal(g.ntx, 0);
		bank_fetch_result_free(&res);
	}
}

static void
gets_are_retried_posts_are_not(void **unused)
{
	struct got		 g;
	struct bank_fetch_result res;
	struct bank_auth	 a;

	(void)unused;
	use_bank("EMBEDDED", NULL);
	/* Two 503s, then the list: the GET is sent three times. */
	fb_reset(&bank);
	rule_once("GET", "/v1/accounts", 503, "");
	rule_once("GET", "/v1/accounts", 503, "");
	rule("GET", "/v1/accounts", 200, "{\"accounts\":[]}");
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(fb_count(&bank), 3);
	bank_fetch_result_free(&res);
	/* Three 503s: given up after three tries. */
	fb_reset(&bank);
	rule("GET", "/v1/accounts", 503, "");
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_BANK_PROCESSING_NOT_POSSIBLE);
	assert_int_equal(fb_count(&bank), 3);
	bank_fetch_result_free(&res);
	/* A 429 with a short Retry-After is waited for. */
	fb_reset(&bank);
	rule_with("GET", "/v1/accounts", 429, "Retry-After: 1",
	    "{\"tppMessages\":[{\"category\":\"ERROR\",\"code\":"
	    "\"ACCESS_EXCEEDED\"}]}", 1);
	rule("GET", "/v1/accounts", 200, "{\"accounts\":[]}");
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	bank_fetch_result_free(&res);
	/* A POST that reached the bank and got a 503 is not sent again:
	 * the login is not possible now. */
	fb_reset(&bank);
	rule("POST", "/v1/consents", 503, "");
	login("PSU", "pw", &a);
	assert_int_equal(a.outcome, BANK_FAILED);
	assert_int_equal(a.error.code, ERR_LOGIN_NOT_POSSIBLE);
	assert_int_equal(fb_count(&bank), 1);
	bank_auth_free(&a);
}

static void
network_faults_map_to_connectivity_errors(void **unused)
{
	struct bank_auth	 a;
	struct got		 g;
	struct bank_fetch_result res;
	char			 url[128];

	(void)unused;
	/* Nobody listens: refused (the POST may be sent again: it never
	 * reached the bank). */
	use_url("http://127.0.0.1:1", "\"EMBEDDED\"", NULL);
	login("PSU", "pw", &a);
	assert_int_equal(a.outcome, BANK_FAILED);
	assert_int_equal(a.error.code, ERR_LOGIN_NOT_POSSIBLE);
	assert_non_null(strstr(a.error.message, "could not be reached"));
	bank_auth_free(&a);
	fetch(AUTHORIZED_STATE, &g, &res);
	assert_int_equal(res.error.code, ERR_BANK_PROCESSING_NOT_POSSIBLE);
	bank_fetch_result_free(&res);
	/* TLS to a port that speaks plain HTTP. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", bank.port);
	use_url(url, "\"EMBEDDED\"", NULL);
	login("PSU", "pw", &a);
	assert_int_equal(a.error.code, ERR_BANK_TLS_FAILED);
	bank_auth_free(&a);
	/* No answer in time (timeout 2 s, the bank takes 3). */
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	{
		struct fb_rule x = { "GET", "/v1/accounts", 200, NULL, NULL,
		    "{\"accounts\":[]}", 0, 3000, 0 };

		fb_rule(&bank, &x);
	}
	xs2a_set_timing(1000, 10, 0);
	fetch(AUTHORIZED_STATE, &g, &res);
	xs2a_set_timing(2000, 10, 0);
	assert_int_equal(res.error.code, ERR_BANK_PROCESSING_NOT_POSSIBLE);
	assert_non_null(strstr(res.error.message, "could not be reached"));
	bank_fetch_result_free(&res);
}

/* Freed while its exchange runs: the exchange goes, no wake comes. */
static int	wakes_after_free;

static void
count_wake(void *arg)
{
	(void)arg;
	wakes_after_free++;
}

static void
an_operation_freed_in_flight_leaves_nothing_behind(void **unused)
{
	const struct connector	*c = connector_for("xs2a");
	struct bank_ctx		 x = ctx();
	struct got		 g;
	struct bank_fetch_result res;
	struct bank_fetch_req	 req = { "2026-01-01", "2026-01-31", NULL,
	    NULL, 0 };
	struct bank_sink	 sink = { &g, on_account, on_account_error,
	    on_txn };
	struct bank_op		*op;
	long long		 until;
	int			 i;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	{
		struct fb_rule r = { "GET", "/v1/accounts", 200, NULL, NULL,
		    "{\"accounts\":[]}", 0, 500, 0 };

		fb_rule(&bank, &r);
	}
	x.wake = count_wake;
	bank_fetch_result_init(&res);
	op = c->fetch(&x, AUTHORIZED_STATE, &req, &sink, &res);
	assert_int_equal(c->step(op, &until), BANK_WAIT);
	c->op_free(op);
	wakes_after_free = 0;
	for (i = 0; i < 200 && xs2a_net_live() != 0; i++)
		usleep(10000);
	assert_int_equal(xs2a_net_live(), 0);
	usleep(100000);
	assert_int_equal(wakes_after_free, 0);
	bank_fetch_result_free(&res);
}

/*
 * Many fetches waiting on a slow bank at once, all stepped by this one
 * thread as their wakes come: they overlap (the whole takes about one
 * bank delay, not the sum) and use no thread each.
 */
struct waiter {
	pthread_mutex_t	lock;
	pthread_cond_t	cond;
	int		woken;
};

static void
wake_waiter(void *arg)
{
	struct waiter	*w = arg;

	pthread_mutex_lock(&w->lock);
	w->woken++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void
many_waiting_fetches_overlap(void **unused)
{
	enum { N = 200, DELAY = 1000 };
	const struct connector	*c = connector_for("xs2a");
	static struct got	 g[N];
	static struct bank_fetch_result res[N];
	static struct bank_op	*ops[N];
	struct waiter		 w = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, 0 };
	struct bank_fetch_req	 req = { "2026-01-01", "2026-01-31", NULL,
	    NULL, 0 };
	struct bank_ctx		 x = ctx();
	long long		 t0 = bank_monotonic_ms(), until;
	int			 i, left = N;

	(void)unused;
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	{
		struct fb_rule a = { "GET", "/v1/accounts", 200, NULL, NULL,
		    "{\"accounts\":[{\"resourceId\":\"a1\",\"iban\":"
		    "\"DE89370400440532013000\",\"balances\":[{\"balanceAmount\":"
		    "{\"currency\":\"EUR\",\"amount\":\"1\"},\"balanceType\":"
		    "\"closingBooked\"}]}]}", 0, DELAY, 0 };
		struct fb_rule t = { "GET", "/v1/accounts/a1/transactions", 200,
		    NULL, NULL, PAGE2, 0, DELAY, 0 };

		fb_rule(&bank, &a);
		fb_rule(&bank, &t);
	}
	x.wake = wake_waiter;
	x.wake_arg = &w;
	for (i = 0; i < N; i++) {
		struct bank_sink sink = { &g[i], on_account, on_account_error,
		    on_txn };

		bank_fetch_result_init(&res[i]);
		ops[i] = c->fetch(&x, AUTHORIZED_STATE, &req, &sink, &res[i]);
		assert_int_equal(c->step(ops[i], &until), BANK_WAIT);
	}
	while (left > 0 && bank_monotonic_ms() - t0 < 20000) {
		pthread_mutex_lock(&w.lock);
		while (w.woken == 0) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&w.cond, &w.lock, &ts) != 0)
				break;
		}
		w.woken = 0;
		pthread_mutex_unlock(&w.lock);
		for (i = 0; i < N; i++)
			if (ops[i] != NULL && c->step(ops[i], &until) ==
			    BANK_DONE) {
				c->op_free(ops[i]);
				ops[i] = NULL;
				left--;
			}
	}
	assert_int_equal(left, 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(res[i].error.code, ERR_OK);
		assert_int_equal(g[i].ntx, 2);
		bank_fetch_result_free(&res[i]);
	}
	/* Two bank delays in a row, overlapped: far below N of them. */
	assert_true(bank_monotonic_ms() - t0 < 6 * DELAY);
}

/* ---- Prism ---- */

struct prism {
	pid_t	pid;
	int	port;
	char	log[256];
};

static struct prism	prism_a, prism_b;
static int		prism_up;

static int
free_port(void)
{
	static int next = 0;

	if (next == 0)
		next = 20000 + (getpid() % 20000);
	return next++;
}

static int
prism_start(struct prism *p, const char *spec)
{
	char	port[16];

	p->port = free_port();
	snprintf(p->log, sizeof(p->log), "/tmp/bankfeed-prism-%d-%d.log",
	    (int)getpid(), p->port);
	snprintf(port, sizeof(port), "%d", p->port);
	if ((p->pid = fork()) == 0) {
		int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir(PRISM_DIR) == 0)
			execl("node_modules/.bin/prism", "prism", "mock",
			    "--errors", "-h", "127.0.0.1", "-p", port, spec,
			    (char *)NULL);
		_exit(127);
	}
	return p->pid > 0 ? 0 : -1;
}

static int
prism_ready(struct prism *p)
{
	char	*log = slurp(p->log);
	int	 ok = log != NULL && strstr(log, "Prism is listening") != NULL;

	free(log);
	return ok;
}

static void
prism_stop(struct prism *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
		unlink(p->log);
	}
}

/*
 * The spec with the one defect mended: in request bodies, `- {}` among
 * oneOf alternatives becomes `- {type: object, maxProperties: 0}`.
 */
static int
write_fixed_spec(const char *out)
{
	char	*s = slurp(SPEC), *p;
	FILE	*f;
	size_t	 n = 0;

	if (s == NULL || (f = fopen(out, "w")) == NULL) {
		free(s);
		return -1;
	}
	for (p = s; *p != '\0';) {
		size_t	 len = strcspn(p, "\n"), ind = strspn(p, " ");

		if (len - ind >= 4 && strncmp(p + ind, "- {}", 4) == 0) {
			fprintf(f, "%.*s- {type: object, maxProperties: 0}%.*s",
			    (int)ind, p, (int)(len - ind - 4), p + ind + 4);
			n++;
		} else
			fwrite(p, 1, len, f);
		p += len;
		if (*p == '\n') {
			fputc('\n', f);
			p++;
		}
	}
	fclose(f);
	free(s);
	return n > 0 ? 0 : -1;
}

static int
prism_setup(void **unused)
{
	char		fixed[256], node[300];
	struct stat	sb;
	int		i;

	(void)unused;
	snprintf(node, sizeof(node), "%s/node_modules/.bin/prism", PRISM_DIR);
	if (stat(node, &sb) != 0 || stat(SPEC, &sb) != 0) {
		fprintf(stderr, "prism: not installed (cd tests/prism && npm "
		    "ci) or no spec; Prism tests skipped\n");
		return 0;
	}
	snprintf(fixed, sizeof(fixed), "/tmp/bankfeed-psd2-fixed-%d.yaml",
	    (int)getpid());
	if (write_fixed_spec(fixed) == -1 || prism_start(&prism_a, SPEC) == -1 ||
	    prism_start(&prism_b, fixed) == -1)
		return -1;
	for (i = 0; i < 1200 && !(prism_ready(&prism_a) &&
	    prism_ready(&prism_b)); i++)
		usleep(100000);
	if (!prism_ready(&prism_a) || !prism_ready(&prism_b)) {
		fprintf(stderr, "prism did not start within 120 s\n");
		return -1;
	}
	prism_up = 1;
	return 0;
}

static int
prism_teardown(void **unused)
{
	char	fixed[256];

	(void)unused;
	prism_stop(&prism_a);
	prism_stop(&prism_b);
	snprintf(fixed, sizeof(fixed), "/tmp/bankfeed-psd2-fixed-%d.yaml",
	    (int)getpid());
	unlink(fixed);
	bank.prism_url[0] = bank.prism_fixed_url[0] = '\0';
	return 0;
}

static void
through_prism(void)
{
	if (!prism_up)
		skip();
	snprintf(bank.prism_url, sizeof(bank.prism_url),
	    "http://127.0.0.1:%d", prism_a.port);
	snprintf(bank.prism_fixed_url, sizeof(bank.prism_fixed_url),
	    "http://127.0.0.1:%d", prism_b.port);
}

/*
 * Every request so far passed Prism: no request violation at all, but
 * for the authorisation bodies the official spec cannot accept (see the
 * top), which must pass the mended copy.
 */
static void
assert_prism_passed(size_t min_requests)
{
	size_t	i, n = fb_count(&bank);

	assert_true(n >= min_requests);
	for (i = 0; i < n; i++) {
		struct fb_req	r = req_at(i);
		int		 auth_body = r.len > 2 &&
		    strstr(r.path, "/authorisations") != NULL;

		if (r.prism_status == 0)
			fail_msg("%s %s: Prism did not answer", r.method, r.path);
		if (r.violations_fixed[0] != '\0')
			fail_msg("%s %s %s: %s", r.method, r.path,
			    r.body ? r.body : "", r.violations_fixed);
		if (r.violations[0] != '\0') {
			json_t	*v = json_loads(r.violations, 0, NULL), *e;
			size_t	 k;

			json_array_foreach(v, k, e) {
				json_t *loc = json_object_get(e, "location");

				if (!auth_body || json_array_size(loc) != 2 ||
				    strcmp(json_string_value(json_array_get(loc,
				    1)), "body") != 0)
					fail_msg("%s %s: %s", r.method, r.path,
					    r.violations);
			}
			fprintf(stderr, "spec defect (oneOf with {}), passed "
			    "the mended spec: %s %s %s\n", r.method, r.path,
			    r.body);
			json_decref(v);
		}
		free(r.body);
	}
}

static void
prism_embedded(void **unused)
{
	(void)unused;
	through_prism();
	embedded_sca_password_method_tan(unused);
	assert_prism_passed(5);
}

static void
prism_decoupled(void **unused)
{
	(void)unused;
	through_prism();
	decoupled_sca_polls_until_confirmed(unused);
	assert_prism_passed(4);
}

static void
prism_redirect(void **unused)
{
	(void)unused;
	through_prism();
	redirect_sca_waits_for_the_return(unused);
	assert_prism_passed(2);
}

/* The harness itself: a request that breaks the spec is caught. */
static void
prism_catches_a_bad_request(void **unused)
{
	CURL			*c;
	struct curl_slist	*h = NULL;
	struct fb_req		 r;
	char			 url[128];

	(void)unused;
	through_prism();
	fb_reset(&bank);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/consents", bank.port);
	c = curl_easy_init();
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"access\":{\"allPsd2\":"
	    "\"allAccounts\"},\"recurringIndicator\":\"yes\"}");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	fputc('\n', stderr);
	r = req_at(0);
	assert_non_null(strstr(r.violations, "x-request-id"));
	assert_non_null(strstr(r.violations, "psu-ip-address"));
	assert_non_null(strstr(r.violations, "recurringIndicator"));
	assert_non_null(strstr(r.violations, "validUntil"));
	free(r.body);
}

/* Accounts, balances, transactions: Prism's own example answers. */
static void
prism_fetch(void **unused)
{
	struct got		 g;
	struct bank_fetch_result res;

	(void)unused;
	through_prism();
	fb_reset(&bank);
	use_bank("EMBEDDED", NULL);
	fetch(AUTHORIZED_STATE, &g, &res);
	if (res.error.code != ERR_OK)
		fail_msg("%s: %s", err_name(res.error.code), res.error.message);
	assert_true(g.nacc >= 1);
	assert_true(g.ntx >= 1);
	bank_fetch_result_free(&res);
	assert_prism_passed(3);
}

static int
setup(void **unused)
{
	(void)unused;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fb_start(&bank);
	xs2a_set_timing(2000, 10, 0);
	return 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	fb_stop(&bank);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(every_tpp_code_maps_to_its_entry_with_the_banks_text),
		cmocka_unit_test(errors_without_known_codes_map_by_status),
		cmocka_unit_test(paths_and_words_tell_shared_codes_apart),
		cmocka_unit_test(spec_example_bodies_become_records),
		cmocka_unit_test(hostile_bodies_are_refused_whole),
		cmocka_unit_test(links_stay_on_the_banks_host),
		cmocka_unit_test(state_round_trips_and_keeps_no_secret),
	};
	const struct CMUnitTest flows[] = {
		cmocka_unit_test(embedded_sca_password_method_tan),
		cmocka_unit_test(embedded_wrong_password_and_wrong_tan),
		cmocka_unit_test(decoupled_sca_polls_until_confirmed),
		cmocka_unit_test(redirect_sca_waits_for_the_return),
		cmocka_unit_test(a_refused_all_accounts_consent_is_asked_without_accounts),
		cmocka_unit_test(fetch_pages_balances_and_statement_bodies),
		cmocka_unit_test(accounts_are_read_at_once_in_their_order),
		cmocka_unit_test(statement_bodies_camt052_and_mt942),
		cmocka_unit_test(an_account_error_marks_only_that_account),
		cmocka_unit_test(bad_answers_fail_the_fetch_and_deliver_nothing_of_them),
		cmocka_unit_test(gets_are_retried_posts_are_not),
		cmocka_unit_test(network_faults_map_to_connectivity_errors),
		cmocka_unit_test(an_operation_freed_in_flight_leaves_nothing_behind),
		cmocka_unit_test(many_waiting_fetches_overlap),
	};
	const struct CMUnitTest prism[] = {
		cmocka_unit_test(prism_catches_a_bad_request),
		cmocka_unit_test(prism_redirect),
		cmocka_unit_test(prism_embedded),
		cmocka_unit_test(prism_decoupled),
		cmocka_unit_test(prism_fetch),
	};
	int	rc;

	rc = cmocka_run_group_tests_name("mapping", unit, NULL, NULL);
	rc |= cmocka_run_group_tests_name("flows", flows, setup, teardown);
	if (getenv("BANKFEED_SKIP_PRISM") == NULL) {
		setup(NULL);
		rc |= cmocka_run_group_tests_name("prism", prism, prism_setup,
		    prism_teardown);
		teardown(NULL);
	}
	return rc;
}
