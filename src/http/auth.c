/*
 * auth: bearer tokens on /v1 routes, and the per-client request rate limit.
 */
#include "http/http.h"

#include <strings.h>

#include "api/api.h"
#include "core/config.h"
#include "store/store.h"

int
auth_bearer(struct req *r)
{
	const char	*h = req_header(r, "Authorization");
	const char	*why;

	if (h == NULL)
		why = "Send Authorization: Bearer <access_token> (POST /oauth/token gives one).";
	else if (strncasecmp(h, "Bearer ", 7) != 0)
		why = "The Authorization header must use the Bearer scheme.";
	else if (clients_token_lookup(h + 7, r->client_id) != 0)
		why = "The access token is unknown or expired; get a new one from POST /oauth/token.";
	else
		return 0;
	r->client_id[0] = '\0';
	resp_header(r, "WWW-Authenticate", "Bearer realm=\"bankfeed\"");
	resp_error_field(r, ERR_INVALID_CLIENT_AUTHORIZATION, "Authorization",
	    "%s", why);
	return -1;
}

/*
 * A token bucket per client: it holds up to rate_burst requests and
 * refills at rate_limit a second (ratelimit.c).
 */
static struct ratelimit	v1_limit = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
rate_limit_check(const char *client_id, int *retry_after)
{
	struct db	*db = store_db();

	/* Several nodes on one database: the database holds the bucket. */
	if (db != NULL && db_shared(db))
		return ratelimit_take_db(db, client_id, (double)cfg.rate_limit,
		    (double)cfg.rate_burst, retry_after);
	return ratelimit_take(&v1_limit, &client_id, 1, (double)cfg.rate_limit,
	    (double)cfg.rate_burst, retry_after);
}

void
rate_limit_reset(void)
{
	ratelimit_reset(&v1_limit);
}
