/*
 * xs2a_map: what an XS2A bank sends, turned into bankfeed's records and
 * catalog entries.  Nothing here does I/O: every function takes a parsed
 * body (or the raw answer) and either fills its output whole or fails
 * with a catalog error, so that a bad answer stores nothing.
 *
 * Banks run versions 1.3.6 to 1.3.12 of the interface; where those differ
 * (remittanceInformationStructured a string or an object, _links.next
 * under transactions or at the top, tppMessages or RFC 7807 bodies) both
 * forms are read.  Amounts must be strings: a JSON number cannot be read
 * without a float.
 */
#include "banks/xs2a_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/day.h"
#include "core/money.h"

/* ---- the table (xs2a_tpp.def) ---- */

const struct xs2a_tpp_row xs2a_tpp_rows[] = {
#define T(c, h, l, s, f, p) { c, h, { ERR_##l, ERR_##s, ERR_##f }, p },
#define S(h, l, s, f, p)
#define F(n, w, l, s, f)
#include "banks/xs2a_tpp.def"
#undef T
#undef S
#undef F
};

const size_t xs2a_ntpp_rows = sizeof(xs2a_tpp_rows) / sizeof(xs2a_tpp_rows[0]);

static const struct status_row {
	int		 http;
	enum err	 at[3];
	int		 per_account;
} status_rows[] = {
#define T(c, h, l, s, f, p)
#define S(h, l, s, f, p) { h, { ERR_##l, ERR_##s, ERR_##f }, p },
#define F(n, w, l, s, f)
#include "banks/xs2a_tpp.def"
#undef T
#undef S
#undef F
};

enum fault { FAULT_UNREACHABLE, FAULT_TLS, FAULT_UNUSABLE };

