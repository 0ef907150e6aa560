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
