/*
 * bankfeed sandbox-bank, the Sandbox Bank over Berlin Group XS2A, driven
 * over loopback HTTP as an XS2A connector would: consents, embedded,
 * decoupled and redirect SCA (the redirect page submitted like a
 * browser), accounts, balances, transactions page by page, and the
 * answer of every catalog entry a bank causes.  The data must be the
 * built-in Sandbox Bank's, the same transaction ids included.
 *
 * Then the same flows again through Prism (tests/prism, @stoplight/
 * prism-cli in proxy mode on the official NextGenPSD2 1.3.11 file), which
 * checks every request and answer against the spec: no violation is
 * allowed but the spec's own oneOf defect (spec_defect()).  Without node
 * or tests/prism/node_modules those checks are skipped with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "harness.h"

#include "banks/connector.h"
#include "banks/sandbox.h"
#include "banks/sandbox_int.h"
#include "banks/xs2a_codes.h"
#include "core/day.h"
#include "core/errors.h"
#include "core/money.h"

#define SLOW_MS		400
#define UNATTENDED	"-unattended"	/* xr(): send no PSU-IP-Address */
#define SPEC		BANKFEED_CORPUS_DIR "/xs2a/psd2-api_v1.3.11-2021-10-01v1.yaml"
#define PRISM_DIR	BF_SOURCE_DIR "/tests/prism"

static struct srv	bank;		/* bankfeed sandbox-bank */
static struct srv	prism;		/* Prism in front of it */
static pid_t		prism_pid;
static int		prism_ok;	/* up and answering */
static char		prism_log[300];
static int		defects;	/* the spec's oneOf defect, seen */
/* The next answer is a gateway's HTML page, a deliberate spec violation. */
static int		html_expected;

/* ---- requests ---- */

/*
 * The spec's own defect (psd2-api 1.3.11): the bodies of POST and PUT
 * /v1/consents/{consentId}/authorisations[/{authorisationId}] and the
 * answer of that PUT are a oneOf whose members do not exclude each other
 * (the first is {}; four answers need only scaStatus), so every embedded
 * step is "more than one member matches" to a validator.  Prism says
 * "oneOf", and for requests the "required" of the members that do not
 * match; nothing else passes here.
 */
static int
spec_defect(const char *method, const char *path, json_t *v)
{
	static const char *const members[] = { "'psuData'",
	    "'authenticationMethodId'", "'scaAuthenticationData'",
	    "'confirmationCode'", NULL };
	json_t		*loc = json_object_get(v, "location");
	const char	*code = json_string_value(json_object_get(v, "code"));
	const char	*msg = json_string_value(json_object_get(v, "message"));
	const char	*side = json_string_value(json_array_get(loc, 0));
	const char	*part = json_string_value(json_array_get(loc, 1));
	size_t		 i;

	if (strstr(path, "/authorisations") == NULL || code == NULL ||
	    side == NULL || part == NULL || strcmp(part, "body") != 0 ||
	    json_array_size(loc) != 2 || (strcmp(method, "PUT") != 0 &&
	    strcmp(method, "POST") != 0))
		return 0;
	if (strcmp(code, "oneOf") == 0)
		return 1;
	for (i = 0; strcmp(side, "request") == 0 && strcmp(code, "required") ==
	    0 && msg != NULL && members[i] != NULL; i++)
		if (strstr(msg, members[i]) != NULL)
			return 1;
	return 0;
}

/* An answer through Prism: no violation of the spec in it. */
static void
no_violations(const char *method, const char *path, struct res *r)
{
	char	*h = res_header(r, "sl-violations");
	json_t	*v, *e;
	size_t	 i;

	if (h == NULL)
		return;
	if (html_expected) {
		/* The gateway's HTML page breaks the spec on purpose. */
		free(h);
		return;
	}
	v = json_loads(h, 0, NULL);
	assert_non_null(v);
	json_array_foreach(v, i, e) {
		if (spec_defect(method, path, e)) {
			defects++;
			continue;
		}
		fprintf(stderr, "Prism: %s %s (%ld) violates the spec: %s\n",
		    method, path, r->status, h);
		fail();
	}
	json_decref(v);
	free(h);
}

/*
 * One XS2A request: a fresh X-Request-ID, the Consent-ID when given,
 * PSU-IP-Address unless extra names UNATTENDED, extra headers, a JSON body.
 */
static void
xr(struct srv *s, const char *method, const char *path, const char *consent,
    const char *const *extra, const char *body, struct res *r)
{
	static unsigned		 seq;
	const char		*h[16];
	const char *const	*e;
	char			 rid[64], cid[128];
	size_t			 n = 0;
	int			 attended = 1;

	snprintf(rid, sizeof(rid), "X-Request-ID: 3f2504e0-4f89-41d3-9a0c-%012x",
	    ++seq);
	h[n++] = rid;
	if (consent != NULL) {
		snprintf(cid, sizeof(cid), "Consent-ID: %s", consent);
		h[n++] = cid;
	}
	for (e = extra; e != NULL && *e != NULL && n < 13; e++)
		if (strcmp(*e, UNATTENDED) == 0)
			attended = 0;
		else
			h[n++] = *e;
	if (attended)
		h[n++] = "PSU-IP-Address: 192.168.0.10";
	h[n] = NULL;
	assert_int_equal(req(s, method, path, NULL, h, body,
	    body != NULL ? strlen(body) : 0, r), 0);
	if (s == &prism)
		no_violations(method, path, r);
	/* The X-Request-ID comes back. */
	if (r->status != 0) {
		char	*echo = res_header(r, "X-Request-ID");

		assert_non_null(echo);
		assert_string_equal(echo, rid + strlen("X-Request-ID: "));
		free(echo);
	}
}

