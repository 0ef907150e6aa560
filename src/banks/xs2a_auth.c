/*
 * xs2a_auth: the consent and its strong customer authentication.
 *
 * Login posts the consent (all PSD2 accounts; where the bank refuses that,
 * once more without accounts, so that the end user picks them on the
 * bank's page), then follows what the bank answers, whatever approach it
 * chose (its ASPSP-SCA-Approach header, its _links and scaStatus), in
 * sca_next():
 *
 *   REDIRECT   a `redirect` challenge with the bank's scaRedirect URL; the
 *              bank sends the end user back to bankfeed's callback (or the
 *              client answers the session), and the consent's status says
 *              whether it is valid.
 *   EMBEDDED   the password goes with the start of the authorisation
 *              (psuData), then a `choice` of SCA method when there are
 *              several (one is taken without asking), then a `tan`.
 *   DECOUPLED  a `decoupled` challenge ("confirm in your banking app");
 *              each later answer (or read of the session, or the
 *              caller's background poll at bank_auth.poll_at) asks the
 *              authorisation's scaStatus, at most once per poll interval
 *              or the bank's Retry-After.
 *
 * OAuth2 SCA and encrypted PSU authentication are not offered: such a bank
 * fails with BANK_NOT_SUPPORTED.
 */
#include "banks/xs2a_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/config.h"
#include "core/day.h"
#include "core/jw.h"

#define CONSENT_DAYS_DEFAULT	180

/* What the bank says in a consent or authorisation answer. */
struct sca {
	const char	*status;	/* scaStatus, else consentStatus */
	const char	*consent_status;
	const char	*psu_message;
	const char	*sca_redirect, *sca_oauth, *sca_status;
	const char	*start, *start_psu_id, *start_psu_auth, *start_enc;
	const char	*start_method, *select_method, *update_psu_auth;
	const char	*update_psu_id, *authorise;
	json_t		*methods;	/* scaMethods */
	json_t		*chosen;	/* chosenScaMethod */
	json_t		*challenge;	/* challengeData */
	int		 decoupled;	/* ASPSP-SCA-Approach: DECOUPLED */
};

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *
href(json_t *links, const char *name)
{
	return str(json_object_get(links, name), "href");
}

static void
sca_read(json_t *j, const struct xs2a_resp *r, struct sca *s)
{
	json_t	*l = json_object_get(j, "_links");

	memset(s, 0, sizeof(*s));
	s->consent_status = str(j, "consentStatus");
	s->status = str(j, "scaStatus");
	if (s->status == NULL)
		s->status = s->consent_status;
	s->psu_message = str(j, "psuMessage");
	s->sca_redirect = href(l, "scaRedirect");
	s->sca_oauth = href(l, "scaOAuth");
	s->sca_status = href(l, "scaStatus");
	s->start = href(l, "startAuthorisation");
	s->start_psu_id = href(l, "startAuthorisationWithPsuIdentification");
	s->start_psu_auth = href(l, "startAuthorisationWithPsuAuthentication");
	s->start_enc = href(l, "startAuthorisationWithEncryptedPsuAuthentication");
	s->start_method = href(l,
	    "startAuthorisationWithAuthenticationMethodSelection");
	s->select_method = href(l, "selectAuthenticationMethod");
	s->update_psu_auth = href(l, "updatePsuAuthentication");
	s->update_psu_id = href(l, "updatePsuIdentification");
	s->authorise = href(l, "authoriseTransaction");
	s->methods = json_object_get(j, "scaMethods");
	if (!json_is_array(s->methods) || json_array_size(s->methods) == 0)
		s->methods = NULL;
	s->chosen = json_object_get(j, "chosenScaMethod");
	if (!json_is_object(s->chosen))
		s->chosen = NULL;
	s->challenge = json_object_get(j, "challengeData");
	if (!json_is_object(s->challenge))
		s->challenge = NULL;
	s->decoupled = strcasecmp(r->approach, "DECOUPLED") == 0;
}

static int
is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/* An id the bank gave that goes into a URL path. */
static int
path_safe(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && strlen(s) < max &&
	    strcspn(s, "/?#%\\ \t\r\n") == strlen(s);
}

