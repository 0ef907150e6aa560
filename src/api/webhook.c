/*
 * Webhook: the one URL a client receives events at (jobs/webhooks.h sends
 * them).  The secret goes in with PUT and never comes out again: not in a
 * response, not in a log line.
 */
#include "api/api.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "http/http.h"
#include "jobs/webhooks.h"
#include "store/store.h"

/*
 * The parsed body keeps the secret in plain text until the request is freed
 * (the server wipes only the raw body): wipe it as soon as it was used,
 * whether it was accepted or not.
 */
static void
wipe_secret(json_t *body)
{
	json_t	*j = json_object_get(body, "secret");

	if (json_is_string(j))
		sodium_memzero((char *)(uintptr_t)json_string_value(j),
		    json_string_length(j));
}

static void
write_webhook(struct req *r, const char *url, long long created_at)
{
	struct jw	w;
	char		ts[32];

	time_rfc3339(created_at, ts, sizeof(ts));
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "url", url);
	jw_kstr(&w, "created_at", ts);
	jw_obj_end(&w);
}

void
h_webhook_put(struct req *r)
{
	static const char *const fields[] = { "url", "secret", NULL };
	struct vctx	 v;
	const char	*url, *secret;
	struct db	*db = store_db();
	long long	 created_at;
	size_t		 secretlen = 0;
	int		 ok;

	v_init(&v);
	v_known(&v, r->json, NULL, fields);
	url = v_string(&v, r->json, NULL, "url", 1, 1, WEBHOOK_URL_MAX);
	ok = url != NULL ? webhooks_url_ok(url) : 1;
	if (ok == 0)
		v_add(&v, "url", "Must be an absolute http:// or https:// URL "
		    "with a host.");
	else if (ok == -1)
		v_add(&v, "url", "Must not name this host or a private, "
		    "link-local or loopback address: this server refuses them "
		    "(BANKFEED_WEBHOOK_PRIVATE=0).");
	secret = v_string(&v, r->json, NULL, "secret", 1, WEBHOOK_SECRET_MIN,
	    WEBHOOK_SECRET_MAX);
	if (secret != NULL)
		secretlen = strlen(secret);
	if (v_failed(&v)) {
		v_respond(&v, r);
		goto out;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	if (webhooks_set(db, r->client_id, url, secret, secretlen,
	    &created_at) == -1) {
		resp_internal(r, "cannot set the webhook");
		goto out;
	}
	write_webhook(r, url, created_at);
out:
	wipe_secret(r->json);
	v_free(&v);
}

void
h_webhook_get(struct req *r)
{
	struct db	*db = store_db();
	char		 url[WEBHOOK_URL_MAX + 1];
	long long	 created_at;
	int		 rc;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	rc = webhooks_get(db, r->client_id, url, sizeof(url), &created_at);
	if (rc == -1)
		resp_internal(r, db_errmsg(db));
	else if (rc == 1)
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
	else
		write_webhook(r, url, created_at);
}

void
h_webhook_delete(struct req *r)
{
	struct db	*db = store_db();
	int		 rc;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	rc = webhooks_delete(db, r->client_id);
	if (rc == -1)
		resp_internal(r, "cannot delete the webhook");
	else if (rc == 1)
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
	else
		resp_empty(r, 204);
}
