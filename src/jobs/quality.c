#include "jobs/quality.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "core/iban.h"
#include "core/money.h"

/* The first occurrence of a warning on an account, and how many there were. */
struct qhit {
	size_t	 count;
	char	*txn_id;
	char	 detail[QUALITY_DETAIL_MAX];
};

struct qacct {
	char		*id;
	int		 delivered;	/* quality_account() was called */
	int		 errored;	/* quality_account_error() was called */
	enum acct_type	 type;
	char		 currency[4];
	char		 dupkey[IBAN_MAX + 16];	/* AccountDuplicate */

	/* BalanceMismatch */
	int		 has_open, has_close, sum_ok;
	int64_t		 open, close, sum;
	long		 open_day, close_day;	/* LONG_MIN/MAX: unbounded */
	size_t		 nsummed;
	int		 money_on_it;		/* a non-zero balance */

	/* Absence checks */
	size_t		 ntxn;
	int		 seen_last_month, seen_last15;

	/* TransactionsWrongOrder */
	int		 have_prev, dir;
	long		 prev_day;

	/* TransactionDuplicate: fingerprints of the current booking date */
	long		 grp_day;
	uint64_t	*fp, *idh;
	size_t		 nfp, capfp;

	struct qhit	*hits[WARN__COUNT];
};

struct quality {
	long		 today;
	long		 lm_first, lm_last;	/* the previous calendar month */
	long		 from, to;	/* LONG_MIN/MAX when open */
	struct qacct	*acct;
	size_t		 nacct, capacct, last;
	size_t		 ndelivered, nerrors;
	struct qhit	*conn[WARN__COUNT];
};

