/*
 * sandbox-bank: authorisations (SCA) of consents, embedded and decoupled,
 * and the bank's dialogue they share with the redirect page.  The PSU's
 * login and answers go to the Sandbox Bank's own connector
 * (sandbox_connector), so challenges, right answers and errors are the
 * built-in bank's; this file only says them in XS2A.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banks/sandbox.h"
#include "banks/xs2a_bank_int.h"
#include "banks/xs2a_codes.h"
#include "core/clock.h"
#include "http/http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define APP_MESSAGE	"Please confirm the access in your Sandbox Bank app."

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
	struct bank_ctx	ctx = { .institution_id = "sandbox" };

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

void
xb_run_login(const char *user, const char *password, struct bank_auth *ba)
{
	struct bank_secret	sec = { user, password };
	struct bank_ctx		ctx = bank_ctx();

	finish(sandbox_connector.login(&ctx, &sec, ba), ba);
}

/* Answers the authorisation's challenges with what it collected. */
void
xb_run_answer(struct xb_auth *a, struct bank_auth *ba)
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
int
xb_add_answer(struct xb_auth *a, const char *v)
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
void
xb_apply(struct xb_consent *c, struct xb_auth *a, const struct bank_auth *ba)
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
			if (xb_add_answer(a, a->chal[i].kind == BANK_CHAL_CHOICE ?
			    a->chal[i].options[0] : a->chal[i].kind ==
			    BANK_CHAL_TAN ? SANDBOX_TAN : SANDBOX_ANSWER) == -1)
				break;
		bank_auth_free(&ba);
		bank_auth_init(&ba);
		xb_run_answer(a, &ba);
		if (ba.outcome == BANK_CHALLENGE)
			xb_apply(c, a, &ba);
	}
	if (ba.outcome == BANK_CHALLENGE) {
		ba.outcome = BANK_FAILED;
		bank_error_set(&ba.error, ERR_BANK_PROCESSING_NOT_POSSIBLE,
		    "%s", "");
	}
	xb_apply(c, a, &ba);
	bank_auth_free(&ba);
}

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
	xb_run_login(c->psu_id, c->approach == XB_DECOUPLED ? SANDBOX_PASSWORD :
	    password, &ba);
	if (ba.outcome == BANK_FAILED) {
		xb_apply(c, a, &ba);
		xb_error_entry(r, &ba.error);
		rc = -1;
	} else if (c->approach == XB_DECOUPLED) {
		xb_auth_clear(a);
		if (ba.outcome == BANK_CHALLENGE)
			xb_apply(c, a, &ba);
		else
			a->state = strdup(buf_str(&ba.state));
		a->sca = SCA_STARTED;
		a->t0 = clock_mono();
		snprintf(a->message, sizeof(a->message), "%s", APP_MESSAGE);
	} else
		xb_apply(c, a, &ba);
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

/* ---- authorisations ---- */

/* The answer of an authorisation request: 201 names the new one. */
static void
step_answer(struct req *r, int status, struct xb_consent *c, struct xb_auth *a)
{
	struct jw	w;

	resp_begin(r, status, &w);
	write_step(&w, r, c, a, status == 201);
	resp_header(r, "ASPSP-SCA-Approach", xb_approach_name(c->approach));
}

void
xb_h_auth_start(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	json_t			*b = NULL;
	const char		*password;
	char			 psu[XB_PSU_MAX];
	int			 has_psu;

	if (xb_body(r, &b) == -1 || (has_psu = xb_psu_header(r, psu)) == -1 ||
	    xb_consent_of_path(r, &c) == -1)
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
	if (auth_begin(r, c, a, password) == 0)
		step_answer(r, 201, c, a);
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

	if (xb_consent_of_path(r, &c) == -1)
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
	if (xb_consent_of_path(r, c) == -1)
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
	if (xb_add_answer(a, method != NULL ? method : data) == -1) {
		xb_error(r, 400, "FORMAT_ERROR", NULL, "The answer is too long.");
		return -1;
	}
	if (a->nans < a->nchal)
		return 0;	/* the next question */
	bank_auth_init(&ba);
	xb_run_answer(a, &ba);
	xb_apply(c, a, &ba);
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
	json_t			*b = NULL;
	char			 psu[XB_PSU_MAX];
	int			 has_psu;

	if (xb_body(r, &b) == -1 || (has_psu = xb_psu_header(r, psu)) == -1 ||
	    auth_of_path(r, &c, &a) == -1)
		goto out;
	if (a->sca == SCA_FINALISED || a->sca == SCA_FAILED) {
		const struct xs2a_code *row = xs2a_code_fwd(ERR_REDUNDANT_SUBMISSION);

		xb_error(r, row->http, row->code, NULL, row->text);
	} else if (c->approach != XB_EMBEDDED) {
		xb_error(r, 400, "SERVICE_INVALID", NULL, "This authorisation "
		    "uses the REDIRECT or DECOUPLED approach.");
	} else {
		/* The PSU is named before it authenticates, not after. */
		if (has_psu && (a->sca == SCA_RECEIVED ||
		    a->sca == SCA_PSU_IDENTIFIED)) {
			memcpy(c->psu_id, psu, sizeof(psu));
			a->sca = SCA_PSU_IDENTIFIED;
		}
		if (embedded_step(r, c, a, b) == 0)
			step_answer(r, 200, c, a);
	}
	xb_unlock();
out:
	json_decref(b);
}


const char *
xb_method_name(const char *id)
{
	return method_of(id)->name;
}
