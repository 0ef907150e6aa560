/*
 * xs2a_fetch: accounts, balances and transactions under a valid consent.
 *
 *   GET /v1/accounts                              the list, checked whole
 *   GET /v1/accounts/{id}/balances                then, for every account
 *   GET /v1/accounts/{id}/transactions?dateFrom=&dateTo=&bookingStatus=both
 *                                                 and each _links.next page
 *
 * After the list, the accounts' requests run at once, up to XS2A_LANES in
 * flight: each account's balances, and its transaction pages one after
 * the other (a page's next link is in the page).  What they give goes to
 * the sink in the accounts' order: an account's record (or its error)
 * once its balances and those of the accounts before it are in, and its
 * transactions after its record; an answer that comes early is held (one
 * per account) until then.
 *
 * Each page is read whole before any of its records goes to the sink: a
 * page with one bad entry delivers nothing, and the fetch fails with
 * BANK_RESPONSE_INVALID.  A next-page link must stay on the base URL's
 * scheme, host and port; one that leaves it is not followed (the fetch
 * fails).  Transactions come as JSON; a bank that answers 406 to JSON is
 * asked for application/xml (camt.052/camt.053) and then text/plain
 * (MT940), which go through the statement parsers of src/formats, twice:
 * once to check the whole body, once to deliver.
 *
 * An error that concerns one account (xs2a_codes.def, the account column)
 * marks that account through sink.account_error() and the fetch goes on.
 */
#include "banks/xs2a_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"

static const char *const accepts[] = {
	"application/json", "application/xml", "text/plain"
};

static void
stopped(struct bank_op *op)
{
	xs2a_fail(op, ERR_INTERNAL_ERROR, "the fetch was stopped by its "
	    "receiver");
}

/* ---- the account list: one request (xs2a.c's step) ---- */

int
xs2a_fetch_send(struct bank_op *op)
{
	char	url[XS2A_URL_MAX];

	op->stage = XS_FETCH;
	if (op->phase != PH_ACCOUNTS || xs2a_url(op, url, "/v1/accounts") ==
	    -1) {
		xs2a_fail(op, ERR_INTERNAL_ERROR, "cannot build the XS2A "
		    "request");
		return -1;
	}
	return xs2a_send(op, "GET", url, H_GET_CONSENT, NULL, NULL, 0);
}

void
xs2a_fetch_recv(struct bank_op *op, const struct xs2a_resp *r)
{
	struct bank_error	 e;
	json_t			*j;
	size_t			 i;

	if (r->status < 200 || r->status > 299) {
		xs2a_answer_error(op, r, 0, &e);
		return;
	}
	if ((j = xs2a_json_body(r, &e)) == NULL ||
	    xs2a_parse_accounts(j, &op->acc, &op->nacc, &e) == -1) {
		json_decref(j);
		xs2a_fail_with(op, &e);
		return;
	}
	json_decref(j);
	/* A list with balances (withBalance) needs no balance requests. */
	for (i = 0; i < op->nacc; i++)
		op->acc[i].bal_done = op->acc[i].nbal > 0;
	op->ai = 0;
	op->work = 0;
	op->nlanes = 0;
	op->phase = PH_LANES;
}

/* ---- the accounts, in their order ---- */

/*
 * Gives the sink what is ready, in the accounts' order: each account's
 * record once its balances are in, or its error.  0, or -1 when the sink
 * stopped the fetch.
 */
static int
deliver_ready(struct bank_op *op)
{
	struct rec_account	 rec;
	struct xs2a_account	*a;

	for (; op->ai < op->nacc; op->ai++) {
		a = &op->acc[op->ai];
		if (a->failed) {
			if (op->sink.account_error != NULL &&
			    op->sink.account_error(op->sink.arg, a->key,
			    &a->err) != 0)
				goto stop;
		} else if (!a->bal_done)
			break;
		else {
			xs2a_account_record(a, &rec);
			if (op->sink.account(op->sink.arg, &rec) != 0)
				goto stop;
		}
		a->delivered = 1;
	}
	return 0;
stop:
	stopped(op);
	return -1;
}

/*
 * An error of one account: it is marked (at once when its record is out,
 * else in its turn) and its requests are dropped; the others go on.
 */
static void
account_failed(struct bank_op *op, size_t ai, const struct bank_error *e)
{
	struct xs2a_account	*a = &op->acc[ai];

	if (a->failed)
		return;
	a->failed = 1;
	a->err = *e;
	if (a->delivered && op->sink.account_error != NULL &&
	    op->sink.account_error(op->sink.arg, a->key, e) != 0)
		stopped(op);
}

/* ---- statement bodies (camt, MT940) ---- */

struct stmt_pass {
	struct bank_op	*op;
	const char	*key;		/* the account's */
	int		 deliver;
	int		 stopped;
};

static int
stmt_txn(void *arg, const struct stmt_info *info, const struct stmt_txn *t)
{
	struct stmt_pass	*p = arg;

	(void)info;
	if (!p->deliver)
		return 0;
	if (p->op->sink.txn(p->op->sink.arg, p->key, &t->rec) != 0) {
		p->stopped = 1;
		return 1;
	}
	return 0;
}

