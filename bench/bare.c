/*
 * bare: `bfbench bare SOURCE_DB WORK_DIR`, the reference of the sync path.
 *
 * Reads every transaction row the first sync wrote into SOURCE_DB
 * (bankfeed's database after the user_large syncs), in the order the sync
 * wrote them, then times inserting exactly those rows into a fresh
 * database in one transaction with one prepared statement, ROUNDS times
 * each (default 1; the median is printed):
 *   plain   the rows as the API knows them (the account's, connection's
 *           and transaction's ids as text, every field, the bookkeeping
 *           columns: the columns of bankfeed's table before schema 3) in a
 *           table with one unique index (account_id, bank_key): the
 *           physical limit of SQLite on this machine, the issue's
 *           reference, unchanged since it was first measured;
 *   schema  the stored rows, same columns and values, into bankfeed's own
 *           transactions table (copied from SOURCE_DB: the clustered key
 *           and every index) with foreign keys on: what the layout alone
 *           costs, before any of bankfeed's code runs;
 *   stored  the stored rows into a plain table with one unique index
 *           (account_num, bank_key): the plain insert of bankfeed's
 *           compact columns, shown beside the reference.
 * All use bankfeed's pragmas (db_sqlite_pragmas: 16 KB pages, WAL,
 * synchronous=NORMAL, 16 MB of cache).  Prints "rows=N
 * plain_rows_per_s=X schema_rows_per_s=Y stored_rows_per_s=Z
 * plain_cpu_us=.. schema_cpu_us=.. stored_cpu_us=.." (CPU time of the
 * insert per row, less noisy than the wall time on a shared machine).
 */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"

#define BARE_MAX_ROWS	10000000
#define BARE_MAX_COLS	64

struct rows {
	sqlite3_value	**v;		/* n * ncol values */
	size_t		  n, cap;
	int		  ncol;
	char		  cols[4096];	/* comma-separated column names */
};

static void
rows_free(struct rows *r)
{
	size_t	i;

	for (i = 0; i < r->n * (size_t)r->ncol; i++)
		sqlite3_value_free(r->v[i]);
	free(r->v);
}

static int
exec(sqlite3 *h, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bfbench bare: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* The rows as the API knows them, with the columns of schema 2. */
#define API_ROWS "SELECT a.id AS account_id, t.sort_date AS sort_date, " \
	"t.id AS id, t.bank_key AS bank_key, t.pending_key AS pending_key, " \
	"t.status AS status, t.booking_date AS booking_date, t.value_date AS " \
	"value_date, t.amount AS amount, t.currency AS currency, t.cp_name AS " \
	"cp_name, t.cp_iban AS cp_iban, t.description AS description, " \
	"t.bank_transaction_code AS bank_transaction_code, t.bank_reference " \
	"AS bank_reference, t.chash AS chash, t.removed AS removed, t.seq AS " \
	"seq, t.first_seq AS first_seq, c.id AS connection_id FROM " \
	"transactions t JOIN accounts a ON a.num = t.account_num JOIN " \
	"connections c ON c.num = t.connection_num WHERE " FIRST_CONNECTION \
	" ORDER BY t.first_seq"
#define STORED_ROWS "SELECT * FROM transactions t WHERE " FIRST_CONNECTION \
	" ORDER BY first_seq"
/* The rows of one sync: the first connection's, when several synced. */
#define FIRST_CONNECTION "t.connection_num = (SELECT MIN(connection_num) " \
	"FROM transactions)"

/* Loads the rows of query, the source's in the order first written. */
static int
load(const char *path, const char *query, struct rows *r)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 len = 0;
	int		 i, rc = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, query, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bfbench bare: %s: %s\n", path, sqlite3_errmsg(h));
		goto out;
	}
	r->ncol = sqlite3_column_count(st);
	if (r->ncol > BARE_MAX_COLS)
		goto out;
	for (i = 0; i < r->ncol; i++) {
		int w = snprintf(r->cols + len, sizeof(r->cols) - len, "%s%s",
		    i ? ", " : "", sqlite3_column_name(st, i));

		if (w < 0 || (size_t)w >= sizeof(r->cols) - len)
			goto out;
		len += (size_t)w;
	}
	while (sqlite3_step(st) == SQLITE_ROW && r->n < BARE_MAX_ROWS) {
		if (r->n == r->cap) {
			size_t		 ncap = r->cap ? r->cap * 2 : 4096;
			sqlite3_value	**p = realloc(r->v, ncap *
			    (size_t)r->ncol * sizeof(*p));

			if (p == NULL)
				goto out;
			r->v = p;
			r->cap = ncap;
		}
		for (i = 0; i < r->ncol; i++)
			if ((r->v[r->n * (size_t)r->ncol + (size_t)i] =
			    sqlite3_value_dup(sqlite3_column_value(st, i))) == NULL)
				goto out;
		r->n++;
	}
	rc = r->n > 0 ? 0 : -1;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

