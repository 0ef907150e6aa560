/*
 * sandbox-bank: consents and their authorisations (SCA), the embedded,
 * decoupled and redirect approaches, and the redirect page a browser
 * submits.  The PSU's login and answers go to the Sandbox Bank's own
 * connector (sandbox_connector), so challenges, right answers and errors
 * are the built-in bank's; this file only says them in XS2A.
 *
 * The approach of a consent is decided when it is created (approach_of):
 * the TPP's preference headers first, then the PSU's default
 * (xb_user_approaches), else EMBEDDED.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banks/sandbox.h"
#include "banks/xs2a_bank_int.h"
#include "banks/xs2a_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/day.h"
#include "http/http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define APP_MESSAGE	"Please confirm the access in your Sandbox Bank app."

const struct xb_user_approach xb_user_approaches[] = {
	{ "user_sca_decoupled", XB_DECOUPLED },
	{ "user_sca_redirect", XB_REDIRECT },
};
const size_t xb_nuser_approaches = NELEM(xb_user_approaches);

/*
 * The SCA methods of the bank's TAN choice (sandbox.c's options) as XS2A
 * authentication objects; a question is a method of its own whose id is
 * the question's key.
 */
static const struct sca_method {
	const char	*id, *type, *name;
} sca_methods[] = {
	{ "sms", "SMS_OTP", "SMS" },
	{ "push", "PUSH_OTP", "SecureGo app" },
	{ "chiptan", "CHIP_OTP", "chipTAN" },
};
#define QUESTION_TYPE	"SECURITY_QUESTION"

static const struct sca_method *
method_of(const char *id)
{
	size_t	i;

	for (i = 0; i < NELEM(sca_methods); i++)
		if (strcmp(sca_methods[i].id, id) == 0)
			return &sca_methods[i];
	return &sca_methods[0];
}

/* ---- the bank's dialogue, through its connector ---- */

static struct bank_ctx
bank_ctx(void)
{
	struct bank_ctx	ctx = { "sandbox", 0, NULL };

	ctx.now = clock_now();
	return ctx;
}

static void
finish(struct bank_op *op, struct bank_auth *ba)
{
	if (op == NULL) {
		ba->outcome = BANK_FAILED;
		bank_error_set(&ba->error, ERR_BANK_PROCESSING_NOT_POSSIBLE,
		    "%s", "");
		return;
	}
	bank_run_blocking(&sandbox_connector, op);
	sandbox_connector.op_free(op);
}

static void
run_login(const char *user, const char *password, struct bank_auth *ba)
{
	struct bank_secret	sec = { user, password };
	struct bank_ctx		ctx = bank_ctx();

	finish(sandbox_connector.login(&ctx, &sec, ba), ba);
}

/* Answers the authorisation's challenges with what it collected. */
static void
run_answer(struct xb_auth *a, struct bank_auth *ba)
{
	struct bank_answer	ans[BANK_MAX_CHALLENGES];
	struct bank_ctx		ctx = bank_ctx();
	size_t			i;

	for (i = 0; i < a->nans && i < a->nchal; i++) {
		ans[i].key = a->chal[i].key;
		ans[i].value = a->ans[i];
	}
	finish(sandbox_connector.answer(&ctx, a->state, ans, i, ba), ba);
}

/* Keeps an answer (a secret) until the bank has it. */
static int
add_answer(struct xb_auth *a, const char *v)
{
	size_t	n = strlen(v);

	if (a->nans == BANK_MAX_CHALLENGES || n > 256 ||
	    (a->ans[a->nans] = sodium_malloc(n + 1)) == NULL)
		return -1;
	memcpy(a->ans[a->nans++], v, n + 1);
	return 0;
}

/*
 * Takes the bank's answer into the consent and its authorisation: failed
 * (the bank's words kept for psuMessage), authorised (the consent is
 * valid, with the connector's state), or challenges to present.
 */
static void
apply(struct xb_consent *c, struct xb_auth *a, const struct bank_auth *ba)
{
	const struct xs2a_code	*row;

	switch (ba->outcome) {
	case BANK_FAILED:
		xb_auth_clear(a);
		a->sca = SCA_FAILED;
		row = xs2a_code_fwd(ba->error.code);
		xb_copy(a->message, sizeof(a->message), ba->error.message[0] ?
		    ba->error.message : row != NULL ? row->text : "");
		c->status = CST_REJECTED;
		break;
	case BANK_AUTHORIZED:
		free(c->state_read);
		free(c->state_next);
		c->state_read = strdup(buf_str(&ba->state));
		c->state_next = strdup(buf_str(&ba->state));
		xb_auth_clear(a);
		if (c->state_read == NULL || c->state_next == NULL) {
			a->sca = SCA_FAILED;
			c->status = CST_REJECTED;
			break;
		}
		a->sca = SCA_FINALISED;
		c->status = CST_VALID;
		c->last_action = xb_today();
		break;
	case BANK_CHALLENGE:
		xb_auth_clear(a);
		a->state = strdup(buf_str(&ba->state));
		a->chal = calloc(ba->nchallenges, sizeof(*a->chal));
		if (a->state == NULL || a->chal == NULL ||
		    ba->nchallenges == 0) {
			xb_auth_clear(a);
			a->sca = SCA_FAILED;
			c->status = CST_REJECTED;
			break;
		}
		memcpy(a->chal, ba->challenges,
		    ba->nchallenges * sizeof(*a->chal));
		a->nchal = ba->nchallenges;
		a->sca = a->chal[0].kind == BANK_CHAL_CHOICE ?
		    SCA_PSU_AUTHENTICATED : SCA_METHOD_SELECTED;
		break;
	}
}

