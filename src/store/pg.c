/*
 * The PostgreSQL driver of db.h, on libpq.  Chosen by a postgres:// or
 * postgresql:// URL (libpq's own connection URI, passed to it as is).
 *
 * bankfeed's SQL is written once, for both databases; where the dialects
 * truly differ, it is translated in one place (pg_sql.c, the text; here,
 * what the results mean):
 *   - '?' placeholders become $1, $2 ...;
 *   - a comment whose text starts "pg " is that text: a clause only
 *     PostgreSQL has (FOR UPDATE SKIP LOCKED), which SQLite, one node,
 *     reads as a comment;
 *   - an INSERT ... VALUES without an ON CONFLICT clause gets "ON CONFLICT
 *     DO NOTHING", and a row it did not insert is reported DB_CONSTRAINT
 *     as SQLite would: a failed statement in PostgreSQL would abort the
 *     whole transaction, where callers (accdata.c) go on after one;
 *   - schema text (db_exec): BLOB is BYTEA, INTEGER is BIGINT (SQLite's
 *     integers are 64-bit), WITHOUT ROWID goes, and a SQLite trigger
 *     "CREATE TRIGGER t AFTER INSERT ON x WHEN c BEGIN ...; END" becomes a
 *     PL/pgSQL function and a trigger calling it;
 *   - db_begin takes the write lock at once, as SQLite's BEGIN IMMEDIATE
 *     does: a transaction-scoped advisory lock, the same for every node,
 *     so that a check and the write it allows (a quota, a session that
 *     must be the only one) are one step across all nodes.
 *
 * Statements are prepared once per connection (a server-side prepared
 * statement, named s1, s2 ...) and kept, keyed by their SQL text and the
 * types bound.  Results come as text, whole (a statement's rows are read
 * at its first db_step).
 *
 * A connection that breaks (the server restarted, the network dropped)
 * fails its statement with DB_BUSY (the HTTP layer answers 503 with
 * Retry-After) and is reset at the connection's next use; its statements
 * are then prepared again.
 */
#include "store/db_int.h"
#include "store/pg_sql.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"

/* PostgreSQL's type oids for the parameters bound (pg_type.h). */
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_TEXT	25


#define PARAMS_MAX	64

struct pg_stmt {
	struct db_stmt	 base;
	struct pg_db	*db;
	const char	*sql;		/* the caller's text, for cache lookup */
	char		 types[PARAMS_MAX + 1];
	char		 name[16];
	char		*text;		/* translated for PostgreSQL */
	int		 nparams;
	int		 insert_once;	/* a row not inserted is DB_CONSTRAINT */
	unsigned	 gen;		/* connection generation prepared on */
	int		 in_use;
	/* Bound values: text, or bytes for a blob. */
	const char	*vals[PARAMS_MAX];
	int		 lens[PARAMS_MAX];
	int		 fmts[PARAMS_MAX];
	char		 nums[PARAMS_MAX][24];
	/* The result being read, and the row db_step moved to. */
	PGresult	*res;
	int		 row;
	int		 ran;
	unsigned char	*blob;		/* a bytea column decoded (PQfreemem) */
	struct pg_stmt	*next;
};

struct pg_db {
	struct db	 base;
	PGconn		*c;
	unsigned	 gen;		/* moved by each reset: statements re-prepared */
	unsigned	 names;
	int64_t		 changes;
	int		 in_tx;		/* db_begin'd, not yet ended */
	int		 tx_lost;	/* ... and the connection broke meanwhile */
	char		 err[512];
	struct pg_stmt	*cache;
};

