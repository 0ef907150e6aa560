/*
 * The SQLite driver of db.h.  One sqlite3 handle per struct db, opened with
 * WAL, a busy timeout and foreign keys on; a cache of prepared statements
 * keyed by SQL text.  Backups are VACUUM INTO copies; a restore renames a
 * checked copy over the database file.
 */
#include "store/db_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "core/log.h"

#define BUSY_TIMEOUT_MS 10000

struct sq_stmt {
	struct db_stmt	 base;
	struct sq_db	*db;
	sqlite3_stmt	*st;
	const char	*sql;		/* the caller's text, for cache lookup */
	int		 in_use;
	struct sq_stmt	*next;
};

struct sq_db {
	struct db	 base;
	sqlite3		*h;
	struct sq_stmt	*cache;
};

static enum db_rc
map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		db_failed(1);
		return DB_BUSY;
	default:
		db_failed(0);
		return DB_ERROR;
	}
}

/*
 * Set once, before the first open.  SQLite keeps global memory statistics
 * behind a mutex taken on every allocation; bankfeed does not read them.
 * Each connection would also allocate room for 20 pages up front (330 KB
 * with 16 KB pages, four connections at start): pages are allocated as
 * they are read instead.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	sqlite3_initialize();
}

/*
 * SQLite creates the -wal and -shm files with the database file's mode, so
 * a database left readable by others (an older bankfeed made it under the
 * caller's umask) keeps its journal so too: said once, at the first open.
 */
static void
warn_exposed_once(const char *path)
{
	static atomic_flag	 done = ATOMIC_FLAG_INIT;
	static const char *const ends[] = { "", "-wal", "-shm" };
	char			 file[4096];
	size_t			 i;

	if (atomic_flag_test_and_set(&done))
		return;
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, ends[i]);
		log_warn_exposed(file);
	}
}

/* The file a URL names ("sqlite:PATH" or a bare path); NULL for another scheme. */
static const char *
url_path(const char *url, const char **why)
{
	*why = NULL;
	pthread_once(&sqlite_once, sqlite_setup);
	if (strncmp(url, "sqlite:", 7) == 0)
		return url + 7;
	if (strstr(url, "://") != NULL) {
		*why = "unsupported database URL scheme (sqlite:PATH or postgres://...)";
		return NULL;
	}
	return url;
}

/* Whether a path names no file: SQLite's in-memory and temporary databases. */
static int
no_file(const char *path)
{
	return *path == '\0' || strcmp(path, ":memory:") == 0;
}

static void sq_close(struct db *);

static enum db_rc
sq_exec_h(struct sq_db *db, const char *sql)
{
	int	rc;

	rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	if (rc == SQLITE_ROW)
		rc = SQLITE_OK;
	return map_rc(rc);
}

static enum db_rc
sq_open(const char *url, struct db **out, const char **why)
{
	struct sq_db	*db;
	const char	*path;

	*out = NULL;
	if ((path = url_path(url, why)) == NULL)
		return DB_ERROR;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		*why = "out of memory";
		return DB_ERROR;
	}
	db->base.drv = &db_sqlite_driver;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*why = "cannot open the SQLite database file";
		sq_close(&db->base);
		return DB_ERROR;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	if (sq_exec_h(db, db_sqlite_pragmas) != DB_OK ||
	    sq_exec_h(db, "PRAGMA foreign_keys=ON") != DB_OK) {
		*why = "cannot set up the SQLite database (is it a database file?)";
		sq_close(&db->base);
		return DB_ERROR;
	}
	warn_exposed_once(path);
	*out = &db->base;
	return DB_OK;
}

const char db_sqlite_pragmas[] = "PRAGMA page_size=16384; "
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
    "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY";

#define SQ(d)	((struct sq_db *)(d))
#define SQS(s)	((struct sq_stmt *)(s))

