/*
 * accdata's write path against a real SQLite file: what a re-sync keeps
 * in memory (accdata_known) must answer exactly as the database
 * would, and be dropped when another writer changes the connection's rows
 * between two batches.  txnkeys, the map under it, on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store/accdata.h"
#include "store/store.h"
#include "store/txnkeys.h"

#include "harness.h"

static void
txnkeys_holds_many_rows(void **state)
{
	struct txnkeys		*m = txnkeys_new();
	unsigned char		 h[TXNKEYS_HASH];
	const unsigned char	*got;
	const char		*id;
	char			 key[32], want[32];
	int			 i;

	(void)state;
	assert_non_null(m);
	assert_int_equal(txnkeys_get(m, "b:none", &id, &got), 0);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "b:LG-%d", i);
		snprintf(want, sizeof(want), "txn_%d", i);
		memset(h, i & 0xff, sizeof(h));
		assert_int_equal(txnkeys_put(m, key, want, h), 0);
	}
	assert_int_equal(txnkeys_count(m), 100000);
	for (i = 0; i < 100000; i += 7) {
		snprintf(key, sizeof(key), "b:LG-%d", i);
		snprintf(want, sizeof(want), "txn_%d", i);
		assert_int_equal(txnkeys_get(m, key, &id, &got), 1);
		assert_string_equal(id, want);
		assert_int_equal(got[0], i & 0xff);
	}
	/* a replaced hash keeps the id; a removed key is gone, others stay */
	memset(h, 0xee, sizeof(h));
	assert_int_equal(txnkeys_put(m, "b:LG-5", "txn_other", h), 0);
	assert_int_equal(txnkeys_get(m, "b:LG-5", &id, &got), 1);
	assert_string_equal(id, "txn_5");
	assert_int_equal(got[3], 0xee);
	txnkeys_del(m, "b:LG-5");
	assert_int_equal(txnkeys_get(m, "b:LG-5", NULL, NULL), 0);
	assert_int_equal(txnkeys_get(m, "b:LG-6", &id, NULL), 1);
	assert_string_equal(id, "txn_6");
	assert_int_equal(txnkeys_get(m, "b:LG-100000", NULL, NULL), 0);
	assert_int_equal(txnkeys_put(m, "b:LG-5", "txn_again", h), 0);
	assert_int_equal(txnkeys_get(m, "b:LG-5", &id, NULL), 1);
	assert_string_equal(id, "txn_again");
	/* about 80 bytes a row, as accdata.h says */
	assert_true(txnkeys_bytes(m) < 100000 * 100);
	txnkeys_free(m);
}

struct fixture {
	char		 path[512];	/* SQLite file, or PostgreSQL URL */
	struct db	*db;
	char		 acc[ID_MAX];
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	const char	*why = NULL;
	int		 fd;

