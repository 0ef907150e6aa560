/*
 * webhooks: the outbox, the delivery thread, and the webhook configuration.
 *
 * The outbox (webhook_outbox, schema migration 2) is the only queue: the
 * thread keeps no state that a restart would lose.  Its columns, as used here:
 *
 *   id               evt_ id; ids sort in order of creation (event_id_new)
 *   payload          the exact body sent, built once at enqueue
 *   attempts         delivery attempts made so far
 *   next_attempt_at  when the event may be tried next, in unix MILLIseconds
 *                    (backoffs below a second must be honoured); GAVE_UP
 *                    once it is given up or dropped
 *   delivered_at     unix seconds of the 2xx answer; NULL until then
 *   last_error       why the last attempt failed ("HTTP 503", curl's text);
 *                    "gave up ..." / "dropped ..." once it is abandoned
 *   created_at       unix seconds
 *
 * The head of a client's queue is its oldest event neither delivered nor
 * given up.  Only heads are sent, one in flight per client, so events reach
 * a client in order.  Up to SLOTS clients are served at once with curl's
 * multi interface, in this one thread: a receiver that takes the whole
 * timeout to answer holds up only its own client.
 */
#include "jobs/webhooks.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/lazycurl.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/vault.h"
#include "store/store.h"

#define CLAIM_MARGIN_MS	30000	/* a claim outlives an attempt by this */
#define GAVE_UP		INT64_MAX	/* next_attempt_at: no more attempts */
#define SLOTS		8		/* deliveries in flight (clients) at once */
#define POLL_MS		1000		/* look for events committed without a wake */
#define RESPONSE_MAX	(64u << 10)	/* response bytes read, then the rest cut */
#define ERROR_MAX	200		/* last_error, truncated */
#define TYPE_MAX	64
#define KEEP_SECONDS	(7LL * 86400)	/* delivered and given-up rows kept */
#define PRUNE_EVERY_MS	(3600LL * 1000)

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * evt_ ids sort in order of creation: 11 characters of a microsecond clock
 * in an order-preserving base32 (RFC 4648's lowercase alphabet taken in
 * ASCII order, so ids still match ^evt_[a-z2-7]+$), then 21 random ones
 * (105 bits).  Ordering a client's events then needs no extra column and
 * reads the same on SQLite and PostgreSQL.  Within a process the clock part
 * never repeats or goes back.
 */
static const char sorted32[] = "234567abcdefghijklmnopqrstuvwxyz";
static pthread_mutex_t	id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		id_last_us;

static void
event_id_new(char out[ID_MAX])
{
	unsigned char	rnd[14];		/* 112 bits, 105 of them used */
	char		r32[(sizeof(rnd) * 8 + 4) / 5 + 1];
	struct timespec	ts;
	uint64_t	us;
	int		i;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	pthread_mutex_lock(&id_lock);
	if (us <= id_last_us)
		us = id_last_us + 1;
	id_last_us = us;
	pthread_mutex_unlock(&id_lock);
	memcpy(out, "evt_", 4);
	for (i = 10; i >= 0; i--) {
		out[4 + i] = sorted32[us & 31];
		us >>= 5;
	}
	randombytes_buf(rnd, sizeof(rnd));
	base32_lower(rnd, sizeof(rnd), r32);
	memcpy(out + 15, r32, 21);
	out[36] = '\0';
}

/* ---- the delivery thread's state ------------------------------------ */

/* One delivery in flight. */
struct slot {
	int			 busy;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*body;		/* the payload; curl reads it */
	size_t			 got;		/* response bytes seen, discarded */
	int64_t			 attempts;	/* made before this one */
	int64_t			 created_at;
	int64_t			 t0;
	char			 id[ID_MAX];
	char			 client_id[ID_MAX];
	char			 type[TYPE_MAX];
	int			 refused;	/* private address, not allowed */
};

/* A due head, copied out of the query before anything is sent. */
struct pick {
	char		 id[ID_MAX];
	char		 client_id[ID_MAX];
	char		 type[TYPE_MAX];
	char		*payload;
	char		*url;
	unsigned char	*sealed;
	size_t		 sealedn;
	int64_t		 attempts;
	int64_t		 created_at;
	int64_t		 due;		/* next_attempt_at as read */
};

/* Settings, read once by webhooks_start(). */
struct settings {
	int64_t	base_ms;
	int64_t	max_ms;
	int64_t	max_age_ms;
	int64_t	timeout_ms;
	int64_t	drain_ms;
};

/*
 * wake_lock guards multi for webhooks_wake() from other threads.  libcurl
 * is set up at the first delivery, not at start: curl_global_init() loads
 * and initializes the TLS stack, about 8 MB of resident memory that a
 * server without webhooks never needs.  Until then the delivery thread
 * sleeps on wake_cond.
 */