/* The tppMessages answer of an error. */
static void
assert_tpp(struct res *r, long status, const char *code)
{
	if (r->status != status || r->json == NULL ||
	    jstr(r->json, "tppMessages.0.code") == NULL ||
	    strcmp(jstr(r->json, "tppMessages.0.code"), code) != 0) {
		fprintf(stderr, "want %ld %s, got %ld: %.1000s\n", status, code,
		    r->status, r->body != NULL ? r->body : "");
		fail();
	}
	assert_string_equal(jstr(r->json, "tppMessages.0.category"), "ERROR");
}

/* A request the bank refuses with that status and tppMessages code. */
static void
refused(struct srv *s, const char *method, const char *path,
    const char *consent, const char *const *extra, const char *body,
    long status, const char *code)
{
	struct res	r;

	xr(s, method, path, consent, extra, body, &r);
	assert_tpp(&r, status, code);
	res_free(&r);
}

static void
assert_header(struct res *r, const char *name, const char *want)
{
	char	*v = res_header(r, name);

	if (v == NULL || strcmp(v, want) != 0)
		fail_msg("header %s: %s, want %s", name, v ? v : "none", want);
	free(v);
}

/* A consent's body: allPsd2 until a day, combined or not. */
#define BODY_UNTIL(until, combined) "{\"access\":{\"allPsd2\":" \
	"\"allAccounts\"},\"recurringIndicator\":true,\"validUntil\":\"" \
	until "\",\"frequencyPerDay\":4,\"combinedServiceIndicator\":" \
	combined "}"
#define BODY_ALL	BODY_UNTIL("9999-12-31", "false")

/* Creates a consent (body NULL: allPsd2) for user; 201 expected. */
static void
consent(struct srv *s, const char *user, const char *body,
    const char *const *extra, char cid[64], struct res *r)
{
	const char	*h[8];
	char		 psu[128];
	size_t		 n = 0;

	snprintf(psu, sizeof(psu), "PSU-ID: %s", user);
	if (user != NULL)
		h[n++] = psu;
	for (; extra != NULL && *extra != NULL && n < 7; extra++)
		h[n++] = *extra;
	h[n] = NULL;
	xr(s, "POST", "/v1/consents", NULL, h, body != NULL ? body : BODY_ALL,
	    r);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "consentStatus"), "received");
	snprintf(cid, 64, "%s", jstr(r->json, "consentId"));
}

static void
get_status(struct srv *s, const char *cid, const char *want)
{
	struct res	r;
	char		path[160];

	snprintf(path, sizeof(path), "/v1/consents/%s/status", cid);
	xr(s, "GET", path, NULL, NULL, NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "consentStatus"), want);
	res_free(&r);
}

enum phase { PH_LOGIN, PH_CHALLENGE, PH_DONE };

/*
 * The embedded approach to its end, answering as the PSU who knows the
 * sandbox's answers: PSU-ID and password, the first SCA method offered,
 * "blue" to a question and 123456 to a TAN.  Returns where it ended;
 * *fail holds the failing answer (else is empty).
 */
static enum phase
embedded(struct srv *s, const char *user, char cid[64], struct res *fail)
{
	struct res	r;
	char		path[200], aid[64], body[128];
	const char	*sca, *type;
	int		i;

	memset(fail, 0, sizeof(*fail));
	consent(s, user, NULL, NULL, cid, &r);
	assert_non_null(jget(r.json,
	    "_links.startAuthorisationWithPsuAuthentication"));
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{\"psuData\":{\"password\":"
	    "\"pass_good\"}}", &r);
	if (r.status != 201) {
		*fail = r;
		return PH_LOGIN;
	}
	snprintf(aid, sizeof(aid), "%s", jstr(r.json, "authorisationId"));
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations/%s", cid,
	    aid);
	for (i = 0; i < 8; i++) {
		sca = jstr(r.json, "scaStatus");
		assert_non_null(sca);
		if (strcmp(sca, "finalised") == 0) {
			res_free(&r);
			get_status(s, cid, "valid");
			return PH_DONE;
		}
		if (strcmp(sca, "psuAuthenticated") == 0) {
			assert_non_null(jget(r.json,
			    "_links.selectAuthenticationMethod"));
			snprintf(body, sizeof(body), "{\"authenticationMethodId\":"
			    "\"%s\"}", jstr(r.json,
			    "scaMethods.0.authenticationMethodId"));
		} else {
			assert_string_equal(sca, "scaMethodSelected");
			assert_non_null(jget(r.json, "_links.authoriseTransaction"));
			assert_non_null(jstr(r.json,
			    "challengeData.additionalInformation"));
			type = jstr(r.json, "chosenScaMethod.authenticationType");
			snprintf(body, sizeof(body), "{\"scaAuthenticationData\":"
			    "\"%s\"}", strcmp(type, "SECURITY_QUESTION") == 0 ?
			    "blue" : "123456");
		}
		res_free(&r);
		xr(s, "PUT", path, NULL, NULL, body, &r);
		if (r.status != 200) {
			*fail = r;
			return PH_CHALLENGE;
		}
	}
	fail_msg("the authorisation of %s did not end", user);
	return PH_LOGIN;
}

/* An authorised allPsd2 consent of user (embedded). */
static void
authorised(struct srv *s, const char *user, char cid[64])
{
	struct res	f;

	assert_int_equal(embedded(s, user, cid, &f), PH_DONE);
}