	assert_non_null(f);
	if (srv_pg())
		assert_int_equal(srv_pg_create(f->path, sizeof(f->path)), 0);
	else {
		snprintf(f->path, sizeof(f->path), "/tmp/bf-accdata-XXXXXX");
		assert_true((fd = mkstemp(f->path)) >= 0);
		close(fd);
	}
	assert_int_equal(db_open(f->path, &f->db, &why), DB_OK);
	assert_int_equal(schema_migrate(f->db), 0);
	assert_int_equal(db_exec(f->db, "INSERT INTO clients VALUES ('cli_1', "
	    "'c', 'x', 0); INSERT INTO users VALUES ('usr_1', 'cli_1', NULL, 0); "
	    "INSERT INTO connections (id, user_id, client_id, institution_id, "
	    "status, store_credentials, login_hash, created_at) VALUES "
	    "('con_1', 'usr_1', 'cli_1', 'sandbox', 'authorized', 0, 'h', 0), "
	    "('con_2', 'usr_1', 'cli_1', 'sandbox', 'authorized', 0, 'h2', 0)"),
	    DB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[600];

	db_close(f->db);
	if (srv_pg()) {
		srv_pg_drop(f->path);
		free(f);
		return 0;
	}
	remove(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	remove(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	remove(p);
	free(f);
	return 0;
}

static struct rec_txn
txn(const char *bank_id, const char *pending_id, int booked, int64_t amount)
{
	struct rec_txn	t;

	memset(&t, 0, sizeof(t));
	t.bank_id = bank_id;
	t.pending_bank_id = pending_id;
	t.status = booked ? TXN_BOOKED : TXN_PENDING;
	memcpy(t.booking_date, "2026-01-02", 11);
	memcpy(t.value_date, "2026-01-02", 11);
	memcpy(t.currency, "EUR", 4);
	t.amount = amount;
	t.description = "coffee";
	return t;
}

/* One delivery of t under key (and pkey) into the fixture's account. */
static enum txn_change
put(struct fixture *f, struct accdata_batch *b, const char *key,
    const char *pkey, const struct rec_txn *t, int fresh, char id[ID_MAX])
{
	enum txn_change	ch;

	assert_int_equal(accdata_txn(b, "con_1", f->acc, t, key, pkey, fresh,
	    id, &ch), 0);
	return ch;
}

/* A sync's account step: the account upserted; whether it is new. */
static int
account(struct fixture *f, struct accdata_batch *b)
{
	struct rec_account	a;
	int			created = -1;

	memset(&a, 0, sizeof(a));
	a.bank_id = "acct-1";
	a.name = "Giro";
	memcpy(a.currency, "EUR", 4);
	assert_int_equal(accdata_account(b, "con_1", &a, f->acc, &created), 0);
	return created;
}

/* The account's first delivery, committed: it is made, with t as b:T1. */
static void
first_delivery(struct fixture *f, const struct rec_txn *t)
{
	struct accdata_batch	b;
	char			id[ID_MAX];

	assert_int_equal(accdata_batch_begin(&b, f->db), 0);
	assert_int_equal(account(f, &b), 1);
	assert_int_equal(put(f, &b, "b:T1", NULL, t, 1, id), TXN_ADDED);
	assert_int_equal(accdata_batch_commit(&b), 0);
}

static void
resync_from_memory_answers_as_the_database(void **state)
{
	struct fixture		*f = *state;
	struct accdata_batch	 b, c;
	struct accdata_known	*k;
	struct rec_txn		 t1 = txn("T1", NULL, 1, -350),
				 p2 = txn("P2", NULL, 0, -1200),
				 b2 = txn("B2", "P2", 1, -1200),
				 t3 = txn("T3", NULL, 1, 999),
				 t1x = txn("T1", NULL, 1, -351);
	char			 id1[ID_MAX], id2[ID_MAX], id[ID_MAX];
	int64_t			 n;
	struct db_stmt		*s;

	/* the first delivery: a new account */
	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(account(f, &b), 1);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 1, id1), TXN_ADDED);
	assert_int_equal(put(f, &b, "b:P2", NULL, &p2, 1, id2), TXN_ADDED);
	assert_int_equal(accdata_batch_commit(&b), 0);
	accdata_known_free(k);

	/* a re-sync, remembering: same rows, same ids, nothing written */
	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(account(f, &b), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_string_equal(id, id1);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	/* the pending one books: its row and id, under the new key */
	assert_int_equal(put(f, &b, "b:B2", "b:P2", &b2, 0, id), TXN_UPDATED);
	assert_string_equal(id, id2);
	assert_int_equal(put(f, &b, "b:B2", "b:P2", &b2, 0, id), TXN_SAME);
	assert_string_equal(id, id2);
	assert_int_equal(put(f, &b, "b:T3", NULL, &t3, 0, id), TXN_ADDED);
	assert_int_equal(put(f, &b, "b:T3", NULL, &t3, 0, id), TXN_SAME);
	assert_int_equal(accdata_batch_commit(&b), 0);

	/* a write to another connection leaves the memory valid */
	assert_int_equal(accdata_bump_version(f->db), 0);
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_int_equal(accdata_batch_commit(&b), 0);

	/* another writer changes T1 between two of b's batches */
	assert_int_equal(accdata_batch_begin(&c, f->db), 0);
	assert_int_equal(put(f, &c, "b:T1", NULL, &t1x, 0, id), TXN_UPDATED);
	assert_int_equal(accdata_batch_commit(&c), 0);
	/* b sees the database, not its memory: T1 changed back */
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_UPDATED);
	assert_string_equal(id, id1);
	assert_int_equal(put(f, &b, "b:T3", NULL, &t3, 0, id), TXN_SAME);
	assert_int_equal(accdata_batch_commit(&b), 0);
	accdata_known_free(k);

	s = db_q(f->db, "SELECT COUNT(*) FROM transactions", "");
	assert_non_null(s);
	assert_int_equal(db_step(s), DB_ROW);
	n = db_col_int(s, 0);
	db_done(s);
	assert_int_equal(n, 3);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "bank_key = 'b:B2' AND id = ? AND pending_key = 'b:P2' AND status = "
	    "'booked'", "t", id2), 1);
}

