/*
 * GET /metrics: its own token, the counters moving by exactly what was
 * done (requests by route pattern, errors by catalog entry, syncs by
 * institution, tasks, the webhook backlog), and output that is valid
 * Prometheus text exposition, line by line (and by promtool when the
 * machine has it).
 */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/metrics.h"
#include "harness.h"

#define TOKEN	"metrics-token-for-the-test-0123456789"
#define WEBHOOK_SECRET	"whsec_metrics_test_0123456789"

static struct srv S;
static int	  nreq;

static int
setup(void **state)
{
	/*
	 * Failed webhook deliveries wait long: the backlog holds still.  The
	 * test waits for the log line of each anonymous request too, so their
	 * rate limit is off.
	 */
	static const char *const env[] = { "BANKFEED_METRICS_TOKEN=" TOKEN,
	    "BANKFEED_WEBHOOK_RETRY_BASE_MS=600000", "BANKFEED_LOG_UNAUTH_RATE=0",
	    "BANKFEED_SANDBOX_SLOW_MS=2000", NULL };

	(void)state;
	return srv_start(&S, env);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

/*
 * One request, with an X-Request-Id of its own and the header extra (or
 * NULL); returns once the server has logged it.  The access-log line comes
 * after metrics_http_done(), so the request is counted by then (the client
 * may see the answer first).
 */
static void
call_h(struct srv *s, const char *method, const char *path, const char *token,
    const char *extra, const char *body, struct res *r)
{
	char		 rid[64], hdr[96], mark[96];
	const char	*hdrs[3] = { hdr, extra, NULL };

	snprintf(rid, sizeof(rid), "mx-%d", ++nreq);
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", rid);
	snprintf(mark, sizeof(mark), "request_id=%s ", rid);
	assert_int_equal(req(s, method, path, token, hdrs, body,
	    body != NULL ? strlen(body) : 0, r), 0);
	if (!log_wait(s, mark, 5000))
		fail_msg("no access-log line for %s %s", method, path);
}

static void
call(struct srv *s, const char *method, const char *path, const char *token,
    const char *body, struct res *r)
{
	call_h(s, method, path, token, NULL, body, r);
}

/* A scrape with the metrics token: the body, malloc'd. */
static char *
scrape(struct srv *s)
{
	struct res	 r;
	char		*ct, *body;

	/* The Accept header of Prometheus 2.x. */
	call_h(s, "GET", "/metrics", TOKEN, "Accept: application/openmetrics-"
	    "text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
	    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", NULL, &r);
	assert_status(&r, 200);
	ct = res_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
	free(ct);
	body = r.body;
	r.body = NULL;
	res_free(&r);
	return body;
}

/* The value of a series written exactly as the server writes it, or 0. */
static double
value(const char *body, const char *series)
{
	size_t		 n = strlen(series);
	const char	*p;

	for (p = body; (p = strstr(p, series)) != NULL; p += n)
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return 0;
}

#define assert_moved(before, after, series, by) do { \
	double d_ = value(after, series) - value(before, series); \
	if (d_ != (by)) \
		fail_msg("%s moved by %g, not %g", series, d_, (double)(by)); \
	} while (0)

/* The series text of bankfeed_errors_total for a catalog entry. */
static const char *
errors_series(enum err e, char *out, size_t n)
{
	snprintf(out, n, "bankfeed_errors_total{code=\"%d\",name=\"%s\"}",
	    err_code(e), err_name(e));
	return out;
}

/* A new user with an authorized sandbox connection; fills cid. */
static void
connect_user(struct srv *s, const char *username, char cid[64])
{
	struct res	r, u;
	char		body[512];

	call(s, "POST", "/v1/users", s->token, "{}", &u);
	assert_status(&u, 201);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"%s\",\"password\":"
	    "\"pass_good\"}}", jstr(u.json, "id"), username);
	res_free(&u);
	call(s, "POST", "/v1/connections", s->token, body, &r);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.status"), "authorized");
	snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
	res_free(&r);
}