/* The authorisationId at the end of a .../authorisations/{id} link. */
static void
auth_from_link(struct bank_op *op, const char *link)
{
	const char	*p;
	char		 id[XS2A_ID_MAX];
	size_t		 n;

	if (op->st.auth[0] != '\0' || link == NULL ||
	    (p = strstr(link, "/authorisations/")) == NULL)
		return;
	p += strlen("/authorisations/");
	n = strcspn(p, "/?#");
	if (n == 0 || n >= sizeof(id))
		return;
	memcpy(id, p, n);
	id[n] = '\0';
	if (path_safe(id, sizeof(id)))
		snprintf(op->st.auth, sizeof(op->st.auth), "%s", id);
}

/* ---- outcomes ---- */

static void
state_out(struct bank_op *op)
{
	/* A decoupled SCA: the caller asks again by then, if nobody does. */
	op->auth->poll_at = op->st.pending == PEND_DECOUPLED ? op->st.poll_at :
	    0;
	if (xs2a_state_write(&op->st, &op->auth->state) == -1)
		xs2a_fail(op, ERR_INTERNAL_ERROR, "xs2a state too large");
	else
		op->phase = PH_DONE;
}

static void
authorized(struct bank_op *op)
{
	op->st.authorized = 1;
	op->st.pending = PEND_NONE;
	op->st.nmethods = 0;
	op->auth->outcome = BANK_AUTHORIZED;
	op->auth->nchallenges = 0;
	state_out(op);
}

static struct bank_challenge *
challenge(struct bank_op *op, const char *key, enum bank_chal_kind kind,
    const char *prompt)
{
	struct bank_challenge	*c = &op->auth->challenges[0];

	memset(c, 0, sizeof(*c));
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->kind = kind;
	snprintf(c->prompt, sizeof(c->prompt), "%s", prompt);
	if (prompt != op->st.prompt)
		snprintf(op->st.prompt, sizeof(op->st.prompt), "%s", prompt);
	op->auth->outcome = BANK_CHALLENGE;
	op->auth->nchallenges = 1;
	return c;
}

static void
present_redirect(struct bank_op *op, const char *url)
{
	struct bank_challenge	*c;

	if (url == NULL || strlen(url) >= BANK_URL_MAX ||
	    (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's scaRedirect "
		    "link is not an absolute http(s) URL.");
		return;
	}
	op->st.pending = PEND_REDIRECT;
	if (url != op->st.url)
		snprintf(op->st.url, sizeof(op->st.url), "%s", url);
	c = challenge(op, "redirect", BANK_CHAL_REDIRECT, "Open this address "
	    "and authorize the access at your bank; it sends you back when "
	    "you are done.");
	snprintf(c->url, sizeof(c->url), "%s", url);
	state_out(op);
}

static void
present_decoupled(struct bank_op *op, const char *msg, long long wait_s)
{
	op->st.pending = PEND_DECOUPLED;
	op->st.poll_at = op->now + (wait_s > 0 ? wait_s : 1);
	challenge(op, "decoupled", BANK_CHAL_DECOUPLED, msg != NULL &&
	    *msg != '\0' ? msg : "Confirm the access in your banking app.");
	state_out(op);
}

/* The poll interval: the bank's Retry-After, else ours (whole seconds). */
static long long
poll_wait(const struct xs2a_resp *r)
{
	if (r != NULL && r->retry_after >= 0 && r->retry_after <= 300)
		return r->retry_after;
	return (xs2a_poll_ms() + 999) / 1000;
}