static pthread_mutex_t	 wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake_cond = PTHREAD_COND_INITIALIZER;
static CURLM		*multi;
static const struct lazycurl *C;	/* set by curl_up() */
static pthread_t	 thread;
static int		 running;
static atomic_int	 stopping;
static atomic_int	 woken;
static struct settings	 set;
static struct slot	 slots[SLOTS];	/* the delivery thread's alone */

void
webhooks_wake(void)
{
	atomic_store(&woken, 1);
	pthread_mutex_lock(&wake_lock);
	if (multi != NULL)
		C->multi_wakeup(multi);
	else
		pthread_cond_signal(&wake_cond);
	pthread_mutex_unlock(&wake_lock);
}

/* Sets libcurl up, once, in the delivery thread.  0 or -1. */
static int
curl_up(void)
{
	CURLM	*m;

	if (multi != NULL)
		return 0;
	if (C == NULL && (C = lazycurl()) == NULL)
		return -1;
	if (C->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("msg=\"cannot initialize libcurl\"");
		return -1;
	}
	if ((m = C->multi_init()) == NULL) {
		C->global_cleanup();
		log_error("msg=\"cannot initialize libcurl\"");
		return -1;
	}
	pthread_mutex_lock(&wake_lock);
	multi = m;
	pthread_mutex_unlock(&wake_lock);
	return 0;
}

/*
 * Sleeps up to ms, or until webhooks_wake() or a transfer moves: in
 * libcurl once it is set up, on wake_cond before.
 */
static void
nap(int ms)
{
	struct timespec	ts;

	if (multi != NULL) {
		C->multi_poll(multi, NULL, 0, ms, NULL);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wake_lock);
	if (!atomic_load(&woken) && !atomic_load(&stopping))
		pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
	pthread_mutex_unlock(&wake_lock);
}

/* ---- enqueue ---------------------------------------------------------- */

int
webhooks_enqueue(struct db *db, const char *client_id, const char *type,
    const char *data_json)
{
	struct buf	 b;
	struct jw	 w;
	json_t		*j = NULL;
	json_error_t	 e;
	char		 id[ID_MAX], ts[32];
	int64_t		 now;
	int		 rc = -1;

	buf_init(&b, WEBHOOK_PAYLOAD_MAX);
	if (db == NULL || client_id == NULL || type == NULL || *type == '\0' ||
	    strlen(type) >= TYPE_MAX) {
		log_error("msg=\"webhook event refused: bad arguments\"");
		goto out;
	}
	if (data_json == NULL)
		data_json = "{}";
	/* The body is sent as is: a malformed one would be refused forever. */
	if ((j = json_loads(data_json, 0, &e)) == NULL || !json_is_object(j)) {
		log_error("msg=\"webhook event refused: data is not a JSON "
		    "object\" type=%s client_id=%s", type, client_id);
		goto out;
	}
	now = now_ms();
	event_id_new(id);
	time_rfc3339(now / 1000, ts, sizeof(ts));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "type", type);
	jw_kstr(&w, "created_at", ts);
	jw_key(&w, "data");
	jw_raw(&w, data_json, strlen(data_json));
	jw_obj_end(&w);
	if (jw_finish(&w) == -1) {
		log_error("msg=\"webhook event refused: larger than %u bytes\" "
		    "type=%s client_id=%s", WEBHOOK_PAYLOAD_MAX, type, client_id);
		goto out;
	}
	/* One statement: the row exists only when the client has a webhook. */
	if (db_run(db, "INSERT INTO webhook_outbox (id, client_id, type, "
	    "payload, attempts, next_attempt_at, created_at) SELECT ?, "
	    "client_id, ?, ?, 0, ?, ? FROM webhooks WHERE client_id = ?",
	    "tttiit", id, type, buf_str(&b), now, now / 1000, client_id) !=
	    DB_OK) {
		log_error("msg=\"cannot queue webhook event\" type=%s "
		    "client_id=%s reason=\"%s\"", type, client_id, db_errmsg(db));
		goto out;
	}
	if (db_changes(db) > 0) {
		log_info("event=webhook_queued event_id=%s type=%s client_id=%s",
		    id, type, client_id);
		webhooks_wake();
	}
	rc = 0;
out:
	json_decref(j);
	buf_free(&b);
	return rc;
}

/* ---- configuration ------------------------------------------------------ */

/* ---- where webhooks may go ---------------------------------------------- */

/*
 * Whether an IPv4 address (host byte order) is not on the public internet:
 * this host, private networks, shared and link-local space (cloud metadata
 * services live at 169.254.169.254), benchmarking, multicast and reserved.
 */