/* Parses a statement body, checking (deliver 0) or delivering (1). */
static enum stmt_rc
stmt_run(struct bank_op *op, const char *key, const struct xs2a_resp *r,
    enum stmt_format fmt, int deliver, struct stmt_diag *d)
{
	struct stmt_pass	 p = { op, key, deliver, 0 };
	struct stmt_sink	 sink;
	enum stmt_rc		 rc;
	FILE			*f;

	memset(&sink, 0, sizeof(sink));
	sink.arg = &p;
	sink.txn = stmt_txn;
	if ((f = fmemopen((void *)(uintptr_t)r->body, r->len, "r")) == NULL)
		return STMT_FAILED;
	rc = stmt_parse(f, fmt, &sink, d);
	fclose(f);
	return rc;
}

static int
stmt_page(struct bank_op *op, struct xs2a_lane *l, const struct xs2a_resp *r)
{
	const char		*key = op->acc[l->ai].key;
	struct stmt_diag	d;
	enum stmt_format	fmt;
	char			why[STMT_MSGLEN + 64];

	if (stmt_detect(r->body, r->len, &fmt) == -1 || fmt == STMT_OFX) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The transactions "
		    "answer (%.60s) is neither JSON nor camt nor MT940.",
		    r->ctype[0] ? r->ctype : "no Content-Type");
		return -1;
	}
	if (stmt_run(op, key, r, fmt, 0, &d) != STMT_OK) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's statement "
		    "is broken: %s", stmt_diag_str(&d, why, sizeof(why)));
		return -1;
	}
	if (stmt_run(op, key, r, fmt, 1, &d) != STMT_OK) {
		stopped(op);
		return -1;
	}
	l->next[0] = '\0';		/* statements come whole */
	return 0;
}

/* ---- JSON pages ---- */

static int
json_page(struct bank_op *op, struct xs2a_lane *l, const struct xs2a_resp *r)
{
	struct bank_error	 e;
	struct xs2a_page	 p;
	json_t			*j;
	char			 next[XS2A_URL_MAX];
	size_t			 i;

	if ((j = xs2a_json_body(r, &e)) == NULL) {
		xs2a_fail_with(op, &e);
		return -1;
	}
	next[0] = '\0';
	/* The whole page, its next link included, before any record. */
	if (xs2a_parse_transactions(j, op->today, &p, &e) == -1 ||
	    (p.next[0] != '\0' && xs2a_link(op->inst.base_url, p.next, next,
	    sizeof(next), &e) == -1)) {
		xs2a_page_free(&p);
		xs2a_fail_with(op, &e);
		return -1;
	}
	if (next[0] != '\0' && strcmp(next, l->next) == 0) {
		xs2a_page_free(&p);
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's next-page "
		    "link points to the same page.");
		return -1;
	}
	for (i = 0; i < p.n; i++)
		if (op->sink.txn(op->sink.arg, op->acc[l->ai].key,
		    &p.txns[i]) != 0) {
			xs2a_page_free(&p);
			stopped(op);
			return -1;
		}
	xs2a_page_free(&p);
	memcpy(l->next, next, sizeof(l->next));
	return 0;
}

/* A statement body: by its Content-Type, else by its first bytes. */
static int
is_statement(const struct xs2a_resp *r)
{
	enum stmt_format	fmt;

	if (strstr(r->ctype, "xml") != NULL ||
	    strncasecmp(r->ctype, "text/plain", 10) == 0)
		return 1;
	return r->ctype[0] == '\0' && stmt_detect(r->body, r->len, &fmt) == 0;
}

/* ---- the lanes ---- */

static void
lane_end(struct xs2a_lane *l)
{
	xs2a_xfer_free(l->x);
	l->x = NULL;
	l->kind = PH_DONE;
}

/* Sends the lane's request: 0, or -1 after failing op. */
static int
lane_send(struct bank_op *op, struct xs2a_lane *l)
{
	const struct xs2a_account *a = &op->acc[l->ai];
	char			 url[XS2A_URL_MAX];
	int			 rc;

	if (l->kind == PH_BALANCES)
		rc = xs2a_url(op, url, "/v1/accounts/%s/balances",
		    a->resource_id);
	else if (l->next[0] != '\0')
		rc = snprintf(url, sizeof(url), "%s", l->next) <
		    (int)sizeof(url) ? 0 : -1;
	else
		rc = xs2a_url(op, url, "/v1/accounts/%s/transactions?"
		    "dateFrom=%s&dateTo=%s&bookingStatus=both", a->resource_id,
		    op->from, op->to);
	if (rc == -1) {
		xs2a_fail(op, ERR_INTERNAL_ERROR, "cannot build the XS2A "
		    "request");
		return -1;
	}
	l->x = xs2a_start(op, "GET", url, H_GET_CONSENT, l->kind == PH_TXNS ?
	    accepts[l->accept] : NULL, NULL, 0, &l->deadline_ms);
	return l->x != NULL ? 0 : -1;
}

