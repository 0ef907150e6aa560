/*
 * What an operator sees of a running server (issue 11, items 4 and 7):
 * the data dir and every file in it private whatever the umask, a log
 * file that logrotate can move (SIGHUP reopens it), lines of
 * unauthenticated requests rate-limited with a count of what was dropped.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* The permission bits of path; fails the test when it is missing. */
static unsigned
mode_of(const char *dir, const char *name)
{
	char		path[600];
	struct stat	st;

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
	    name ? name : "");
	if (stat(path, &st) == -1)
		fail_msg("%s is missing", path);
	return (unsigned)(st.st_mode & 07777);
}

/* One request with an X-Request-Id of our choosing; the status. */
static long
tagged(struct srv *s, const char *path, const char *token, const char *id)
{
	char		 hdr[128];
	const char	*hdrs[] = { hdr, NULL };
	struct res	 r;
	long		 status;

	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", id);
	assert_int_equal(req(s, "GET", path, token, hdrs, NULL, 0, &r), 0);
	status = r.status;
	res_free(&r);
	return status;
}

static void
data_files_are_private_whatever_the_umask(void **state)
{
	static const char *const files[] = { "bankfeed.db", "bankfeed.db-wal",
	    "bankfeed.db-shm", "node.id", "master.key", NULL };
	const char *const *f;
	struct srv	 s;
	struct res	 r;
	struct dirent	*e;
	DIR		*d;
	mode_t		 old = umask(022);

	(void)state;
	assert_int_equal(srv_start_in(&s, "data", NULL), 0);
	assert_int_equal(post(&s, "/v1/users", "{}", &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	assert_int_equal(mode_of(s.data, NULL), 0700);
	for (f = files; *f != NULL; f++)
		if (mode_of(s.data, *f) != 0600)
			fail_msg("%s/%s has mode %04o, want 0600", s.data, *f,
			    mode_of(s.data, *f));
	/* ...and whatever else the server put there. */
	assert_non_null(d = opendir(s.data));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && (mode_of(s.data, e->d_name) & 077))
			fail_msg("%s/%s has mode %04o", s.data, e->d_name,
			    mode_of(s.data, e->d_name));
	closedir(d);
	assert_false(log_contains(&s, "open to other users"));
	srv_cleanup(&s);
	umask(old);
}

static void
an_open_data_dir_is_reported(void **state)
{
	struct srv	s;
	char		db[400], want[500];

	(void)state;
	assert_int_equal(srv_start_in(&s, "data", NULL), 0);
	srv_stop(&s);
	/* As an older bankfeed, or a careless copy, could have left them. */
	snprintf(db, sizeof(db), "%s/bankfeed.db", s.data);
	assert_int_equal(chmod(s.data, 0755), 0);
	assert_int_equal(chmod(db, 0644), 0);
	assert_int_equal(srv_restart(&s, NULL), 0);
	snprintf(want, sizeof(want), "path=\"%s\" mode=0755", s.data);
	assert_true(log_wait(&s, want, 5000));
	snprintf(want, sizeof(want), "path=\"%s\" mode=0644", db);
	assert_true(log_wait(&s, want, 5000));
	srv_cleanup(&s);
}

static void
the_log_file_is_reopened_on_sighup(void **state)
{
	char		 dir[] = "/tmp/bankfeed-ops-XXXXXX", logf[64], moved[80];
	char		 env[100], cmd[128];
	const char	*envs[] = { env, NULL };
	struct srv	 s;
	mode_t		 old = umask(022);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(logf, sizeof(logf), "%s/bankfeed.log", dir);
	snprintf(moved, sizeof(moved), "%s/bankfeed.log.1", dir);
	snprintf(env, sizeof(env), "BANKFEED_LOG_FILE=%s", logf);
	assert_int_equal(srv_start(&s, envs), 0);
	assert_int_equal(tagged(&s, "/health", NULL, "ops-before"), 200);
	assert_true(file_wait(logf, "request_id=ops-before", 5000));
	assert_int_equal(mode_of(logf, NULL), 0600);
	/* The lines go to the file, not to stderr. */
	assert_false(log_contains(&s, "request_id=ops-before"));

	/* What logrotate does: move the file, then SIGHUP. */
	assert_int_equal(rename(logf, moved), 0);
	assert_int_equal(kill(s.pid, SIGHUP), 0);
	assert_true(file_wait(logf, "log file reopened", 5000));
	assert_int_equal(tagged(&s, "/health", NULL, "ops-after"), 200);
	assert_true(file_wait(logf, "request_id=ops-after", 5000));
	assert_false(file_wait(moved, "request_id=ops-after", 0));
	assert_true(file_wait(moved, "request_id=ops-before", 0));
	assert_int_equal(mode_of(logf, NULL), 0600);
	srv_cleanup(&s);	/* fails when SIGHUP ended the server */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	umask(old);
}

#define FLOOD	60
#define RATE	2

static void
unauthenticated_lines_are_rate_limited(void **state)
{
	const char	*envs[] = { "BANKFEED_LOG_UNAUTH_RATE=2", NULL };
	struct srv	 s;
	char		 id[32], line[8192];
	const char	*p;
	FILE		*f;
	int		 i, logged = 0, suppressed = 0, summaries = 0;
	int		 authed[FLOOD / 2] = { 0 };

	(void)state;
	assert_int_equal(srv_start(&s, envs), 0);
	for (i = 0; i < FLOOD; i++) {
		snprintf(id, sizeof(id), "flood-%d", i);
		assert_int_equal(tagged(&s, "/v1/users/usr_nope", "not-a-token",
		    id), 401);
		if (i % 2 == 0) {
			snprintf(id, sizeof(id), "authed-%d", i / 2);
			assert_int_equal(tagged(&s, "/v1/users/usr_nope",
			    s.token, id), 404);
		}
	}
	/* The count of dropped lines comes within a second or two. */
	assert_true(log_wait(&s, "suppressed=", 5000));
	srv_stop(&s);

	assert_non_null(f = fopen(s.log, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "request_id=flood-") != NULL)
			logged++;
		if ((p = strstr(line, "request_id=authed-")) != NULL &&
		    (i = (int)strtol(p + 18, NULL, 10)) >= 0 && i < FLOOD / 2)
			authed[i]++;
		if ((p = strstr(line, " suppressed=")) != NULL) {
			suppressed += (int)strtol(p + 12, NULL, 10);
			summaries++;
		}
	}
	fclose(f);
	/* Every line is either written or counted, and most were dropped. */
	assert_int_equal(logged + suppressed, FLOOD);
	assert_in_range(logged, 1, FLOOD / 2);
	assert_in_range(summaries, 1, 10);
	/* Authenticated requests' lines are never dropped. */
	for (i = 0; i < FLOOD / 2; i++)
		if (authed[i] != 1)
			fail_msg("authed-%d logged %d times", i, authed[i]);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_files_are_private_whatever_the_umask),
		cmocka_unit_test(an_open_data_dir_is_reported),
		cmocka_unit_test(the_log_file_is_reopened_on_sighup),
		cmocka_unit_test(unauthenticated_lines_are_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
