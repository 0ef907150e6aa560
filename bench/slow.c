/*
 * slow: `bfbench slow BASE_URL TOKEN N TIMEOUT_S SERVER_PID [INSTITUTION
 * USERNAME [prepare|dispatch FILE]]`, many syncs waiting on a slow bank at
 * once.
 *
 * First, through the API, N users each with a connection of USERNAME
 * (password pass_good) at INSTITUTION: by default the Sandbox Bank's
 * user_slow, whose every sync waits BANKFEED_SANDBOX_SLOW_MS at the bank;
 * "sandbox_xs2a user_good" for an XS2A bank (sandbox-bank, whose every
 * answer may come --latency-ms late).  The N connections are created all
 * at once too: one after the other, a slow bank would take N times its
 * latency per request of the login.  `prepare FILE` only makes them and
 * writes their ids to FILE; `dispatch FILE` takes them from FILE and does
 * the rest (a server that logs in to a slow bank needs an HTTP thread per
 * login waiting, more than it needs to serve syncs).  Then all N syncs are dispatched at once (N requests in flight together,
 * {"wait_seconds":0}, with a PSU-IP-Address), and their tasks are polled
 * until every one has ended or TIMEOUT_S has passed since the dispatch.
 * Prints "n=N dispatch_s=.. all_done_s=.. completed=.. failed=..
 * unfinished=.. http_errors=.. max_rss_kb=.. peak_rss_kb=..": max_rss is
 * the largest VmRSS sampled every 50 ms from the dispatch on, peak_rss the
 * server's VmHWM over its whole life (which includes the 64 MiB argon2id
 * hash of POST /oauth/token).
 */
#include "bench.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/ids.h"

#define SLOW_MAX	10000
#define SLOW_BODY_MAX	(1024 * 1024)

struct call {
	CURL		*h;
	struct buf	 body;
	long		 status;
};

struct slow {
	const char	*base;
	const char	*institution;
	const char	*username;
	char		 auth[512];
	struct curl_slist *hdrs;
	struct call	 one;		/* kept alive for sequential calls */
	char		 (*con)[ID_MAX];
	char		 (*task)[ID_MAX];
	int		*done;		/* 0 running, 1 completed, 2 failed */
	int		 n;
	long		 http_errors;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf	*b = arg;