static int64_t
num_of(struct db *db, const char *sql, const char *id)
{
	struct db_stmt	*s;
	int64_t		 n = -1;

	s = db_q(db, sql, "t", id);
	assert_non_null(s);
	if (db_step(s) == DB_ROW && !db_col_null(s, 0))
		n = db_col_int(s, 0);
	db_done(s);
	return n;
}

/*
 * Schema 3 keys transactions by account and connection numbers: a
 * database of schema 2 keeps every row, id and sequence number, and the
 * store finds and updates them by their bank keys afterwards.
 */
static void
schema_2_rows_survive_migration(void **state)
{
	struct fixture		*f = *state;
	struct accdata_batch	 b;
	struct rec_account	 a;
	struct rec_txn		 t = txn("T2", NULL, 1, -250);
	enum txn_change		 ch;
	char			 id[ID_MAX], acc3[ID_MAX];
	const char		*why = NULL;
	int64_t			 n1, n2;
	int			 created;

	/* the fixture made schema 3; this test wants a schema 2 file */
	db_close(f->db);
	if (srv_pg()) {
		srv_pg_drop(f->path);
		assert_int_equal(srv_pg_create(f->path, sizeof(f->path)), 0);
	} else
		remove(f->path);
	assert_int_equal(db_open(f->path, &f->db, &why), DB_OK);
	assert_int_equal(schema_migrate_to(f->db, 2), 0);
	assert_int_equal(schema_version(f->db), 2);
	assert_int_equal(db_exec(f->db, "INSERT INTO clients VALUES ('cli_1', "
	    "'c', 'x', 0); INSERT INTO users VALUES ('usr_1', 'cli_1', NULL, 0); "
	    "INSERT INTO connections (id, user_id, client_id, institution_id, "
	    "status, store_credentials, login_hash, created_at) VALUES "
	    "('con_2', 'usr_1', 'cli_1', 'sandbox', 'authorized', 0, 'h2', 1), "
	    "('con_1', 'usr_1', 'cli_1', 'sandbox', 'authorized', 0, 'h', 2);"
	    "INSERT INTO accounts (id, connection_id, bank_key, type, currency, "
	    "status, created_at, updated_at) VALUES ('acc_1', 'con_1', 'k1', "
	    "'checking', 'EUR', 'active', 5, 5), ('acc_2', 'con_2', 'k2', "
	    "'checking', 'EUR', 'active', 4, 4);"
	    "INSERT INTO transactions (account_id, sort_date, id, bank_key, "
	    "status, booking_date, amount, currency, chash, seq, first_seq, "
	    "connection_id) VALUES "
	    "('acc_1', '2026-01-02', 'txn_b', 'b:T2', 'booked', '2026-01-02', "
	    "-250, 'EUR', 'old', 7, 2, 'con_1'), "
	    "('acc_1', '2026-01-01', 'txn_a', 'b:T1', 'booked', '2026-01-01', "
	    "-100, 'EUR', 'old', 1, 1, 'con_1'), "
	    "('acc_2', '2026-01-03', 'txn_c', 'b:T1', 'booked', '2026-01-03', "
	    "900, 'EUR', 'old', 3, 3, 'con_2');"
	    "UPDATE counters SET value = 7 WHERE name = 'txn_seq'"), DB_OK);

	assert_int_equal(schema_migrate(f->db), 0);
	assert_int_equal(schema_version(f->db), schema_known());
	/* numbered in the order they were made */
	n1 = num_of(f->db, "SELECT num FROM accounts WHERE id = ?", "acc_1");
	n2 = num_of(f->db, "SELECT num FROM accounts WHERE id = ?", "acc_2");
	assert_int_equal(n2, 1);
	assert_int_equal(n1, 2);
	assert_int_equal(num_of(f->db, "SELECT num FROM connections WHERE id = ?",
	    "con_2"), 1);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "id = 'txn_b' AND account_num = 2 AND connection_num = 2 AND "
	    "first_seq = 2 AND seq = 7 AND bank_key = 'b:T2' AND amount = -250",
	    ""), 1);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "id = 'txn_c' AND account_num = 1 AND connection_num = 1", ""), 1);
	/* schema 7 gave the old rows the object the API shows for them */
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "id = 'txn_c' AND doc = '{\"id\":\"txn_c\",\"account_id\":"
	    "\"acc_2\",\"status\":\"booked\",\"booking_date\":\"2026-01-03\","
	    "\"value_date\":null,\"amount\":\"9.00\",\"currency\":\"EUR\","
	    "\"counterparty\":{\"name\":null,\"iban\":null},\"description\":"
	    "null,\"bank_transaction_code\":null,\"bank_reference\":null,"
	    "\"details_bank_transaction_code\":null}'", ""),
	    1);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "doc IS NULL", ""), 0);

	/* the store finds the old rows by key: same id, content updated */
	snprintf(f->acc, sizeof(f->acc), "acc_1");
	assert_int_equal(accdata_batch_begin(&b, f->db), 0);
	assert_int_equal(accdata_txn(&b, "con_1", "acc_1", &t, "b:T2", NULL, 0,
	    id, &ch), 0);
	assert_int_equal(ch, TXN_UPDATED);
	assert_string_equal(id, "txn_b");
	assert_int_equal(accdata_txn(&b, "con_1", "acc_1", &t, "b:T2", NULL, 0,
	    id, &ch), 0);
	assert_int_equal(ch, TXN_SAME);
	/* a key of another account is another row */
	assert_int_equal(accdata_txn(&b, "con_1", "acc_1", &t, "b:T1", NULL, 0,
	    id, &ch), 0);
	assert_int_equal(ch, TXN_UPDATED);
	assert_string_equal(id, "txn_a");
	/* new accounts and connections are numbered on */
	memset(&a, 0, sizeof(a));
	a.bank_id = "k3";
	a.type = ACCT_CHECKING;
	memcpy(a.currency, "EUR", 4);
	assert_int_equal(accdata_account(&b, "con_1", &a, acc3, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(num_of(f->db, "SELECT num FROM accounts WHERE id = ?",
	    acc3), 3);
	assert_int_equal(accdata_txn(&b, "con_1", acc3, &t, "b:T1", NULL, 1,
	    id, &ch), 0);
	assert_int_equal(ch, TXN_ADDED);
	assert_int_equal(accdata_batch_commit(&b), 0);
	assert_int_equal(db_exec(f->db, "INSERT INTO connections (id, user_id, "
	    "client_id, institution_id, status, store_credentials, login_hash, "
	    "created_at) VALUES ('con_3', 'usr_1', 'cli_1', 'sandbox', "
	    "'pending', 0, 'h3', 9)"), DB_OK);
	assert_int_equal(num_of(f->db, "SELECT num FROM connections WHERE id = ?",
	    "con_3"), 3);
	/* deleting a connection still takes its rows with it */
	assert_int_equal(db_exec(f->db, "DELETE FROM connections WHERE id = "
	    "'con_1'"), DB_OK);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "connection_num = 2", ""), 0);
	assert_int_equal(db_exists(f->db, "SELECT 1 FROM transactions WHERE "
	    "id = 'txn_c'", ""), 1);
}