static char *
dupstr(const char *s)
{
	size_t	 n;
	char	*p;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* The first day of the month before today's, and its last day. */
static void
last_month(long today, long *first, long *last)
{
	int	y, m, d;

	day_to_civil(today, &y, &m, &d);
	*last = today - d;
	day_to_civil(*last, &y, &m, &d);
	*first = *last - d + 1;
}

struct quality *
quality_new(long long now)
{
	struct quality	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->today = day_from_unix(now);
	last_month(q->today, &q->lm_first, &q->lm_last);
	q->from = LONG_MIN;
	q->to = LONG_MAX;
	return q;
}

static void
hit_free(struct qhit *h)
{
	if (h != NULL)
		free(h->txn_id);
	free(h);
}

void
quality_free(struct quality *q)
{
	size_t	i;
	int	w;

	if (q == NULL)
		return;
	for (i = 0; i < q->nacct; i++) {
		struct qacct	*a = &q->acct[i];

		free(a->id);
		free(a->fp);
		free(a->idh);
		for (w = 0; w < WARN__COUNT; w++)
			hit_free(a->hits[w]);
	}
	for (w = 0; w < WARN__COUNT; w++)
		hit_free(q->conn[w]);
	free(q->acct);
	free(q);
}

enum err
quality_period(struct quality *q, const char *from, const char *to)
{
	long	f = LONG_MIN, t = LONG_MAX;

	if ((from != NULL && day_parse(from, &f) == -1) ||
	    (to != NULL && day_parse(to, &t) == -1))
		return ERR_INVALID_REQUEST;
	q->from = f;
	q->to = t;
	return ERR_OK;
}

/*
 * Records one occurrence of w in *slot; the first one's transaction and
 * detail are kept.  Returns -1 on ENOMEM.
 */
static int
hit(struct qhit **slot, const char *txn_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
hit(struct qhit **slot, const char *txn_id, const char *fmt, ...)
{
	va_list	ap;

	if (*slot == NULL) {
		if ((*slot = calloc(1, sizeof(**slot))) == NULL)
			return -1;
		if (txn_id != NULL && ((*slot)->txn_id = dupstr(txn_id)) == NULL) {
			free(*slot);
			*slot = NULL;
			return -1;
		}
		va_start(ap, fmt);
		vsnprintf((*slot)->detail, sizeof((*slot)->detail), fmt, ap);
		va_end(ap);
	}
	(*slot)->count++;
	return 0;
}

/* The account of that id, made (not delivered) when new; NULL on ENOMEM. */
static struct qacct *
acct_get(struct quality *q, const char *id, int *isnew)
{
	size_t		 i;
	struct qacct	*a;
	const char	*key = id != NULL ? id : "";

	*isnew = 0;
	if (q->last < q->nacct && strcmp(q->acct[q->last].id, key) == 0)
		return &q->acct[q->last];
	for (i = 0; i < q->nacct; i++)
		if (strcmp(q->acct[i].id, key) == 0)
			return &q->acct[q->last = i];
	if (q->nacct == QUALITY_MAX_ACCOUNTS)
		return NULL;
	if (q->nacct == q->capacct) {
		size_t		 ncap = q->capacct ? q->capacct * 2 : 8;
		struct qacct	*na = realloc(q->acct, ncap * sizeof(*na));

		if (na == NULL)
			return NULL;
		q->acct = na;
		q->capacct = ncap;
	}
	a = &q->acct[q->nacct];
	memset(a, 0, sizeof(*a));
	if ((a->id = dupstr(key)) == NULL)
		return NULL;
	a->open_day = LONG_MIN;
	a->close_day = LONG_MAX;
	a->sum_ok = 1;
	a->grp_day = LONG_MIN;
	*isnew = 1;
	q->last = q->nacct++;
	return a;
}

/*
 * Full card numbers: a token of 13-19 digits, optionally grouped by single
 * spaces or hyphens, not glued to a letter or digit, that passes Luhn.
 */
static int
luhn(const char *d, size_t n)
{
	unsigned	sum = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		unsigned	v = (unsigned)(d[n - 1 - i] - '0');

		if (i % 2 == 1 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	return sum % 10 == 0;
}

int
quality_has_pan(const char *s)
{
	size_t	i, n, digits = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	/* Most text has too few digits for a card number at all. */
	for (i = 0; i < n && digits < 13; i++)
		digits += (unsigned)(s[i] - '0') < 10;
	if (digits < 13)
		return 0;
	for (i = 0; i < n;) {
		char	d[20];
		size_t	nd = 0, j = i;

		if (!isdigit((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1]))) {
			i++;
			continue;
		}
		/* A run: digits, single separators between digits. */
		for (;;) {
			if (isdigit((unsigned char)s[j])) {
				if (nd < sizeof(d))
					d[nd] = s[j];
				nd++;
				j++;
			} else if ((s[j] == ' ' || s[j] == '-') &&
			    isdigit((unsigned char)s[j + 1]))
				j++;
			else
				break;
		}
		if (!isalpha((unsigned char)s[j]) && nd >= 13 && nd <= 19 &&
		    luhn(d, nd))
			return 1;
		i = j;
	}
	return 0;
}

int
quality_email_valid(const char *s)
{
	static const char	 atext[] = "!#$%&'*+/=?^_`{|}~-";
	const char		*at, *p, *label;
	size_t			 n;

	if (s == NULL || (n = strlen(s)) > 254 || (at = strchr(s, '@')) == NULL ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	/* Local part. */
	if (at == s || at - s > 64 || *s == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return 0;
		if (!isalnum((unsigned char)*p) && *p != '.' &&
		    strchr(atext, *p) == NULL)
			return 0;
	}
	/* Domain: labels of letters, digits and inner hyphens. */
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || *label == '-' || p[-1] == '-')
				return 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	}
	if (label == at + 1 || p - label < 2)
		return 0;
	for (p = label; *p != '\0'; p++)
		if (!isalpha((unsigned char)*p))
			return 0;
	return 1;
}

/* Whether s[0..n) has a letter (any non-ASCII byte counts) and a digit. */
static int
letter_and_digit(const char *s, size_t n)
{
	int	letter = 0, digit = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (isdigit(c))
			digit = 1;
		else if (isalpha(c) || c >= 0x80)
			letter = 1;
	}
	return letter && digit;
}

int
quality_address_complete(const char *s)
{
	size_t	n, part = 0;
	int	street = 0, town = 0;

	if (blank(s))
		return 0;
	while (*s != '\0') {
		n = strcspn(s, ",");
		if (part == 0)
			street = letter_and_digit(s, n);
		else if (letter_and_digit(s, n))
			town = 1;
		part++;
		s += n;
		if (*s == ',')
			s++;
	}
	return part >= 2 && street && town;
}

static int
currency_ok(const char *c)
{
	return currency_exponent(c) >= 0;
}

