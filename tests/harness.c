#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/jw.h"

/*
 * BANKFEED_TEST_DAYS_AHEAD=n runs every test server's bank clock n days
 * ahead, on top of the offset a test sets itself, so that the suite can be
 * tried as of other dates (for data that depends on the day).  Returns
 * those n days in seconds.
 */
static long long
days_ahead(void)
{
	const char	*v = getenv("BANKFEED_TEST_DAYS_AHEAD");

	return v != NULL ? strtoll(v, NULL, 10) * 86400 : 0;
}

long long
srv_bank_now(void)
{
	return (long long)time(NULL) + days_ahead();
}

/* Runs bankfeed with args (after the program's name) as s's server. */
static void
spawn(struct srv *s, const char *const *args, const char *const *env,
    int *outfd)
{
	int	p[2], logfd;

	if (pipe(p) == -1)
		abort();
	s->pid = fork();
	if (s->pid == 0) {
		const char *const *e;

		/* A test that fails midway leaves no server running after it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (logfd >= 0)
			dup2(logfd, STDERR_FILENO);
		setenv("BANKFEED_LOG_LEVEL", "info", 1);
		if (s->db_url[0] != '\0')
			setenv("BANKFEED_DATABASE_URL", s->db_url, 1);
		for (e = env; e != NULL && *e != NULL; e++)
			putenv((char *)*e);
		/* After the test's own settings. */
		if (days_ahead() != 0) {
			const char	*o = getenv("BANKFEED_CLOCK_OFFSET_SECONDS");
			char		 off[32];

			snprintf(off, sizeof(off), "%lld", (o != NULL ?
			    strtoll(o, NULL, 10) : 0) + days_ahead());
			setenv("BANKFEED_CLOCK_OFFSET_SECONDS", off, 1);
		}
		{
			const char	*argv[16] = { BANKFEED_BIN };
			size_t		 n = 1;

			while (args[n - 1] != NULL && n + 1 < 16) {
				argv[n] = args[n - 1];
				n++;
			}
			argv[n] = NULL;
			execv(BANKFEED_BIN, (char *const *)argv);
		}
		_exit(127);
	}
	close(p[1]);
	*outfd = p[0];
}

/* Reads the "listening on http://HOST:PORT" line. */
static int
read_port(int fd)
{
	char	line[512];
	size_t	n = 0;
	ssize_t	r;
	char	*p;

	while (n + 1 < sizeof(line) && (r = read(fd, line + n, 1)) == 1) {
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(fd);
	if ((p = strrchr(line, ':')) == NULL || strstr(line, "listening") == NULL)
		return -1;
	return (int)strtol(p + 1, NULL, 10);
}

static int
fetch_token(struct srv *s, struct srv *c)
{
	char		 body[512];
	const char	*hdrs[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL };
	struct res	 r;
	int		 rc = -1;

	snprintf(body, sizeof(body), "grant_type=client_credentials&"
	    "client_id=%s&client_secret=%s", c->client_id, c->client_secret);
	if (req(s, "POST", "/oauth/token", NULL, hdrs, body, strlen(body), &r) == 0 &&
	    r.status == 200 && jstr(r.json, "access_token") != NULL) {
		snprintf(c->token, sizeof(c->token), "%s",
		    jstr(r.json, "access_token"));
		rc = 0;
	}
	res_free(&r);
	return rc;
}

int
srv_new_client(struct srv *s, struct srv *c)
{
	char	 cmd[1024], line[512];
	FILE	*f;

	*c = *s;
	snprintf(cmd, sizeof(cmd), "%s%s%s%s clients create --name test "
	    "--data-dir %s 2>/dev/null", s->db_url[0] != '\0' ?
	    "BANKFEED_DATABASE_URL='" : "", s->db_url, s->db_url[0] != '\0' ?
	    "' " : "", BANKFEED_BIN, s->data);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	c->client_id[0] = c->client_secret[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "client_id:", 10) == 0)
			snprintf(c->client_id, sizeof(c->client_id), "%s",
			    line + 10 + strspn(line + 10, " "));
		else if (strncmp(line, "client_secret:", 14) == 0)
			snprintf(c->client_secret, sizeof(c->client_secret), "%s",
			    line + 14 + strspn(line + 14, " "));
	}
	if (pclose(f) != 0 || c->client_id[0] == '\0')
		return -1;
	return fetch_token(s, c);
}

static int
start_on_dir(struct srv *s, const char *const *env)
{
	const char *const args[] = { "serve", "--listen", "127.0.0.1:0",
	    "--data-dir", s->data, NULL };
	int	fd;

	spawn(s, args, env, &fd);
	if ((s->port = read_port(fd)) <= 0) {
		fprintf(stderr, "harness: server did not start; log %s\n", s->log);
		return -1;
	}
	return 0;
}