/* The n-th account of the list: its resourceId into id. */
static void
account_id(struct srv *s, const char *cid, size_t n, char id[64])
{
	struct res	r;
	char		k[64];

	xr(s, "GET", "/v1/accounts", cid, NULL, NULL, &r);
	assert_status(&r, 200);
	snprintf(k, sizeof(k), "accounts.%zu.resourceId", n);
	assert_non_null(jstr(r.json, k));
	snprintf(id, 64, "%s", jstr(r.json, k));
	res_free(&r);
}

/* The path part of an absolute URL (after scheme and host). */
static const char *
path_of(const char *url)
{
	const char	*p = strstr(url, "://");

	assert_non_null(p);
	p = strchr(p + 3, '/');
	assert_non_null(p);
	return p;
}

/* ---- the built-in connector, for the same data ---- */

struct seen {
	json_t	*accounts;	/* bank id -> {iban, number, holder, balances} */
	json_t	*txns;		/* bank id -> [ "id amount status date pending" ] */
};

static int
on_acc(void *arg, const struct rec_account *a)
{
	struct seen	*s = arg;
	json_t		*b = json_object();
	char		 amt[MONEY_STRLEN];
	size_t		 i;

	for (i = 0; i < a->nbalances; i++) {
		money_format(a->balances[i].amount, 2, amt);
		json_object_set_new(b, bal_type_name(a->balances[i].type),
		    json_string(amt));
	}
	json_object_set_new(s->accounts, a->bank_id, json_pack("{s:s?,s:s?,"
	    "s:s?,s:o}", "iban", a->iban, "number", a->number, "holder",
	    a->holder_name, "balances", b));
	json_object_set_new(s->txns, a->bank_id, json_array());
	return 0;
}

static int
on_acc_err(void *arg, const char *id, const struct bank_error *e)
{
	(void)arg;
	(void)id;
	(void)e;
	return 0;
}

static void
txn_line(char *out, size_t n, const char *id, const char *amount,
    const char *status, const char *date, const char *pending)
{
	snprintf(out, n, "%s %s %s %s %s", id, amount, status, date,
	    pending != NULL ? pending : "-");
}

static int
on_tx(void *arg, const char *acc, const struct rec_txn *t)
{
	struct seen	*s = arg;
	char		 amt[MONEY_STRLEN], line[256];

	money_format(t->amount, 2, amt);
	txn_line(line, sizeof(line), t->bank_id, amt, t->status == TXN_BOOKED ?
	    "booked" : "pending", t->booking_date, t->pending_bank_id);
	json_array_append_new(json_object_get(s->txns, acc), json_string(line));
	return 0;
}

/* user's accounts and transactions through sandbox_connector itself. */
static void
builtin(const char *user, struct seen *s)
{
	struct bank_ctx		 ctx = { .institution_id = "sandbox" };
	struct bank_secret	 sec = { user, SANDBOX_PASSWORD };
	struct bank_sink	 sink = { s, on_acc, on_acc_err, on_tx };
	struct bank_fetch_req	 fr = { NULL, NULL, NULL, NULL, 0 };
	struct bank_fetch_result res;
	struct bank_auth	 a;
	struct bank_op		*op;

	ctx.now = srv_bank_now();
	s->accounts = json_object();
	s->txns = json_object();
	bank_auth_init(&a);
	op = sandbox_connector.login(&ctx, &sec, &a);
	bank_run_blocking(&sandbox_connector, op);
	sandbox_connector.op_free(op);
	assert_int_equal(a.outcome, BANK_AUTHORIZED);
	bank_fetch_result_init(&res);
	op = sandbox_connector.fetch(&ctx, buf_str(&a.state), &fr, &sink, &res);
	bank_run_blocking(&sandbox_connector, op);
	sandbox_connector.op_free(op);
	assert_int_equal(res.error.code, ERR_OK);
	bank_fetch_result_free(&res);
	bank_auth_free(&a);
}

/* Every transaction of an account over XS2A, following _links.next. */
static json_t *
xs2a_txns(struct srv *s, const char *cid, const char *id, json_t **balances)
{
	json_t		*out = json_array(), *t;
	struct res	 r;
	char		 path[600], line[256];
	const char	*next;
	size_t		 i, pages = 0;
	int		 k;

	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
	    "bookingStatus=both&withBalance=true&itemsPerPage=40", id);
	for (;;) {
		xr(s, "GET", path, cid, NULL, NULL, &r);
		assert_status(&r, 200);
		assert_non_null(jget(r.json, "transactions._links.account"));
		if (pages++ == 0)
			*balances = json_incref(jget(r.json, "balances"));
		for (k = 0; k < 2; k++)
			json_array_foreach(jget(r.json, k == 0 ?
			    "transactions.booked" : "transactions.pending"), i, t) {
				txn_line(line, sizeof(line), jstr(t,
				    "transactionId"), jstr(t,
				    "transactionAmount.amount"), k == 0 ?
				    "booked" : "pending", jstr(t, "bookingDate"),
				    jstr(t, "pendingTransactionId"));
				json_array_append_new(out, json_string(line));
			}
		next = jstr(r.json, "transactions._links.next.href");
		if (next == NULL) {
			res_free(&r);
			break;
		}
		assert_true(json_array_size(jget(r.json,
		    "transactions.booked")) + json_array_size(jget(r.json,
		    "transactions.pending")) == 40);
		snprintf(path, sizeof(path), "%s", next);
		res_free(&r);
	}
	assert_true(pages > 1);
	return out;
}

static const char *
balance_amount(json_t *list, const char *type)
{
	json_t	*b;
	size_t	 i;

	json_array_foreach(list, i, b)
		if (strcmp(jstr(b, "balanceType"), type) == 0)
			return jstr(b, "balanceAmount.amount");
	fail_msg("no %s balance", type);
	return NULL;
}