static const struct fault_row {
	const char	*name;
	enum err	 at[3];
} fault_rows[] = {
#define T(c, h, l, s, f, p)
#define S(h, l, s, f, p)
#define F(n, w, l, s, f) { n, { ERR_##l, ERR_##s, ERR_##f } },
#include "banks/xs2a_tpp.def"
#undef T
#undef S
#undef F
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(NELEM(fault_rows) == 3, "xs2a_tpp.def: F rows are "
    "unreachable, tls, unusable, in that order");

static enum err
fault_entry(enum fault f, enum xs2a_stage st)
{
	return fault_rows[f].at[st];
}

void
xs2a_invalid(struct bank_error *err, const char *fmt, ...)
{
	va_list	ap;

	err->code = ERR_BANK_RESPONSE_INVALID;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void
xs2a_map_fault(const struct xs2a_resp *r, enum xs2a_stage st,
    struct bank_error *err)
{
	if (r->too_big) {
		bank_error_set(err, fault_entry(FAULT_UNUSABLE, st),
		    "The bank's answer is larger than %u MiB; nothing of it "
		    "was used.", XS2A_BODY_MAX >> 20);
		return;
	}
	if (xs2a_cc_tls(r->cc)) {
		bank_error_set(err, fault_entry(FAULT_TLS, st),
		    "TLS with the bank failed: %s", r->errbuf);
		return;
	}
	bank_error_set(err, fault_entry(FAULT_UNREACHABLE, st),
	    "The bank could not be reached: %s", r->errbuf);
}

/* A JSON string member of at most max bytes: 1 and *out, 0 absent, -1 bad. */
static int
jstr(json_t *o, const char *key, const char **out, size_t max)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 1;
}

static int
is_json_type(const char *ctype)
{
	size_t	n = strcspn(ctype, ";");

	while (n > 0 && ctype[n - 1] == ' ')
		n--;
	return (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) ||
	    (n > 5 && strncasecmp(ctype + n - 5, "+json", 5) == 0);
}

json_t *
xs2a_json_body(const struct xs2a_resp *r, struct bank_error *err)
{
	json_error_t	 e;
	json_t		*j;
	size_t		 i = 0;

	while (i < r->len && isspace((unsigned char)r->body[i]))
		i++;
	if (r->ctype[0] != '\0' && !is_json_type(r->ctype) &&
	    (i == r->len || r->body[i] != '{')) {
		xs2a_invalid(err, "The bank's answer is not JSON (%.80s).",
		    r->ctype);
		return NULL;
	}
	if ((j = json_loadb(r->body, r->len, 0, &e)) == NULL) {
		xs2a_invalid(err, "The bank's answer is not valid JSON: %.200s "
		    "(line %d).", e.text, e.line);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		xs2a_invalid(err, "The bank's answer is not a JSON object.");
		return NULL;
	}
	return j;
}

static const struct xs2a_tpp_row *
tpp_find(const char *code)
{
	size_t	i;

	for (i = 0; code != NULL && i < xs2a_ntpp_rows; i++)
		if (strcmp(xs2a_tpp_rows[i].code, code) == 0)
			return &xs2a_tpp_rows[i];
	return NULL;
}

/*
 * The code and text of an error body: NextGenPSD2 tppMessages (the first
 * of category ERROR whose code is known, else the first), or RFC 7807
 * (application/problem+json: code, detail or title, additionalErrors).
 */
static void
error_message(json_t *j, const char **code, const char **text)
{
	json_t		*msgs = json_object_get(j, "tppMessages"), *m;
	const char	*c, *t, *cat;
	size_t		 i;

	*code = *text = NULL;
	if (!json_is_array(msgs))
		msgs = json_object_get(j, "additionalErrors");
	json_array_foreach(msgs, i, m) {
		if (jstr(m, "code", &c, 128) != 1)
			continue;
		if (jstr(m, "text", &t, 500) != 1 &&
		    jstr(m, "detail", &t, 500) != 1 &&
		    jstr(m, "title", &t, 500) != 1)
			t = NULL;
		if (jstr(m, "category", &cat, 16) == 1 &&
		    strcmp(cat, "ERROR") != 0)
			continue;
		if (*code == NULL || (tpp_find(*code) == NULL &&
		    tpp_find(c) != NULL)) {
			*code = c;
			*text = t;
		}
	}
	if (*code == NULL && jstr(j, "code", &c, 128) == 1) {
		*code = c;
		if (jstr(j, "detail", text, 500) != 1 &&
		    jstr(j, "title", text, 500) != 1)
			*text = NULL;
	}
}

void
xs2a_map_error(const struct xs2a_resp *r, enum xs2a_stage st,
    struct bank_error *err, int *per_account)
{
	const struct xs2a_tpp_row *t = NULL;
	const struct status_row	*s = NULL;
	const char		*code = NULL, *text = NULL;
	json_t			*j = NULL;
	json_error_t		 e;
	size_t			 i;

	*per_account = 0;
	if (r->len > 0 && (j = json_loadb(r->body, r->len, 0, &e)) != NULL &&
	    json_is_object(j))
		error_message(j, &code, &text);
	if ((t = tpp_find(code)) != NULL) {
		err->code = t->at[st];
		*per_account = t->per_account;
	} else {
		for (i = 0; i < NELEM(status_rows) && s == NULL; i++)
			if (status_rows[i].http == r->status ||
			    status_rows[i].http == 0)
				s = &status_rows[i];
		err->code = s->at[st];
		*per_account = s->per_account;
	}
	if (text != NULL && *text != '\0')
		snprintf(err->message, sizeof(err->message), "%s", text);
	else if (code != NULL)
		snprintf(err->message, sizeof(err->message), "%s", code);
	else if (r->status >= 300 && r->status < 400)
		snprintf(err->message, sizeof(err->message), "The bank "
		    "answered HTTP %ld, a redirect; bankfeed follows none.",
		    r->status);
	else
		snprintf(err->message, sizeof(err->message), "The bank "
		    "answered HTTP %ld without an error code.", r->status);
	json_decref(j);
}

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
	int		 rc = jstr(o, key, &s, 64);

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
	if (jstr(a, "currency", &c, 3) != 1 || strlen(c) != 3) {
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
	if (jstr(a, "amount", &v, 64) != 1) {
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
	int		 rc = jstr(o, key, &s, n - 1);

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
		if (jstr(b, "balanceType", &bt, 64) != 1) {
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
	if (jstr(o, "resourceId", &s, 120) != 1 || *s == '\0' ||
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
	    jstr(o, "currency", &ccy, 3) == -1 ||
	    jstr(o, "cashAccountType", &ct, 16) == -1 ||
	    (jstr(o, "name", &name, 256) == -1) ||
	    jstr(o, "ownerName", &s, 256) == -1) {
		xs2a_invalid(err, "%s has a field of the wrong type or too "
		    "long.", where);
		return -1;
	}
	a->owner = dup_opt(s);
	if (name == NULL && jstr(o, "displayName", &name, 256) == -1)
		name = NULL;
	if (name == NULL && jstr(o, "product", &name, 256) == -1)
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

	if (jstr(json_object_get(o, key), "iban", &s, 64) != 1)
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
	if (jstr(o, "transactionId", &t->bank_id, 128) == -1 ||
	    jstr(o, "entryReference", &t->bank_reference, 128) == -1 ||
	    jstr(o, "endToEndId", &t->end_to_end_id, 128) == -1 ||
	    jstr(o, "creditorName", &s, 256) == -1 ||
	    jstr(o, "debtorName", &s, 256) == -1 ||
	    jstr(o, "remittanceInformationUnstructured", &t->description,
	    4096) == -1 ||
	    jstr(o, "bankTransactionCode", &t->bank_transaction_code, 64) == -1) {
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
	if (t->end_to_end_id != NULL &&
	    strcmp(t->end_to_end_id, "NOTPROVIDED") == 0)
		t->end_to_end_id = NULL;
	/* The other side: who was paid on a debit, who paid on a credit. */
	cp = t->amount < 0 ? 0 : 1;
	jstr(o, sides[cp].name, &t->cp_name, 256);
	t->cp_iban = ref_iban(o, sides[cp].account);
	if (t->cp_name == NULL)
		jstr(o, sides[cp].ultimate, &t->cp_name, 256);
	/* Some banks name only the other side (even the spec's example). */
	if (t->cp_name == NULL && t->cp_iban == NULL) {
		jstr(o, sides[!cp].name, &t->cp_name, 256);
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
		else if (jstr(st, "reference", &rs, 256) == 1)
			t->description = rs;
	}
	if (t->description == NULL)
		jstr(o, "additionalInformation", &t->description, 4096);
	if (t->bank_transaction_code == NULL)
		jstr(o, "proprietaryBankTransactionCode",
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
		if (jstr(next, "href", &href, XS2A_URL_MAX - 1) != 1) {
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

/* ---- links ---- */

/*
 * The origin of an absolute http(s) URL: scheme, host (lowercase, IPv6 in
 * brackets) and port (the default one when none is written).  -1 when it
 * is none, or carries user information.
 */
static int
origin(const char *url, char *scheme, size_t sn, char *host, size_t hn,
    long *port)
{
	const char	*p, *h, *end, *colon = NULL;
	size_t		 n, i;

	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(scheme, sn, "https");
		*port = 443;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		snprintf(scheme, sn, "http");
		*port = 80;
		p = url + 7;
	} else
		return -1;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL || end == p)
		return -1;
	h = p;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return -1;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
		n = (size_t)(rb + 1 - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (n == 0 || n >= hn)
		return -1;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[n] = '\0';
	if (colon != NULL) {
		char	*e;
		long	 v;

		if (colon + 1 == end)
			return 0;
		v = strtol(colon + 1, &e, 10);
		if (e != end || v <= 0 || v > 65535)
			return -1;
		*port = v;
	}
	return 0;
}

/* Whether s starts with a URI scheme ("https:", "ftp:"). */
static int
has_scheme(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789+-.");

	return n > 0 && isalpha((unsigned char)s[0]) && s[n] == ':';
}

int
xs2a_link(const char *base, const char *href, char *out, size_t outn,
    struct bank_error *err)
{
	char	bs[8], bh[256], ls[8], lh[256];
	long	bp, lp;
	size_t	i, olen;
	int	n;

	for (i = 0; href[i] != '\0'; i++)
		if ((unsigned char)href[i] <= ' ' || href[i] == 0x7f) {
			xs2a_invalid(err, "A link of the bank holds a blank or a "
			    "control character; not followed.");
			return -1;
		}
	if (origin(base, bs, sizeof(bs), bh, sizeof(bh), &bp) == -1) {
		bank_error_set(err, ERR_INTERNAL_ERROR, "the institution's "
		    "base URL is not an http(s) URL");
		return -1;
	}
	if (has_scheme(href))
		n = snprintf(out, outn, "%s", href);
	else if (href[0] == '/' && href[1] != '/') {
		/* Relative to the host: the base's origin and this path. */
		olen = strlen(bs) + 3 + strcspn(base + strlen(bs) + 3, "/?#");
		n = snprintf(out, outn, "%.*s%s", (int)olen, base, href);
	} else if (href[0] == '/')
		n = snprintf(out, outn, "%s:%s", bs, href);
	else if (strchr(href, '/') != NULL &&
	    memchr(href, '.', strcspn(href, "/")) != NULL)
		/* "www.bank.example/v1/..." without its scheme. */
		n = snprintf(out, outn, "%s://%s", bs, href);
	else
		n = snprintf(out, outn, "%s/%s", base, href);
	if (n < 0 || (size_t)n >= outn) {
		xs2a_invalid(err, "A link of the bank is longer than %zu bytes; "
		    "not followed.", outn - 1);
		return -1;
	}
	if (origin(out, ls, sizeof(ls), lh, sizeof(lh), &lp) == -1 ||
	    strcmp(ls, bs) != 0 || strcmp(lh, bh) != 0 || lp != bp) {
		xs2a_invalid(err, "A link of the bank leads to another host "
		    "(%.200s) than the institution's base URL; not followed.",
		    origin(out, ls, sizeof(ls), lh, sizeof(lh), &lp) == 0 ?
		    lh : "an unreadable URL");
		return -1;
	}
	return 0;
}
