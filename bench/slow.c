/*
 * slow: `bfbench slow BASE_URL TOKEN N TIMEOUT_S SERVER_PID`, many syncs
 * waiting on a slow bank at once.
 *
 * First, through the API, N users each with a Sandbox Bank connection of
 * user_slow (whose every sync waits BANKFEED_SANDBOX_SLOW_MS at the bank).
 * Then all N syncs are dispatched at once (N requests in flight together,
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

/* N users, each with an authorized user_slow connection. */
static int
prepare(struct slow *s)
{
	char		 body[512];
	json_t		*u, *c;
	const char	*id;
	int		 i;

	for (i = 0; i < s->n; i++) {
		snprintf(body, sizeof(body), "{\"external_ref\":\"slow-%d-%ld\"}",
		    i, (long)time(NULL));
		if ((u = call_json(s, "/v1/users", body)) == NULL)
			return -1;
		snprintf(body, sizeof(body), "{\"user_id\":\"%s\","
		    "\"institution_id\":\"sandbox\",\"credentials\":{\"username\":"
		    "\"user_slow\",\"password\":\"pass_good\"}}",
		    json_string_value(json_object_get(u, "id")));
		json_decref(u);
		if ((c = call_json(s, "/v1/connections", body)) == NULL)
			return -1;
		id = json_string_value(json_object_get(json_object_get(c,
		    "connection"), "id"));
		if (id == NULL || strcmp(json_string_value(json_object_get(
		    json_object_get(c, "connection"), "status")), "authorized")) {
			json_decref(c);
			return -1;
		}
		snprintf(s->con[i], ID_MAX, "%s", id);
		json_decref(c);
	}
	return 0;
}

/* All N sync requests in flight together; fills the task ids. */
static int
dispatch(struct slow *s)
{
	struct call	*calls;
	CURLM		*m;
	char		 path[128];
	int		 i, running, rc = 0;
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
		snprintf(path, sizeof(path), "/v1/connections/%s/sync", s->con[i]);
		call_prep(&calls[i], s->base, path, "{\"wait_seconds\":0}");
		curl_multi_add_handle(m, calls[i].h);
	}
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	for (i = 0; rc == 0 && i < s->n; i++) {
		curl_easy_getinfo(calls[i].h, CURLINFO_RESPONSE_CODE,
		    &calls[i].status);
		j = json_loads(buf_str(&calls[i].body), 0, NULL);
		if (calls[i].status >= 300 || j == NULL ||
		    json_string_value(json_object_get(j, "id")) == NULL) {
			s->http_errors++;
			s->done[i] = 2;
		} else
			snprintf(s->task[i], ID_MAX, "%s",
			    json_string_value(json_object_get(j, "id")));
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

int
cmd_slow(int argc, char **argv)
{
	struct slow	 s;
	struct timespec	 nap = { 0, 50000000 };
	double		 t0, t_dispatch = -1, t_done = -1, timeout;
	long		 pid, completed = 0, failed = 0, peak, rss, max_rss = 0;
	int		 left = -1, next = 0, rc = 1;

	memset(&s, 0, sizeof(s));
	if (argc != 6 || (s.n = (int)strtol(argv[3], NULL, 10)) < 1 ||
	    s.n > SLOW_MAX || (timeout = strtod(argv[4], NULL)) <= 0) {
		fprintf(stderr, "usage: bfbench slow BASE_URL TOKEN N(1-%d) "
		    "TIMEOUT_S SERVER_PID\n", SLOW_MAX);
		return 2;
	}
	s.base = argv[1];
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
	if (prepare(&s) == -1) {
		fprintf(stderr, "bfbench slow: cannot prepare the connections\n");
		goto out;
	}
	fprintf(stderr, "bfbench slow: %d connections prepared in %.1f s\n",
	    s.n, bench_now() - t0);
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