/*
 * The end of a sync looks for vanished pending rows only in accounts that
 * may hold some: the memory must say "may" whenever one is stored.
 */
static void
known_tells_which_accounts_hold_pending(void **state)
{
	struct fixture		*f = *state;
	struct accdata_batch	 b, c;
	struct accdata_known	*k;
	struct rec_txn		 t1 = txn("T1", NULL, 1, -350),
				 p2 = txn("P2", NULL, 0, -1200);
	char			 id[ID_MAX];

	first_delivery(f, &t1);

	/* booked rows only: none, once read; unknown before */
	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_known_pending(k, f->acc), 1);
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_int_equal(accdata_known_pending(k, f->acc), 0);
	/* a pending one delivered */
	assert_int_equal(put(f, &b, "b:P2", NULL, &p2, 0, id), TXN_ADDED);
	assert_int_equal(accdata_known_pending(k, f->acc), 1);
	assert_int_equal(accdata_batch_commit(&b), 0);
	accdata_known_free(k);

	/* a pending one read back from the table */
	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_int_equal(accdata_known_pending(k, f->acc), 1);
	assert_int_equal(accdata_batch_commit(&b), 0);
	accdata_known_free(k);

	/* removed: none again; until another writer comes */
	assert_int_equal(db_exec(f->db, "UPDATE transactions SET removed = 1 "
	    "WHERE bank_key = 'b:P2'"), DB_OK);
	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_int_equal(accdata_known_pending(k, f->acc), 0);
	assert_int_equal(accdata_batch_commit(&b), 0);
	assert_int_equal(accdata_batch_begin(&c, f->db), 0);
	assert_int_equal(put(f, &c, "b:P3", NULL, &p2, 0, id), TXN_ADDED);
	assert_int_equal(accdata_batch_commit(&c), 0);
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(accdata_known_pending(k, f->acc), 1);
	accdata_batch_abort(&b);
	accdata_known_free(k);
}

