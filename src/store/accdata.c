#include "store/accdata.h"

#include "core/iban.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/txn_json.h"
#include "store/txnkeys.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KNOWN_ACCOUNTS	256
#define KNOWN_CHUNK	4096	/* rows taken from the budget at a time */

/* Rows remembered by every task of the process (ACCDATA_KNOWN_ROWS). */
static _Atomic size_t known_held;

struct known_acc {
	char		 id[ID_MAX];
	struct txnkeys	*keys;		/* NULL: looked up row by row */
	size_t		 reserved;	/* rows taken from known_held */
	int		 pending;	/* may hold a pending row not removed */
};

struct accdata_known {
	char		 connection_id[ID_MAX];
	int64_t		 seq;		/* txn_seq at the last commit */
	int		 off;		/* another writer came: no more */
	struct known_acc *acc;		/* grown as accounts come */
	size_t		 nacc, cap, last;
};

static void
known_drop(struct known_acc *a)
{
	txnkeys_free(a->keys);
	a->keys = NULL;
	atomic_fetch_sub(&known_held, a->reserved);
	a->reserved = 0;
}

/* Forgets every account; from now on every row is looked up. */
static void
known_off(struct accdata_known *k)
{
	size_t	i;

	for (i = 0; i < k->nacc; i++)
		known_drop(&k->acc[i]);
	k->off = 1;
}

/*
 * Whether the remembered rows are still what the database holds: they
 * are when no one wrote a transaction since this task's last commit, or
 * when whatever was written touched neither the connection's rows (every
 * write of a row moves its seq; a row's connection is its account's) nor
 * deleted the connection (deletions cascade from it).  Else forgets.
 */
static void
known_check(struct accdata_batch *b)
{
	struct accdata_known	*k = b->known;
	struct db_stmt		*s;
	int			 moved = 1;

	if (k->off || k->nacc == 0 || b->seq == k->seq)
		return;
	s = db_q(b->db, "SELECT EXISTS (SELECT 1 FROM transactions WHERE "
	    "connection_num = (SELECT num FROM connections WHERE id = ?) AND "
	    "seq > ?), EXISTS (SELECT 1 FROM connections WHERE id = ?)", "tit",
	    k->connection_id, k->seq, k->connection_id);
	if (s != NULL && db_step(s) == DB_ROW)
		moved = db_col_int(s, 0) != 0 || db_col_int(s, 1) == 0;
	db_done(s);
	if (moved)
		known_off(k);
}

struct accdata_known *
accdata_known_new(const char *connection_id)
{
	struct accdata_known	*k = calloc(1, sizeof(*k));

	if (k != NULL)
		snprintf(k->connection_id, sizeof(k->connection_id), "%s",
		    connection_id);
	return k;
}

int
accdata_known_pending(const struct accdata_known *k, const char *account_id)
{
	size_t	i;

	if (k == NULL || k->off)
		return 1;
	for (i = 0; i < k->nacc; i++)
		if (strcmp(k->acc[i].id, account_id) == 0)
			return k->acc[i].keys == NULL || k->acc[i].pending;
	return 1;
}

void
accdata_known_free(struct accdata_known *k)
{
	if (k == NULL)
		return;
	known_off(k);
	free(k->acc);
	free(k);
}

int
accdata_batch_begin(struct accdata_batch *b, struct db *db)
{
	return accdata_batch_begin_known(b, db, NULL);
}

/*
 * The data version as this process last committed it, -1 until first read.
 * Reading it from the database cost a read transaction per cached answer,
 * a fifth of the read path (docs/performance.md).  The process that
 * serves is the only one writing transactions to its SQLite file (restore
 * refuses while it runs; `clients delete` from the CLI bumps the stored
 * counter, but a deleted client's token stops working within a second,
 * before any cached page could be served to it).  It is moved only after a
 * commit is visible, so a page is never stamped newer than its data.
 * Several nodes on one PostgreSQL (issue 13) will need the stored counter
 * or a notification instead.
 */
static _Atomic int64_t	mem_version = -1;

/* Raises the in-memory version to at least v (after a commit). */
static void
version_advance(int64_t v)
{
	int64_t	cur = atomic_load(&mem_version);

	while (cur < v && !atomic_compare_exchange_weak(&mem_version, &cur, v))
		;
}

int
accdata_batch_begin_known(struct accdata_batch *b, struct db *db,
    struct accdata_known *k)
{
	struct db_stmt	*s;
	int		 rc = -1;