static int
v4_private(uint32_t a)
{
	static const struct {
		uint32_t	net;
		int		bits;
	} nets[] = {
		{ 0x00000000, 8 },	/* 0.0.0.0/8 "this network" */
		{ 0x0a000000, 8 },	/* 10/8 */
		{ 0x64400000, 10 },	/* 100.64/10 carrier-grade NAT */
		{ 0x7f000000, 8 },	/* 127/8 loopback */
		{ 0xa9fe0000, 16 },	/* 169.254/16 link-local */
		{ 0xac100000, 12 },	/* 172.16/12 */
		{ 0xc0000000, 24 },	/* 192.0.0/24 protocol assignments */
		{ 0xc0a80000, 16 },	/* 192.168/16 */
		{ 0xc6120000, 15 },	/* 198.18/15 benchmarking */
		{ 0xe0000000, 3 },	/* 224/4 multicast, 240/4 reserved */
	};
	size_t	i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if ((a & (0xffffffffu << (32 - nets[i].bits))) == nets[i].net)
			return 1;
	return 0;
}

static int
addr_private(const struct sockaddr *sa)
{
	const struct sockaddr_in6	*s6;
	const unsigned char		*b;
	static const unsigned char	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	static const unsigned char	 zero[15];

	if (sa->sa_family == AF_INET)
		return v4_private(ntohl(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return 1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0)		/* ::ffff:a.b.c.d */
		return v4_private((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15]);
	return memcmp(b, zero, 15) == 0 ||	/* :: and ::1 */
	    (b[0] & 0xfe) == 0xfc ||		/* fc00::/7 unique local */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    b[0] == 0xff;			/* multicast */
}

/*
 * Whether a URL's host is one that BANKFEED_WEBHOOK_PRIVATE=0 refuses on
 * sight: "localhost" or a literal private address.  Other names are
 * checked after DNS, at each delivery (on_open_socket).
 */
static int
host_private(const char *host)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	char			 h[64];
	size_t			 n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 ||
	    (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0))
		return 1;
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	s4.sin_family = AF_INET;
	s6.sin6_family = AF_INET6;
	if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
		return addr_private((struct sockaddr *)&s4);
	if (host[0] == '[' && n >= 2 && n - 2 < sizeof(h)) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1)
			return addr_private((struct sockaddr *)&s6);
	}
	return 0;
}