/* The CREATE statements of bankfeed's tables `table` and their indexes. */
static int
source_ddl(const char *path, const char *table, char *out, size_t n)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	out[0] = '\0';
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT sql FROM sqlite_master WHERE tbl_name "
	    "= ? AND sql IS NOT NULL AND type IN ('table', 'index') ORDER BY "
	    "type DESC", -1, &st,
	    NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int w = snprintf(out + len, n - len, "%s;\n",
		    (const char *)sqlite3_column_text(st, 0));

		if (w < 0 || (size_t)w >= n - len)
			goto out;
		len += (size_t)w;
	}
	rc = len > 0 ? 0 : -1;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

static double
cpu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Inserts every row into `table` of h in one transaction; rows/s or -1.
 * *cpu_us: CPU microseconds per row.
 */
static double
insert_all(sqlite3 *h, const char *table, const struct rows *r, double *cpu_us)
{
	sqlite3_stmt	*st = NULL;
	char		 sql[8192];
	size_t		 len, i;
	int		 c;
	double		 t0, c0, rate = -1;

	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (",
	    table, r->cols);
	for (c = 0; c < r->ncol && len + 4 < sizeof(sql); c++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s?",
		    c ? ", " : "");
	snprintf(sql + len, sizeof(sql) - len, ")");
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bfbench bare: %s\n", sqlite3_errmsg(h));
		return -1;
	}
	t0 = bench_now();
	c0 = cpu_now();
	if (exec(h, "BEGIN IMMEDIATE") == -1)
		goto out;
	for (i = 0; i < r->n; i++) {
		for (c = 0; c < r->ncol; c++)
			sqlite3_bind_value(st, c + 1,
			    r->v[i * (size_t)r->ncol + (size_t)c]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bfbench bare: row %zu: %s\n", i,
			    sqlite3_errmsg(h));
			exec(h, "ROLLBACK");
			goto out;
		}
		sqlite3_reset(st);
	}
	if (exec(h, "COMMIT") == -1)
		goto out;
	rate = (double)r->n / (bench_now() - t0);
	*cpu_us = (cpu_now() - c0) * 1e6 / (double)r->n;
out:
	sqlite3_finalize(st);
	return rate;
}