	return buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

static int
call_init(struct call *c, struct slow *s)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->body, SLOW_BODY_MAX);
	if ((c->h = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	return 0;
}

static void
call_free(struct call *c)
{
	curl_easy_cleanup(c->h);
	buf_free(&c->body);
}

/* Sets up c for method path (body: JSON or NULL). */
static void
call_prep(struct call *c, const char *base, const char *path,
    const char *body)
{
	char	url[1024];

	snprintf(url, sizeof(url), "%s%s", base, path);
	buf_reset(&c->body);
	c->status = 0;
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (body != NULL)
		curl_easy_setopt(c->h, CURLOPT_COPYPOSTFIELDS, body);
	else
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
}

/* One call on the kept-alive handle; the parsed answer, or NULL. */
static json_t *
call_json(struct slow *s, const char *path, const char *body)
{
	json_t	*j;

	call_prep(&s->one, s->base, path, body);
	if (curl_easy_perform(s->one.h) != CURLE_OK)
		return NULL;
	curl_easy_getinfo(s->one.h, CURLINFO_RESPONSE_CODE, &s->one.status);
	if (s->one.status >= 300 ||
	    (j = json_loads(buf_str(&s->one.body), 0, NULL)) == NULL) {
		fprintf(stderr, "bfbench slow: %s: %ld %s\n", path,
		    s->one.status, buf_str(&s->one.body));
		return NULL;
	}
	return j;
}

/*
 * Sends N requests at once, or one every gap_ms (calls[i] prepared by
 * prep(s, i, path, body)),
 * waits for every answer, and hands each to read(s, i, answer): the
 * parsed JSON, or NULL with the status of a failed one in calls[i].
 * read returns -1 to fail the whole; all_at_once returns -1 then.
 */
static int
all_at_once(struct slow *s, long gap_ms,
    void (*prep)(struct slow *, int, char *, size_t, char *, size_t),
    int (*read)(struct slow *, int, json_t *, long))
{
	struct call	*calls;
	CURLM		*m;
	char		 path[256], body[512];
	int		 i, added = 0, running = 0, rc = 0, nbad = 0;
	double		 last = 0;
	json_t		*j;

	if ((calls = calloc((size_t)s->n, sizeof(*calls))) == NULL ||
	    (m = curl_multi_init()) == NULL) {
		free(calls);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		if (call_init(&calls[i], s) == -1) {
			rc = -1;
			break;
		}
		prep(s, i, path, sizeof(path), body, sizeof(body));
		call_prep(&calls[i], s->base, path, body);
		curl_easy_setopt(calls[i].h, CURLOPT_TIMEOUT, 600L);
	}
	while (rc == 0 && (added < s->n || running > 0)) {
		/* Spread out, each request reaches a server thread of its own
		 * (one thread accepts what is waiting when it wakes). */
		while (added < s->n && (gap_ms == 0 ||
		    (bench_now() - last) * 1000 >= gap_ms)) {
			curl_multi_add_handle(m, calls[added++].h);
			last = bench_now();
			if (gap_ms > 0)
				break;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running > 0 || added < s->n)
			curl_multi_poll(m, NULL, 0, gap_ms > 0 ? (int)gap_ms :
			    100, NULL);
	}
	for (i = 0; rc == 0 && i < s->n; i++) {
		curl_easy_getinfo(calls[i].h, CURLINFO_RESPONSE_CODE,
		    &calls[i].status);
		j = calls[i].status < 300 ?
		    json_loads(buf_str(&calls[i].body), 0, NULL) : NULL;
		if (j == NULL && nbad++ < 3)
			fprintf(stderr, "bfbench slow: request %d: %ld %.300s\n",
			    i, calls[i].status, buf_str(&calls[i].body));
		if (read(s, i, j, calls[i].status) == -1)
			rc = -1;
		json_decref(j);
	}
	for (i = 0; i < s->n; i++) {
		if (calls[i].h != NULL)
			curl_multi_remove_handle(m, calls[i].h);
		call_free(&calls[i]);
	}
	curl_multi_cleanup(m);
	free(calls);
	return rc;
}

/* The connection of user i (s->con[i] holds the user id until it is read). */
static void
con_prep(struct slow *s, int i, char *path, size_t pn, char *body, size_t bn)
{
	snprintf(path, pn, "/v1/connections");
	snprintf(body, bn, "{\"user_id\":\"%s\",\"institution_id\":\"%s\","
	    "\"credentials\":{\"username\":\"%s\",\"password\":"
	    "\"pass_good\"}}", s->con[i], s->institution, s->username);
}

static int
con_read(struct slow *s, int i, json_t *j, long status)
{
	json_t		*c = json_object_get(j, "connection");
	const char	*id = json_string_value(json_object_get(c, "id"));
	const char	*st = json_string_value(json_object_get(c, "status"));

	(void)status;
	if (id == NULL || st == NULL || strcmp(st, "authorized") != 0) {
		if (j != NULL)
			fprintf(stderr, "bfbench slow: connection %d is %s\n",
			    i, st != NULL ? st : "missing");
		return -1;
	}
	snprintf(s->con[i], ID_MAX, "%s", id);
	return 0;
}

/* N users, each with an authorized connection. */
static int
prepare(struct slow *s)
{
	char	 body[512];
	json_t	*u;
	int	 i;

	for (i = 0; i < s->n; i++) {
		snprintf(body, sizeof(body), "{\"external_ref\":\"slow-%d-%ld\"}",
		    i, (long)time(NULL));
		if ((u = call_json(s, "/v1/users", body)) == NULL)
			return -1;
		snprintf(s->con[i], ID_MAX, "%s",
		    json_string_value(json_object_get(u, "id")));
		json_decref(u);
	}
	return all_at_once(s, 5, con_prep, con_read);
}

static void
sync_prep(struct slow *s, int i, char *path, size_t pn, char *body, size_t bn)
{
	snprintf(path, pn, "/v1/connections/%s/sync", s->con[i]);
	snprintf(body, bn, "{\"wait_seconds\":0}");
}

static int
sync_read(struct slow *s, int i, json_t *j, long status)
{
	const char	*id = json_string_value(json_object_get(j, "id"));

	if (status >= 300 || id == NULL) {
		s->http_errors++;
		s->done[i] = 2;
	} else
		snprintf(s->task[i], ID_MAX, "%s", id);
	return 0;
}

/* All N sync requests in flight together; fills the task ids. */
static int
dispatch(struct slow *s)
{
	return all_at_once(s, 0, sync_prep, sync_read);
}

/*
 * Polls the tasks in dispatch order from *next on, until one still runs;
 * returns how many are left.  They were claimed in that order and wait
 * the same time at the bank, so a poll costs about one request per task
 * that ended since the last: the harness does not load the server it
 * measures (polling all 500 every tick would be some 20,000 requests).
 */
static int
poll_tasks(struct slow *s, int *next, long *completed, long *failed)
{
	char		 path[128];
	const char	*st;
	json_t		*j;
	int		 running = 0;

	while (*next < s->n && !running) {
		if (s->done[*next] != 0) {
			(*next)++;
			continue;
		}
		snprintf(path, sizeof(path), "/v1/tasks/%s", s->task[*next]);
		if ((j = call_json(s, path, NULL)) == NULL) {
			s->http_errors++;
			s->done[*next] = 2;
			continue;
		}
		st = json_string_value(json_object_get(j, "status"));
		if (st != NULL && strcmp(st, "completed") == 0) {
			s->done[*next] = 1;
			(*completed)++;
		} else if (st != NULL && (strcmp(st, "failed") == 0 ||
		    strcmp(st, "expired") == 0)) {
			s->done[*next] = 2;
			(*failed)++;
		} else
			running = 1;
		json_decref(j);
	}
	return s->n - *next;
}

/* The connection ids, one a line, to FILE. */
static int
cons_save(const struct slow *s, const char *file)
{
	FILE	*f = fopen(file, "w");
	int	 i, rc = 0;

	if (f == NULL)
		return -1;
	for (i = 0; i < s->n; i++)
		if (fprintf(f, "%s\n", s->con[i]) < 0)
			rc = -1;
	return fclose(f) == 0 ? rc : -1;
}

/* The connection ids of FILE (cons_save()), N of them. */
static int
cons_load(struct slow *s, const char *file)
{
	FILE	*f = fopen(file, "r");
	char	 line[ID_MAX + 2];
	int	 i;

	if (f == NULL)
		return -1;
	for (i = 0; i < s->n && fgets(line, sizeof(line), f) != NULL; i++) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) >= ID_MAX)
			break;
		memcpy(s->con[i], line, strlen(line) + 1);
	}
	fclose(f);
	return i == s->n ? 0 : -1;
}