/* Syncs cid, waiting up to wait seconds; fills the task's id. */
static void
sync_conn(struct srv *s, const char *cid, int wait, struct res *r)
{
	char	path[256], body[64];

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	snprintf(body, sizeof(body), "{\"wait_seconds\":%d}", wait);
	call(s, "POST", path, s->token, body, r);
}

static void
counters_move_by_exactly_what_was_done(void **state)
{
	struct res	 r;
	char		*before, *after, cid[64], series[160];

	(void)state;
	before = scrape(&S);

	call(&S, "GET", "/health", NULL, NULL, &r);
	assert_status(&r, 200);
	res_free(&r);
	call(&S, "GET", "/v1/users/usr_doesnotexist1", S.token, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	call(&S, "GET", "/v1/users/usr_doesnotexist2", S.token, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	call(&S, "GET", "/no/such/path", NULL, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	call(&S, "BREW", "/no/such/pot", NULL, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	call(&S, "DELETE", "/health", NULL, NULL, &r);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	res_free(&r);
	call(&S, "POST", "/v1/users", S.token, "{\"external_ref\":5}", &r);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);

	connect_user(&S, "user_good", cid);
	sync_conn(&S, cid, 60, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	connect_user(&S, "user_transaction_rejected", cid);
	sync_conn(&S, cid, 60, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "failed");
	assert_string_equal(jstr(r.json, "error.name"), "TRANSACTION_REJECTED");
	res_free(&r);

	after = scrape(&S);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/health\",method=\"GET\",status=\"200\"}", 1);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/v1/users/{id}\",method=\"GET\",status=\"404\"}", 2);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"unmatched\",method=\"GET\",status=\"404\"}", 1);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"unmatched\",method=\"other\",status=\"404\"}", 1);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"unmatched\",method=\"DELETE\",status=\"405\"}", 1);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/v1/users\",method=\"POST\",status=\"400\"}", 1);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/v1/users\",method=\"POST\",status=\"201\"}", 2);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/v1/connections\",method=\"POST\",status=\"201\"}", 2);
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/v1/connections/{id}/sync\",method=\"POST\",status=\"200\"}", 2);
	/* The first scrape; the second is counted once it has ended. */
	assert_moved(before, after, "bankfeed_http_requests_total{route="
	    "\"/metrics\",method=\"GET\",status=\"200\"}", 1);
	assert_moved(before, after, "bankfeed_http_request_duration_seconds_"
	    "count{route=\"/health\",method=\"GET\"}", 1);
	assert_moved(before, after, "bankfeed_http_request_duration_seconds_"
	    "bucket{route=\"/health\",method=\"GET\",le=\"+Inf\"}", 1);
	assert_moved(before, after, "bankfeed_http_request_duration_seconds_"
	    "count{route=\"/v1/connections/{id}/sync\",method=\"POST\"}", 2);
	assert_moved(before, after, "bankfeed_http_request_duration_seconds_"
	    "count{route=\"unmatched\",method=\"other\"}", 1);
	assert_true(value(after, "bankfeed_http_request_duration_seconds_sum"
	    "{route=\"/health\",method=\"GET\"}") > value(before, "bankfeed_"
	    "http_request_duration_seconds_sum{route=\"/health\",method=\"GET\"}"));

	assert_moved(before, after, errors_series(ERR_ENTITY_NOT_FOUND, series,
	    sizeof(series)), 4);
	assert_moved(before, after, errors_series(ERR_METHOD_NOT_ALLOWED,
	    series, sizeof(series)), 1);
	assert_moved(before, after, errors_series(ERR_INVALID_REQUEST, series,
	    sizeof(series)), 1);
	/* A failed sync is a task's error, not an error answer. */
	assert_moved(before, after, errors_series(ERR_TRANSACTION_REJECTED,
	    series, sizeof(series)), 0);

	assert_moved(before, after, "bankfeed_syncs_total{institution="
	    "\"sandbox\",result=\"completed\"}", 1);
	assert_moved(before, after, "bankfeed_syncs_total{institution="
	    "\"sandbox\",result=\"failed\"}", 1);
	assert_moved(before, after, "bankfeed_sync_duration_seconds_count{"
	    "institution=\"sandbox\"}", 2);
	assert_moved(before, after, "bankfeed_tasks_finished_total{kind="
	    "\"sync\",status=\"completed\"}", 1);
	assert_moved(before, after, "bankfeed_tasks_finished_total{kind="
	    "\"sync\",status=\"failed\"}", 1);

	/* Paths are never labels: ids and unknown paths stay out. */
	assert_null(strstr(after, "usr_"));
	assert_null(strstr(after, "/no/such"));
	assert_null(strstr(after, "BREW"));

	snprintf(series, sizeof(series), "bankfeed_build_info{version=\"%s\"}",
	    BANKFEED_VERSION);
	assert_true(value(after, series) == 1);
	assert_true(value(after, "process_resident_memory_bytes") > 1e6);
	assert_true(value(after, "process_open_fds") >= 3);
	assert_true(fabs(value(after, "process_start_time_seconds") -
	    (double)time(NULL)) < 3600);
	free(before);
	free(after);
}

