/*
 * db: the calls of db.h that every driver shares (db_q, db_run,
 * db_exists, the failure count), and the choice of driver: a
 * "postgres://" or "postgresql://" URL is PostgreSQL (pg.c), anything
 * else SQLite (sqlite.c).  The rest goes to the connection's driver.
 */
#include "store/db_int.h"

#include <stdatomic.h>
#include <string.h>

#include "core/clock.h"

/* Storage failures seen by this thread's statements: see db_failures(). */
static _Thread_local unsigned failures;
static _Thread_local int last_busy;
static atomic_llong last_busy_ns;

void
db_failed(int busy)
{
	failures++;
	last_busy = busy;
	if (busy)
		atomic_store(&last_busy_ns, clock_mono_ns());
}

long long
db_last_busy_ns(void)
{
	return atomic_load(&last_busy_ns);
}

unsigned
db_failures(int *busy)
{
	if (busy != NULL)
		*busy = last_busy;
	return failures;
}

int
db_url_is_pg(const char *url)
{
	return strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0;
}

static const struct db_driver *
driver(const char *url)
{
	return db_url_is_pg(url) ? &db_pg_driver : &db_sqlite_driver;
}

enum db_rc
db_open(const char *url, struct db **out, const char **why)
{
	return driver(url)->open(url, out, why);
}

void
db_close(struct db *db)
{
	if (db != NULL)
		db->drv->close(db);
}

int
db_shared(struct db *db)
{
	return db->drv == &db_pg_driver;
}

const char *
db_errmsg(struct db *db)
{
	return db->drv->errmsg(db);
}

enum db_rc
db_exec(struct db *db, const char *sql)
{
	return db->drv->exec(db, sql);
}

struct db_stmt *
db_q(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt	*s;
	va_list		 ap;

	va_start(ap, types);
	s = db->drv->vq(db, sql, types, ap);
	va_end(ap);
	return s;
}

/* Runs a statement: to its end (all), or to its first row. */
static enum db_rc
vrun(struct db *db, const char *sql, const char *types, va_list ap, int all)
{
	struct db_stmt	*s;
	enum db_rc	 rc;

	if ((s = db->drv->vq(db, sql, types, ap)) == NULL)
		return DB_ERROR;
	while ((rc = db_step(s)) == DB_ROW && all)
		;
	db_done(s);
	return rc;
}

enum db_rc
db_run(struct db *db, const char *sql, const char *types, ...)
{
	enum db_rc	 rc;
	va_list		 ap;

	va_start(ap, types);
	rc = vrun(db, sql, types, ap, 1);
	va_end(ap);
	return rc == DB_DONE ? DB_OK : rc;
}

int
db_exists(struct db *db, const char *sql, const char *types, ...)
{
	enum db_rc	 rc;
	va_list		 ap;

	va_start(ap, types);
	rc = vrun(db, sql, types, ap, 0);
	va_end(ap);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

enum db_rc
db_step(struct db_stmt *s)
{
	return s->drv->step(s);
}

void
db_done(struct db_stmt *s)
{
	if (s != NULL)
		s->drv->done(s);
}

int
db_col_null(struct db_stmt *s, int i)
{
	return s->drv->col_null(s, i);
}

const char *
db_col_text(struct db_stmt *s, int i)
{
	return s->drv->col_text(s, i);
}

size_t
db_col_len(struct db_stmt *s, int i)
{
	return s->drv->col_len(s, i);
}

int64_t
db_col_int(struct db_stmt *s, int i)
{
	return s->drv->col_int(s, i);
}

const void *
db_col_blob(struct db_stmt *s, int i, size_t *n)
{
	return s->drv->col_blob(s, i, n);
}

int64_t
db_col_time(struct db_stmt *s, int i)
{
	return db_col_null(s, i) ? -1 : db_col_int(s, i);
}

int64_t
db_changes(struct db *db)
{
	return db->drv->changes(db);
}

enum db_rc
db_begin(struct db *db)
{
	return db->drv->begin(db);
}

enum db_rc
db_commit(struct db *db)
{
	return db->drv->commit(db);
}

int
db_in_transaction(struct db *db)
{
	return db->drv->in_transaction(db);
}

void
db_rollback(struct db *db)
{
	db->drv->rollback(db);
}

enum db_rc
db_lock(const char *url, int exclusive, struct db_lock **out,
    const char **why)
{
	return driver(url)->lock(url, exclusive, out, why);
}

/* Only SQLite's claims are held in a struct db_lock (pg.c makes none). */
void
db_unlock(struct db_lock *l)
{
	if (l != NULL)
		db_sqlite_driver.unlock(l);
}

enum db_rc
db_backup(const char *url, const char *path, const char **why)
{
	return driver(url)->backup(url, path, why);
}

enum db_rc
db_restore(const char *url, const char *path, int (*check)(struct db *,
    void *), void *arg, const char **why)
{
	return driver(url)->restore(url, path, check, arg, why);
}