/* A fresh s with its own directory and log; the data dir DIR/sub. */
static int
srv_init(struct srv *s, const char *sub)
{
	static int	 curl_ready;
	char		 tmpl[] = "/tmp/bankfeed-test-XXXXXX";

	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	memset(s, 0, sizeof(*s));
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "%s", tmpl);
	snprintf(s->data, sizeof(s->data), "%s%s%s", tmpl, sub ? "/" : "",
	    sub ? sub : "");
	snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
	return 0;
}

int
srv_start_args(struct srv *s, const char *const *args,
    const char *const *env)
{
	int	fd;

	if (srv_init(s, NULL) == -1)
		return -1;
	spawn(s, args, env, &fd);
	if ((s->port = read_port(fd)) <= 0) {
		fprintf(stderr, "harness: %s did not start; log %s\n", args[0],
		    s->log);
		return -1;
	}
	return 0;
}

int
srv_start(struct srv *s, const char *const *env)
{
	return srv_start_in(s, NULL, env);
}

int
srv_start_in(struct srv *s, const char *sub, const char *const *env)
{
	struct srv	 c;

	if (srv_init(s, sub) == -1)
		return -1;
	if (srv_pg()) {
		if (srv_pg_create(s->db_url, sizeof(s->db_url)) == -1)
			return -1;
		setenv("BANKFEED_DATABASE_URL", s->db_url, 1);
	}
	if (start_on_dir(s, env) == -1)
		return -1;
	if (srv_new_client(s, &c) == -1) {
		fprintf(stderr, "harness: cannot create a client\n");
		return -1;
	}
	memcpy(s->client_id, c.client_id, sizeof(s->client_id));
	memcpy(s->client_secret, c.client_secret, sizeof(s->client_secret));
	memcpy(s->token, c.token, sizeof(s->token));
	return 0;
}

int
srv_restart(struct srv *s, const char *const *env)
{
	return start_on_dir(s, env);
}

static int
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/*
 * Whether the log holds needle as a word of its own: "blue" in a log line
 * like answer=blue, not inside a random id such as req_x2blue7k.
 */
int
log_wait(struct srv *s, const char *needle, int ms)
{
	return file_wait(s->log, needle, ms);
}

int
log_contains_word(struct srv *s, const char *needle)
{
	FILE		*f = fopen(s->log, "r");
	char		 line[8192];
	const char	*p;
	size_t		 n = strlen(needle);
	int		 found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		for (p = line; !found && (p = strstr(p, needle)) != NULL; p++)
			found = (p == line || !word_char(p[-1])) &&
			    !word_char(p[n]);
	fclose(f);
	return found;
}

/*
 * The server's log must hold no sanitizer report: under ASan/UBSan a leak
 * or undefined behaviour in the server fails the test that ran it.
 */
static void
check_log_clean(struct srv *s)
{
	static const char *const marks[] = { "AddressSanitizer",
	    "LeakSanitizer", "runtime error:", "level=error msg=\"internal",
	    "\"msg\":\"internal error\"", NULL };
	const char *const *m;
	char	cmd[400];

	/* No secret in any log line: the sandbox's password, answers and TAN,
	 * and the client's own secret and token. */
	static const char *const secrets[] = { "pass_good", "blue", "123456",
	    NULL };

	for (m = secrets; *m != NULL; m++)
		if (log_contains_word(s, *m)) {
			fprintf(stderr, "harness: server log %s shows a secret "
			    "(\"%s\")\n", s->log, *m);
			abort();
		}
	if ((s->client_secret[0] && log_contains(s, s->client_secret)) ||
	    (s->token[0] && log_contains(s, s->token))) {
		fprintf(stderr, "harness: server log %s shows the client's secret "
		    "or token\n", s->log);
		abort();
	}
	for (m = marks; *m != NULL; m++)
		if ((!s->internal_ok || strstr(*m, "internal") == NULL) &&
		    log_contains(s, *m)) {
			fprintf(stderr, "harness: server log %s shows \"%s\":\n",
			    s->log, *m);
			snprintf(cmd, sizeof(cmd), "tail -n 60 '%s' >&2", s->log);
			if (system(cmd) != 0)
				(void)0;
			abort();
		}
}