#define PG(d)	((struct pg_db *)(d))
#define PGS(s)	((struct pg_stmt *)(s))

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
set_err(struct pg_db *db, const char *msg)
{
	size_t	n;

	snprintf(db->err, sizeof(db->err), "%s", msg != NULL ? msg : "");
	n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

/*
 * What a failed result means to callers: a constraint refused the write
 * (SQLSTATE class 23), the database could not serve it now (a deadlock,
 * a serialization failure, a lock not available, a connection lost or a
 * server shutting down: DB_BUSY, tried again later), or an error.
 */
static enum db_rc
map_result(struct pg_db *db, PGresult *res)
{
	const char	*st;

	switch (res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		return DB_OK;
	default:
		break;
	}
	set_err(db, res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(db->c));
	st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (st != NULL && strncmp(st, "23", 2) == 0)
		return DB_CONSTRAINT;
	if (PQstatus(db->c) == CONNECTION_BAD || st == NULL ||
	    strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
	    strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	    strcmp(st, "55P03") == 0 || strcmp(st, "53300") == 0) {
		db_failed(1);
		return DB_BUSY;
	}
	log_debug("msg=\"postgresql error\" sqlstate=%s reason=\"%s\"", st,
	    db->err);
	db_failed(0);
	return DB_ERROR;
}

/*
 * Whether the server closed an idle connection since its last use (it
 * restarted, or an administrator ended it): nothing is due from it, so
 * anything to read is its farewell.  Seen before a statement is sent, not
 * after: a statement is never sent twice.
 */
static int
closed_meanwhile(struct pg_db *db)
{
	struct pollfd	p = { .fd = PQsocket(db->c), .events = POLLIN };

	if (p.fd < 0 || poll(&p, 1, 0) != 1)
		return 0;
	PQconsumeInput(db->c);
	return PQstatus(db->c) != CONNECTION_OK;
}

/*
 * A connection that broke is reset before its next statement.  0 when
 * the connection is usable, -1 (DB_BUSY counted) when it is still down.
 */
static int
usable(struct pg_db *db)
{
	/*
	 * The server rolled back the transaction the caller is in: its
	 * further statements must not run on their own, each committed at
	 * once.  They fail until db_rollback (db_commit fails too).
	 */
	if (db->tx_lost) {
		set_err(db, "the connection to PostgreSQL broke during the "
		    "transaction");
		db_failed(1);
		return -1;
	}
	if (PQstatus(db->c) == CONNECTION_OK && !closed_meanwhile(db))
		return 0;
	if (db->in_tx) {
		db->tx_lost = 1;
		return usable(db);
	}
	PQreset(db->c);
	if (PQstatus(db->c) != CONNECTION_OK) {
		set_err(db, PQerrorMessage(db->c));
		db_failed(1);
		return -1;
	}
	db->gen++;
	PQsetNoticeProcessor(db->c, quiet, NULL);
	log_info("msg=\"database connection restored\"");
	return 0;
}

static void pg_close(struct db *);

static enum db_rc
pg_open(const char *url, struct db **out, const char **why)
{
	struct pg_db	*db;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		*why = "out of memory";
		return DB_ERROR;
	}
	db->base.drv = &db_pg_driver;
	db->gen = 1;
	db->c = PQconnectdb(url);
	if (db->c == NULL || PQstatus(db->c) != CONNECTION_OK) {
		if (db->c != NULL)
			log_error("msg=\"cannot connect to PostgreSQL\" "
			    "reason=\"%s\"", PQerrorMessage(db->c));
		*why = "cannot connect to the PostgreSQL database";
		/* Out of reach, for now: the caller answers 503 (db_failures). */
		db_failed(1);
		pg_close(&db->base);
		return DB_ERROR;
	}
	PQsetNoticeProcessor(db->c, quiet, NULL);
	*out = &db->base;
	return DB_OK;
}

static void
stmt_clear(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	if (s->blob != NULL)
		PQfreemem(s->blob);
	s->blob = NULL;
	s->row = -1;
	s->ran = 0;
}

static void
pg_close(struct db *base)
{
	struct pg_db	*db = PG(base);
	struct pg_stmt	*s, *n;

	for (s = db->cache; s != NULL; s = n) {
		n = s->next;
		stmt_clear(s);
		free(s->text);
		free(s);
	}
	if (db->c != NULL)
		PQfinish(db->c);
	free(db);
}

static const char *
pg_errmsg(struct db *db)
{
	return PG(db)->err;
}

static enum db_rc
run_text(struct pg_db *db, const char *sql)
{
	PGresult	*res;
	enum db_rc	 rc;

	if (usable(db) == -1)
		return DB_BUSY;
	res = PQexec(db->c, sql);
	rc = map_result(db, res);
	PQclear(res);
	return rc;
}

static enum db_rc
pg_exec(struct db *base, const char *sql)
{
	struct pg_db	*db = PG(base);
	enum db_rc	 rc;
	char		*t;

	if ((t = pg_sql_schema(sql)) == NULL) {
		set_err(db, "cannot translate SQL for PostgreSQL");
		db_failed(0);
		return DB_ERROR;
	}
	rc = run_text(db, t);
	free(t);
	return rc;
}