static void
tasks_and_the_webhook_backlog_are_read_at_scrape_time(void **state)
{
	struct res	 r;
	char		*m, cid[64], tid[64], path[128];
	int		 i, running = 0;

	(void)state;
	m = scrape(&S);
	assert_true(value(m, "bankfeed_webhook_backlog") == 0);
	free(m);
	/* Nothing listens on port 9: every delivery fails and waits. */
	call(&S, "PUT", "/v1/webhook", S.token, "{\"url\":\"http://127.0.0.1:9/"
	    "hook\",\"secret\":\"" WEBHOOK_SECRET "\"}", &r);
	assert_status(&r, 200);
	res_free(&r);

	connect_user(&S, "user_slow", cid);	/* connection.authorized */
	sync_conn(&S, cid, 0, &r);
	assert_status(&r, 202);
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	for (i = 0; i < 40 && !running; i++) {
		m = scrape(&S);
		running = value(m, "bankfeed_tasks{kind=\"sync\",status="
		    "\"running\"}") == 1;
		assert_true(value(m, "bankfeed_tasks{kind=\"sync\",status="
		    "\"running\"}") + value(m, "bankfeed_tasks{kind=\"sync\","
		    "status=\"queued\"}") <= 1);
		free(m);
		if (!running)
			usleep(50000);
	}
	assert_true(running);

	snprintf(path, sizeof(path), "/v1/tasks/%s", tid);
	for (i = 0; i < 100; i++) {
		call(&S, "GET", path, S.token, NULL, &r);
		assert_status(&r, 200);
		if (strcmp(jstr(r.json, "status"), "running") != 0 &&
		    strcmp(jstr(r.json, "status"), "queued") != 0)
			break;
		res_free(&r);
		usleep(100000);
	}
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);

	m = scrape(&S);
	assert_true(value(m, "bankfeed_tasks{kind=\"sync\",status="
	    "\"running\"}") == 0);
	/* connection.authorized and task.completed, neither delivered. */
	assert_true(value(m, "bankfeed_webhook_backlog") == 2);
	free(m);

	/* Deleting the webhook gives its waiting events up. */
	call(&S, "DELETE", "/v1/webhook", S.token, NULL, &r);
	assert_status(&r, 204);
	res_free(&r);
	m = scrape(&S);
	assert_true(value(m, "bankfeed_webhook_backlog") == 0);
	free(m);
}

