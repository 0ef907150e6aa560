/*
 * db_int: what a driver of db.h implements (sqlite.c, pg.c).  db.c holds
 * the calls every driver shares and hands the rest to the driver a
 * connection was opened with, chosen once, by the URL's scheme.
 *
 * A driver's connection and statement structs begin with struct db and
 * struct db_stmt, which name their driver.
 */
#ifndef BF_DB_INT_H
#define BF_DB_INT_H

#include <stdarg.h>

#include "store/db.h"

struct db {
	const struct db_driver	*drv;
};

struct db_stmt {
	const struct db_driver	*drv;
};

struct db_driver {
	enum db_rc	 (*open)(const char *, struct db **, const char **);
	void		 (*close)(struct db *);
	const char	*(*errmsg)(struct db *);
	enum db_rc	 (*exec)(struct db *, const char *);
	/* Prepares (or takes from the cache) and binds; NULL on failure. */
	struct db_stmt	*(*vq)(struct db *, const char *, const char *, va_list);
	enum db_rc	 (*step)(struct db_stmt *);
	void		 (*done)(struct db_stmt *);
	int		 (*col_null)(struct db_stmt *, int);
	const char	*(*col_text)(struct db_stmt *, int);
	size_t		 (*col_len)(struct db_stmt *, int);
	int64_t		 (*col_int)(struct db_stmt *, int);
	const void	*(*col_blob)(struct db_stmt *, int, size_t *);
	int64_t		 (*changes)(struct db *);
	enum db_rc	 (*begin)(struct db *);
	enum db_rc	 (*commit)(struct db *);
	int		 (*in_transaction)(struct db *);
	void		 (*rollback)(struct db *);
	enum db_rc	 (*lock)(const char *, int, struct db_lock **,
			    const char **);
	void		 (*unlock)(struct db_lock *);
	enum db_rc	 (*backup)(const char *, const char *, const char **);
	enum db_rc	 (*restore)(const char *, const char *,
			    int (*)(struct db *, void *), void *, const char **);
};

/* A driver's table, from its functions PREFIX_open, PREFIX_close ... */
#define DB_DRIVER(p) { \
	.open = p##_open, .close = p##_close, .errmsg = p##_errmsg, \
	.exec = p##_exec, .vq = p##_vq, .step = p##_step, .done = p##_done, \
	.col_null = p##_col_null, .col_text = p##_col_text, \
	.col_len = p##_col_len, .col_int = p##_col_int, \
	.col_blob = p##_col_blob, .changes = p##_changes, \
	.begin = p##_begin, .commit = p##_commit, \
	.in_transaction = p##_in_transaction, .rollback = p##_rollback, \
	.lock = p##_lock, .unlock = p##_unlock, .backup = p##_backup, \
	.restore = p##_restore }

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* Whether url names a PostgreSQL database (postgres:// or postgresql://). */
int		 db_url_is_pg(const char *url);

/* A statement failed: counted for db_failures() (busy: with DB_BUSY). */
void		 db_failed(int busy);

#endif
