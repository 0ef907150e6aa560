/*
 * Versioned schema migrations, applied in order at start, each in its own
 * transaction.  A migration is never edited once released: a change is a new
 * entry at the end.  SQL here must run on SQLite and PostgreSQL alike.
 */
#include "store/store.h"

#include <stdio.h>
#include <time.h>

#include "core/log.h"

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
schema_migrate(struct db *db)
{
	int	v, i;

	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)") != DB_OK) {
		log_error("msg=\"cannot create schema_migrations\" reason=\"%s\"",
		    db_errmsg(db));
		return -1;
	}
	v = schema_version(db);
	if (v > NMIGRATIONS) {
		log_error("msg=\"database schema is newer than this bankfeed\" "
		    "db_version=%d known=%d", v, NMIGRATIONS);
		return -1;
	}
	for (i = v; i < NMIGRATIONS; i++) {
		if (db_begin(db) != DB_OK ||
		    db_exec(db, migrations[i]) != DB_OK ||
		    db_run(db, "INSERT INTO schema_migrations (version, applied_at)"
		    " VALUES (?, ?)", "ni", i + 1, (int64_t)time(NULL)) != DB_OK ||
		    db_commit(db) != DB_OK) {
			log_error("msg=\"migration failed\" version=%d reason=\"%s\"",
			    i + 1, db_errmsg(db));
			db_rollback(db);
			return -1;
		}
		log_info("msg=\"schema migrated\" version=%d", i + 1);
	}
	return 0;
}
