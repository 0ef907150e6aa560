/*
 * Statement files through the API: uploads (raw and multipart) become
 * accounts and transactions of the user's "file" connection; the same file
 * twice or two overlapping files store nothing twice; bad files are
 * rejected with where and why, and change nothing.
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

static struct srv S;

/* An MT940 statement of account NL91ABNA0417164300 with one entry a day. */
static char *
mt940(const char *first_day, int days, long opening_cents)
{
	static char	buf[16384];
	size_t		o = 0;
	int		d, day = atoi(first_day + 4);
	long		bal = opening_cents;

	o += (size_t)snprintf(buf + o, sizeof(buf) - o,
	    ":20:STMT%.4s\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n"
	    ":60F:C%.6sEUR%ld,%02ld\r\n", first_day, first_day, bal / 100,
	    bal % 100);
	for (d = 0; d < days; d++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		    ":61:%.4s%02d%.2s%02dD12,50NTRFNONREF//REF%02d\r\n"
		    ":86:Coffee shop %02d\r\n", first_day, day + d, first_day + 2,
		    day + d, day + d, day + d);
		bal -= 1250;
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o,
	    ":62F:%c%.4s%02dEUR%ld,%02ld\r\n-", bal < 0 ? 'D' : 'C', first_day,
	    day + days - 1, labs(bal) / 100, labs(bal) % 100);
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	return srv_start(&S, (const char *[]){ "BANKFEED_MAX_UPLOAD=200000", NULL });
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

static void
upload(const char *user, const char *body, size_t len, const char *query,
    struct res *r)
{
	char	path[256];

	snprintf(path, sizeof(path), "/v1/users/%s/statements%s", user,
	    query ? query : "");
	assert_int_equal(req(&S, "POST", path, S.token, (const char *[]){
	    "Content-Type: text/plain", "X-Filename: statement.sta", NULL },
	    body, len, r), 0);
}

/*
 * Reads the task of a 202 answer (r) until it is terminal, within 5 s;
 * r becomes the task then, and its status must be want.
 */
static void
task_ends(struct res *r, const char *want)
{
	char	path[128];
	int	i;

	snprintf(path, sizeof(path), "/v1/tasks/%s", jstr(r->json, "id"));
	res_free(r);
	for (i = 0; i < 100; i++) {
		assert_int_equal(get(&S, path, r), 0);
		assert_status(r, 200);
		if (strcmp(jstr(r->json, "status"), "queued") != 0 &&
		    strcmp(jstr(r->json, "status"), "running") != 0)
			break;
		res_free(r);
		usleep(50000);
	}
	if (i == 100)
		fail_msg("task %s still runs after 5 s", path);
	assert_string_equal(jstr(r->json, "status"), want);
}

static long
count_txns(const char *user)
{
	struct res	 r, t;
	char		 path[256];
	json_t		*a;
	size_t		 i;
	long		 n = 0;

	snprintf(path, sizeof(path), "/v1/accounts?user_id=%s", user);
	assert_int_equal(get(&S, path, &r), 0);
	json_array_foreach(jget(r.json, "data"), i, a) {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?limit=500",
		    jstr(a, "id"));
		assert_int_equal(get(&S, path, &t), 0);
		n += (long)json_array_size(jget(t.json, "data"));
		res_free(&t);
	}
	res_free(&r);
	return n;
}

static void
an_upload_imports_and_a_repeat_adds_nothing(void **state)
{
	char		 user[64], path[256];
	const char	*f = mt940("240301", 5, 10000);
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	upload(user, f, strlen(f), NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "kind"), "import");
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.accounts"), 1);
	assert_int_equal(jint(r.json, "result.transactions_added"), 5);
	assert_int_equal(json_array_size(jget(r.json, "warnings")), 0);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts?user_id=%s", user);
	assert_int_equal(get(&S, path, &r), 0);
	assert_string_equal(jstr(r.json, "data.0.iban"), "NL91ABNA0417164300");
	assert_string_equal(jstr(r.json, "data.0.currency"), "EUR");
	res_free(&r);
	upload(user, f, strlen(f), NULL, &r);
	assert_status(&r, 200);
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	res_free(&r);
	assert_int_equal(count_txns(user), 5);
}

