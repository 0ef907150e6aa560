/*
 * CODA, BAI2 and ZIP archives of statements through the API (issue 15):
 * uploaded to the real server, they become accounts and transactions;
 * an archive's members are imported as one file, its warnings and a
 * rejection name the member, and a bad archive changes nothing.
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

#include "codaw.h"
#include "harness.h"
#include "zipw.h"

#define DATA BANKFEED_TEST_DATA

static struct srv S;

static const char mt940[] =
    ":20:STMT1\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n"
    ":60F:C240301EUR100,00\r\n"
    ":61:2403010301D12,50NTRFNONREF//REF01\r\n:86:Coffee\r\n"
    ":62F:C240301EUR87,50\r\n-";

static int
setup(void **state)
{
	(void)state;
	return srv_start(&S, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

/* POSTs a file as the raw body, as a client sends a .cod or .zip file. */
static void
send_file(const char *user, const void *body, size_t len, const char *name,
    const char *query, struct res *r)
{
	char	path[256], fname[300];

	snprintf(path, sizeof(path), "/v1/users/%s/statements%s", user,
	    query ? query : "");
	snprintf(fname, sizeof(fname), "X-Filename: %s", name);
	assert_int_equal(req(&S, "POST", path, S.token, (const char *[]){
	    "Content-Type: application/octet-stream", fname, NULL },
	    body, len, r), 0);
}

/* Every transaction of every account of the user, page by page. */
static size_t
stored_txns(const char *user)
{
	json_t	*accounts, *txns, *a;
	char	 path[256];
	size_t	 i, n = 0;

	snprintf(path, sizeof(path), "/v1/accounts?user_id=%s", user);
	accounts = get_all(&S, path);
	json_array_foreach(accounts, i, a) {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions",
		    jstr(a, "id"));
		txns = get_all(&S, path);
		n += json_array_size(txns);
		json_decref(txns);
	}
	json_decref(accounts);
	return n;
}

/* The index of the first warning named name whose detail has sub. */
static int
warned(json_t *task, const char *name, const char *sub)
{
	json_t	*w;
	size_t	 i;

	json_array_foreach(jget(task, "warnings"), i, w)
		if (strcmp(jstr(w, "name"), name) == 0 &&
		    strstr(jstr(w, "detail"), sub) != NULL)
			return (int)i;
	return -1;
}