static struct pg_stmt *
stmt_get(struct pg_db *db, const char *sql, const char *types)
{
	struct pg_stmt	*s;

	for (s = db->cache; s != NULL; s = s->next)
		if (!s->in_use && (s->sql == sql || strcmp(s->sql, sql) == 0) &&
		    strcmp(s->types, types) == 0) {
			s->in_use = 1;
			return s;
		}
	if (strlen(types) > PARAMS_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->text = pg_sql_query(sql, &s->nparams, &s->insert_once)) ==
	    NULL) {
		free(s);
		return NULL;
	}
	if ((int)strlen(types) != s->nparams) {
		fprintf(stderr, "db: %zu types for %d parameters in: %s\n",
		    strlen(types), s->nparams, sql);
		free(s->text);
		free(s);
		return NULL;
	}
	s->base.drv = &db_pg_driver;
	s->db = db;
	s->sql = sql;
	snprintf(s->types, sizeof(s->types), "%s", types);
	snprintf(s->name, sizeof(s->name), "s%u", ++db->names);
	s->row = -1;
	s->in_use = 1;
	s->next = db->cache;
	db->cache = s;
	return s;
}

/* Prepares s on the server when this connection has not yet. */
static enum db_rc
prepare(struct pg_stmt *s)
{
	Oid		 oids[PARAMS_MAX];
	PGresult	*res;
	enum db_rc	 rc;
	int		 i;

	if (s->gen == s->db->gen)
		return DB_OK;
	for (i = 0; i < s->nparams; i++)
		oids[i] = s->types[i] == 'b' ? OID_BYTEA : s->types[i] == 't' ?
		    OID_TEXT : s->types[i] == 'z' ? 0 : OID_INT8;
	res = PQprepare(s->db->c, s->name, s->text, s->nparams, oids);
	rc = map_result(s->db, res);
	PQclear(res);
	if (rc == DB_OK)
		s->gen = s->db->gen;
	else
		log_error("msg=\"cannot prepare statement\" reason=\"%s\" "
		    "sql=\"%s\"", s->db->err, s->text);
	return rc;
}

static void pg_done(struct db_stmt *);

static struct db_stmt *
pg_vq(struct db *base, const char *sql, const char *types, va_list ap)
{
	struct pg_db	*db = PG(base);
	struct pg_stmt	*s;
	int		 i;

	if (usable(db) == -1)
		return NULL;
	if ((s = stmt_get(db, sql, types)) == NULL) {
		db_failed(0);
		return NULL;
	}
	if (prepare(s) != DB_OK) {
		pg_done(&s->base);
		return NULL;
	}
	for (i = 0; i < s->nparams; i++) {
		s->fmts[i] = 0;
		s->lens[i] = 0;
		switch (s->types[i]) {
		case 't':
			/* Not copied: see db.h. */
			s->vals[i] = va_arg(ap, const char *);
			break;
		case 'i':
			snprintf(s->nums[i], sizeof(s->nums[i]), "%" PRId64,
			    va_arg(ap, int64_t));
			s->vals[i] = s->nums[i];
			break;
		case 'n':
			snprintf(s->nums[i], sizeof(s->nums[i]), "%d",
			    va_arg(ap, int));
			s->vals[i] = s->nums[i];
			break;
		case 'b':
			s->vals[i] = va_arg(ap, const char *);
			s->lens[i] = (int)va_arg(ap, size_t);
			s->fmts[i] = 1;
			break;
		default:
			s->vals[i] = NULL;
		}
	}
	return &s->base;
}

static enum db_rc
pg_step(struct db_stmt *base)
{
	struct pg_stmt	*s = PGS(base);
	enum db_rc	 rc;

	if (!s->ran) {
		s->ran = 1;
		s->res = PQexecPrepared(s->db->c, s->name, s->nparams, s->vals,
		    s->lens, s->fmts, 0);
		if ((rc = map_result(s->db, s->res)) != DB_OK)
			return rc;
		s->db->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		if (s->insert_once && s->db->changes == 0) {
			set_err(s->db, "duplicate key (ON CONFLICT DO NOTHING "
			    "inserted no row)");
			return DB_CONSTRAINT;
		}
	}
	if (s->blob != NULL) {
		PQfreemem(s->blob);
		s->blob = NULL;
	}
	if (PQresultStatus(s->res) != PGRES_TUPLES_OK ||
	    ++s->row >= PQntuples(s->res))
		return DB_DONE;
	return DB_ROW;
}

