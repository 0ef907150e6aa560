/*
 * The data-quality checks: every user_warn_<name> of the Sandbox Bank shows
 * exactly its warning, user_good and the MFA users none, on many days of
 * the calendar; then each check on hand-made records; then the catalog
 * and docs/warnings.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "doccheck.h"

#include "banks/connector.h"
#include "banks/sandbox.h"
#include "core/day.h"
#include "core/warnings.h"
#include "jobs/quality.h"

#define MAXW 64

struct warned {
	size_t	n;
	char	name[MAXW][40];
	char	acct[MAXW][48];
	char	txn[MAXW][48];
	char	detail[MAXW][QUALITY_DETAIL_MAX + 64];
};

static void
collect(void *arg, const char *name, const char *acct, const char *txn,
    const char *detail)
{
	struct warned	*w = arg;

	if (w->n == MAXW)
		return;
	snprintf(w->name[w->n], 40, "%s", name);
	snprintf(w->acct[w->n], 48, "%s", acct ? acct : "");
	snprintf(w->txn[w->n], 48, "%s", txn ? txn : "");
	snprintf(w->detail[w->n], sizeof(w->detail[0]), "%s", detail);
	w->n++;
}

static const char *
list(const struct warned *w)
{
	static char	s[2048];
	size_t		i, o = 0;

	s[0] = '\0';
	for (i = 0; i < w->n && o < sizeof(s) - 100; i++)
		o += (size_t)snprintf(s + o, sizeof(s) - o, "%s(%s: %s) ",
		    w->name[i], w->acct[i], w->detail[i]);
	return s;
}

/* ---- through the Sandbox Bank ---- */

static int
q_account(void *arg, const struct rec_account *r)
{
	return quality_account(arg, r->bank_id, r) != ERR_OK;
}

static int
q_error(void *arg, const char *id, const struct bank_error *e)
{
	return quality_account_error(arg, id, e->code) != ERR_OK;
}

static int
q_txn(void *arg, const char *acct, const struct rec_txn *t)
{
	return quality_txn(arg, acct, t->bank_id, t) != ERR_OK;
}

static const struct bank_answer all_answers[] = {
	{ "sq_car_colour", "blue" }, { "sq_favourite_colour", "blue" },
	{ "sq_sky_colour", "blue" }, { "tan_method", "sms" },
	{ "tan", "123456" },
};

/*
 * Logs user in (answering every challenge), fetches the days
 * [today - back, today] (back < 0: no from) at unix time now, runs the
 * data through quality and returns its warnings.
 */
static void
sync_warnings(const char *user, long long now, int back, struct warned *w)
{
	const struct connector	*c = connector_for("sandbox");
	struct bank_ctx		 ctx = { .institution_id = "sandbox", .now = now };
	struct bank_secret	 sec = { user, "pass_good" };
	struct bank_auth	 a;
	struct bank_fetch_result res;
	struct bank_op		*op;
	struct quality		*q;
	char			 from[DAY_STRLEN];
	char			*st;
	struct bank_fetch_req	 req = { NULL, NULL, NULL, NULL, 0 };
	struct bank_sink	 sink = { NULL, q_account, q_error, q_txn };

	memset(w, 0, sizeof(*w));
	bank_auth_init(&a);
	op = c->login(&ctx, &sec, &a);
	bank_run_blocking(c, op);
	c->op_free(op);
	while (a.outcome == BANK_CHALLENGE) {
		st = strdup(buf_str(&a.state));
		bank_auth_free(&a);
		bank_auth_init(&a);
		op = c->answer(&ctx, st, all_answers, 5, &a);
		bank_run_blocking(c, op);
		c->op_free(op);
		free(st);
	}
	assert_int_equal(a.outcome, BANK_AUTHORIZED);
	st = strdup(buf_str(&a.state));
	bank_auth_free(&a);

	q = quality_new(now);
	assert_non_null(q);
	if (back >= 0) {
		day_format(day_from_unix(now) - back, from);
		req.from = from;
	}
	assert_int_equal(quality_period(q, req.from, NULL), ERR_OK);
	sink.arg = q;
	bank_fetch_result_init(&res);
	op = c->fetch(&ctx, st, &req, &sink, &res);
	bank_run_blocking(c, op);
	c->op_free(op);
	assert_int_equal(res.error.code, ERR_OK);
	if (res.mfa_after_authorization)
		quality_mfa_after_authorization(q);
	quality_finish(q, collect, w);
	quality_free(q);
	bank_fetch_result_free(&res);
	free(st);
}