int
cmd_slow(int argc, char **argv)
{
	struct slow	 s;
	struct timespec	 nap = { 0, 50000000 };
	double		 t0, t_dispatch = -1, t_done = -1, timeout;
	long		 pid, completed = 0, failed = 0, peak, rss, max_rss = 0;
	int		 left = -1, next = 0, rc = 1;
	const char	*mode = argc == 10 ? argv[8] : "both";
	const char	*file = argc == 10 ? argv[9] : NULL;

	memset(&s, 0, sizeof(s));
	if ((argc != 6 && argc != 8 && argc != 10) ||
	    (s.n = (int)strtol(argv[3], NULL, 10)) < 1 ||
	    s.n > SLOW_MAX || (timeout = strtod(argv[4], NULL)) <= 0 ||
	    (strcmp(mode, "both") != 0 && strcmp(mode, "prepare") != 0 &&
	    strcmp(mode, "dispatch") != 0)) {
		fprintf(stderr, "usage: bfbench slow BASE_URL TOKEN N(1-%d) "
		    "TIMEOUT_S SERVER_PID [INSTITUTION USERNAME [prepare|dispatch "
		    "FILE]]\n", SLOW_MAX);
		return 2;
	}
	s.base = argv[1];
	s.institution = argc >= 8 ? argv[6] : "sandbox";
	s.username = argc >= 8 ? argv[7] : "user_slow";
	pid = strtol(argv[5], NULL, 10);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(s.auth, sizeof(s.auth), "Authorization: Bearer %s", argv[2]);
	s.hdrs = curl_slist_append(NULL, s.auth);
	s.hdrs = curl_slist_append(s.hdrs, "Content-Type: application/json");
	s.hdrs = curl_slist_append(s.hdrs, "PSU-IP-Address: 127.0.0.1");
	s.con = calloc((size_t)s.n, ID_MAX);
	s.task = calloc((size_t)s.n, ID_MAX);
	s.done = calloc((size_t)s.n, sizeof(int));
	if (s.hdrs == NULL || s.con == NULL || s.task == NULL ||
	    s.done == NULL || call_init(&s.one, &s) == -1)
		goto out;
	t0 = bench_now();
	if (strcmp(mode, "dispatch") == 0) {
		if (cons_load(&s, file) == -1) {
			fprintf(stderr, "bfbench slow: %s: not %d connections\n",
			    file, s.n);
			goto out;
		}
	} else if (prepare(&s) == -1) {
		fprintf(stderr, "bfbench slow: cannot prepare the connections\n");
		goto out;
	} else {
		fprintf(stderr, "bfbench slow: %d connections prepared in "
		    "%.1f s\n", s.n, bench_now() - t0);
		if (strcmp(mode, "prepare") == 0) {
			rc = cons_save(&s, file) == 0 ? 0 : 1;
			goto out;
		}
	}
	t0 = bench_now();
	if (dispatch(&s) == -1)
		goto out;
	t_dispatch = bench_now() - t0;
	while (bench_now() - t0 < timeout) {
		if ((rss = bench_proc_kb(pid, "VmRSS")) > max_rss)
			max_rss = rss;
		if ((left = poll_tasks(&s, &next, &completed, &failed)) == 0) {
			t_done = bench_now() - t0;
			break;
		}
		nanosleep(&nap, NULL);
	}
	peak = bench_proc_kb(pid, "VmHWM");
	printf("n=%d dispatch_s=%.2f all_done_s=%.2f completed=%ld failed=%ld "
	    "unfinished=%d http_errors=%ld max_rss_kb=%ld peak_rss_kb=%ld\n",
	    s.n, t_dispatch, t_done, completed, failed, left < 0 ? s.n : left,
	    s.http_errors, max_rss, peak);
	rc = 0;
out:
	call_free(&s.one);
	curl_slist_free_all(s.hdrs);
	free(s.con);
	free(s.task);
	free(s.done);
	curl_global_cleanup();
	return rc;
}