static void
coda_and_bai2_files_import(void **state)
{
	char		 user[64], path[256];
	char		*coda, *bai2;
	size_t		 clen, blen;
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	coda = zipw_slurp(DATA "/coda/odoo_ontvangen_2013.cod", &clen);
	send_file(user, coda, clen, "kbc.cod", NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.accounts"), 1);
	assert_int_equal(jint(r.json, "result.transactions_added"), 5);
	assert_int_equal(json_array_size(jget(r.json, "warnings")), 0);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts?user_id=%s", user);
	assert_int_equal(get(&S, path, &r), 0);
	assert_string_equal(jstr(r.json, "data.0.iban"), "BE33737018595246");
	assert_string_equal(jstr(r.json, "data.0.currency"), "EUR");
	res_free(&r);
	bai2 = zipw_slurp(DATA "/bai2/moov_sample1.txt", &blen);
	send_file(user, bai2, blen, "bank.bai", "?format=bai2", &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.transactions_added"), 17);
	res_free(&r);
	/* The same files again store nothing twice. */
	send_file(user, coda, clen, "kbc.cod", "?format=coda", &r);
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	res_free(&r);
	assert_int_equal(stored_txns(user), 5 + 17);
	free(coda);
	free(bai2);
}

/* The trailers' checks reach the task as SumsMismatch warnings. */
static void
trailer_checks_become_warnings(void **state)
{
	struct codaw	 w = { .len = 0 };
	char		 user[64];
	static const char bai2[] =
	    "01,BANKFEED,ACME,240305,0800,42,,,2/\n"
	    "02,ACME,021000021,1,240304,2400,USD,2/\n"
	    "03,123456789,,010,100000,,,015,99000,,/\n"
	    "16,475,1000,Z,B-1,1042,Check paid/\n"
	    "49,200000,4/\n"
	    "98,200000,1,5/\n"
	    "99,200000,1,7/\n";
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	codaw_one(&w, "1", "030324", "000000000009000", "000003",
	    "000000000005000");
	send_file(user, w.p, w.len, "belfius.cod", NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_true(warned(r.json, "SumsMismatch", "coda line 5: the trailer's "
	    "debits 5.000") >= 0);
	res_free(&r);
	send_file(user, bai2, strlen(bai2), "bank.bai", NULL, &r);
	assert_status(&r, 200);
	assert_true(warned(r.json, "SumsMismatch", "bai2 line 5: account "
	    "trailer (49): 4 records counted, 3 found") >= 0);
	res_free(&r);
}

/* One archive, several formats; what is not a statement is named. */
static void
an_archive_imports_each_member(void **state)
{
	struct zipw	 z = { 0 };
	struct codaw	 w = { .len = 0 };
	char		 user[64];
	char		*bai2;
	unsigned char	*zip;
	size_t		 blen, n;
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	codaw_one(&w, "1", "030324", "000000000009000", "000009",
	    "000000000001000");
	bai2 = zipw_slurp(DATA "/bai2/moov_sample1.txt", &blen);
	zipw_add(&z, "march/belfius.cod", w.p, w.len);
	zipw_add(&z, "march/us.bai", bai2, blen);
	zipw_add(&z, "../../march/abn.sta", mt940, strlen(mt940));
	zipw_add(&z, "march/README.txt", "Statements of March", 19);
	zip = zipw_finish(&z, &n, 0);
	send_file(user, zip, n, "march.zip", NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.accounts"), 3);
	assert_int_equal(jint(r.json, "result.transactions_added"), 1 + 17 + 1);
	/* A member's own warning names it, with its format and line. */
	assert_true(warned(r.json, "SumsMismatch", "zip member "
	    "\"march/belfius.cod\": coda line 5: the trailer counts 9") >= 0);
	assert_true(warned(r.json, "ArchiveMember", "member "
	    "\"march/README.txt\" not imported: not a statement") >= 0);
	assert_true(warned(r.json, "ArchiveMember", "member "
	    "\"../../march/abn.sta\" has a name that is unsafe") >= 0);
	res_free(&r);
	assert_int_equal(stored_txns(user), 19);
	/* Named explicitly, the same archive adds nothing. */
	send_file(user, zip, n, "march.zip", "?format=zip", &r);
	assert_status(&r, 200);
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	res_free(&r);
	free(zip);
	free(bai2);
}

/* A broken member, or a broken archive, is a 422 and stores nothing. */
static void
bad_archives_are_rejected_and_change_nothing(void **state)
{
	static const struct zipw_opt	enc = { .flags = 1 };
	struct zipw	 z = { 0 };
	struct codaw	 w = { .len = 0 };
	char		 user[64];
	unsigned char	*zip;
	size_t		 n, before;
	struct res	 r;

	(void)state;
	srv_new_user(&S, user);
	send_file(user, mt940, strlen(mt940), "abn.sta", NULL, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	before = stored_txns(user);
	/* The second member's movement has 31 March 2024 as 320324. */
	codaw_one(&w, "1", "320324", "000000000009000", "000003",
	    "000000000001000");
	zipw_add(&z, "good.sta", mt940, strlen(mt940));
	zipw_add(&z, "april/bad.cod", w.p, w.len);
	zip = zipw_finish(&z, &n, 0);
	send_file(user, zip, n, "april.zip", NULL, &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_string_equal(jstr(r.json, "error.data.member"), "april/bad.cod");
	assert_string_equal(jstr(r.json, "error.data.format"), "coda");
	assert_int_equal(jint(r.json, "error.data.line"), 3);
	assert_non_null(strstr(jstr(r.json, "error.data.reason"),
	    "invalid value date \"320324\""));
	res_free(&r);
	/* The same archive cut short, as an interrupted upload. */
	send_file(user, zip, n - 30, "april.zip", NULL, &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_string_equal(jstr(r.json, "error.data.format"), "zip");
	assert_non_null(strstr(jstr(r.json, "error.data.reason"), "truncated"));
	assert_null(jget(r.json, "error.data.member"));
	res_free(&r);
	free(zip);
	/* An encrypted member. */
	zipw_add_opt(&z, "secret.sta", mt940, strlen(mt940), &enc);
	zip = zipw_finish(&z, &n, 0);
	send_file(user, zip, n, "secret.zip", NULL, &r);
	assert_error(&r, 422, "STATEMENT_REJECTED");
	assert_non_null(strstr(jstr(r.json, "error.data.reason"),
	    "member \"secret.sta\" is encrypted"));
	res_free(&r);
	free(zip);
	assert_int_equal(stored_txns(user), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(coda_and_bai2_files_import),
		cmocka_unit_test(trailer_checks_become_warnings),
		cmocka_unit_test(an_archive_imports_each_member),
		cmocka_unit_test(bad_archives_are_rejected_and_change_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