/*
 * user_good over XS2A: the accounts, balances and transactions (ids,
 * amounts, status, dates, the pending ids of booked ones) of the
 * built-in connector, page by page.
 */
static void
flow_same_data(struct srv *s)
{
	struct seen	 b;
	struct res	 r;
	char		 cid[64];
	json_t		*acc, *bal = NULL, *mine;
	const char	*id;
	size_t		 i;

	builtin("user_good", &b);
	authorised(s, "user_good", cid);
	xr(s, "GET", "/v1/accounts?withBalance=true", cid, NULL, NULL, &r);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "accounts")),
	    json_object_size(b.accounts));
	json_array_foreach(jget(r.json, "accounts"), i, acc) {
		json_t	*want;

		id = jstr(acc, "resourceId");
		want = json_object_get(b.accounts, id);
		assert_non_null(want);
		if (jstr(want, "iban") != NULL)
			assert_string_equal(jstr(acc, "iban"), jstr(want, "iban"));
		else
			assert_string_equal(jstr(acc, "maskedPan"),
			    jstr(want, "number"));
		assert_string_equal(jstr(acc, "ownerName"), jstr(want, "holder"));
		assert_string_equal(balance_amount(jget(acc, "balances"),
		    "closingBooked"), jstr(want, "balances.booked"));
		assert_string_equal(balance_amount(jget(acc, "balances"),
		    "interimAvailable"), jstr(want, "balances.available"));
		if (jstr(want, "balances.credit_limit") != NULL)
			assert_string_equal(jstr(acc, "creditLimit.amount"),
			    jstr(want, "balances.credit_limit"));
		mine = xs2a_txns(s, cid, id, &bal);
		if (!json_equal(mine, json_object_get(b.txns, id))) {
			char *x = json_dumps(mine, 0), *y = json_dumps(
			    json_object_get(b.txns, id), 0);

			fprintf(stderr, "%s over XS2A: %.2000s\nbuilt in: "
			    "%.2000s\n", id, x, y);
			free(x);
			free(y);
			fail();
		}
		/* The period's balances: opening + transactions = closing. */
		assert_string_equal(balance_amount(bal, "openingBooked"),
		    jstr(want, "balances.opening_booked"));
		assert_string_equal(balance_amount(bal, "closingBooked"),
		    jstr(want, "balances.booked"));
		json_decref(bal);
		json_decref(mine);
	}
	res_free(&r);
	json_decref(b.accounts);
	json_decref(b.txns);
}

/* ---- flows ---- */

/* Method choice, a wrong method, a wrong TAN, then the right one. */
static void
flow_embedded_choice(struct srv *s)
{
	struct res	r;
	char		cid[64], path[200];

	consent(s, "user_mfa_choice", NULL, NULL, cid, &r);
	assert_header(&r, "ASPSP-SCA-Approach", "EMBEDDED");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{\"psuData\":{\"password\":"
	    "\"pass_good\"}}", &r);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "scaStatus"), "psuAuthenticated");
	assert_int_equal(json_array_size(jget(r.json, "scaMethods")), 3);
	assert_string_equal(jstr(r.json, "scaMethods.1.authenticationType"),
	    "PUSH_OTP");
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations/%s", cid,
	    jstr(r.json, "authorisationId"));
	res_free(&r);
	xr(s, "PUT", path, NULL, NULL, "{\"authenticationMethodId\":\"fax\"}",
	    &r);
	assert_tpp(&r, 400, "SCA_METHOD_UNKNOWN");
	res_free(&r);
	xr(s, "PUT", path, NULL, NULL, "{\"authenticationMethodId\":\"push\"}",
	    &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "scaStatus"), "scaMethodSelected");
	assert_string_equal(jstr(r.json, "chosenScaMethod.authenticationMethodId"),
	    "push");
	assert_int_equal(jint(r.json, "challengeData.otpMaxLength"), 6);
	res_free(&r);
	xr(s, "PUT", path, NULL, NULL, "{\"scaAuthenticationData\":\"654321\"}",
	    &r);
	assert_tpp(&r, 401, "PSU_CREDENTIALS_INVALID");
	assert_string_equal(jstr(r.json, "tppMessages.0.text"),
	    sb_message(ERR_INVALID_TAN));
	res_free(&r);
	xr(s, "GET", path, NULL, NULL, NULL, &r);
	assert_string_equal(jstr(r.json, "scaStatus"), "failed");
	res_free(&r);
	get_status(s, cid, "rejected");
	/* A finished authorisation takes no more data. */
	xr(s, "PUT", path, NULL, NULL, "{\"scaAuthenticationData\":\"123456\"}",
	    &r);
	assert_tpp(&r, 409, "STATUS_INVALID");
	res_free(&r);
	authorised(s, "user_mfa_choice", cid);
}

/* Three questions, one at a time: each its own method (its key). */
static void
flow_embedded_questions(struct srv *s)
{
	static const char *const keys[] = { "sq_car_colour",
	    "sq_favourite_colour", "sq_sky_colour" };
	struct res	r;
	char		cid[64], path[200];
	size_t		i;

	consent(s, "user_mfa_questions", NULL, NULL, cid, &r);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{\"psuData\":{\"password\":"
	    "\"pass_good\"}}", &r);
	assert_status(&r, 201);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations/%s", cid,
	    jstr(r.json, "authorisationId"));
	for (i = 0; i < 3; i++) {
		assert_string_equal(jstr(r.json, "scaStatus"),
		    "scaMethodSelected");
		assert_string_equal(jstr(r.json,
		    "chosenScaMethod.authenticationType"), "SECURITY_QUESTION");
		assert_string_equal(jstr(r.json,
		    "chosenScaMethod.authenticationMethodId"), keys[i]);
		res_free(&r);
		xr(s, "PUT", path, NULL, NULL, "{\"scaAuthenticationData\":"
		    "\"Blue\"}", &r);
		assert_status(&r, 200);
	}
	assert_string_equal(jstr(r.json, "scaStatus"), "finalised");
	res_free(&r);
	get_status(s, cid, "valid");
}