static void
present_methods(struct bank_op *op, json_t *methods)
{
	struct bank_challenge	*c;
	char			 prompt[BANK_PROMPT_MAX];
	json_t			*m;
	size_t			 i, n = 0, len;

	len = (size_t)snprintf(prompt, sizeof(prompt), "How do you want to "
	    "confirm the access?");
	op->st.nmethods = 0;
	json_array_foreach(methods, i, m) {
		const char	*id = str(m, "authenticationMethodId");
		const char	*name = str(m, "name");

		if (!path_safe(id, XS2A_ID_MAX) || n == BANK_MAX_OPTIONS)
			continue;
		snprintf(op->st.methods[n].id, XS2A_ID_MAX, "%s", id);
		/* The option is the bank's id when it fits, else a number. */
		if (strlen(id) < BANK_OPTION_MAX)
			snprintf(op->st.methods[n].opt, BANK_OPTION_MAX, "%s", id);
		else
			snprintf(op->st.methods[n].opt, BANK_OPTION_MAX,
			    "method_%zu", n + 1);
		if (len < sizeof(prompt))
			len += (size_t)snprintf(prompt + len, sizeof(prompt) -
			    len, "%s %s (%s)", n ? "," : "", name != NULL ? name :
			    str(m, "authenticationType") ? str(m,
			    "authenticationType") : id, op->st.methods[n].opt);
		n++;
	}
	if (n == 0) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank offers SCA "
		    "methods without a usable authenticationMethodId.");
		return;
	}
	op->st.nmethods = n;
	op->st.pending = PEND_METHOD;
	c = challenge(op, "sca_method", BANK_CHAL_CHOICE, prompt);
	for (i = 0; i < n; i++)
		snprintf(c->options[i], sizeof(c->options[i]), "%s",
		    op->st.methods[i].opt);
	c->noptions = n;
	state_out(op);
}

static void
present_tan(struct bank_op *op, const struct sca *s)
{
	char		 prompt[BANK_PROMPT_MAX];
	const char	*info = str(s->challenge, "additionalInformation");
	const char	*name = str(s->chosen, "name");

	if (info != NULL && *info != '\0')
		snprintf(prompt, sizeof(prompt), "%s", info);
	else if (s->psu_message != NULL && *s->psu_message != '\0')
		snprintf(prompt, sizeof(prompt), "%s", s->psu_message);
	else if (name != NULL)
		snprintf(prompt, sizeof(prompt), "Enter the TAN from %s.", name);
	else
		snprintf(prompt, sizeof(prompt), "Enter the TAN.");
	op->st.pending = PEND_TAN;
	op->st.nmethods = 0;
	challenge(op, "tan", BANK_CHAL_TAN, prompt);
	state_out(op);
}

/* ---- what comes next ---- */

static void
send_password(struct bank_op *op)
{
	if (op->secret == NULL || op->kind != OP_LOGIN || op->pw_sent) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank asks for the "
		    "password again.");
		return;
	}
	if (op->secret[0] == '\0') {
		xs2a_fail(op, ERR_LOGIN_CREDENTIALS_INCOMPLETE, "This bank needs "
		    "the online banking password.");
		return;
	}
	op->upd = UPD_PASSWORD;
	op->phase = op->st.auth[0] != '\0' ? PH_UPDATE : PH_START_AUTH;
}

/* The SCA failed at the bank: which entry depends on what was sent. */
static void
sca_failed(struct bank_op *op, const char *msg)
{
	enum err	e = op->upd == UPD_PASSWORD ? ERR_LOGIN_CREDENTIALS_INVALID :
	    op->upd == UPD_TAN ? ERR_INVALID_TAN : ERR_GENERIC_USER_ERROR;

	xs2a_fail(op, e, "%s", msg != NULL && *msg != '\0' ? msg :
	    "The bank reports the authorisation as failed.");
}

/*
 * Decides the next step from an answer to the consent or to its
 * authorisation: authorized, a challenge, or the next request.  The order
 * matters: a finished SCA first, then a redirect, a method to choose, a
 * TAN to enter, the password to send, an authorisation to start, and last
 * a confirmation to wait for.
 */
