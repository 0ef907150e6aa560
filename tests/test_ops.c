/*
 * What an operator sees of a running server (issue 11, items 4 and 7):
 * the data dir and every file in it private whatever the umask, a log
 * file that logrotate can move (SIGHUP reopens it), lines of
 * unauthenticated requests rate-limited with a count of what was dropped,
 * and JSON log lines that carry every field of the text ones.
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
#include "core/buf.h"
#include "core/log.h"

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
	/* With PostgreSQL the data dir holds no database file. */
	for (f = srv_pg() ? files + 3 : files; *f != NULL; f++)
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
	if (!srv_pg())
		assert_int_equal(chmod(db, 0644), 0);
	assert_int_equal(srv_restart(&s, NULL), 0);
	snprintf(want, sizeof(want), "path=\"%s\" mode=0755", s.data);
	assert_true(log_wait(&s, want, 5000));
	snprintf(want, sizeof(want), "path=\"%s\" mode=0644", db);
	if (!srv_pg())
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

/* The access line of request_id id among the parsed lines. */
static json_t *
access_line(json_t *lines, const char *id)
{
	size_t	 i;
	json_t	*l;

	json_array_foreach(lines, i, l)
		if (json_is_string(json_object_get(l, "request_id")) &&
		    strcmp(jstr(l, "request_id"), id) == 0 &&
		    jstr(l, "event") != NULL && strcmp(jstr(l, "event"), "http") == 0)
			return l;
	fail_msg("no access line for %s", id);
	return NULL;
}