/* A rolled back batch leaves nothing remembered that was not stored. */
static void
abort_forgets(void **state)
{
	struct fixture		*f = *state;
	struct accdata_batch	 b;
	struct accdata_known	*k;
	struct rec_txn		 t1 = txn("T1", NULL, 1, -350),
				 t4 = txn("T4", NULL, 1, 4);
	char			 id[ID_MAX];

	first_delivery(f, &t1);

	assert_non_null(k = accdata_known_new("con_1"));
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T4", NULL, &t4, 0, id), TXN_ADDED);
	accdata_batch_abort(&b);
	assert_int_equal(accdata_batch_begin_known(&b, f->db, k), 0);
	assert_int_equal(put(f, &b, "b:T4", NULL, &t4, 0, id), TXN_ADDED);
	assert_int_equal(put(f, &b, "b:T1", NULL, &t1, 0, id), TXN_SAME);
	assert_int_equal(accdata_batch_commit(&b), 0);
	accdata_known_free(k);
}

/* A connection whose 70 accounts all went: every one is closed at once. */
static void
every_unseen_account_is_closed(void **state)
{
	struct fixture		*f = *state;
	struct accdata_batch	 b;
	struct rec_account	 a;
	struct db_stmt		*s;
	char			 key[32], id[ID_MAX];
	int			 i;

	assert_int_equal(accdata_batch_begin(&b, f->db), 0);
	for (i = 0; i < 70; i++) {
		memset(&a, 0, sizeof(a));
		snprintf(key, sizeof(key), "acct-many-%d", i);
		a.bank_id = key;
		a.name = "Giro";
		memcpy(a.currency, "EUR", 4);
		assert_int_equal(accdata_account(&b, "con_2", &a, id, NULL), 0);
	}
	assert_int_equal(accdata_close_unseen(&b, "con_2", NULL, 0), 0);
	assert_int_equal(accdata_batch_commit(&b), 0);
	s = db_q(f->db, "SELECT COUNT(*) FROM accounts WHERE connection_id = "
	    "'con_2' AND status <> 'closed'", "");
	assert_non_null(s);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_col_int(s, 0), 0);
	db_done(s);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_unseen_account_is_closed,
		    setup, teardown),
		cmocka_unit_test(txnkeys_holds_many_rows),
		cmocka_unit_test_setup_teardown(schema_2_rows_survive_migration,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    known_tells_which_accounts_hold_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    resync_from_memory_answers_as_the_database, setup, teardown),
		cmocka_unit_test_setup_teardown(abort_forgets, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