static void
sca_next(struct bank_op *op, const struct sca *s, const struct xs2a_resp *r)
{
	size_t	nmethods = s->methods ? json_array_size(s->methods) : 0;
	int	started;

	/* No authorisationId in the body: the one its links name. */
	auth_from_link(op, s->sca_status);
	auth_from_link(op, s->authorise);
	auth_from_link(op, s->select_method);
	auth_from_link(op, s->update_psu_auth);
	auth_from_link(op, s->update_psu_id);
	started = op->st.auth[0] != '\0';
	if (is(s->status, "finalised") || is(s->status, "exempted") ||
	    is(s->consent_status, "valid")) {
		op->confirm = 1;
		op->phase = PH_CONSENT_STATUS;
		return;
	}
	if (is(s->status, "failed") || is(s->status, "rejected")) {
		sca_failed(op, s->psu_message);
		return;
	}
	if (s->sca_redirect != NULL) {
		present_redirect(op, s->sca_redirect);
		return;
	}
	if (s->sca_oauth != NULL || (s->start_enc != NULL && s->start == NULL &&
	    s->start_psu_auth == NULL && s->start_psu_id == NULL)) {
		xs2a_fail(op, ERR_BANK_NOT_SUPPORTED, "The bank asks for %s, which "
		    "bankfeed does not offer.", s->sca_oauth != NULL ?
		    "the OAuth2 SCA approach" : "encrypted PSU authentication");
		return;
	}
	if (nmethods > 1 && s->chosen == NULL) {
		present_methods(op, s->methods);
		return;
	}
	if (nmethods == 1 && s->chosen == NULL && (s->select_method != NULL ||
	    s->start_method != NULL)) {
		const char *id = str(json_array_get(s->methods, 0),
		    "authenticationMethodId");

		/* One method: taken without asking the end user. */
		if (!path_safe(id, XS2A_ID_MAX) || xs2a_keep_secret(op, id) == -1) {
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's SCA "
			    "method has no usable authenticationMethodId.");
			return;
		}
		op->upd = UPD_METHOD;
		op->phase = started ? PH_UPDATE : PH_START_AUTH;
		return;
	}
	if (s->authorise != NULL || (s->challenge != NULL && !s->decoupled)) {
		present_tan(op, s);
		return;
	}
	if (s->update_psu_auth != NULL || s->start_psu_auth != NULL) {
		send_password(op);
		return;
	}
	if (!started && (s->start != NULL || s->start_psu_id != NULL)) {
		if (s->start_psu_id != NULL && op->st.psu_id[0] == '\0') {
			xs2a_fail(op, ERR_LOGIN_CREDENTIALS_INCOMPLETE, "This bank "
			    "needs the online banking user ID.");
			return;
		}
		op->upd = UPD_NONE;
		op->phase = PH_START_AUTH;
		return;
	}
	if (started || s->decoupled) {
		present_decoupled(op, s->psu_message, poll_wait(r));
		return;
	}
	xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank's answer names no "
	    "next step of the authorisation (scaStatus %s).",
	    s->status != NULL ? s->status : "missing");
}

/* ---- requests ---- */

/* The consent: all PSD2 accounts, or (second try) the PSU picks them. */
static int
consent_body(struct bank_op *op, struct buf *b)
{
	struct jw	w;
	char		until[DAY_STRLEN];
	long long	days = cfg.consent_days > 0 ? cfg.consent_days :
	    CONSENT_DAYS_DEFAULT;

	day_format(day_from_unix(op->now) + (long)days, until);
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "access");
	jw_obj(&w);
	if (op->consent_try == 0)
		jw_kstr(&w, "allPsd2", "allAccounts");
	else {
		jw_key(&w, "accounts");
		jw_raw(&w, "[]", 2);
		jw_key(&w, "balances");
		jw_raw(&w, "[]", 2);
		jw_key(&w, "transactions");
		jw_raw(&w, "[]", 2);
	}
	jw_obj_end(&w);
	jw_kbool(&w, "recurringIndicator", 1);
	jw_kstr(&w, "validUntil", until);
	jw_kint(&w, "frequencyPerDay", 4);
	jw_kbool(&w, "combinedServiceIndicator", 0);
	jw_obj_end(&w);
	return jw_finish(&w);
}

/* The body of an authorisation request: {} or one member. */
static int
auth_body(struct bank_op *op, struct buf *b)
{
	struct jw	w;

	jw_init(&w, b);
	jw_obj(&w);
	switch (op->upd) {
	case UPD_PASSWORD:
		jw_key(&w, "psuData");
		jw_obj(&w);
		jw_kstr(&w, "password", op->secret);
		jw_obj_end(&w);
		break;
	case UPD_METHOD:
		jw_kstr(&w, "authenticationMethodId", op->secret);
		break;
	case UPD_TAN:
		jw_kstr(&w, "scaAuthenticationData", op->secret);
		break;
	case UPD_NONE:
		break;
	}
	jw_obj_end(&w);
	return jw_finish(&w);
}