static long long
noon(int y, int m, int d)
{
	return (long long)day_from_civil(y, m, d) * 86400 + 43200;
}

/* Days that stress the calendar: month ends, the 1st, leap days. */
static const int tricky[][3] = {
	{ 2024, 3, 15 }, { 2024, 3, 1 }, { 2024, 3, 2 }, { 2024, 2, 29 },
	{ 2024, 1, 1 }, { 2023, 12, 31 }, { 2024, 7, 31 }, { 2024, 8, 16 },
	{ 2025, 3, 1 }, { 2024, 4, 14 }, { 2024, 5, 27 }, { 2026, 11, 30 },
};

#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* The days a user is synced on: the tricky ones and one every 13 days. */
static size_t
sync_days(long long *out, size_t max)
{
	size_t	n = 0, i;
	long	d;

	for (i = 0; i < NTRICKY && n < max; i++)
		out[n++] = noon(tricky[i][0], tricky[i][1], tricky[i][2]);
	for (d = day_from_civil(2024, 1, 3); n < max &&
	    d < day_from_civil(2025, 1, 3); d += 13)
		out[n++] = d * 86400 + 3600 * (d % 24);
	return n;
}

static void
good_and_mfa_users_show_no_warning(void **unused)
{
	static const char *const users[] = { "user_good", "user_mfa_question",
	    "user_mfa_questions", "user_mfa_tan", "user_mfa_choice",
	    "user_account_disappears", "user_large" };
	long long	days[64];
	size_t		nd = sync_days(days, 64), i, j;
	struct warned	w;

	(void)unused;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		for (j = 0; j < (i == 0 ? nd : 3); j++) {
			sync_warnings(users[i], days[j], 89, &w);
			if (w.n != 0)
				fail_msg("%s on day %lld: %s", users[i],
				    days[j] / 86400, list(&w));
			if (i == 0) {
				sync_warnings(users[i], days[j], -1, &w);
				if (w.n != 0)
					fail_msg("%s (no from) on day %lld: "
					    "%s", users[i], days[j] / 86400,
					    list(&w));
			}
		}
}

/*
 * Day after day, the card's pending pre-authorization of one day is
 * released on a later one (it never books) while a new one comes: across a
 * month's settlement and a leap day, no day shows a warning for it.
 */
static void
released_preauthorizations_leave_no_warning(void **unused)
{
	static const char *const users[] = { "user_good", "user_mfa_tan" };
	long		d0 = day_from_civil(2024, 2, 25), d;
	size_t		i;
	struct warned	w;

	(void)unused;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		for (d = d0; d < d0 + 9; d++) {
			sync_warnings(users[i], d * 86400 + 43200, 89, &w);
			if (w.n != 0)
				fail_msg("%s on day %ld: %s", users[i], d,
				    list(&w));
			sync_warnings(users[i], d * 86400 + 43200, 2, &w);
			if (w.n != 0)
				fail_msg("%s (3 days) on day %ld: %s",
				    users[i], d, list(&w));
		}
}

static void
each_warning_user_shows_exactly_its_warning(void **unused)
{
	long long	days[64];
	size_t		nd = sync_days(days, 64), j;
	int		i, n = 0;
	struct warned	w;
	char		user[96];

	(void)unused;
	for (i = 0; i < WARN__COUNT; i++) {
		const struct warn_info	*wi = warn_info((enum warn)i);

		if (!wi->applies)
			continue;
		n++;
		warn_sandbox_username((enum warn)i, user, sizeof(user));
		for (j = 0; j < nd; j++) {
			/* 90 or 120 days, or a year (past the history). */
			sync_warnings(user, days[j], j % 3 == 0 ? 89 :
			    j % 3 == 1 ? 119 : 365, &w);
			if (w.n != 1 || strcmp(w.name[0], wi->name) != 0)
				fail_msg("%s on day %lld: want %s, got %s",
				    user, days[j] / 86400, wi->name, list(&w));
			assert_true(strlen(w.detail[0]) > 10);
			if (wi->scope == WSCOPE_CONNECTION)
				assert_string_equal(w.acct[0], "");
			else
				assert_string_not_equal(w.acct[0], "");
			if (wi->scope == WSCOPE_TXN && i !=
			    WARN_PCI_NON_COMPLIANT_CARD_NUMBER)
				assert_string_not_equal(w.txn[0], "");
		}
	}
	assert_int_equal(n, 21);
}