/* Reads the final answer of a lane's request (after its retries). */
static void
lane_recv(struct bank_op *op, struct xs2a_lane *l, const struct xs2a_resp *r)
{
	struct xs2a_account	*a = &op->acc[l->ai];
	struct bank_error	 e;
	json_t			*j;

	op->stage = XS_ACCOUNT;
	if (r->status == 0) {
		xs2a_map_fault(r, op->stage, &e);
		xs2a_fail_with(op, &e);
		return;
	}
	if (r->status < 200 || r->status > 299) {
		/* JSON not offered: camt, then MT940. */
		if (l->kind == PH_TXNS && r->status == 406 &&
		    l->accept + 1 < (int)(sizeof(accepts) / sizeof(accepts[0]))) {
			l->accept++;
			return;
		}
		if (xs2a_answer_error(op, r, 1, &e))
			account_failed(op, l->ai, &e);
		lane_end(l);
		return;
	}
	if (l->kind == PH_BALANCES) {
		if ((j = xs2a_json_body(r, &e)) == NULL ||
		    xs2a_parse_balances(j, a, &e) == -1) {
			json_decref(j);
			xs2a_fail_with(op, &e);
			return;
		}
		json_decref(j);
		a->bal_done = 1;
		lane_end(l);
		return;
	}
	if ((is_statement(r) ? stmt_page(op, l, r) : json_page(op, l, r)) == -1)
		return;
	if (l->next[0] == '\0')
		lane_end(l);
	else if (++l->pages >= XS2A_MAX_PAGES)
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank pages the "
		    "transactions of one account in more than %d pages.",
		    XS2A_MAX_PAGES);
}

/* Drops ended lanes, then starts new ones: each account's balances (when
 * the list had none) and transactions, in the accounts' order. */
static void
lanes_fill(struct bank_op *op)
{
	struct xs2a_lane	*l;
	size_t			 i, n = 0, ai;
	enum xs2a_phase		 kind;

	for (i = 0; i < op->nlanes; i++)
		if (op->lanes[i].kind != PH_DONE)
			op->lanes[n++] = op->lanes[i];
	op->nlanes = n;
	while (op->nlanes < XS2A_LANES && op->work < 2 * op->nacc) {
		ai = op->work / 2;
		kind = op->work++ % 2 == 0 ? PH_BALANCES : PH_TXNS;
		if (op->acc[ai].failed || (kind == PH_BALANCES &&
		    op->acc[ai].bal_done))
			continue;
		l = &op->lanes[op->nlanes++];
		memset(l, 0, sizeof(*l));
		l->kind = kind;
		l->ai = ai;
	}
}

/*
 * One lane's turn: sends its request when due, reads its answer when in
 * (a transaction page only once its account's record is out).  1 when it
 * moved, 0 when it waits (*wait lowered to when to look again).
 */
static int
lane_step(struct bank_op *op, struct xs2a_lane *l, long long now,
    long long *wait)
{
	const struct xs2a_account *a = &op->acc[l->ai];
	const struct xs2a_resp	*r;
	long long		 w;

	if (a->failed) {
		lane_end(l);
		return 1;
	}
	if (l->x == NULL) {
		if (l->retry_ms > now) {
			*wait = l->retry_ms < *wait ? l->retry_ms : *wait;
			return 0;
		}
		if (lane_send(op, l) == -1)
			return 1;
	}
	if (!xs2a_xfer_done(l->x)) {
		*wait = l->deadline_ms < *wait ? l->deadline_ms : *wait;
		return 0;
	}
	if (l->kind == PH_TXNS && !a->delivered)
		return 0;	/* held: an account before it is not out */
	r = xs2a_xfer_resp(l->x);
	if (xs2a_retry_wait("GET", l->tries, r, &w)) {
		l->tries++;
		l->retry_ms = now + w;
	} else {
		l->tries = 0;
		l->retry_ms = 0;
		lane_recv(op, l, r);
	}
	xs2a_xfer_free(l->x);
	l->x = NULL;
	return 1;
}

enum bank_rc
xs2a_fetch_step(struct bank_op *op, long long *until)
{
	long long	now, wait;
	size_t		i;
	int		moved;

	for (;;) {
		if (op->phase != PH_LANES || deliver_ready(op) == -1)
			return BANK_DONE;
		lanes_fill(op);
		if (op->nlanes == 0 && op->ai == op->nacc) {
			op->phase = PH_DONE;
			return BANK_DONE;
		}
		now = bank_monotonic_ms();
		wait = LLONG_MAX;
		moved = 0;
		for (i = 0; i < op->nlanes && op->phase == PH_LANES; i++)
			if (op->lanes[i].kind != PH_DONE)
				moved |= lane_step(op, &op->lanes[i], now, &wait);
		if (op->phase != PH_LANES)
			return BANK_DONE;
		if (!moved) {
			*until = wait != LLONG_MAX ? wait : now + 1000;
			return BANK_WAIT;
		}
	}
}

void
xs2a_fetch_free(struct bank_op *op)
{
	size_t	i;

	for (i = 0; i < op->nlanes; i++)
		xs2a_xfer_free(op->lanes[i].x);
	op->nlanes = 0;
}
