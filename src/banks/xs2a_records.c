/*
 * xs2a_records: what an XS2A bank sends, turned into bankfeed's records
 * (accounts, balances, transactions).  Nothing here does I/O: every
 * function takes a parsed body and either fills its output whole or fails
 * with BANK_RESPONSE_INVALID and the reason, so that a bad answer stores
 * nothing.
 *
 * Banks run versions 1.3.6 to 1.3.12 of the interface; where those differ
 * (remittanceInformationStructured a string or an object, _links.next
 * under transactions or at the top) both forms are read.  Amounts must be
 * strings: a JSON number cannot be read without a float.
 */
#include "banks/xs2a_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "core/money.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- values ---- */

static int
date_ok(const char *s)
{
	long	d;

	return s != NULL && strlen(s) == 10 && day_parse(s, &d) == 0;
}

/* A date, or the date part of a date-time; 1 set, 0 absent, -1 bad. */
static int
jdate(json_t *o, const char *key, char out[11])
{
	const char	*s;
	char		 d[11];
	int		 rc = xs2a_jstr(o, key, &s, 64);

	out[0] = '\0';
	if (rc != 1)
		return rc;
	if (strlen(s) < 10)
		return -1;
	memcpy(d, s, 10);
	d[10] = '\0';
	if (!date_ok(d) || (s[10] != '\0' && s[10] != 'T' && s[10] != ' '))
		return -1;
	memcpy(out, d, 11);
	return 1;
}