static void
a_missing_or_wrong_token_gets_401(void **state)
{
	static const char *const tokens[] = { NULL, "wrong",
	    TOKEN "x", "metrics-token", "" };
	struct res	 r;
	char		*m, *www, series[160];
	size_t		 i;

	(void)state;
	m = scrape(&S);
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		call(&S, "GET", "/metrics", tokens[i], NULL, &r);
		assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
		assert_int_equal(jint(r.json, "error.code"), 1004);
		assert_non_null(jget(r.json, "error.data.Authorization"));
		www = res_header(&r, "WWW-Authenticate");
		assert_non_null(www);
		free(www);
		res_free(&r);
	}
	/* A client's own access token is not the metrics token. */
	call(&S, "GET", "/metrics", S.token, NULL, &r);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	/* Nor is the token sent another way. */
	call_h(&S, "GET", "/metrics", NULL, "Authorization: Basic " TOKEN, NULL,
	    &r);
	assert_error(&r, 401, "INVALID_CLIENT_AUTHORIZATION");
	res_free(&r);
	free(m);
	m = scrape(&S);
	/* The token never shows in the output, nor in the log. */
	assert_null(strstr(m, TOKEN));
	assert_false(log_contains(&S, TOKEN));
	assert_true(value(m, errors_series(ERR_INVALID_CLIENT_AUTHORIZATION,
	    series, sizeof(series))) >= 7);
	free(m);
}

static void
without_a_token_metrics_is_an_unknown_path(void **state)
{
	static const char *const methods[] = { "GET", "POST", "DELETE" };
	struct srv	 t;
	struct res	 r;
	size_t		 i;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		/* Not even 405: nothing tells the path exists. */
		call(&t, methods[i], "/metrics", TOKEN, NULL, &r);
		assert_error(&r, 404, "ENTITY_NOT_FOUND");
		res_free(&r);
	}
	call(&t, "GET", "/metrics/", TOKEN, NULL, &r);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	srv_cleanup(&t);
}

/* ---- the exposition format, line by line ---------------------------- */

static int
name_ok(const char *s, size_t n, int colon)
{
	size_t	i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    (colon && s[i] == ':')))
			return 0;
	return 1;
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* A sample value: a float, +Inf, -Inf or NaN, and nothing after it. */
static int
number_ok(const char *s, double *v)
{
	char	*end;

	if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 ||
	    strcmp(s, "NaN") == 0) {
		*v = strcmp(s, "NaN") == 0 ? NAN : s[0] == '+' ? INFINITY :
		    -INFINITY;
		return 1;
	}
	if (*s == '\0' || isspace((unsigned char)*s))
		return 0;
	*v = strtod(s, &end);
	return *end == '\0';
}

struct family {
	char	name[128];
	char	type[16];
};

/*
 * Checks one sample line of the family fam: name{l="v",...} value.
 * Fills le (or "") and the series without le, for histogram checks.
 */
static void
check_sample(const char *line, const struct family *fam, char *le,
    size_t len, char *key, size_t keyn, double *v)
{
	const char	*p = line, *lbl = NULL;
	size_t		 n = strcspn(p, "{ "), o = 0;

	if (!name_ok(p, n, 1))
		fail_msg("bad metric name: %s", line);
	if (strcmp(fam->type, "histogram") == 0 ? !((n == strlen(fam->name) +
	    7 && ends_with(p, n, "_bucket")) || (n == strlen(fam->name) + 4 &&
	    ends_with(p, n, "_sum")) || (n == strlen(fam->name) + 6 &&
	    ends_with(p, n, "_count"))) || strncmp(p, fam->name,
	    strlen(fam->name)) != 0 : n != strlen(fam->name) ||
	    strncmp(p, fam->name, n) != 0)
		fail_msg("sample outside its family %s: %s", fam->name, line);
	o = (size_t)snprintf(key, keyn, "%.*s", (int)n, p);
	le[0] = '\0';
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t	 ln = strcspn(p, "=");
			char	 val[512];
			size_t	 vn = 0;

			if (!name_ok(p, ln, 0) || p[ln] != '=' || p[ln + 1] != '"')
				fail_msg("bad label: %s", line);
			lbl = p;
			p += ln + 2;
			while (*p != '"') {
				if (*p == '\0' || *p == '\n')
					fail_msg("unterminated label value: %s", line);
				if (*p == '\\') {
					p++;
					if (*p != '\\' && *p != '"' && *p != 'n')
						fail_msg("bad escape: %s", line);
				}
				if (vn + 1 < sizeof(val))
					val[vn++] = *p;
				p++;
			}
			val[vn] = '\0';
			p++;
			if (ln == 2 && strncmp(lbl, "le", 2) == 0)
				snprintf(le, len, "%s", val);
			else if (o < keyn)
				o += (size_t)snprintf(key + o, keyn - o, ",%.*s=%s",
				    (int)ln, lbl, val);
			if (*p == ',')
				p++;
			else if (*p != '}')
				fail_msg("labels not separated by a comma: %s", line);
		}
		p++;
	}
	if (*p != ' ' || !number_ok(p + 1, v))
		fail_msg("bad value: %s", line);
}