/*
 * The decoupled app: the PSU logged in there (the bank knows the
 * password) and now confirms, answering what the bank asks rightly; a
 * scenario that fails at the challenge fails here.
 */
static void
app_approve(struct xb_consent *c, struct xb_auth *a)
{
	struct bank_auth	ba;
	size_t			i, rounds;

	bank_auth_init(&ba);
	ba.outcome = a->nchal == 0 ? BANK_AUTHORIZED : BANK_CHALLENGE;
	if (a->nchal == 0 && (a->state == NULL ||
	    buf_addstr(&ba.state, a->state) == -1)) {
		ba.outcome = BANK_FAILED;
		bank_error_set(&ba.error, ERR_BANK_PROCESSING_NOT_POSSIBLE,
		    "%s", "");
	}
	for (rounds = 0; ba.outcome == BANK_CHALLENGE && rounds < 4; rounds++) {
		for (i = a->nans; i < a->nchal; i++)
			if (add_answer(a, a->chal[i].kind == BANK_CHAL_CHOICE ?
			    a->chal[i].options[0] : a->chal[i].kind ==
			    BANK_CHAL_TAN ? SANDBOX_TAN : SANDBOX_ANSWER) == -1)
				break;
		bank_auth_free(&ba);
		bank_auth_init(&ba);
		run_answer(a, &ba);
		if (ba.outcome == BANK_CHALLENGE)
			apply(c, a, &ba);
	}
	if (ba.outcome == BANK_CHALLENGE) {
		ba.outcome = BANK_FAILED;
		bank_error_set(&ba.error, ERR_BANK_PROCESSING_NOT_POSSIBLE,
		    "%s", "");
	}
	apply(c, a, &ba);
	bank_auth_free(&ba);
}

/* ---- consents ---- */

static enum xb_approach
approach_of(const char *psu, int redirect_pref, int decoupled_pref)
{
	enum xb_approach	a = XB_EMBEDDED;
	size_t			i;

	if (redirect_pref == 1)
		return XB_REDIRECT;
	if (decoupled_pref == 1)
		return XB_DECOUPLED;
	for (i = 0; psu != NULL && i < xb_nuser_approaches; i++)
		if (strcmp(xb_user_approaches[i].user, psu) == 0)
			a = xb_user_approaches[i].approach;
	if ((a == XB_REDIRECT && redirect_pref == 0) ||
	    (a == XB_DECOUPLED && decoupled_pref == 0))
		a = XB_EMBEDDED;
	return a;
}

static const char *const list_names[XL__COUNT] = {
	[XL_ACCOUNTS] = "accounts", [XL_BALANCES] = "balances",
	[XL_TRANSACTIONS] = "transactions"
};
static const char *const all_keys[] = { "allPsd2", "availableAccounts",
	"availableAccountsWithBalance" };
static const enum xb_scope all_scopes[] = { SCOPE_ALL, SCOPE_LIST,
	SCOPE_LIST_BALANCES };
static const char *const all_values[] = { "allAccounts",
	"allAccountsWithOwnerName" };

/* One list of account references: IBANs or masked PANs.  0 or -1. */
static int
parse_refs(struct req *r, json_t *list, enum xb_list l, struct xb_access *acc)
{
	char		 path[64], iban[IBAN_MAX];
	json_t		*ref;
	const char	*v;
	size_t		 i;

	snprintf(path, sizeof(path), "access.%s", list_names[l]);
	if (!json_is_array(list) || json_array_size(list) > XB_REFS_MAX) {
		xb_error(r, 400, "FORMAT_ERROR", path, "An access list must be "
		    "an array of at most 8 account references.");
		return -1;
	}
	json_array_foreach(list, i, ref) {
		struct xb_ref	*out = &acc->refs[l][acc->nrefs[l]];

		if ((v = json_string_value(json_object_get(ref, "iban"))) !=
		    NULL && iban_normalize(v, iban) == 0 && iban_valid(iban)) {
			snprintf(out->id, sizeof(out->id), "%s", iban);
			out->masked = 0;
		} else if ((v = json_string_value(json_object_get(ref,
		    "maskedPan"))) != NULL && *v != '\0' &&
		    strlen(v) < sizeof(out->id)) {
			snprintf(out->id, sizeof(out->id), "%s", v);
			out->masked = 1;
		} else {
			xb_error(r, 400, "FORMAT_ERROR", path, "An account "
			    "reference needs a valid iban or a maskedPan.");
			return -1;
		}
		acc->nrefs[l]++;
	}
	return 0;
}

