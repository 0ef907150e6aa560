/*
 * The Sandbox Bank connector: usernames (sandbox.def and the error
 * catalog), login and challenges, the state string, and fetch operations
 * that deliver the generated data (sandbox_data.c) in steps.
 */
#include "banks/sandbox.h"

#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "banks/sandbox_int.h"
#include "banks/xs2a_bank.h"
#include "core/day.h"
#include "core/errors_doc.h"
#include "core/jw.h"

static _Atomic long long	slow_ms = 5000;
static _Atomic size_t		batch = 5000;

void
sandbox_set_slow_ms(long long ms)
{
	slow_ms = ms < 0 ? 0 : ms;
}

long long
sandbox_slow_ms(void)
{
	return slow_ms;
}

void
sandbox_set_batch(size_t n)
{
	batch = n == 0 ? 1 : n;
}

/* ---- usernames ---- */

static const struct named {
	const char	*username;
	enum sb_mfa	 mfa;
	enum sb_fetch	 fetch;
	enum sb_plan	 plan;
	unsigned	 mut;
	const char	*doc;
} named[] = {
#define S(u, mfa, fetch, plan, mut, doc) { u, mfa, fetch, plan, mut, doc },
#define SW(w, plan, mut, fetch, doc)
#include "banks/sandbox.def"
#undef S
#undef SW
};

