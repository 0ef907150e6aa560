/*
 * POST /oauth/token: OAuth 2.0 client credentials (RFC 6749 section 4.4).
 * The client authenticates with HTTP Basic (id:secret, form-encoded as
 * RFC 6749 2.3.1 says) or with client_id/client_secret body fields.
 */
#include "api/api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

/* Reads id and secret from the Basic header.  0, 1 when absent, -1 bad. */
static int
basic_credentials(struct req *r, char *id, size_t idn, char *secret,
    size_t secretn)
{
	const char	*h = req_header(r, "Authorization");
	char		 dec[512];
	size_t		 n;
	char		*colon;
	int		 rc = -1;

	if (h == NULL)
		return 1;
	if (strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	if (sodium_base642bin((unsigned char *)dec, sizeof(dec) - 1, h + 6,
	    strlen(h + 6), " ", &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	dec[n] = '\0';
	if ((colon = strchr(dec, ':')) != NULL &&
	    form_decode(dec, (size_t)(colon - dec), id, idn) == 0 &&
	    form_decode(colon + 1, strlen(colon + 1), secret, secretn) == 0)
		rc = 0;
	sodium_memzero(dec, sizeof(dec));
	return rc;
}

/* A field from a form body, or from a JSON body when sent as JSON. */
static int
body_field(struct req *r, json_t *json, const char *key, char *out, size_t n)
{
	if (json != NULL) {
		const char *s = json_string_value(json_object_get(json, key));

		if (s == NULL || strlen(s) >= n)
			return -1;
		snprintf(out, n, "%s", s);
		return 0;
	}
	return r->body.len > 0 ? form_get(r->body.p, r->body.len, key, out, n) : -1;
}

void
h_oauth_token(struct req *r)
{
	char		 grant[64], id[128], secret[256], token[TOKEN_MAX];
	const char	*ct = req_header(r, "Content-Type");
	json_t		*json = NULL;
	long long	 expires_in;
	struct jw	 w;
	struct client_check cc;
	enum client_verdict v = CLIENT_BAD;
	int		 b;

	id[0] = secret[0] = '\0';
	memset(&cc, 0, sizeof(cc));
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
		json = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, NULL);
		if (!json_is_object(json)) {
			resp_error_field(r, ERR_INVALID_REQUEST, "body",
			    "Malformed JSON; send grant_type=client_credentials "
			    "as a form instead.");
			goto out;
		}
	} else if (r->body.len > 0 && ct != NULL && strncasecmp(ct,
	    "application/x-www-form-urlencoded", 33) != 0) {
		resp_error_field(r, ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type",
		    "Send application/x-www-form-urlencoded (RFC 6749).");
		goto out;
	}
	if (body_field(r, json, "grant_type", grant, sizeof(grant)) != 0 ||
	    strcmp(grant, "client_credentials") != 0) {
		resp_error_field(r, ERR_INVALID_REQUEST, "grant_type",
		    "Must be client_credentials.");
		goto out;
	}
	b = basic_credentials(r, id, sizeof(id), secret, sizeof(secret));
	if (b == 1)
		b = body_field(r, json, "client_id", id, sizeof(id)) == 0 &&
		    body_field(r, json, "client_secret", secret,
		    sizeof(secret)) == 0 ? 0 : -1;
	if (b == 0 && (v = clients_check_begin(&cc, id, secret)) ==
	    CLIENT_UNCHECKED)
		v = clients_check_end(&cc, secret);
	if (v == CLIENT_BUSY) {
		resp_error_field(r, ERR_SERVICE_UNAVAILABLE, "client",
		    "Too many client secrets are being checked at once; "
		    "try again after Retry-After seconds.");
		goto out;
	}
	if (v != CLIENT_OK) {
		resp_header(r, "WWW-Authenticate", "Basic realm=\"bankfeed\"");
		resp_error_field(r, ERR_INVALID_CLIENT_AUTHORIZATION, "client",
		    "Unknown client or wrong secret.");
		goto out;
	}
	if (clients_token_issue(id, token, &expires_in) != 0) {
		resp_internal(r, "token insert failed");
		goto out;
	}
	memcpy(r->client_id, id, strnlen(id, ID_MAX - 1));
	r->client_id[strnlen(id, ID_MAX - 1)] = '\0';
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "access_token", token);
	jw_kstr(&w, "token_type", "Bearer");
	jw_kint(&w, "expires_in", expires_in);
	jw_obj_end(&w);
out:
	clients_check_free(&cc);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(token, sizeof(token));
	json_decref(json);
}