static void
wait_child(struct srv *s, int sig)
{
	int	status;

	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
	if (sig == SIGTERM && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		char	cmd[400];

		fprintf(stderr, "harness: server %s %d; its log %s ends:\n",
		    WIFSIGNALED(status) ? "killed by signal" : "exited with",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		    s->log);
		snprintf(cmd, sizeof(cmd), "tail -n 30 '%s' >&2", s->log);
		if (system(cmd) != 0)
			(void)0;
		abort();
	}
	check_log_clean(s);
}

void srv_stop(struct srv *s) { wait_child(s, SIGTERM); }
void srv_kill(struct srv *s) { wait_child(s, SIGKILL); }

void
srv_cleanup(struct srv *s)
{
	char	cmd[400];

	srv_stop(s);
	if (s->db_url[0] != '\0' && getenv("BANKFEED_KEEP_TEST_DIRS") == NULL) {
		srv_pg_drop(s->db_url);
		s->db_url[0] = '\0';
	}
	if (s->dir[0] != '\0' && getenv("BANKFEED_KEEP_TEST_DIRS") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: could not remove %s\n", s->dir);
	}
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

static void
record(const char *method, const char *path, struct res *r)
{
	const char	*file = getenv("BANKFEED_EXCHANGES");
	struct buf	 b;
	struct jw	 w;
	const char	*h;
	FILE		*f;

	if (file == NULL || *file == '\0')
		return;
	buf_init(&b, 64u << 20);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "method", method);
	jw_kstr(&w, "path", path);
	jw_kint(&w, "status", r->status);
	jw_key(&w, "headers");
	jw_obj(&w);
	/* Header lines "Name: value"; names lowercased. */
	for (h = r->headers; h != NULL && *h != '\0';) {
		size_t	 n = strcspn(h, "\r\n"), i, colon;
		char	 name[128];
		const char *v;

		colon = strcspn(h, ":");
		if (colon < n && colon < sizeof(name)) {
			for (i = 0; i < colon; i++)
				name[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ?
				    h[i] + 32 : h[i]);
			name[colon] = '\0';
			v = h + colon + 1;
			while (*v == ' ')
				v++;
			jw_key(&w, name);
			jw_strn(&w, v, (size_t)(h + n - v));
		}
		h += n;
		h += strspn(h, "\r\n");
	}
	jw_obj_end(&w);
	jw_key(&w, "body");
	jw_strn(&w, r->body ? r->body : "", r->len);
	jw_obj_end(&w);
	if ((f = fopen(file, "a")) != NULL) {
		flock(fileno(f), LOCK_EX);
		fprintf(f, "%s\n", buf_str(&b));
		fflush(f);	/* while the lock is held: lines never interleave */
		flock(fileno(f), LOCK_UN);
		fclose(f);
	}
	buf_free(&b);
}

