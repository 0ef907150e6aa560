/*
 * The routes outside the API's resources: GET /health and GET /v1/errors
 * (no token), and GET /metrics (a token of its own).
 */
#include "api/api.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/errors_doc.h"
#include "core/metrics.h"
#include "http/http.h"
#include "jobs/tasks.h"
#include "jobs/webhooks.h"
#include "store/store.h"

#define METRICS_MAX	(4u << 20)	/* the largest exposition we write */

void
h_health(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s = NULL;
	struct jw	 w;
	int		 ok;

	ok = db != NULL && (s = db_q(db, "SELECT 1", "")) != NULL &&
	    db_step(s) == DB_ROW;
	db_done(s);
	if (!ok) {
		resp_error_field(r, ERR_SERVICE_UNAVAILABLE, "database",
		    "The database cannot be reached.");
		return;
	}
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "status", "ok");
	jw_kstr(&w, "version", BANKFEED_VERSION);
	jw_obj_end(&w);
}

void
h_errors_list(struct req *r)
{
	struct jw	w;

	resp_begin(r, 200, &w);
	errors_write_list(&w);
}

/*
 * Whether the request carries the metrics token (Authorization: Bearer).
 * Both sides are hashed first, so the comparison takes the same time
 * whatever the token's length and wherever it differs.
 */
static int
metrics_token_ok(struct req *r)
{
	const char	*h = req_header(r, "Authorization");
	unsigned char	 want[crypto_generichash_BYTES];
	unsigned char	 got[crypto_generichash_BYTES];
	int		 ok;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	crypto_generichash(want, sizeof(want),
	    (const unsigned char *)cfg.metrics_token, strlen(cfg.metrics_token),
	    NULL, 0);
	crypto_generichash(got, sizeof(got), (const unsigned char *)h + 7,
	    strlen(h + 7), NULL, 0);
	ok = sodium_memcmp(want, got, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/*
 * GET /metrics: the Prometheus text exposition.  The route exists only
 * while a metrics token is set (the router skips it otherwise); the
 * token is the --metrics-token setting, not a client's.
 */
void
h_metrics(struct req *r)
{
	struct db	*db = store_db();
	struct buf	 b;

	if (cfg.metrics_token == NULL || cfg.metrics_token[0] == '\0') {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	if (!metrics_token_ok(r)) {
		resp_header(r, "WWW-Authenticate", "Bearer realm=\"bankfeed metrics\"");
		resp_error_field(r, ERR_INVALID_CLIENT_AUTHORIZATION,
		    "Authorization", "Send Authorization: Bearer <token>, with "
		    "the server's metrics token (--metrics-token).");
		return;
	}
	buf_init(&b, METRICS_MAX);
	if (metrics_http_write(&b) == -1 || metrics_write(&b) == -1)
		resp_internal(r, "metrics larger than their buffer");
	else if (db == NULL || tasks_write_metrics(db, &b) == -1 ||
	    webhooks_write_metrics(db, &b) == -1)
		resp_error_field(r, ERR_SERVICE_UNAVAILABLE, "database",
		    "The database cannot be read.");
	else
		resp_text(r, 200, METRICS_CONTENT_TYPE, buf_str(&b), b.len);
	buf_free(&b);
}