/* curl's socket opener: refuses private addresses when they are not allowed. */
static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct slot	*sl = arg;

	(void)purpose;
	if (cfg.webhook_private == 0 && addr_private(&a->addr)) {
		sl->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

int
webhooks_url_ok(const char *url)
{
	const struct lazycurl *lc;
	CURLU	*u;
	char	*scheme = NULL, *host = NULL;
	int	 ok = 0;

	if (url == NULL || strlen(url) > WEBHOOK_URL_MAX ||
	    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return 0;
	if ((lc = lazycurl()) == NULL || (u = lc->url()) == NULL)
		return 0;
	if (lc->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    lc->url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    lc->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    *host != '\0')
		ok = cfg.webhook_private != 0 || !host_private(host) ? 1 : -1;
	lc->free(scheme);
	lc->free(host);
	lc->url_cleanup(u);
	return ok;
}

int
webhooks_set(struct db *db, const char *client_id, const char *url,
    const char *secret, size_t secretlen, long long *created_at)
{
	unsigned char	*sealed = NULL;
	size_t		 sealedn = 0;
	struct db_stmt	*s = NULL;
	int64_t		 now = now_ms();
	int		 rc = -1, began = 0;

	if (vault_seal(secret, secretlen, client_id, &sealed, &sealedn) == -1) {
		log_error("msg=\"cannot seal the webhook secret\" client_id=%s",
		    client_id);
		goto out;
	}
	if (db_begin(db) != DB_OK)
		goto dberr;
	began = 1;
	/* created_at stays when the webhook was first set. */
	if (db_run(db, "INSERT INTO webhooks (client_id, url, secret, "
	    "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE "
	    "SET url = excluded.url, secret = excluded.secret", "ttbi",
	    client_id, url, sealed, sealedn, now / 1000) != DB_OK)
		goto dberr;
	/*
	 * Events waiting out a backoff go at once: a receiver set again was
	 * most likely just fixed or moved.
	 */
	if (db_run(db, "UPDATE webhook_outbox SET next_attempt_at = ? WHERE "
	    "client_id = ? AND delivered_at IS NULL AND next_attempt_at > ? "
	    "AND next_attempt_at < ?", "itii", now, client_id, now,
	    (int64_t)GAVE_UP) != DB_OK)
		goto dberr;
	s = db_q(db, "SELECT created_at FROM webhooks WHERE client_id = ?", "t",
	    client_id);
	if (s == NULL || db_step(s) != DB_ROW)
		goto dberr;
	*created_at = db_col_int(s, 0);
	db_done(s);
	s = NULL;
	if (db_commit(db) != DB_OK)
		goto dberr;
	began = 0;
	rc = 0;
	log_info("event=webhook_set client_id=%s", client_id);
	webhooks_wake();
	goto out;
dberr:
	log_error("msg=\"cannot set the webhook\" client_id=%s reason=\"%s\"",
	    client_id, db_errmsg(db));
out:
	db_done(s);
	if (began)
		db_rollback(db);
	free(sealed);
	return rc;
}

int
webhooks_get(struct db *db, const char *client_id, char *url, size_t urln,
    long long *created_at)
{
	struct db_stmt	*s;
	int		 rc;

	s = db_q(db, "SELECT url, created_at FROM webhooks WHERE client_id = ?",
	    "t", client_id);
	if (s == NULL)
		return -1;
	switch (db_step(s)) {
	case DB_ROW:
		snprintf(url, urln, "%s", db_col_text(s, 0));
		*created_at = db_col_int(s, 1);
		rc = 0;
		break;
	case DB_DONE:
		rc = 1;
		break;
	default:
		rc = -1;
	}
	db_done(s);
	return rc;
}

int
webhooks_delete(struct db *db, const char *client_id)
{
	int	rc = -1;

	if (db_begin(db) != DB_OK)
		goto dberr;
	if (db_run(db, "DELETE FROM webhooks WHERE client_id = ?", "t",
	    client_id) != DB_OK)
		goto dberr;
	if (db_changes(db) == 0) {
		db_rollback(db);
		return 1;
	}
	/* Kept for the record, never sent: a new webhook starts afresh. */
	if (db_run(db, "UPDATE webhook_outbox SET next_attempt_at = ?, "
	    "last_error = 'dropped: the webhook was removed' WHERE client_id = ? "
	    "AND delivered_at IS NULL AND next_attempt_at < ?", "iti",
	    (int64_t)GAVE_UP, client_id, (int64_t)GAVE_UP) != DB_OK)
		goto dberr;
	if (db_commit(db) != DB_OK)
		goto dberr;
	log_info("event=webhook_deleted client_id=%s", client_id);
	return 0;
dberr:
	log_error("msg=\"cannot delete the webhook\" client_id=%s reason=\"%s\"",
	    client_id, db_errmsg(db));
	db_rollback(db);
	return rc;
}

/* ---- delivery ----------------------------------------------------------- */

/* The wait after the n-th failed attempt: base, doubling, capped. */
static int64_t
backoff_ms(int64_t n)
{
	int64_t	d = set.base_ms;

	while (--n > 0 && d < set.max_ms)
		d = d > set.max_ms / 2 ? set.max_ms : d * 2;
	return d < set.max_ms ? d : set.max_ms;
}

/*
 * Records a failed attempt (the attempts-th) and schedules the next one,
 * or gives the event up when the next would fall past its deadline
 * (webhook_max_age after it was created).  An event given up or dropped
 * meanwhile is left alone.
 */
static void
record_failure(struct db *db, const char *id, const char *client_id,
    const char *type, int64_t attempts, int64_t created_at, long status,
    const char *why)
{
	char	 msg[ERROR_MAX + 64];
	int64_t	 now = now_ms(), delay = backoff_ms(attempts), next;

	if (now + delay >= created_at * 1000 + set.max_age_ms) {
		next = GAVE_UP;
		snprintf(msg, sizeof(msg), "gave up after %lld attempts: %s",
		    (long long)attempts, why);
		log_warn("event=webhook_gave_up event_id=%s type=%s client_id=%s "
		    "attempt=%lld status=%ld error=\"%s\"", id, type, client_id,
		    (long long)attempts, status, why);
	} else {
		next = now + delay;
		snprintf(msg, sizeof(msg), "%s", why);
		log_warn("event=webhook_failed event_id=%s type=%s client_id=%s "
		    "attempt=%lld status=%ld error=\"%s\" retry_in_ms=%lld", id,
		    type, client_id, (long long)attempts, status, why,
		    (long long)delay);
	}
	if (db_run(db, "UPDATE webhook_outbox SET attempts = ?, "
	    "next_attempt_at = ?, last_error = ? WHERE id = ? AND "
	    "delivered_at IS NULL AND next_attempt_at < ?", "iitti", attempts,
	    next, msg, id, (int64_t)GAVE_UP) != DB_OK)
		log_error("msg=\"cannot record a webhook attempt\" event_id=%s "
		    "reason=\"%s\"", id, db_errmsg(db));
}

static void
record_delivered(struct db *db, struct slot *sl, long status)
{
	int64_t	now = now_ms();

	log_info("event=webhook_delivered event_id=%s type=%s client_id=%s "
	    "attempt=%lld status=%ld duration_ms=%lld", sl->id, sl->type,
	    sl->client_id, (long long)sl->attempts + 1, status,
	    (long long)(now - sl->t0));
	/* Delivered wins over given up: the receiver has it. */
	if (db_run(db, "UPDATE webhook_outbox SET attempts = ?, delivered_at = ?, "
	    "last_error = NULL WHERE id = ?", "iit", sl->attempts + 1,
	    now / 1000, sl->id) != DB_OK)
		log_error("msg=\"cannot record a webhook delivery (it will be "
		    "sent again)\" event_id=%s reason=\"%s\"", sl->id,
		    db_errmsg(db));
}

static size_t
on_response(char *p, size_t size, size_t n, void *arg)
{
	struct slot	*sl = arg;

	(void)p;
	sl->got += size * n;
	/* Past the cap the transfer is cut; the status line already came. */
	return sl->got > RESPONSE_MAX ? 0 : size * n;
}

static void
slot_clear(struct slot *sl)
{
	if (sl->easy != NULL) {
		C->multi_remove_handle(multi, sl->easy);
		C->easy_cleanup(sl->easy);
	}
	C->slist_free_all(sl->hdrs);
	free(sl->body);
	memset(sl, 0, sizeof(*sl));
}

static void
pick_free(struct pick *p)
{
	free(p->payload);
	free(p->url);
	free(p->sealed);
	memset(p, 0, sizeof(*p));
}

/*
 * The Bankfeed-Signature header for body at time t: HMAC-SHA256 keyed with
 * the client's secret (any length; HMAC hashes long keys) over "<t>.<body>".
 * The secret is opened in sodium memory and wiped at once.  0 or -1.
 */
static int
sign(const struct pick *p, long long t, char *out, size_t outn)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];
	char				 hex[2 * sizeof(mac) + 1], ts[24];
	char				*secret = NULL;
	size_t				 secretn = 0;

	if (vault_open(p->sealed, p->sealedn, p->client_id, &secret,
	    &secretn) == -1)
		return -1;
	snprintf(ts, sizeof(ts), "%lld", t);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, secretn);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)p->payload,
	    strlen(p->payload));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	vault_free(secret, secretn);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, outn, "Bankfeed-Signature: t=%s,v1=%s", ts, hex);
	return 0;
}