/*
 * The whole text: HELP and TYPE once per family, before its samples;
 * every sample in the family last typed; counters named _total; each
 * histogram's buckets cumulative, ending with le="+Inf" equal to _count;
 * no series twice; a newline at the end.
 */
static void
check_exposition(const char *body)
{
	struct family	 fams[64], *fam = NULL;
	char		*copy = strdup(body), *line, *next, le[512], key[1024];
	char		 hkey[1024] = "", **seen = NULL;
	size_t		 nfams = 0, nseen = 0, i, n;
	double		 v = 0, last = -1, inf = -1;

	assert_non_null(copy);
	n = strlen(body);
	assert_true(n > 0 && body[n - 1] == '\n');
	for (line = copy; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			const char *t = line + 7 + strcspn(line + 7, " ");

			if (!name_ok(line + 7, strcspn(line + 7, " "), 1) ||
			    *t != ' ')
				fail_msg("bad HELP: %s", line);
			for (t++; *t != '\0'; t++)
				if (*t == '\\' && t[1] != '\\' && t[1] != 'n')
					fail_msg("bad escape in HELP: %s", line);
				else if (*t == '\\')
					t++;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			size_t	nn = strcspn(line + 7, " ");
			const char *t = line + 7 + nn;

			if (!name_ok(line + 7, nn, 1) || *t != ' ' ||
			    (strcmp(t + 1, "counter") != 0 &&
			    strcmp(t + 1, "gauge") != 0 &&
			    strcmp(t + 1, "histogram") != 0))
				fail_msg("bad TYPE: %s", line);
			for (i = 0; i < nfams; i++)
				if (strlen(fams[i].name) == nn &&
				    strncmp(fams[i].name, line + 7, nn) == 0)
					fail_msg("family typed twice: %s", line);
			assert_true(nfams < sizeof(fams) / sizeof(fams[0]));
			fam = &fams[nfams++];
			snprintf(fam->name, sizeof(fam->name), "%.*s", (int)nn,
			    line + 7);
			snprintf(fam->type, sizeof(fam->type), "%s", t + 1);
			if (strcmp(fam->type, "counter") == 0 &&
			    !ends_with(fam->name, nn, "_total"))
				fail_msg("a counter not named _total: %s", line);
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			fail_msg("a line that is neither HELP, TYPE nor a "
			    "sample: \"%s\"", line);
		if (fam == NULL)
			fail_msg("a sample before any TYPE: %s", line);
		check_sample(line, fam, le, sizeof(le), key, sizeof(key), &v);
		/* The series (with le) must be new. */
		n = strcspn(line, " ");
		for (i = 0; i < nseen; i++)
			if (strlen(seen[i]) == n && strncmp(seen[i], line, n) == 0)
				fail_msg("series twice: %s", line);
		seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		assert_non_null(seen);
		seen[nseen++] = strndup(line, n);
		if (strcmp(fam->type, "histogram") != 0)
			continue;
		if ((le[0] != '\0') != ends_with(key, strcspn(key, ","), "_bucket"))
			fail_msg("le on a line that is not a bucket, or a bucket "
			    "without le: %s", line);
		if (le[0] != '\0') {
			if (strcmp(key, hkey) != 0) {
				snprintf(hkey, sizeof(hkey), "%s", key);
				last = -1;
			}
			if (v < last)
				fail_msg("buckets not cumulative: %s", line);
			last = v;
			if (strcmp(le, "+Inf") == 0)
				inf = v;
		} else if (ends_with(key, strcspn(key, ","), "_count")) {
			if (v != inf)
				fail_msg("_count is not the +Inf bucket: %s", line);
			inf = -1;
		}
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(copy);
}

static void
every_line_is_exposition_format(void **state)
{
	struct res	 r;
	char		*m, file[300], cmd[700];
	FILE		*f;
	int		 rc;

	(void)state;
	/* A bit of everything first: errors, an unmatched path, a sync. */
	call(&S, "GET", "/v1/users/usr_nobody", S.token, NULL, &r);
	res_free(&r);
	call(&S, "GET", "/nowhere", NULL, NULL, &r);
	res_free(&r);
	m = scrape(&S);
	check_exposition(m);
	assert_non_null(strstr(m, "# TYPE bankfeed_http_requests_total counter\n"));
	assert_non_null(strstr(m, "# TYPE bankfeed_http_request_duration_seconds "
	    "histogram\n"));
	assert_non_null(strstr(m, "# TYPE bankfeed_syncs_total counter\n"));
	assert_non_null(strstr(m, "# TYPE bankfeed_tasks gauge\n"));
	assert_non_null(strstr(m, "# TYPE bankfeed_webhook_backlog gauge\n"));

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_metrics: promtool is not installed "
		    "(Debian package prometheus): its check is skipped\n");
		free(m);
		return;
	}
	snprintf(file, sizeof(file), "%s/metrics.txt", S.dir);
	assert_non_null(f = fopen(file, "w"));
	fputs(m, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' >&2", file);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("promtool check metrics failed (%d) on %s", rc, file);
	free(m);
}

