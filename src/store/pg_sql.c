/*
 * pg_sql: bankfeed's SQL as PostgreSQL takes it (pg.c's top comment lists
 * the differences translated).  Text between single or double quotes and
 * comments is copied as it is; elsewhere words are compared without regard
 * to case.
 */
#include "store/pg_sql.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define SQL_MAX		(1 << 20)

/* Length of the quoted string or comment at p, 0 when p starts neither. */
static size_t
skip_quoted(const char *p)
{
	const char	*e;

	if (*p == '\'' || *p == '"') {
		e = strchr(p + 1, *p);
		return e != NULL ? (size_t)(e - p) + 1 : strlen(p);
	}
	if (p[0] == '-' && p[1] == '-') {
		e = strchr(p, '\n');
		return e != NULL ? (size_t)(e - p) + 1 : strlen(p);
	}
	return 0;
}

static int
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Whether the word w starts at p (and ends there: not a longer word). */
static int
word_at(const char *p, const char *w)
{
	size_t	n = strlen(w);

	return strncasecmp(p, w, n) == 0 && !is_word(p[n]);
}

/* Where word w next appears outside quotes in p, or NULL. */
static const char *
find_word(const char *from, const char *w)
{
	const char	*p = from;
	size_t		 q;

	while (*p != '\0') {
		if ((q = skip_quoted(p)) > 0) {
			p += q;
			continue;
		}
		if (word_at(p, w) && (p == from || !is_word(p[-1])))
			return p;
		p++;
	}
	return NULL;
}

/*
 * A statement for PREPARE: placeholders numbered; an INSERT ... VALUES
 * without ON CONFLICT made to insert at most once (see the top).  NULL
 * when out of memory.
 */
char *
pg_sql_query(const char *sql, int *nparams, int *insert_once)
{
	struct buf	 b;
	const char	*p, *ret = NULL;
	size_t		 q;
	int		 n = 0;

	p = sql;
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	*insert_once = word_at(p, "INSERT") && find_word(p, "VALUES") != NULL &&
	    find_word(p, "CONFLICT") == NULL;
	if (*insert_once)
		ret = find_word(p, "RETURNING");
	buf_init(&b, SQL_MAX);
	for (p = sql; *p != '\0'; ) {
		if (p == ret && buf_addstr(&b, "ON CONFLICT DO NOTHING ") == -1)
			goto fail;
		if (strncmp(p, "/*pg ", 5) == 0 && (q = (size_t)(strstr(p,
		    "*/") != NULL ? strstr(p, "*/") - p : 0)) > 0) {
			/* PostgreSQL's alone: a comment to SQLite. */
			if (buf_add(&b, p + 5, q - 5) == -1)
				goto fail;
			p += q + 2;
		} else if ((q = skip_quoted(p)) > 0) {
			if (buf_add(&b, p, q) == -1)
				goto fail;
			p += q;
		} else if (*p == '?') {
			if (buf_printf(&b, "$%d", ++n) == -1)
				goto fail;
			p++;
		} else if (buf_addc(&b, *p++) == -1)
			goto fail;
	}
	if (*insert_once && ret == NULL &&
	    buf_addstr(&b, " ON CONFLICT DO NOTHING") == -1)
		goto fail;
	*nparams = n;
	return buf_steal(&b, NULL);
fail:
	buf_free(&b);
	return NULL;
}

/*
 * SQLite's "CREATE TRIGGER name AFTER INSERT ON table WHEN cond BEGIN
 * body END" at p (up to its END), as a PL/pgSQL function and a trigger;
 * the length read in *used.  -1 when it has another shape.
 */
static int
translate_trigger(struct buf *b, const char *p, size_t *used)
{
	char		 name[64], table[64];
	const char	*when, *begin, *end;
	int		 nn;

	if (sscanf(p, "CREATE TRIGGER %63[a-z_] AFTER INSERT ON %63[a-z_]%n",
	    name, table, &nn) != 2)
		return -1;
	when = p + nn;
	while (*when == ' ')
		when++;
	if (!word_at(when, "WHEN") || (begin = find_word(when, "BEGIN")) ==
	    NULL || (end = find_word(begin, "END")) == NULL)
		return -1;
	/*
	 * The body reads MAX(num) + 1: under the write lock, or two inserts
	 * outside a transaction of db_begin's would take the same number.
	 */
	if (buf_printf(b, "CREATE FUNCTION %s_fn() RETURNS trigger "
	    "LANGUAGE plpgsql AS $bf$ BEGIN PERFORM pg_advisory_xact_lock("
	    PG_WRITE_LOCK_KEY "); %.*s RETURN NULL; END $bf$; "
	    "CREATE TRIGGER %s AFTER INSERT ON %s FOR EACH ROW WHEN (%.*s) "
	    "EXECUTE FUNCTION %s_fn()", name, (int)(end - begin - 5),
	    begin + 5, name, table, (int)(begin - when - 4), when + 4,
	    name) == -1)
		return -1;
	*used = (size_t)(end - p) + 3;
	return 0;
}

/* Schema text for PostgreSQL (see the top); NULL on failure. */
char *
pg_sql_schema(const char *sql)
{
	static const struct {
		const char	*from, *to;
	} words[] = {
		{ "BLOB", "BYTEA" },
		{ "INTEGER", "BIGINT" },
		{ "WITHOUT ROWID", "" },
	};
	struct buf	 b;
	const char	*p;
	size_t		 q, i;

	buf_init(&b, SQL_MAX);
	for (p = sql; *p != '\0'; ) {
		if ((q = skip_quoted(p)) > 0) {
			if (buf_add(&b, p, q) == -1)
				goto fail;
			p += q;
			continue;
		}
		if (p == sql || !is_word(p[-1])) {
			if (word_at(p, "CREATE TRIGGER")) {
				if (translate_trigger(&b, p, &q) == -1)
					goto fail;
				p += q;
				continue;
			}
			for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
				if (word_at(p, words[i].from))
					break;
			if (i < sizeof(words) / sizeof(words[0])) {
				if (buf_addstr(&b, words[i].to) == -1)
					goto fail;
				p += strlen(words[i].from);
				continue;
			}
		}
		if (buf_addc(&b, *p++) == -1)
			goto fail;
	}
	return buf_steal(&b, NULL);
fail:
	buf_free(&b);
	return NULL;
}