	b->db = db;
	b->open = 0;
	b->known = k;
	b->acc_id[0] = '\0';
	if (db_begin(db) != DB_OK)
		return -1;
	s = db_q(db, "SELECT value FROM counters WHERE name = 'txn_seq'", "");
	if (s != NULL && db_step(s) == DB_ROW) {
		b->seq = db_col_int(s, 0);
		b->open = 1;
		rc = 0;
	}
	db_done(s);
	if (rc == -1)
		db_rollback(db);
	else if (k != NULL)
		known_check(b);
	return rc;
}

int
accdata_batch_commit(struct accdata_batch *b)
{
	if (!b->open)
		return 0;
	b->open = 0;
	if (db_run(b->db, "UPDATE counters SET value = ? WHERE name = 'txn_seq'",
	    "i", b->seq) != DB_OK || db_commit(b->db) != DB_OK) {
		db_rollback(b->db);
		if (b->known != NULL)
			known_off(b->known);
		return -1;
	}
	if (b->known != NULL)
		b->known->seq = b->seq;
	version_advance(b->seq);
	return 0;
}

void
accdata_batch_abort(struct accdata_batch *b)
{
	if (b->open) {
		db_rollback(b->db);
		if (b->known != NULL)
			known_off(b->known);
	}
	b->open = 0;
}

/* Takes room for one more row of a from the process's budget; -1: spent. */
static int
known_room(struct known_acc *a)
{
	if (txnkeys_count(a->keys) < a->reserved)
		return 0;
	if (atomic_fetch_add(&known_held, KNOWN_CHUNK) + KNOWN_CHUNK >
	    ACCDATA_KNOWN_ROWS) {
		atomic_fetch_sub(&known_held, KNOWN_CHUNK);
		return -1;
	}
	a->reserved += KNOWN_CHUNK;
	return 0;
}

/* Remembers key of a; on failure forgets a, whose rows are then looked up. */
static void
known_put(struct known_acc *a, const char *key, const char *id,
    const unsigned char h[TXNKEYS_HASH])
{
	if (known_room(a) == -1 || txnkeys_put(a->keys, key, id, h) == -1)
		known_drop(a);
}

/*
 * The 16 bytes of a stored content hash (32 lowercase hex digits, as
 * content_hash writes them); -1 for anything else.  By hand: libsodium's
 * decoder, general and constant-time, cost a tenth of a re-sync.
 */
