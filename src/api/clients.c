/*
 * clients: the fintech apps that call bankfeed.  A client's secret is
 * stored only as an argon2id hash (libsodium's crypto_pwhash_str); its access
 * tokens carry 256 random bits and are stored only as BLAKE2b hashes, which
 * is enough for random tokens and keeps each request's check fast.
 */
#include "api/api.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "http/http.h"
#include "store/accdata.h"
#include "store/store.h"

/*
 * argon2id takes 64 MiB per check: at most oauth-max-hashes run at once.
 * A check that finds them all taken is not queued (each waiting request
 * would hold its connection and 64 MiB to come): its caller answers 503
 * and the client comes back.  A slot is taken before a check is queued
 * and given back once its answer is made (the check pool, below).
 */
static atomic_int	hashing;

static int
hash_slot_take(void)
{
	int	n = atomic_load(&hashing);

	do {
		if (n >= cfg.oauth_max_hashes)
			return -1;
	} while (!atomic_compare_exchange_weak(&hashing, &n, n + 1));
	return 0;
}

static void
hash_slot_give(void)
{
	atomic_fetch_sub(&hashing, 1);
}

static void
random_token(const char *prefix, char *out, size_t n)
{
	unsigned char	rnd[32];
	size_t		pl = strlen(prefix);

	randombytes_buf(rnd, sizeof(rnd));
	if (n < pl + 54)
		return;
	memcpy(out, prefix, pl);
	base32_lower(rnd, sizeof(rnd), out + pl);
	sodium_memzero(rnd, sizeof(rnd));
}