static struct curl_slist *
add_header(struct curl_slist *l, const char *h, int *failed)
{
	struct curl_slist	*n;

	if (*failed)
		return l;
	if ((n = C->slist_append(l, h)) == NULL)
		*failed = 1;
	return n != NULL ? n : l;
}

/*
 * Starts delivering a picked event in a free slot; takes the payload.
 * -1 with why set when it cannot be sent at all (counted as an attempt).
 */
static int
start(struct pick *p, struct slot *sl, const char **why)
{
	char	 h[256];
	int	 failed = 0;

	memset(sl, 0, sizeof(*sl));
	snprintf(sl->id, sizeof(sl->id), "%.*s", (int)sizeof(sl->id) - 1, p->id);
	snprintf(sl->client_id, sizeof(sl->client_id), "%s", p->client_id);
	snprintf(sl->type, sizeof(sl->type), "%s", p->type);
	sl->attempts = p->attempts;
	sl->created_at = p->created_at;
	sl->t0 = now_ms();
	if (sign(p, (long long)time(NULL), h, sizeof(h)) == -1) {
		*why = "cannot open the webhook secret (was the master key changed?)";
		goto fail;
	}
	sl->hdrs = add_header(sl->hdrs, h, &failed);
	sl->hdrs = add_header(sl->hdrs, "Content-Type: application/json", &failed);
	snprintf(h, sizeof(h), "Bankfeed-Event-Id: %.*s", ID_MAX - 1, p->id);
	sl->hdrs = add_header(sl->hdrs, h, &failed);
	snprintf(h, sizeof(h), "Bankfeed-Event-Type: %s", p->type);
	sl->hdrs = add_header(sl->hdrs, h, &failed);
	sl->hdrs = add_header(sl->hdrs, "User-Agent: bankfeed/" BANKFEED_VERSION,
	    &failed);
	/* No "Expect: 100-continue" pause before larger bodies. */
	sl->hdrs = add_header(sl->hdrs, "Expect:", &failed);
	if (failed || (sl->easy = C->easy_init()) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	sl->body = p->payload;
	p->payload = NULL;
	C->easy_setopt(sl->easy, CURLOPT_URL, p->url);
	C->easy_setopt(sl->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	C->easy_setopt(sl->easy, CURLOPT_FOLLOWLOCATION, 0L);
	C->easy_setopt(sl->easy, CURLOPT_POSTFIELDS, sl->body);
	C->easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(sl->body));
	C->easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->hdrs);
	C->easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, on_response);
	C->easy_setopt(sl->easy, CURLOPT_WRITEDATA, sl);
	C->easy_setopt(sl->easy, CURLOPT_TIMEOUT_MS, (long)set.timeout_ms);
	C->easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L);
	C->easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
	C->easy_setopt(sl->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	C->easy_setopt(sl->easy, CURLOPT_OPENSOCKETDATA, sl);
	if (C->multi_add_handle(multi, sl->easy) != CURLM_OK) {
		*why = "cannot start the transfer";
		goto fail;
	}
	sl->busy = 1;
	return 0;
fail:
	slot_clear(sl);
	return -1;
}