static void
sq_close(struct db *base)
{
	struct sq_db	*db = SQ(base);
	struct sq_stmt	*s, *n;

	if (db == NULL)
		return;
	for (s = db->cache; s != NULL; s = n) {
		n = s->next;
		sqlite3_finalize(s->st);
		free(s);
	}
	sqlite3_close(db->h);
	free(db);
}

static const char *
sq_errmsg(struct db *db)
{
	return sqlite3_errmsg(SQ(db)->h);
}

static enum db_rc
sq_exec(struct db *db, const char *sql)
{
	return sq_exec_h(SQ(db), sql);
}

static struct sq_stmt *
stmt_get(struct sq_db *db, const char *sql)
{
	struct sq_stmt	*s;

	for (s = db->cache; s != NULL; s = s->next)
		if (!s->in_use && (s->sql == sql || strcmp(s->sql, sql) == 0)) {
			s->in_use = 1;
			return s;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->st, NULL) != SQLITE_OK) {
		free(s);
		return NULL;
	}
	s->base.drv = &db_sqlite_driver;
	s->db = db;
	s->sql = sql;
	s->in_use = 1;
	/*
	 * Callers pass SQL literals, whose address outlives the cache; a
	 * statement asked for while its twin is in use is cached too.
	 */
	s->next = db->cache;
	db->cache = s;
	return s;
}

static int
bind_args(struct sq_stmt *s, const char *types, va_list ap)
{
	int	 i, rc = SQLITE_OK;

	/* A type letter per '?': a miscount is a programming error, caught
	 * here before a wrong argument is read. */
	if ((int)strlen(types) != sqlite3_bind_parameter_count(s->st)) {
		fprintf(stderr, "db: %zu types for %d parameters in: %s\n",
		    strlen(types), sqlite3_bind_parameter_count(s->st), s->sql);
		return -1;
	}
	for (i = 1; *types != '\0' && rc == SQLITE_OK; types++, i++) {
		switch (*types) {
		case 't': {
			const char *v = va_arg(ap, const char *);

			/* Not copied: arguments outlive the statement's use,
			 * which ends at db_done() (documented in db.h). */
			rc = v ? sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC)
			    : sqlite3_bind_null(s->st, i);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(s->st, i, va_arg(ap, int64_t));
			break;
		case 'n':
			rc = sqlite3_bind_int64(s->st, i, va_arg(ap, int));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			rc = sqlite3_bind_blob64(s->st, i, p, n, SQLITE_STATIC);
			break;
		}
		case 'z':
			rc = sqlite3_bind_null(s->st, i);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc == SQLITE_OK ? 0 : -1;
}

static void sq_done(struct db_stmt *);

static struct db_stmt *
sq_vq(struct db *db, const char *sql, const char *types, va_list ap)
{
	struct sq_stmt	*s;

	if ((s = stmt_get(SQ(db), sql)) == NULL)
		return NULL;
	if (bind_args(s, types, ap) == -1) {
		sq_done(&s->base);
		return NULL;
	}
	return &s->base;
}

static enum db_rc
sq_step(struct db_stmt *s)
{
	return map_rc(sqlite3_step(SQS(s)->st));
}

static void
sq_done(struct db_stmt *base)
{
	struct sq_stmt	*s = SQS(base);

	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->in_use = 0;
}

static int
sq_col_null(struct db_stmt *s, int i)
{
	return sqlite3_column_type(SQS(s)->st, i) == SQLITE_NULL;
}

static const char *
sq_col_text(struct db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(SQS(s)->st, i);
}

static size_t
sq_col_len(struct db_stmt *s, int i)
{
	return (size_t)sqlite3_column_bytes(SQS(s)->st, i);
}

static int64_t
sq_col_int(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(SQS(s)->st, i);
}

static const void *
sq_col_blob(struct db_stmt *s, int i, size_t *n)
{
	const void	*p = sqlite3_column_blob(SQS(s)->st, i);

	*n = (size_t)sqlite3_column_bytes(SQS(s)->st, i);
	return p;
}

static int64_t
sq_changes(struct db *db)
{
	return sqlite3_changes64(SQ(db)->h);
}

static enum db_rc
sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static enum db_rc
sq_commit(struct db *db)
{
	return sq_exec(db, "COMMIT");
}

static int
sq_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(SQ(db)->h);
}