static void
large_sync_checks_in_bounded_memory(void **unused)
{
	struct quality		*q = quality_new(noon(2024, 3, 15));
	struct rec_balance	 b[2] = { { BAL_OPENING_BOOKED, 100000, "EUR",
	    "2024-01-01" }, { BAL_BOOKED, 100000, "EUR", "2024-03-15" } };
	struct rec_account	 a = { "acc", "DE89370400440532013000", NULL,
	    NULL, "Giro", ACCT_CHECKING, "EUR", "Anna", "Hauptstr 1, 10115 "
	    "Berlin", "a@b.de", b, 2 };
	struct rec_txn		 t;
	char			 id[32], desc[64];
	long			 d0 = day_from_civil(2024, 1, 1);
	size_t			 i, mem0 = 0, mem1;
	struct warned		 w;

	(void)unused;
	assert_int_equal(quality_account(q, "acc_1", &a), ERR_OK);
	memset(&t, 0, sizeof(t));
	memcpy(t.currency, "EUR", 4);
	t.description = desc;
	for (i = 0; i < 200000; i++) {
		snprintf(id, sizeof(id), "T%zu", i);
		snprintf(desc, sizeof(desc), "Beleg %zu", i);
		t.bank_id = id;
		/* 2,700 a day over 74 days, netting to zero in pairs. */
		day_format(d0 + (long)(i / 2700), t.booking_date);
		t.amount = i % 2 ? -(int64_t)(i / 2 + 1) : (int64_t)(i / 2 + 1);
		t.cp_name = NULL;
		assert_int_equal(quality_txn(q, "acc_1", id, &t), ERR_OK);
		if (i == 10000)
			mem0 = mallinfo2().uordblks;
	}
	mem1 = mallinfo2().uordblks;
	assert_true(mem1 < mem0 + 64 * 1024);
	memset(&w, 0, sizeof(w));
	quality_finish(q, collect, &w);
	if (w.n != 0)
		fail_msg("%s", list(&w));
	quality_free(q);
}

/* ---- each check on hand-made records ---- */

/* A complete, clean account and transaction to break one field of. */
static struct rec_balance good_bal[3];
static struct rec_account good_acct;
static struct rec_txn good_txn;

static void
reset_records(void)
{
	struct rec_balance	b[3] = {
		{ BAL_OPENING_BOOKED, 100000, "EUR", "2024-02-01" },
		{ BAL_BOOKED, 95000, "EUR", "2024-03-15" },
		{ BAL_AVAILABLE, 95000, "EUR", "2024-03-15" },
	};

	memcpy(good_bal, b, sizeof(b));
	memset(&good_acct, 0, sizeof(good_acct));
	good_acct.bank_id = "b1";
	good_acct.iban = "DE89 3704 0044 0532 0130 00";
	good_acct.name = "Girokonto";
	good_acct.type = ACCT_CHECKING;
	memcpy(good_acct.currency, "EUR", 4);
	good_acct.holder_name = "Anna Schmidt";
	good_acct.holder_address = "Lindenstraße 12, 10969 Berlin";
	good_acct.holder_email = "anna.schmidt@example.de";
	good_acct.balances = good_bal;
	good_acct.nbalances = 3;
	memset(&good_txn, 0, sizeof(good_txn));
	good_txn.bank_id = "t1";
	good_txn.status = TXN_BOOKED;
	memcpy(good_txn.booking_date, "2024-03-10", 11);
	memcpy(good_txn.value_date, "2024-03-10", 11);
	good_txn.amount = -5000;
	memcpy(good_txn.currency, "EUR", 4);
	good_txn.cp_name = "REWE";
	good_txn.description = "Einkauf";
}

