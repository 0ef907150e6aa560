/*
 * The Sandbox Bank as a client of the connector interface sees it: logins,
 * challenges, every catalog entry with a stage, the generated data, the
 * waits and batches, the state string, and docs/sandbox.md.
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
#include "banks/sandbox_int.h"
#include "core/day.h"
#include "core/iban.h"
#include "core/warnings.h"
#include "jobs/quality.h"

static const struct connector *sb;

/* Unix seconds at noon UTC of a date. */
static long long
noon(int y, int m, int d)
{
	return (long long)day_from_civil(y, m, d) * 86400 + 43200;
}

#define NOW noon(2024, 3, 15)

static struct bank_ctx
ctx_at(long long now)
{
	struct bank_ctx	c = { .institution_id = "sandbox", .now = now,
	    .psu_ip = "198.51.100.7" };

	return c;
}

/* Logs in; returns the outcome, the state in *state (malloc'd). */
static enum bank_auth_outcome
login(const char *user, const char *pass, char **state, struct bank_auth *a)
{
	struct bank_secret	 sec = { user, pass };
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_op		*op;

	bank_auth_init(a);
	op = sb->login(&c, &sec, a);
	assert_non_null(op);
	bank_run_blocking(sb, op);
	sb->op_free(op);
	if (state != NULL)
		*state = strdup(buf_str(&a->state));
	return a->outcome;
}

static enum bank_auth_outcome
answer(const char *state, const struct bank_answer *ans, size_t n,
    char **newstate, struct bank_auth *a)
{
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_op		*op;

	bank_auth_init(a);
	op = sb->answer(&c, state, ans, n, a);
	assert_non_null(op);
	bank_run_blocking(sb, op);
	sb->op_free(op);
	if (newstate != NULL)
		*newstate = strdup(buf_str(&a->state));
	return a->outcome;
}

/* Logs in a user that needs no challenge; returns the state. */
static char *
login_ok(const char *user)
{
	struct bank_auth	 a;
	char			*st;

	assert_int_equal(login(user, SANDBOX_PASSWORD, &st, &a),
	    BANK_AUTHORIZED);
	bank_auth_free(&a);
	return st;
}

/* What a fetch delivered. */
#define MAXACCT 8
struct got {
	size_t		naccts, nerrs, ntxn, npending;
	char		acct[MAXACCT][48];
	int64_t		open[MAXACCT], close[MAXACCT], sum[MAXACCT];
	int64_t		avail[MAXACCT], limit[MAXACCT], pend[MAXACCT];
	int		has_open[MAXACCT], has_close[MAXACCT];
	enum acct_type	type[MAXACCT];
	char		err_acct[MAXACCT][48];
	enum err	err[MAXACCT];
	char		errmsg[MAXACCT][BANK_MSG_MAX];
	uint64_t	digest;
	long		first_day, last_day;
	size_t		with_pending_id;
	int		full_pan;
	/* An optional record of each transaction for pending tests. */
	struct seen {
		char	id[48], pid[48];
		int	pending, acct;
		int	preauth;	/* description says VORAUTORISIERUNG */
		int64_t	amount;
		long	day;		/* booking date */
		char	cp[72], desc[SB_TXT];
	}		*seen;
	size_t		nseen, capseen;
	struct quality	*q;
};