static int
parse_access(struct req *r, json_t *access, struct xb_access *acc)
{
	const char	*v;
	size_t		 i, j, nlisted = 0;
	int		 l;

	memset(acc, 0, sizeof(*acc));
	acc->scope = SCOPE_REFS;
	if (!json_is_object(access)) {
		xb_error(r, 400, "FORMAT_ERROR", "access", "access must be an "
		    "object.");
		return -1;
	}
	for (l = 0; l < XL__COUNT; l++)
		if (json_object_get(access, list_names[l]) != NULL &&
		    parse_refs(r, json_object_get(access, list_names[l]),
		    (enum xb_list)l, acc) == -1)
			return -1;
	for (l = 0; l < XL__COUNT; l++)
		nlisted += acc->nrefs[l];
	for (i = 0; i < NELEM(all_keys); i++) {
		if ((v = json_string_value(json_object_get(access,
		    all_keys[i]))) == NULL)
			continue;
		for (j = 0; j < NELEM(all_values); j++)
			if (strcmp(v, all_values[j]) == 0)
				break;
		if (j == NELEM(all_values) || acc->all_key != NULL ||
		    nlisted > 0) {
			xb_error(r, 400, "FORMAT_ERROR", "access", "Ask for "
			    "allAccounts or allAccountsWithOwnerName in one "
			    "of allPsd2, availableAccounts or "
			    "availableAccountsWithBalance, or name accounts; "
			    "not both.");
			return -1;
		}
		acc->all_key = all_keys[i];
		acc->all_value = all_values[j];
		acc->scope = all_scopes[i];
	}
	/* A bank-offered consent: the PSU picks, and picks every account. */
	if (acc->all_key == NULL && nlisted == 0)
		acc->scope = SCOPE_ALL;
	return 0;
}

/* A TPP redirect URI: absolute http(s), no blanks.  0, -1 answered. */
static int
uri_header(struct req *r, const char *name, char *out)
{
	const char	*v = req_header(r, name);
	size_t		 i;

	out[0] = '\0';
	if (v == NULL)
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '"' || v[i] == '<' ||
		    v[i] == '>' || v[i] == 0x7f)
			break;
	if (v[i] != '\0' || i >= XB_URI_MAX || (strncmp(v, "https://", 8) != 0
	    && strncmp(v, "http://", 7) != 0)) {
		xb_error(r, 400, "FORMAT_ERROR", name, "The URI must be an "
		    "absolute http or https URI of at most 1023 bytes.");
		return -1;
	}
	memcpy(out, v, i + 1);
	return 0;
}

/* The PSU-ID header, when given: 1, 0 absent, -1 answered. */
static int
psu_header(struct req *r, char out[XB_PSU_MAX])
{
	const char	*v = req_header(r, "PSU-ID");

	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) >= XB_PSU_MAX) {
		xb_error(r, 400, "FORMAT_ERROR", "PSU-ID", "The PSU-ID is too "
		    "long.");
		return -1;
	}
	snprintf(out, XB_PSU_MAX, "%s", v);
	return 1;
}

/* The parts of a consent request; 0, or -1 answered. */
struct consent_req {
	struct xb_access access;
	long		 valid_until;
	int		 freq, recurring;
};

static int
parse_consent(struct req *r, json_t *b, struct consent_req *cr)
{
	json_t		*rec = json_object_get(b, "recurringIndicator");
	json_t		*freq = json_object_get(b, "frequencyPerDay");
	json_t		*comb = json_object_get(b, "combinedServiceIndicator");
	const char	*vu = json_string_value(json_object_get(b, "validUntil"));
	long		 today = xb_today(), max;

	if (parse_access(r, json_object_get(b, "access"), &cr->access) == -1)
		return -1;
	if (!json_is_boolean(rec) || !json_is_integer(freq) ||
	    !json_is_boolean(comb) || vu == NULL) {
		xb_error(r, 400, "FORMAT_ERROR", NULL, "recurringIndicator, "
		    "validUntil, frequencyPerDay and combinedServiceIndicator "
		    "are required.");
		return -1;
	}
	if (json_is_true(comb)) {
		xb_error(r, 400, "SESSIONS_NOT_SUPPORTED",
		    "combinedServiceIndicator", "This ASPSP does not combine "
		    "AIS and PIS sessions.");
		return -1;
	}
	cr->recurring = json_is_true(rec);
	if (json_integer_value(freq) < 1 || json_integer_value(freq) > 1000 ||
	    (!cr->recurring && json_integer_value(freq) != 1)) {
		xb_error(r, 400, "FORMAT_ERROR", "frequencyPerDay",
		    "frequencyPerDay must be 1 to 1000, and 1 for a one-off "
		    "consent.");
		return -1;
	}
	cr->freq = (int)json_integer_value(freq);
	if (day_parse(vu, &cr->valid_until) == -1) {
		xb_error(r, 400, "FORMAT_ERROR", "validUntil", "validUntil must "
		    "be a date YYYY-MM-DD.");
		return -1;
	}
	if (cr->valid_until < today) {
		xb_error(r, 400, "TIMESTAMP_INVALID", "validUntil",
		    "validUntil lies in the past.");
		return -1;
	}
	/* 9999-12-31 or anything past the longest consent: the longest. */
	max = today + (cfg.consent_days > 0 ? (long)cfg.consent_days : 180);
	if (cr->valid_until > max)
		cr->valid_until = max;
	return 0;
}