/* The key two accounts share when they are the same account. */
static void
dup_key(const struct rec_account *r, char *out, size_t n)
{
	char	norm[IBAN_MAX];

	if (!blank(r->iban) && iban_normalize(r->iban, norm) == 0)
		snprintf(out, n, "I:%s", norm);
	else if (!blank(r->iban))
		snprintf(out, n, "i:%.34s", r->iban);
	else if (!blank(r->number))
		snprintf(out, n, "N:%d:%.40s", (int)r->type, r->number);
	else
		out[0] = '\0';
}

/* Why an account's number is incomplete, or NULL when it is complete. */
static const char *
number_problem(const struct rec_account *r)
{
	const char	*p;
	size_t		 digits = 0;
	int		 masked = 0;

	if (!blank(r->iban))
		return iban_valid(r->iban) ? NULL :
		    "its IBAN is malformed or fails its check digits";
	if (blank(r->number))
		return "it has neither IBAN nor account number";
	for (p = r->number; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '*' || *p == 'X' || *p == 'x' || *p == '#' ||
		    (unsigned char)*p >= 0x80)
			masked = 1;
	}
	if (digits < 4)
		return "its number shows fewer than 4 digits";
	if (masked && r->type != ACCT_CREDIT_CARD)
		return "its number is masked although it is not a card";
	return NULL;
}

static int
has_pan_any(const char *const *fields, size_t n, const char **which,
    const char *const *names)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (quality_has_pan(fields[i])) {
			*which = names[i];
			return 1;
		}
	return 0;
}

enum err
quality_account(struct quality *q, const char *account_id,
    const struct rec_account *r)
{
	struct qacct	*a;
	const char	*why, *field;
	int		 isnew;
	size_t		 i;
	const char	*fields[] = { r->number, r->name, r->iban,
	    r->holder_name, r->holder_address, r->holder_email, r->bank_id };
	static const char *const names[] = { "number", "name", "IBAN",
	    "holder name", "holder address", "holder email", "bank id" };

	if ((a = acct_get(q, account_id, &isnew)) == NULL)
		return ERR_INTERNAL_ERROR;
	if (a->delivered) {
		/* The same account twice. */
		return hit(&a->hits[WARN_ACCOUNT_DUPLICATE], NULL,
		    "Account %s was delivered twice in one sync.", a->id) ?
		    ERR_INTERNAL_ERROR : ERR_OK;
	}
	a->delivered = 1;
	q->ndelivered++;
	a->type = r->type;
	memcpy(a->currency, r->currency, sizeof(a->currency));
	a->currency[3] = '\0';

	if (blank(r->holder_name) &&
	    hit(&a->hits[WARN_NO_HOLDER], NULL, "The account has no holder name."))
		return ERR_INTERNAL_ERROR;
	if (blank(r->holder_address)) {
		if (hit(&a->hits[WARN_NO_ADDRESS], NULL,
		    "The account holder has no address."))
			return ERR_INTERNAL_ERROR;
	} else if (!quality_address_complete(r->holder_address) &&
	    hit(&a->hits[WARN_ADDRESS_INCOMPLETE], NULL,
	    "The holder's address lacks a street with house number or a "
	    "postal code with town."))
		return ERR_INTERNAL_ERROR;
	if (blank(r->holder_email)) {
		if (hit(&a->hits[WARN_KYC_INCOMPLETE], NULL,
		    "The account holder has no email address."))
			return ERR_INTERNAL_ERROR;
	} else if (!quality_email_valid(r->holder_email) &&
	    hit(&a->hits[WARN_INVALID_EMAIL], NULL,
	    "The account holder's email address is not valid."))
		return ERR_INTERNAL_ERROR;
	if ((why = number_problem(r)) != NULL &&
	    hit(&a->hits[WARN_ACCOUNT_NUMBER_INCOMPLETE], NULL,
	    "The account number is incomplete: %s.", why))
		return ERR_INTERNAL_ERROR;
	if (has_pan_any(fields, sizeof(fields) / sizeof(fields[0]), &field,
	    names) && hit(&a->hits[WARN_PCI_NON_COMPLIANT_CARD_NUMBER], NULL,
	    "A full card number appears in the account's %s.", field))
		return ERR_INTERNAL_ERROR;

	if (!currency_ok(a->currency) &&
	    hit(&a->hits[WARN_VALIDATE_CURRENCY], NULL,
	    "The account's currency \"%.3s\" is not an ISO 4217 code.",
	    a->currency))
		return ERR_INTERNAL_ERROR;
	for (i = 0; i < r->nbalances; i++) {
		const struct rec_balance *b = &r->balances[i];
		long			  d;

		if (!currency_ok(b->currency) || strcmp(b->currency, a->currency)) {
			if (hit(&a->hits[WARN_VALIDATE_CURRENCY], NULL,
			    "The %s balance is in \"%.3s\", not in the "
			    "account's currency %.3s.", bal_type_name(b->type),
			    b->currency, a->currency))
				return ERR_INTERNAL_ERROR;
			continue;
		}
		if (b->type != BAL_CREDIT_LIMIT && b->amount != 0)
			a->money_on_it = 1;
		if (b->type == BAL_OPENING_BOOKED && !a->has_open) {
			a->has_open = 1;
			a->open = b->amount;
			if (day_parse(b->date, &d) == 0)
				a->open_day = d;
		} else if (b->type == BAL_BOOKED && !a->has_close) {
			a->has_close = 1;
			a->close = b->amount;
			if (day_parse(b->date, &d) == 0)
				a->close_day = d;
		}
	}

	dup_key(r, a->dupkey, sizeof(a->dupkey));
	if (a->dupkey[0] != '\0')
		for (i = 0; i < q->nacct; i++) {
			struct qacct	*o = &q->acct[i];

			if (o != a && o->delivered &&
			    strcmp(o->dupkey, a->dupkey) == 0)
				return hit(&a->hits[WARN_ACCOUNT_DUPLICATE],
				    NULL, "The account has the same %s as "
				    "account %s.", a->dupkey[0] == 'N' ?
				    "number" : "IBAN", o->id) ?
				    ERR_INTERNAL_ERROR : ERR_OK;
		}
	return ERR_OK;
}

