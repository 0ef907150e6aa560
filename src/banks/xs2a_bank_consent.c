/*
 * sandbox-bank: consents.  POST /v1/consents reads the access asked for
 * (allPsd2, available accounts, or lists of IBANs and masked PANs), the
 * validity and the frequency, and decides the consent's SCA approach
 * (approach_of): the TPP's preference headers first, then the PSU's own
 * (xb_user_approaches), else EMBEDDED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banks/xs2a_bank_int.h"
#include "core/config.h"
#include "core/day.h"
#include "http/http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

const struct xb_user_approach xb_user_approaches[] = {
	{ "user_sca_decoupled", XB_DECOUPLED },
	{ "user_sca_redirect", XB_REDIRECT },
};
const size_t xb_nuser_approaches = NELEM(xb_user_approaches);

/*
 * The consent's SCA approach: REDIRECT or DECOUPLED when the TPP prefers
 * it ("true"); else the PSU's own, unless the TPP said "false" to it;
 * else EMBEDDED.  The headers' values: 1, 0, -1 absent.
 */
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
int
xb_psu_header(struct req *r, char out[XB_PSU_MAX])
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
	if (parse_consent(r, b, &cr) == -1 || xb_psu_header(r, psu) == -1 ||
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
int
xb_consent_of_path(struct req *r, struct xb_consent **c)
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

	if (xb_consent_of_path(r, &c) == -1)
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

	if (xb_consent_of_path(r, &c) == -1)
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

	if (xb_consent_of_path(r, &c) == -1)
		return;
	c->status = CST_TERMINATED;
	xb_unlock();
	resp_empty(r, 204);
}