/* Starts an authorisation: 0, or -1 answered (the error of the bank). */
static int
auth_begin(struct req *r, struct xb_consent *c, struct xb_auth *a,
    const char *password)
{
	struct bank_auth	ba;
	int			rc = 0;

	if (c->approach == XB_REDIRECT)
		return 0;
	if (c->psu_id[0] == '\0') {
		if (c->approach == XB_DECOUPLED || password != NULL) {
			xb_error(r, 400, "FORMAT_ERROR", "PSU-ID", "The PSU-ID "
			    "is needed to authorise.");
			return -1;
		}
		return 0;
	}
	a->sca = SCA_PSU_IDENTIFIED;
	if (c->approach == XB_EMBEDDED && password == NULL)
		return 0;
	bank_auth_init(&ba);
	/* Decoupled: the PSU logs in to the app, which knows the password. */
	run_login(c->psu_id, c->approach == XB_DECOUPLED ? SANDBOX_PASSWORD :
	    password, &ba);
	if (ba.outcome == BANK_FAILED) {
		apply(c, a, &ba);
		xb_error_entry(r, &ba.error);
		rc = -1;
	} else if (c->approach == XB_DECOUPLED) {
		xb_auth_clear(a);
		if (ba.outcome == BANK_CHALLENGE)
			apply(c, a, &ba);
		else
			a->state = strdup(buf_str(&ba.state));
		a->sca = SCA_STARTED;
		a->t0 = clock_mono();
		snprintf(a->message, sizeof(a->message), "%s", APP_MESSAGE);
	} else
		apply(c, a, &ba);
	bank_auth_free(&ba);
	return rc;
}

/*
 * Where an authorisation stands, for the answers of the authorisation
 * requests: scaStatus, what the bank asks now, and where to go on.
 */
static void
write_step(struct jw *w, struct req *r, struct xb_consent *c,
    struct xb_auth *a, int with_id)
{
	const struct bank_challenge	*ch = a->nans < a->nchal ?
					    &a->chal[a->nans] : NULL;
	const struct sca_method		*m;
	char				 base[160];
	size_t				 i;