static void
sq_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(SQ(db)->h))
		sq_exec(db, "ROLLBACK");
}

/*
 * Backup and restore.
 *
 * A backup is "VACUUM INTO": a plain database file written from one read
 * transaction, so it is consistent, and in WAL mode neither blocks the
 * server's writers nor waits for them.  Unlike the online backup API it
 * copies no free pages: a deleted user's rows do not linger in backups,
 * nor does the space an old schema left behind (migration 3).  It writes
 * the tables row by row where the API copies pages, yet took as long on a
 * million transaction rows (3 s): both wait on the disk.
 */

struct db_lock {
	int	fd;
};

/*
 * The claim is a flock() of PATH.lock: the kernel drops it when its
 * holder exits, however it ends, so a killed server leaves no stale
 * claim.  It is a file of its own, never the database: closing any
 * descriptor of the database file would drop SQLite's own POSIX locks.
 */
static enum db_rc
sq_lock(const char *url, int exclusive, struct db_lock **out,
    const char **why)
{
	const char	*path;
	char		 lpath[4096];
	int		 fd, busy;

	*out = NULL;
	if ((path = url_path(url, why)) == NULL)
		return DB_ERROR;
	if (no_file(path))
		return DB_OK;
	if ((size_t)snprintf(lpath, sizeof(lpath), "%s.lock", path) >=
	    sizeof(lpath)) {
		*why = "the database path is too long";
		return DB_ERROR;
	}
	if ((fd = open(lpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		*why = "cannot open the database's lock file";
		return DB_ERROR;
	}
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == -1) {
		busy = errno == EWOULDBLOCK;
		close(fd);
		*why = !busy ? "cannot lock the database's lock file" :
		    exclusive ? "the database is in use (a bankfeed server or "
		    "command has it open)" : "the database is being restored";
		return busy ? DB_BUSY : DB_ERROR;
	}
	if ((*out = malloc(sizeof(**out))) == NULL) {
		close(fd);
		*why = "out of memory";
		return DB_ERROR;
	}
	(*out)->fd = fd;
	return DB_OK;
}

static void
sq_unlock(struct db_lock *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l);
}

static enum db_rc
sq_backup(const char *url, const char *path, const char **why)
{
	const char	*src;
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	enum db_rc	 rc = DB_ERROR;
	int		 fd = -1;

	if ((src = url_path(url, why)) == NULL)
		return DB_ERROR;
	if (no_file(src)) {
		*why = "an in-memory database has no file to back up";
		return DB_ERROR;
	}
	/* No SQLITE_OPEN_CREATE: a wrong data dir must not become a new database. */
	if (sqlite3_open_v2(src, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		*why = "cannot open the database file";
		goto out;
	}
	sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
	/* VACUUM INTO takes an empty file: made here, 0600 from the start. */
	if ((fd = files_create(path)) == -1) {
		*why = errno == EEXIST ? "the backup file exists already (a backup "
		    "never replaces a file)" : "cannot create the backup file";
		goto out;
	}
	if (sqlite3_prepare_v2(h, "VACUUM INTO ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		log_error("msg=\"backup failed\" reason=\"%s\"", sqlite3_errmsg(h));
		*why = "the copy failed";
		goto out;
	}
	/* SQLite does not sync what VACUUM INTO wrote. */
	if (fsync(fd) == -1 || files_sync_dir(path) == -1) {
		*why = "cannot sync the backup file to disk";
		goto out;
	}
	rc = DB_OK;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	if (fd != -1) {
		close(fd);
		if (rc != DB_OK)
			unlink(path);
	}
	return rc;
}

/* Removes the files SQLite keeps beside a database: its WAL, index, journal. */
static void
remove_journals(const char *path)
{
	static const char *const ext[] = { "-wal", "-shm", "-journal" };
	char	p[4200];
	size_t	i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			log_warn("msg=\"cannot remove\" path=\"%s\"", p);
	}
}

