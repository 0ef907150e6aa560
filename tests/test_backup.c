/*
 * bankfeed backup and restore, driven as an operator would: the real
 * server, the real commands.  A backup taken while requests come in
 * restores into a wiped data dir with the same users, accounts and
 * transactions, and stored credentials that still open; a restore is
 * refused while a server runs, and for a damaged, foreign or too new
 * backup, or one whose key is missing, leaving the database as it was.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

static char	backups[64];	/* a scratch dir for the backup files */

static int
setup(void **state)
{
	char	tmpl[] = "/tmp/bankfeed-backups-XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(backups, sizeof(backups), "%s", tmpl);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", backups);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Runs "bankfeed ARGS --data-dir DIR"; its output (both streams) goes to
 * out.  Returns the exit status.
 */
static int
bankfeed(struct srv *s, char *out, size_t outn, const char *fmt, ...)
{
	char	 args[1024], cmd[2048];
	FILE	*f;
	size_t	 n = 0;
	va_list	 ap;
	int	 st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s --data-dir '%s' 2>&1", BANKFEED_BIN,
	    args, s->dir);
	srv_use_db(s);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (n + 1 < outn && fgets(out + n, (int)(outn - n), f) != NULL)
		n += strlen(out + n);
	out[n] = '\0';
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* backups/NAME */
static const char *
bk(const char *name)
{
	static char	path[4][256];
	static int	i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", backups, name);
	return path[i];
}

/* A new user with an authorized sandbox connection that stores its credentials. */
static void
link_user(struct srv *s, char cid[64])
{
	struct res	r, u;
	char		body[512];

	assert_int_equal(post(s, "/v1/users", "{}",
	    &u), 0);
	assert_status(&u, 201);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"},\"store_credentials\":true}",
	    jstr(u.json, "id"));
	res_free(&u);
	assert_int_equal(post(s, "/v1/connections", body, &r), 0);
	assert_status(&r, 201);
	snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
	res_free(&r);
}

