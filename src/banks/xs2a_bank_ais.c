/*
 * sandbox-bank: accounts, balances and transactions of a consent (AIS).
 * Each request runs one fetch of the Sandbox Bank's connector into a sink
 * (struct reader) that writes the XS2A JSON of what the request asks, so
 * accounts, balances, transactions, their ids and the errors of every
 * scenario are the built-in bank's, whatever the protocol.
 *
 * Transactions come in pages (pageIndex, itemsPerPage, _links.next): a
 * page replays the fetch from the period's start and keeps its slice,
 * which the generated data makes cheap and stable.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banks/sandbox.h"
#include "banks/xs2a_bank_int.h"
#include "banks/xs2a_codes.h"
#include "core/clock.h"
#include "core/day.h"
#include "core/money.h"
#include "http/http.h"

#define PAGE_DEFAULT	100	/* transactions a page holds by default */
#define PAGE_MAX	5000
#define REMIT_MAX	140	/* remittanceInformationUnstructured */

static _Atomic long long	latency_ms, slow_ms;

void
xb_set_latency_ms(long long ms)
{
	latency_ms = ms;
}

void
xb_set_slow_ms(long long ms)
{
	slow_ms = ms;
}

/* What a request reads of the fetch. */
enum view { V_LIST, V_ACCOUNT, V_BALANCES, V_TXNS };

struct reader {
	enum view		 view;
	const struct xb_access	*acc;
	const char		*want;		/* the account of the path */
	int			 with_balance;
	int			 booked, pending;	/* statuses asked */
	size_t			 skip, take;	/* the page */
	/* what it found */
	struct buf		 items;		/* V_LIST: the accounts */
	struct jw		 wi;
	int			 found, allowed, failed;
	struct bank_error	 aerr;		/* the account's own failure */
	struct buf		 account;	/* details or reference */
	struct buf		 balances;
	struct buf		 bk, pd;	/* booked, pending transactions */
	struct jw		 wb, wp;
	size_t			 nbk, npd, seen;
	int			 more, stopped;
};

static void
reader_init(struct reader *rd, enum view v, const struct xb_access *acc,
    const char *want)
{
	memset(rd, 0, sizeof(*rd));
	rd->view = v;
	rd->acc = acc;
	rd->want = want;
	rd->booked = rd->pending = 1;
	buf_init(&rd->items, 16u << 20);
	buf_init(&rd->account, 1u << 20);
	buf_init(&rd->balances, 1u << 20);
	buf_init(&rd->bk, 64u << 20);
	buf_init(&rd->pd, 64u << 20);
	jw_init(&rd->wi, &rd->items);
	jw_arr(&rd->wi);
	jw_init(&rd->wb, &rd->bk);
	jw_arr(&rd->wb);
	jw_init(&rd->wp, &rd->pd);
	jw_arr(&rd->wp);
}

static void
reader_free(struct reader *rd)
{
	buf_free(&rd->items);
	buf_free(&rd->account);
	buf_free(&rd->balances);
	buf_free(&rd->bk);
	buf_free(&rd->pd);
}

/* ---- the XS2A shapes ---- */

static const char *
cash_type(enum acct_type t)
{
	switch (t) {
	case ACCT_CHECKING:	return "CACC";
	case ACCT_SAVINGS:	return "SVGS";
	case ACCT_CREDIT_CARD:	return "CARD";
	case ACCT_LOAN:		return "LOAN";
	default:		return "OTHR";
	}
}

/* The balanceType of 1.3.11 for a balance; NULL when it has none. */
static const char *
balance_type(enum bal_type t)
{
	switch (t) {
	case BAL_BOOKED:		return "closingBooked";
	case BAL_AVAILABLE:		return "interimAvailable";
	case BAL_OPENING_BOOKED:	return "openingBooked";
	case BAL_INTERIM_BOOKED:	return "interimBooked";
	case BAL_INTERIM_AVAILABLE:	return "interimAvailable";
	case BAL_FORWARD_AVAILABLE:	return "forwardAvailable";
	case BAL_EXPECTED:		return "expected";
	default:			return NULL;
	}
}