/* Runs one account with the given transactions (NULL-terminated ids). */
static void
run_one(const struct rec_account *a, const struct rec_txn *t, size_t n,
    const char *from, struct warned *w)
{
	struct quality	*q = quality_new(noon(2024, 3, 15));
	size_t		 i;

	memset(w, 0, sizeof(*w));
	assert_int_equal(quality_period(q, from, "2024-03-15"), ERR_OK);
	if (a != NULL)
		assert_int_equal(quality_account(q, "acc_1", a), ERR_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(quality_txn(q, "acc_1", t[i].bank_id, &t[i]),
		    ERR_OK);
	quality_finish(q, collect, w);
	quality_free(q);
}

static int
has(const struct warned *w, const char *name)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->name[i], name) == 0)
			return 1;
	return 0;
}

/* A month of clean transactions: one every 3 days, from Jan 20. */
static size_t
month_of_txns(struct rec_txn *t, size_t max, int64_t *sum)
{
	static char	ids[64][24];
	size_t		n = 0;
	long		d;

	*sum = 0;
	for (d = day_from_civil(2024, 2, 1); d <= day_from_civil(2024, 3, 15) &&
	    n < max; d += 3, n++) {
		t[n] = good_txn;
		snprintf(ids[n], sizeof(ids[n]), "t%zu", n);
		t[n].bank_id = ids[n];
		day_format(d, t[n].booking_date);
		day_format(d, t[n].value_date);
		t[n].amount = -(int64_t)(100 + n);
		*sum += t[n].amount;
	}
	return n;
}

static void
clean_records_show_nothing(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	if (w.n != 0)
		fail_msg("%s", list(&w));
}

static void
holder_checks_are_independent(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	good_acct.holder_name = " ";
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "NoHolder");

	good_acct.holder_name = NULL;
	good_acct.holder_address = NULL;
	good_acct.holder_email = NULL;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 3);
	assert_true(has(&w, "NoHolder") && has(&w, "NoAddress") &&
	    has(&w, "KycIncomplete"));

	reset_records();
	good_bal[1].amount = good_bal[0].amount + sum;
	good_acct.holder_address = "Lindenstraße";
	good_acct.holder_email = "anna@@example.de";
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 2);
	assert_true(has(&w, "AddressIncomplete") && has(&w, "InvalidEmail"));
}

static void
emails_and_addresses(void **unused)
{
	(void)unused;
	assert_true(quality_email_valid("anna.schmidt@example.de"));
	assert_true(quality_email_valid("a+b@mail.example-x.co.uk"));
	assert_false(quality_email_valid("anna.schmidt@example"));
	assert_false(quality_email_valid("anna@ex ample.de"));
	assert_false(quality_email_valid("@example.de"));
	assert_false(quality_email_valid(".anna@example.de"));
	assert_false(quality_email_valid("an..na@example.de"));
	assert_false(quality_email_valid("anna@-example.de"));
	assert_false(quality_email_valid("anna@example.d3"));
	assert_false(quality_email_valid("a@b@example.de"));
	assert_true(quality_address_complete("Lindenstraße 12, 10969 Berlin, "
	    "Germany"));
	assert_true(quality_address_complete("10 Downing Street, London "
	    "SW1A 2AA"));
	assert_false(quality_address_complete("Lindenstraße 12"));
	assert_false(quality_address_complete("Lindenstraße, 10969 Berlin"));
	assert_false(quality_address_complete("Lindenstraße 12, Berlin"));
	assert_false(quality_address_complete(""));
}

static void
card_numbers_are_found_and_ibans_are_not(void **unused)
{
	(void)unused;
	assert_true(quality_has_pan("4111111111111111"));
	assert_true(quality_has_pan("card 4111 1111 1111 1111 used"));
	assert_true(quality_has_pan("ref:5555-5555-5555-4444."));
	assert_true(quality_has_pan("378282246310005"));
	/* Not Luhn-valid, too short, too long, glued to letters, masked. */
	assert_false(quality_has_pan("4111111111111112"));
	assert_false(quality_has_pan("411111111111"));
	assert_false(quality_has_pan("41111111111111111111"));
	assert_false(quality_has_pan("DE89370400440532013000"));
	assert_false(quality_has_pan("DE89 3704 0044 0532 0130 00"));
	assert_false(quality_has_pan("X4111111111111111"));
	assert_false(quality_has_pan("**** **** **** 1111"));
	assert_false(quality_has_pan("2024-03-15 12:31"));
	assert_false(quality_has_pan(NULL));
}