static void
json_log_lines_carry_every_field(void **state)
{
	const char	*envs[] = { "BANKFEED_LOG_FORMAT=json", NULL };
	struct srv	 s;
	char		 line[8192];
	json_t		*lines = json_array(), *j, *l;
	json_error_t	 e;
	size_t		 i;
	FILE		*f;
	int		 listening = 0;

	(void)state;
	assert_int_equal(srv_start(&s, envs), 0);
	assert_int_equal(tagged(&s, "/health", NULL, "json-health"), 200);
	assert_int_equal(tagged(&s, "/v1/users/usr_nope", s.token, "json-auth"),
	    404);
	assert_int_equal(tagged(&s, "/v1/users", "bad", "json-anon"), 401);
	assert_int_equal(tagged(&s, "/v1/%22odd%5C%01path", NULL, "json-odd"),
	    404);
	assert_true(log_wait(&s, "json-odd", 5000));
	srv_stop(&s);

	assert_non_null(f = fopen(s.log, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((j = json_loads(line, JSON_REJECT_DUPLICATES, &e)) == NULL)
			fail_msg("not JSON (%s): %s", e.text, line);
		assert_true(json_is_object(j));
		assert_non_null(jstr(j, "ts"));
		assert_non_null(jstr(j, "level"));
		assert_string_not_equal(jstr(j, "level"), "error");
		json_array_append_new(lines, j);
	}
	fclose(f);
	assert_true(json_array_size(lines) >= 6);
	json_array_foreach(lines, i, l)
		if (jstr(l, "msg") != NULL && strcmp(jstr(l, "msg"), "listening") == 0) {
			listening = 1;
			assert_true(json_is_integer(json_object_get(l, "port")));
			assert_int_equal(jint(l, "port"), s.port);
			assert_string_equal(jstr(l, "version"), BANKFEED_VERSION);
		}
	assert_true(listening);

	l = access_line(lines, "json-health");
	assert_string_equal(jstr(l, "level"), "info");
	assert_string_equal(jstr(l, "method"), "GET");
	assert_string_equal(jstr(l, "path"), "/health");
	assert_true(json_is_integer(json_object_get(l, "status")));
	assert_int_equal(jint(l, "status"), 200);
	assert_true(json_is_number(json_object_get(l, "duration_ms")));
	assert_string_equal(jstr(l, "client_id"), "-");
	assert_int_equal(json_object_size(l), 9);

	l = access_line(lines, "json-auth");
	assert_int_equal(jint(l, "status"), 404);
	assert_string_equal(jstr(l, "client_id"), s.client_id);
	l = access_line(lines, "json-anon");
	assert_int_equal(jint(l, "status"), 401);
	l = access_line(lines, "json-odd");
	assert_non_null(strstr(jstr(l, "path"), "odd"));
	json_decref(lines);
	srv_cleanup(&s);
}

/* The logfmt -> JSON conversion on lines no server run makes easily. */
static void
logfmt_becomes_one_json_object(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		/* Numbers as JSON readers take them: no exponent, int64. */
		{ "ts=2030-01-02T03:04:05.678Z level=info n=42 f=-12.250 z=007 "
		  "e=1e999 v=0.1.0 id=- big=1234567890123456789012",
		  "{\"ts\": \"2030-01-02T03:04:05.678Z\", \"level\": \"info\", "
		  "\"n\": 42, \"f\": -12.25, \"z\": \"007\", \"e\": \"1e999\", "
		  "\"v\": \"0.1.0\", \"id\": \"-\", "
		  "\"big\": \"1234567890123456789012\"}" },
		{ "msg=\"say \\\"hi\\\" \\\\ ok\" q=\"12\"",
		  "{\"msg\": \"say \\\"hi\\\" \\\\ ok\", \"q\": \"12\"}" },
		/* A caller's unescaped quotes: the value ends at `" ` or the end. */
		{ "reason=\"near \"x\": syntax error\" code=1",
		  "{\"reason\": \"near \\\"x\\\": syntax error\", \"code\": 1}" },
		{ "msg=\"never closed", "{\"msg\": \"never closed\"}" },
		{ "a=1 a=2 a=3 k= word  two", "{\"a\": 1, \"a_2\": 2, \"a_3\": 3, "
		  "\"k\": \"\", \"text\": \"word two\"}" },
		{ "msg=\"tab\there\x01\" bad=\xff\xfe", "{\"msg\": \"tab\\there"
		  "\\u0001\", \"bad\": \"\xef\xbf\xbd\xef\xbf\xbd\"}" },
		/* Keys are names: anything else is a word, escaped. */
		{ "a\xcc" "b=1 x\\y=2 q\"=3 ok=4", "{\"ok\": 4, \"text\": "
		  "\"a\xef\xbf\xbd" "b=1 x\\\\y=2 q\\\"=3\"}" },
		{ "", "{}" },
	};
	struct buf	 b, line;
	json_t		*got, *want;
	json_error_t	 e;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 1u << 16);
		assert_int_equal(log_json(cases[i].in, strlen(cases[i].in), &b), 0);
		got = json_loads(buf_str(&b), JSON_REJECT_DUPLICATES, &e);
		if (got == NULL)
			fail_msg("case %zu: not JSON: %s", i, buf_str(&b));
		assert_null(strchr(buf_str(&b), '\n'));
		assert_non_null(want = json_loads(cases[i].want, 0, &e));
		if (!json_equal(got, want))
			fail_msg("case %zu: got %s", i, buf_str(&b));
		json_decref(got);
		json_decref(want);
		buf_free(&b);
	}
	/* Past 64 pairs the rest is text: no line costs more than its length. */
	buf_init(&line, 1u << 16);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_printf(&line, "%sa=%zu", i ? " " : "", i), 0);
	buf_init(&b, 1u << 16);
	assert_int_equal(log_json(buf_str(&line), line.len, &b), 0);
	assert_non_null(got = json_loads(buf_str(&b), JSON_REJECT_DUPLICATES, &e));
	assert_int_equal(json_object_size(got), 65);
	assert_int_equal(jint(got, "a_64"), 63);
	assert_non_null(strstr(jstr(got, "text"), "a=64 a=65 "));
	json_decref(got);
	buf_free(&b);
	buf_free(&line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_files_are_private_whatever_the_umask),
		cmocka_unit_test(an_open_data_dir_is_reported),
		cmocka_unit_test(the_log_file_is_reopened_on_sighup),
		cmocka_unit_test(unauthenticated_lines_are_rate_limited),
		cmocka_unit_test(json_log_lines_carry_every_field),
		cmocka_unit_test(logfmt_becomes_one_json_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