static sqlite3 *
fresh(const char *dir, const char *name)
{
	sqlite3	*h = NULL;
	char	 path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	remove(path);
	if (sqlite3_open(path, &h) != SQLITE_OK ||
	    exec(h, db_sqlite_pragmas) == -1) {
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

#define BARE_MAX_ROUNDS	15

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[n / 2];
}

/*
 * rows into a fresh table of their columns in DIR/name, with one unique
 * index on (key, bank_key); the rate, and *cpu per row, or -1.
 */
static double
plain_insert(const char *dir, const char *name, const struct rows *r,
    const char *key, double *cpu)
{
	sqlite3	*h;
	char	 sql[8192];
	double	 rate = -1;

	if ((h = fresh(dir, name)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE TABLE t (%s); CREATE UNIQUE INDEX "
	    "t_key ON t(%s, bank_key);", r->cols, key);
	if (exec(h, sql) == 0)
		rate = insert_all(h, "t", r, cpu);
	sqlite3_close(h);
	return rate;
}

/*
 * One round: the three inserts into fresh databases; rate[k][i] and
 * cpu[k][i] for plain (0), schema (1) and stored (2).  ddl and accounts:
 * the CREATE statements of bankfeed's tables, from the source.
 */
static void
bare_round(const char *src, const char *dir, const char *ddl,
    const char *accounts, const struct rows *api, const struct rows *stored,
    double rate[3][BARE_MAX_ROUNDS], double cpu[3][BARE_MAX_ROUNDS], int i)
{
	sqlite3	*h;
	char	 sql[8192];

	rate[1][i] = cpu[1][i] = -1;
	/* The API's columns, no key but the one unique index. */
	rate[0][i] = plain_insert(dir, "bare-plain.db", api, "account_id",
	    &cpu[0][i]);
	if ((h = fresh(dir, "bare-schema.db")) != NULL) {
		/* The parent rows exist, as in bankfeed: one per account. */
		if (exec(h, "PRAGMA foreign_keys=OFF") == 0 &&
		    exec(h, accounts) == 0 && exec(h, ddl) == 0) {
			snprintf(sql, sizeof(sql), "ATTACH '%s' AS src; INSERT "
			    "INTO accounts SELECT * FROM src.accounts WHERE num IN "
			    "(SELECT DISTINCT account_num FROM src.transactions); "
			    "DETACH src; PRAGMA foreign_keys=ON;", src);
			if (exec(h, sql) == 0)
				rate[1][i] = insert_all(h, "transactions", stored,
				    &cpu[1][i]);
		}
		sqlite3_close(h);
	}
	rate[2][i] = plain_insert(dir, "bare-stored.db", stored, "account_num",
	    &cpu[2][i]);
}

int
cmd_bare(int argc, char **argv)
{
	struct rows	 api, stored;
	char		 ddl[16384], accounts[8192];
	double		 rate[3][BARE_MAX_ROUNDS], cpu[3][BARE_MAX_ROUNDS];
	int		 rounds = argc > 3 ? atoi(argv[3]) : 1, i, k, rc = 1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: bfbench bare SOURCE_DB WORK_DIR "
		    "[ROUNDS]\n");
		return 2;
	}
	if (rounds < 1 || rounds > BARE_MAX_ROUNDS) {
		fprintf(stderr, "bfbench bare: ROUNDS from 1 to %d\n",
		    BARE_MAX_ROUNDS);
		return 2;
	}
	memset(&api, 0, sizeof(api));
	memset(&stored, 0, sizeof(stored));
	if (load(argv[1], API_ROWS, &api) == -1 ||
	    load(argv[1], STORED_ROWS, &stored) == -1 ||
	    source_ddl(argv[1], "transactions", ddl, sizeof(ddl)) == -1 ||
	    source_ddl(argv[1], "accounts", accounts, sizeof(accounts)) == -1) {
		fprintf(stderr, "bfbench bare: cannot read %s\n", argv[1]);
		goto out;
	}
	for (i = 0; i < rounds; i++)
		bare_round(argv[1], argv[2], ddl, accounts, &api, &stored, rate,
		    cpu, i);
	for (k = 0; k < 3; k++) {
		rate[k][0] = median(rate[k], rounds);
		cpu[k][0] = median(cpu[k], rounds);
	}
	printf("rows=%zu plain_rows_per_s=%.0f schema_rows_per_s=%.0f "
	    "stored_rows_per_s=%.0f plain_cpu_us=%.1f schema_cpu_us=%.1f "
	    "stored_cpu_us=%.1f\n", api.n, rate[0][0], rate[1][0], rate[2][0],
	    cpu[0][0], cpu[1][0], cpu[2][0]);
	rc = rate[0][0] > 0 ? 0 : 1;
out:
	rows_free(&api);
	rows_free(&stored);
	return rc;
}