static void
sync_now(struct srv *s, const char *cid)
{
	static const char *const psu[] = { "PSU-IP-Address: 192.0.2.44", NULL };
	const char	*body = "{\"wait_seconds\":60}";
	char		 path[256];
	struct res	 r;

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(req(s, "POST", path, s->token, psu, body, strlen(body),
	    &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
}

/* What a client sees of a connection: its users, accounts, transactions. */
static json_t *
snapshot(struct srv *s, const char *cid)
{
	json_t	*snap = json_object(), *accs, *a, *txs = json_object();
	char	 path[256];
	size_t	 i;

	json_object_set_new(snap, "users", get_all(s, "/v1/users"));
	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	accs = get_all(s, path);
	assert_true(json_array_size(accs) > 0);
	json_array_foreach(accs, i, a) {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions",
		    jstr(a, "id"));
		json_object_set_new(txs, jstr(a, "id"), get_all(s, path));
	}
	json_object_set_new(snap, "accounts", accs);
	json_object_set_new(snap, "transactions", txs);
	return snap;
}

/* Whether every user of a (by id) is in b. */
static int
users_within(json_t *a, json_t *b)
{
	json_t	*u, *v;
	size_t	 i, j;
	int	 found;

	json_array_foreach(a, i, u) {
		found = 0;
		json_array_foreach(b, j, v)
			found |= json_equal(u, v);
		if (!found)
			return 0;
	}
	return 1;
}

/* Makes requests, writes among them, until told to stop. */
struct load {
	struct srv	*s;
	volatile int	 stop;
	int		 made;
};

static void *
load_run(void *arg)
{
	struct load	*l = arg;
	struct res	 r;
	char		 body[64];

	while (!l->stop) {
		snprintf(body, sizeof(body), "{\"external_ref\":\"during-%d\"}",
		    l->made);
		if (post(l->s, "/v1/users", body, &r) == 0 && r.status == 201)
			l->made++;
		res_free(&r);
		if (get(l->s, "/v1/users?limit=5", &r) == 0)
			res_free(&r);
	}
	return NULL;
}

static int
file_mode(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void
backup_while_serving_restores_into_a_wiped_dir(void **state)
{
	struct srv	 s;
	struct load	 l = { 0 };
	pthread_t	 t;
	json_t		*before, *after_backup, *restored;
	char		 cid[64], out[4096], cmd[512], path[512];
	struct res	 r;
	/* A writer thread and paged reads at once: no rate limit in the way. */
	static const char *const env[] = { "BANKFEED_RATE_LIMIT=0", NULL };

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	link_user(&s, cid);
	sync_now(&s, cid);
	before = snapshot(&s, cid);

	/* the backup, while another thread writes */
	l.s = &s;
	assert_int_equal(pthread_create(&t, NULL, load_run, &l), 0);
	while (l.made < 3)
		usleep(10000);
	assert_int_equal(bankfeed(&s, out, sizeof(out), "backup '%s' --with-key",
	    bk("full.db")), 0);
	l.stop = 1;
	pthread_join(t, NULL);
	assert_true(l.made >= 3);
	assert_non_null(strstr(out, "full.db.key"));
	assert_int_equal(file_mode(bk("full.db")), 0600);
	assert_int_equal(file_mode(bk("full.db.key")), 0600);
	after_backup = get_all(&s, "/v1/users");

	/* never over an existing file */
	assert_int_equal(bankfeed(&s, out, sizeof(out), "backup '%s'",
	    bk("full.db")), 1);
	assert_non_null(strstr(out, "exists already"));

	/* a running server's database is not replaced */
	assert_int_equal(bankfeed(&s, out, sizeof(out), "restore '%s' --with-key",
	    bk("full.db")), 1);
	assert_non_null(strstr(out, "stop the server"));

	/* the server stopped, its data dir wiped (the log kept) */
	srv_stop(&s);
	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 ! -name server.log "
	    "-delete", s.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bankfeed(&s, out, sizeof(out), "restore '%s' --with-key",
	    bk("full.db")), 0);
	assert_non_null(strstr(out, "installed the master key"));
	snprintf(path, sizeof(path), "%s/master.key", s.dir);
	assert_int_equal(file_mode(path), 0600);
	snprintf(path, sizeof(path), "%s/bankfeed.db", s.dir);
	assert_int_equal(file_mode(path), 0600);

	/* the same data, through the API, with the same client and token */
	assert_int_equal(srv_restart(&s, env), 0);
	restored = snapshot(&s, cid);
	assert_true(json_equal(jget(before, "accounts"), jget(restored,
	    "accounts")));
	assert_true(json_equal(jget(before, "transactions"), jget(restored,
	    "transactions")));
	/* users: all those from before, and only ones that were there after */
	assert_true(users_within(jget(before, "users"), jget(restored, "users")));
	assert_true(users_within(jget(restored, "users"), after_backup));
	assert_true(json_array_size(jget(restored, "users")) >
	    json_array_size(jget(before, "users")));

	/* the restored key opens the stored credentials: a new authorization */
	snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
	assert_int_equal(post(&s, path, "{}", &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "status"), "authorized");
	res_free(&r);

	json_decref(before);
	json_decref(after_backup);
	json_decref(restored);
	srv_cleanup(&s);
}

/* The whole of a file, malloc'd; *n its size. */
static char *
slurp(const char *path, size_t *n)
{
	FILE	*f = fopen(path, "rb");
	char	*p = NULL;
	long	 len;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)len + 1)) != NULL &&
	    fread(p, 1, (size_t)len, f) == (size_t)len)
		*n = (size_t)len;
	else {
		free(p);
		p = NULL;
	}
	if (f != NULL)
		fclose(f);
	return p;
}

static void
spit(const char *path, const char *p, size_t n)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* What must not change: the database and the key, byte for byte, and the dir's names. */
struct state {
	char	*db, *key, *names;
	size_t	 dbn, keyn, namesn;
};

static void
state_take(struct srv *s, struct state *st)
{
	char	path[512], cmd[512];

	snprintf(path, sizeof(path), "%s/bankfeed.db", s->dir);
	assert_non_null(st->db = slurp(path, &st->dbn));
	snprintf(path, sizeof(path), "%s/master.key", s->dir);
	st->keyn = 0;
	st->key = slurp(path, &st->keyn);
	snprintf(cmd, sizeof(cmd), "ls -a '%s' > '%s/names'", s->dir, backups);
	assert_int_equal(system(cmd), 0);
	assert_non_null(st->names = slurp(bk("names"), &st->namesn));
}

static void
state_free(struct state *st)
{
	free(st->db);
	free(st->key);
	free(st->names);
}

static void
assert_unchanged(struct srv *s, struct state *was)
{
	struct state	now;

	state_take(s, &now);
	assert_int_equal(now.dbn, was->dbn);
	assert_memory_equal(now.db, was->db, was->dbn);
	assert_int_equal(now.keyn, was->keyn);
	if (was->keyn > 0)
		assert_memory_equal(now.key, was->key, was->keyn);
	assert_int_equal(now.namesn, was->namesn);
	assert_memory_equal(now.names, was->names, was->namesn);
	state_free(&now);
}