enum err
quality_account_error(struct quality *q, const char *account_id, enum err code)
{
	struct qacct	*a;
	int		 isnew;

	(void)code;
	q->nerrors++;
	if (account_id == NULL)
		return ERR_OK;
	if ((a = acct_get(q, account_id, &isnew)) == NULL)
		return ERR_INTERNAL_ERROR;
	a->errored = 1;
	return ERR_OK;
}

void
quality_mfa_after_authorization(struct quality *q)
{
	if (q->conn[WARN_MFA_AFTER_AUTHORIZATION] == NULL)
		(void)hit(&q->conn[WARN_MFA_AFTER_AUTHORIZATION], NULL,
		    "The bank asked for another MFA step after the connection "
		    "was authorized.");
}

/* FNV-1a, 64 bits, over fields separated so "ab","c" != "a","bc". */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	static const unsigned char	absent = 0xff, sep = 0;

	if (s == NULL)
		return fnv(h, &absent, 1);
	return fnv(fnv(h, s, strlen(s)), &sep, 1);
}

static uint64_t
txn_fingerprint(const struct rec_txn *t)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	int		st = (int)t->status;

	h = fnv(h, &st, sizeof(st));
	h = fnv_str(h, t->booking_date);
	h = fnv_str(h, t->value_date);
	h = fnv(h, &t->amount, sizeof(t->amount));
	h = fnv_str(h, t->currency);
	h = fnv_str(h, t->cp_name);
	h = fnv_str(h, t->cp_iban);
	h = fnv_str(h, t->description);
	h = fnv_str(h, t->bank_transaction_code);
	h = fnv_str(h, t->bank_reference);
	return fnv_str(h, t->end_to_end_id);
}

/*
 * TransactionDuplicate among the transactions of the current booking date:
 * 1 when t's content was seen under another bank id, -1 on ENOMEM.
 */
static int
dup_seen(struct qacct *a, long day, const struct rec_txn *t)
{
	uint64_t	fp = txn_fingerprint(t);
	uint64_t	idh = t->bank_id != NULL ?
	    fnv_str(0xcbf29ce484222325ULL, t->bank_id) : 0;
	size_t		i;

	if (day != a->grp_day) {
		a->grp_day = day;
		a->nfp = 0;
	}
	for (i = 0; i < a->nfp; i++)
		if (a->fp[i] == fp && (idh == 0 || a->idh[i] != idh))
			return 1;
	if (a->nfp == QUALITY_DAY_TXNS)
		return 0;
	if (a->nfp == a->capfp) {
		size_t		 ncap = a->capfp ? a->capfp * 2 : 64;
		uint64_t	*nf, *ni;

		if ((nf = realloc(a->fp, ncap * sizeof(*nf))) == NULL)
			return -1;
		a->fp = nf;
		if ((ni = realloc(a->idh, ncap * sizeof(*ni))) == NULL)
			return -1;
		a->idh = ni;
		a->capfp = ncap;
	}
	a->fp[a->nfp] = fp;
	a->idh[a->nfp++] = idh;
	return 0;
}