static void
overlapping_files_store_nothing_twice(void **state)
{
	char		 user[64], a[16384], b[16384];
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	snprintf(a, sizeof(a), "%s", mt940("240301", 6, 10000));	/* 1-6 */
	snprintf(b, sizeof(b), "%s", mt940("240304", 6, 6250));		/* 4-9 */
	upload(user, a, strlen(a), NULL, &r);
	assert_int_equal(jint(r.json, "result.transactions_added"), 6);
	res_free(&r);
	upload(user, b, strlen(b), NULL, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.transactions_added"), 3);
	res_free(&r);
	assert_int_equal(count_txns(user), 9);
}

static void
multipart_upload_and_waiting(void **state)
{
	char		 user[64], body[20000], path[256];
	const char	*f = mt940("240310", 3, 5000);
	int		 n;
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	n = snprintf(body, sizeof(body), "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"file\"; filename=\"march.sta\"\r\nContent-Type: text/plain\r\n"
	    "\r\n%s\r\n--XyZ--\r\n", f);
	snprintf(path, sizeof(path), "/v1/users/%s/statements?wait_seconds=0",
	    user);
	assert_int_equal(req(&S, "POST", path, S.token, (const char *[]){
	    "Content-Type: multipart/form-data; boundary=XyZ", NULL }, body,
	    (size_t)n, &r), 0);
	assert_status(&r, 202);
	assert_true(json_is_true(jget(r.json, "dispatched")));
	task_ends(&r, "completed");
	assert_int_equal(jint(r.json, "result.transactions_added"), 3);
	res_free(&r);
}

static void
doubts_become_warnings(void **state)
{
	char		 user[64], f[16384], *p;
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	snprintf(f, sizeof(f), "%s", mt940("240301", 2, 10000));
	/* a closing balance that does not follow from the entries */
	p = strstr(f, ":62F:");
	memcpy(p + 5, "C", 1);
	p[15] = '9';
	upload(user, f, strlen(f), NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_string_equal(jstr(r.json, "warnings.0.name"), "BalanceMismatch");
	assert_non_null(strstr(jstr(r.json, "warnings.0.detail"), "line"));
	res_free(&r);
}

/*
 * A camt entry whose transaction details name another bank transaction
 * code: the entry's is the transaction's, the details' is shown beside it
 * (details_bank_transaction_code); an entry without one shows null.
 */
static void
both_bank_transaction_codes_are_shown(void **state)
{
	static const char f[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
	    "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>"
	    "2024-03-02T08:00:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id>"
	    "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy>"
	    "</Acct>"
	    "<Ntry><Amt Ccy=\"EUR\">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	    "<Sts>BOOK</Sts><BookgDt><Dt>2024-03-01</Dt></BookgDt><ValDt><Dt>"
	    "2024-03-01</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT"
	    "</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls>"
	    "<TxDtls><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>"
	    "ESDD</SubFmlyCd></Fmly></Domn></BkTxCd><RmtInf><Ustrd>Strom Maerz"
	    "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
	    "<Ntry><Amt Ccy=\"EUR\">3.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
	    "<Sts>BOOK</Sts><BookgDt><Dt>2024-03-01</Dt></BookgDt><BkTxCd>"
	    "<Domn><Cd>PMNT</Cd><Fmly><Cd>CCRD</Cd><SubFmlyCd>POSD</SubFmlyCd>"
	    "</Fmly></Domn></BkTxCd><NtryDtls><TxDtls><RmtInf><Ustrd>Kaffee"
	    "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
	    "</Stmt></BkToCstmrStmt></Document>\n";
	char		 user[64], path[256];
	struct res	 r, t;
	json_t		*tx;
	size_t		 i;
	int		 seen = 0;

	(void)state;
	srv_new_user(&S, user);
	assert_int_equal(req(&S, "POST", (snprintf(path, sizeof(path),
	    "/v1/users/%s/statements?wait_seconds=10", user), path), S.token,
	    (const char *[]){ "Content-Type: application/xml", NULL }, f,
	    strlen(f), &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts?user_id=%s", user);
	assert_int_equal(get(&S, path, &r), 0);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions",
	    jstr(json_array_get(jget(r.json, "data"), 0), "id"));
	res_free(&r);
	assert_int_equal(get(&S, path, &t), 0);
	assert_status(&t, 200);
	json_array_foreach(jget(t.json, "data"), i, tx) {
		if (strcmp(jstr(tx, "amount"), "-12.50") == 0) {
			assert_string_equal(jstr(tx, "bank_transaction_code"),
			    "PMNT-IDDT-UPDD");
			assert_string_equal(jstr(tx,
			    "details_bank_transaction_code"), "PMNT-IDDT-ESDD");
			seen++;
		} else {
			assert_string_equal(jstr(tx, "bank_transaction_code"),
			    "PMNT-CCRD-POSD");
			assert_true(json_is_null(json_object_get(tx,
			    "details_bank_transaction_code")));
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	res_free(&t);
}

/*
 * Issue 15: an impossible MT940 date and a statement without its :62F:
 * are imported with warnings (InvalidDate, MissingField); ?strict=true
 * rejects the same files and stores nothing of them.
 */
static void
impossible_dates_warn_unless_strict(void **state)
{
	char		 user[64], f[16384], *p;
	struct res	 r;
	long		 before;

	(void)state;
	srv_new_user(&S, user);
	snprintf(f, sizeof(f), "%s", mt940("240301", 2, 10000));
	/* the second entry's value date in month 13 */
	p = strstr(strstr(f, ":61:") + 4, ":61:");
	memcpy(p + 6, "13", 2);
	upload(user, f, strlen(f), "?strict=true", &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_int_equal(jint(r.json, "error.data.line"), 7);
	assert_non_null(strstr(jstr(r.json, "error.data.reason"), "241302"));
	res_free(&r);
	assert_int_equal(count_txns(user), 0);
	upload(user, f, strlen(f), NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.transactions_added"), 2);
	assert_string_equal(jstr(r.json, "warnings.0.name"), "InvalidDate");
	assert_non_null(strstr(jstr(r.json, "warnings.0.detail"), "line 7"));
	res_free(&r);

	/* without its closing balance */
	srv_new_user(&S, user);
	snprintf(f, sizeof(f), "%s", mt940("240401", 2, 10000));
	*strstr(f, ":62F:") = '\0';
	upload(user, f, strlen(f), "?strict=true", &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_non_null(strstr(jstr(r.json, "error.data.reason"), ":62F:"));
	res_free(&r);
	before = count_txns(user);
	upload(user, f, strlen(f), "?strict=false", &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "warnings.0.name"), "MissingField");
	res_free(&r);
	assert_int_equal(count_txns(user), before + 2);
	upload(user, f, strlen(f), "?strict=yes", &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
}

static void
bad_files_are_rejected_and_change_nothing(void **state)
{
	char		 user[64], f[16384];
	static const char garbage[] = "\x00\x01\xff\xfe" "binary garbage\x80";
	struct res	 r;
	long		 before;
	char		*loc;

	(void)state;
	srv_new_user(&S, user);
	snprintf(f, sizeof(f), "%s", mt940("240301", 3, 10000));
	upload(user, f, strlen(f), NULL, &r);
	res_free(&r);
	before = count_txns(user);
	/* issue 11, item 9b: a rejected file answers 422, as documented */
	upload(user, garbage, sizeof(garbage) - 1, NULL, &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_int_equal(jint(r.json, "error.code"), 1030);
	assert_non_null(jstr(r.json, "error.data.reason"));
	assert_non_null(jstr(r.json, "error.request_id"));
	/* the task stays, failed with the same error */
	loc = res_header(&r, "Location");
	assert_non_null(loc);
	res_free(&r);
	assert_int_equal(get(&S, loc, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "kind"), "import");
	assert_string_equal(jstr(r.json, "status"), "failed");
	assert_string_equal(jstr(r.json, "error.name"), "STATEMENT_REJECTED");
	assert_non_null(jstr(r.json, "error.data.reason"));
	free(loc);
	res_free(&r);
	/* a file cut in the middle of an entry */
	f[strlen(f) / 2] = '\0';
	strcat(f, ":61:24");
	upload(user, f, strlen(f), "?format=mt940", &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_string_equal(jstr(r.json, "error.data.format"), "mt940");
	assert_true(jint(r.json, "error.data.line") > 0);
	res_free(&r);
	/* the wrong format named */
	snprintf(f, sizeof(f), "%s", mt940("240301", 3, 10000));
	upload(user, f, strlen(f), "?format=camt053", &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_string_equal(jstr(r.json, "error.data.format"), "camt053");
	res_free(&r);
	/* not waited for: 202, and the task fails with the same error */
	upload(user, garbage, sizeof(garbage) - 1, "?wait_seconds=0", &r);
	assert_status(&r, 202);
	task_ends(&r, "failed");
	assert_string_equal(jstr(r.json, "error.name"), "STATEMENT_REJECTED");
	res_free(&r);
	assert_int_equal(count_txns(user), before);
}

static void
upload_limits_and_bad_requests(void **state)
{
	char		 user[64], path[256], *big;
	struct res	 r;
	struct srv	 other;

	(void)state;
	srv_new_user(&S, user);
	big = malloc(300000);
	memset(big, 'x', 300000);
	upload(user, big, 300000, NULL, &r);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	res_free(&r);
	free(big);
	upload(user, "", 0, NULL, &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	upload(user, "x", 1, "?format=pdf", &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.format"));
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/users/%s/statements", user);
	assert_int_equal(req(&S, "POST", path, S.token, (const char *[]){
	    "Content-Type: multipart/form-data; boundary=B", NULL },
	    "--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B--\r\n",
	    60, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_non_null(jget(r.json, "error.data.file"));
	res_free(&r);
	assert_int_equal(srv_new_client(&S, &other), 0);
	assert_int_equal(req(&other, "POST", path, other.token, NULL, "x", 1, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

static void
a_file_connection_is_not_synced(void **state)
{
	char		 user[64], path[256];
	const char	*f = mt940("240301", 1, 100);
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	upload(user, f, strlen(f), NULL, &r);
	snprintf(path, sizeof(path), "/v1/connections/%s/sync",
	    jstr(r.json, "connection_id"));
	res_free(&r);
	assert_int_equal(post(&S, path, "{}", &r), 0);
	assert_error(&r, 422, "UNPROCESSABLE_ENTITY");
	res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_upload_imports_and_a_repeat_adds_nothing),
		cmocka_unit_test(overlapping_files_store_nothing_twice),
		cmocka_unit_test(multipart_upload_and_waiting),
		cmocka_unit_test(doubts_become_warnings),
		cmocka_unit_test(impossible_dates_warn_unless_strict),
		cmocka_unit_test(both_bank_transaction_codes_are_shown),
		cmocka_unit_test(bad_files_are_rejected_and_change_nothing),
		cmocka_unit_test(upload_limits_and_bad_requests),
		cmocka_unit_test(a_file_connection_is_not_synced),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