/* Copies a regular file to the new file to, synced.  0 or -1 (*why). */
static int
copy_file(const char *from, const char *to, const char **why)
{
	char		 b[1 << 16];
	struct stat	 st;
	ssize_t		 n, w, off;
	int		 in, out = -1, rc = -1;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		*why = "cannot read the backup file";
		goto done;
	}
	if ((out = files_create(to)) == -1) {
		*why = "cannot create a file beside the database";
		goto done;
	}
	while ((n = read(in, b, sizeof(b))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = "cannot read the backup file";
			goto done;
		}
		for (off = 0; off < n; off += w)
			if ((w = write(out, b + off, (size_t)(n - off))) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				*why = "cannot write beside the database (disk full?)";
				goto done;
			}
	}
	if (fsync(out) == -1) {
		*why = "cannot sync the copy to disk";
		goto done;
	}
	rc = 0;
done:
	if (in != -1)
		close(in);
	if (out != -1 && close(out) == -1)
		rc = -1;
	return rc;
}

/*
 * Opens the copy at path read-only and runs SQLite's integrity check on
 * it: 0 with *out open, or -1 (*why, the first problem logged).
 */
static int
open_checked(const char *path, struct db **out, const char **why)
{
	struct sq_db	*db;
	sqlite3_stmt	*st = NULL;
	const char	*res = NULL;
	int		 rc = -1;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	db->base.drv = &db_sqlite_driver;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		res = (const char *)sqlite3_column_text(st, 0);
	if (res == NULL || strcmp(res, "ok") != 0) {
		log_error("msg=\"backup is damaged\" reason=\"%s\"",
		    res != NULL ? res : sqlite3_errmsg(db->h));
		*why = "the backup is not a whole SQLite database (integrity "
		    "check failed)";
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	if (rc == 0)
		*out = &db->base;
	else
		sq_close(&db->base);
	return rc;
}

static enum db_rc
sq_restore(const char *url, const char *from, int (*check)(struct db *,
    void *), void *arg, const char **why)
{
	struct db_lock	*lk = NULL;
	struct db	*db = NULL;
	const char	*path;
	char		 tmp[4096];
	enum db_rc	 rc;

	if ((path = url_path(url, why)) == NULL)
		return DB_ERROR;
	if (no_file(path)) {
		*why = "an in-memory database cannot be restored";
		return DB_ERROR;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.restore", path) >=
	    sizeof(tmp)) {
		*why = "the database path is too long";
		return DB_ERROR;
	}
	if ((rc = sq_lock(url, 1, &lk, why)) != DB_OK)
		return rc;
	rc = DB_ERROR;
	/* A copy left by a restore that stopped midway. */
	unlink(tmp);
	remove_journals(tmp);
	if (copy_file(from, tmp, why) == -1 || open_checked(tmp, &db, why) == -1)
		goto out;
	if (check(db, arg) == -1) {
		*why = "the backup was refused";
		goto out;
	}
	db_close(db);
	db = NULL;
	remove_journals(tmp);
	/*
	 * A WAL or journal beside the old database would be applied to the
	 * new one at its first open: they go first.  Should the machine stop
	 * just after, the old database lacks only its latest transactions,
	 * and the restore can be run again.
	 */
	remove_journals(path);
	if (rename(tmp, path) == -1 || files_sync_dir(path) == -1) {
		*why = "cannot put the backup in place of the database";
		goto out;
	}
	rc = DB_OK;
out:
	db_close(db);
	if (rc != DB_OK) {
		unlink(tmp);
		remove_journals(tmp);
	}
	sq_unlock(lk);
	return rc;
}

const struct db_driver db_sqlite_driver = DB_DRIVER(sq);
