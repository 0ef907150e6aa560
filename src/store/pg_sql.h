/*
 * pg_sql: translation of bankfeed's SQL for PostgreSQL (pg.c).
 */
#ifndef BF_PG_SQL_H
#define BF_PG_SQL_H

/*
 * The key of the advisory lock every writer takes ("bankfeed" in ASCII):
 * db_begin, and the numbering triggers, whose MAX(num) + 1 must not be
 * read by two inserts at once.
 */
#define PG_WRITE_LOCK_KEY	"7089057462440355172"

/*
 * A statement for PREPARE: '?' placeholders numbered $1, $2 ...; a
 * comment starting "pg " made text; an INSERT ... VALUES without ON
 * CONFLICT made to insert at most once (*insert_once: a row it did not
 * insert is a constraint refusal).  Malloc'd, NULL when out of memory.
 */
char	*pg_sql_query(const char *sql, int *nparams, int *insert_once);
/*
 * Schema text (migrations): BLOB is BYTEA, INTEGER is BIGINT, WITHOUT
 * ROWID goes, a SQLite trigger becomes a PL/pgSQL function and a trigger
 * (that takes the write lock first: see PG_WRITE_LOCK_KEY).
 * Malloc'd, NULL on failure.
 */
char	*pg_sql_schema(const char *sql);

#endif