/* Runs SQL on a backup file, to make one that is whole but wrong. */
static void
sql_on(const char *path, const char *sql)
{
	sqlite3	*h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* restore FILE (flags) is refused with a message holding why; nothing changed. */
static void
refused(struct srv *s, struct state *st, const char *file, const char *flags,
    const char *why)
{
	char	out[4096];

	assert_int_equal(bankfeed(s, out, sizeof(out), "restore '%s' %s",
	    bk(file), flags), 1);
	if (strstr(out, why) == NULL)
		fail_msg("restore %s %s: want \"%s\", got: %s", file, flags, why,
		    out);
	assert_unchanged(s, st);
}

static void
bad_backups_are_refused_and_change_nothing(void **state)
{
	struct srv	 s;
	struct state	 st;
	char		 cid[64], out[4096], path[512], *good;
	size_t		 n;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	link_user(&s, cid);
	assert_int_equal(bankfeed(&s, out, sizeof(out), "backup '%s' --with-key",
	    bk("good.db")), 0);
	assert_non_null(strstr(out, "bankfeed.db"));
	link_user(&s, cid);	/* the live database moves on */
	srv_stop(&s);
	state_take(&s, &st);
	assert_non_null(good = slurp(bk("good.db"), &n));

	/* cut short, damaged inside, not a database, empty */
	spit(bk("short.db"), good, n / 2);
	refused(&s, &st, "short.db", "", "integrity check");
	memset(good + 16384 + 8, 0xa5, 256);	/* into page 2's cells */
	spit(bk("damaged.db"), good, n);
	refused(&s, &st, "damaged.db", "", "integrity check");
	spit(bk("text.db"), "not a database\n", 15);
	refused(&s, &st, "text.db", "", "integrity check");
	spit(bk("empty.db"), "", 0);
	refused(&s, &st, "empty.db", "", "not a bankfeed database");
	refused(&s, &st, "missing.db", "", "cannot read the backup file");

	/* whole, but made by a newer bankfeed */
	snprintf(path, sizeof(path), "cp '%s' '%s'", bk("good.db"), bk("new.db"));
	assert_int_equal(system(path), 0);
	sql_on(bk("new.db"), "INSERT INTO schema_migrations VALUES (999, 0)");
	refused(&s, &st, "new.db", "", "newer than this bankfeed");

	/* stored credentials, and a master key that does not open them */
	snprintf(path, sizeof(path), "%s/master.key", s.dir);
	assert_int_equal(rename(path, bk("live.key")), 0);
	state_free(&st);
	state_take(&s, &st);
	refused(&s, &st, "good.db", "", "that is not here");
	spit(path, "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\n", 65);
	assert_int_equal(chmod(path, 0600), 0);
	state_free(&st);
	state_take(&s, &st);
	refused(&s, &st, "good.db", "", "other than the one in force");
	/* --with-key never replaces another key */
	refused(&s, &st, "good.db", "--with-key", "holds another key");

	/* --ignore-key restores all the same; no database lingers beside it */
	assert_int_equal(bankfeed(&s, out, sizeof(out), "restore '%s' "
	    "--ignore-key", bk("good.db")), 0);
	snprintf(path, sizeof(path), "%s/bankfeed.db", s.dir);
	free(st.db);
	assert_non_null(st.db = slurp(path, &st.dbn));
	assert_int_equal(st.dbn, n);
	snprintf(path, sizeof(path), "%s/bankfeed.db.restore", s.dir);
	assert_int_equal(access(path, F_OK), -1);

	free(good);
	state_free(&st);
	srv_cleanup(&s);
}

/*
 * On PostgreSQL, bankfeed backup and restore refuse and say what to use
 * instead (pg_dump, pg_restore); no file is written and the data stays.
 */
static void
postgresql_backups_are_left_to_pg_dump(void **state)
{
	struct srv	 s;
	char		 cid[64], out[4096];
	json_t		*before, *after;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	link_user(&s, cid);
	before = get_all(&s, "/v1/users");
	assert_int_equal(bankfeed(&s, out, sizeof(out), "backup '%s' --with-key",
	    bk("pg.db")), 1);
	assert_non_null(strstr(out, "pg_dump"));
	assert_int_equal(access(bk("pg.db"), F_OK), -1);
	assert_int_equal(access(bk("pg.db.key"), F_OK), -1);
	srv_stop(&s);
	assert_int_equal(bankfeed(&s, out, sizeof(out), "restore '%s'",
	    bk("pg.db")), 1);
	assert_non_null(strstr(out, "pg_restore"));
	assert_int_equal(srv_restart(&s, NULL), 0);
	after = get_all(&s, "/v1/users");
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backup_while_serving_restores_into_a_wiped_dir),
		cmocka_unit_test(bad_backups_are_refused_and_change_nothing),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(postgresql_backups_are_left_to_pg_dump),
	};

	if (srv_pg())
		return cmocka_run_group_tests(pg_tests, setup, teardown);
	return cmocka_run_group_tests(tests, setup, teardown);
}