/* The app confirms at the 3rd status request; then the data reads. */
static void
flow_decoupled(struct srv *s)
{
	const char *const pref[] = { "TPP-Decoupled-Preferred: true", NULL };
	struct res	r;
	char		cid[64], path[200], id[64];
	int		i;

	consent(s, "user_sca_decoupled", NULL, NULL, cid, &r);
	assert_header(&r, "ASPSP-SCA-Approach", "DECOUPLED");
	assert_non_null(jget(r.json, "_links.startAuthorisation"));
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{}", &r);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "scaStatus"), "started");
	assert_non_null(jstr(r.json, "psuMessage"));
	snprintf(path, sizeof(path), "%s", jstr(r.json, "_links.scaStatus.href"));
	res_free(&r);
	for (i = 1; i <= 3; i++) {
		xr(s, "GET", path, NULL, NULL, NULL, &r);
		assert_status(&r, 200);
		assert_string_equal(jstr(r.json, "scaStatus"), i < 3 ?
		    "started" : "finalised");
		res_free(&r);
	}
	get_status(s, cid, "valid");
	account_id(s, cid, 0, id);
	/* Any user by the TPP's preference; one failing at the challenge
	 * fails in the app, its words in psuMessage. */
	consent(s, "user_invalid_tan", NULL, pref, cid, &r);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{}", &r);
	assert_status(&r, 201);
	snprintf(path, sizeof(path), "%s", jstr(r.json, "_links.scaStatus.href"));
	res_free(&r);
	for (i = 1; i <= 3; i++) {
		xr(s, "GET", path, NULL, NULL, NULL, &r);
		res_free(&r);
	}
	xr(s, "GET", path, NULL, NULL, NULL, &r);
	assert_string_equal(jstr(r.json, "scaStatus"), "failed");
	assert_string_equal(jstr(r.json, "psuMessage"),
	    sb_message(ERR_INVALID_TAN));
	res_free(&r);
	get_status(s, cid, "rejected");
}

/* The form of the redirect page, posted as a browser does. */
static void
page_post(const char *form, struct res *r)
{
	const char *const h[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL };

	assert_int_equal(req(&bank, "POST", "/sandbox/authorise", NULL, h,
	    form, strlen(form), r), 0);
}

/* The form posted, the bank sends the browser back to the TPP at want. */
static void
page_back_to(const char *form, const char *want)
{
	struct res	r;

	page_post(form, &r);
	assert_status(&r, 302);
	assert_header(&r, "Location", want);
	res_free(&r);
}

/*
 * Redirect: the bank's page (login, then the TAN) sends the browser back
 * to TPP-Redirect-URI; cancelling goes to TPP-Nok-Redirect-URI.
 */
static void
flow_redirect(struct srv *s)
{
	const char *const hdr[] = {
	    "TPP-Redirect-URI: https://tpp.example/cb?state=s3cr3t-state",
	    "TPP-Nok-Redirect-URI: https://tpp.example/nok?state=s3cr3t-state",
	    NULL };
	struct res	r;
	char		cid[64], aid[64], url[300], sta[200], form[300], bankurl[64];

	consent(s, "user_sca_redirect", NULL, hdr, cid, &r);
	assert_header(&r, "ASPSP-SCA-Approach", "REDIRECT");
	assert_string_equal(jstr(r.json, "scaStatus"), "received");
	snprintf(url, sizeof(url), "%s", jstr(r.json, "_links.scaRedirect.href"));
	snprintf(sta, sizeof(sta), "%s", jstr(r.json, "_links.scaStatus.href"));
	res_free(&r);
	/* The page is the bank's own, wherever the TPP's request went. */
	snprintf(bankurl, sizeof(bankurl), "http://127.0.0.1:%d/", bank.port);
	assert_memory_equal(url, bankurl, strlen(bankurl));
	snprintf(aid, sizeof(aid), "%s", strrchr(url, '=') + 1);
	assert_int_equal(req(&bank, "GET", path_of(url), NULL, NULL, NULL, 0,
	    &r), 0);
	assert_status(&r, 200);
	assert_non_null(strstr(r.body, "<form method=\"post\""));
	assert_non_null(strstr(r.body, "name=\"password\""));
	assert_non_null(strstr(r.body, "value=\"user_sca_redirect\""));
	res_free(&r);
	snprintf(form, sizeof(form), "id=%s&username=user_sca_redirect&"
	    "password=pass_good&action=approve", aid);
	page_post(form, &r);
	assert_status(&r, 200);
	assert_non_null(strstr(r.body, "name=\"tan\""));
	res_free(&r);
	xr(s, "GET", sta, NULL, NULL, NULL, &r);
	assert_string_equal(jstr(r.json, "scaStatus"), "psuAuthenticated");
	res_free(&r);
	snprintf(form, sizeof(form), "id=%s&tan=123456&action=approve", aid);
	page_back_to(form, "https://tpp.example/cb?state=s3cr3t-state");
	xr(s, "GET", sta, NULL, NULL, NULL, &r);
	assert_string_equal(jstr(r.json, "scaStatus"), "finalised");
	res_free(&r);
	get_status(s, cid, "valid");
	/* Once finished, the page says so. */
	assert_int_equal(req(&bank, "GET", path_of(url), NULL, NULL, NULL, 0,
	    &r), 0);
	assert_status(&r, 409);
	res_free(&r);

	/* Cancelled: back to the NOK URI, the consent rejected. */
	consent(s, "user_sca_redirect", NULL, hdr, cid, &r);
	snprintf(url, sizeof(url), "%s", jstr(r.json, "_links.scaRedirect.href"));
	res_free(&r);
	snprintf(form, sizeof(form), "id=%s&action=cancel",
	    strrchr(url, '=') + 1);
	page_back_to(form, "https://tpp.example/nok?state=s3cr3t-state");
	get_status(s, cid, "rejected");
}