int
xs2a_auth_send(struct bank_op *op)
{
	char		url[XS2A_URL_MAX];
	struct buf	b;
	int		rc = -1, ok;

	buf_init(&b, 8192);
	op->stage = op->st.pending == PEND_DECOUPLED ||
	    (op->upd != UPD_PASSWORD && op->upd != UPD_NONE) ? XS_SCA : XS_LOGIN;
	switch (op->phase) {
	case PH_CONSENT:
		if (consent_body(op, &b) == -1 ||
		    xs2a_url(op, url, "/v1/consents") == -1)
			break;
		rc = xs2a_send(op, "POST", url, H_CONSENT, NULL, b.p, b.len);
		goto out;
	case PH_START_AUTH:
		ok = auth_body(op, &b) == 0 && xs2a_url(op, url,
		    "/v1/consents/%s/authorisations", op->st.consent) == 0;
		if (!ok)
			break;
		rc = xs2a_send(op, "POST", url, H_AUTH, NULL, b.p, b.len);
		goto out;
	case PH_UPDATE:
		if (op->st.auth[0] == '\0') {
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The bank "
			    "named no authorisationId to continue with.");
			goto out;
		}
		ok = auth_body(op, &b) == 0 && xs2a_url(op, url,
		    "/v1/consents/%s/authorisations/%s", op->st.consent,
		    op->st.auth) == 0;
		if (!ok)
			break;
		rc = xs2a_send(op, "PUT", url, H_AUTH, NULL, b.p, b.len);
		goto out;
	case PH_SCA_STATUS:
		if (xs2a_url(op, url, "/v1/consents/%s/authorisations/%s",
		    op->st.consent, op->st.auth) == -1)
			break;
		rc = xs2a_send(op, "GET", url, H_GET, NULL, NULL, 0);
		goto out;
	case PH_CONSENT_STATUS:
		if (xs2a_url(op, url, "/v1/consents/%s/status",
		    op->st.consent) == -1)
			break;
		rc = xs2a_send(op, "GET", url, H_GET, NULL, NULL, 0);
		goto out;
	default:
		break;
	}
	xs2a_fail(op, ERR_INTERNAL_ERROR, "cannot build the XS2A request");
out:
	if (b.p != NULL)
		sodium_memzero(b.p, b.cap);
	buf_free(&b);
	return rc;
}

/* ---- answers ---- */

/* POST /v1/consents refused: once more with a consent the PSU fills. */
static int
consent_again(struct bank_op *op, const struct bank_error *e,
    const struct xs2a_resp *r)
{
	if (op->consent_try != 0 || op->inst.approaches[0] == XA_EMBEDDED ||
	    (r->status != 400 && r->status != 401 && r->status != 405) ||
	    (e->code != ERR_BANK_REQUEST_REJECTED &&
	    e->code != ERR_INVALID_CONSENT_CONFIGURATION))
		return 0;
	op->consent_try = 1;
	return 1;
}

static void
consent_status(struct bank_op *op, json_t *j, const struct xs2a_resp *r)
{
	const char	*cs = str(j, "consentStatus");

	if (is(cs, "valid")) {
		authorized(op);
		return;
	}
	if (is(cs, "rejected") || is(cs, "revokedByPsu") ||
	    is(cs, "terminatedByTpp") || is(cs, "expired")) {
		xs2a_fail(op, is(cs, "rejected") ? ERR_GENERIC_USER_ERROR :
		    ERR_NO_ACTIVE_CONSENT, "%s", str(j, "psuMessage") != NULL ?
		    str(j, "psuMessage") : is(cs, "rejected") ? "The consent "
		    "was rejected at the bank." : "The consent is no longer "
		    "valid at the bank.");
		return;
	}
	if (cs == NULL) {
		xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The consent status "
		    "answer has no consentStatus.");
		return;
	}
	/* received, partiallyAuthorised: the SCA just ended, or goes on. */
	if (op->confirm)
		authorized(op);
	else if (op->st.pending == PEND_REDIRECT)
		present_redirect(op, op->st.url);
	else
		present_decoupled(op, op->st.prompt, poll_wait(r));
}

