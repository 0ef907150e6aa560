/*
 * ratelimit: token buckets by key.  A bucket holds up to burst tokens,
 * refills at rate tokens a second, and each counted request takes one.  A
 * table serves one kind of limit (one rate and burst): the per-client
 * limit of /v1 routes (auth.c) and the failure limits of /oauth/token
 * (oauth.c) each have their own.
 *
 * Buckets live in a fixed hash table, probed over RL_PROBE slots from the
 * key's hash.  A bucket that has refilled fully holds nothing a new bucket
 * would not, so such buckets are taken over freely: two busy keys never
 * share one unless RL_PROBE busy keys hash next to each other.  Keys are
 * told apart by their first RL_KEY_MAX - 1 bytes.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "store/db.h"

#define RL_PROBE	8
#define RL_KEYS_MAX	4	/* keys one call may take from */

static unsigned
slot_of(const char *key)
{
	unsigned	h = 2166136261u;
	size_t		i;

	for (i = 0; key[i] != '\0' && i < RL_KEY_MAX - 1; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h % RL_SLOTS;
}

static int
is_key(const struct rl_bucket *b, const char *key)
{
	return b->key[0] != '\0' && strncmp(b->key, key, RL_KEY_MAX - 1) == 0;
}

/* The key's bucket, or NULL when it has none. */
static struct rl_bucket *
find(struct ratelimit *t, const char *key)
{
	unsigned	i, h = slot_of(key);

	for (i = 0; i < RL_PROBE; i++)
		if (is_key(&t->slot[(h + i) % RL_SLOTS], key))
			return &t->slot[(h + i) % RL_SLOTS];
	return NULL;
}

/*
 * The key's bucket, or a fresh full one in a free, refilled or (when
 * every probed bucket is busy) the least recently used slot.
 */
static struct rl_bucket *
bucket_of(struct ratelimit *t, const char *key, double now, double rate,
    double burst)
{
	struct rl_bucket	*b, *spare = NULL, *oldest = NULL;
	unsigned		 i, h = slot_of(key);

	if ((b = find(t, key)) != NULL)
		return b;
	for (i = 0; i < RL_PROBE; i++) {
		b = &t->slot[(h + i) % RL_SLOTS];
		if (spare == NULL && (b->key[0] == '\0' ||
		    b->tokens + (now - b->last) * rate >= burst))
			spare = b;
		if (oldest == NULL || b->last < oldest->last)
			oldest = b;
	}
	b = spare != NULL ? spare : oldest;
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->tokens = burst;
	b->last = now;
	return b;
}

static void
refill(struct rl_bucket *b, double now, double rate, double burst)
{
	b->tokens += (now - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
}

int
ratelimit_take(struct ratelimit *t, const char *const *keys, size_t n,
    double rate, double burst, int *retry_after)
{
	struct rl_bucket	*b[RL_KEYS_MAX];
	double			 now, wait = 0.0;
	size_t			 i;

	if (rate <= 0.0 || n == 0)
		return 0;
	if (n > RL_KEYS_MAX)
		n = RL_KEYS_MAX;
	if (burst < 1.0)
		burst = 1.0;
	pthread_mutex_lock(&t->lock);
	now = clock_mono();
	for (i = 0; i < n; i++) {
		b[i] = bucket_of(t, keys[i], now, rate, burst);
		refill(b[i], now, rate, burst);
		if (b[i]->tokens >= 1.0)
			b[i]->tokens -= 1.0;
		else {
			/* The true wait until this one holds a token again. */
			if ((1.0 - b[i]->tokens) / rate > wait)
				wait = (1.0 - b[i]->tokens) / rate;
			b[i] = NULL;
		}
	}
	/* All or nothing: the tokens taken go back when one was missing. */
	for (i = 0; wait > 0.0 && i < n; i++)
		if (b[i] != NULL && is_key(b[i], keys[i]))
			b[i]->tokens += 1.0;
	pthread_mutex_unlock(&t->lock);
	if (wait <= 0.0)
		return 0;
	*retry_after = wait < 1.0 ? 1 : (int)ceil(wait);
	return -1;
}

void
ratelimit_give(struct ratelimit *t, const char *const *keys, size_t n,
    double rate, double burst)
{
	struct rl_bucket	*b;
	double			 now;
	size_t			 i;

	if (rate <= 0.0)
		return;
	if (burst < 1.0)
		burst = 1.0;
	pthread_mutex_lock(&t->lock);
	now = clock_mono();
	for (i = 0; i < n; i++)
		if ((b = find(t, keys[i])) != NULL) {
			refill(b, now, rate, burst);
			b->tokens = b->tokens + 1.0 > burst ? burst :
			    b->tokens + 1.0;
		}
	pthread_mutex_unlock(&t->lock);
}

/*
 * The bucket in the database (rate_buckets, schema migration 6), for
 * nodes sharing one: one statement refills it and takes a token, or
 * leaves it short and says so (ok), decided by the database.  Tokens are
 * counted in millionths, times in unix milliseconds.  The refilled amount
 * is written out in each place it is used: SET expressions all read the
 * row as it was.
 */
#define RL_MICRO	1000000LL
#define RL_REFILLED	"(CASE WHEN rate_buckets.tokens + (? - rate_buckets.at) " \
	"* ? > ? THEN ? ELSE rate_buckets.tokens + (? - rate_buckets.at) * ? END)"

int
ratelimit_take_db(struct db *db, const char *key, double rate, double burst,
    int *retry_after)
{
	struct db_stmt	*s;
	const int64_t	 one = RL_MICRO;
	int64_t		 now, per_ms, full, tokens;
	int		 ok = 1;
	struct timespec	 ts;

	if (rate <= 0.0)
		return 0;
	if (burst < 1.0)
		burst = 1.0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	per_ms = (int64_t)(rate * RL_MICRO / 1000.0);
	full = (int64_t)(burst * RL_MICRO);
	s = db_q(db, "INSERT INTO rate_buckets (bucket, tokens, at, ok) VALUES "
	    "(?, ?, ?, 1) ON CONFLICT (bucket) DO UPDATE SET tokens = CASE WHEN "
	    RL_REFILLED " >= ? THEN " RL_REFILLED " - ? ELSE " RL_REFILLED
	    " END, ok = CASE WHEN " RL_REFILLED " >= ? THEN 1 ELSE 0 END, at = ? "
	    "RETURNING tokens, ok", "tiiiiiiiiiiiiiiiiiiiiiiiiiiiiii",
	    key, full - one, now,
	    now, per_ms, full, full, now, per_ms, one,
	    now, per_ms, full, full, now, per_ms, one,
	    now, per_ms, full, full, now, per_ms,
	    now, per_ms, full, full, now, per_ms, one, now);
	if (s == NULL)
		return 0;	/* the database failing is answered elsewhere */
	if (db_step(s) == DB_ROW) {
		tokens = db_col_int(s, 0);
		ok = (int)db_col_int(s, 1);
		if (!ok) {
			double wait = (double)(RL_MICRO - tokens) / RL_MICRO /
			    rate;

			*retry_after = wait < 1.0 ? 1 : (int)ceil(wait);
		}
	}
	db_done(s);
	return ok ? 0 : -1;
}

void
ratelimit_reset(struct ratelimit *t)
{
	pthread_mutex_lock(&t->lock);
	memset(t->slot, 0, sizeof(t->slot));
	pthread_mutex_unlock(&t->lock);
}

/*
 * One party is one IPv4 address, or one IPv6 /64: the block a single
 * subscriber or machine usually has, where a new address costs nothing.
 * An IPv4 address seen on an IPv6 socket (::ffff:a.b.c.d) is that IPv4
 * address.  Text that is no address is its own key.
 */
void
ratelimit_addr_key(const char *addr, char *out, size_t n)
{
	unsigned char	a[16];
	char		txt[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, a) != 1) {
		snprintf(out, n, "%s", addr);
		return;
	}
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		inet_ntop(AF_INET, a + 12, txt, sizeof(txt));
	else {
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, txt, sizeof(txt));
	}
	snprintf(out, n, "%s%s", txt, strchr(txt, ':') != NULL ? "/64" : "");
}
