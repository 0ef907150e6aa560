/*
 * harness_pg: the database of a test's servers.  With BANKFEED_TEST_PG
 * (scripts/pg-tests.sh) each server gets a PostgreSQL database of its own
 * on the test cluster; otherwise the SQLite file in its data dir.  Also
 * what a test does to that database or through the API as an operator or
 * a client would (srv_sql, srv_connect).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

int
srv_pg(void)
{
	const char	*p = getenv("BANKFEED_TEST_PG");

	return p != NULL && *p != '\0';
}

/* Runs sql on the test cluster's maintenance database.  0 or -1. */
static int
pg_admin(const char *sql)
{
	struct db	*db;
	const char	*why;
	char		 url[512];
	int		 rc;

	snprintf(url, sizeof(url), "postgresql:///postgres?%s",
	    getenv("BANKFEED_TEST_PG"));
	if (db_open(url, &db, &why) != DB_OK) {
		fprintf(stderr, "harness: %s: %s\n", url, why);
		return -1;
	}
	rc = db_exec(db, sql) == DB_OK ? 0 : -1;
	if (rc == -1)
		fprintf(stderr, "harness: %s: %s\n", sql, db_errmsg(db));
	db_close(db);
	return rc;
}

int
srv_pg_create(char *url, size_t n)
{
	static unsigned	 count;
	char		 name[64], sql[128];

	snprintf(name, sizeof(name), "bf_%ld_%u", (long)getpid(), ++count);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (pg_admin(sql) == -1)
		return -1;
	snprintf(url, n, "postgresql:///%s?%s", name, getenv("BANKFEED_TEST_PG"));
	return 0;
}

void
srv_pg_drop(const char *url)
{
	char	sql[128];
	size_t	n;

	if (strncmp(url, "postgresql:///", 14) != 0)
		return;
	n = strcspn(url + 14, "?");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.*s WITH (FORCE)",
	    (int)n, url + 14);
	pg_admin(sql);
}

int
srv_connect(struct srv *s, const char *username, char cid[64])
{
	struct res	r;
	char		body[512], user[64];
	int		rc = -1;

	if (post(s, "/v1/users", "{}", &r) != 0 || r.status != 201 ||
	    jstr(r.json, "id") == NULL) {
		res_free(&r);
		return -1;
	}
	snprintf(user, sizeof(user), "%s", jstr(r.json, "id"));
	res_free(&r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"%s\","
	    "\"password\":\"pass_good\"}}", user, username);
	if (post(s, "/v1/connections", body, &r) == 0 && r.status == 201 &&
	    jstr(r.json, "connection.id") != NULL) {
		snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
		rc = 0;
	}
	res_free(&r);
	return rc;
}

long
srv_sql(struct srv *s, const char *sql)
{
	struct db	*db;
	const char	*why;
	char		 url[600];
	long		 n = -1;

	if (s->db_url[0] != '\0')
		snprintf(url, sizeof(url), "%s", s->db_url);
	else
		snprintf(url, sizeof(url), "sqlite:%s/bankfeed.db", s->data);
	if (db_open(url, &db, &why) != DB_OK) {
		fprintf(stderr, "harness: %s: %s\n", url, why);
		return -1;
	}
	if (db_run(db, sql, "") == DB_OK)
		n = (long)db_changes(db);
	else
		fprintf(stderr, "harness: %s: %s\n", sql, db_errmsg(db));
	db_close(db);
	return n;
}

void
srv_use_db(struct srv *s)
{
	if (s->db_url[0] != '\0')
		setenv("BANKFEED_DATABASE_URL", s->db_url, 1);
}

