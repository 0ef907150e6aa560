/*
 * xs2a_fetch: accounts, balances and transactions under a valid consent.
 *
 *   GET /v1/accounts                              the list, checked whole
 *   GET /v1/accounts/{id}/balances                then the account record
 *   GET /v1/accounts/{id}/transactions?dateFrom=&dateTo=&bookingStatus=both
 *                                                 and each _links.next page
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
 * An error that concerns one account (xs2a_codes.def, per_account) marks
 * that account through sink.account_error() and the fetch goes on.
 */
#include "banks/xs2a_int.h"

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

/* The next account to deliver, or the end. */
static void
account_begin(struct bank_op *op)
{
	struct rec_account	rec;

	op->next[0] = '\0';
	op->pages = 0;
	if (op->ai >= op->nacc) {
		op->phase = PH_DONE;
		return;
	}
	if (op->acc[op->ai].nbal == 0) {
		op->phase = PH_BALANCES;
		return;
	}
	xs2a_account_record(&op->acc[op->ai], &rec);
	if (op->sink.account(op->sink.arg, &rec) != 0) {
		stopped(op);
		return;
	}
	op->phase = PH_TXNS;
}

/* An error of one account: it is marked, the others go on. */
static void
account_failed(struct bank_op *op, const struct bank_error *e)
{
	if (op->sink.account_error != NULL &&
	    op->sink.account_error(op->sink.arg, op->acc[op->ai].key, e) != 0) {
		stopped(op);
		return;
	}
	op->ai++;
	account_begin(op);
}

int
xs2a_fetch_send(struct bank_op *op)
{
	char			 url[XS2A_URL_MAX];
	const struct xs2a_account *a = op->acc != NULL && op->ai < op->nacc ?
	    &op->acc[op->ai] : NULL;
	int			 rc = -1;

	/* An account's own requests: its errors may mark it alone. */
	op->stage = op->phase == PH_ACCOUNTS ? XS_FETCH : XS_ACCOUNT;
	if (op->phase == PH_ACCOUNTS)
		rc = xs2a_url(op, url, "/v1/accounts");
	else if (op->phase == PH_BALANCES && a != NULL)
		rc = xs2a_url(op, url, "/v1/accounts/%s/balances",
		    a->resource_id);
	else if (op->phase == PH_TXNS && a != NULL && op->next[0] != '\0')
		rc = snprintf(url, sizeof(url), "%s", op->next) <
		    (int)sizeof(url) ? 0 : -1;
	else if (op->phase == PH_TXNS && a != NULL)
		rc = xs2a_url(op, url, "/v1/accounts/%s/transactions?"
		    "dateFrom=%s&dateTo=%s&bookingStatus=both", a->resource_id,
		    op->from, op->to);
	if (rc == -1) {
		xs2a_fail(op, ERR_INTERNAL_ERROR, "cannot build the XS2A "
		    "request");
		return -1;
	}
	return xs2a_send(op, "GET", url, H_GET_CONSENT, op->phase == PH_TXNS ?
	    accepts[op->accept] : NULL, NULL, 0);
}

/* ---- statement bodies (camt, MT940) ---- */

struct stmt_pass {
	struct bank_op	*op;
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
	if (p->op->sink.txn(p->op->sink.arg, p->op->acc[p->op->ai].key,
	    &t->rec) != 0) {
		p->stopped = 1;
		return 1;
	}
	return 0;
}

/* Parses a statement body, checking (deliver 0) or delivering (1). */
static enum stmt_rc
stmt_run(struct bank_op *op, const struct xs2a_resp *r, enum stmt_format fmt,
    int deliver, struct stmt_diag *d)
{
	struct stmt_pass	 p = { op, deliver, 0 };
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
stmt_page(struct bank_op *op, const struct xs2a_resp *r)
{
	struct stmt_diag	d;
	enum stmt_format	fmt;
	char			why[STMT_MSGLEN + 64];

	if (stmt_detect(r->body, r->len, &fmt) == -1 || fmt == STMT_OFX) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The transactions "
		    "answer (%.60s) is neither JSON nor camt nor MT940.",
		    r->ctype[0] ? r->ctype : "no Content-Type");
		return -1;
	}
	if (stmt_run(op, r, fmt, 0, &d) != STMT_OK) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's statement "
		    "is broken: %s", stmt_diag_str(&d, why, sizeof(why)));
		return -1;
	}
	if (stmt_run(op, r, fmt, 1, &d) != STMT_OK) {
		stopped(op);
		return -1;
	}
	op->next[0] = '\0';		/* statements come whole */
	return 0;
}

/* ---- JSON pages ---- */

static int
json_page(struct bank_op *op, const struct xs2a_resp *r)
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
	if (next[0] != '\0' && strcmp(next, op->next) == 0) {
		xs2a_page_free(&p);
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's next-page "
		    "link points to the same page.");
		return -1;
	}
	for (i = 0; i < p.n; i++)
		if (op->sink.txn(op->sink.arg, op->acc[op->ai].key,
		    &p.txns[i]) != 0) {
			xs2a_page_free(&p);
			stopped(op);
			return -1;
		}
	xs2a_page_free(&p);
	memcpy(op->next, next, sizeof(op->next));
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

void
xs2a_fetch_recv(struct bank_op *op, const struct xs2a_resp *r)
{
	struct bank_error	 e;
	json_t			*j;
	struct rec_account	 rec;

	if (r->status < 200 || r->status > 299) {
		/* JSON not offered: camt, then MT940. */
		if (op->phase == PH_TXNS && r->status == 406 &&
		    op->accept + 1 < (int)(sizeof(accepts) / sizeof(accepts[0]))) {
			op->accept++;
			return;
		}
		if (xs2a_answer_error(op, r, op->phase != PH_ACCOUNTS, &e))
			account_failed(op, &e);
		return;
	}
	switch (op->phase) {
	case PH_ACCOUNTS:
		if ((j = xs2a_json_body(r, &e)) == NULL ||
		    xs2a_parse_accounts(j, &op->acc, &op->nacc, &e) == -1) {
			json_decref(j);
			xs2a_fail_with(op, &e);
			return;
		}
		json_decref(j);
		op->ai = 0;
		account_begin(op);
		return;
	case PH_BALANCES:
		if ((j = xs2a_json_body(r, &e)) == NULL ||
		    xs2a_parse_balances(j, &op->acc[op->ai], &e) == -1) {
			json_decref(j);
			xs2a_fail_with(op, &e);
			return;
		}
		json_decref(j);
		xs2a_account_record(&op->acc[op->ai], &rec);
		if (op->sink.account(op->sink.arg, &rec) != 0) {
			stopped(op);
			return;
		}
		op->phase = PH_TXNS;
		return;
	case PH_TXNS:
		if ((is_statement(r) ? stmt_page(op, r) : json_page(op, r)) == -1)
			return;
		if (op->next[0] != '\0' && ++op->pages >= XS2A_MAX_PAGES) {
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank pages "
			    "the transactions of one account in more than %d "
			    "pages.", XS2A_MAX_PAGES);
			return;
		}
		if (op->next[0] == '\0') {
			op->ai++;
			account_begin(op);
		}
		return;
	default:
		xs2a_fail(op, ERR_INTERNAL_ERROR, "xs2a phase out of place");
		return;
	}
}
