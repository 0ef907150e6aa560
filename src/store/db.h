/*
 * db: the one small interface bankfeed's code uses to reach its database.
 *
 * A driver implements it (sqlite.c; pg.c for PostgreSQL, chosen by a
 * postgres:// URL: db.c).  SQL is written once, portable between SQLite and PostgreSQL:
 * '?' placeholders, INTEGER/BIGINT/TEXT columns, unix seconds for times,
 * INSERT ... ON CONFLICT, RETURNING.
 *
 * A struct db is one connection, used by one thread at a time; store.h hands
 * each thread its own.  Statements are prepared once per connection and kept:
 * db_prepare() returns the cached one for the same SQL text.
 */
#ifndef BF_DB_H
#define BF_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

enum db_rc {
	DB_OK = 0,
	DB_ROW,		/* db_step: a row is ready */
	DB_DONE,	/* db_step: no more rows */
	DB_CONSTRAINT,	/* a unique or foreign key constraint refused the write */
	DB_BUSY,	/* the database stayed locked past the busy timeout */
	DB_ERROR
};

/*
 * Opens a connection.  url is "sqlite:PATH", "sqlite::memory:" or a bare
 * path.  On failure returns DB_ERROR and a static reason in *why.
 */
enum db_rc	 db_open(const char *url, struct db **out, const char **why);
/*
 * The pragmas db_open runs on every SQLite connection (and bfbench on its
 * bare reference, so that both store with the same settings).
 */
extern const char db_sqlite_pragmas[];
void		 db_close(struct db *);
const char	*db_errmsg(struct db *);
/*
 * How many statements of this thread have failed with DB_ERROR or DB_BUSY
 * so far.  The HTTP layer compares it before and after a handler: a list
 * whose rows stop coming on a storage error must not pass for a shorter
 * list.  busy (may be NULL) tells whether the latest was DB_BUSY.
 */
unsigned	 db_failures(int *busy);
/*
 * When a statement of any thread last failed with DB_BUSY (a database
 * locked past the timeout, or a PostgreSQL out of reach), on
 * clock_mono_ns()'s clock; 0 if never.  Work that failed since it began
 * is tried again rather than failed.
 */
long long	 db_last_busy_ns(void);

/*
 * Whether other processes may write this database while this one runs
 * (PostgreSQL, shared by several nodes): what a process keeps in memory
 * about the data must then be checked against the database.
 */
int		 db_shared(struct db *);

/* Runs SQL without results or parameters (schema changes, pragmas). */
enum db_rc	 db_exec(struct db *, const char *sql);

/*
 * Prepares sql (taken from this connection's cache when it was prepared
 * before) and binds the arguments described by types, one letter each:
 *   't' const char * (NULL binds NULL)   'i' int64_t   'n' int (as integer)
 *   'b' const void *, size_t (blob)      'z' NULL
 * The statement is the caller's until db_done(); text and blob arguments
 * are not copied, so they must stay unchanged until then.  NULL on failure.
 */
struct db_stmt	*db_q(struct db *, const char *sql, const char *types, ...);
enum db_rc	 db_step(struct db_stmt *);
/* Ends use of a statement: reset, unbound, back in the cache.  NULL-safe. */
void		 db_done(struct db_stmt *);

/* Whether a query returns a row (1), none (0), or fails (-1). */
int		 db_exists(struct db *, const char *sql, const char *types, ...);

/* Runs a statement that returns no rows to completion. */
enum db_rc	 db_run(struct db *, const char *sql, const char *types, ...);

int		 db_col_null(struct db_stmt *, int);
const char	*db_col_text(struct db_stmt *, int);	/* NULL for SQL NULL */
size_t		 db_col_len(struct db_stmt *, int);	/* bytes of a text column */
int64_t		 db_col_int(struct db_stmt *, int);
const void	*db_col_blob(struct db_stmt *, int, size_t *);
/* A time column: its unix seconds, or -1 for SQL NULL (jw_ktime's null). */
int64_t		 db_col_time(struct db_stmt *, int);
int64_t		 db_changes(struct db *);

/* Transactions: db_begin takes the write lock at once (BEGIN IMMEDIATE). */
enum db_rc	 db_begin(struct db *);
enum db_rc	 db_commit(struct db *);
/* Whether a transaction is open on this connection. */
int		 db_in_transaction(struct db *);
void		 db_rollback(struct db *);

/*
 * Backup and restore (bankfeed backup / restore): whole-database
 * operations, so they take a URL, not a connection.  A driver does them
 * its own way (SQLite: VACUUM INTO and a file renamed into place; a
 * PostgreSQL driver would run pg_dump and pg_restore).  Failures return
 * DB_ERROR (DB_BUSY: see db_lock) with a static reason in *why.
 */

/*
 * A claim on the database of url, held until db_unlock (or exit):
 * shared by the processes that use it (store_init takes one), exclusive
 * for one that replaces it (db_restore).  DB_BUSY when the other kind is
 * held.  *out is NULL when the database cannot be claimed (in memory).
 */
struct db_lock;
enum db_rc	 db_lock(const char *url, int exclusive, struct db_lock **out,
		    const char **why);
void		 db_unlock(struct db_lock *);

/*
 * Writes a consistent copy of the database of url to the new file path
 * (created 0600, never replacing a file, synced to disk) while servers go
 * on reading and writing it.  No part of the file is left on failure.
 */
enum db_rc	 db_backup(const char *url, const char *path, const char **why);

/*
 * Makes the backup at path the database of url, all or nothing: takes
 * the exclusive claim (DB_BUSY while anyone uses the database), copies
 * the backup beside the database, checks that copy is whole, opens it
 * read-only and hands it to check(db, arg), which returns 0 to go on or
 * -1 to refuse (having said why).  Only then is the copy put in place of
 * the database in one step.  On any refusal or failure the database is
 * left as it was, byte for byte.
 */
enum db_rc	 db_restore(const char *url, const char *path,
		    int (*check)(struct db *, void *), void *arg,
		    const char **why);

#endif