static void
pan_in_account_or_transaction(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	t[3].description = "Kartenzahlung 4111-1111-1111-1111";
	t[5].description = "Kartenzahlung 4111-1111-1111-1111 again";
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "PciNonCompliantCardNumber");
	assert_string_equal(w.txn[0], "t3");
	assert_null(strstr(w.detail[0], "4111"));
	assert_non_null(strstr(w.detail[0], "2 occurrences"));

	reset_records();
	good_acct.type = ACCT_CREDIT_CARD;
	good_acct.iban = NULL;
	good_acct.number = "5555 5555 5555 4444";
	good_bal[1].amount = good_bal[0].amount + sum;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_true(has(&w, "PciNonCompliantCardNumber"));
	assert_false(has(&w, "AccountNumberIncomplete"));
}

static void
account_numbers(void **unused)
{
	static const struct {
		const char	*iban, *number;
		enum acct_type	 type;
		int		 incomplete;
	} cases[] = {
		{ "DE89370400440532013000", NULL, ACCT_CHECKING, 0 },
		{ "de89 3704 0044 0532 0130 00", NULL, ACCT_CHECKING, 0 },
		{ "DE89370400440532013001", NULL, ACCT_CHECKING, 1 },
		{ "DE8937040044053201", NULL, ACCT_CHECKING, 1 },
		{ NULL, NULL, ACCT_CHECKING, 1 },
		{ NULL, "0532013000", ACCT_CHECKING, 0 },
		{ NULL, "******3000", ACCT_CHECKING, 1 },
		{ NULL, "**** **** **** 1234", ACCT_CREDIT_CARD, 0 },
		{ NULL, "**** 12", ACCT_CREDIT_CARD, 1 },
	};
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n, i;
	struct warned	w;

	(void)unused;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset_records();
		n = month_of_txns(t, 64, &sum);
		good_bal[1].amount = good_bal[0].amount + sum;
		good_acct.iban = cases[i].iban;
		good_acct.number = cases[i].number;
		good_acct.type = cases[i].type;
		run_one(&good_acct, t, n, "2024-02-01", &w);
		if (has(&w, "AccountNumberIncomplete") != cases[i].incomplete)
			fail_msg("case %zu: %s", i, list(&w));
		assert_int_equal(w.n, (size_t)cases[i].incomplete +
		    (cases[i].type == ACCT_CHECKING ? 0 : 1));
	}
}

static void
balance_mismatch_and_its_period(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum - 1;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "BalanceMismatch");
	assert_non_null(strstr(w.detail[0], "1000.00"));

	/* Transactions before the opening balance's date do not count. */
	good_bal[0].amount -= t[0].amount;
	memcpy(good_bal[0].date, t[1].booking_date, 11);
	good_bal[1].amount = good_bal[0].amount + sum - t[0].amount;
	run_one(&good_acct, t, n, NULL, &w);
	if (w.n != 0)
		fail_msg("%s", list(&w));

	/* Pending ones do not count either. */
	reset_records();
	good_bal[1].amount = good_bal[0].amount + sum;
	t[n] = good_txn;
	t[n].status = TXN_PENDING;
	t[n].bank_id = "p1";
	n++;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	if (w.n != 0)
		fail_msg("%s", list(&w));

	/* Without an opening balance nothing is known. */
	good_acct.nbalances = 0;
	good_acct.balances = NULL;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 0);
}

static void
wrong_order_either_direction(void **unused)
{
	struct rec_txn	t[64], r[64];
	int64_t		sum;
	size_t		n, i;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	/* Newest first is an order too. */
	for (i = 0; i < n; i++)
		r[i] = t[n - 1 - i];
	run_one(&good_acct, r, n, "2024-02-01", &w);
	assert_int_equal(w.n, 0);
	/* One step back breaks it; pending ones are not judged. */
	r[4] = t[n - 1 - 5];
	r[5] = t[n - 1 - 4];
	run_one(&good_acct, r, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "TransactionsWrongOrder");
	assert_string_equal(w.txn[0], r[5].bank_id);
}