/* {"currency": "EUR", "amount": "-12.30"} into minor units. */
static int
jamount(json_t *o, const char *key, int64_t *amount, char ccy[4],
    const char *where, struct bank_error *err)
{
	json_t		*a = json_object_get(o, key);
	const char	*c, *v;
	int		 exp;
	size_t		 i;

	if (!json_is_object(a)) {
		xs2a_invalid(err, "%s: %s is %s.", where, key,
		    a == NULL ? "missing" : "not an object");
		return -1;
	}
	if (xs2a_jstr(a, "currency", &c, 3) != 1 || strlen(c) != 3) {
		xs2a_invalid(err, "%s: %s.currency is not a currency code.",
		    where, key);
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (c[i] < 'A' || c[i] > 'Z') {
			xs2a_invalid(err, "%s: %s.currency is not a currency "
			    "code.", where, key);
			return -1;
		}
	if ((exp = currency_exponent(c)) < 0) {
		xs2a_invalid(err, "%s: %s.currency %s is not an ISO 4217 "
		    "currency.", where, key, c);
		return -1;
	}
	if (xs2a_jstr(a, "amount", &v, 64) != 1) {
		xs2a_invalid(err, "%s: %s.amount is %s.", where, key,
		    json_object_get(a, "amount") == NULL ? "missing" :
		    "not a string");
		return -1;
	}
	if (money_parse(v, strlen(v), '.', exp, amount) != MONEY_OK) {
		xs2a_invalid(err, "%s: %s.amount \"%.40s\" is not an amount of "
		    "%s.", where, key, v, c);
		return -1;
	}
	memcpy(ccy, c, 4);
	return 0;
}

/* ---- accounts ---- */

static const struct {
	const char	*code;		/* ISO 20022 ExternalCashAccountType1Code */
	enum acct_type	 type;
} cash_types[] = {
	{ "CACC", ACCT_CHECKING }, { "CASH", ACCT_CHECKING },
	{ "TRAN", ACCT_CHECKING }, { "CHAR", ACCT_CHECKING },
	{ "SACC", ACCT_CHECKING }, { "SVGS", ACCT_SAVINGS },
	{ "MOMA", ACCT_SAVINGS }, { "ONDP", ACCT_SAVINGS },
	{ "LOAN", ACCT_LOAN }, { "MGLD", ACCT_LOAN }, { "CARD", ACCT_CREDIT_CARD },
	{ "NREX", ACCT_OTHER },
};

static char *
dup_opt(const char *s)
{
	return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

void
xs2a_accounts_free(struct xs2a_account *a, size_t n)
{
	size_t	i;

	for (i = 0; a != NULL && i < n; i++) {
		free(a[i].name);
		free(a[i].owner);
	}
	free(a);
}

/* Copies an optional identifier; -1 when it is no string or too long. */
static int
copy_id(json_t *o, const char *key, char *out, size_t n)
{
	const char	*s;
	int		 rc = xs2a_jstr(o, key, &s, n - 1);

	out[0] = '\0';
	if (rc == 1)
		snprintf(out, n, "%s", s);
	return rc < 0 ? -1 : 0;
}

static int
parse_balance_list(json_t *list, struct xs2a_account *a, const char *where,
    struct bank_error *err)
{
	static const struct {
		const char	*bg;
		enum bal_type	 t;
	} types[] = {
#define R(e, s, iso, bg) { bg, e },
		BAL_TYPES(R)
#undef R
	};
	json_t		*b;
	size_t		 i, k;
	const char	*bt;

	a->nbal = 0;
	if (!json_is_array(list)) {
		xs2a_invalid(err, "%s: balances is %s.", where,
		    list == NULL ? "missing" : "not an array");
		return -1;
	}
	json_array_foreach(list, i, b) {
		struct rec_balance	*rb;

		if (!json_is_object(b)) {
			xs2a_invalid(err, "%s: balance %zu is not an object.",
			    where, i);
			return -1;
		}
		if (xs2a_jstr(b, "balanceType", &bt, 64) != 1) {
			xs2a_invalid(err, "%s: balance %zu has no balanceType.",
			    where, i);
			return -1;
		}
		for (k = 0; k < NELEM(types); k++)
			if (strcmp(types[k].bg, bt) == 0)
				break;
		/* Types bankfeed does not show (nonInvoiced...): left out. */
		if (k == NELEM(types) || a->nbal == XS2A_MAX_BALANCES)
			continue;
		rb = &a->bal[a->nbal];
		memset(rb, 0, sizeof(*rb));
		rb->type = types[k].t;
		if (jamount(b, "balanceAmount", &rb->amount, rb->currency, where,
		    err) == -1)
			return -1;
		if (jdate(b, "referenceDate", rb->date) == -1 ||
		    (rb->date[0] == '\0' &&
		    jdate(b, "lastChangeDateTime", rb->date) == -1)) {
			xs2a_invalid(err, "%s: balance %zu has a date that is "
			    "not YYYY-MM-DD.", where, i);
			return -1;
		}
		a->nbal++;
	}
	if (a->has_limit && a->nbal < XS2A_MAX_BALANCES)
		a->bal[a->nbal++] = a->limit;
	return 0;
}

static int
parse_account(json_t *o, size_t i, struct xs2a_account *a,
    struct bank_error *err)
{
	const char	*s, *name = NULL, *ct = NULL, *ccy = NULL;
	char		 where[48];
	size_t		 k;

	snprintf(where, sizeof(where), "account %zu", i);
	if (!json_is_object(o)) {
		xs2a_invalid(err, "%s is not an object.", where);
		return -1;
	}
	/* Short enough for the account key "xs2a:" + id (127 bytes). */
	if (xs2a_jstr(o, "resourceId", &s, 120) != 1 || *s == '\0' ||
	    strcspn(s, "/?#%\\ \t\r\n") != strlen(s)) {
		xs2a_invalid(err, "%s has no usable resourceId.", where);
		return -1;
	}
	snprintf(a->resource_id, sizeof(a->resource_id), "%s", s);
	if (copy_id(o, "iban", a->iban, sizeof(a->iban)) == -1 ||
	    copy_id(o, "bban", a->bban, sizeof(a->bban)) == -1 ||
	    copy_id(o, "maskedPan", a->masked_pan, sizeof(a->masked_pan)) == -1 ||
	    copy_id(o, "msisdn", a->msisdn, sizeof(a->msisdn)) == -1 ||
	    copy_id(o, "bic", a->bic, sizeof(a->bic)) == -1 ||
	    xs2a_jstr(o, "currency", &ccy, 3) == -1 ||
	    xs2a_jstr(o, "cashAccountType", &ct, 16) == -1 ||
	    (xs2a_jstr(o, "name", &name, 256) == -1) ||
	    xs2a_jstr(o, "ownerName", &s, 256) == -1) {
		xs2a_invalid(err, "%s has a field of the wrong type or too "
		    "long.", where);
		return -1;
	}
	a->owner = dup_opt(s);
	if (name == NULL && xs2a_jstr(o, "displayName", &name, 256) == -1)
		name = NULL;
	if (name == NULL && xs2a_jstr(o, "product", &name, 256) == -1)
		name = NULL;
	a->name = dup_opt(name);
	snprintf(a->currency, sizeof(a->currency), "%s",
	    ccy != NULL && strlen(ccy) == 3 ? ccy : "XXX");
	a->type = a->masked_pan[0] != '\0' && a->iban[0] == '\0' ?
	    ACCT_CREDIT_CARD : ACCT_CHECKING;
	for (k = 0; ct != NULL && k < NELEM(cash_types); k++)
		if (strcmp(ct, cash_types[k].code) == 0) {
			a->type = cash_types[k].type;
			break;
		}
	if (ct != NULL && k == NELEM(cash_types))
		a->type = ACCT_OTHER;
	/* A card's limit is a balance of bankfeed's (credit_limit). */
	if (json_object_get(o, "creditLimit") != NULL) {
		a->limit.type = BAL_CREDIT_LIMIT;
		if (jamount(o, "creditLimit", &a->limit.amount,
		    a->limit.currency, where, err) == -1)
			return -1;
		a->has_limit = 1;
	}
	/* With ?withBalance=true, or at banks that always add them. */
	if (json_object_get(o, "balances") != NULL &&
	    parse_balance_list(json_object_get(o, "balances"), a, where,
	    err) == -1)
		return -1;
	return 0;
}

int
xs2a_parse_accounts(json_t *root, struct xs2a_account **out, size_t *n,
    struct bank_error *err)
{
	json_t			*list = json_object_get(root, "accounts"), *o;
	struct xs2a_account	*a;
	size_t			 i, k, cnt;

	*out = NULL;
	*n = 0;
	if (!json_is_array(list)) {
		xs2a_invalid(err, "The account list has no array \"accounts\".");
		return -1;
	}
	if ((cnt = json_array_size(list)) > XS2A_MAX_ACCOUNTS) {
		xs2a_invalid(err, "The bank lists %zu accounts; bankfeed takes "
		    "at most %d.", cnt, XS2A_MAX_ACCOUNTS);
		return -1;
	}
	if ((a = calloc(cnt ? cnt : 1, sizeof(*a))) == NULL) {
		bank_error_set(err, ERR_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	json_array_foreach(list, i, o)
		if (parse_account(o, i, &a[i], err) == -1) {
			xs2a_accounts_free(a, cnt);
			return -1;
		}
	for (i = 0; i < cnt; i++) {
		int	shared = 0;

		for (k = 0; k < cnt; k++) {
			if (k != i && strcmp(a[i].resource_id,
			    a[k].resource_id) == 0) {
				xs2a_invalid(err, "Two accounts have the "
				    "resourceId %s.", a[i].resource_id);
				xs2a_accounts_free(a, cnt);
				return -1;
			}
			if (k != i && a[i].iban[0] != '\0' &&
			    strcmp(a[i].iban, a[k].iban) == 0)
				shared = 1;
		}
		/*
		 * The key stays the same from one consent to the next (some
		 * banks give new resourceIds with each): the IBAN, with the
		 * currency for the sub-accounts of a multi-currency account.
		 */
		if (a[i].iban[0] != '\0')
			snprintf(a[i].key, sizeof(a[i].key), "%s%s%s",
			    a[i].iban, shared ? " " : "",
			    shared ? a[i].currency : "");
		else if (a[i].bban[0] != '\0')
			snprintf(a[i].key, sizeof(a[i].key), "%s", a[i].bban);
		else if (a[i].masked_pan[0] != '\0')
			snprintf(a[i].key, sizeof(a[i].key), "%s",
			    a[i].masked_pan);
		else if (a[i].msisdn[0] != '\0')
			snprintf(a[i].key, sizeof(a[i].key), "%s", a[i].msisdn);
		else
			snprintf(a[i].key, sizeof(a[i].key), "xs2a:%.120s",
			    a[i].resource_id);
	}
	*out = a;
	*n = cnt;
	return 0;
}

int
xs2a_parse_balances(json_t *root, struct xs2a_account *a,
    struct bank_error *err)
{
	return parse_balance_list(json_object_get(root, "balances"), a,
	    "balances", err);
}

void
xs2a_account_record(const struct xs2a_account *a, struct rec_account *r)
{
	memset(r, 0, sizeof(*r));
	r->bank_id = a->key;
	r->iban = a->iban[0] ? a->iban : NULL;
	r->number = a->bban[0] ? a->bban : a->masked_pan[0] ? a->masked_pan :
	    a->msisdn[0] ? a->msisdn : NULL;
	r->bic = a->bic[0] ? a->bic : NULL;
	r->name = a->name;
	r->type = a->type;
	memcpy(r->currency, a->currency, sizeof(r->currency));
	r->holder_name = a->owner;
	r->balances = a->bal;
	r->nbalances = a->nbal;
}

/* ---- transactions ---- */

void
xs2a_page_free(struct xs2a_page *p)
{
	json_decref(p->root);
	free(p->txns);
	free(p->strs);
	memset(p, 0, sizeof(*p));
}

/* The counterparty's IBAN of an account reference, or NULL. */
static const char *
ref_iban(json_t *o, const char *key)
{
	const char	*s;

	if (xs2a_jstr(json_object_get(o, key), "iban", &s, 64) != 1)
		return NULL;
	return s;
}

/* Bytes the joined texts of an entry need (remittance arrays). */
static size_t
joined_len(json_t *o, const char *key)
{
	json_t	*arr = json_object_get(o, key), *v;
	size_t	 i, n = 0;

	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			n += json_string_length(v) + 1;
	return n;
}

/* Joins a string array with spaces into *strs; NULL when empty. */
static const char *
join(json_t *o, const char *key, char **strs)
{
	json_t	*arr = json_object_get(o, key), *v;
	char	*start = *strs, *p = *strs;
	size_t	 i;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		if (p != start)
			*p++ = ' ';
		memcpy(p, json_string_value(v), json_string_length(v));
		p += json_string_length(v);
	}
	if (p == start)
		return NULL;
	*p++ = '\0';
	*strs = p;
	return start;
}

static int
parse_txn(json_t *o, enum txn_status status, const char *today,
    struct rec_txn *t, char **strs, const char *where, struct bank_error *err)
{
	static const struct {
		const char	*name, *account, *ultimate;
	} sides[] = {
		{ "creditorName", "creditorAccount", "ultimateCreditor" },
		{ "debtorName", "debtorAccount", "ultimateDebtor" },
	};
	const char	*s, *rs;
	char		 tdate[11];
	json_t		*st;
	int		 cp;

	memset(t, 0, sizeof(*t));
	t->status = status;
	if (!json_is_object(o)) {
		xs2a_invalid(err, "%s is not an object.", where);
		return -1;
	}
	if (jamount(o, "transactionAmount", &t->amount, t->currency, where,
	    err) == -1)
		return -1;
	if (jdate(o, "bookingDate", t->booking_date) == -1 ||
	    jdate(o, "valueDate", t->value_date) == -1 ||
	    jdate(o, "transactionDate", tdate) == -1) {
		xs2a_invalid(err, "%s has a date that is not YYYY-MM-DD.", where);
		return -1;
	}
	if (t->booking_date[0] == '\0') {
		if (status == TXN_BOOKED && t->value_date[0] == '\0') {
			xs2a_invalid(err, "%s is booked without a bookingDate "
			    "or valueDate.", where);
			return -1;
		}
		snprintf(t->booking_date, sizeof(t->booking_date), "%s",
		    tdate[0] ? tdate : t->value_date[0] ? t->value_date : today);
	}
	if (xs2a_jstr(o, "transactionId", &t->bank_id, 128) == -1 ||
	    xs2a_jstr(o, "entryReference", &t->bank_reference, 128) == -1 ||
	    xs2a_jstr(o, "endToEndId", &t->end_to_end_id, 128) == -1 ||
	    xs2a_jstr(o, "creditorName", &s, 256) == -1 ||
	    xs2a_jstr(o, "debtorName", &s, 256) == -1 ||
	    xs2a_jstr(o, "remittanceInformationUnstructured", &t->description,
	    4096) == -1 ||
	    xs2a_jstr(o, "bankTransactionCode", &t->bank_transaction_code, 64) == -1) {
		xs2a_invalid(err, "%s has a field of the wrong type or too "
		    "long.", where);
		return -1;
	}
	/* The bank's stable id: transactionId, else entryReference; without
	 * either the store keys it by content (accdata_fp_key). */
	if ((t->bank_id == NULL || *t->bank_id == '\0') &&
	    t->bank_reference != NULL && *t->bank_reference != '\0')
		t->bank_id = t->bank_reference;
	if (t->bank_id != NULL && *t->bank_id == '\0')
		t->bank_id = NULL;
	/* A booked entry that names the id it had while pending takes over
	 * that row, and its bankfeed id, as with every source.  No member of
	 * 1.3.11 says it; sandbox-bank and some banks send
	 * pendingTransactionId (an unknown member is no error). */
	if (status == TXN_BOOKED && xs2a_jstr(o, "pendingTransactionId",
	    &t->pending_bank_id, 128) == 1 && *t->pending_bank_id == '\0')
		t->pending_bank_id = NULL;
	if (t->end_to_end_id != NULL &&
	    strcmp(t->end_to_end_id, "NOTPROVIDED") == 0)
		t->end_to_end_id = NULL;
	/* The other side: who was paid on a debit, who paid on a credit. */
	cp = t->amount < 0 ? 0 : 1;
	xs2a_jstr(o, sides[cp].name, &t->cp_name, 256);
	t->cp_iban = ref_iban(o, sides[cp].account);
	if (t->cp_name == NULL)
		xs2a_jstr(o, sides[cp].ultimate, &t->cp_name, 256);
	/* Some banks name only the other side (even the spec's example). */
	if (t->cp_name == NULL && t->cp_iban == NULL) {
		xs2a_jstr(o, sides[!cp].name, &t->cp_name, 256);
		t->cp_iban = ref_iban(o, sides[!cp].account);
	}
	if (t->description == NULL)
		t->description = join(o, "remittanceInformationUnstructuredArray",
		    strs);
	if (t->description == NULL) {
		/* A string up to 1.3.7, an object with a reference later. */
		st = json_object_get(o, "remittanceInformationStructured");
		if (json_is_string(st))
			t->description = json_string_value(st);
		else if (xs2a_jstr(st, "reference", &rs, 256) == 1)
			t->description = rs;
	}
	if (t->description == NULL)
		xs2a_jstr(o, "additionalInformation", &t->description, 4096);
	if (t->bank_transaction_code == NULL)
		xs2a_jstr(o, "proprietaryBankTransactionCode",
		    &t->bank_transaction_code, 64);
	return 0;
}

int
xs2a_parse_transactions(json_t *root, const char *today, struct xs2a_page *p,
    struct bank_error *err)
{
	static const struct {
		const char	*key;
		enum txn_status	 status;
	} lists[] = { { "booked", TXN_BOOKED }, { "pending", TXN_PENDING } };
	json_t		*tx = json_object_get(root, "transactions"), *o, *l;
	json_t		*links, *next;
	const char	*href;
	size_t		 i, k, total = 0, need = 0;
	char		*strs, where[48];

	memset(p, 0, sizeof(*p));
	p->root = root;
	if (tx != NULL && !json_is_object(tx)) {
		xs2a_invalid(err, "transactions is not an object.");
		return -1;
	}
	for (k = 0; k < NELEM(lists); k++) {
		l = json_object_get(tx, lists[k].key);
		if (l != NULL && !json_is_null(l) && !json_is_array(l)) {
			xs2a_invalid(err, "transactions.%s is not an array.",
			    lists[k].key);
			return -1;
		}
		total += json_array_size(l);
		json_array_foreach(l, i, o)
			need += joined_len(o,
			    "remittanceInformationUnstructuredArray");
	}
	/* The next page: under transactions (1.3.x), else at the top; a list
	 * too long to page may come as a download link instead. */
	links = json_object_get(tx, "_links");
	if ((next = json_object_get(links, "next")) == NULL) {
		links = json_object_get(root, "_links");
		next = json_object_get(links, "next");
	}
	if (next == NULL && tx == NULL)
		next = json_object_get(links, "download");
	if (next == NULL && tx == NULL) {
		xs2a_invalid(err, "The answer has neither transactions nor a "
		    "download link.");
		return -1;
	}
	if (next != NULL) {
		if (xs2a_jstr(next, "href", &href, XS2A_URL_MAX - 1) != 1) {
			xs2a_invalid(err, "A next-page link has no usable href.");
			return -1;
		}
		snprintf(p->next, sizeof(p->next), "%s", href);
	}
	if ((p->txns = calloc(total ? total : 1, sizeof(*p->txns))) == NULL ||
	    (p->strs = malloc(need + 1)) == NULL) {
		bank_error_set(err, ERR_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	strs = p->strs;
	for (k = 0; k < NELEM(lists); k++) {
		l = json_object_get(tx, lists[k].key);
		json_array_foreach(l, i, o) {
			snprintf(where, sizeof(where), "transactions.%s[%zu]",
			    lists[k].key, i);
			if (parse_txn(o, lists[k].status, today, &p->txns[p->n],
			    &strs, where, err) == -1)
				return -1;
			p->n++;
		}
	}
	return 0;
}