/*
 * Every catalog entry a bank causes, through its username, embedded:
 * the status and code of xs2a_codes.def's forward row and the bank's own
 * words, at the step of the entry's stage.
 */
static void
flow_catalog(struct srv *s)
{
	char		user[96], cid[64], id[64], path[160];
	struct res	f, r;
	int		e;

	for (e = 1; e < ERR__COUNT; e++) {
		const struct err_info	*ei = err_info((enum err)e);
		const struct xs2a_code	*row = xs2a_code_fwd((enum err)e);
		enum phase		 ph;

		if (ei->stage == STG_NONE)
			continue;
		assert_non_null(row);
		err_sandbox_username((enum err)e, user, sizeof(user));
		ph = embedded(s, user, cid, &f);
		switch (ei->stage) {
		case STG_LOGIN:
		case STG_CHALLENGE:
			if (ph != (ei->stage == STG_LOGIN ? PH_LOGIN :
			    PH_CHALLENGE))
				fail_msg("%s: failed at step %d", user, ph);
			r = f;
			break;
		case STG_SYNC:
			assert_int_equal(ph, PH_DONE);
			html_expected = row->code[0] == '\0';
			xr(s, "GET", "/v1/accounts", cid, NULL, NULL, &r);
			html_expected = 0;
			break;
		default:
			assert_int_equal(ph, PH_DONE);
			/* The checking account reads, the card fails. */
			account_id(s, cid, 0, id);
			snprintf(path, sizeof(path), "/v1/accounts/%s/balances", id);
			xr(s, "GET", path, cid, NULL, NULL, &r);
			assert_status(&r, 200);
			res_free(&r);
			account_id(s, cid, 1, id);
			snprintf(path, sizeof(path), "/v1/accounts/%s/balances", id);
			xr(s, "GET", path, cid, NULL, NULL, &r);
			break;
		}
		if (r.status != row->http)
			fprintf(stderr, "%s\n", user);
		if (row->code[0] == '\0') {
			/* A gateway's HTML page: what the connector must refuse. */
			assert_status(&r, row->http);
			assert_null(r.json);
			res_free(&r);
			continue;
		}
		assert_tpp(&r, row->http, row->code);
		assert_string_equal(jstr(r.json, "tppMessages.0.text"),
		    sb_message((enum err)e));
		if (row->http == 503) {
			char *ra = res_header(&r, "Retry-After");

			assert_non_null(ra);
			free(ra);
		}
		res_free(&r);
	}
}

/* What the bank refuses of a TPP, in XS2A's codes. */
static void
flow_refusals(struct srv *s)
{
	const char *const one[] = { UNATTENDED, NULL };
	struct res	r;
	char		cid[64], id[64], path[300], iban[40], body[400];

	refused(s, "GET", "/v1/consents/cns_nope", NULL, NULL, NULL, 403,
	    "CONSENT_UNKNOWN");
	refused(s, "POST", "/v1/consents", NULL, NULL, BODY_UNTIL("2001-01-01",
	    "false"), 400, "TIMESTAMP_INVALID");
	refused(s, "POST", "/v1/consents", NULL, NULL, BODY_UNTIL("9999-12-31",
	    "true"), 400, "SESSIONS_NOT_SUPPORTED");
	/* Not authorised yet, then authorised. */
	consent(s, "user_good", NULL, NULL, cid, &r);
	res_free(&r);
	refused(s, "GET", "/v1/accounts", cid, NULL, NULL, 401,
	    "CONSENT_INVALID");
	authorised(s, "user_good", cid);
	account_id(s, cid, 0, id);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
	    "bookingStatus=both&dateFrom=2024-03-02&dateTo=2024-03-01", id);
	refused(s, "GET", path, cid, NULL, NULL, 400, "PERIOD_INVALID");
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
	    "bookingStatus=information", id);
	refused(s, "GET", path, cid, NULL, NULL, 400,
	    "PARAMETER_NOT_SUPPORTED");
	refused(s, "GET", "/v1/accounts/sbx-nope-chk/balances", cid, NULL,
	    NULL, 404, "RESOURCE_UNKNOWN");
	snprintf(path, sizeof(path), "/v1/consents/%s", cid);
	xr(s, "GET", path, NULL, NULL, NULL, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "access.allPsd2"), "allAccounts");
	assert_string_equal(jstr(r.json, "consentStatus"), "valid");
	res_free(&r);
	xr(s, "DELETE", path, NULL, NULL, NULL, &r);
	assert_status(&r, 204);
	res_free(&r);
	get_status(s, cid, "terminatedByTpp");
	refused(s, "GET", "/v1/accounts", cid, NULL, NULL, 401,
	    "CONSENT_INVALID");

	/* frequencyPerDay 1: one read a day without the PSU, then 429. */
	authorised(s, "user_good", cid);
	account_id(s, cid, 0, id);
	xr(s, "GET", "/v1/accounts", cid, NULL, NULL, &r);
	snprintf(iban, sizeof(iban), "%s", jstr(r.json, "accounts.0.iban"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"access\":{\"accounts\":[{\"iban\":"
	    "\"%s\"}],\"balances\":[{\"iban\":\"%s\"}]},\"recurringIndicator\":"
	    "true,\"validUntil\":\"9999-12-31\",\"frequencyPerDay\":1,"
	    "\"combinedServiceIndicator\":false}", iban, iban);
	consent(s, "user_good", body, NULL, cid, &r);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/consents/%s/authorisations", cid);
	xr(s, "POST", path, NULL, NULL, "{\"psuData\":{\"password\":"
	    "\"pass_good\"}}", &r);
	assert_string_equal(jstr(r.json, "scaStatus"), "finalised");
	res_free(&r);
	xr(s, "GET", "/v1/accounts", cid, one, NULL, &r);
	assert_status(&r, 200);
	/* The consent names the checking account only. */
	assert_int_equal(json_array_size(jget(r.json, "accounts")), 1);
	assert_string_equal(jstr(r.json, "accounts.0.resourceId"), id);
	assert_null(jget(r.json, "accounts.0._links.transactions"));
	res_free(&r);
	xr(s, "GET", "/v1/accounts", cid, one, NULL, &r);
	assert_tpp(&r, 429, "ACCESS_EXCEEDED");
	{
		char *ra = res_header(&r, "Retry-After");

		assert_non_null(ra);
		assert_true(strtol(ra, NULL, 10) > 0);
		free(ra);
	}
	res_free(&r);
	xr(s, "GET", "/v1/accounts", cid, NULL, NULL, &r);	/* the PSU */
	assert_status(&r, 200);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/balances", id);
	xr(s, "GET", path, cid, NULL, NULL, &r);
	assert_status(&r, 200);
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
	    "bookingStatus=booked", id);
	refused(s, "GET", path, cid, NULL, NULL, 401, "CONSENT_INVALID");
}