static void
amount(struct jw *w, const char *key, int64_t minor, const char *cur)
{
	char	s[MONEY_STRLEN];
	int	e = currency_exponent(cur);

	money_format(minor, e < 0 ? 2 : e, s);
	jw_key(w, key);
	jw_obj(w);
	jw_kstr(w, "currency", cur);
	jw_kstr(w, "amount", s);
	jw_obj_end(w);
}

/* A string member of at most max bytes (the spec's maxLength). */
static void
kstr_max(struct jw *w, const char *key, const char *s, size_t max)
{
	char	t[512];

	if (s == NULL || *s == '\0')
		return;
	xb_copy(t, max + 1 < sizeof(t) ? max + 1 : sizeof(t), s);
	jw_kstr(w, key, t);
}

static const struct rec_balance *
balance_of(const struct rec_account *a, enum bal_type t)
{
	size_t	i;

	for (i = 0; i < a->nbalances; i++)
		if (a->balances[i].type == t)
			return &a->balances[i];
	return NULL;
}

static void
write_balances(struct jw *w, const struct rec_account *a, int opening)
{
	const char	*type;
	size_t		 i;

	jw_arr(w);
	for (i = 0; i < a->nbalances; i++) {
		const struct rec_balance *b = &a->balances[i];

		if ((type = balance_type(b->type)) == NULL ||
		    (b->type == BAL_OPENING_BOOKED && !opening))
			continue;
		jw_obj(w);
		amount(w, "balanceAmount", b->amount, b->currency);
		jw_kstr(w, "balanceType", type);
		if (a->type == ACCT_CREDIT_CARD && b->type == BAL_AVAILABLE)
			jw_kbool(w, "creditLimitIncluded", 1);
		if (b->date[0] != '\0')
			jw_kstr(w, "referenceDate", b->date);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* Whether a consent's access reaches an account for what list l gives. */
static int
covers(const struct xb_access *acc, const struct rec_account *a,
    enum xb_list l)
{
	size_t	i;
	int	k;

	switch (acc->scope) {
	case SCOPE_ALL:
		return 1;
	case SCOPE_LIST:
		return l == XL_ACCOUNTS;
	case SCOPE_LIST_BALANCES:
		return l != XL_TRANSACTIONS;
	case SCOPE_REFS:
		break;
	}
	for (k = 0; k < XL__COUNT; k++) {
		if (k != (int)l && l != XL_ACCOUNTS)
			continue;
		for (i = 0; i < acc->nrefs[k]; i++) {
			const struct xb_ref *r = &acc->refs[k][i];
			const char *mine = r->masked ? a->number : a->iban;

			if (mine != NULL && strcmp(mine, r->id) == 0)
				return 1;
		}
	}
	return 0;
}

/* The account reference: its IBAN, else its masked number. */
static void
write_ref(struct jw *w, const struct rec_account *a)
{
	jw_obj(w);
	if (a->iban != NULL)
		jw_kstr(w, "iban", a->iban);
	else
		kstr_max(w, "maskedPan", a->number, 35);
	jw_kstr(w, "currency", a->currency);
	jw_obj_end(w);
}

/*
 * accountDetails.  A card or an account without IBAN names its masked
 * number as maskedPan, and a card its credit limit as creditLimit, as
 * the spec's cardAccountDetails do (accountDetails allows more members).
 */
static void
write_account(struct jw *w, const struct rec_account *a,
    const struct xb_access *acc, int with_balance)
{
	const struct rec_balance *lim = balance_of(a, BAL_CREDIT_LIMIT);

	jw_obj(w);
	jw_kstr(w, "resourceId", a->bank_id);
	if (a->iban != NULL)
		jw_kstr(w, "iban", a->iban);
	else
		kstr_max(w, "maskedPan", a->number, 35);
	jw_kstr(w, "currency", a->currency);
	kstr_max(w, "name", a->name, 70);
	jw_kstr(w, "cashAccountType", cash_type(a->type));
	jw_kstr(w, "status", "enabled");
	if (a->bic != NULL)
		jw_kstr(w, "bic", a->bic);
	jw_kstr(w, "usage", "PRIV");
	kstr_max(w, "ownerName", a->holder_name, 140);
	if (lim != NULL)
		amount(w, "creditLimit", lim->amount, lim->currency);
	if (with_balance && covers(acc, a, XL_BALANCES)) {
		jw_key(w, "balances");
		write_balances(w, a, 0);
	}
	jw_key(w, "_links");
	jw_obj(w);
	if (covers(acc, a, XL_BALANCES))
		xb_link(w, "balances", "/v1/accounts/%s/balances", a->bank_id);
	if (covers(acc, a, XL_TRANSACTIONS))
		xb_link(w, "transactions", "/v1/accounts/%s/transactions",
		    a->bank_id);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* Remittance information: one string, or pieces of 140 when longer. */
static void
write_remittance(struct jw *w, const char *s)
{
	char	piece[REMIT_MAX + 1];
	size_t	n;

	if (strlen(s) <= REMIT_MAX) {
		jw_kstr(w, "remittanceInformationUnstructured", s);
		return;
	}
	jw_key(w, "remittanceInformationUnstructuredArray");
	jw_arr(w);
	while (*s != '\0') {
		xb_copy(piece, sizeof(piece), s);
		n = strlen(piece);
		if (n == 0)
			break;
		jw_str(w, piece);
		s += n;
	}
	jw_arr_end(w);
}

/*
 * A transaction.  The counterparty is the creditor of a debit and the
 * debtor of a credit.  A booked transaction that was pending names its
 * pending id as pendingTransactionId (no member of the spec says it).
 */
static void
write_txn(struct jw *w, const struct rec_txn *t)
{
	int	debit = t->amount < 0;

	jw_obj(w);
	kstr_max(w, "transactionId", t->bank_id, 256);
	kstr_max(w, "entryReference", t->bank_reference, 35);
	kstr_max(w, "endToEndId", t->end_to_end_id, 35);
	if (t->booking_date[0] != '\0')
		jw_kstr(w, "bookingDate", t->booking_date);
	if (t->value_date[0] != '\0')
		jw_kstr(w, "valueDate", t->value_date);
	amount(w, "transactionAmount", t->amount, t->currency);
	kstr_max(w, debit ? "creditorName" : "debtorName", t->cp_name, 70);
	if (t->cp_iban != NULL && *t->cp_iban != '\0') {
		jw_key(w, debit ? "creditorAccount" : "debtorAccount");
		jw_obj(w);
		jw_kstr(w, "iban", t->cp_iban);
		jw_obj_end(w);
	}
	if (t->description != NULL && *t->description != '\0')
		write_remittance(w, t->description);
	kstr_max(w, "bankTransactionCode", t->bank_transaction_code, 64);
	if (t->status == TXN_BOOKED)
		kstr_max(w, "pendingTransactionId", t->pending_bank_id, 256);
	jw_obj_end(w);
}

/* ---- the sink ---- */

static int
on_account(void *arg, const struct rec_account *a)
{
	struct reader	*rd = arg;
	struct jw	 w;

	if (rd->view == V_LIST) {
		if (covers(rd->acc, a, XL_ACCOUNTS))
			write_account(&rd->wi, a, rd->acc, rd->with_balance);
		return 0;
	}
	if (strcmp(a->bank_id, rd->want) != 0)
		return 0;
	rd->found = 1;
	rd->allowed = covers(rd->acc, a, rd->view == V_BALANCES ?
	    XL_BALANCES : rd->view == V_TXNS ? XL_TRANSACTIONS : XL_ACCOUNTS);
	jw_init(&w, &rd->account);
	if (rd->view == V_ACCOUNT)
		write_account(&w, a, rd->acc, rd->with_balance);
	else
		write_ref(&w, a);
	jw_init(&w, &rd->balances);
	/* The period's opening balance goes with its transactions. */
	write_balances(&w, a, rd->view == V_TXNS);
	return 0;
}

/*
 * An account the bank lists but does not let read: listed by its id
 * alone when the consent is not by references (it has none to match);
 * reading it fails with the bank's error.
 */
static int
on_account_error(void *arg, const char *bank_id, const struct bank_error *e)
{
	struct reader	*rd = arg;

	if (rd->view == V_LIST) {
		if (rd->acc->scope != SCOPE_REFS) {
			jw_obj(&rd->wi);
			jw_kstr(&rd->wi, "resourceId", bank_id);
			jw_kstr(&rd->wi, "currency", "EUR");
			jw_obj_end(&rd->wi);
		}
		return 0;
	}
	if (strcmp(bank_id, rd->want) == 0) {
		rd->found = rd->allowed = rd->failed = 1;
		rd->aerr = *e;
	}
	return 0;
}

static int
on_txn(void *arg, const char *bank_id, const struct rec_txn *t)
{
	struct reader	*rd = arg;
	size_t		 n;

	if (rd->view != V_TXNS || !rd->allowed || rd->failed ||
	    strcmp(bank_id, rd->want) != 0)
		return 0;
	if (!(t->status == TXN_BOOKED ? rd->booked : rd->pending))
		return 0;
	n = rd->seen++;
	if (n < rd->skip)
		return 0;
	if (n >= rd->skip + rd->take) {
		rd->more = rd->stopped = 1;
		return 1;	/* the page is full: stop the fetch */
	}
	if (t->status == TXN_BOOKED) {
		write_txn(&rd->wb, t);
		rd->nbk++;
	} else {
		write_txn(&rd->wp, t);
		rd->npd++;
	}
	return 0;
}

/*
 * Runs the fetch of [from, to] for rd.  0; or -1 after answering the
 * bank's failure.  *state_out (malloc'd, may be NULL) is the connector's
 * next state when the fetch completed.
 */
static int
read_bank(struct req *r, const char *state, const char *from, const char *to,
    struct reader *rd, char **state_out)
{
	struct bank_sink	 sink = { rd, on_account, on_account_error,
				    on_txn };
	struct bank_fetch_req	 fr = { from, to, NULL, NULL, 0 };
	struct bank_ctx		 ctx = { .institution_id = "sandbox" };
	struct bank_fetch_result res;
	struct bank_op		*op;
	int			 rc = 0;

	ctx.now = clock_now();
	ctx.psu_ip = req_header(r, "PSU-IP-Address");
	if (state_out != NULL)
		*state_out = NULL;
	bank_fetch_result_init(&res);
	if ((op = sandbox_connector.fetch(&ctx, state, &fr, &sink, &res)) ==
	    NULL) {
		xb_error(r, 500, "INTERNAL_SERVER_ERROR", NULL, NULL);
		rc = -1;
		goto out;
	}
	bank_run_blocking(&sandbox_connector, op);
	sandbox_connector.op_free(op);
	jw_arr_end(&rd->wi);
	jw_arr_end(&rd->wb);
	jw_arr_end(&rd->wp);
	if (res.error.code != ERR_OK && !rd->stopped) {
		xb_error_entry(r, &res.error);
		rc = -1;
	} else if (state_out != NULL && res.state.len > 0)
		*state_out = strdup(buf_str(&res.state));
out:
	bank_fetch_result_free(&res);
	return rc;
}

/* ---- the consent of a read ---- */

struct grant {
	char		*state;
	struct xb_access access;
	char		 psu[XB_PSU_MAX];
	char		 consent[ID_MAX];
};

/*
 * The consent a read names in Consent-ID, valid, and within its
 * frequencyPerDay when the PSU is not there (no PSU-IP-Address): the
 * count of use_key today.  A list starts a new sync: it reads from the
 * state the last sync left.  0 and g filled; -1 answered.
 */
static int
grant_of(struct req *r, const char *use_key, int count, int list,
    struct grant *g)
{
	const struct xs2a_code	*limit = xs2a_code_fwd(ERR_API_USAGE_LIMIT_REACHED);
	const char		*id = req_header(r, "Consent-ID");
	struct xb_consent	*c;
	long			 today = xb_today();
	size_t			 i;
	char			 wait[24];

	memset(g, 0, sizeof(*g));
	if (xb_request_ok(r) == -1)
		return -1;
	if (id == NULL) {
		xb_error(r, 400, "FORMAT_ERROR", "Consent-ID", "The header "
		    "Consent-ID is missing.");
		return -1;
	}
	xb_lock();
	if ((c = xb_consent_find(id)) == NULL) {
		xb_unlock();
		xb_error(r, 403, "CONSENT_UNKNOWN", "Consent-ID", "The "
		    "Consent-ID cannot be matched by the ASPSP.");
		return -1;
	}
	if (c->status == CST_VALID && today > c->valid_until)
		c->status = CST_EXPIRED;
	if (c->status != CST_VALID) {
		xb_unlock();
		if (c->status == CST_EXPIRED)
			xb_error(r, 401, "CONSENT_EXPIRED", NULL, "The consent "
			    "has expired and needs to be renewed.");
		else
			xb_error(r, 401, "CONSENT_INVALID", NULL, "The consent "
			    "is not authorised, or no longer valid.");
		return -1;
	}
	if (count && req_header(r, "PSU-IP-Address") == NULL) {
		for (i = 0; i < c->nuse; i++)
			if (strcmp(c->use[i].key, use_key) == 0)
				break;
		if (i == c->nuse && c->nuse < XB_USES_MAX) {
			snprintf(c->use[i].key, sizeof(c->use[i].key), "%s",
			    use_key);
			c->nuse++;
		}
		if (i < c->nuse) {
			if (c->use[i].day != today) {
				c->use[i].day = today;
				c->use[i].n = 0;
			}
			if (c->use[i].n >= c->freq) {
				xb_unlock();
				xb_error(r, limit->http, limit->code, NULL,
				    limit->text);
				snprintf(wait, sizeof(wait), "%lld", 86400 -
				    clock_now() % 86400);
				resp_header(r, "Retry-After", wait);
				return -1;
			}
			c->use[i].n++;
		}
	}
	if (list && c->state_next != NULL) {
		free(c->state_read);
		c->state_read = strdup(c->state_next);
	}
	g->state = c->state_read != NULL ? strdup(c->state_read) : NULL;
	g->access = c->access;
	memcpy(g->psu, c->psu_id, sizeof(g->psu));
	memcpy(g->consent, c->id, sizeof(g->consent));
	c->last_action = today;
	xb_unlock();
	if (g->state == NULL) {
		xb_error(r, 500, "INTERNAL_SERVER_ERROR", NULL, NULL);
		return -1;
	}
	return 0;
}

/* The state a completed list left: where the next sync starts. */
static void
grant_next(struct grant *g, char *next)
{
	struct xb_consent	*c;

	xb_lock();
	if (next != NULL && (c = xb_consent_find(g->consent)) != NULL) {
		free(c->state_next);
		c->state_next = next;
		next = NULL;
	}
	xb_unlock();
	free(next);
}

/*
 * The end of a read: the answer goes out late (user_slow's list by
 * --sandbox-slow-ms more), and what the read held is freed.
 */
static void
read_done(struct req *r, int list, struct grant *g, struct reader *rd)
{
	xb_hold(r, list && sandbox_username_slow(g->psu) ? slow_ms : 0);
	reader_free(rd);
	free(g->state);
}

void
xb_hold(struct req *r, long long extra_ms)
{
	long long	ms = latency_ms + extra_ms;

	if (ms > 0)
		hold_answer(r, ms);
}

/* The days of a read of accounts and balances: pending ones included. */
static void
recent_days(char from[DAY_STRLEN], char to[DAY_STRLEN])
{
	long	today = xb_today();

	day_format(today - 3, from);
	day_format(today, to);
}

/* A query flag "true"/"false": 1/0; absent dflt; -1 answered. */
static int
query_bool(struct req *r, const char *name, int dflt)
{
	const char	*v = req_query(r, name);

	if (v == NULL)
		return dflt;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return v[0] == 't';
	xb_error(r, 400, "FORMAT_ERROR", name, "The parameter must be true or "
	    "false.");
	return -1;
}

/* ---- handlers ---- */

void
xb_h_accounts(struct req *r)
{
	struct grant	 g;
	struct reader	 rd;
	struct jw	 w;
	char		 from[DAY_STRLEN], to[DAY_STRLEN], *next = NULL;
	int		 wb;

	if ((wb = query_bool(r, "withBalance", 0)) == -1 ||
	    grant_of(r, "accounts", 1, 1, &g) == -1)
		return;
	reader_init(&rd, V_LIST, &g.access, NULL);
	rd.with_balance = wb;
	recent_days(from, to);
	if (read_bank(r, g.state, from, to, &rd, &next) == 0) {
		grant_next(&g, next);
		resp_begin(r, 200, &w);
		jw_obj(&w);
		jw_key(&w, "accounts");
		jw_raw(&w, rd.items.p, rd.items.len);
		jw_obj_end(&w);
	}
	read_done(r, 1, &g, &rd);
}

/*
 * The account of the path read for view v: 0 with rd filled, or -1
 * answered (unknown, not in the consent, or the bank's failure).
 */
static int
read_account(struct req *r, struct grant *g, struct reader *rd, const char *from,
    const char *to)
{
	if (read_bank(r, g->state, from, to, rd, NULL) == -1)
		return -1;
	if (!rd->found) {
		const struct xs2a_code *c = xs2a_code_fwd(ERR_BANK_OR_ACCOUNT_UNKNOWN);

		xb_error(r, c->http, c->code, NULL, c->text);
		return -1;
	}
	if (!rd->allowed) {
		xb_error(r, 401, "CONSENT_INVALID", NULL, "The consent does "
		    "not cover this account for this service.");
		return -1;
	}
	if (rd->failed) {
		xb_error_entry(r, &rd->aerr);
		return -1;
	}
	return 0;
}

static void
account_view(struct req *r, enum view v)
{
	static const char *const what[] = { [V_ACCOUNT] = "", [V_BALANCES] =
	    "/balances" };
	struct grant	 g;
	struct reader	 rd;
	struct jw	 w;
	char		 from[DAY_STRLEN], to[DAY_STRLEN], key[64];
	int		 wb = 0;

	snprintf(key, sizeof(key), "%.48s%s", req_param(r, 0), what[v]);
	if ((v == V_ACCOUNT && (wb = query_bool(r, "withBalance", 0)) == -1) ||
	    grant_of(r, key, 1, 0, &g) == -1)
		return;
	reader_init(&rd, v, &g.access, req_param(r, 0));
	rd.with_balance = wb;
	recent_days(from, to);
	if (read_account(r, &g, &rd, from, to) == 0) {
		resp_begin(r, 200, &w);
		jw_obj(&w);
		jw_key(&w, "account");
		jw_raw(&w, rd.account.p, rd.account.len);
		if (v == V_BALANCES) {
			jw_key(&w, "balances");
			jw_raw(&w, rd.balances.p, rd.balances.len);
		}
		jw_obj_end(&w);
	}
	read_done(r, 0, &g, &rd);
}

void
xb_h_account(struct req *r)
{
	account_view(r, V_ACCOUNT);
}

void
xb_h_balances(struct req *r)
{
	account_view(r, V_BALANCES);
}

/* A query number in [lo, hi]: the value, dflt when absent, -1 answered. */
static long
query_num(struct req *r, const char *name, long lo, long hi, long dflt)
{
	const char	*v = req_query(r, name);
	char		*end, msg[96];
	long		 n;

	if (v == NULL)
		return dflt;
	n = strtol(v, &end, 10);
	if (*v != '\0' && *end == '\0' && n >= lo && n <= hi)
		return n;
	snprintf(msg, sizeof(msg), "%s must be a number from %ld to %ld.",
	    name, lo, hi);
	xb_error(r, 400, "FORMAT_ERROR", name, msg);
	return -1;
}

/* The transactions query: 0 and the parts filled, or -1 answered. */
struct txn_query {
	const char	*status;
	char		 from[DAY_STRLEN], to[DAY_STRLEN];
	int		 has_from, with_balance;
	long		 page, per_page;
};

static int
txn_query(struct req *r, struct txn_query *q)
{
	const char	*s = req_query(r, "bookingStatus");
	const char	*f = req_query(r, "dateFrom"), *t = req_query(r, "dateTo");
	long		 df = 0, dt = xb_today();

	memset(q, 0, sizeof(*q));
	if (req_query(r, "entryReferenceFrom") != NULL ||
	    req_query(r, "deltaList") != NULL) {
		xb_error(r, 400, "PARAMETER_NOT_SUPPORTED", NULL, "Delta "
		    "reports are not supported; ask by dateFrom and dateTo.");
		return -1;
	}
	if (s == NULL || (strcmp(s, "booked") != 0 && strcmp(s, "pending") !=
	    0 && strcmp(s, "both") != 0 && strcmp(s, "all") != 0 &&
	    strcmp(s, "information") != 0)) {
		xb_error(r, 400, "FORMAT_ERROR", "bookingStatus", "bookingStatus "
		    "must be booked, pending, both, information or all.");
		return -1;
	}
	if (strcmp(s, "information") == 0) {
		xb_error(r, 400, "PARAMETER_NOT_SUPPORTED", "bookingStatus",
		    "Standing orders (information) are not offered.");
		return -1;
	}
	q->status = s;
	if ((f != NULL && day_parse(f, &df) == -1) ||
	    (t != NULL && day_parse(t, &dt) == -1)) {
		xb_error(r, 400, "FORMAT_ERROR", f != NULL && day_parse(f,
		    &df) == -1 ? "dateFrom" : "dateTo", "Dates are YYYY-MM-DD.");
		return -1;
	}
	if (f != NULL && df > dt) {
		const struct xs2a_code *c = xs2a_code_fwd(ERR_INVALID_REQUEST);

		xb_error(r, c->http, c->code, NULL, "dateFrom lies after "
		    "dateTo.");
		return -1;
	}
	q->has_from = f != NULL;
	if (f != NULL)
		day_format(df, q->from);
	day_format(dt, q->to);
	if ((q->with_balance = query_bool(r, "withBalance", 0)) == -1 ||
	    (q->page = query_num(r, "pageIndex", 0, 1000000, 0)) == -1 ||
	    (q->per_page = query_num(r, "itemsPerPage", 1, PAGE_MAX,
	    PAGE_DEFAULT)) == -1)
		return -1;
	return 0;
}

static void
page_link(struct jw *w, const char *name, const char *id,
    const struct txn_query *q, long page)
{
	char	from[32] = "";

	if (q->has_from)
		snprintf(from, sizeof(from), "&dateFrom=%s", q->from);
	xb_link(w, name, "/v1/accounts/%s/transactions?bookingStatus=%s%s"
	    "&dateTo=%s%s&itemsPerPage=%ld&pageIndex=%ld", id, q->status, from,
	    q->to, q->with_balance ? "&withBalance=true" : "", q->per_page,
	    page);
}

void
xb_h_transactions(struct req *r)
{
	struct txn_query q;
	struct grant	 g;
	struct reader	 rd;
	struct jw	 w;
	const char	*id = req_param(r, 0);
	char		 key[64];

	snprintf(key, sizeof(key), "%.48s/transactions", id);
	if (txn_query(r, &q) == -1 || grant_of(r, key, q.page == 0, 0,
	    &g) == -1)
		return;
	reader_init(&rd, V_TXNS, &g.access, id);
	rd.booked = strcmp(q.status, "pending") != 0;
	rd.pending = strcmp(q.status, "booked") != 0;
	rd.skip = (size_t)q.page * (size_t)q.per_page;
	rd.take = (size_t)q.per_page;
	if (read_account(r, &g, &rd, q.has_from ? q.from : NULL, q.to) == 0) {
		resp_begin(r, 200, &w);
		jw_obj(&w);
		jw_key(&w, "account");
		jw_raw(&w, rd.account.p, rd.account.len);
		jw_key(&w, "transactions");
		jw_obj(&w);
		if (rd.booked) {
			jw_key(&w, "booked");
			jw_raw(&w, rd.bk.p, rd.bk.len);
		}
		if (rd.pending) {
			jw_key(&w, "pending");
			jw_raw(&w, rd.pd.p, rd.pd.len);
		}
		jw_key(&w, "_links");
		jw_obj(&w);
		xb_link(&w, "account", "/v1/accounts/%s", id);
		page_link(&w, "first", id, &q, 0);
		if (q.page > 0)
			page_link(&w, "previous", id, &q, q.page - 1);
		if (rd.more)
			page_link(&w, "next", id, &q, q.page + 1);
		jw_obj_end(&w);
		jw_obj_end(&w);
		if (q.with_balance) {
			jw_key(&w, "balances");
			jw_raw(&w, rd.balances.p, rd.balances.len);
		}
		jw_obj_end(&w);
	}
	read_done(r, 0, &g, &rd);
}