static void
duplicates_need_another_id(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	t[n] = t[n - 1];
	t[n].bank_id = "other";
	sum += t[n].amount;
	n++;
	good_bal[1].amount = good_bal[0].amount + sum;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "TransactionDuplicate");
	assert_string_equal(w.txn[0], "other");
	/* The same id twice is a repeat delivery, not a duplicate. */
	t[n - 1].bank_id = t[n - 2].bank_id;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 0);
	/* Another amount: another transaction. */
	t[n - 1].bank_id = "other";
	t[n - 1].amount--;
	good_bal[1].amount--;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 0);
}

static void
no_transactions_or_transaction_null(void **unused)
{
	struct warned	w;

	(void)unused;
	reset_records();
	good_bal[1].amount = good_bal[0].amount;
	run_one(&good_acct, NULL, 0, "2024-01-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "NoTransactions");
	good_bal[0].amount = good_bal[1].amount = good_bal[2].amount = 0;
	run_one(&good_acct, NULL, 0, "2024-01-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "TransactionNull");
	/* A short incremental period says nothing about absence. */
	run_one(&good_acct, NULL, 0, "2024-03-13", &w);
	assert_int_equal(w.n, 0);
}

static void
recency_checks_judge_only_the_covered_period(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n, i, k = 0;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	/* Keep only January's and March 1-14's: nothing in February... */
	for (i = 0; i < n; i++)
		if (strncmp(t[i].booking_date, "2024-02", 7) != 0)
			t[k++] = t[i];
	good_acct.nbalances = 0;
	run_one(&good_acct, t, k, "2024-01-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "NoLastMonthTransaction");
	/* ...which a period from Feb 10 does not cover. */
	run_one(&good_acct, t, k, "2024-02-10", &w);
	assert_int_equal(w.n, 0);
	/* Nothing after March 1: NoLast15DaysTransaction. */
	n = month_of_txns(t, 64, &sum);
	for (i = k = 0; i < n; i++)
		if (strcmp(t[i].booking_date, "2024-03-01") < 0)
			t[k++] = t[i];
	run_one(&good_acct, t, k, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "NoLast15DaysTransaction");
}

static void
currencies(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	memcpy(good_bal[2].currency, "EUX", 4);
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "ValidateCurrency");
	reset_records();
	good_bal[1].amount = good_bal[0].amount + sum;
	memcpy(t[2].currency, "USD", 4);
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "ValidateCurrency");
	assert_string_equal(w.txn[0], "t2");
}

static void
incomplete_transactions(void **unused)
{
	struct rec_txn	t[64];
	int64_t		sum;
	size_t		n;
	struct warned	w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	t[1].description = NULL;
	t[1].cp_name = "";
	t[7].description = NULL;
	t[7].cp_name = NULL;
	run_one(&good_acct, t, n, "2024-02-01", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "TransactionIncomplete");
	assert_string_equal(w.txn[0], "t1");
	assert_non_null(strstr(w.detail[0], "2 occurrences"));
}

static void
misconfigured_transactions(void **unused)
{
	struct quality	*q = quality_new(noon(2024, 3, 15));
	struct rec_txn	 t[64];
	int64_t		 sum;
	size_t		 n;
	struct warned	 w;

	(void)unused;
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	/* Dated before the requested period. */
	run_one(&good_acct, t, n, "2024-02-05", &w);
	assert_true(has(&w, "TransactionsMisconfigured"));
	/* For an account that errored, or that never came. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(quality_account_error(q, "acc_9", ERR_ACCOUNT_BLOCKED),
	    ERR_OK);
	assert_int_equal(quality_txn(q, "acc_9", "x", &t[0]), ERR_OK);
	assert_int_equal(quality_txn(q, "acc_8", "y", &t[0]), ERR_OK);
	quality_finish(q, collect, &w);
	quality_free(q);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.name[0], "TransactionsMisconfigured");
	assert_string_equal(w.acct[0], "acc_9");
	assert_string_equal(w.acct[1], "acc_8");
	/* An account error alone is not NoAccounts. */
}

static void
connection_wide_warnings(void **unused)
{
	struct quality		*q;
	struct warned		 w;
	struct rec_txn		 t[64];
	int64_t			 sum;
	size_t			 n, i;

	(void)unused;
	/* No account at all. */
	q = quality_new(noon(2024, 3, 15));
	memset(&w, 0, sizeof(w));
	quality_finish(q, collect, &w);
	quality_free(q);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "NoAccounts");
	assert_string_equal(w.acct[0], "");

	/* MFA again after authorization. */
	q = quality_new(noon(2024, 3, 15));
	memset(&w, 0, sizeof(w));
	quality_account_error(q, NULL, ERR_ACCOUNT_BLOCKED);
	quality_mfa_after_authorization(q);
	quality_mfa_after_authorization(q);
	quality_finish(q, collect, &w);
	quality_free(q);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.name[0], "MFAAfterAuthorization");

	/* A savings account alone: no operations account; twice: dup. */
	reset_records();
	n = month_of_txns(t, 64, &sum);
	good_bal[1].amount = good_bal[0].amount + sum;
	good_acct.type = ACCT_SAVINGS;
	q = quality_new(noon(2024, 3, 15));
	memset(&w, 0, sizeof(w));
	quality_account(q, "acc_1", &good_acct);
	for (i = 0; i < n; i++)
		quality_txn(q, "acc_1", t[i].bank_id, &t[i]);
	good_acct.iban = "DE89370400440532013000";
	quality_account(q, "acc_2", &good_acct);
	for (i = 0; i < n; i++)
		quality_txn(q, "acc_2", t[i].bank_id, &t[i]);
	quality_finish(q, collect, &w);
	quality_free(q);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.name[0], "MissingOperationAccounts");
	assert_string_equal(w.name[1], "AccountDuplicate");
	assert_string_equal(w.acct[1], "acc_2");
	assert_non_null(strstr(w.detail[1], "acc_1"));
}