void
xs2a_auth_recv(struct bank_op *op, const struct xs2a_resp *r)
{
	struct bank_error	 e;
	struct sca		 s;
	json_t			*j;
	const char		*id;

	if (r->status < 200 || r->status > 299) {
		xs2a_map_error(r, op->stage, &e, &(int){ 0 });
		if (op->phase == PH_CONSENT && consent_again(op, &e, r))
			return;
		xs2a_fail_with(op, &e);
		return;
	}
	if ((j = xs2a_json_body(r, &e)) == NULL) {
		xs2a_fail_with(op, &e);
		return;
	}
	sca_read(j, r, &s);
	switch (op->phase) {
	case PH_CONSENT:
		id = str(j, "consentId");
		if (!path_safe(id, sizeof(op->st.consent))) {
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The consent "
			    "answer has no usable consentId.");
			break;
		}
		snprintf(op->st.consent, sizeof(op->st.consent), "%s", id);
		sca_next(op, &s, r);
		break;
	case PH_START_AUTH:
	case PH_UPDATE:
		id = str(j, "authorisationId");
		if (path_safe(id, sizeof(op->st.auth)))
			snprintf(op->st.auth, sizeof(op->st.auth), "%s", id);
		if (op->upd == UPD_PASSWORD)
			op->pw_sent = 1;
		if (s.status == NULL) {
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The "
			    "authorisation answer has no scaStatus.");
			break;
		}
		sca_next(op, &s, r);
		break;
	case PH_SCA_STATUS:
		if (is(s.status, "finalised") || is(s.status, "exempted")) {
			op->confirm = 1;
			op->phase = PH_CONSENT_STATUS;
		} else if (is(s.status, "failed"))
			sca_failed(op, s.psu_message != NULL ? s.psu_message :
			    "The confirmation in the banking app failed or was "
			    "declined.");
		else if (s.status == NULL)
			xs2a_fail(op, ERR_BANK_RESPONSE_INVALID, "The "
			    "authorisation status answer has no scaStatus.");
		else
			present_decoupled(op, op->st.prompt, poll_wait(r));
		break;
	case PH_CONSENT_STATUS:
		consent_status(op, j, r);
		break;
	default:
		xs2a_fail(op, ERR_INTERNAL_ERROR, "xs2a phase out of place");
		break;
	}
	json_decref(j);
}

void
xs2a_auth_answer(struct bank_op *op, const struct bank_answer *ans, size_t n)
{
	const char	*v;
	size_t		 i;

	switch (op->st.pending) {
	case PEND_METHOD:
		v = bank_answer_get(ans, n, "sca_method");
		for (i = 0; v != NULL && i < op->st.nmethods; i++)
			if (strcmp(v, op->st.methods[i].opt) == 0)
				break;
		if (v == NULL || i == op->st.nmethods) {
			xs2a_fail(op, ERR_INVALID_SECURITY_RESPONSE, "Choose one "
			    "of the options offered.");
			return;
		}
		if (xs2a_keep_secret(op, op->st.methods[i].id) == -1) {
			xs2a_fail(op, ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
		op->upd = UPD_METHOD;
		op->phase = op->st.auth[0] != '\0' ? PH_UPDATE : PH_START_AUTH;
		return;
	case PEND_TAN:
		v = bank_answer_get(ans, n, "tan");
		if (v == NULL || *v == '\0') {
			xs2a_fail(op, ERR_INVALID_TAN, "No TAN was entered.");
			return;
		}
		if (xs2a_keep_secret(op, v) == -1) {
			xs2a_fail(op, ERR_INTERNAL_ERROR, "out of memory");
			return;
		}
		op->upd = UPD_TAN;
		op->phase = PH_UPDATE;
		return;
	case PEND_DECOUPLED:
		/* Asked again before the bank's wait is over: no request. */
		if (op->now < op->st.poll_at) {
			challenge(op, "decoupled", BANK_CHAL_DECOUPLED,
			    op->st.prompt);
			state_out(op);
			return;
		}
		op->phase = op->st.auth[0] != '\0' ? PH_SCA_STATUS :
		    PH_CONSENT_STATUS;
		return;
	case PEND_REDIRECT:
		op->phase = PH_CONSENT_STATUS;
		return;
	default:
		xs2a_fail(op, ERR_ALREADY_AUTHORIZED, "%s", "");
		return;
	}
}