/* Ends a finished transfer: delivered, or failed and rescheduled. */
static void
finish(struct db *db, struct slot *sl, CURLcode cc)
{
	long	 status = 0;
	char	 why[ERROR_MAX];

	C->easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_WRITE_ERROR && sl->got > RESPONSE_MAX)
		cc = CURLE_OK;		/* cut on purpose, see on_response */
	if (cc == CURLE_OK && status >= 200 && status <= 299)
		record_delivered(db, sl, status);
	else {
		if (sl->refused)
			snprintf(why, sizeof(why), "the receiver's address is "
			    "private and BANKFEED_WEBHOOK_PRIVATE is 0");
		else if (cc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", C->easy_strerror(cc));
		else
			snprintf(why, sizeof(why), "HTTP %ld", status);
		record_failure(db, sl->id, sl->client_id, sl->type,
		    sl->attempts + 1, sl->created_at, status, why);
	}
	slot_clear(sl);
}

/*
 * Takes the event for this node: its next attempt is moved past the time
 * this attempt may take (the timeout and a margin), where no node
 * (another one sharing a PostgreSQL database, or this one) picks it again;
 * the attempt's outcome then sets it.  Should the node die meanwhile, the
 * event is tried again once that time has passed: at least once, never
 * two attempts at the same time.  1 taken, 0 when another node was first.
 */
static int
claim(struct db *db, struct pick *p)
{
	int64_t	lease = now_ms() + set.timeout_ms + CLAIM_MARGIN_MS;

	if (db_run(db, "UPDATE webhook_outbox SET next_attempt_at = ? WHERE "
	    "id = ? AND delivered_at IS NULL AND next_attempt_at = ?", "iti",
	    lease, p->id, p->due) != DB_OK)
		return 0;
	return db_changes(db) == 1;
}

/*
 * Gives up every event past its deadline that is still waiting (those
 * queued behind a failing one, mostly).  A read first: the write lock is
 * taken only when there is something to write.
 */
static void
give_up_expired(struct db *db, int64_t now)
{
	struct db_stmt	*s;
	int64_t		 cutoff = (now - set.max_age_ms) / 1000;
	int		 any;

	s = db_q(db, "SELECT 1 FROM webhook_outbox WHERE delivered_at IS NULL "
	    "AND next_attempt_at < ? AND created_at <= ? LIMIT 1", "ii",
	    (int64_t)GAVE_UP, cutoff);
	any = s != NULL && db_step(s) == DB_ROW;
	db_done(s);
	if (!any)
		return;
	s = db_q(db, "UPDATE webhook_outbox SET next_attempt_at = ?, last_error "
	    "= 'gave up after ' || attempts || ' attempts: ' || "
	    "COALESCE(last_error, 'waited behind earlier events') WHERE "
	    "delivered_at IS NULL AND next_attempt_at < ? AND created_at <= ? "
	    "RETURNING id, type, client_id, attempts", "iii", (int64_t)GAVE_UP,
	    (int64_t)GAVE_UP, cutoff);
	while (s != NULL && db_step(s) == DB_ROW)
		log_warn("event=webhook_gave_up event_id=%s type=%s client_id=%s "
		    "attempt=%lld error=\"older than the webhook max age\"",
		    db_col_text(s, 0), db_col_text(s, 1), db_col_text(s, 2),
		    (long long)db_col_int(s, 3));
	db_done(s);
}

/* Deletes delivered and given-up events older than KEEP_SECONDS. */
static void
prune(struct db *db, int64_t now)
{
	int64_t	old = now / 1000 - KEEP_SECONDS;

	if (db_run(db, "DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL "
	    "AND delivered_at < ?", "i", old) != DB_OK ||
	    db_run(db, "DELETE FROM webhook_outbox WHERE delivered_at IS NULL AND "
	    "next_attempt_at = ? AND created_at < ?", "ii", (int64_t)GAVE_UP,
	    old) != DB_OK)
		log_warn("msg=\"cannot prune the webhook outbox\" reason=\"%s\"",
		    db_errmsg(db));
}

static int
client_busy(const char *client_id)
{
	int	i;

	for (i = 0; i < SLOTS; i++)
		if (slots[i].busy && strcmp(slots[i].client_id, client_id) == 0)
			return 1;
	return 0;
}

static char *
dup_col(struct db_stmt *s, int i)
{
	const char	*t = db_col_text(s, i);

	return strdup(t != NULL ? t : "");
}