/* ---- the catalog and its doc ---- */

static void
catalog_has_seed_001_and_snake_names(void **unused)
{
	char	s[96];
	int	i, applies = 0;

	(void)unused;
	assert_int_equal(WARN__COUNT, 30);
	for (i = 0; i < WARN__COUNT; i++) {
		const struct warn_info *w = warn_info((enum warn)i);

		warn_snake_case(w->name, s, sizeof(s));
		assert_string_equal(s, w->snake);
		assert_int_equal(warn_by_name(w->name), i);
		assert_true(strlen(w->check) > 20);
		applies += w->applies;
	}
	assert_int_equal(applies, 21);
	warn_snake_case("NoLast15DaysTransaction", s, sizeof(s));
	assert_string_equal(s, "no_last15_days_transaction");
	warn_snake_case("MFAAfterAuthorization", s, sizeof(s));
	assert_string_equal(s, "mfa_after_authorization");
	warn_snake_case("MissingStatementsPDF", s, sizeof(s));
	assert_string_equal(s, "missing_statements_pdf");
	assert_int_equal(warn_by_name("Nope"), WARN__COUNT);
}

static void
docs_warnings_md_is_generated_from_the_catalog(void **unused)
{
	(void)unused;
	doc_matches(BF_SOURCE_DIR "/docs/warnings.md", warnings_markdown, "build/tests/test_quality");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_and_mfa_users_show_no_warning),
		cmocka_unit_test(released_preauthorizations_leave_no_warning),
		cmocka_unit_test(each_warning_user_shows_exactly_its_warning),
		cmocka_unit_test(large_sync_checks_in_bounded_memory),
		cmocka_unit_test(clean_records_show_nothing),
		cmocka_unit_test(holder_checks_are_independent),
		cmocka_unit_test(emails_and_addresses),
		cmocka_unit_test(card_numbers_are_found_and_ibans_are_not),
		cmocka_unit_test(pan_in_account_or_transaction),
		cmocka_unit_test(account_numbers),
		cmocka_unit_test(balance_mismatch_and_its_period),
		cmocka_unit_test(wrong_order_either_direction),
		cmocka_unit_test(duplicates_need_another_id),
		cmocka_unit_test(no_transactions_or_transaction_null),
		cmocka_unit_test(recency_checks_judge_only_the_covered_period),
		cmocka_unit_test(currencies),
		cmocka_unit_test(incomplete_transactions),
		cmocka_unit_test(misconfigured_transactions),
		cmocka_unit_test(connection_wide_warnings),
		cmocka_unit_test(catalog_has_seed_001_and_snake_names),
		cmocka_unit_test(docs_warnings_md_is_generated_from_the_catalog),
	};

	sandbox_set_slow_ms(10);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