	jw_obj(w);
	jw_kstr(w, "scaStatus", xb_sca_name(a->sca));
	if (with_id)
		jw_kstr(w, "authorisationId", a->id);
	if (a->sca == SCA_PSU_AUTHENTICATED && ch != NULL) {
		jw_key(w, "scaMethods");
		jw_arr(w);
		for (i = 0; i < ch->noptions; i++) {
			m = method_of(ch->options[i]);
			jw_obj(w);
			jw_kstr(w, "authenticationType", m->type);
			jw_kstr(w, "authenticationMethodId", m->id);
			jw_kstr(w, "name", m->name);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	if (a->sca == SCA_METHOD_SELECTED && ch != NULL) {
		int	question = ch->kind == BANK_CHAL_QUESTION;

		m = method_of(a->method[0] != '\0' ? a->method : "sms");
		jw_key(w, "chosenScaMethod");
		jw_obj(w);
		jw_kstr(w, "authenticationType", question ? QUESTION_TYPE :
		    m->type);
		jw_kstr(w, "authenticationMethodId", question ? ch->key : m->id);
		jw_kstr(w, "name", question ? "Security question" : m->name);
		jw_obj_end(w);
		jw_key(w, "challengeData");
		jw_obj(w);
		if (!question)
			jw_kint(w, "otpMaxLength", (int64_t)strlen(SANDBOX_TAN));
		jw_kstr(w, "otpFormat", question ? "characters" : "integer");
		jw_kstr(w, "additionalInformation", ch->prompt);
		jw_obj_end(w);
	}
	if ((a->sca == SCA_STARTED || a->sca == SCA_FAILED) &&
	    a->message[0] != '\0')
		jw_kstr(w, "psuMessage", a->message);
	jw_key(w, "_links");
	jw_obj(w);
	if (c->approach == XB_REDIRECT && a->sca != SCA_FINALISED &&
	    a->sca != SCA_FAILED) {
		xb_base_url(r, base, sizeof(base));
		xb_link(w, "scaRedirect", "%s/sandbox/authorise?id=%s", base,
		    a->id);
	}
	if (c->approach == XB_EMBEDDED) {
		if (a->sca == SCA_RECEIVED || a->sca == SCA_PSU_IDENTIFIED)
			xb_link(w, "updatePsuAuthentication",
			    "/v1/consents/%s/authorisations/%s", c->id, a->id);
		else if (a->sca == SCA_PSU_AUTHENTICATED)
			xb_link(w, "selectAuthenticationMethod",
			    "/v1/consents/%s/authorisations/%s", c->id, a->id);
		else if (a->sca == SCA_METHOD_SELECTED)
			xb_link(w, "authoriseTransaction",
			    "/v1/consents/%s/authorisations/%s", c->id, a->id);
	}
	xb_link(w, "scaStatus", "/v1/consents/%s/authorisations/%s", c->id,
	    a->id);
	jw_obj_end(w);
	jw_obj_end(w);
}

void
xb_h_consents_create(struct req *r)
{
	struct consent_req	 cr;
	struct xb_consent	*c;
	struct xb_auth		*a = NULL;
	struct jw		 w;
	json_t			*b = NULL;
	char			 psu[XB_PSU_MAX] = "", uri[XB_URI_MAX];
	char			 nok[XB_URI_MAX], base[160];
	int			 redir, decoup, expl;

	if (xb_request_ok(r) == -1 || xb_body(r, &b) == -1)
		goto out;
	if (parse_consent(r, b, &cr) == -1 || psu_header(r, psu) == -1 ||
	    uri_header(r, "TPP-Redirect-URI", uri) == -1 ||
	    uri_header(r, "TPP-Nok-Redirect-URI", nok) == -1 ||
	    (redir = xb_bool_header(r, "TPP-Redirect-Preferred")) == -2 ||
	    (decoup = xb_bool_header(r, "TPP-Decoupled-Preferred")) == -2 ||
	    (expl = xb_bool_header(r,
	    "TPP-Explicit-Authorisation-Preferred")) == -2)
		goto out;
	if (approach_of(psu, redir, decoup) == XB_REDIRECT && uri[0] == '\0') {
		xb_error(r, 400, "FORMAT_ERROR", "TPP-Redirect-URI", "The "
		    "redirect approach needs TPP-Redirect-URI.");
		goto out;
	}
	xb_lock();
	if ((c = xb_consent_new()) == NULL) {
		xb_unlock();
		xb_error(r, 500, "INTERNAL_SERVER_ERROR", NULL, NULL);
		goto out;
	}
	c->access = cr.access;
	c->valid_until = cr.valid_until;
	c->freq = cr.freq;
	c->recurring = cr.recurring;
	memcpy(c->psu_id, psu, sizeof(psu));
	memcpy(c->redirect_uri, uri, sizeof(uri));
	memcpy(c->nok_uri, nok, sizeof(nok));
	c->approach = approach_of(psu, redir, decoup);
	c->explicit_start = expl == 1;
	if (c->approach == XB_REDIRECT && !c->explicit_start)
		a = xb_auth_new(c);
	resp_begin(r, 201, &w);
	jw_obj(&w);
	jw_kstr(&w, "consentStatus", xb_cstatus_name(c->status));
	jw_kstr(&w, "consentId", c->id);
	if (a != NULL)
		jw_kstr(&w, "scaStatus", xb_sca_name(a->sca));
	jw_key(&w, "_links");
	jw_obj(&w);
	if (a != NULL) {
		xb_base_url(r, base, sizeof(base));
		xb_link(&w, "scaRedirect", "%s/sandbox/authorise?id=%s", base,
		    a->id);
		xb_link(&w, "scaStatus", "/v1/consents/%s/authorisations/%s",
		    c->id, a->id);
	} else if (c->approach == XB_EMBEDDED)
		xb_link(&w, "startAuthorisationWithPsuAuthentication",
		    "/v1/consents/%s/authorisations", c->id);
	else if (c->approach == XB_DECOUPLED && psu[0] == '\0')
		xb_link(&w, "startAuthorisationWithPsuIdentification",
		    "/v1/consents/%s/authorisations", c->id);
	else
		xb_link(&w, "startAuthorisation", "/v1/consents/%s/authorisations",
		    c->id);
	xb_link(&w, "self", "/v1/consents/%s", c->id);
	xb_link(&w, "status", "/v1/consents/%s/status", c->id);
	jw_obj_end(&w);
	jw_obj_end(&w);
	resp_header(r, "ASPSP-SCA-Approach", xb_approach_name(c->approach));
	xb_unlock();
out:
	json_decref(b);
}

/* Locked on success: the consent of the path; -1 answered (unlocked). */
static int
consent_of_path(struct req *r, struct xb_consent **c)
{
	if (xb_request_ok(r) == -1)
		return -1;
	xb_lock();
	if ((*c = xb_consent_find(req_param(r, 0))) != NULL) {
		if ((*c)->status == CST_VALID && xb_today() > (*c)->valid_until)
			(*c)->status = CST_EXPIRED;
		return 0;
	}
	xb_unlock();
	xb_error(r, 403, "CONSENT_UNKNOWN", NULL, "The consent-ID cannot be "
	    "matched by the ASPSP.");
	return -1;
}

static void
write_refs(struct jw *w, const struct xb_access *acc, enum xb_list l)
{
	size_t	i;

	jw_key(w, list_names[l]);
	jw_arr(w);
	for (i = 0; i < acc->nrefs[l]; i++) {
		jw_obj(w);
		jw_kstr(w, acc->refs[l][i].masked ? "maskedPan" : "iban",
		    acc->refs[l][i].id);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void
xb_h_consent_get(struct req *r)
{
	struct xb_consent	*c;
	struct jw		 w;
	char			 d[DAY_STRLEN];
	int			 l;

	if (consent_of_path(r, &c) == -1)
		return;
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "access");
	jw_obj(&w);
	if (c->access.all_key != NULL)
		jw_kstr(&w, c->access.all_key, c->access.all_value);
	for (l = 0; l < XL__COUNT; l++)
		if (c->access.all_key == NULL)
			write_refs(&w, &c->access, (enum xb_list)l);
	jw_obj_end(&w);
	jw_kbool(&w, "recurringIndicator", c->recurring);
	day_format(c->valid_until, d);
	jw_kstr(&w, "validUntil", d);
	jw_kint(&w, "frequencyPerDay", c->freq);
	day_format(c->last_action, d);
	jw_kstr(&w, "lastActionDate", d);
	jw_kstr(&w, "consentStatus", xb_cstatus_name(c->status));
	if (c->status == CST_VALID) {
		jw_key(&w, "_links");
		jw_obj(&w);
		xb_link(&w, "account", "/v1/accounts");
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	xb_unlock();
}

void
xb_h_consent_status(struct req *r)
{
	struct xb_consent	*c;
	struct jw		 w;

	if (consent_of_path(r, &c) == -1)
		return;
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "consentStatus", xb_cstatus_name(c->status));
	if (c->status == CST_REJECTED && c->nauth > 0 &&
	    c->auth[c->nauth - 1]->message[0] != '\0')
		jw_kstr(&w, "psuMessage", c->auth[c->nauth - 1]->message);
	jw_obj_end(&w);
	xb_unlock();
}

void
xb_h_consent_delete(struct req *r)
{
	struct xb_consent	*c;

	if (consent_of_path(r, &c) == -1)
		return;
	c->status = CST_TERMINATED;
	xb_unlock();
	resp_empty(r, 204);
}

/* ---- authorisations ---- */

void
xb_h_auth_start(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	struct jw		 w;
	json_t			*b = NULL;
	const char		*password;
	char			 psu[XB_PSU_MAX];
	int			 has_psu;

	if (xb_body(r, &b) == -1 || (has_psu = psu_header(r, psu)) == -1 ||
	    consent_of_path(r, &c) == -1)
		goto out;
	password = json_string_value(json_object_get(json_object_get(b,
	    "psuData"), "password"));
	if (json_object_size(b) > 0 && password == NULL) {
		xb_unlock();
		xb_error(r, 400, "FORMAT_ERROR", NULL, "Start an authorisation "
		    "with an empty body or with psuData.password.");
		goto out;
	}
	if (password != NULL && c->approach != XB_EMBEDDED) {
		xb_unlock();
		xb_error(r, 400, "SERVICE_INVALID", NULL, "This consent is "
		    "authorised with the REDIRECT or DECOUPLED approach.");
		goto out;
	}
	if (c->status != CST_RECEIVED || (a = xb_auth_new(c)) == NULL) {
		xb_unlock();
		xb_error(r, 409, "STATUS_INVALID", NULL, "The consent does not "
		    "take another authorisation.");
		goto out;
	}
	if (has_psu)
		memcpy(c->psu_id, psu, sizeof(psu));
	if (auth_begin(r, c, a, password) == 0) {
		resp_begin(r, 201, &w);
		write_step(&w, r, c, a, 1);
		resp_header(r, "ASPSP-SCA-Approach",
		    xb_approach_name(c->approach));
	}
	xb_unlock();
out:
	json_decref(b);
}

void
xb_h_auth_list(struct req *r)
{
	struct xb_consent	*c;
	struct jw		 w;
	size_t			 i;

	if (consent_of_path(r, &c) == -1)
		return;
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "authorisationIds");
	jw_arr(&w);
	for (i = 0; i < c->nauth; i++)
		jw_str(&w, c->auth[i]->id);
	jw_arr_end(&w);
	jw_obj_end(&w);
	xb_unlock();
}

/* Locked on success: consent and authorisation of the path. */
static int
auth_of_path(struct req *r, struct xb_consent **c, struct xb_auth **a)
{
	if (consent_of_path(r, c) == -1)
		return -1;
	if ((*a = xb_auth_find(*c, req_param(r, 1), NULL)) != NULL)
		return 0;
	xb_unlock();
	xb_error(r, 403, "RESOURCE_UNKNOWN", NULL, "The authorisation is not "
	    "known.");
	return -1;
}

void
xb_h_auth_get(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	struct jw		 w;

	if (auth_of_path(r, &c, &a) == -1)
		return;
	if (a->sca == SCA_STARTED && ++a->polls >= XB_DECOUPLED_POLLS)
		app_approve(c, a);
	else if (a->sca == SCA_STARTED &&
	    clock_mono() - a->t0 >= XB_DECOUPLED_SECONDS)
		app_approve(c, a);
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "scaStatus", xb_sca_name(a->sca));
	if ((a->sca == SCA_STARTED || a->sca == SCA_FAILED) &&
	    a->message[0] != '\0')
		jw_kstr(&w, "psuMessage", a->message);
	jw_obj_end(&w);
	xb_unlock();
}

/* An embedded step's answer: PSU authentication, method, or data. */
static int
embedded_step(struct req *r, struct xb_consent *c, struct xb_auth *a,
    json_t *b)
{
	const char		*password, *method, *data;
	struct bank_auth	 ba;
	const struct bank_challenge *ch = a->nans < a->nchal ?
				    &a->chal[a->nans] : NULL;
	size_t			 i;

	password = json_string_value(json_object_get(json_object_get(b,
	    "psuData"), "password"));
	method = json_string_value(json_object_get(b, "authenticationMethodId"));
	data = json_string_value(json_object_get(b, "scaAuthenticationData"));
	if (json_object_size(b) == 0)
		return 0;	/* PSU identification: the header did it */
	if (password != NULL && (a->sca == SCA_RECEIVED ||
	    a->sca == SCA_PSU_IDENTIFIED))
		return auth_begin(r, c, a, password);
	if (method != NULL && a->sca == SCA_PSU_AUTHENTICATED && ch != NULL) {
		for (i = 0; i < ch->noptions; i++)
			if (strcmp(ch->options[i], method) == 0)
				break;
		if (i == ch->noptions) {
			xb_error(r, 400, "SCA_METHOD_UNKNOWN",
			    "authenticationMethodId", "The SCA method is not "
			    "one of those offered.");
			return -1;
		}
		snprintf(a->method, sizeof(a->method), "%s", method);
	} else if (data == NULL || a->sca != SCA_METHOD_SELECTED || ch == NULL) {
		xb_error(r, 409, "STATUS_INVALID", NULL, "The authorisation "
		    "does not expect this data now.");
		return -1;
	}
	if (add_answer(a, method != NULL ? method : data) == -1) {
		xb_error(r, 400, "FORMAT_ERROR", NULL, "The answer is too long.");
		return -1;
	}
	if (a->nans < a->nchal)
		return 0;	/* the next question */
	bank_auth_init(&ba);
	run_answer(a, &ba);
	apply(c, a, &ba);
	if (ba.outcome == BANK_FAILED)
		xb_error_entry(r, &ba.error);
	bank_auth_free(&ba);
	return a->sca == SCA_FAILED ? -1 : 0;
}

void
xb_h_auth_update(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	struct jw		 w;
	json_t			*b = NULL;
	char			 psu[XB_PSU_MAX];
	int			 has_psu;

	if (xb_body(r, &b) == -1 || (has_psu = psu_header(r, psu)) == -1 ||
	    auth_of_path(r, &c, &a) == -1)
		goto out;
	if (a->sca == SCA_FINALISED || a->sca == SCA_FAILED) {
		const struct xs2a_code *row = xs2a_code_fwd(ERR_REDUNDANT_SUBMISSION);

		xb_error(r, row->http, row->code, NULL, row->text);
	} else if (c->approach != XB_EMBEDDED) {
		xb_error(r, 400, "SERVICE_INVALID", NULL, "This authorisation "
		    "uses the REDIRECT or DECOUPLED approach.");
	} else {
		if (has_psu) {
			memcpy(c->psu_id, psu, sizeof(psu));
			if (a->sca == SCA_RECEIVED)
				a->sca = SCA_PSU_IDENTIFIED;
		}
		if (embedded_step(r, c, a, b) == 0) {
			resp_begin(r, 200, &w);
			write_step(&w, r, c, a, 0);
			resp_header(r, "ASPSP-SCA-Approach",
			    xb_approach_name(c->approach));
		}
	}
	xb_unlock();
out:
	json_decref(b);
}

/* ---- the redirect page ---- */

static void
html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '&': buf_addstr(b, "&amp;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
}

static void
html_begin(struct buf *b, const char *title)
{
	buf_addstr(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>Sandbox Bank: ");
	html(b, title);
	buf_addstr(b, "</title></head>\n<body>\n<h1>Sandbox Bank</h1>\n");
}

static void
html_send(struct req *r, int status, struct buf *b)
{
	buf_addstr(b, "</body></html>\n");
	resp_text(r, status, "text/html; charset=utf-8", buf_str(b), b->len);
	buf_free(b);
}

static void
html_message(struct req *r, int status, const char *msg)
{
	struct buf	b;

	buf_init(&b, 1u << 16);
	html_begin(&b, "authorisation");
	buf_addstr(&b, "<p>");
	html(&b, msg);
	buf_addstr(&b, "</p>\n");
	html_send(r, status, &b);
}

/* The form of where the authorisation stands: login, then challenges. */
static void
page_form(struct req *r, struct xb_consent *c, struct xb_auth *a)
{
	struct buf	 b;
	size_t		 i, j;

	buf_init(&b, 1u << 16);
	html_begin(&b, "authorise access");
	buf_addstr(&b, "<p>A third party asks to read your accounts "
	    "(consent <code>");
	html(&b, c->id);
	buf_addstr(&b, "</code>).</p>\n<form method=\"post\" "
	    "action=\"/sandbox/authorise\">\n<input type=\"hidden\" "
	    "name=\"id\" value=\"");
	html(&b, a->id);
	buf_addstr(&b, "\">\n");
	if (a->state == NULL) {
		buf_addstr(&b, "<p><label>User ID <input name=\"username\" "
		    "autocomplete=\"username\" value=\"");
		html(&b, c->psu_id);
		buf_addstr(&b, "\"></label></p>\n<p><label>PIN <input "
		    "type=\"password\" name=\"password\" "
		    "autocomplete=\"current-password\"></label></p>\n");
	}
	for (i = 0; i < a->nchal; i++) {
		buf_addstr(&b, "<p><label>");
		html(&b, a->chal[i].prompt);
		if (a->chal[i].kind == BANK_CHAL_CHOICE) {
			buf_addstr(&b, " <select name=\"");
			html(&b, a->chal[i].key);
			buf_addstr(&b, "\">");
			for (j = 0; j < a->chal[i].noptions; j++) {
				buf_addstr(&b, "<option value=\"");
				html(&b, a->chal[i].options[j]);
				buf_addstr(&b, "\">");
				html(&b, method_of(a->chal[i].options[j])->name);
				buf_addstr(&b, "</option>");
			}
			buf_addstr(&b, "</select>");
		} else {
			buf_addstr(&b, " <input name=\"");
			html(&b, a->chal[i].key);
			buf_addstr(&b, a->chal[i].kind == BANK_CHAL_TAN ?
			    "\" inputmode=\"numeric\" autocomplete="
			    "\"one-time-code\">" : "\">");
		}
		buf_addstr(&b, "</label></p>\n");
	}
	buf_addstr(&b, "<p><button name=\"action\" value=\"approve\">"
	    "Authorise</button> <button name=\"action\" value=\"cancel\">"
	    "Cancel</button></p>\n</form>\n");
	html_send(r, 200, &b);
}

/* Back to the TPP: 302 to its redirect URI (the NOK one on failure). */
static void
page_back(struct req *r, struct xb_consent *c, struct xb_auth *a)
{
	const char	*to = a->sca == SCA_FAILED && c->nok_uri[0] != '\0' ?
			    c->nok_uri : c->redirect_uri;

	resp_empty(r, 302);
	resp_header(r, "Location", to);
}

/* Locked on success: the authorisation of a redirect, not finished. */
static int
page_auth(struct req *r, const char *id, struct xb_consent **c,
    struct xb_auth **a)
{
	xb_lock();
	*a = id != NULL ? xb_auth_find(NULL, id, c) : NULL;
	if (*a == NULL || (*c)->approach != XB_REDIRECT) {
		xb_unlock();
		html_message(r, 404, "This authorisation is not known.");
		return -1;
	}
	if ((*a)->sca == SCA_FINALISED || (*a)->sca == SCA_FAILED) {
		xb_unlock();
		html_message(r, 409, "This authorisation is finished.");
		return -1;
	}
	return 0;
}

void
xb_h_page_get(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;

	if (page_auth(r, req_query(r, "id"), &c, &a) == -1)
		return;
	page_form(r, c, a);
	xb_unlock();
}

/* A form field into a secret buffer; 0, or -1 when absent. */
static int
field(struct req *r, const char *key, char *out, size_t n)
{
	return form_get(r->body.p != NULL ? r->body.p : "", r->body.len, key,
	    out, n);
}

void
xb_h_page_post(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	struct bank_auth	 ba;
	char			 id[ID_MAX], action[16], user[XB_PSU_MAX];
	char			*secret;
	size_t			 i, room = 512;

	if (field(r, "id", id, sizeof(id)) == -1)
		id[0] = '\0';
	if (page_auth(r, id, &c, &a) == -1)
		return;
	if ((secret = sodium_malloc(room)) == NULL) {
		xb_unlock();
		html_message(r, 500, "Please try again later.");
		return;
	}
	bank_auth_init(&ba);
	if (field(r, "action", action, sizeof(action)) == -1 ||
	    strcmp(action, "approve") != 0) {
		ba.outcome = BANK_FAILED;
		bank_error_set(&ba.error, ERR_INVALID_REQUEST,
		    "The authorisation was cancelled.");
	} else if (a->state == NULL) {
		if (field(r, "username", user, sizeof(user)) == -1)
			user[0] = '\0';
		if (field(r, "password", secret, room) == -1)
			secret[0] = '\0';
		run_login(user, secret, &ba);
		if (ba.outcome != BANK_FAILED)
			memcpy(c->psu_id, user, sizeof(user));
	} else {
		for (i = a->nans; i < a->nchal; i++) {
			if (field(r, a->chal[i].key, secret, room) == -1)
				secret[0] = '\0';
			if (a->chal[i].kind == BANK_CHAL_CHOICE)
				snprintf(a->method, sizeof(a->method), "%s",
				    secret);
			if (add_answer(a, secret) == -1)
				break;
		}
		run_answer(a, &ba);
	}
	sodium_free(secret);
	apply(c, a, &ba);
	bank_auth_free(&ba);
	if (a->sca == SCA_PSU_AUTHENTICATED || a->sca == SCA_METHOD_SELECTED) {
		/* Challenges: the page asks them all at once. */
		a->sca = SCA_PSU_AUTHENTICATED;
		page_form(r, c, a);
	} else
		page_back(r, c, a);
	xb_unlock();
}