static void
token_hash(const char *token, char out[65])
{
	unsigned char	h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
	    strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int
clients_create(const char *name, char id_out[ID_MAX],
    char secret_out[CLIENT_SECRET_MAX])
{
	char		 hash[crypto_pwhash_STRBYTES];
	struct db	*db = store_db();

	if (db == NULL)
		return -1;
	id_new("cli", id_out);
	random_token("bfs_", secret_out, CLIENT_SECRET_MAX);
	if (crypto_pwhash_str(hash, secret_out, strlen(secret_out),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -1;
	if (db_run(db, "INSERT INTO clients (id, name, secret_hash, created_at)"
	    " VALUES (?, ?, ?, ?)", "ttti", id_out, name, hash,
	    (int64_t)time(NULL)) != DB_OK)
		return -1;
	return 0;
}

int
clients_delete(const char *id)
{
	struct db	*db = store_db();
	int		 gone;

	if (db == NULL || db_run(db, "DELETE FROM clients WHERE id = ?", "t",
	    id) != DB_OK)
		return -1;
	gone = db_changes(db) > 0;
	/* As for users and connections: after the deletion is visible. */
	if (gone && accdata_bump_version(db) == -1)
		return -1;
	return gone ? 0 : -1;
}

void
clients_list(FILE *f)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	char		 ts[32];

	if (db == NULL)
		return;
	s = db_q(db, "SELECT id, name, created_at FROM clients ORDER BY "
	    "created_at, id", "");
	while (s != NULL && db_step(s) == DB_ROW) {
		time_rfc3339(db_col_int(s, 2), ts, sizeof(ts));
		fprintf(f, "%s\t%s\t%s\n", db_col_text(s, 0), ts,
		    db_col_text(s, 1));
	}
	db_done(s);
}

/*
 * Client ids and secrets that passed the argon2id check are remembered
 * for oauth-cache-seconds after their last use: a client fetching tokens
 * pays for one check rather than one per token, and it is let through
 * while others fail on its id (oauth.c).  Why this is safe:
 *
 * - An entry is a BLAKE2b tag of the id, the secret and the stored hash,
 *   keyed with 256 random bits drawn at the first check.  The secret
 *   itself is not kept; the key and the tags live in sodium_malloc'ed
 *   memory (locked, guarded, left out of core dumps).
 * - argon2id makes guessing slow, which matters for secrets people pick.
 *   bankfeed's secrets are 256 random bits (clients_create): nobody
 *   finds one from a fast hash either, so a tag, even with its key, says
 *   no more about a secret than the stored hash does.
 * - The client's row is read on every request and its stored hash is in
 *   the tag: a deleted client, or one given a new secret, misses at once,
 *   also when another process (the CLI) made the change.
 * - Only successes are remembered; a wrong secret is always checked.
 */
#define SEEN_SLOTS	256
#define SEEN_PROBE	4

struct seen {
	unsigned char	tag[32];
	double		until;		/* clock_mono(); 0 = free */
};

static struct seen	*seen;			/* SEEN_SLOTS of them */
static unsigned char	*seen_key;
static pthread_once_t	 seen_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t	 seen_lock = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(sizeof(((struct client_check *)0)->hash) >=
    crypto_pwhash_STRBYTES, "client_check holds an argon2id string");
_Static_assert(sizeof(((struct seen *)0)->tag) >= crypto_generichash_BYTES &&
    sizeof(((struct seen *)0)->tag) <= crypto_generichash_BYTES_MAX,
    "a tag is a BLAKE2b hash");

static void
seen_init(void)
{
	seen = sodium_malloc(SEEN_SLOTS * sizeof(*seen));
	seen_key = sodium_malloc(crypto_generichash_KEYBYTES);
	if (seen == NULL || seen_key == NULL) {
		sodium_free(seen);
		sodium_free(seen_key);
		seen = NULL;
		seen_key = NULL;
		return;
	}
	memset(seen, 0, SEEN_SLOTS * sizeof(*seen));
	crypto_generichash_keygen(seen_key);
}

/* Sets c->tag for id and secret; -1 when remembering is off. */
static int
seen_tag(struct client_check *c, const char *id, const char *secret)
{
	crypto_generichash_state	st;

	if (cfg.oauth_cache <= 0)
		return -1;
	pthread_once(&seen_once, seen_init);
	if (seen_key == NULL)
		return -1;
	crypto_generichash_init(&st, seen_key, crypto_generichash_KEYBYTES,
	    sizeof(c->tag));
	crypto_generichash_update(&st, (const unsigned char *)id,
	    strlen(id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)secret,
	    strlen(secret) + 1);
	crypto_generichash_update(&st, (const unsigned char *)c->hash,
	    strlen(c->hash) + 1);
	crypto_generichash_final(&st, c->tag, sizeof(c->tag));
	sodium_memzero(&st, sizeof(st));
	c->tagged = 1;
	return 0;
}

/*
 * Whether tag is remembered; either way, with add, it is from now on for
 * oauth-cache-seconds (in its own slot, a free one, or the one that
 * would run out first).
 */
static int
seen_use(const unsigned char *tag, int add)
{
	struct seen	*e, *slot = NULL;
	double		 now = clock_mono();
	unsigned	 i, h = ((unsigned)tag[0] | (unsigned)tag[1] << 8) %
			    SEEN_SLOTS;
	int		 found = 0;

	pthread_mutex_lock(&seen_lock);
	for (i = 0; i < SEEN_PROBE && !found; i++) {
		e = &seen[(h + i) % SEEN_SLOTS];
		if (e->until > now && sodium_memcmp(e->tag, tag,
		    sizeof(e->tag)) == 0)
			found = 1, slot = e;
		else if (slot == NULL || e->until < slot->until)
			slot = e;
	}
	if (found || add) {
		memcpy(slot->tag, tag, sizeof(slot->tag));
		slot->until = now + (double)cfg.oauth_cache;
	}
	pthread_mutex_unlock(&seen_lock);
	return found;
}

enum client_verdict
clients_check_begin(struct client_check *c, const char *id,
    const char *secret)
{
	struct db	*db = store_db();
	struct db_stmt	*s = NULL;

	memset(c, 0, sizeof(*c));
	if (db != NULL && strlen(id) < ID_MAX &&
	    (s = db_q(db, "SELECT secret_hash FROM clients WHERE id = ?", "t",
	    id)) != NULL && db_step(s) == DB_ROW) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		snprintf(c->hash, sizeof(c->hash), "%s", db_col_text(s, 0));
	}
	db_done(s);
	if (c->hash[0] != '\0' && seen_tag(c, id, secret) == 0 &&
	    seen_use(c->tag, 0))
		return CLIENT_OK;
	return CLIENT_UNCHECKED;
}

/*
 * How long a check takes here: a moving average of the checks made,
 * 100 ms (about a check on a current CPU) until the first one.
 */
static double		check_ms = 100.0;
static pthread_mutex_t	check_ms_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The check pool.  argon2id never runs on an HTTP thread: each of those
 * serves thousands of connections from one loop, and every one of them
 * would wait the 0.1-0.3 s a check takes.  Checks run on oauth-max-hashes
 * threads of their own instead, their requests suspended meanwhile.  As a
 * check holds a slot from before it is queued until its answer is made,
 * the queue never holds more checks than there are threads: none waits
 * for one.  A queued check owns a copy of the secret in sodium_malloc'ed
 * memory (locked, left out of core dumps), wiped once it is checked.
 *
 * When the pool stops, its threads first end the checks queued and under
 * way (at most oauth-max-hashes, one check's time) and answer them; a
 * check that comes after finds the pool stopped and gets CLIENT_BUSY.
 */
#define CHECK_SECRET_MAX	256

struct check_job {
	struct client_check	 c;
	char			 secret[CHECK_SECRET_MAX];
	struct req		*r;
	client_answer_fn	 answer;
	struct check_job	*next;
};

static struct check_job	*jobs, **jobs_tail = &jobs;	/* oldest first */
static pthread_t	*pool;
static int		 npool, pool_running;
static pthread_mutex_t	 pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pool_cond = PTHREAD_COND_INITIALIZER;

static void
check_job_free(struct check_job *j)
{
	sodium_memzero(j, sizeof(*j));
	sodium_free(j);
}

/* Checks j's secret, answers its request and resumes it; frees j. */
static void
check_run(struct check_job *j)
{
	double			t0 = clock_mono();
	enum client_verdict	v;

	v = crypto_pwhash_str_verify(j->c.hash, j->secret,
	    strlen(j->secret)) == 0 ? CLIENT_OK : CLIENT_BAD;
	sodium_memzero(j->secret, sizeof(j->secret));
	pthread_mutex_lock(&check_ms_lock);
	check_ms += ((clock_mono() - t0) * 1e3 - check_ms) / 8.0;
	pthread_mutex_unlock(&check_ms_lock);
	if (v == CLIENT_OK && j->c.tagged)
		seen_use(j->c.tag, 1);
	j->answer(j->r, &j->c, v);
	hash_slot_give();
	req_resume(j->r);
	check_job_free(j);
}

static void *
pool_main(void *arg)
{
	struct check_job	*j;

	(void)arg;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		if ((j = jobs) != NULL) {
			if ((jobs = j->next) == NULL)
				jobs_tail = &jobs;
			pthread_mutex_unlock(&pool_lock);
			check_run(j);
			pthread_mutex_lock(&pool_lock);
		} else if (!pool_running)
			break;
		else
			pthread_cond_wait(&pool_cond, &pool_lock);
	}
	pthread_mutex_unlock(&pool_lock);
	return NULL;
}

int
clients_pool_start(void)
{
	int	n = cfg.oauth_max_hashes;

	if ((pool = calloc((size_t)n, sizeof(*pool))) == NULL)
		return -1;
	pthread_mutex_lock(&pool_lock);
	pool_running = 1;
	pthread_mutex_unlock(&pool_lock);
	for (npool = 0; npool < n; npool++)
		if (pthread_create(&pool[npool], NULL, pool_main, NULL) != 0) {
			clients_pool_stop();
			return -1;
		}
	return 0;
}

void
clients_pool_stop(void)
{
	int	i;

	pthread_mutex_lock(&pool_lock);
	pool_running = 0;
	pthread_cond_broadcast(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < npool; i++)
		pthread_join(pool[i], NULL);	/* each ends the queue first */
	free(pool);
	pool = NULL;
	npool = 0;
}

/*
 * The costly step of a check, which never runs argon2id on the caller's
 * thread.  For an id that does not exist: CLIENT_BAD at once, with
 * *hold_ms, or CLIENT_BUSY.  For one that does: CLIENT_BUSY when
 * oauth-max-hashes checks are under way (or the pool is stopped), else
 * CLIENT_QUEUED: r is suspended, and a thread of the pool checks the
 * secret, calls answer() with the verdict, and resumes r.  The caller
 * must not touch r once it has CLIENT_QUEUED: it may be answered already.
 */
enum client_verdict
clients_check_end(struct client_check *c, const char *secret,
    long long *hold_ms, struct req *r, client_answer_fn answer)
{
	struct check_job	*j;

	*hold_ms = 0;
	if (c->hash[0] == '\0') {
		/*
		 * An id that does not exist gets no argon2id check.  Checking
		 * a dummy hash, as before, costs the same 64 MiB and CPU as a
		 * real check, and hands whoever invents ids the very lever
		 * the limits take away.  Does the answer then tell which ids
		 * exist?  Client ids are identifiers, not secrets: they go
		 * with every token request, sit in configs and logs, and hold
		 * 120 random bits, so nobody finds one by guessing, and
		 * knowing that one exists brings its 256-bit secret no
		 * nearer.  The answer need not cost the same; it only looks
		 * the same: the same 401, the same failure limits (oauth.c),
		 * the same 503 while the checks are all busy, and it is sent
		 * after about the time a real check takes lately (*hold_ms,
		 * held without a thread), so a few timings show nothing.
		 * Many could (a held answer does not vary as a check does);
		 * by the above, what they would tell is worth no more.
		 */
		if (atomic_load(&hashing) >= cfg.oauth_max_hashes)
			return CLIENT_BUSY;
		pthread_mutex_lock(&check_ms_lock);
		*hold_ms = (long long)check_ms;
		pthread_mutex_unlock(&check_ms_lock);
		return CLIENT_BAD;
	}
	/* Longer than any secret bankfeed makes (clients_create). */
	if (strlen(secret) >= sizeof(j->secret))
		return CLIENT_BAD;
	if (hash_slot_take() == -1)
		return CLIENT_BUSY;
	if ((j = sodium_malloc(sizeof(*j))) == NULL) {
		hash_slot_give();
		return CLIENT_BUSY;
	}
	memset(j, 0, sizeof(*j));
	j->c = *c;
	memcpy(j->secret, secret, strlen(secret) + 1);
	j->r = r;
	j->answer = answer;
	pthread_mutex_lock(&pool_lock);
	if (!pool_running) {
		pthread_mutex_unlock(&pool_lock);
		check_job_free(j);
		hash_slot_give();
		return CLIENT_BUSY;
	}
	/* Suspended before a pool thread can see it: it may resume it at once. */
	req_suspend(r);
	*jobs_tail = j;
	jobs_tail = &j->next;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	return CLIENT_QUEUED;
}

void
clients_check_free(struct client_check *c)
{
	sodium_memzero(c, sizeof(*c));
}

int
clients_token_issue(const char *client_id, char token_out[TOKEN_MAX],
    long long *expires_in)
{
	struct db	*db = store_db();
	char		 hash[65];
	long long	 now = (long long)time(NULL);

	if (db == NULL)
		return -1;
	random_token("bft_", token_out, TOKEN_MAX);
	token_hash(token_out, hash);
	*expires_in = cfg.token_ttl;
	/* Expired tokens of this client go as new ones come. */
	db_run(db, "DELETE FROM tokens WHERE client_id = ? AND expires_at <= ?",
	    "ti", client_id, (int64_t)now);
	if (db_run(db, "INSERT INTO tokens (token_hash, client_id, expires_at) "
	    "VALUES (?, ?, ?)", "tti", hash, client_id,
	    (int64_t)(now + cfg.token_ttl)) != DB_OK) {
		sodium_memzero(token_out, TOKEN_MAX);
		return -1;
	}
	return 0;
}

/*
 * Checked tokens are remembered for TOKEN_RECHECK seconds (never past
 * their expiry), so that a client's stream of requests queries the tokens
 * table once a second, not each time.  A client deleted with the CLI, by
 * another process, loses access within that second.
 */
#define TOKEN_SLOTS	1024
#define TOKEN_RECHECK	1

struct token_slot {
	char		hash[65];
	char		client_id[ID_MAX];
	long long	valid_until;
};

static struct token_slot	token_slots[TOKEN_SLOTS];
static pthread_mutex_t		token_lock = PTHREAD_MUTEX_INITIALIZER;

int
clients_token_lookup(const char *token, char client_id_out[ID_MAX])
{
	struct db		*db;
	struct db_stmt		*s;
	struct token_slot	*slot;
	char			 hash[65];
	long long		 now = (long long)time(NULL), expires;
	int			 rc = -1;

	if (strncmp(token, "bft_", 4) != 0 || strlen(token) >= TOKEN_MAX)
		return -1;
	token_hash(token, hash);
	slot = &token_slots[strtoul(hash + 56, NULL, 16) % TOKEN_SLOTS];
	pthread_mutex_lock(&token_lock);
	if (strcmp(slot->hash, hash) == 0 && slot->valid_until > now) {
		memcpy(client_id_out, slot->client_id, ID_MAX);
		rc = 0;
	}
	pthread_mutex_unlock(&token_lock);
	if (rc == 0 || (db = store_db()) == NULL)
		return rc;
	s = db_q(db, "SELECT client_id, expires_at FROM tokens WHERE "
	    "token_hash = ? AND expires_at > ?", "ti", hash, (int64_t)now);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(client_id_out, ID_MAX, "%s", db_col_text(s, 0));
		expires = db_col_int(s, 1);
		pthread_mutex_lock(&token_lock);
		memcpy(slot->hash, hash, sizeof(slot->hash));
		memcpy(slot->client_id, client_id_out, ID_MAX);
		slot->valid_until = expires < now + TOKEN_RECHECK ? expires :
		    now + TOKEN_RECHECK;
		pthread_mutex_unlock(&token_lock);
		rc = 0;
	}
	db_done(s);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bankfeed clients create --name NAME\n"
	    "       bankfeed clients list\n"
	    "       bankfeed clients delete CLIENT_ID\n"
	    "(with the server's --data-dir / --database-url options)\n");
	return 2;
}

int
clients_cmd(int argc, char **argv)
{
	char	 id[ID_MAX], secret[CLIENT_SECRET_MAX];
	int	 rc;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "create") == 0) {
		const char *name = NULL;

		if (argc == 4 && strcmp(argv[2], "--name") == 0)
			name = argv[3];
		else if (argc == 3 && strncmp(argv[2], "--name=", 7) == 0)
			name = argv[2] + 7;
		if (name == NULL || *name == '\0' || strlen(name) > 200)
			return usage();
		if (clients_create(name, id, secret) != 0) {
			fprintf(stderr, "bankfeed: could not create the client\n");
			return 1;
		}
		printf("client_id:     %s\nclient_secret: %s\n", id, secret);
		printf("(the secret is shown only now: bankfeed keeps only its "
		    "hash)\n");
		sodium_memzero(secret, sizeof(secret));
		return 0;
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		clients_list(stdout);
		return 0;
	}
	if (strcmp(argv[1], "delete") == 0 && argc == 3) {
		rc = clients_delete(argv[2]);
		if (rc != 0)
			fprintf(stderr, "bankfeed: no client %s\n", argv[2]);
		else
			printf("deleted %s\n", argv[2]);
		return rc == 0 ? 0 : 1;
	}
	return usage();
}