/*
 * One pass: gives up expired events, starts the due heads of clients not
 * already in flight (at most the free slots), and returns when the next
 * head falls due (at most POLL_MS ahead).
 */
static int64_t
scan(struct db *db, int64_t now)
{
	struct pick	 picks[SLOTS];
	struct db_stmt	*s;
	int64_t		 next = now + POLL_MS, at;
	int		 i, j, nbusy = 0, nfree, npicks = 0;
	const char	*why;

	memset(picks, 0, sizeof(picks));
	give_up_expired(db, now);
	for (i = 0; i < SLOTS; i++)
		nbusy += slots[i].busy;
	if ((nfree = SLOTS - nbusy) == 0)
		return next;
	/*
	 * Heads in order of due time.  Busy clients' heads (their event in
	 * flight) are skipped, so nbusy + nfree + 1 rows always reach either
	 * nfree due heads or the first one not yet due.
	 */
	s = db_q(db, "SELECT o.id, o.client_id, o.type, o.payload, o.attempts, "
	    "o.next_attempt_at, o.created_at, w.url, w.secret FROM webhook_outbox "
	    "o JOIN webhooks w ON w.client_id = o.client_id WHERE o.id IN ("
	    "SELECT MIN(id) FROM webhook_outbox WHERE delivered_at IS NULL AND "
	    "next_attempt_at < ? GROUP BY client_id) ORDER BY o.next_attempt_at "
	    "LIMIT ?", "ii", (int64_t)GAVE_UP, (int64_t)(nbusy + nfree + 1));
	if (s == NULL) {
		log_error("msg=\"cannot read the webhook outbox\" reason=\"%s\"",
		    db_errmsg(db));
		return next;
	}
	while (npicks < nfree && db_step(s) == DB_ROW) {
		struct pick	*p = &picks[npicks];
		const void	*blob;

		if (client_busy(db_col_text(s, 1)))
			continue;
		if ((at = db_col_int(s, 5)) > now) {
			if (at < next)
				next = at;
			break;
		}
		snprintf(p->id, sizeof(p->id), "%s", db_col_text(s, 0));
		snprintf(p->client_id, sizeof(p->client_id), "%s",
		    db_col_text(s, 1));
		snprintf(p->type, sizeof(p->type), "%s", db_col_text(s, 2));
		p->payload = dup_col(s, 3);
		p->attempts = db_col_int(s, 4);
		p->due = at;
		p->created_at = db_col_int(s, 6);
		p->url = dup_col(s, 7);
		blob = db_col_blob(s, 8, &p->sealedn);
		if (blob != NULL && p->sealedn > 0 &&
		    (p->sealed = malloc(p->sealedn)) != NULL)
			memcpy(p->sealed, blob, p->sealedn);
		if (p->payload == NULL || p->url == NULL || p->sealed == NULL) {
			log_error("msg=\"out of memory reading the webhook outbox\"");
			pick_free(p);
			break;
		}
		npicks++;
	}
	db_done(s);
	/* Sent after the statement is done: failures write to the outbox. */
	for (i = 0, j = 0; i < npicks; i++) {
		while (j < SLOTS && slots[j].busy)
			j++;
		why = NULL;
		if (!claim(db, &picks[i])) {
			pick_free(&picks[i]);
			continue;
		}
		if (curl_up() == -1)
			why = "cannot initialize libcurl";
		if (why != NULL || j == SLOTS ||
		    start(&picks[i], &slots[j], &why) == -1) {
			record_failure(db, picks[i].id, picks[i].client_id,
			    picks[i].type, picks[i].attempts + 1,
			    picks[i].created_at, 0, why != NULL ? why : "no slot");
			next = now;	/* something else may be due */
		}
		pick_free(&picks[i]);
	}
	return next;
}