static int
hash_from_hex(const char *hex, size_t len, unsigned char h[TXNKEYS_HASH])
{
	size_t	i;

	if (hex == NULL || len != 2 * TXNKEYS_HASH)
		return -1;
	for (i = 0; i < 2 * TXNKEYS_HASH; i++) {
		int	c = (unsigned char)hex[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		if (i % 2 == 0)
			h[i / 2] = (unsigned char)(v << 4);
		else
			h[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* Reads every row of a's account in one pass, in the table's order. */
static int
known_load(struct db *db, struct known_acc *a, int64_t num)
{
	struct db_stmt	*s;
	enum db_rc	 r = DB_DONE;
	int		 rc = 0;

	if ((a->keys = txnkeys_new()) == NULL)
		return -1;
	s = db_q(db, "SELECT bank_key, chash, id, status = 'pending' AND "
	    "removed = 0 FROM transactions WHERE account_num = ?", "i", num);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = db_step(s)) == DB_ROW) {
		unsigned char	 h[TXNKEYS_HASH];

		/* A hash that is not ours matches no content: updated. */
		if (hash_from_hex(db_col_text(s, 1), db_col_len(s, 1), h) == -1)
			memset(h, 0, sizeof(h));
		if (db_col_int(s, 3))
			a->pending = 1;
		if (known_room(a) == -1 || txnkeys_put(a->keys,
		    db_col_text(s, 0), db_col_text(s, 2), h) == -1)
			rc = -1;
	}
	if (rc == 0 && r != DB_DONE)
		rc = -1;
	db_done(s);
	return rc;
}

/* Copies an id (cut at ID_MAX - 1): once per row, so not snprintf. */
static void
copy_id(char out[ID_MAX], const char *id)
{
	size_t	n = strlen(id);

	if (n >= ID_MAX)
		n = ID_MAX - 1;
	memcpy(out, id, n);
	out[n] = '\0';
}

/*
 * Fills b->acc_num and b->con_num, the numbers account_id's rows are keyed
 * by (its own and its connection's), unless they are those of the account
 * last asked about; -1 when there is no such account.
 */
static int
acc_nums(struct accdata_batch *b, const char *account_id)
{
	struct db_stmt	*s;
	int		 rc = -1;

	if (b->acc_id[0] != '\0' && strcmp(b->acc_id, account_id) == 0)
		return 0;
	s = db_q(b->db, "SELECT a.num, c.num FROM accounts a JOIN connections c "
	    "ON c.id = a.connection_id WHERE a.id = ?", "t", account_id);
	if (s != NULL && db_step(s) == DB_ROW && !db_col_null(s, 0) &&
	    !db_col_null(s, 1)) {
		b->acc_num = db_col_int(s, 0);
		b->con_num = db_col_int(s, 1);
		copy_id(b->acc_id, account_id);
		rc = 0;
	}
	db_done(s);
	return rc;
}

/*
 * The remembered rows of account_id, read on its first transaction; NULL
 * when its rows are looked up one by one.
 */
static struct known_acc *
known_account(struct accdata_batch *b, const char *connection_id,
    const char *account_id)
{
	struct accdata_known	*k = b->known;
	struct known_acc	*a;
	size_t			 i;

	if (k == NULL || k->off)
		return NULL;
	if (k->nacc > 0 && strcmp(k->acc[k->last].id, account_id) == 0)
		return k->acc[k->last].keys != NULL ? &k->acc[k->last] : NULL;
	for (i = 0; i < k->nacc; i++)
		if (strcmp(k->acc[i].id, account_id) == 0) {
			k->last = i;
			return k->acc[i].keys != NULL ? &k->acc[i] : NULL;
		}
	if (k->nacc == KNOWN_ACCOUNTS ||
	    strcmp(connection_id, k->connection_id) != 0)
		return NULL;
	if (k->nacc == k->cap) {
		size_t		 cap = k->cap ? k->cap * 2 : 4;
		struct known_acc *p = realloc(k->acc, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		k->acc = p;
		k->cap = cap;
	}
	a = &k->acc[k->nacc];
	k->last = k->nacc++;
	snprintf(a->id, sizeof(a->id), "%s", account_id);
	a->keys = NULL;
	a->reserved = 0;
	a->pending = 0;
	if (acc_nums(b, account_id) == -1 ||
	    known_load(b->db, a, b->acc_num) == -1) {
		known_drop(a);
		return NULL;
	}
	return a;
}

const char *
accdata_account_key(const struct rec_account *a)
{
	if (a->bank_id != NULL && *a->bank_id != '\0')
		return a->bank_id;
	if (a->iban != NULL && *a->iban != '\0')
		return a->iban;
	if (a->number != NULL && *a->number != '\0')
		return a->number;
	return a->name != NULL ? a->name : "account";
}

void
accdata_mask_number(const char *number, char out[32])
{
	char	digits[64];
	size_t	n = 0;

	for (; number != NULL && *number != '\0' && n + 1 < sizeof(digits); number++)
		if ((*number >= '0' && *number <= '9') ||
		    (*number >= 'A' && *number <= 'Z') ||
		    (*number >= 'a' && *number <= 'z'))
			digits[n++] = *number;
	digits[n] = '\0';
	/* Only ever the last four characters; a number is never stored whole. */
	if (n == 0)
		out[0] = '\0';
	else
		snprintf(out, 32, "****%s", digits + (n > 4 ? n - 4 : 0));
}

/* Finds an account by key; 1 found (id filled), 0 not, -1 error. */
static int
account_find(struct db *db, const char *connection_id, const char *key,
    char id_out[ID_MAX])
{
	struct db_stmt	*s;
	int		 rc = 0;

	s = db_q(db, "SELECT id FROM accounts WHERE connection_id = ? AND "
	    "bank_key = ?", "tt", connection_id, key);
	if (s == NULL)
		return -1;
	if (db_step(s) == DB_ROW) {
		snprintf(id_out, ID_MAX, "%s", db_col_text(s, 0));
		rc = 1;
	}
	db_done(s);
	return rc;
}

int
accdata_account(struct accdata_batch *b, const char *connection_id,
    const struct rec_account *a, char id_out[ID_MAX], int *created)
{
	const char	*key = accdata_account_key(a);
	char		 masked[32], iban[IBAN_MAX];
	const char	*shown_iban = NULL;
	int64_t		 now = (int64_t)time(NULL);
	size_t		 i;
	int		 found;

	masked[0] = '\0';
	/* Only a valid IBAN (mod 97) is shown as one; else its last digits. */
	if (a->iban != NULL && iban_normalize(a->iban, iban) == 0 &&
	    iban_valid(iban))
		shown_iban = iban;
	else if (a->iban != NULL)
		accdata_mask_number(a->iban, masked);
	if (a->number != NULL && masked[0] == '\0')
		accdata_mask_number(a->number, masked);
	if ((found = account_find(b->db, connection_id, key, id_out)) == -1)
		return -1;
	if (created != NULL)
		*created = !found;
	if (!found) {
		id_new("acc", id_out);
		if (db_run(b->db, "INSERT INTO accounts (id, connection_id, "
		    "bank_key, name, type, iban, masked_number, currency, "
		    "holder_name, holder_address, holder_email, status, "
		    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
		    "?, ?, 'active', ?, ?)", "tttttttttttii", id_out,
		    connection_id, key, a->name, acct_type_name(a->type), shown_iban,
		    masked[0] ? masked : NULL, a->currency, a->holder_name,
		    a->holder_address, a->holder_email, now, now) != DB_OK)
			return -1;
	} else if (db_run(b->db, "UPDATE accounts SET name = ?, type = ?, "
	    "iban = ?, masked_number = ?, currency = ?, holder_name = ?, "
	    "holder_address = ?, holder_email = ?, status = 'active', "
	    "error_code = NULL, error_message = NULL, updated_at = ? WHERE id = ?",
	    "ttttttttit", a->name, acct_type_name(a->type), shown_iban,
	    masked[0] ? masked : NULL, a->currency, a->holder_name,
	    a->holder_address, a->holder_email, now, id_out) != DB_OK)
		return -1;
	if (db_run(b->db, "DELETE FROM balances WHERE account_id = ?", "t",
	    id_out) != DB_OK)
		return -1;
	for (i = 0; i < a->nbalances; i++) {
		const struct rec_balance *bal = &a->balances[i];

		if (db_run(b->db, "INSERT INTO balances (account_id, type, amount, "
		    "currency, reference_date) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
		    "(account_id, type) DO UPDATE SET amount = excluded.amount, "
		    "currency = excluded.currency, reference_date = "
		    "excluded.reference_date", "ttitt", id_out,
		    bal_type_name(bal->type), bal->amount, bal->currency,
		    bal->date[0] ? bal->date : NULL) != DB_OK)
			return -1;
	}
	return 0;
}

int
accdata_account_error(struct accdata_batch *b, const char *connection_id,
    const char *bank_key, enum err code, const char *message,
    char id_out[ID_MAX])
{
	int64_t	now = (int64_t)time(NULL);
	int	found;

	if ((found = account_find(b->db, connection_id, bank_key, id_out)) == -1)
		return -1;
	if (!found) {
		id_new("acc", id_out);
		return db_run(b->db, "INSERT INTO accounts (id, connection_id, "
		    "bank_key, type, currency, status, error_code, error_message, "
		    "created_at, updated_at) VALUES (?, ?, ?, 'other', 'XXX', "
		    "'error', ?, ?, ?, ?)", "tttntii", id_out, connection_id,
		    bank_key, err_code(code), message, now, now) == DB_OK ? 0 : -1;
	}
	return db_run(b->db, "UPDATE accounts SET status = 'error', error_code = ?, "
	    "error_message = ?, updated_at = ? WHERE id = ?", "ntit",
	    err_code(code), message, now, id_out) == DB_OK ? 0 : -1;
}

/* A 128-bit hash of an amount and a list of text fields (NULL as ""). */
static void
hash_fields(int64_t amount, const char *const *f, size_t n,
    unsigned char h[16])
{
	crypto_generichash_state	st;
	size_t				i;

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, (const unsigned char *)&amount,
	    sizeof(amount));
	for (i = 0; i < n; i++) {
		const char *v = f[i] != NULL ? f[i] : "";

		crypto_generichash_update(&st, (const unsigned char *)v,
		    strlen(v) + 1);
	}
	crypto_generichash_final(&st, h, 16);
}

/* A hash of every field a client sees: a change of any means "modified".
 * Fills h and its hex, as stored. */
static void
content_hash(const struct rec_txn *t, unsigned char h[TXNKEYS_HASH],
    char out[33])
{
	const char	*f[] = { t->booking_date, t->value_date, t->currency,
	    t->cp_name, t->cp_iban, t->description, t->bank_transaction_code,
	    t->bank_reference, t->status == TXN_BOOKED ? "b" : "p",
	    t->details_bank_transaction_code };

	hash_fields(t->amount, f, sizeof(f) / sizeof(f[0]), h);
	sodium_bin2hex(out, 33, h, TXNKEYS_HASH);
}

static const char *
nz(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

static const char *
txn_status(const struct rec_txn *t)
{
	return t->status == TXN_BOOKED ? "booked" : "pending";
}

/*
 * The row's doc: the transaction as the API shows it (txn_json.h), stored
 * with it so that a page is read, not rendered.  doc is the caller's to
 * buf_free() on success.
 */
static int
txn_doc(struct buf *doc, const struct accdata_batch *b,
    const struct rec_txn *t, const char *id)
{
	struct txn_view	v = {
		.id = id, .account_id = b->acc_id, .status = txn_status(t),
		.booking_date = nz(t->booking_date),
		.value_date = nz(t->value_date), .amount = t->amount,
		.currency = t->currency, .cp_name = t->cp_name,
		.cp_iban = t->cp_iban, .description = t->description,
		.bank_transaction_code = t->bank_transaction_code,
		.bank_reference = t->bank_reference,
		.details_bank_transaction_code =
		    t->details_bank_transaction_code };
	struct jw	w;

	buf_init(doc, 1u << 20);
	(void)buf_reserve(doc, 1024);	/* one allocation for most */
	jw_init(&w, doc);
	txn_json_write(&w, &v);
	if (jw_finish(&w) == -1) {
		buf_free(doc);
		return -1;
	}
	return 0;
}

static int txn_insert(struct accdata_batch *, const struct rec_txn *,
    const char *, const char *, char *);

/*
 * Rewrites the row stored under match_key with t's fields; key becomes its
 * key, and pending_key (when not NULL) the key it had while pending.
 */
static int
txn_update(struct accdata_batch *b, const struct rec_txn *t, const char *key,
    const char *pending_key, const char *match_key, const char *chash,
    const char *id)
{
	struct buf	doc;
	int		rc;

	b->seq++;
	if (txn_doc(&doc, b, t, id) == -1)
		return -1;
	rc = db_run(b->db, "UPDATE transactions SET bank_key = ?, "
	    "pending_key = COALESCE(?, pending_key), status = ?, "
	    "booking_date = ?, value_date = ?, amount = ?, currency = ?, "
	    "cp_name = ?, cp_iban = ?, description = ?, "
	    "bank_transaction_code = ?, bank_reference = ?, "
	    "details_bank_transaction_code = ?, chash = ?, "
	    "doc = ?, removed = 0, seq = ? WHERE account_num = ? AND "
	    "bank_key = ?", "tttttitttttttt" "tiit", key, pending_key,
	    txn_status(t), nz(t->booking_date),
	    nz(t->value_date), t->amount, t->currency, t->cp_name, t->cp_iban,
	    t->description, t->bank_transaction_code, t->bank_reference,
	    t->details_bank_transaction_code, chash,
	    buf_str(&doc), b->seq, b->acc_num, match_key) == DB_OK ? 0 : -1;
	buf_free(&doc);
	return rc;
}

/*
 * accdata_txn against an account's remembered rows: the database is
 * touched only for a row that is new or changed, and the memory follows.
 */
static int
txn_known(struct accdata_batch *b, struct known_acc *a,
    const struct rec_txn *t, const char *key, const char *pending_key,
    const unsigned char h[TXNKEYS_HASH], const char *chash,
    char id_out[ID_MAX], enum txn_change *change)
{
	const char		*id;
	const unsigned char	*old;

	if (t->status == TXN_PENDING)
		a->pending = 1;
	if (txnkeys_get(a->keys, key, &id, &old)) {
		copy_id(id_out, id);
		if (memcmp(old, h, TXNKEYS_HASH) == 0)
			return 0;
		*change = TXN_UPDATED;
		if (txn_update(b, t, key, NULL, key, chash, id_out) == -1)
			return -1;
	} else if (pending_key != NULL &&
	    txnkeys_get(a->keys, pending_key, &id, NULL)) {
		/* A booked transaction taking over its pending row. */
		copy_id(id_out, id);
		*change = TXN_UPDATED;
		if (txn_update(b, t, key, pending_key, pending_key, chash,
		    id_out) == -1)
			return -1;
		txnkeys_del(a->keys, pending_key);
	} else {
		*change = TXN_ADDED;
		if (txn_insert(b, t, key, chash, id_out) != DB_OK)
			return -1;
	}
	known_put(a, key, id_out, h);
	return 0;
}

int
accdata_txn(struct accdata_batch *b, const char *connection_id,
    const char *account_id, const struct rec_txn *t, const char *key,
    const char *pending_key, int fresh, char id_out[ID_MAX],
    enum txn_change *change)
{
	struct db_stmt		*s;
	struct known_acc	*a;
	unsigned char		 h[TXNKEYS_HASH];
	char			 chash[33], old_hash[33];
	const char		*match_key = key;
	int			 found = 0;

	*change = TXN_SAME;
	if (acc_nums(b, account_id) == -1)
		return -1;
	content_hash(t, h, chash);
	/*
	 * In an account that this delivery created, a transaction is new
	 * unless the source repeats a key: insert first, look only then.
	 */
	if (fresh && pending_key == NULL) {
		enum db_rc rc = (enum db_rc)txn_insert(b, t, key, chash,
		    id_out);

		if (rc == DB_OK) {
			*change = TXN_ADDED;
			return 0;
		}
		if (rc != DB_CONSTRAINT)
			return -1;
		b->seq--;	/* the failed insert's number is not used */
	}
	/*
	 * An account delivered before: its rows are remembered (and in the
	 * fresh one, rows are written without it, so it would go stale).
	 */
	if (!fresh && (a = known_account(b, connection_id, account_id)) != NULL)
		return txn_known(b, a, t, key, pending_key, h, chash, id_out,
		    change);
	s = db_q(b->db, "SELECT id, chash FROM transactions WHERE account_num = ? "
	    "AND bank_key = ?", "it", b->acc_num, key);
	if (s == NULL)
		return -1;
	if (db_step(s) == DB_ROW) {
		snprintf(id_out, ID_MAX, "%s", db_col_text(s, 0));
		snprintf(old_hash, sizeof(old_hash), "%s", db_col_text(s, 1));
		found = 1;
	}
	db_done(s);
	if (!found && pending_key != NULL) {
		/* A booked transaction taking over its pending row. */
		s = db_q(b->db, "SELECT id, chash FROM transactions WHERE "
		    "account_num = ? AND bank_key = ?", "it", b->acc_num,
		    pending_key);
		if (s == NULL)
			return -1;
		if (db_step(s) == DB_ROW) {
			snprintf(id_out, ID_MAX, "%s", db_col_text(s, 0));
			old_hash[0] = '\0';
			match_key = pending_key;
			found = 1;
		}
		db_done(s);
	}
	if (found) {
		if (strcmp(old_hash, chash) == 0)
			return 0;
		*change = TXN_UPDATED;
		return txn_update(b, t, key, match_key != key ?
		    pending_key : NULL, match_key, chash, id_out);
	}
	*change = TXN_ADDED;
	return txn_insert(b, t, key, chash, id_out) == DB_OK ? 0 : -1;
}

/* Inserts a new transaction row; returns the db_rc. */
static int
txn_insert(struct accdata_batch *b, const struct rec_txn *t, const char *key,
    const char *chash, char *id_out)
{
	char		 sort_date[11];
	struct buf	 doc;
	int		 rc;

	/* The row's place in the account's order is fixed when first seen. */
	memcpy(sort_date, t->booking_date[0] ? t->booking_date :
	    t->value_date[0] ? t->value_date : "0000-00-00", 10);
	sort_date[10] = '\0';
	id_new("txn", id_out);
	if (txn_doc(&doc, b, t, id_out) == -1)
		return DB_ERROR;
	b->seq++;
	rc = (int)db_run(b->db, "INSERT INTO transactions (account_num, "
	    "sort_date, first_seq, id, bank_key, pending_key, status, "
	    "booking_date, value_date, amount, currency, cp_name, cp_iban, "
	    "description, bank_transaction_code, bank_reference, "
	    "details_bank_transaction_code, chash, doc, removed, seq, "
	    "connection_num) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, 0, ?, ?)", "itittttttitttttt" "tttii",
	    b->acc_num, sort_date, b->seq, id_out, key, NULL, txn_status(t),
	    nz(t->booking_date), nz(t->value_date), t->amount, t->currency,
	    t->cp_name, t->cp_iban, t->description, t->bank_transaction_code,
	    t->bank_reference, t->details_bank_transaction_code, chash,
	    buf_str(&doc), b->seq, b->con_num);
	buf_free(&doc);
	return rc;
}

static int
in_list(const char *id, const char *const *ids, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

int
accdata_close_unseen(struct accdata_batch *b, const char *connection_id,
    const char *const *seen, size_t nseen)
{
	struct db_stmt	*s;
	char		 ids[64][ID_MAX];
	size_t		 n, i;

	/* 64 at a time: closed ones drop out of the query's next round. */
	do {
		n = 0;
		s = db_q(b->db, "SELECT id FROM accounts WHERE connection_id = ? "
		    "AND status <> 'closed'", "t", connection_id);
		if (s == NULL)
			return -1;
		while (n < 64 && db_step(s) == DB_ROW)
			if (!in_list(db_col_text(s, 0), seen, nseen))
				snprintf(ids[n++], ID_MAX, "%s",
				    db_col_text(s, 0));
		db_done(s);
		for (i = 0; i < n; i++)
			if (db_run(b->db, "UPDATE accounts SET status = 'closed', "
			    "updated_at = ? WHERE id = ?", "it",
			    (int64_t)time(NULL), ids[i]) != DB_OK)
				return -1;
	} while (n == 64);
	return 0;
}

int
accdata_remove_unseen_pending(struct accdata_batch *b,
    const char *const *accounts, size_t naccounts, const char *const *seen,
    size_t nseen)
{
	struct db_stmt	*s;
	struct gone { int64_t acc; char key[160]; } *ids = NULL;
	size_t		 n = 0, cap = 0, i, a;
	int		 rc = 0;

	for (a = 0; rc == 0 && a < naccounts; a++) {
		if (acc_nums(b, accounts[a]) == -1 ||
		    (s = db_q(b->db, "SELECT id, bank_key FROM transactions "
		    "WHERE account_num = ? AND status = 'pending' AND removed = 0",
		    "i", b->acc_num)) == NULL) {
			rc = -1;
			break;
		}
		while (db_step(s) == DB_ROW) {
			if (in_list(db_col_text(s, 0), seen, nseen))
				continue;
			if (n == cap) {
				void *p = realloc(ids, (cap = cap ? cap * 2 : 16) *
				    sizeof(*ids));

				if (p == NULL) {
					rc = -1;
					break;
				}
				ids = p;
			}
			ids[n].acc = b->acc_num;
			snprintf(ids[n++].key, sizeof(ids[0].key), "%s",
			    db_col_text(s, 1));
		}
		db_done(s);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		b->seq++;
		if (db_run(b->db, "UPDATE transactions SET removed = 1, seq = ? "
		    "WHERE account_num = ? AND bank_key = ?", "iit", b->seq,
		    ids[i].acc, ids[i].key) != DB_OK)
			rc = -1;
	}
	free(ids);
	return rc;
}

void
accdata_fp_free(struct accdata_fp *m)
{
	free(m->keys);
	free(m->counts);
	memset(m, 0, sizeof(*m));
}

static size_t
fp_slot(const unsigned char key[16], size_t mask)
{
	uint64_t	h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & mask;
}

/* The occurrence number of key (0 the first time); -1 out of memory. */
static long
fp_occurrence(struct accdata_fp *m, const unsigned char key[16])
{
	size_t	i, mask;

	if (m->n * 2 >= m->cap) {
		struct accdata_fp g = { NULL, NULL, m->cap ? m->cap * 2 : 1024, 0 };
		size_t j;

		g.keys = calloc(g.cap, 16);
		g.counts = calloc(g.cap, sizeof(unsigned));
		if (g.keys == NULL || g.counts == NULL) {
			accdata_fp_free(&g);
			return -1;
		}
		for (j = 0; j < m->cap; j++)
			if (m->counts[j] > 0) {
				size_t k = fp_slot(m->keys[j], g.cap - 1);

				while (g.counts[k] > 0)
					k = (k + 1) & (g.cap - 1);
				memcpy(g.keys[k], m->keys[j], 16);
				g.counts[k] = m->counts[j];
				g.n++;
			}
		accdata_fp_free(m);
		*m = g;
	}
	mask = m->cap - 1;
	for (i = fp_slot(key, mask); m->counts[i] > 0; i = (i + 1) & mask)
		if (memcmp(m->keys[i], key, 16) == 0)
			return m->counts[i]++;
	memcpy(m->keys[i], key, 16);
	m->counts[i] = 1;
	m->n++;
	return 0;
}

int
accdata_fp_key(struct accdata_fp *m, const char *account_id,
    const struct rec_txn *t, char out[80])
{
	const char	*f[] = { account_id, t->booking_date, t->value_date,
	    t->currency, t->cp_iban, t->cp_name, t->description,
	    t->bank_reference, t->bank_transaction_code, t->end_to_end_id,
	    t->status == TXN_BOOKED ? "b" : "p" };
	unsigned char	 h[16];
	char		 hex[33];
	long		 n;

	hash_fields(t->amount, f, sizeof(f) / sizeof(f[0]), h);
	if ((n = fp_occurrence(m, h)) < 0)
		return -1;
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 80, "f:%s:%ld", hex, n);
	return 0;
}

static int
version_read(struct db *db, int64_t *out)
{
	struct db_stmt	*s;
	int		 rc = -1;

	s = db_q(db, "SELECT value FROM counters WHERE name = 'txn_seq'", "");
	if (s != NULL && db_step(s) == DB_ROW) {
		*out = db_col_int(s, 0);
		rc = 0;
	}
	db_done(s);
	return rc;
}

int
accdata_version(struct db *db, int64_t *out)
{
	int64_t	v = atomic_load(&mem_version);

	/* Other nodes' writes move only the database's counter. */
	if (v >= 0 && !db_shared(db)) {
		*out = v;
		return 0;
	}
	if (version_read(db, &v) == -1)
		return -1;
	version_advance(v);
	*out = atomic_load(&mem_version);
	return 0;
}

int
accdata_bump_version(struct db *db)
{
	int64_t	v;

	/*
	 * Outside a transaction only: the in-memory version must move after
	 * the change is visible, and nothing would move it at a caller's
	 * later commit.
	 */
	if (db_in_transaction(db)) {
		log_error("msg=\"accdata_bump_version inside a transaction\"");
		return -1;
	}
	if (db_run(db, "UPDATE counters SET value = value + 1 WHERE name = "
	    "'txn_seq'", "") != DB_OK || version_read(db, &v) == -1)
		return -1;
	version_advance(v);
	return 0;
}

/*
 * Gives every row without a doc its doc (schema 7's step, for rows stored
 * before), rendered from its columns by the same writer as a new row's.
 * Runs inside the migration's transaction, 512 rows at a time in the
 * table's key order, each batch after the last: the rows of a batch are
 * read whole before any is written.
 */
int
accdata_backfill_docs(struct db *db)
{
	enum { BATCH = 512, NCOL = 14 };
	struct db_stmt	*s;
	char		*rows[BATCH][NCOL];
	int64_t		 amount[BATCH], num[BATCH], seq[BATCH];
	int64_t		 at_num = -1, at_seq = -1;
	char		 at_date[16] = "";
	int		 n, i, k, rc = 0;

	for (;;) {
		s = db_q(db, "SELECT t.account_num, t.first_seq, t.sort_date, "
		    "t.id, a.id, t.status, t.booking_date, t.value_date, "
		    "t.currency, t.cp_name, t.cp_iban, t.description, "
		    "t.bank_transaction_code, t.bank_reference, "
		    "t.details_bank_transaction_code, t.amount FROM "
		    "transactions t JOIN accounts a ON a.num = t.account_num "
		    "WHERE (t.account_num, t.sort_date, t.first_seq) > (?, ?, ?) "
		    "AND t.doc IS NULL ORDER BY t.account_num, t.sort_date, "
		    "t.first_seq LIMIT ?", "itin", at_num, at_date, at_seq, BATCH);
		if (s == NULL)
			return -1;
		for (n = 0; n < BATCH && db_step(s) == DB_ROW; n++) {
			num[n] = db_col_int(s, 0);
			seq[n] = db_col_int(s, 1);
			for (k = 0; k < NCOL - 1; k++) {
				const char *v = db_col_text(s, 2 + k);

				rows[n][k] = v != NULL ? strdup(v) : NULL;
			}
			amount[n] = db_col_int(s, 15);
		}
		db_done(s);
		for (i = 0; i < n && rc == 0; i++) {
			char		**r = rows[i];
			struct txn_view	 v = {
				.id = r[1], .account_id = r[2], .status = r[3],
				.booking_date = r[4], .value_date = r[5],
				.amount = amount[i], .currency = r[6],
				.cp_name = r[7], .cp_iban = r[8],
				.description = r[9],
				.bank_transaction_code = r[10],
				.bank_reference = r[11],
				.details_bank_transaction_code = r[12] };
			struct buf	 doc;
			struct jw	 w;

			buf_init(&doc, 1u << 20);
			jw_init(&w, &doc);
			txn_json_write(&w, &v);
			if (jw_finish(&w) == -1 || db_run(db, "UPDATE transactions "
			    "SET doc = ? WHERE account_num = ? AND sort_date = ? "
			    "AND first_seq = ?", "titi", buf_str(&doc), num[i],
			    r[0], seq[i]) != DB_OK)
				rc = -1;
			buf_free(&doc);
		}
		if (n > 0) {	/* the next batch starts after this one's last */
			at_num = num[n - 1];
			at_seq = seq[n - 1];
			snprintf(at_date, sizeof(at_date), "%s",
			    rows[n - 1][0] != NULL ? rows[n - 1][0] : "");
		}
		for (i = 0; i < n; i++)
			for (k = 0; k < NCOL - 1; k++)
				free(rows[i][k]);
		if (rc == -1 || n < BATCH)
			return rc;
	}
}