static void
pg_done(struct db_stmt *base)
{
	struct pg_stmt	*s = PGS(base);

	stmt_clear(s);
	s->in_use = 0;
}

static int
pg_col_null(struct db_stmt *s, int i)
{
	return PQgetisnull(PGS(s)->res, PGS(s)->row, i);
}

static const char *
pg_col_text(struct db_stmt *base, int i)
{
	struct pg_stmt	*s = PGS(base);

	if (PQgetisnull(s->res, s->row, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static size_t
pg_col_len(struct db_stmt *s, int i)
{
	return (size_t)PQgetlength(PGS(s)->res, PGS(s)->row, i);
}

static int64_t
pg_col_int(struct db_stmt *base, int i)
{
	struct pg_stmt	*s = PGS(base);
	const char	*v = PQgetvalue(s->res, s->row, i);

	/* A boolean (a comparison, EXISTS) reads as SQLite's 1 or 0. */
	if (*v == 't')
		return 1;
	return strtoll(v, NULL, 10);
}

static const void *
pg_col_blob(struct db_stmt *base, int i, size_t *n)
{
	struct pg_stmt	*s = PGS(base);

	*n = 0;
	if (PQgetisnull(s->res, s->row, i))
		return NULL;
	if (PQftype(s->res, i) != OID_BYTEA) {
		*n = (size_t)PQgetlength(s->res, s->row, i);
		return PQgetvalue(s->res, s->row, i);
	}
	/* One decoded column a row at a time: callers read one blob, use it. */
	if (s->blob != NULL)
		PQfreemem(s->blob);
	s->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res,
	    s->row, i), n);
	return s->blob;
}

static int64_t
pg_changes(struct db *db)
{
	return PG(db)->changes;
}

static enum db_rc
pg_begin(struct db *db)
{
	enum db_rc	rc;

	rc = run_text(PG(db), "BEGIN; SELECT pg_advisory_xact_lock("
	    PG_WRITE_LOCK_KEY ")");
	if (rc == DB_OK)
		PG(db)->in_tx = 1;
	else if (PQtransactionStatus(PG(db)->c) != PQTRANS_IDLE)
		run_text(PG(db), "ROLLBACK");
	return rc;
}

static enum db_rc
pg_commit(struct db *db)
{
	enum db_rc	rc;

	rc = run_text(PG(db), "COMMIT");
	PG(db)->in_tx = 0;
	PG(db)->tx_lost = 0;
	return rc;
}

static int
pg_in_transaction(struct db *db)
{
	PGTransactionStatusType	t = PQtransactionStatus(PG(db)->c);

	return PG(db)->tx_lost || t == PQTRANS_INTRANS ||
	    t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static void
pg_rollback(struct db *db)
{
	PG(db)->tx_lost = 0;
	PG(db)->in_tx = 0;
	if (pg_in_transaction(db))
		run_text(PG(db), "ROLLBACK");
}

/*
 * Several nodes share one PostgreSQL database: no node claims it.  A
 * restore is refused (below), so nothing needs the exclusive claim.
 */
static enum db_rc
pg_lock(const char *url, int exclusive, struct db_lock **out,
    const char **why)
{
	(void)url;
	(void)exclusive;
	(void)why;
	*out = NULL;
	return DB_OK;
}

static void
pg_unlock(struct db_lock *l)
{
	(void)l;
}

/*
 * bankfeed backup and restore copy SQLite files.  A PostgreSQL database
 * is backed up with PostgreSQL's tools (pg_dump -Fc, pg_restore), which
 * know its roles, its other schemas and its point-in-time recovery;
 * README, Running several nodes.
 */
static enum db_rc
pg_backup(const char *url, const char *path, const char **why)
{
	(void)url;
	(void)path;
	*why = "bankfeed backup copies SQLite databases; back up PostgreSQL "
	    "with pg_dump -Fc (README, Running several nodes)";
	return DB_ERROR;
}

static enum db_rc
pg_restore(const char *url, const char *path, int (*check)(struct db *,
    void *), void *arg, const char **why)
{
	(void)url;
	(void)path;
	(void)check;
	(void)arg;
	*why = "bankfeed restore replaces SQLite databases; restore "
	    "PostgreSQL with pg_restore (README, Running several nodes)";
	return DB_ERROR;
}

const struct db_driver db_pg_driver = DB_DRIVER(pg);
