/*
 * cache: rendered answers of hot reads (an account's transaction pages),
 * kept in memory so that a repeated read costs a lookup and a copy instead
 * of a query and the JSON of every row (a reference: the page is written
 * to the socket from the entry itself).
 *
 * An entry is stamped with the data version it was rendered at: the
 * database's transaction change counter, which every write of a
 * transaction (and every deletion of a connection or user) moves.  A
 * request reads the current version first and takes an entry only if it
 * matches, so a stale answer is never served, whichever process or node
 * wrote.  Entries are keyed by client and query, so tenancy holds.  The
 * cache is bounded (BANKFEED_CACHE_MB); the oldest entries go first.
 */
#include "http/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS		16
#define BUCKETS		1024	/* per shard */
#define MAX_ENTRY	(256 * 1024)

/*
 * A rendered body, shared by its cache entry and the answers being written
 * from it: a hit costs a reference, not a copy of the page.
 */
struct rblob {
	atomic_int	 refs;
	size_t		 len;
	char		 data[];
};

struct entry {
	char		*key;
	struct rblob	*blob;
	size_t		 len;
	int64_t		 version;
	struct entry	*next;		/* bucket chain */
	struct entry	*older, *newer;	/* age list of the shard */
};

struct shard {
	struct entry	*buckets[BUCKETS];
	struct entry	*oldest, *newest;
	size_t		 bytes;
};

/*
 * The shards start empty (static storage is zero, and rcache_free leaves
 * them so): their 128 KB of bucket heads are not touched, so not resident,
 * until pages are cached.  The locks sit apart, on one page.
 */
static struct shard	shards[SHARDS];
static struct {
	_Alignas(64) pthread_mutex_t m;		/* a cache line each */
} locks[SHARDS];
static size_t		shard_max;	/* bytes per shard; 0 = off */

static uint64_t
hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
rcache_init(size_t max_bytes)
{
	size_t	i;

	for (i = 0; i < SHARDS; i++)
		pthread_mutex_init(&locks[i].m, NULL);
	shard_max = max_bytes / SHARDS;
}

static void
unlink_entry(struct shard *sh, struct entry *e, size_t b)
{
	struct entry	**pp;

	for (pp = &sh->buckets[b]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		sh->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		sh->newest = e->older;
	sh->bytes -= e->len + strlen(e->key);
	free(e->key);
	rblob_unref(e->blob);
	free(e);
}

void
rblob_unref(struct rblob *b)
{
	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

const char *
rblob_data(const struct rblob *b, size_t *len)
{
	*len = b->len;
	return b->data;
}

int
rcache_get(const char *key, int64_t version, struct rblob **out)
{
	uint64_t	 h = hash(key);
	struct shard	*sh = &shards[h % SHARDS];
	size_t		 b = (size_t)(h / SHARDS) % BUCKETS;
	struct entry	*e;
	int		 hit = 0;

	if (shard_max == 0)
		return 0;
	pthread_mutex_lock(&locks[h % SHARDS].m);
	for (e = sh->buckets[b]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (e != NULL && e->version == version) {
		atomic_fetch_add(&e->blob->refs, 1);
		*out = e->blob;
		hit = 1;
	} else if (e != NULL)
		unlink_entry(sh, e, b);		/* stale: the data moved on */
	pthread_mutex_unlock(&locks[h % SHARDS].m);
	return hit;
}

void
rcache_put(const char *key, int64_t version, const char *body, size_t len)
{
	uint64_t	 h = hash(key);
	struct shard	*sh = &shards[h % SHARDS];
	size_t		 b = (size_t)(h / SHARDS) % BUCKETS;
	struct entry	*e, *old;

	if (shard_max == 0 || len > MAX_ENTRY || len > shard_max)
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	e->key = strdup(key);
	e->blob = malloc(sizeof(*e->blob) + len);
	if (e->key == NULL || e->blob == NULL) {
		free(e->key);
		free(e->blob);
		free(e);
		return;
	}
	atomic_init(&e->blob->refs, 1);
	e->blob->len = len;
	memcpy(e->blob->data, body, len);
	e->len = len;
	e->version = version;
	pthread_mutex_lock(&locks[h % SHARDS].m);
	for (old = sh->buckets[b]; old != NULL; old = old->next)
		if (strcmp(old->key, key) == 0) {
			unlink_entry(sh, old, b);
			break;
		}
	while (sh->oldest != NULL && sh->bytes + len + strlen(key) > shard_max) {
		struct entry	*x = sh->oldest;
		uint64_t	 xh = hash(x->key);

		unlink_entry(sh, x, (size_t)(xh / SHARDS) % BUCKETS);
	}
	e->next = sh->buckets[b];
	sh->buckets[b] = e;
	e->older = sh->newest;
	if (sh->newest != NULL)
		sh->newest->newer = e;
	else
		sh->oldest = e;
	sh->newest = e;
	sh->bytes += len + strlen(key);
	pthread_mutex_unlock(&locks[h % SHARDS].m);
}

void
rcache_free(void)
{
	size_t	i;

	for (i = 0; i < SHARDS; i++) {
		struct shard *sh = &shards[i];

		while (sh->oldest != NULL) {
			struct entry	*x = sh->oldest;
			uint64_t	 xh = hash(x->key);

			unlink_entry(sh, x, (size_t)(xh / SHARDS) % BUCKETS);
		}
	}
	shard_max = 0;
}
