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

#include "core/config.h"
#include "http/http.h"

/*
 * Failed token requests are limited per client address (IPv6: per /64)
 * and per client id, each a bucket of one table (ratelimit.c):
 * oauth-failure-burst at once, then oauth-failures-per-minute.  A request
 * takes a token from both before its secret is checked, so requests sent
 * at once cannot run more checks than the buckets hold, and gives them
 * back when it succeeds or finds the checks busy: only failures count.
 * The address limit stops one machine trying many ids; the id limit
 * stops many machines trying one id.  Ids that do not exist are limited
 * exactly as those that do, so the limits tell nothing about which exist.
 *
 * A client whose id and secret are remembered (clients.c) is let through
 * before the limits: failures of others on its id or from its address
 * (a shared NAT) do not lock it out.  One that is not remembered, after
 * a restart or a long pause, is refused like anyone while its buckets are
 * empty.  Behind a reverse proxy every request comes from the proxy's
 * address: the address limit then holds for all clients together.
 */
static struct ratelimit	failures = { .lock = PTHREAD_MUTEX_INITIALIZER };

#define FAILURE_RATE	((double)cfg.oauth_failures_per_minute / 60.0)
#define FAILURE_BURST	((double)cfg.oauth_failure_burst)

/* The buckets of a failure: the peer's address's and the client id's. */
static void
failure_keys(const char *peer_ip, const char *id, char akey[RL_KEY_MAX],
    char ckey[RL_KEY_MAX])
{
	char	addr[sizeof(((struct req *)0)->peer_ip) + 4];

	ratelimit_addr_key(peer_ip, addr, sizeof(addr));
	snprintf(akey, RL_KEY_MAX, "addr %s", addr);
	snprintf(ckey, RL_KEY_MAX, "client %s", id);
}

/* 0, or -1 with *retry_after when either bucket is empty. */
static int
failures_take(const char *peer_ip, const char *id, int *retry_after)
{
	char		 akey[RL_KEY_MAX], ckey[RL_KEY_MAX];
	const char	*keys[] = { akey, ckey };

	failure_keys(peer_ip, id, akey, ckey);
	return ratelimit_take(&failures, keys, 2, FAILURE_RATE, FAILURE_BURST,
	    retry_after);
}

/* A request that succeeded or found the checks busy was no failure. */
static void
failures_give(const char *peer_ip, const char *id)
{
	char		 akey[RL_KEY_MAX], ckey[RL_KEY_MAX];
	const char	*keys[] = { akey, ckey };

	failure_keys(peer_ip, id, akey, ckey);
	ratelimit_give(&failures, keys, 2, FAILURE_RATE, FAILURE_BURST);
}

/*
 * Answers a token request whose check found v: 503 while the checks are
 * all busy, 401 (sent hold_ms later) when refused, else a new token.
 * Runs on the HTTP thread, or on a thread of the check pool (checked(),
 * with hold_ms 0: a pool thread resumes the request itself).
 */
static void
token_answer(struct req *r, const char *id, enum client_verdict v,
    long long hold_ms)
{
	char		token[TOKEN_MAX];
	long long	expires_in;
	struct jw	w;

	if (v == CLIENT_BUSY) {
		/* Retry-After 1 (resp_error's for 503): a check takes about
		 * 0.1 s, so one is free again within the second. */
		resp_error_field(r, ERR_SERVICE_UNAVAILABLE, "client",
		    "Too many client secrets are being checked at once; "
		    "try again after Retry-After seconds.");
		return;
	}
	if (v != CLIENT_OK) {
		resp_header(r, "WWW-Authenticate", "Basic realm=\"bankfeed\"");
		resp_error_field(r, ERR_INVALID_CLIENT_AUTHORIZATION, "client",
		    "Unknown client or wrong secret.");
		hold_answer(r, hold_ms);
		return;
	}
	if (clients_token_issue(id, token, &expires_in) != 0) {
		resp_internal(r, "token insert failed");
		return;
	}
	memcpy(r->client_id, id, strnlen(id, ID_MAX - 1));
	r->client_id[strnlen(id, ID_MAX - 1)] = '\0';
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "access_token", token);
	jw_kstr(&w, "token_type", "Bearer");
	jw_kint(&w, "expires_in", expires_in);
	jw_obj_end(&w);
	sodium_memzero(token, sizeof(token));
}

/* The check pool's answer, on its thread (clients_check_end). */
static void
checked(struct req *r, const struct client_check *cc, enum client_verdict v)
{
	char	ip[46];

	if (v == CLIENT_OK) {
		req_client_ip(r, ip);
		failures_give(ip, cc->id);
	}
	token_answer(r, cc->id, v, 0);
}

/*
 * Checks id and secret within the limits: 0 with *v what the check found
 * (CLIENT_OK, CLIENT_BAD, CLIENT_BUSY, or CLIENT_QUEUED when r is
 * suspended and checked() will answer it) and *hold_ms how long to hold a
 * CLIENT_BAD answer (clients_check_end), or -1 when the limits refuse to
 * check now, with *retry_after the seconds until they would.
 */
static int
check_within_limits(struct req *r, struct client_check *cc, const char *id,
    const char *secret, enum client_verdict *v, long long *hold_ms,
    int *retry_after)
{
	char	ip[46];

	if ((*v = clients_check_begin(cc, id, secret)) != CLIENT_UNCHECKED)
		return 0;
	/* behind trusted proxies, the address they name (proxy.c) */
	req_client_ip(r, ip);
	if (failures_take(ip, id, retry_after) == -1)
		return -1;
	if ((*v = clients_check_end(cc, secret, hold_ms, r, checked)) ==
	    CLIENT_BUSY)
		failures_give(ip, id);
	return 0;
}

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
	char		 grant[64], id[128], secret[256], tmp[32];
	const char	*ct = req_header(r, "Content-Type");
	json_t		*json = NULL;
	long long	 hold_ms = 0;
	struct client_check cc;
	enum client_verdict v = CLIENT_BAD;
	int		 b, retry;

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
	if (b == 0 && check_within_limits(r, &cc, id, secret, &v, &hold_ms,
	    &retry) == -1) {
		snprintf(tmp, sizeof(tmp), "%d", retry);
		resp_header(r, "Retry-After", tmp);
		resp_error_field(r, ERR_TOO_MANY_REQUESTS, "client",
		    "Too many failed attempts from this address or with this "
		    "client id; try again after Retry-After seconds.");
		goto out;
	}
	/* Queued: r belongs to the check pool now. */
	if (v != CLIENT_QUEUED)
		token_answer(r, id, v, hold_ms);
out:
	clients_check_free(&cc);
	sodium_memzero(secret, sizeof(secret));
	json_decref(json);
}