enum err
quality_txn(struct quality *q, const char *account_id, const char *txn_id,
    const struct rec_txn *t)
{
	struct qacct	*a;
	long		 day = LONG_MIN, d;
	int		 isnew, rc, booked = t->status == TXN_BOOKED;
	const char	*fields[] = { t->cp_name, t->cp_iban, t->description,
	    t->bank_reference, t->end_to_end_id, t->bank_id,
	    t->pending_bank_id };
	static const char *const names[] = { "counterparty name",
	    "counterparty IBAN", "description", "bank reference",
	    "end-to-end id", "bank id", "pending bank id" };
	const char	*field;

	if ((a = acct_get(q, account_id, &isnew)) == NULL)
		return ERR_INTERNAL_ERROR;
	if (day_parse(t->booking_date, &d) == 0)
		day = d;
	else if (!booked && day_parse(t->value_date, &d) == 0)
		day = d;

	if (!a->delivered || a->errored) {
		return hit(&a->hits[WARN_TRANSACTIONS_MISCONFIGURED], txn_id,
		    "Transactions arrived for an account the sync %s.",
		    a->errored ? "reported as an account error" :
		    "did not deliver") ? ERR_INTERNAL_ERROR : ERR_OK;
	}
	a->ntxn++;

	if (t->currency[0] == '\0' || day == LONG_MIN ||
	    (blank(t->description) && blank(t->cp_name))) {
		if (hit(&a->hits[WARN_TRANSACTION_INCOMPLETE], txn_id,
		    "A transaction has no %s.", t->currency[0] == '\0' ?
		    "currency" : day == LONG_MIN ? "date" :
		    "description and no counterparty"))
			return ERR_INTERNAL_ERROR;
	}
	if (t->currency[0] != '\0' &&
	    (!currency_ok(t->currency) || strcmp(t->currency, a->currency))) {
		if (hit(&a->hits[WARN_VALIDATE_CURRENCY], txn_id,
		    "A transaction is in \"%.3s\", not in the account's "
		    "currency %.3s.", t->currency, a->currency))
			return ERR_INTERNAL_ERROR;
		a->sum_ok = 0;
	}
	if (has_pan_any(fields, sizeof(fields) / sizeof(fields[0]), &field,
	    names) && hit(&a->hits[WARN_PCI_NON_COMPLIANT_CARD_NUMBER], txn_id,
	    "A full card number appears in a transaction's %s.", field))
		return ERR_INTERNAL_ERROR;
	if (day == LONG_MIN)
		return ERR_OK;

	if (day < q->from || day > q->to) {
		char	ds[DAY_STRLEN];

		day_format(day, ds);
		if (hit(&a->hits[WARN_TRANSACTIONS_MISCONFIGURED], txn_id,
		    "A transaction dated %s lies outside the requested "
		    "period.", ds))
			return ERR_INTERNAL_ERROR;
	}

	if (day >= q->lm_first && day <= q->lm_last)
		a->seen_last_month = 1;
	if (day >= q->today - 14)
		a->seen_last15 = 1;

	if (booked) {
		if (a->have_prev && day != a->prev_day) {
			int	dir = day > a->prev_day ? 1 : -1;

			if (a->dir == 0)
				a->dir = dir;
			else if (dir != a->dir && hit(
			    &a->hits[WARN_TRANSACTIONS_WRONG_ORDER], txn_id,
			    "Booked transactions are not sorted by booking "
			    "date: this one comes after a %s one.",
			    a->dir > 0 ? "later" : "earlier"))
				return ERR_INTERNAL_ERROR;
		}
		a->have_prev = 1;
		a->prev_day = day;
		if (a->sum_ok && day >= a->open_day && day <= a->close_day) {
			if (__builtin_add_overflow(a->sum, t->amount, &a->sum))
				a->sum_ok = 0;
			a->nsummed++;
		}
	}

	if ((rc = dup_seen(a, day, t)) == -1)
		return ERR_INTERNAL_ERROR;
	if (rc == 1 && hit(&a->hits[WARN_TRANSACTION_DUPLICATE], txn_id,
	    "A transaction repeats the content of another one of the same "
	    "day under a different id."))
		return ERR_INTERNAL_ERROR;
	return ERR_OK;
}