/* Ends every finished transfer; returns how many. */
static int
collect(struct db *db)
{
	CURLMsg		*m;
	struct slot	*sl;
	char		*priv;
	int		 left, n = 0;

	if (multi == NULL)
		return 0;
	while ((m = C->multi_info_read(multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		C->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		sl = (struct slot *)(void *)priv;
		if (sl != NULL && sl->busy) {
			finish(db, sl, m->data.result);
			n++;
		}
	}
	return n;
}

static int
nbusy_slots(void)
{
	int	i, n = 0;

	for (i = 0; i < SLOTS; i++)
		n += slots[i].busy;
	return n;
}

static void *
run(void *arg)
{
	struct db	*db = NULL;
	int64_t		 now, next_scan = 0, next_prune = 0, wait, deadline;
	int		 still, i;

	(void)arg;
	while (!atomic_load(&stopping)) {
		if (db == NULL && (db = store_db()) == NULL) {
			/* Logged by the store; try again later. */
			nap(POLL_MS);
			continue;
		}
		now = now_ms();
		if (atomic_exchange(&woken, 0))
			next_scan = now;
		if (now >= next_prune) {
			prune(db, now);
			next_prune = now + PRUNE_EVERY_MS;
		}
		if (now >= next_scan)
			next_scan = scan(db, now);
		if (multi != NULL)
			C->multi_perform(multi, &still);
		if (collect(db) > 0)
			next_scan = 0;		/* a client's next event may go */
		now = now_ms();
		if (next_scan <= now && nbusy_slots() < SLOTS)
			continue;
		/*
		 * With every slot busy, sleep until a transfer moves (curl
		 * also bounds the wait by its own timers).
		 */
		wait = nbusy_slots() == SLOTS ? POLL_MS : next_scan - now;
		if (wait > POLL_MS)
			wait = POLL_MS;
		nap((int)wait);
	}
	/* Let deliveries in flight end, for a bounded time. */
	deadline = now_ms() + set.drain_ms;
	while (db != NULL && nbusy_slots() > 0 && now_ms() < deadline) {
		C->multi_perform(multi, &still);
		collect(db);
		if (nbusy_slots() > 0)
			C->multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (i = 0; i < SLOTS; i++)
		if (slots[i].busy) {
			log_info("event=webhook_abandoned event_id=%s type=%s "
			    "client_id=%s msg=\"stopping; it will be sent again "
			    "after the next start\"", slots[i].id, slots[i].type,
			    slots[i].client_id);
			/* Its claim given back: due again now, on any node. */
			if (db != NULL)
				db_run(db, "UPDATE webhook_outbox SET "
				    "next_attempt_at = ? WHERE id = ? AND "
				    "delivered_at IS NULL AND next_attempt_at < ?",
				    "iti", now_ms(), slots[i].id,
				    (int64_t)GAVE_UP);
			slot_clear(&slots[i]);
		}
	return NULL;
}

int
webhooks_start(void)
{
	if (running)
		return 0;
	if (cfg.webhook_timeout < 1 || cfg.webhook_retry_base_ms < 10 ||
	    cfg.webhook_retry_max_ms < cfg.webhook_retry_base_ms ||
	    cfg.webhook_max_age < 1) {
		log_error("msg=\"bad webhook settings: the timeout and max age "
		    "must be at least 1 s, the retry base at least 10 ms and "
		    "the retry max at least the base\"");
		return -1;
	}
	set.timeout_ms = cfg.webhook_timeout * 1000;
	set.base_ms = cfg.webhook_retry_base_ms;
	set.max_ms = cfg.webhook_retry_max_ms;
	set.max_age_ms = cfg.webhook_max_age * 1000;
	set.drain_ms = set.timeout_ms < cfg.shutdown_grace * 1000 ?
	    set.timeout_ms : cfg.shutdown_grace * 1000;
	atomic_store(&stopping, 0);
	atomic_store(&woken, 1);	/* look at the outbox at once */
	if (pthread_create(&thread, NULL, run, NULL) != 0) {
		log_error("msg=\"cannot start the webhook thread\"");
		return -1;
	}
	running = 1;
	log_info("msg=\"webhook delivery started\" timeout_s=%lld "
	    "retry_base_ms=%lld retry_max_ms=%lld max_age_s=%lld",
	    cfg.webhook_timeout, cfg.webhook_retry_base_ms,
	    cfg.webhook_retry_max_ms, cfg.webhook_max_age);
	return 0;
}

void
webhooks_stop(void)
{
	CURLM	*m;

	if (!running)
		return;
	atomic_store(&stopping, 1);
	webhooks_wake();
	pthread_join(thread, NULL);
	pthread_mutex_lock(&wake_lock);
	m = multi;
	multi = NULL;
	pthread_mutex_unlock(&wake_lock);
	if (m != NULL) {
		C->multi_cleanup(m);
		C->global_cleanup();
	}
	running = 0;
	log_info("msg=\"webhook delivery stopped\"");
}

int
webhooks_write_metrics(struct db *db, struct buf *out)
{
	struct db_stmt	*s;
	int64_t		 n = -1;

	/* A range of the webhook_outbox_due index. */
	s = db_q(db, "SELECT COUNT(*) FROM webhook_outbox WHERE delivered_at IS "
	    "NULL AND next_attempt_at < ?", "i", (int64_t)GAVE_UP);
	if (s != NULL && db_step(s) == DB_ROW)
		n = db_col_int(s, 0);
	db_done(s);
	if (n < 0)
		return -1;
	if (mx_family(out, "bankfeed_webhook_backlog", "gauge", "Webhook events "
	    "waiting in the outbox: neither delivered nor given up.") == -1 ||
	    mx_u64(out, "bankfeed_webhook_backlog", NULL, 0, (uint64_t)n) == -1)
		return -1;
	return 0;
}