static const struct warned {
	enum warn	 warn;
	enum sb_plan	 plan;
	unsigned	 mut;
	enum sb_fetch	 fetch;
	const char	*doc;
} warned[] = {
#define S(u, mfa, fetch, plan, mut, doc)
#define SW(w, plan, mut, fetch, doc) { WARN_##w, plan, mut, fetch, doc },
#include "banks/sandbox.def"
#undef S
#undef SW
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const messages[ERR__COUNT] = {
#define M(id, msg) [ERR_##id] = msg,
#include "banks/sandbox_messages.def"
#undef M
};

const char *
sb_message(enum err e)
{
	if ((int)e > 0 && e < ERR__COUNT && messages[e] != NULL)
		return messages[e];
	return "The bank could not process your request.";
}

/* The catalog entry whose username this is, ERR_OK if none. */
static enum err
catalog_user(const char *username)
{
	char	u[96];
	int	i;

	for (i = 1; i < ERR__COUNT; i++) {
		if (err_info((enum err)i)->stage == STG_NONE)
			continue;
		err_sandbox_username((enum err)i, u, sizeof(u));
		if (strcmp(u, username) == 0)
			return (enum err)i;
	}
	return ERR_OK;
}

int
sb_lookup(const char *username, struct sb_scenario *sc)
{
	static const char	 prefix[] = "user_warn_";
	size_t			 i;
	enum err		 e;
	enum warn		 w;

	memset(sc, 0, sizeof(*sc));
	if (username == NULL || strlen(username) >= sizeof(sc->username))
		return -1;
	snprintf(sc->username, sizeof(sc->username), "%s", username);
	sc->warn = WARN__COUNT;
	sc->err = ERR_OK;
	sc->stage = STG_NONE;
	for (i = 0; i < NELEM(named); i++)
		if (strcmp(named[i].username, username) == 0) {
			sc->mfa = named[i].mfa;
			sc->fetch = named[i].fetch;
			sc->plan = named[i].plan;
			sc->mut = named[i].mut;
			sc->doc = named[i].doc;
			if ((e = catalog_user(username)) != ERR_OK) {
				sc->err = e;
				sc->stage = err_info(e)->stage;
			}
			return 0;
		}
	if (strncmp(username, prefix, sizeof(prefix) - 1) == 0 &&
	    (w = warn_by_snake(username + sizeof(prefix) - 1)) != WARN__COUNT)
		for (i = 0; i < NELEM(warned); i++)
			if (warned[i].warn == w) {
				sc->plan = warned[i].plan;
				sc->mut = warned[i].mut;
				sc->fetch = warned[i].fetch;
				sc->warn = w;
				sc->doc = warned[i].doc;
				return 0;
			}
	if ((e = catalog_user(username)) == ERR_OK)
		return -1;
	/* A catalog entry: fail at its stage, good data otherwise. */
	sc->err = e;
	sc->stage = err_info(e)->stage;
	sc->plan = PLAN_GOOD;
	sc->mfa = sc->stage == STG_CHALLENGE ? MFA_FAIL : MFA_NONE;
	sc->fetch = sc->stage == STG_SYNC ? FETCH_FAIL : FETCH_OK;
	return 0;
}

int
sandbox_username_known(const char *username)
{
	struct sb_scenario	sc;

	return sb_lookup(username, &sc) == 0;
}

int
sandbox_username_slow(const char *username)
{
	struct sb_scenario	sc;

	return sb_lookup(username, &sc) == 0 && sc.fetch == FETCH_SLOW;
}

/* ---- challenges ---- */

static const struct question {
	const char	*key, *prompt;
} questions[] = {
	{ "sq_car_colour", "What colour was your first car?" },
	{ "sq_favourite_colour", "What is your favourite colour?" },
	{ "sq_sky_colour", "What colour is the sky on a clear day?" },
};

/* The question a FETCH_REAUTH bank asks at fetch. */
static const struct question reauth_question = {
	"sq_door_colour",
	"What colour was the front door of the house you grew up in?"
};

static const struct tan_method {
	const char	*option, *prompt;
} tan_methods[] = {
	{ "sms", "Enter the TAN we sent by SMS to +49 *** ****567." },
	{ "push", "Enter the TAN shown in the Sandbox Bank SecureGo app." },
	{ "chiptan", "Insert your card in the TAN generator, press TAN and "
	    "enter the TAN it shows." },
};

#define TAN_PROMPT "Enter the TAN we sent by SMS to +49 *** ****567."

/* The challenge sets the bank presents, by the state's "pending" name. */
enum chal_set { CH_QUESTION, CH_QUESTIONS, CH_TAN, CH_METHOD, CH_FAIL,
	CH__COUNT };

static const char *const chal_names[CH__COUNT] = {
	[CH_QUESTION] = "question", [CH_QUESTIONS] = "questions",
	[CH_TAN] = "tan", [CH_METHOD] = "tan_method", [CH_FAIL] = "fail",
};

/* What login presents for each mfa kind (CH__COUNT: none). */
static const enum chal_set first_chal[] = {
	[MFA_NONE] = CH__COUNT, [MFA_QUESTION] = CH_QUESTION,
	[MFA_QUESTIONS] = CH_QUESTIONS, [MFA_TAN] = CH_TAN,
	[MFA_CHOICE] = CH_METHOD, [MFA_FAIL] = CH_FAIL,
};

static void
add_chal(struct bank_auth *a, const char *key, enum bank_chal_kind kind,
    const char *prompt)
{
	struct bank_challenge	*c = &a->challenges[a->nchallenges++];

	memset(c, 0, sizeof(*c));
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->kind = kind;
	snprintf(c->prompt, sizeof(c->prompt), "%s", prompt);
}

static void
present(struct bank_auth *a, enum chal_set set, const char *method)
{
	size_t	i;

	a->outcome = BANK_CHALLENGE;
	a->nchallenges = 0;
	switch (set) {
	case CH_QUESTION:
		add_chal(a, questions[0].key, BANK_CHAL_QUESTION,
		    questions[0].prompt);
		break;
	case CH_QUESTIONS:
		for (i = 0; i < NELEM(questions); i++)
			add_chal(a, questions[i].key, BANK_CHAL_QUESTION,
			    questions[i].prompt);
		break;
	case CH_METHOD:
		add_chal(a, "tan_method", BANK_CHAL_CHOICE,
		    "How do you want to receive your TAN?");
		for (i = 0; i < NELEM(tan_methods); i++)
			snprintf(a->challenges[0].options[i],
			    sizeof(a->challenges[0].options[i]), "%s",
			    tan_methods[i].option);
		a->challenges[0].noptions = NELEM(tan_methods);
		break;
	case CH_TAN:
	case CH_FAIL:
	default:
		for (i = 0; method != NULL && i < NELEM(tan_methods); i++)
			if (strcmp(method, tan_methods[i].option) == 0)
				break;
		add_chal(a, "tan", BANK_CHAL_TAN, method != NULL &&
		    i < NELEM(tan_methods) ? tan_methods[i].prompt : TAN_PROMPT);
		break;
	}
}

/* Compares a secret without leaking its contents through timing. */
static int
secret_eq(const char *given, const char *want, int fold)
{
	char	g[64], w[64];
	size_t	i, n;
	int	eq;

	if (given == NULL || (n = strlen(given)) != strlen(want) ||
	    n >= sizeof(g))
		return 0;
	for (i = 0; i < n; i++) {
		g[i] = fold ? (char)tolower((unsigned char)given[i]) : given[i];
		w[i] = want[i];
	}
	eq = sodium_memcmp(g, w, n) == 0;
	sodium_memzero(g, sizeof(g));
	return eq;
}

static int
question_right(const struct bank_answer *ans, size_t n, const char *key)
{
	return secret_eq(bank_answer_get(ans, n, key), SANDBOX_ANSWER, 1);
}

/* ---- state ---- */

struct sb_state {
	char		user[96];
	int		authorized;
	int		pending;	/* enum chal_set, CH__COUNT: none */
	char		method[16];
	long long	syncs;
};

static int
state_write(const struct sb_state *st, struct buf *b)
{
	struct jw	w;

	buf_reset(b);
	jw_init(&w, b);
	jw_obj(&w);
	jw_kint(&w, "v", 1);
	jw_kstr(&w, "user", st->user);
	jw_kstr(&w, "auth", st->authorized ? "authorized" : "challenge");
	if (st->pending < CH__COUNT)
		jw_kstr(&w, "pending", chal_names[st->pending]);
	if (st->method[0] != '\0')
		jw_kstr(&w, "method", st->method);
	jw_kint(&w, "syncs", st->syncs);
	jw_obj_end(&w);
	return jw_finish(&w);
}

static int
state_read(const char *s, struct sb_state *st)
{
	json_t		*j;
	json_error_t	 e;
	const char	*user = NULL, *auth = NULL, *pending = NULL;
	const char	*method = NULL;
	json_int_t	 v = 0, syncs = 0;
	int		 rc = -1, i;

	memset(st, 0, sizeof(*st));
	st->pending = CH__COUNT;
	if (s == NULL || (j = json_loads(s, 0, &e)) == NULL)
		return -1;
	if (json_unpack(j, "{s:I, s:s, s:s, s?:s, s?:s, s:I}", "v", &v,
	    "user", &user, "auth", &auth, "pending", &pending, "method",
	    &method, "syncs", &syncs) != 0 || v != 1 ||
	    strlen(user) >= sizeof(st->user))
		goto out;
	snprintf(st->user, sizeof(st->user), "%s", user);
	st->authorized = strcmp(auth, "authorized") == 0;
	for (i = 0; pending != NULL && i < CH__COUNT; i++)
		if (strcmp(pending, chal_names[i]) == 0)
			st->pending = i;
	if (method != NULL)
		snprintf(st->method, sizeof(st->method), "%s", method);
	st->syncs = syncs < 0 ? 0 : syncs;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* ---- operations ---- */

enum op_kind { OP_AUTH, OP_FETCH };

enum fphase {
	FP_START,	/* may wait (user_slow), may fail */
	FP_ACCOUNT,	/* the next account of the plan */
	FP_EXTRA,	/* MUT_OUT_OF_PERIOD's transaction */
	FP_BOOKED,	/* booked transactions, day by day */
	FP_PENDING,	/* pending ones */
	FP_DONE
};

struct bank_op {
	enum op_kind		 kind;

	/* fetch */
	struct sb_scenario	 sc;
	struct sb_state		 st;
	struct sb_gen		 gen;
	struct bank_sink	 sink;
	struct bank_fetch_result *res;
	long			 req_from, req_to;
	int			 reauth;	/* 0 absent, 1 right, 2 wrong */
	long long		 wake_ms;
	enum fphase		 phase;
	const struct sb_plan_acct *plan;
	size_t			 nplan, ai;
	struct sb_account	 acct;
	long			 s, e, day;
	long			 swap_a, swap_b;
	struct sb_ev		 buf[SB_DAY_MAX];
	size_t			 nbuf, ibuf;
	size_t			 li;		/* user_large: index in day */
	int64_t			 lsum;
};

static void
fail(struct bank_error *err, enum err code)
{
	bank_error_set(err, code, "%s", sb_message(code));
}

static struct bank_op *
auth_op(void)
{
	struct bank_op	*op = calloc(1, sizeof(*op));

	if (op != NULL)
		op->kind = OP_AUTH;
	return op;
}

/* Finishes an authorization: state for the next operation. */
static void
auth_state(struct bank_auth *a, struct sb_state *st)
{
	if (a->outcome == BANK_FAILED)
		return;
	st->authorized = a->outcome == BANK_AUTHORIZED;
	if (state_write(st, &a->state) == -1) {
		a->outcome = BANK_FAILED;
		a->nchallenges = 0;
		bank_error_set(&a->error, ERR_INTERNAL_ERROR,
		    "sandbox state too large");
	}
}

/*
 * Login: the whole answer is known at once, so it is decided here and
 * step() only reports it.  The password is compared and forgotten.
 */
static struct bank_op *
sb_login(const struct bank_ctx *ctx, const struct bank_secret *sec,
    struct bank_auth *a)
{
	struct bank_op		*op;
	struct sb_scenario	 sc;
	struct sb_state		 st;

	(void)ctx;
	if ((op = auth_op()) == NULL)
		return NULL;
	a->outcome = BANK_FAILED;
	a->nchallenges = 0;
	a->error.code = ERR_OK;
	a->error.message[0] = '\0';
	memset(&st, 0, sizeof(st));
	st.pending = CH__COUNT;
	if (sb_lookup(sec->username, &sc) == -1) {
		fail(&a->error, ERR_INVALID_USERNAME);
		return op;
	}
	if (!secret_eq(sec->password, SANDBOX_PASSWORD, 0)) {
		fail(&a->error, ERR_INVALID_PASSWORD);
		return op;
	}
	if (sc.stage == STG_LOGIN) {
		fail(&a->error, sc.err);
		return op;
	}
	snprintf(st.user, sizeof(st.user), "%s", sc.username);
	st.pending = first_chal[sc.mfa];
	if (st.pending == CH__COUNT)
		a->outcome = BANK_AUTHORIZED;
	else
		present(a, (enum chal_set)st.pending, NULL);
	auth_state(a, &st);
	return op;
}

static struct bank_op *
sb_answer(const struct bank_ctx *ctx, const char *state,
    const struct bank_answer *ans, size_t n, struct bank_auth *a)
{
	struct bank_op		*op;
	struct sb_scenario	 sc;
	struct sb_state		 st;
	const char		*v;
	size_t			 i;

	(void)ctx;
	if ((op = auth_op()) == NULL)
		return NULL;
	a->outcome = BANK_FAILED;
	a->nchallenges = 0;
	a->error.code = ERR_OK;
	a->error.message[0] = '\0';
	if (state_read(state, &st) == -1 || sb_lookup(st.user, &sc) == -1) {
		bank_error_set(&a->error, ERR_INTERNAL_ERROR,
		    "sandbox state unreadable");
		return op;
	}
	if (st.authorized || st.pending == CH__COUNT) {
		bank_error_set(&a->error, ERR_ALREADY_AUTHORIZED, "%s", "");
		return op;
	}
	switch ((enum chal_set)st.pending) {
	case CH_QUESTION:
		if (!question_right(ans, n, questions[0].key)) {
			fail(&a->error, ERR_INVALID_SECURITY_RESPONSE);
			return op;
		}
		break;
	case CH_QUESTIONS:
		for (i = 0; i < NELEM(questions); i++)
			if (!question_right(ans, n, questions[i].key)) {
				fail(&a->error, ERR_INVALID_SECURITY_RESPONSE);
				return op;
			}
		break;
	case CH_METHOD:
		v = bank_answer_get(ans, n, "tan_method");
		for (i = 0; v != NULL && i < NELEM(tan_methods); i++)
			if (strcmp(v, tan_methods[i].option) == 0)
				break;
		if (v == NULL || i == NELEM(tan_methods)) {
			fail(&a->error, ERR_INVALID_SECURITY_RESPONSE);
			return op;
		}
		snprintf(st.method, sizeof(st.method), "%s", v);
		st.pending = CH_TAN;
		present(a, CH_TAN, st.method);
		auth_state(a, &st);
		return op;
	case CH_TAN:
		if (!secret_eq(bank_answer_get(ans, n, "tan"), SANDBOX_TAN, 0)) {
			fail(&a->error, ERR_INVALID_TAN);
			return op;
		}
		break;
	case CH_FAIL:
	default:
		fail(&a->error, sc.err != ERR_OK ? sc.err : ERR_INVALID_TAN);
		return op;
	}
	st.pending = CH__COUNT;
	st.method[0] = '\0';
	a->outcome = BANK_AUTHORIZED;
	auth_state(a, &st);
	return op;
}

/*
 * Fetch: checks what can be checked now (state, dates, stored answers) and
 * leaves the delivery to step().  Nothing of req->secret or the answers'
 * values is kept: only whether the reauth question's answer is right.
 */
static struct bank_op *
sb_fetch(const struct bank_ctx *ctx, const char *state,
    const struct bank_fetch_req *req, const struct bank_sink *sink,
    struct bank_fetch_result *res)
{
	struct bank_op	*op;
	const char	*v;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->kind = OP_FETCH;
	op->sink = *sink;
	op->res = res;
	op->phase = FP_START;
	res->error.code = ERR_OK;
	res->error.message[0] = '\0';
	res->mfa_after_authorization = 0;
	buf_reset(&res->state);
	op->req_from = LONG_MIN;
	op->req_to = LONG_MAX;
	if (state_read(state, &op->st) == -1 ||
	    sb_lookup(op->st.user, &op->sc) == -1) {
		bank_error_set(&res->error, ERR_INTERNAL_ERROR,
		    "sandbox state unreadable");
		op->phase = FP_DONE;
		return op;
	}
	if (!op->st.authorized) {
		bank_error_set(&res->error, ERR_CONNECTION_NOT_AUTHORIZED,
		    "%s", "");
		op->phase = FP_DONE;
		return op;
	}
	if ((req->from != NULL && day_parse(req->from, &op->req_from) == -1) ||
	    (req->to != NULL && day_parse(req->to, &op->req_to) == -1)) {
		bank_error_set(&res->error, ERR_INVALID_REQUEST,
		    "The requested period is not valid.");
		op->phase = FP_DONE;
		return op;
	}
	if (op->sc.fetch == FETCH_REAUTH) {
		v = bank_answer_get(req->answers, req->answers != NULL ?
		    req->nanswers : 0, reauth_question.key);
		op->reauth = v == NULL ? 0 : secret_eq(v, SANDBOX_ANSWER, 1) ?
		    1 : 2;
	}
	sb_gen_init(&op->gen, op->sc.username, day_from_unix(ctx->now),
	    op->sc.mut);
	op->nplan = sb_plan_accounts(op->sc.plan, &op->plan);
	return op;
}

/* Decides, before any record, whether the fetch fails as a whole. */
static int
fetch_start(struct bank_op *op)
{
	struct bank_fetch_result *res = op->res;

	if (op->sc.stage == STG_SYNC && op->sc.fetch != FETCH_REAUTH) {
		fail(&res->error, op->sc.err);
		return -1;
	}
	if (op->sc.fetch == FETCH_REAUTH) {
		if (op->reauth == 0) {
			/* The message asks reauth_question. */
			fail(&res->error, ERR_QUESTION_NOT_FOUND);
			return -1;
		}
		if (op->reauth == 2) {
			fail(&res->error, ERR_INVALID_SECURITY_RESPONSE);
			return -1;
		}
		res->mfa_after_authorization = 1;
	}
	if (op->sc.fetch == FETCH_EXTRA_SCA)
		res->mfa_after_authorization = 1;
	return 0;
}

/* Starts the plan's account op->ai; 1 when it delivers transactions. */
static int
account_start(struct bank_op *op, int *stop)
{
	const struct sb_plan_acct *pa = &op->plan[op->ai];
	struct bank_error	   err;
	long			   today = op->gen.today;

	*stop = 0;
	if (pa->first_sync_only && op->st.syncs >= 1)
		return 0;
	op->s = today - sb_history_days(pa->kind) + 1;
	if (op->req_from > op->s)
		op->s = op->req_from;
	op->e = op->req_to < today ? op->req_to : today;
	if (op->s > op->e)	/* nothing asked for: balances of e only */
		op->s = op->e + 1;
	sb_account_make(&op->gen, pa->kind, pa->suffix, op->s, op->e,
	    &op->acct);
	if (op->sc.stage == STG_ACCOUNT && pa->kind == KIND_CARD) {
		memset(&err, 0, sizeof(err));
		fail(&err, op->sc.err);
		if (op->sink.account_error != NULL &&
		    op->sink.account_error(op->sink.arg, op->acct.bank_id,
		    &err) != 0)
			*stop = 1;
		return 0;
	}
	if (op->sink.account(op->sink.arg, &op->acct.rec) != 0) {
		*stop = 1;
		return 0;
	}
	op->swap_a = op->swap_b = LONG_MIN;
	if ((op->sc.mut & MUT_WRONG_ORDER) && pa->kind == KIND_CHECKING &&
	    op->gen.lm_first - 1 >= op->s && op->gen.lm_first <= op->e) {
		op->swap_a = op->gen.lm_first - 1;
		op->swap_b = op->gen.lm_first;
	}
	return 1;
}

static int
emit(struct bank_op *op, const struct sb_ev *ev, int pending)
{
	struct rec_txn	t;

	sb_ev_record(ev, pending, &t);
	return op->sink.txn(op->sink.arg, op->acct.bank_id, &t);
}

/* Delivers up to budget transactions; 1 when all is delivered. */
static int
deliver(struct bank_op *op, size_t budget, int *stop)
{
	enum sb_kind	k;
	struct sb_ev	ev;
	long		d;

	*stop = 0;
	while (budget > 0) {
		switch (op->phase) {
		case FP_START:
		case FP_ACCOUNT:
			if (op->ai == op->nplan) {
				op->phase = FP_DONE;
				return 1;
			}
			if (account_start(op, stop)) {
				op->phase = FP_EXTRA;
				break;
			}
			if (*stop)
				return 0;
			op->ai++;
			break;
		case FP_EXTRA:
			k = op->plan[op->ai].kind;
			op->phase = FP_BOOKED;
			op->day = op->s;
			op->nbuf = op->ibuf = 0;
			op->li = 0;
			op->lsum = 0;
			if ((op->sc.mut & MUT_OUT_OF_PERIOD) &&
			    k == KIND_CHECKING) {
				/* Just before what was asked for: outside the
				 * request even when it reaches past the
				 * bank's history. */
				sb_out_of_period(&op->gen, op->req_from !=
				    LONG_MIN ? op->req_from - 1 : op->s - 1, &ev);
				budget--;
				if (emit(op, &ev, 0) != 0) {
					*stop = 1;
					return 0;
				}
			}
			break;
		case FP_BOOKED:
			k = op->plan[op->ai].kind;
			if (op->ibuf < op->nbuf) {
				budget--;
				if (emit(op, &op->buf[op->ibuf++], 0) != 0) {
					*stop = 1;
					return 0;
				}
				break;
			}
			if (op->day > op->e) {
				op->phase = FP_PENDING;
				op->day = op->gen.today - 3 > op->s ?
				    op->gen.today - 3 : op->s;
				op->nbuf = op->ibuf = 0;
				break;
			}
			if (k == KIND_LARGE) {
				if (op->li == sb_large_count(op->day)) {
					op->day++;
					op->li = 0;
					op->lsum = 0;
					break;
				}
				sb_large_txn(&op->gen, op->day, op->li++,
				    &op->lsum, &ev);
				budget--;
				if (emit(op, &ev, 0) != 0) {
					*stop = 1;
					return 0;
				}
				break;
			}
			d = op->day == op->swap_a ? op->swap_b :
			    op->day == op->swap_b ? op->swap_a : op->day;
			op->nbuf = sb_day_booked(&op->gen, k, d, op->buf,
			    SB_DAY_MAX);
			op->ibuf = 0;
			op->day++;
			break;
		case FP_PENDING:
			k = op->plan[op->ai].kind;
			if (op->ibuf < op->nbuf) {
				budget--;
				if (emit(op, &op->buf[op->ibuf++], 1) != 0) {
					*stop = 1;
					return 0;
				}
				break;
			}
			if (op->day > op->e) {
				op->ai++;
				op->phase = FP_ACCOUNT;
				break;
			}
			op->nbuf = sb_day_pending(&op->gen, k, op->day,
			    op->buf, SB_DAY_MAX);
			op->ibuf = 0;
			op->day++;
			break;
		case FP_DONE:
			return 1;
		}
	}
	return 0;
}

static enum bank_rc
sb_step(struct bank_op *op, long long *wait_until_ms)
{
	long long	now;
	int		stop;

	if (op->kind == OP_AUTH || op->phase == FP_DONE)
		return BANK_DONE;
	now = bank_monotonic_ms();
	if (op->phase == FP_START) {
		if (op->sc.fetch == FETCH_SLOW && op->wake_ms == 0) {
			op->wake_ms = now + slow_ms;
			if (op->wake_ms == 0)
				op->wake_ms = 1;
		}
		if (now < op->wake_ms) {
			*wait_until_ms = op->wake_ms;
			return BANK_WAIT;
		}
		if (fetch_start(op) == -1) {
			op->phase = FP_DONE;
			return BANK_DONE;
		}
		op->phase = FP_ACCOUNT;
	}
	if (!deliver(op, batch, &stop)) {
		if (!stop) {
			*wait_until_ms = now;
			return BANK_WAIT;
		}
		bank_error_set(&op->res->error, ERR_INTERNAL_ERROR,
		    "the fetch was stopped by its receiver");
		op->phase = FP_DONE;
		return BANK_DONE;
	}
	op->st.syncs++;
	if (state_write(&op->st, &op->res->state) == -1)
		bank_error_set(&op->res->error, ERR_INTERNAL_ERROR,
		    "sandbox state too large");
	op->phase = FP_DONE;
	return BANK_DONE;
}

static void
sb_op_free(struct bank_op *op)
{
	free(op);
}

const struct connector sandbox_connector = {
	.protocol = "sandbox",
	.login = sb_login,
	.answer = sb_answer,
	.fetch = sb_fetch,
	.step = sb_step,
	.op_free = sb_op_free,
};

/* ---- docs/sandbox.md ---- */

static const char *const stage_effect[] = {
	[STG_NONE] = "",
	[STG_LOGIN] = "login fails",
	[STG_CHALLENGE] = "login presents a TAN (key `tan`); any answer, "
	    "`123456` too, fails",
	[STG_SYNC] = "login succeeds; every sync fails",
	[STG_ACCOUNT] = "login succeeds; the sync completes with the checking "
	    "account and its data, the credit card is reported as an account "
	    "error",
};

int
sandbox_markdown(FILE *f)
{
	size_t	i;
	int	e, st;
	char	user[96];

	fputs("# The Sandbox Bank\n\n"
	    "<!-- Generated by sandbox_markdown() from src/banks/sandbox.def, "
	    "src/banks/sandbox_messages.def,\n     src/core/errors.def, "
	    "src/core/warnings.def and src/banks/xs2a_codes.def; "
	    "tests/test_sandbox.c\n     fails when this file differs. "
	    "Regenerate: BANKFEED_REGEN_DOCS=1 "
	    "./build/tests/test_sandbox -->\n\n"
	    "The institution `sandbox` (protocol `sandbox`) is a test bank "
	    "built into bankfeed. What it does\nis fixed by the username, so "
	    "every error of the catalog and every data-quality warning can "
	    "be\nreproduced by anyone.\n\n"
	    "- The password `" SANDBOX_PASSWORD "` is right for every username "
	    "below; any other password: INVALID_PASSWORD.\n"
	    "  A username not listed here: INVALID_USERNAME.\n"
	    "- Every security question's answer is `" SANDBOX_ANSWER "` "
	    "(case-insensitive); every TAN is `" SANDBOX_TAN "`.\n"
	    "- Data is generated from (username, account, calendar day): two "
	    "syncs of the same days give the same\n  records with the same "
	    "ids, whenever they run. The sync's time decides only where "
	    "\"today\" is and which\n  recent card payments are still "
	    "pending.\n\n"
	    "## Challenges\n\n"
	    "| key | kind | prompt | right answer |\n|---|---|---|---|\n", f);
	for (i = 0; i < NELEM(questions); i++)
		fprintf(f, "| `%s` | question | %s | `" SANDBOX_ANSWER "` |\n",
		    questions[i].key, questions[i].prompt);
	fprintf(f, "| `%s` | question (asked at sync by "
	    "`user_question_not_found`) | %s | `" SANDBOX_ANSWER "` |\n",
	    reauth_question.key, reauth_question.prompt);
	fputs("| `tan_method` | choice, options", f);
	for (i = 0; i < NELEM(tan_methods); i++)
		fprintf(f, "%s `%s`", i ? "," : "", tan_methods[i].option);
	fputs(" | How do you want to receive your TAN? | any option |\n"
	    "| `tan` | tan | " TAN_PROMPT " (after `tan_method`: the chosen "
	    "method's prompt) | `" SANDBOX_TAN "` |\n\n"
	    "## Usernames\n\n"
	    "### Logins, data and timing\n\n"
	    "| username | what it does |\n|---|---|\n", f);
	for (i = 0; i < NELEM(named); i++) {
		fprintf(f, "| `%s` | ", named[i].username);
		md_cell(f, named[i].doc);
		fputs(" |\n", f);
	}
	fputs("\n### Errors of the catalog\n\n"
	    "`user_` + the lowercase catalog name, for every entry of "
	    "`src/core/errors.def` whose stage is not\n`none`. Where the "
	    "sync goes on, the data is that of `user_good`. `message` is "
	    "the bank's words as\nbankfeed passes them on.\n\n"
	    "| username | code | stage | what happens | message |\n"
	    "|---|---|---|---|---|\n", f);
	for (st = STG_LOGIN; st <= STG_ACCOUNT; st++)
		for (e = 1; e < ERR__COUNT; e++) {
			const struct err_info	*ei = err_info((enum err)e);
			struct sb_scenario	 sc;

			if ((int)ei->stage != st)
				continue;
			err_sandbox_username((enum err)e, user, sizeof(user));
			if (sb_lookup(user, &sc) == -1)
				continue;
			fprintf(f, "| `%s` | %d | %s | ", user, ei->code,
			    err_stage_name(ei->stage));
			if (sc.doc != NULL)
				fputs("see above", f);
			else
				fputs(stage_effect[st], f);
			fputs(" | ", f);
			md_cell(f, sb_message((enum err)e));
			fputs(" |\n", f);
		}
	fputs("\n### Data-quality warnings\n\n"
	    "`user_warn_` + the warning's name in snake case (a digit stays "
	    "with the word before it). The sync\nshows that warning and no "
	    "other (docs/warnings.md says what each check does). No "
	    "challenge.\n\n"
	    "| username | warning | data |\n|---|---|---|\n", f);
	for (i = 0; i < NELEM(warned); i++) {
		warn_sandbox_username(warned[i].warn, user, sizeof(user));
		fprintf(f, "| `%s` | %s | ", user, warn_name(warned[i].warn));
		md_cell(f, warned[i].doc);
		fputs(" |\n", f);
	}
	fputs("\n## The data\n\n"
	    "- **Checking account** `Girokonto`, EUR, a German IBAN (bank "
	    "code 99012345, BIC SBXBDEB1XXX), holder\n  name, address and "
	    "email. Salary on the 27th (the Friday before on weekends), rent "
	    "on the 1st\n  (standing order), phone, gym and electricity by "
	    "direct debit (3rd, 5th, 15th), girocard payments\n  at "
	    "supermarkets and drugstores, cash withdrawals, SEPA transfers "
	    "to and from friends with IBAN and\n  remittance information; ISO "
	    "20022 bank transaction codes (`PMNT-RCDT-SALA`, "
	    "`PMNT-IDDT-ESDD`...).\n"
	    "- **Credit card** `Visa Classic`, type `credit_card`, masked "
	    "number `**** **** **** NNNN` only;\n  balances `booked` (what is "
	    "owed, <= 0), `available` (limit + booked + pending) and\n  "
	    "`credit_limit` 10,000.00. Subscriptions (1st, 12th, 22nd), "
	    "online and travel payments, and\n  every day a small payment "
	    "(a transit ticket, a coffee, a newspaper, an e-scooter ride, "
	    "1.50 to\n  12.90).\n"
	    "- **Month end**: the card is settled from the checking account, "
	    "and the checking account sweeps what\n  is left of the month to "
	    "(or from) the holder's Tagesgeld, so each account closes every "
	    "month at\n  the same base balance and the balance of any day is "
	    "well defined.\n"
	    "- **Pending**: card payments (girocard and Visa) book 1 to 3 "
	    "days after they are made. Until then\n  they are `pending` "
	    "with an id `PD-...` and booking date = the day they were made; "
	    "booked, they\n  have an id `TX-...` and `pending_bank_id` = "
	    "their pending id. The card's daily small payment\n  books the "
	    "next day, so whatever the date, a sync shows at least one "
	    "pending card payment\n  (besides the pre-authorization) that a "
	    "sync 4 days later shows booked under its `TX-` id.\n"
	    "- **Pre-authorizations**: every third day the card also has a "
	    "Visa pre-authorization (`VISA\n  VORAUTORISIERUNG <merchant> "
	    "<city> <date> <time>`) at a hotel, a fuel station or a car "
	    "rental,\n  100.00 to 800.00 in whole tens. It is `pending` (id "
	    "`PD-CC-...`) for 3 days, lowering `available`,\n  then the "
	    "merchant releases it: it is no longer delivered and never books "
	    "(no `TX-` id, no\n  `pending_bank_id` names it). A sync of the "
	    "last 3 days shows exactly one; 4 days later it\n  is gone, and "
	    "`/v1/transactions/sync` reports it `removed`. Booked balances "
	    "and the month's\n  settlement never count it.\n"
	    "- **History**: 120 days up to today (user_large: 90). A fetch "
	    "delivers the booked transactions of\n  [max(from, first day of "
	    "history), min(to, today)], then the pending ones of the last 3 "
	    "days.\n"
	    "- **Balances** of each account: `opening_booked` dated the "
	    "first day of the fetched period (before its\n  transactions), "
	    "`booked` dated its last day, and `available`. `opening_booked` "
	    "+ the booked\n  transactions delivered = `booked`, so "
	    "`user_good` shows no BalanceMismatch.\n"
	    "- **Ids** are stable: accounts `sbx-<8 hex of the "
	    "username>-<chk|cc|sav|biz>`, transactions\n  "
	    "`TX-<CHK|CC>-<YYYYMMDD>-<nn>` (the day they were made), "
	    "user_large `LG-<YYYYMMDD>-<nnnn>`.\n\n"
	    "## The state string\n\n"
	    "What the connector keeps between operations, as JSON; never the "
	    "password nor an answer:\n\n"
	    "```json\n{\"v\":1,\"user\":\"user_mfa_choice\",\"auth\":"
	    "\"challenge\",\"pending\":\"tan\",\"method\":\"sms\","
	    "\"syncs\":0}\n```\n\n"
	    "- `auth`: `challenge` or `authorized`; `pending`: the challenge "
	    "set waiting for answers (`question`,\n  `questions`, "
	    "`tan_method`, `tan`, `fail`), absent when none; `method`: the "
	    "chosen TAN method.\n"
	    "- `syncs`: fetches completed on this connection (each returns "
	    "the state with `syncs` + 1); it drives\n  "
	    "`user_account_disappears`.\n\n"
	    "## Settings\n\n"
	    "- `sandbox_set_slow_ms(ms)`: how long `user_slow` waits at each "
	    "sync (default 5000).\n"
	    "- `sandbox_set_batch(n)`: transactions a fetch step delivers at "
	    "most before it returns `BANK_WAIT`\n  with a wake-up time of now "
	    "(default 5000), so a worker can interleave other work.\n", f);
	if (xs2a_bank_markdown(f) == -1)
		return -1;
	return ferror(f) ? -1 : 0;
}