/* The account checks that need all of an account's transactions. */
static int
finish_account(struct quality *q, struct qacct *a)
{
	int	covers15 = q->from <= q->today - 14 && q->to >= q->today;

	if (!a->delivered)
		return 0;
	if (a->ntxn == 0) {
		if (covers15 && hit(a->money_on_it ?
		    &a->hits[WARN_NO_TRANSACTIONS] :
		    &a->hits[WARN_TRANSACTION_NULL], NULL, a->money_on_it ?
		    "The account holds money but the period shows no "
		    "transaction." : "The account has no transaction and "
		    "no money on it."))
			return -1;
	} else {
		if (q->from <= q->lm_first && q->to >= q->lm_last &&
		    !a->seen_last_month && hit(
		    &a->hits[WARN_NO_LAST_MONTH_TRANSACTION], NULL,
		    "The account has no transaction in the previous calendar "
		    "month."))
			return -1;
		if (covers15 && !a->seen_last15 && hit(
		    &a->hits[WARN_NO_LAST15_DAYS_TRANSACTION], NULL,
		    "The account has no transaction in the last 15 days."))
			return -1;
	}
	if (a->has_open && a->has_close && a->sum_ok) {
		int64_t	expect;
		int	e = currency_exponent(a->currency);

		if (!__builtin_add_overflow(a->open, a->sum, &expect) &&
		    expect != a->close && e >= 0) {
			char	o[MONEY_STRLEN], s[MONEY_STRLEN];
			char	x[MONEY_STRLEN], c[MONEY_STRLEN];

			money_format(a->open, e, o);
			money_format(a->sum, e, s);
			money_format(expect, e, x);
			money_format(a->close, e, c);
			if (hit(&a->hits[WARN_BALANCE_MISMATCH], NULL,
			    "Opening balance %s %.3s plus %zu booked "
			    "transactions (%s) makes %s, but the booked "
			    "balance is %s.", o, a->currency, a->nsummed, s,
			    x, c))
				return -1;
		}
	}
	return 0;
}

static void
emit(const struct qhit *h, enum warn w, const char *account_id,
    quality_cb cb, void *arg)
{
	char	detail[QUALITY_DETAIL_MAX + 64];

	if (h->count > 1)
		snprintf(detail, sizeof(detail), "%s (%zu occurrences; the "
		    "first is named.)", h->detail, h->count);
	else
		snprintf(detail, sizeof(detail), "%s", h->detail);
	cb(arg, warn_name(w), account_id, h->txn_id, detail);
}

size_t
quality_finish(struct quality *q, quality_cb cb, void *arg)
{
	size_t	i, n = 0;
	int	w, operations = 0;

	for (i = 0; i < q->nacct; i++) {
		struct qacct	*a = &q->acct[i];

		if (a->delivered && (a->type == ACCT_CHECKING ||
		    a->type == ACCT_OTHER))
			operations = 1;
		(void)finish_account(q, a);
	}
	if (q->ndelivered == 0 && q->nerrors == 0)
		(void)hit(&q->conn[WARN_NO_ACCOUNTS], NULL,
		    "The bank listed no account.");
	if (q->ndelivered > 0 && !operations)
		(void)hit(&q->conn[WARN_MISSING_OPERATION_ACCOUNTS], NULL,
		    "None of the accounts is a checking account.");

	for (w = 0; w < WARN__COUNT; w++)
		if (q->conn[w] != NULL) {
			emit(q->conn[w], (enum warn)w, NULL, cb, arg);
			n++;
		}
	for (i = 0; i < q->nacct; i++)
		for (w = 0; w < WARN__COUNT; w++)
			if (q->acct[i].hits[w] != NULL) {
				emit(q->acct[i].hits[w], (enum warn)w,
				    q->acct[i].id, cb, arg);
				n++;
			}
	return n;
}