/* An account list starts a sync: user_account_disappears's card goes. */
static void
flow_syncs(struct srv *s)
{
	struct res	r;
	char		cid[64];
	int		i;

	authorised(s, "user_account_disappears", cid);
	for (i = 0; i < 2; i++) {
		xr(s, "GET", "/v1/accounts", cid, NULL, NULL, &r);
		assert_status(&r, 200);
		assert_int_equal(json_array_size(jget(r.json, "accounts")),
		    i == 0 ? 2 : 1);
		res_free(&r);
	}
}

/* ---- tests: the bank itself ---- */

/*
 * xs2a_codes.def, both ways: one forward row for every entry a bank
 * causes, each read back by the connector through a row of its own code
 * or status (never the catch-all); at most one back row per code and per
 * status, and the catch-all last.
 */
static void
test_codes_table(void **state)
{
	size_t	i, j;
	int	e, n;

	(void)state;
	for (e = 1; e < ERR__COUNT; e++) {
		for (i = 0, n = 0; i < xs2a_ncodes; i++)
			n += xs2a_codes[i].err == (enum err)e;
		if (err_info((enum err)e)->stage != STG_NONE && n != 1)
			fail_msg("%s has %d forward rows", err_name((enum err)e), n);
		assert_true(n <= 1);
	}
	for (i = 0; i < xs2a_ncodes; i++) {
		const struct xs2a_code	*c = &xs2a_codes[i];
		const struct xs2a_tpp_row *back = xs2a_code_back(c->http, c->code);
		int			 pa;

		assert_true(strlen(c->text) > 0 && strlen(c->text) <= 500);
		if (c->code[0] == '\0')
			continue;	/* an HTML page: no code, no way back */
		if (back->http == 0)
			fail_msg("%d %s has no way back", c->http, c->code);
		assert_true(back->code == NULL ||
		    strcmp(back->code, c->code) == 0);
		/* The default text reads back as the entry itself. */
		if (xs2a_code_read(c->http, c->code, c->path, c->text,
		    xs2a_stage_of(err_info(c->err)->stage), &pa) != c->err &&
		    c->err != ERR_BANK_TLS_FAILED)
			fail_msg("%s: its default answer reads otherwise",
			    err_name(c->err));
	}
	for (i = 0; i < xs2a_ntpp_rows; i++)
		for (j = i + 1; j < xs2a_ntpp_rows; j++)
			if (strcmp(xs2a_tpp_rows[i].code,
			    xs2a_tpp_rows[j].code) == 0)
				fail_msg("%s goes back twice",
				    xs2a_tpp_rows[i].code);
	for (i = 0; i < xs2a_nstatus_rows; i++) {
		assert_null(xs2a_status_rows[i].code);
		assert_true((xs2a_status_rows[i].http == 0) ==
		    (i == xs2a_nstatus_rows - 1));
		for (j = i + 1; j < xs2a_nstatus_rows; j++)
			assert_int_not_equal(xs2a_status_rows[i].http,
			    xs2a_status_rows[j].http);
	}
	assert_int_equal(xs2a_code_back(401, "CONSENT_EXPIRED")->at[XS_FETCH],
	    ERR_NO_ACTIVE_CONSENT);
	assert_int_equal(xs2a_code_back(401, "PSU_CREDENTIALS_INVALID")->
	    at[XS_SCA], ERR_INVALID_TAN);
	assert_int_equal(xs2a_code_back(401, "PSU_CREDENTIALS_INVALID")->
	    at[XS_LOGIN], ERR_LOGIN_CREDENTIALS_INVALID);
	/* The code decides over the status; else the status; else any. */
	assert_int_equal(xs2a_code_back(418, "ACCESS_EXCEEDED")->at[XS_FETCH],
	    ERR_API_USAGE_LIMIT_REACHED);
	assert_int_equal(xs2a_code_back(400, "NO_SUCH_CODE")->at[XS_FETCH],
	    ERR_BANK_REQUEST_REJECTED);
	assert_int_equal(xs2a_code_back(418, "")->at[XS_LOGIN],
	    ERR_BANK_RESPONSE_INVALID);
	/* The XS2A usernames are the Sandbox Bank's. */
	assert_true(sandbox_username_known("user_sca_decoupled"));
	assert_true(sandbox_username_known("user_sca_redirect"));
}

