/*
 * Versioned schema migrations, applied in order at start, each in its own
 * transaction.  A migration is never edited once released: a change is a new
 * entry at the end.  SQL here must run on SQLite and PostgreSQL alike.
 */
#include "store/store.h"

#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "store/accdata.h"

static const char *const migrations[] = {
	/* 1: clients, tokens, users, idempotency keys */
	"CREATE TABLE clients ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  secret_hash TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE tokens ("
	"  token_hash TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  expires_at BIGINT NOT NULL);"
	"CREATE INDEX tokens_expiry ON tokens(expires_at);"
	"CREATE TABLE users ("
	"  id TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  external_ref TEXT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE UNIQUE INDEX users_external_ref ON users(client_id, external_ref);"
	"CREATE INDEX users_client ON users(client_id, id);"
	"CREATE TABLE idempotency_keys ("
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  idem_key TEXT NOT NULL,"
	"  request_hash TEXT NOT NULL,"
	"  status INTEGER NOT NULL,"	/* 0 while the first request runs */
	"  body TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (client_id, idem_key));",

	/*
	 * 2: connections with their sessions, durable tasks, account data,
	 * the PSD2 sync log, webhooks and their outbox.  Secrets (credentials,
	 * MFA answers, a connector's state) are stored only sealed (vault.h).
	 */
	"CREATE TABLE connections ("
	"  id TEXT PRIMARY KEY,"
	"  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  client_id TEXT NOT NULL,"
	"  institution_id TEXT NOT NULL,"
	"  status TEXT NOT NULL,"		/* pending authorized failed expired */
	"  store_credentials INTEGER NOT NULL,"
	"  login_hash TEXT NOT NULL,"		/* keyed hash of institution + username */
	"  secret BLOB,"			/* sealed credentials and answers */
	"  state BLOB,"				/* sealed connector state */
	"  authorized_at BIGINT,"		/* last authorization (SCA) */
	"  consent_expires_at BIGINT,"
	"  last_synced_at BIGINT,"
	"  error_code INTEGER,"
	"  error_message TEXT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE INDEX connections_user ON connections(user_id, id);"
	"CREATE INDEX connections_client ON connections(client_id, id);"
	"CREATE INDEX connections_login ON connections(client_id, login_hash);"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL,"		/* challenge_required authorized failed expired */
	"  challenges TEXT NOT NULL,"		/* JSON array, as shown */
	"  secret BLOB,"			/* sealed: credentials + answers so far */
	"  state BLOB,"				/* sealed connector state mid-login */
	"  expires_at BIGINT NOT NULL,"		/* idle expiry, moved by each request */
	"  error_code INTEGER,"
	"  error_message TEXT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE INDEX sessions_connection ON sessions(connection_id, status);"
	"CREATE TABLE tasks ("
	"  id TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL,"
	"  connection_id TEXT REFERENCES connections(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"			/* sync import */
	"  status TEXT NOT NULL,"		/* queued running completed failed expired */
	"  params TEXT,"			/* JSON: from, to, psu_ip */
	"  error_code INTEGER,"
	"  error_message TEXT,"
	"  error_data TEXT,"
	"  warnings TEXT,"			/* JSON array */
	"  accounts INTEGER,"
	"  added INTEGER,"
	"  updated INTEGER,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  lease_owner TEXT,"			/* the node running it */
	"  lease_until BIGINT,"			/* ... which holds it until */
	"  created_at BIGINT NOT NULL,"
	"  started_at BIGINT,"
	"  finished_at BIGINT);"
	"CREATE INDEX tasks_queue ON tasks(status, created_at);"
	"CREATE INDEX tasks_connection ON tasks(connection_id, created_at);"
	"CREATE TABLE accounts ("
	"  id TEXT PRIMARY KEY,"
	"  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
	"  bank_key TEXT NOT NULL,"		/* the stable identity at the source */
	"  name TEXT,"
	"  type TEXT NOT NULL,"
	"  iban TEXT,"
	"  masked_number TEXT,"
	"  currency TEXT NOT NULL,"
	"  holder_name TEXT,"
	"  holder_address TEXT,"
	"  holder_email TEXT,"
	"  status TEXT NOT NULL,"		/* active closed error */
	"  error_code INTEGER,"
	"  error_message TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  UNIQUE (connection_id, bank_key));"
	"CREATE TABLE balances ("
	"  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  amount BIGINT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  reference_date TEXT,"
	"  PRIMARY KEY (account_id, type));"
	/*
	 * Rows are clustered by (account, sort date, id): a page of an
	 * account's transactions is one contiguous read.  sort_date is the
	 * booking date when first seen and never changes, so a cursor over it
	 * neither skips nor repeats a row when a pending one books later.
	 */
	"CREATE TABLE transactions ("
	"  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  sort_date TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  bank_key TEXT NOT NULL,"		/* bank id, or a content fingerprint */
	"  pending_key TEXT,"			/* the bank id it had while pending */
	"  status TEXT NOT NULL,"		/* booked pending */
	"  booking_date TEXT,"
	"  value_date TEXT,"
	"  amount BIGINT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  cp_name TEXT,"
	"  cp_iban TEXT,"
	"  description TEXT,"
	"  bank_transaction_code TEXT,"
	"  bank_reference TEXT,"
	"  chash TEXT NOT NULL,"		/* hash of the fields shown */
	"  removed INTEGER NOT NULL DEFAULT 0,"
	"  seq BIGINT NOT NULL,"		/* change sequence, for the sync feed */
	"  first_seq BIGINT NOT NULL,"		/* seq when added */
	"  connection_id TEXT NOT NULL,"
	"  PRIMARY KEY (account_id, sort_date, id)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX transactions_key ON transactions(account_id, bank_key);"
	"CREATE INDEX transactions_feed ON transactions(connection_id, seq);"
	"CREATE TABLE sync_log ("
	"  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
	"  at BIGINT NOT NULL,"
	"  unattended INTEGER NOT NULL);"
	"CREATE INDEX sync_log_connection ON sync_log(connection_id, at);"
	"CREATE TABLE counters ("
	"  name TEXT PRIMARY KEY,"
	"  value BIGINT NOT NULL);"
	"INSERT INTO counters (name, value) VALUES ('txn_seq', 0);"
	"CREATE TABLE webhooks ("
	"  client_id TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,"
	"  url TEXT NOT NULL,"
	"  secret BLOB NOT NULL,"		/* sealed: HMAC key */
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE webhook_outbox ("
	"  id TEXT PRIMARY KEY,"		/* evt_... */
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"		/* the JSON body sent */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at BIGINT NOT NULL,"
	"  delivered_at BIGINT,"
	"  last_error TEXT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE INDEX webhook_outbox_due ON webhook_outbox(delivered_at, next_attempt_at);",

	/*
	 * 3: transactions keyed by numbers.  Every row used to repeat its
	 * account's and connection's 28-character ids, and its own, in each
	 * of its three B-trees (the clustered key and two indexes): 530
	 * bytes a row, and most of a first sync's time.  Accounts and
	 * connections get a number (num, given by a trigger on insert: the
	 * largest plus one, so reused only after the highest is deleted, and
	 * deletions cascade to the rows), and a row's place within its account and
	 * date is the sequence number it was added with (first_seq, which
	 * never changes) instead of its random id.  The ids a client sees
	 * are unchanged; so is the order of dates, and within a date rows
	 * now come in the order they were added.
	 */
	"ALTER TABLE connections ADD COLUMN num BIGINT;"
	"UPDATE connections SET num = r.n FROM (SELECT id, ROW_NUMBER() OVER"
	"  (ORDER BY created_at, id) AS n FROM connections) AS r"
	"  WHERE r.id = connections.id;"
	"CREATE UNIQUE INDEX connections_num ON connections(num);"
	"ALTER TABLE accounts ADD COLUMN num BIGINT;"
	"UPDATE accounts SET num = r.n FROM (SELECT id, ROW_NUMBER() OVER"
	"  (ORDER BY created_at, id) AS n FROM accounts) AS r"
	"  WHERE r.id = accounts.id;"
	"CREATE UNIQUE INDEX accounts_num ON accounts(num);"
	/* New rows are numbered as they come, whichever code inserts them. */
	"CREATE TRIGGER connections_numbered AFTER INSERT ON connections"
	"  WHEN NEW.num IS NULL BEGIN UPDATE connections SET num ="
	"  (SELECT COALESCE(MAX(num), 0) + 1 FROM connections)"
	"  WHERE id = NEW.id; END;"
	"CREATE TRIGGER accounts_numbered AFTER INSERT ON accounts"
	"  WHEN NEW.num IS NULL BEGIN UPDATE accounts SET num ="
	"  (SELECT COALESCE(MAX(num), 0) + 1 FROM accounts)"
	"  WHERE id = NEW.id; END;"
	"CREATE TABLE transactions_v3 ("
	"  account_num BIGINT NOT NULL REFERENCES accounts(num) ON DELETE CASCADE,"
	"  sort_date TEXT NOT NULL,"
	"  first_seq BIGINT NOT NULL,"		/* seq when added */
	"  id TEXT NOT NULL,"
	"  bank_key TEXT NOT NULL,"		/* bank id, or a content fingerprint */
	"  pending_key TEXT,"			/* the bank id it had while pending */
	"  status TEXT NOT NULL,"		/* booked pending */
	"  booking_date TEXT,"
	"  value_date TEXT,"
	"  amount BIGINT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  cp_name TEXT,"
	"  cp_iban TEXT,"
	"  description TEXT,"
	"  bank_transaction_code TEXT,"
	"  bank_reference TEXT,"
	"  chash TEXT NOT NULL,"		/* hash of the fields shown */
	"  removed INTEGER NOT NULL DEFAULT 0,"
	"  seq BIGINT NOT NULL,"		/* change sequence, for the sync feed */
	"  connection_num BIGINT NOT NULL,"
	"  PRIMARY KEY (account_num, sort_date, first_seq)) WITHOUT ROWID;"
	"INSERT INTO transactions_v3 (account_num, sort_date, first_seq, id,"
	"  bank_key, pending_key, status, booking_date, value_date, amount,"
	"  currency, cp_name, cp_iban, description, bank_transaction_code,"
	"  bank_reference, chash, removed, seq, connection_num)"
	"  SELECT a.num, t.sort_date, t.first_seq, t.id, t.bank_key,"
	"  t.pending_key, t.status, t.booking_date, t.value_date, t.amount,"
	"  t.currency, t.cp_name, t.cp_iban, t.description,"
	"  t.bank_transaction_code, t.bank_reference, t.chash, t.removed, t.seq,"
	"  c.num FROM transactions t JOIN accounts a ON a.id = t.account_id"
	"  JOIN connections c ON c.id = a.connection_id"
	"  ORDER BY a.num, t.sort_date, t.first_seq;"
	"DROP TABLE transactions;"
	"ALTER TABLE transactions_v3 RENAME TO transactions;"
	"CREATE UNIQUE INDEX transactions_key ON transactions(account_num, bank_key);"
	"CREATE INDEX transactions_feed ON transactions(connection_num, seq);",

	/*
	 * 4: each transaction keeps the object the API shows for it (doc,
	 * txn_json.h), written with the row: a page read copies 100 stored
	 * objects instead of rendering 1,400 columns.  Rows stored before are
	 * given theirs by migration 7's step (accdata_backfill_docs(), which
	 * reads migration 7's column too).
	 */
	"ALTER TABLE transactions ADD COLUMN doc TEXT;",

	/*
	 * 5: the Connect page and the dashboard (src/web).  Connect tokens
	 * and the sessions of browsers (a cookie's value) are stored only as
	 * keyed hashes; a Connect session remembers what the page has done
	 * so far.  Dashboard users log in with a password (argon2id).
	 */
	"CREATE TABLE connect_tokens ("
	"  token_hash TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  redirect_uri TEXT,"
	"  institutions TEXT,"			/* JSON array of ids, or NULL: all */
	"  language TEXT,"
	"  expires_at BIGINT NOT NULL,"
	"  used_at BIGINT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE web_sessions ("
	"  id_hash TEXT PRIMARY KEY,"		/* keyed hash of the cookie */
	"  kind TEXT NOT NULL,"			/* connect dashboard */
	"  csrf TEXT NOT NULL,"
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  token_hash TEXT,"			/* connect: the token it came from */
	"  user_id TEXT,"			/* connect: the end user */
	"  login TEXT,"				/* dashboard: who logged in */
	"  institution_id TEXT,"		/* connect: the bank picked */
	"  consented INTEGER NOT NULL DEFAULT 0,"
	"  language TEXT,"			/* chosen on the page, or NULL */
	"  connection_id TEXT,"			/* connect: the latest attempt */
	"  session_id TEXT,"
	"  error_code INTEGER,"			/* connect: the last failure */
	"  error_message TEXT,"
	"  expires_at BIGINT NOT NULL,"
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE dashboard_users ("
	"  email TEXT PRIMARY KEY,"
	"  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,"
	"  password_hash TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL);",

	/*
	 * 6: the per-client request limit's token buckets, for nodes that
	 * share a database (PostgreSQL; ratelimit.c): tokens in millionths,
	 * at in unix milliseconds, ok whether the latest request got one.
	 */
	"CREATE TABLE rate_buckets ("
	"  bucket TEXT PRIMARY KEY,"
	"  tokens BIGINT NOT NULL,"
	"  at BIGINT NOT NULL,"
	"  ok INTEGER NOT NULL);",

	/*
	 * 7: a camt entry's transaction details may name a bank transaction
	 * code of their own beside the entry's (which wins): it is kept and
	 * shown as details_bank_transaction_code.  Every doc is written
	 * again (accdata_backfill_docs) with the new member, null for the
	 * rows stored before.
	 */
	("ALTER TABLE transactions ADD COLUMN details_bank_transaction_code TEXT;"
	"UPDATE transactions SET doc = NULL;"),
};

/* C steps of a migration, run after its SQL in the same transaction. */
static int (*const migration_steps[])(struct db *) = {
	[6] = accdata_backfill_docs,
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
schema_version(struct db *db)
{
	struct db_stmt	*s;
	int		 v = 0;

	s = db_q(db, "SELECT MAX(version) FROM schema_migrations", "");
	if (s != NULL && db_step(s) == DB_ROW)
		v = (int)db_col_int(s, 0);
	db_done(s);
	return v;
}

int
schema_known(void)
{
	return NMIGRATIONS;
}

int
schema_migrate(struct db *db)
{
	return schema_migrate_to(db, NMIGRATIONS);
}

int
schema_migrate_to(struct db *db, int target)
{
	int	v, i;

	/* Under the write lock: nodes starting together make it once. */
	if (db_begin(db) != DB_OK || db_exec(db, "CREATE TABLE IF NOT EXISTS "
	    "schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT "
	    "NOT NULL)") != DB_OK || db_commit(db) != DB_OK) {
		log_error("msg=\"cannot create schema_migrations\" reason=\"%s\"",
		    db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	v = schema_version(db);
	if (v > NMIGRATIONS) {
		log_error("msg=\"database schema is newer than this bankfeed\" "
		    "db_version=%d known=%d", v, NMIGRATIONS);
		return -1;
	}
	for (i = v; i < target && i < NMIGRATIONS; i++) {
		if (db_begin(db) != DB_OK)
			goto fail;
		/* Nodes starting together: one applies it, the others see it. */
		if (schema_version(db) > i) {
			db_rollback(db);
			continue;
		}
		if (db_exec(db, migrations[i]) != DB_OK ||
		    (i < (int)(sizeof(migration_steps) /
		    sizeof(migration_steps[0])) && migration_steps[i] != NULL &&
		    migration_steps[i](db) == -1) ||
		    db_run(db, "INSERT INTO schema_migrations (version, applied_at)"
		    " VALUES (?, ?)", "ni", i + 1, (int64_t)time(NULL)) != DB_OK ||
		    db_commit(db) != DB_OK) {
fail:
			log_error("msg=\"migration failed\" version=%d reason=\"%s\"",
			    i + 1, db_errmsg(db));
			db_rollback(db);
			return -1;
		}
		log_info("msg=\"schema migrated\" version=%d", i + 1);
	}
	return 0;
}
