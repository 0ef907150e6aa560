/*
 * idem: Idempotency-Key on POST.  The first request with a key claims it
 * (a row with status 0) before it runs; its answer is stored with the key.
 * A repeat with the same key and the same method, path and body gets the
 * stored answer again; with anything else, 422 IDEMPOTENCY_KEY_REUSED; while
 * the first still runs, 423 RESOURCE_BUSY.  Server errors are not stored,
 * so a retry after one acts again.  Keys are kept 24 hours.
 */
#include "http/http.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#define IDEM_TTL (24 * 3600)

/* The catalog code of a stored error answer (its error.code), or 0. */
static int
stored_err_code(const char *body)
{
	json_t	*j = json_loads(body, 0, NULL);
	int	 code;

	code = (int)json_integer_value(json_object_get(json_object_get(j,
	    "error"), "code"));
	json_decref(j);
	return code;
}

static void
request_hash(struct req *r, char out[65])
{
	crypto_generichash_state	st;
	unsigned char			h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)r->method,
	    strlen(r->method) + 1);
	crypto_generichash_update(&st, (const unsigned char *)r->url,
	    strlen(r->url) + 1);
	if (r->body.len > 0)
		crypto_generichash_update(&st, (const unsigned char *)r->body.p,
		    r->body.len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int
idem_begin(struct req *r)
{
	const char	*key = req_header(r, "Idempotency-Key");
	struct db	*db = store_db();
	struct db_stmt	*s;
	enum db_rc	 rc;
	long long	 now = (long long)time(NULL);
	int		 answered = 1;

	r->idem_key[0] = '\0';
	if (key == NULL || r->client_id[0] == '\0')
		return 0;
	if (*key == '\0' || strlen(key) >= sizeof(r->idem_key)) {
		resp_error_field(r, ERR_INVALID_REQUEST, "Idempotency-Key",
		    "Must be 1 to %zu characters long.", sizeof(r->idem_key) - 1);
		return 1;
	}
	if (db == NULL) {
		resp_internal(r, "no database connection");
		return 1;
	}
	request_hash(r, r->idem_hash);
	db_run(db, "DELETE FROM idempotency_keys WHERE client_id = ? AND "
	    "idem_key = ? AND created_at < ?", "tti", r->client_id, key,
	    (int64_t)(now - IDEM_TTL));
	rc = db_run(db, "INSERT INTO idempotency_keys (client_id, idem_key, "
	    "request_hash, status, body, created_at) VALUES (?, ?, ?, 0, NULL, ?)",
	    "ttti", r->client_id, key, r->idem_hash, (int64_t)now);
	if (rc == DB_OK) {
		snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
		return 0;
	}
	if (rc != DB_CONSTRAINT) {
		resp_internal(r, "idempotency key insert failed");
		return 1;
	}
	s = db_q(db, "SELECT request_hash, status, body FROM idempotency_keys "
	    "WHERE client_id = ? AND idem_key = ?", "tt", r->client_id, key);
	if (s == NULL || db_step(s) != DB_ROW)
		resp_internal(r, "idempotency key lookup failed");
	else if (strcmp(db_col_text(s, 0), r->idem_hash) != 0)
		resp_error_field(r, ERR_IDEMPOTENCY_KEY_REUSED, "Idempotency-Key",
		    "This key was used with another request; use a new key for "
		    "a new request.");
	else if (db_col_int(s, 1) == 0) {
		resp_header(r, "Retry-After", "1");
		resp_error_field(r, ERR_RESOURCE_BUSY, "Idempotency-Key",
		    "The first request with this key is still running.");
	} else {
		struct jw	 w;
		const char	*body = db_col_text(s, 2);

		resp_begin(r, (int)db_col_int(s, 1), &w);
		if (body != NULL && *body != '\0') {
			jw_raw(&w, body, strlen(body));
			/* A replayed error counts as an error answer again. */
			if (r->status >= 400)
				r->err_code = stored_err_code(body);
		} else
			r->out_empty = 1;
		resp_header(r, "Idempotent-Replayed", "true");
	}
	db_done(s);
	return answered;
}

void
idem_end(struct req *r)
{
	struct db	*db;

	if (r->idem_key[0] == '\0' || (db = store_db()) == NULL)
		return;
	if (r->status >= 500)
		db_run(db, "DELETE FROM idempotency_keys WHERE client_id = ? AND "
		    "idem_key = ?", "tt", r->client_id, r->idem_key);
	else
		db_run(db, "UPDATE idempotency_keys SET status = ?, body = ? "
		    "WHERE client_id = ? AND idem_key = ?", "ntt" "t", r->status,
		    r->out_empty ? "" : buf_str(&r->out), r->client_id, r->idem_key);
}