static uint64_t
mix(uint64_t h, const char *s)
{
	if (s == NULL)
		s = "\x01";
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static int
cur(struct got *g, const char *bank_id)
{
	size_t	i;

	for (i = 0; i < g->naccts; i++)
		if (strcmp(g->acct[i], bank_id) == 0)
			return (int)i;
	return -1;
}

static int
on_account(void *arg, const struct rec_account *r)
{
	struct got	*g = arg;
	size_t		 i, n = g->naccts;
	char		 num[32];

	assert_true(n < MAXACCT);
	snprintf(g->acct[n], sizeof(g->acct[n]), "%s", r->bank_id);
	g->type[n] = r->type;
	for (i = 0; i < r->nbalances; i++) {
		if (r->balances[i].type == BAL_OPENING_BOOKED) {
			g->open[n] = r->balances[i].amount;
			g->has_open[n] = 1;
		}
		if (r->balances[i].type == BAL_BOOKED) {
			g->close[n] = r->balances[i].amount;
			g->has_close[n] = 1;
		}
		if (r->balances[i].type == BAL_AVAILABLE)
			g->avail[n] = r->balances[i].amount;
		if (r->balances[i].type == BAL_CREDIT_LIMIT)
			g->limit[n] = r->balances[i].amount;
		snprintf(num, sizeof(num), "%lld:%d",
		    (long long)r->balances[i].amount, (int)r->balances[i].type);
		g->digest = mix(g->digest, num);
	}
	g->digest = mix(g->digest, r->bank_id);
	g->digest = mix(g->digest, r->iban);
	g->digest = mix(g->digest, r->number);
	g->digest = mix(g->digest, r->holder_name);
	if (quality_has_pan(r->number))
		g->full_pan = 1;
	g->naccts++;
	if (g->q != NULL)
		assert_int_equal(quality_account(g->q, r->bank_id, r), ERR_OK);
	return 0;
}

static int
on_error(void *arg, const char *bank_id, const struct bank_error *e)
{
	struct got	*g = arg;

	assert_true(g->nerrs < MAXACCT);
	snprintf(g->err_acct[g->nerrs], 48, "%s", bank_id);
	g->err[g->nerrs] = e->code;
	snprintf(g->errmsg[g->nerrs], BANK_MSG_MAX, "%s", e->message);
	g->nerrs++;
	if (g->q != NULL)
		assert_int_equal(quality_account_error(g->q, bank_id, e->code),
		    ERR_OK);
	return 0;
}

static int
on_txn(void *arg, const char *bank_id, const struct rec_txn *t)
{
	struct got	*g = arg;
	int		 i = cur(g, bank_id);
	long		 d = 0;
	char		 num[32];

	assert_true(i >= 0);
	g->ntxn++;
	if (t->status == TXN_PENDING) {
		g->npending++;
		g->pend[i] += t->amount;
	} else
		g->sum[i] += t->amount;
	if (t->pending_bank_id != NULL)
		g->with_pending_id++;
	if (day_parse(t->booking_date, &d) == 0) {
		if (g->first_day == 0 || d < g->first_day)
			g->first_day = d;
		if (d > g->last_day)
			g->last_day = d;
	}
	if (g->seen != NULL || g->capseen > 0) {
		if (g->nseen == g->capseen) {
			g->capseen = g->capseen ? g->capseen * 2 : 256;
			g->seen = realloc(g->seen, g->capseen * sizeof(*g->seen));
			assert_non_null(g->seen);
		}
		snprintf(g->seen[g->nseen].id, 48, "%s", t->bank_id);
		snprintf(g->seen[g->nseen].pid, 48, "%s",
		    t->pending_bank_id ? t->pending_bank_id : "");
		g->seen[g->nseen].pending = t->status == TXN_PENDING;
		g->seen[g->nseen].acct = i;
		g->seen[g->nseen].preauth = t->description != NULL &&
		    strstr(t->description, "VORAUTORISIERUNG") != NULL;
		g->seen[g->nseen].amount = t->amount;
		g->seen[g->nseen].day = d;
		snprintf(g->seen[g->nseen].cp, sizeof(g->seen[0].cp), "%s",
		    t->cp_name ? t->cp_name : "");
		snprintf(g->seen[g->nseen].desc, sizeof(g->seen[0].desc), "%s",
		    t->description ? t->description : "");
		g->nseen++;
	}
	snprintf(num, sizeof(num), "%lld", (long long)t->amount);
	g->digest = mix(g->digest, num);
	g->digest = mix(g->digest, t->bank_id);
	g->digest = mix(g->digest, t->booking_date);
	g->digest = mix(g->digest, t->description);
	g->digest = mix(g->digest, t->cp_name);
	g->digest = mix(g->digest, t->cp_iban);
	if (g->q != NULL)
		assert_int_equal(quality_txn(g->q, bank_id, t->bank_id, t),
		    ERR_OK);
	return 0;
}

static struct bank_sink
sink_of(struct got *g)
{
	struct bank_sink	s = { g, on_account, on_error, on_txn };

	return s;
}

/* Fetches with state; the result's state replaces *state when given. */
static void
fetch(char **state, long long now, const char *from, const char *to,
    const struct bank_answer *ans, size_t nans, struct got *g,
    struct bank_fetch_result *res)
{
	struct bank_ctx		 c = ctx_at(now);
	struct bank_fetch_req	 req = { from, to, NULL, ans, nans };
	struct bank_sink	 s = sink_of(g);
	struct bank_op		*op;

	bank_fetch_result_init(res);
	op = sb->fetch(&c, *state, &req, &s, res);
	assert_non_null(op);
	bank_run_blocking(sb, op);
	sb->op_free(op);
	if (res->error.code == ERR_OK && res->state.len > 0) {
		free(*state);
		*state = strdup(buf_str(&res->state));
	}
}

static void
setup_all(void)
{
	sb = connector_for("sandbox");
	sandbox_set_slow_ms(150);
}

/* ---- logins and challenges ---- */

static void
good_user_logs_in_without_challenge(void **unused)
{
	struct bank_auth	 a;
	char			*st;

	(void)unused;
	assert_int_equal(login("user_good", "pass_good", &st, &a),
	    BANK_AUTHORIZED);
	assert_int_equal(a.nchallenges, 0);
	assert_non_null(strstr(st, "\"user_good\""));
	assert_null(strstr(st, "pass_good"));
	bank_auth_free(&a);
	free(st);
}

static void
wrong_password_and_unknown_username_are_refused(void **unused)
{
	struct bank_auth	a;

	(void)unused;
	assert_int_equal(login("user_good", "pass_bad", NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_PASSWORD);
	assert_true(strlen(a.error.message) > 10);
	assert_null(strstr(a.error.message, "pass_bad"));
	bank_auth_free(&a);
	assert_int_equal(login("user_mfa_tan", "", NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_PASSWORD);
	bank_auth_free(&a);
	assert_int_equal(login("nobody", "pass_good", NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_USERNAME);
	assert_true(strlen(a.error.message) > 10);
	bank_auth_free(&a);
	assert_int_equal(login("user_warn_account_without_url", "pass_good",
	    NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_USERNAME);
	bank_auth_free(&a);
}

static void
one_question_right_and_wrong(void **unused)
{
	struct bank_auth	 a;
	char			*st, *st2;
	struct bank_answer	 right = { "sq_car_colour", "blue" };
	struct bank_answer	 wrong = { "sq_car_colour", "red" };

	(void)unused;
	assert_int_equal(login("user_mfa_question", "pass_good", &st, &a),
	    BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 1);
	assert_string_equal(a.challenges[0].key, "sq_car_colour");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_QUESTION);
	assert_true(strlen(a.challenges[0].prompt) > 0);
	bank_auth_free(&a);
	assert_int_equal(answer(st, &wrong, 1, NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_SECURITY_RESPONSE);
	assert_null(strstr(a.error.message, "red"));
	bank_auth_free(&a);
	assert_int_equal(answer(st, &right, 1, &st2, &a), BANK_AUTHORIZED);
	assert_non_null(strstr(st2, "authorized"));
	assert_null(strstr(st2, "blue"));
	bank_auth_free(&a);
	free(st);
	free(st2);
}

static void
three_questions_all_must_be_right(void **unused)
{
	struct bank_auth	 a;
	char			*st;
	struct bank_answer	 ans[3] = { { "sq_car_colour", "blue" },
	    { "sq_favourite_colour", "Blue" }, { "sq_sky_colour", "blue" } };

	(void)unused;
	assert_int_equal(login("user_mfa_questions", "pass_good", &st, &a),
	    BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 3);
	assert_string_equal(a.challenges[1].key, "sq_favourite_colour");
	assert_string_equal(a.challenges[2].key, "sq_sky_colour");
	bank_auth_free(&a);
	assert_int_equal(answer(st, ans, 3, NULL, &a), BANK_AUTHORIZED);
	bank_auth_free(&a);
	ans[2].value = "grey";
	assert_int_equal(answer(st, ans, 3, NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_SECURITY_RESPONSE);
	bank_auth_free(&a);
	free(st);
}

static void
tan_right_and_wrong(void **unused)
{
	struct bank_auth	 a;
	char			*st;
	struct bank_answer	 ok = { "tan", "123456" }, bad = { "tan", "654321" };

	(void)unused;
	assert_int_equal(login("user_mfa_tan", "pass_good", &st, &a),
	    BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 1);
	assert_string_equal(a.challenges[0].key, "tan");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_TAN);
	bank_auth_free(&a);
	assert_int_equal(answer(st, &bad, 1, NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_TAN);
	bank_auth_free(&a);
	assert_int_equal(answer(st, &ok, 1, NULL, &a), BANK_AUTHORIZED);
	bank_auth_free(&a);
	free(st);
}

static void
choice_then_tan(void **unused)
{
	struct bank_auth	 a;
	char			*st, *st2;
	struct bank_answer	 pick = { "tan_method", "push" };
	struct bank_answer	 nope = { "tan_method", "carrier pigeon" };
	struct bank_answer	 ok = { "tan", "123456" }, bad = { "tan", "1" };

	(void)unused;
	assert_int_equal(login("user_mfa_choice", "pass_good", &st, &a),
	    BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 1);
	assert_string_equal(a.challenges[0].key, "tan_method");
	assert_int_equal(a.challenges[0].kind, BANK_CHAL_CHOICE);
	assert_int_equal(a.challenges[0].noptions, 3);
	assert_string_equal(a.challenges[0].options[1], "push");
	bank_auth_free(&a);

	assert_int_equal(answer(st, &nope, 1, NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_SECURITY_RESPONSE);
	bank_auth_free(&a);

	assert_int_equal(answer(st, &pick, 1, &st2, &a), BANK_CHALLENGE);
	assert_int_equal(a.nchallenges, 1);
	assert_string_equal(a.challenges[0].key, "tan");
	assert_non_null(strstr(a.challenges[0].prompt, "app"));
	bank_auth_free(&a);
	assert_int_equal(answer(st2, &bad, 1, NULL, &a), BANK_FAILED);
	assert_int_equal(a.error.code, ERR_INVALID_TAN);
	bank_auth_free(&a);
	assert_int_equal(answer(st2, &ok, 1, NULL, &a), BANK_AUTHORIZED);
	bank_auth_free(&a);
	free(st);
	free(st2);
}

static void
mfa_users_fetch_good_data(void **unused)
{
	static const char *const users[] = { "user_mfa_question",
	    "user_mfa_questions", "user_mfa_tan", "user_mfa_choice" };
	struct bank_answer	 all[] = { { "sq_car_colour", "blue" },
	    { "sq_favourite_colour", "blue" }, { "sq_sky_colour", "blue" },
	    { "tan_method", "sms" }, { "tan", "123456" } };
	size_t			 i;

	(void)unused;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct bank_auth		 a;
		struct bank_fetch_result	 res;
		struct got			 g;
		char				*st, *st2;

		assert_int_equal(login(users[i], "pass_good", &st, &a),
		    BANK_CHALLENGE);
		bank_auth_free(&a);
		while (answer(st, all, 5, &st2, &a) == BANK_CHALLENGE) {
			bank_auth_free(&a);
			free(st);
			st = st2;
		}
		assert_int_equal(a.outcome, BANK_AUTHORIZED);
		bank_auth_free(&a);
		free(st);
		memset(&g, 0, sizeof(g));
		fetch(&st2, NOW, NULL, NULL, NULL, 0, &g, &res);
		assert_int_equal(res.error.code, ERR_OK);
		assert_int_equal(g.naccts, 2);
		assert_true(g.ntxn > 100);
		bank_fetch_result_free(&res);
		free(st2);
	}
}

/* ---- the catalog ---- */

static void
every_staged_catalog_entry_fails_at_its_stage(void **unused)
{
	struct bank_answer	tan = { "tan", "123456" };
	int			i, n = 0;

	(void)unused;
	for (i = 1; i < ERR__COUNT; i++) {
		const struct err_info		*ei = err_info((enum err)i);
		struct bank_auth		 a;
		struct bank_fetch_result	 res;
		struct got			 g;
		char				 user[96], *st = NULL;
		enum bank_auth_outcome		 o;

		if (ei->stage == STG_NONE)
			continue;
		n++;
		err_sandbox_username((enum err)i, user, sizeof(user));
		o = login(user, "pass_good", &st, &a);
		if (ei->stage == STG_LOGIN) {
			assert_int_equal(o, BANK_FAILED);
			assert_int_equal(a.error.code, i);
			assert_true(strlen(a.error.message) > 10);
			bank_auth_free(&a);
			free(st);
			continue;
		}
		if (ei->stage == STG_CHALLENGE) {
			assert_int_equal(o, BANK_CHALLENGE);
			assert_int_equal(a.nchallenges, 1);
			assert_string_equal(a.challenges[0].key, "tan");
			bank_auth_free(&a);
			assert_int_equal(answer(st, &tan, 1, NULL, &a),
			    BANK_FAILED);
			assert_int_equal(a.error.code, i);
			assert_true(strlen(a.error.message) > 10);
			bank_auth_free(&a);
			free(st);
			continue;
		}
		/* sync and account: the login succeeds (one question for
		 * user_question_not_found). */
		if (o == BANK_CHALLENGE) {
			struct bank_answer q = { "sq_car_colour", "blue" };
			char	*st2;

			bank_auth_free(&a);
			assert_int_equal(answer(st, &q, 1, &st2, &a),
			    BANK_AUTHORIZED);
			free(st);
			st = st2;
		}
		assert_int_equal(a.outcome, BANK_AUTHORIZED);
		bank_auth_free(&a);
		memset(&g, 0, sizeof(g));
		fetch(&st, NOW, NULL, NULL, NULL, 0, &g, &res);
		if (ei->stage == STG_SYNC) {
			assert_int_equal(res.error.code, i);
			assert_true(strlen(res.error.message) > 10);
			assert_int_equal(g.naccts + g.ntxn, 0);
		} else {
			assert_int_equal(res.error.code, ERR_OK);
			assert_int_equal(g.nerrs, 1);
			assert_int_equal(g.err[0], i);
			assert_true(strlen(g.errmsg[0]) > 10);
			/* The other account is fine, with its data. */
			assert_int_equal(g.naccts, 1);
			assert_int_equal(g.type[0], ACCT_CHECKING);
			assert_true(g.ntxn > 100);
			assert_string_not_equal(g.err_acct[0], g.acct[0]);
		}
		bank_fetch_result_free(&res);
		free(st);
	}
	assert_true(n >= 30);
}

static void
every_staged_entry_has_its_own_bank_message(void **unused)
{
	struct bank_auth	a;
	char			msgs[ERR__COUNT][BANK_MSG_MAX];
	int			i, j;

	(void)unused;
	memset(msgs, 0, sizeof(msgs));
	for (i = 1; i < ERR__COUNT; i++) {
		char	user[96];

		if (err_info((enum err)i)->stage != STG_LOGIN)
			continue;
		err_sandbox_username((enum err)i, user, sizeof(user));
		assert_int_equal(login(user, "pass_good", NULL, &a),
		    BANK_FAILED);
		snprintf(msgs[i], BANK_MSG_MAX, "%s", a.error.message);
		bank_auth_free(&a);
		/* Not the fallback, and not bankfeed's own description. */
		assert_string_not_equal(msgs[i],
		    "The bank could not process your request.");
		assert_string_not_equal(msgs[i],
		    err_info((enum err)i)->description);
		for (j = 1; j < i; j++)
			if (msgs[j][0] != '\0')
				assert_string_not_equal(msgs[i], msgs[j]);
	}
}

static void
every_staged_entry_has_a_message_in_the_table(void **unused)
{
	int	i;

	(void)unused;
	for (i = 1; i < ERR__COUNT; i++) {
		if (err_info((enum err)i)->stage == STG_NONE)
			continue;
		if (strcmp(sb_message((enum err)i),
		    "The bank could not process your request.") == 0)
			fail_msg("%s has no line in src/banks/"
			    "sandbox_messages.def", err_name((enum err)i));
	}
}

static void
question_not_found_unless_stored(void **unused)
{
	struct bank_answer		 q = { "sq_car_colour", "blue" };
	struct bank_answer		 stored[2] = { { "sq_car_colour", "blue" },
	    { "sq_door_colour", "blue" } };
	struct bank_auth		 a;
	struct bank_fetch_result	 res;
	struct got			 g;
	char				*st, *st2;

	(void)unused;
	assert_int_equal(login("user_question_not_found", "pass_good", &st,
	    &a), BANK_CHALLENGE);
	bank_auth_free(&a);
	assert_int_equal(answer(st, &q, 1, &st2, &a), BANK_AUTHORIZED);
	bank_auth_free(&a);
	free(st);

	memset(&g, 0, sizeof(g));
	fetch(&st2, NOW, NULL, NULL, &q, 1, &g, &res);
	assert_int_equal(res.error.code, ERR_QUESTION_NOT_FOUND);
	assert_non_null(strstr(res.error.message, "front door"));
	assert_int_equal(g.naccts, 0);
	bank_fetch_result_free(&res);

	stored[1].value = "green";
	memset(&g, 0, sizeof(g));
	fetch(&st2, NOW, NULL, NULL, stored, 2, &g, &res);
	assert_int_equal(res.error.code, ERR_INVALID_SECURITY_RESPONSE);
	bank_fetch_result_free(&res);

	stored[1].value = "blue";
	memset(&g, 0, sizeof(g));
	fetch(&st2, NOW, NULL, NULL, stored, 2, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(res.mfa_after_authorization, 1);
	assert_int_equal(g.naccts, 2);
	bank_fetch_result_free(&res);
	free(st2);
}

static void
fetch_before_authorization_is_refused(void **unused)
{
	struct bank_auth		 a;
	struct bank_fetch_result	 res;
	struct got			 g;
	char				*st;

	(void)unused;
	assert_int_equal(login("user_mfa_tan", "pass_good", &st, &a),
	    BANK_CHALLENGE);
	bank_auth_free(&a);
	memset(&g, 0, sizeof(g));
	fetch(&st, NOW, NULL, NULL, NULL, 0, &g, &res);
	assert_int_equal(res.error.code, ERR_CONNECTION_NOT_AUTHORIZED);
	assert_int_equal(g.naccts, 0);
	bank_fetch_result_free(&res);
	free(st);
}

/* ---- data ---- */

static void
good_data_is_realistic_and_consistent(void **unused)
{
	struct bank_fetch_result	 res;
	struct got			 g;
	char				*st = login_ok("user_good");
	long				 today = day_from_unix(NOW);
	size_t				 i;

	(void)unused;
	memset(&g, 0, sizeof(g));
	fetch(&st, NOW, NULL, NULL, NULL, 0, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(res.mfa_after_authorization, 0);
	assert_int_equal(g.naccts, 2);
	assert_int_equal(g.type[0], ACCT_CHECKING);
	assert_int_equal(g.type[1], ACCT_CREDIT_CARD);
	assert_false(g.full_pan);
	/* About 120 days of it, up to today, with pending card payments
	 * and booked ones that name their pending id. */
	assert_true(g.ntxn > 150);
	assert_true(g.first_day <= today - 115);
	assert_true(g.first_day >= today - 119);
	assert_true(g.last_day >= today - 3);
	assert_true(g.npending > 0);
	assert_true(g.with_pending_id > 50);
	for (i = 0; i < g.naccts; i++) {
		assert_true(g.has_open[i] && g.has_close[i]);
		assert_int_equal(g.open[i] + g.sum[i], g.close[i]);
	}
	bank_fetch_result_free(&res);
	free(st);
}

static void
any_window_keeps_balances_consistent(void **unused)
{
	static const int windows[][2] = {	/* days before today */
		{ 10, 3 }, { -5, -9 }, { 400, 100 }, { 0, 0 }, { 45, 0 },
		{ 119, 119 }, { 2000, -30 },
	};
	char	*st = login_ok("user_good");
	long	 today = day_from_unix(NOW);
	size_t	 i, j;

	(void)unused;
	for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		struct bank_fetch_result	res;
		struct got			g;
		char				from[DAY_STRLEN], to[DAY_STRLEN];

		day_format(today - windows[i][0], from);
		day_format(today - windows[i][1], to);
		memset(&g, 0, sizeof(g));
		fetch(&st, NOW, from, to, NULL, 0, &g, &res);
		assert_int_equal(res.error.code, ERR_OK);
		assert_int_equal(g.naccts, 2);
		for (j = 0; j < g.naccts; j++)
			assert_int_equal(g.open[j] + g.sum[j], g.close[j]);
		if (g.first_day != 0) {
			assert_true(g.first_day >= today - windows[i][0]);
			assert_true(g.first_day >= today - 119);
			assert_true(g.last_day <= today - windows[i][1]);
		}
		bank_fetch_result_free(&res);
	}
	free(st);
}

/* Checks the accounts themselves: IBAN, card number, balances. */
static int
check_account(void *arg, const struct rec_account *r)
{
	int	*n = arg;
	size_t	 i;
	int	 limit = 0, avail = 0;

	assert_non_null(r->holder_name);
	assert_non_null(r->holder_address);
	assert_non_null(r->holder_email);
	if (r->type == ACCT_CHECKING) {
		assert_non_null(r->iban);
		assert_true(iban_valid(r->iban));
		assert_memory_equal(r->iban, "DE", 2);
		assert_string_equal(r->currency, "EUR");
	} else {
		assert_int_equal(r->type, ACCT_CREDIT_CARD);
		assert_null(r->iban);
		assert_non_null(r->number);
		assert_non_null(strstr(r->number, "****"));
		for (i = 0; i < r->nbalances; i++) {
			if (r->balances[i].type == BAL_CREDIT_LIMIT)
				limit = 1;
			if (r->balances[i].type == BAL_AVAILABLE)
				avail = 1;
			/* A card balance is what is owed: never the limit. */
			if (r->balances[i].type == BAL_BOOKED)
				assert_true(r->balances[i].amount <= 0);
		}
		assert_true(limit && avail);
	}
	(*n)++;
	return 0;
}

static int
check_txn(void *arg, const char *acct, const struct rec_txn *t)
{
	(void)arg;
	(void)acct;
	assert_non_null(t->bank_id);
	assert_true(t->amount != 0);
	assert_true(t->description != NULL || t->cp_name != NULL);
	assert_non_null(t->bank_transaction_code);
	if (t->cp_iban != NULL)
		assert_true(iban_valid(t->cp_iban));
	return 0;
}

static void
good_accounts_have_valid_iban_and_masked_card(void **unused)
{
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_fetch_req	 req = { NULL, NULL, NULL, NULL, 0 };
	struct bank_sink	 s;
	struct bank_fetch_result res;
	struct bank_op		*op;
	char			*st = login_ok("user_good");
	int			 n = 0;

	(void)unused;
	s.arg = &n;
	s.account = check_account;
	s.account_error = NULL;
	s.txn = check_txn;
	bank_fetch_result_init(&res);
	op = sb->fetch(&c, st, &req, &s, &res);
	bank_run_blocking(sb, op);
	sb->op_free(op);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(n, 2);
	bank_fetch_result_free(&res);
	free(st);
}

static void
two_fetches_give_identical_data(void **unused)
{
	struct bank_fetch_result	 res;
	struct got			 g1, g2, g3;
	char				*st = login_ok("user_good");
	char				*st2 = login_ok("user_good");

	(void)unused;
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	fetch(&st, NOW, "2024-01-01", "2024-03-15", NULL, 0, &g1, &res);
	bank_fetch_result_free(&res);
	/* Later the same day, from another login: the same records. */
	fetch(&st2, NOW + 3600, "2024-01-01", "2024-03-15", NULL, 0, &g2,
	    &res);
	bank_fetch_result_free(&res);
	assert_int_equal(g1.ntxn, g2.ntxn);
	assert_true(g1.digest == g2.digest);
	/* Another user: other data. */
	free(st);
	st = login_ok("user_account_disappears");
	fetch(&st, NOW, "2024-01-01", "2024-03-15", NULL, 0, &g3, &res);
	bank_fetch_result_free(&res);
	assert_true(g3.digest != g1.digest);
	free(st);
	free(st2);
}

static void
history_does_not_depend_on_when_it_is_fetched(void **unused)
{
	struct bank_fetch_result	 res;
	struct got			 a, b;
	char				*st = login_ok("user_good");
	size_t				 i, j, common = 0;

	(void)unused;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.seen = malloc(1);
	b.seen = malloc(1);
	fetch(&st, NOW, "2024-02-01", "2024-02-29", NULL, 0, &a, &res);
	bank_fetch_result_free(&res);
	fetch(&st, NOW + 20 * 86400, "2024-02-01", "2024-02-29", NULL, 0, &b,
	    &res);
	bank_fetch_result_free(&res);
	/* February, fetched in March or in April: the same transactions. */
	assert_int_equal(a.nseen, b.nseen);
	for (i = 0; i < a.nseen; i++)
		for (j = 0; j < b.nseen; j++)
			if (strcmp(a.seen[i].id, b.seen[j].id) == 0) {
				assert_int_equal(a.seen[i].amount,
				    b.seen[j].amount);
				common++;
			}
	assert_int_equal(common, a.nseen);
	assert_int_equal(a.open[0], b.open[0]);
	assert_int_equal(a.close[0], b.close[0]);
	free(a.seen);
	free(b.seen);
	free(st);
}

/*
 * Every day of two years, for users of different seeds, the card's
 * available balance (limit, less what is owed and held) stays at or above
 * zero: the card never spends past its limit.
 */
static void
card_stays_within_its_limit(void **unused)
{
	static const char *const users[] = { "user_good",
	    "user_warn_invalid_email", "user_account_disappears",
	    "user_warn_no_address", "user_warn_kyc_incomplete" };
	char	 day[DAY_STRLEN];
	long	 d, today = day_from_unix(NOW);
	size_t	 u, j;

	(void)unused;
	for (u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
		char	*st = login_ok(users[u]);
		int64_t	 worst = INT64_MAX;

		for (d = 0; d < 730; d++) {
			struct bank_fetch_result	res;
			struct got			g;

			memset(&g, 0, sizeof(g));
			day_format(today - d, day);
			fetch(&st, NOW - (long long)d * 86400, day, day, NULL, 0,
			    &g, &res);
			if (res.error.code != ERR_OK) {
				bank_fetch_result_free(&res);
				break;		/* a user whose fetch fails */
			}
			for (j = 0; j < g.naccts; j++)
				if (g.type[j] == ACCT_CREDIT_CARD &&
				    g.avail[j] < worst)
					worst = g.avail[j];
			bank_fetch_result_free(&res);
		}
		free(st);
		if (worst < 0)
			fprintf(stderr, "%s: the card's available balance fell "
			    "to %lld\n", users[u], (long long)worst);
		assert_true(worst >= 0);
	}
}

/*
 * On every day of a (leap) year, month ends and their settlement among
 * them, a sync shows at least one pending card payment that is not a
 * pre-authorization, and 4 days later every pending payment of either
 * account has booked under a TX- id that names its pending one, with the
 * same amount: pending -> booked can be shown whatever the date.
 */
static void
pending_card_payments_book_later(void **unused)
{
	char	*st = login_ok("user_good");
	long	 d0 = day_from_civil(2024, 1, 1), d;
	size_t	 i, j;

	(void)unused;
	for (d = d0; d < d0 + 366; d++) {
		struct bank_fetch_result	 res;
		struct got			 a, b;
		long long			 now = d * 86400LL + 43200;
		size_t				 booked = 0, pend = 0, card = 0;
		char				 from[DAY_STRLEN];

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.seen = malloc(1);
		b.seen = malloc(1);
		/* From 3 days back: all that can be pending, and where it
		 * books (a year of full fetches would take seconds). */
		day_format(d - 3, from);
		fetch(&st, now, from, NULL, NULL, 0, &a, &res);
		assert_int_equal(res.error.code, ERR_OK);
		bank_fetch_result_free(&res);
		fetch(&st, now + 4 * 86400, from, NULL, NULL, 0, &b, &res);
		assert_int_equal(res.error.code, ERR_OK);
		bank_fetch_result_free(&res);
		for (i = 0; i < a.nseen; i++) {
			/* Pre-authorizations are released instead (next
			 * test). */
			if (!a.seen[i].pending || a.seen[i].preauth)
				continue;
			pend++;
			card += a.type[a.seen[i].acct] == ACCT_CREDIT_CARD;
			for (j = 0; j < b.nseen; j++) {
				/* The pending id is gone, the booked one
				 * names it. */
				assert_string_not_equal(b.seen[j].id,
				    a.seen[i].id);
				if (strcmp(b.seen[j].pid, a.seen[i].id) == 0) {
					assert_false(b.seen[j].pending);
					assert_memory_equal(b.seen[j].id, "TX-",
					    3);
					assert_int_equal(b.seen[j].amount,
					    a.seen[i].amount);
					booked++;
				}
			}
		}
		if (card == 0) {
			day_format(d, from);
			fail_msg("no card payment pending on %s", from);
		}
		assert_int_equal(booked, pend);
		free(a.seen);
		free(b.seen);
	}
	free(st);
}

/*
 * Every sync shows a card pre-authorization (hotel, fuel, car rental)
 * pending among the last 3 days' payments, lowering the available balance
 * only; 4 days later it is gone: neither pending nor booked under any id,
 * so a client's incremental feed has to report it removed.  Checked on
 * every day of a month around a (leap) month end, when the card is settled.
 */
static void
preauthorizations_are_released_never_booked(void **unused)
{
	char	*st = login_ok("user_good");
	long	 d0 = day_from_civil(2024, 2, 14), d;
	size_t	 i, j, total = 0;

	(void)unused;
	for (d = d0; d < d0 + 31; d++) {
		struct bank_fetch_result	 res;
		struct got			 a, b;
		long long			 now = d * 86400LL + 43200;
		size_t				 found = 0;
		int				 cc;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.seen = malloc(1);
		b.seen = malloc(1);
		fetch(&st, now, NULL, NULL, NULL, 0, &a, &res);
		assert_int_equal(res.error.code, ERR_OK);
		bank_fetch_result_free(&res);
		fetch(&st, now + 4 * 86400, NULL, NULL, NULL, 0, &b, &res);
		assert_int_equal(res.error.code, ERR_OK);
		bank_fetch_result_free(&res);
		assert_int_equal(a.naccts, 2);
		assert_int_equal(a.type[1], ACCT_CREDIT_CARD);
		cc = 1;
		for (i = 0; i < a.nseen; i++) {
			const struct seen *p = &a.seen[i];

			if (!p->preauth)
				continue;
			found++;
			/* A pending card transaction of the last 3 days. */
			assert_true(p->pending);
			assert_int_equal(p->acct, cc);
			assert_true(p->day >= d - 3 && p->day <= d);
			assert_memory_equal(p->id, "PD-CC-", 6);
			assert_string_equal(p->pid, "");
			assert_memory_equal(p->desc,
			    "VISA VORAUTORISIERUNG ", 22);
			assert_true(strlen(p->cp) > 0);
			assert_non_null(strstr(p->desc, p->cp));
			/* Held in whole tens of euros, 100 to 800. */
			assert_true(p->amount <= -10000 && p->amount >= -80000);
			assert_int_equal(p->amount % 1000, 0);
			for (j = 0; j < b.nseen; j++) {
				assert_string_not_equal(b.seen[j].id, p->id);
				assert_string_not_equal(b.seen[j].pid, p->id);
			}
		}
		if (found == 0)
			fail_msg("no pre-authorization pending on day %ld", d);
		total += found;
		/* Booked balances ignore it, the available one counts it. */
		for (i = 0; i < a.naccts; i++)
			assert_int_equal(a.open[i] + a.sum[i], a.close[i]);
		for (i = 0; i < b.naccts; i++)
			assert_int_equal(b.open[i] + b.sum[i], b.close[i]);
		assert_int_equal(a.avail[cc], a.limit[cc] + a.close[cc] +
		    a.pend[cc]);
		assert_int_equal(b.avail[cc], b.limit[cc] + b.close[cc] +
		    b.pend[cc]);
		free(a.seen);
		free(b.seen);
	}
	/* One a day pending: one made every 3 days, held for 3. */
	assert_int_equal(total, 31);
	free(st);
}

static void
account_disappears_after_first_sync(void **unused)
{
	struct bank_fetch_result	 res;
	struct got			 g;
	char				*st = login_ok("user_account_disappears");

	(void)unused;
	memset(&g, 0, sizeof(g));
	fetch(&st, NOW, NULL, NULL, NULL, 0, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(g.naccts, 2);
	assert_non_null(strstr(st, "\"syncs\":1"));
	bank_fetch_result_free(&res);
	memset(&g, 0, sizeof(g));
	fetch(&st, NOW, NULL, NULL, NULL, 0, &g, &res);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(g.naccts, 1);
	assert_int_equal(g.type[0], ACCT_CHECKING);
	assert_int_equal(g.nerrs, 0);
	assert_non_null(strstr(st, "\"syncs\":2"));
	bank_fetch_result_free(&res);
	free(st);
}

/* ---- waits and batches ---- */

static void
slow_user_waits_without_sleeping(void **unused)
{
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_fetch_req	 req = { NULL, NULL, NULL, NULL, 0 };
	struct got		 g;
	struct bank_sink	 s = sink_of(&g);
	struct bank_fetch_result res;
	struct bank_op		*op;
	char			*st = login_ok("user_slow");
	long long		 t0, t1, until = 0;

	(void)unused;
	memset(&g, 0, sizeof(g));
	sandbox_set_slow_ms(300);
	bank_fetch_result_init(&res);
	op = sb->fetch(&c, st, &req, &s, &res);
	t0 = bank_monotonic_ms();
	assert_int_equal(sb->step(op, &until), BANK_WAIT);
	t1 = bank_monotonic_ms();
	assert_true(t1 - t0 < 100);		/* it did not sleep */
	assert_true(until >= t0 + 250);		/* it asks for later */
	/* Called early again: still waiting, nothing delivered. */
	assert_int_equal(sb->step(op, &until), BANK_WAIT);
	assert_int_equal(g.naccts, 0);
	bank_run_blocking(sb, op);
	assert_true(bank_monotonic_ms() - t0 >= 290);
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(g.naccts, 2);
	sb->op_free(op);
	bank_fetch_result_free(&res);
	sandbox_set_slow_ms(150);
	free(st);
}

static int
count_only(void *arg, const char *acct, const struct rec_txn *t)
{
	size_t	*n = arg;

	(void)acct;
	(void)t;
	(*n)++;
	return 0;
}

static int
ignore_account(void *arg, const struct rec_account *r)
{
	(void)arg;
	(void)r;
	return 0;
}

static void
large_user_has_exactly_100000_in_batches(void **unused)
{
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_fetch_req	 req = { NULL, NULL, NULL, NULL, 0 };
	size_t			 n = 0, steps = 0, after_first = 0;
	struct bank_sink	 s = { &n, ignore_account, NULL, count_only };
	struct bank_fetch_result res;
	struct bank_op		*op;
	char			*st = login_ok("user_large");
	long long		 until;
	size_t			 mem0 = 0, mem1;

	(void)unused;
	bank_fetch_result_init(&res);
	op = sb->fetch(&c, st, &req, &s, &res);
	while (sb->step(op, &until) == BANK_WAIT) {
		/* A step delivers at most one batch, then lets go. */
		assert_true(n - after_first <= 5000 || steps == 0);
		if (steps == 0)
			mem0 = mallinfo2().uordblks;
		after_first = n;
		steps++;
	}
	mem1 = mallinfo2().uordblks;
	assert_int_equal(res.error.code, ERR_OK);
	assert_int_equal(n, SANDBOX_LARGE_COUNT);
	assert_true(steps >= 19);
	/* Memory does not grow with the transactions delivered. */
	assert_true(mem1 < mem0 + 64 * 1024);
	sb->op_free(op);
	bank_fetch_result_free(&res);

	/* Any later day: still exactly 100,000 in its 90 days. */
	n = 0;
	c.now += 37 * 86400;
	bank_fetch_result_init(&res);
	op = sb->fetch(&c, st, &req, &s, &res);
	bank_run_blocking(sb, op);
	assert_int_equal(n, SANDBOX_LARGE_COUNT);
	sb->op_free(op);
	bank_fetch_result_free(&res);
	free(st);
}

static int
stop_now(void *arg, const char *acct, const struct rec_txn *t)
{
	(void)arg;
	(void)acct;
	(void)t;
	return 1;
}

static void
a_sink_can_stop_the_fetch(void **unused)
{
	struct bank_ctx		 c = ctx_at(NOW);
	struct bank_fetch_req	 req = { NULL, NULL, NULL, NULL, 0 };
	struct bank_sink	 s = { NULL, ignore_account, NULL, stop_now };
	struct bank_fetch_result res;
	struct bank_op		*op;
	char			*st = login_ok("user_good");

	(void)unused;
	bank_fetch_result_init(&res);
	op = sb->fetch(&c, st, &req, &s, &res);
	bank_run_blocking(sb, op);
	assert_int_not_equal(res.error.code, ERR_OK);
	assert_int_equal(res.state.len, 0);
	sb->op_free(op);
	bank_fetch_result_free(&res);
	free(st);
}

/* ---- secrets and docs ---- */

static void
state_and_messages_never_hold_the_password(void **unused)
{
	static const char *const users[] = { "user_good", "user_mfa_question",
	    "user_mfa_questions", "user_mfa_tan", "user_mfa_choice",
	    "user_question_not_found", "user_slow", "user_large",
	    "user_invalid_tan", "user_no_active_consent" };
	size_t	i;

	(void)unused;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct bank_auth	 a;
		char			*st;

		login(users[i], "pass_good", &st, &a);
		assert_null(strstr(st, "pass_good"));
		assert_null(strstr(a.error.message, "pass_good"));
		assert_true(strlen(st) < BANK_STATE_MAX);
		bank_auth_free(&a);
		free(st);
	}
}

static void
warning_usernames_exist_for_the_warnings_that_apply(void **unused)
{
	int	w;
	char	user[96];

	(void)unused;
	for (w = 0; w < WARN__COUNT; w++) {
		warn_sandbox_username((enum warn)w, user, sizeof(user));
		assert_int_equal(sandbox_username_known(user),
		    warn_info((enum warn)w)->applies);
	}
	assert_true(sandbox_username_known("user_warn_no_last15_days_transaction"));
	assert_true(sandbox_username_known("user_warn_mfa_after_authorization"));
}

static void
docs_sandbox_md_is_generated_from_the_tables(void **unused)
{
	(void)unused;
	doc_matches(BF_SOURCE_DIR "/docs/sandbox.md", sandbox_markdown, "build/tests/test_sandbox");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_user_logs_in_without_challenge),
		cmocka_unit_test(wrong_password_and_unknown_username_are_refused),
		cmocka_unit_test(one_question_right_and_wrong),
		cmocka_unit_test(three_questions_all_must_be_right),
		cmocka_unit_test(tan_right_and_wrong),
		cmocka_unit_test(choice_then_tan),
		cmocka_unit_test(mfa_users_fetch_good_data),
		cmocka_unit_test(every_staged_catalog_entry_fails_at_its_stage),
		cmocka_unit_test(every_staged_entry_has_its_own_bank_message),
		cmocka_unit_test(every_staged_entry_has_a_message_in_the_table),
		cmocka_unit_test(question_not_found_unless_stored),
		cmocka_unit_test(fetch_before_authorization_is_refused),
		cmocka_unit_test(good_data_is_realistic_and_consistent),
		cmocka_unit_test(any_window_keeps_balances_consistent),
		cmocka_unit_test(good_accounts_have_valid_iban_and_masked_card),
		cmocka_unit_test(two_fetches_give_identical_data),
		cmocka_unit_test(history_does_not_depend_on_when_it_is_fetched),
		cmocka_unit_test(card_stays_within_its_limit),
		cmocka_unit_test(pending_card_payments_book_later),
		cmocka_unit_test(preauthorizations_are_released_never_booked),
		cmocka_unit_test(account_disappears_after_first_sync),
		cmocka_unit_test(slow_user_waits_without_sleeping),
		cmocka_unit_test(large_user_has_exactly_100000_in_batches),
		cmocka_unit_test(a_sink_can_stop_the_fetch),
		cmocka_unit_test(state_and_messages_never_hold_the_password),
		cmocka_unit_test(warning_usernames_exist_for_the_warnings_that_apply),
		cmocka_unit_test(docs_sandbox_md_is_generated_from_the_tables),
	};

	setup_all();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