int
req(struct srv *s, const char *method, const char *path, const char *token,
    const char *const *headers, const char *body, size_t len, struct res *out)
{
	CURL			*c;
	struct curl_slist	*hl = NULL;
	struct buf		 bb, hb;
	char			 url[4096], auth[256];
	const char *const	*h;
	int			 have_ct = 0, rc = -1;
	CURLcode		 cc;

	memset(out, 0, sizeof(*out));
	buf_init(&bb, 256u << 20);
	buf_init(&hb, 1u << 20);
	if ((c = curl_easy_init()) == NULL)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (s->source_ip[0] != '\0')
		curl_easy_setopt(c, CURLOPT_INTERFACE, s->source_ip);
	for (h = headers; h != NULL && *h != NULL; h++) {
		hl = curl_slist_append(hl, *h);
		if (strncasecmp(*h, "Content-Type:", 13) == 0)
			have_ct = 1;
	}
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	hl = curl_slist_append(hl, "Expect:");
	if (body != NULL) {
		if (!have_ct)
			hl = curl_slist_append(hl, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		out->body = buf_steal(&bb, &out->len);
		out->headers = buf_steal(&hb, NULL);
		if (out->len > 0)
			out->json = json_loadb(out->body, out->len, 0, NULL);
		record(method, path, out);
		rc = 0;
	} else
		fprintf(stderr, "harness: %s %s: %s\n", method, path,
		    curl_easy_strerror(cc));
	buf_free(&bb);
	buf_free(&hb);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

int
get(struct srv *s, const char *path, struct res *r)
{
	return req(s, "GET", path, s->token, NULL, NULL, 0, r);
}

int
post(struct srv *s, const char *path, const char *json, struct res *r)
{
	return req(s, "POST", path, s->token, NULL, json, json ? strlen(json) : 0, r);
}

int
del(struct srv *s, const char *path, struct res *r)
{
	return req(s, "DELETE", path, s->token, NULL, NULL, 0, r);
}

char *
res_header(struct res *r, const char *name)
{
	const char	*h = r->headers;
	size_t		 nl = strlen(name);

	while (h != NULL && *h != '\0') {
		size_t n = strcspn(h, "\r\n");

		if (n > nl && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;

			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(h + n - v));
		}
		h += n;
		h += strspn(h, "\r\n");
	}
	return NULL;
}

void
res_free(struct res *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

json_t *
jget(json_t *j, const char *path)
{
	char	 key[128];
	size_t	 n;

	while (j != NULL && *path != '\0') {
		n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_is_array(j))
			j = json_array_get(j, strtoul(key, NULL, 10));
		else
			j = json_object_get(j, key);
		path += n;
		if (*path == '.')
			path++;
	}
	return j;
}

const char *
jstr(json_t *j, const char *path)
{
	return json_string_value(jget(j, path));
}

long long
jint(json_t *j, const char *path)
{
	return json_integer_value(jget(j, path));
}

int
log_contains(struct srv *s, const char *needle)
{
	return file_wait(s->log, needle, 0);
}

static int
file_contains(const char *path, const char *needle)
{
	FILE	*f = fopen(path, "r");
	char	 line[8192];
	int	 found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int
file_wait(const char *path, const char *needle, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (file_contains(path, needle))
			return 1;
		usleep(20000);
	}
	return file_contains(path, needle);
}

json_t *
get_all(struct srv *s, const char *path)
{
	json_t		*all = json_array();
	char		 p[768], cursor[256] = "";
	struct res	 r;

	do {
		snprintf(p, sizeof(p), "%s%slimit=100%s%s", path,
		    strchr(path, '?') ? "&" : "?", cursor[0] ? "&cursor=" : "",
		    cursor);
		assert_int_equal(get(s, p, &r), 0);
		assert_status(&r, 200);
		json_array_extend(all, jget(r.json, "data"));
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json,
		    "next_cursor") ? jstr(r.json, "next_cursor") : "");
		res_free(&r);
	} while (cursor[0] != '\0');
	return all;
}

int
free_port(void)
{
	struct sockaddr_in	a;
	socklen_t		l = sizeof(a);
	int			fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) == -1)
		port = -1;
	else
		port = ntohs(a.sin_port);
	if (fd != -1)
		close(fd);
	return port;
}

pid_t
prism_proxy_start(const char *who, const char *dir, const char *spec,
    int upstream, const char *log, int *port)
{
	char	up[64], ps[16], bin[512];
	int	fd;
	pid_t	pid;

	snprintf(bin, sizeof(bin), "%s/node_modules/.bin/prism", dir);
	if (system("command -v node >/dev/null 2>&1") != 0 ||
	    access(bin, X_OK) != 0 || access(spec, R_OK) != 0) {
		fprintf(stderr, "%s: no node, no %s/node_modules (cd %s && npm "
		    "ci) or no %s: the checks through Prism are skipped\n",
		    who, dir, dir, spec);
		return 0;
	}
	if ((*port = free_port()) == -1)
		return -1;
	snprintf(up, sizeof(up), "http://127.0.0.1:%d", upstream);
	snprintf(ps, sizeof(ps), "%d", *port);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (chdir(dir) == 0)
			execl("node_modules/.bin/prism", "prism", "proxy", "-h",
			    "127.0.0.1", "-p", ps, spec, up, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int
prism_proxy_wait(const char *log, int seconds)
{
	return file_wait(log, "Prism is listening", seconds * 1000) ? 1 : 0;
}

void
prism_proxy_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

void
srv_new_user(struct srv *s, char id[64])
{
	struct res	r;

	assert_int_equal(post(s, "/v1/users", "{}", &r), 0);
	assert_status(&r, 201);
	snprintf(id, 64, "%s", jstr(r.json, "id"));
	res_free(&r);
}

int
srv_start_with_bank(struct srv *s, struct srv *bank, int latency_ms,
    const char *const *env)
{
	char		 lat[16], url[128];
	const char	*args[] = { "sandbox-bank", "--listen", "127.0.0.1:0",
	    "--latency-ms", lat, NULL };
	const char	*all[16];
	size_t		 n = 0;

	snprintf(lat, sizeof(lat), "%d", latency_ms);
	if (srv_start_args(bank, args, NULL) != 0)
		return -1;
	snprintf(url, sizeof(url), "BANKFEED_SANDBOX_XS2A_URL=http://"
	    "127.0.0.1:%d", bank->port);
	all[n++] = url;
	while (env != NULL && *env != NULL && n < 15)
		all[n++] = *env++;
	all[n] = NULL;
	return srv_start(s, all);
}