/* ---- the writer itself ---------------------------------------------- */

static void
the_writer_escapes_and_buckets_by_upper_bound(void **state)
{
	const char	*labels[] = { "route", "a\"b\\c\nd", "method", "GET" };
	struct mhist	 h;
	struct buf	 b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(mx_family(&b, "x_total", "counter", "back\\slash\nnew"),
	    0);
	assert_int_equal(mx_u64(&b, "x_total", labels, 2, 7), 0);
	assert_string_equal(buf_str(&b), "# HELP x_total back\\\\slash\\nnew\n"
	    "# TYPE x_total counter\n"
	    "x_total{route=\"a\\\"b\\\\c\\nd\",method=\"GET\"} 7\n");
	check_exposition(buf_str(&b));

	/* le is an inclusive upper bound. */
	memset(&h, 0, sizeof(h));
	mhist_observe(&h, 0.005);
	mhist_observe(&h, 0.0051);
	mhist_observe(&h, 1e6);
	buf_reset(&b);
	assert_int_equal(mx_family(&b, "y_seconds", "histogram", "h"), 0);
	assert_int_equal(mx_hist(&b, "y_seconds", NULL, 0, &h), 0);
	check_exposition(buf_str(&b));
	assert_true(value(buf_str(&b), "y_seconds_bucket{le=\"0.0025\"}") == 0);
	assert_true(value(buf_str(&b), "y_seconds_bucket{le=\"0.005\"}") == 1);
	assert_true(value(buf_str(&b), "y_seconds_bucket{le=\"0.01\"}") == 2);
	assert_true(value(buf_str(&b), "y_seconds_bucket{le=\"1800\"}") == 2);
	assert_true(value(buf_str(&b), "y_seconds_bucket{le=\"+Inf\"}") == 3);
	assert_true(value(buf_str(&b), "y_seconds_count") == 3);
	assert_non_null(strstr(buf_str(&b), "y_seconds_sum 1000000.010100000\n"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(the_writer_escapes_and_buckets_by_upper_bound),
	};
	const struct CMUnitTest api[] = {
		cmocka_unit_test(counters_move_by_exactly_what_was_done),
		cmocka_unit_test(tasks_and_the_webhook_backlog_are_read_at_scrape_time),
		cmocka_unit_test(a_missing_or_wrong_token_gets_401),
		cmocka_unit_test(without_a_token_metrics_is_an_unknown_path),
		cmocka_unit_test(every_line_is_exposition_format),
	};

	if (cmocka_run_group_tests(unit, NULL, NULL) != 0)
		return 1;
	return cmocka_run_group_tests(api, setup, teardown);
}