static void
test_same_data(void **state)
{
	(void)state;
	flow_same_data(&bank);
}

static void
test_embedded(void **state)
{
	(void)state;
	flow_embedded_choice(&bank);
	flow_embedded_questions(&bank);
}

static void
test_decoupled(void **state)
{
	(void)state;
	flow_decoupled(&bank);
}

static void
test_redirect(void **state)
{
	(void)state;
	flow_redirect(&bank);
}

static void
test_catalog(void **state)
{
	(void)state;
	flow_catalog(&bank);
}

static void
test_refusals(void **state)
{
	struct res	r;
	const char *const h[] = { "Content-Type: application/json", NULL };

	(void)state;
	flow_refusals(&bank);
	flow_syncs(&bank);
	/* XS2A needs X-Request-ID. */
	assert_int_equal(req(&bank, "POST", "/v1/consents", NULL, h, BODY_ALL,
	    strlen(BODY_ALL), &r), 0);
	assert_tpp(&r, 400, "FORMAT_ERROR");
	res_free(&r);
}

static long long
mono_ms(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/*
 * user_slow: the bank takes its time to list the accounts; and a bank
 * started with --latency-ms answers everything that late.
 */
static void
test_slow(void **state)
{
	const char *const args[] = { "sandbox-bank", "--listen",
	    "127.0.0.1:0", "--latency-ms", "300", NULL };
	struct srv	late;
	struct res	r;
	char		cid[64];
	long long	t0;

	(void)state;
	authorised(&bank, "user_slow", cid);
	t0 = mono_ms();
	xr(&bank, "GET", "/v1/accounts", cid, NULL, NULL, &r);
	assert_status(&r, 200);
	res_free(&r);
	assert_true(mono_ms() - t0 >= SLOW_MS);
	assert_int_equal(srv_start_args(&late, args, NULL), 0);
	t0 = mono_ms();
	consent(&late, "user_good", NULL, NULL, cid, &r);
	res_free(&r);
	assert_true(mono_ms() - t0 >= 300);
	srv_cleanup(&late);
}

/* ---- tests: the same through Prism ---- */

/*
 * Starts Prism in proxy mode in front of the bank, in the background;
 * prism_wait() waits for it.  Not --errors: with it Prism refuses every
 * embedded step for the spec's own oneOf defect before the bank sees it,
 * while without it Prism forwards and still lists each violation in
 * sl-violations, which xr() checks.
 */
static void
prism_start(void)
{
	memset(&prism, 0, sizeof(prism));
	snprintf(prism_log, sizeof(prism_log), "%s/prism.log", bank.dir);
	prism_pid = prism_proxy_start("test_sandbox_bank", PRISM_DIR, SPEC,
	    bank.port, prism_log, &prism.port);
}

static int
prism_wait(void)
{
	if (prism_pid <= 0)
		return 0;
	if (!prism_ok && !(prism_ok = prism_proxy_wait(prism_log, 120)))
		fail_msg("Prism did not start in 120 s; its log: %s", prism_log);
	return prism_ok;
}

#define THROUGH_PRISM(name, body) \
static void \
name(void **state) \
{ \
	(void)state; \
	if (!prism_wait()) { \
		skip(); \
		return; \
	} \
	body; \
}

THROUGH_PRISM(test_prism_same_data, flow_same_data(&prism))
THROUGH_PRISM(test_prism_embedded, (flow_embedded_choice(&prism),
    flow_embedded_questions(&prism)))
THROUGH_PRISM(test_prism_decoupled, flow_decoupled(&prism))
THROUGH_PRISM(test_prism_redirect, flow_redirect(&prism))
THROUGH_PRISM(test_prism_catalog, flow_catalog(&prism))
THROUGH_PRISM(test_prism_refusals, flow_refusals(&prism))

static int
setup(void **state)
{
	static char	slow[64];
	const char	*env[] = { slow, NULL };
	const char *const args[] = { "sandbox-bank", "--listen",
	    "127.0.0.1:0", NULL };

	(void)state;
	/* These exchanges are XS2A, not bankfeed's API (docs/openapi.yaml). */
	unsetenv("BANKFEED_EXCHANGES");
	snprintf(slow, sizeof(slow), "BANKFEED_SANDBOX_SLOW_MS=%d", SLOW_MS);
	if (srv_start_args(&bank, args, env) == -1)
		return -1;
	prism_start();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	prism_proxy_stop(prism_pid);
	if (defects > 0)
		fprintf(stderr, "test_sandbox_bank: Prism found nothing but the "
		    "spec's oneOf defect of the authorisation bodies (%d "
		    "times)\n", defects);
	srv_cleanup(&bank);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_table),
		cmocka_unit_test(test_same_data),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_decoupled),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_slow),
		cmocka_unit_test(test_prism_same_data),
		cmocka_unit_test(test_prism_embedded),
		cmocka_unit_test(test_prism_decoupled),
		cmocka_unit_test(test_prism_redirect),
		cmocka_unit_test(test_prism_catalog),
		cmocka_unit_test(test_prism_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
