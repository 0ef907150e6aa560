/*
 * auth: bearer tokens on /v1 routes, and the per-client request rate limit.
 */
#include "http/http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"

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
 * A token bucket per client: it holds up to rate_burst tokens, refills at
 * rate_limit per second, and each request takes one.  Buckets live in a
 * fixed hash table, probed over RL_PROBE slots from the client's hash.  A
 * bucket that has refilled fully holds nothing a new bucket would not, so
 * such buckets are taken over freely: two busy clients never share one
 * unless RL_PROBE busy clients hash next to each other.
 */
#define RL_SLOTS 1024
#define RL_PROBE 8

struct bucket {
	char	client_id[ID_MAX];
	double	tokens;
	double	last;		/* monotonic seconds */
};

static struct bucket	 rl_table[RL_SLOTS];
static pthread_mutex_t	 rl_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
slot_of(const char *id)
{
	unsigned	h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % RL_SLOTS;
}

/*
 * The client's bucket, or a fresh full one in a free, refilled or (when
 * every probed bucket is busy) the least recently used slot.
 */
static struct bucket *
bucket_of(const char *client_id, double now, double rate, double burst)
{
	struct bucket	*b, *spare = NULL, *oldest = NULL;
	unsigned	 i, h = slot_of(client_id);

	for (i = 0; i < RL_PROBE; i++) {
		b = &rl_table[(h + i) % RL_SLOTS];
		if (strcmp(b->client_id, client_id) == 0)
			return b;
		if (spare == NULL && (b->client_id[0] == '\0' ||
		    b->tokens + (now - b->last) * rate >= burst))
			spare = b;
		if (oldest == NULL || b->last < oldest->last)
			oldest = b;
	}
	b = spare != NULL ? spare : oldest;
	snprintf(b->client_id, sizeof(b->client_id), "%s", client_id);
	b->tokens = burst;
	b->last = now;
	return b;
}

int
rate_limit_check(const char *client_id, int *retry_after)
{
	struct bucket	*b;
	double		 now, rate = (double)cfg.rate_limit;
	double		 burst = (double)(cfg.rate_burst > 0 ? cfg.rate_burst : 1);
	int		 rc = 0;

	if (cfg.rate_limit <= 0)
		return 0;
	pthread_mutex_lock(&rl_lock);
	now = clock_mono_s();
	b = bucket_of(client_id, now, rate, burst);
	b->tokens += (now - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else {
		/* The true wait until one token is back, rounded up. */
		double wait = (1.0 - b->tokens) / rate;

		*retry_after = (int)wait + ((double)(int)wait < wait ? 1 : 0);
		if (*retry_after < 1)
			*retry_after = 1;
		rc = -1;
	}
	pthread_mutex_unlock(&rl_lock);
	return rc;
}

void
rate_limit_reset(void)
{
	pthread_mutex_lock(&rl_lock);
	memset(rl_table, 0, sizeof(rl_table));
	pthread_mutex_unlock(&rl_lock);
}
