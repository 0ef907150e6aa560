/*
 * The HTTP edge against a hostile network: framing that two parsers could
 * read differently, limits of size, peers that hold connections open or
 * drip bytes, and floods of connections.  Raw sockets on loopback speak
 * to the real server; every refusal must be the catalog's JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection to the server from source address src ("127.0.0.x"). */
static int
dial(struct srv *s, const char *src)
{
	struct sockaddr_in	a;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (src != NULL) {
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		inet_pton(AF_INET, src, &a.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)s->port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		fail();
	}
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;		/* the server may close early */
		p += k;
		n -= (size_t)k;
	}
}

/*
 * Reads until the server closes the connection or ms pass.  The bytes
 * read go to out (NUL-terminated); returns 1 when the server closed.
 */
static int
read_until_close(int fd, char *out, size_t n, int ms)
{
	size_t	o = 0;
	double	end = now_s() + ms / 1000.0;

	out[0] = '\0';
	for (;;) {
		struct pollfd	pf = { .fd = fd, .events = POLLIN };
		int		left = (int)((end - now_s()) * 1000);
		ssize_t		k;
		char		sink[4096];

		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return 0;
		if (o + 1 < n)
			k = recv(fd, out + o, n - o - 1, 0);
		else
			k = recv(fd, sink, sizeof(sink), 0);
		if (k <= 0)
			return 1;
		if (o + 1 < n) {
			o += (size_t)k;
			out[o] = '\0';
		}
	}
}

/* The status of the first answer in text, and its JSON body parsed. */
static int
answer_of(const char *text, json_t **body)
{
	const char	*b = strstr(text, "\r\n\r\n");
	int		 status = 0;

	*body = NULL;
	if (sscanf(text, "HTTP/1.1 %d", &status) != 1)
		return 0;
	if (b != NULL)
		*body = json_loads(b + 4, JSON_DISABLE_EOF_CHECK, NULL);
	return status;
}

/*
 * Sends raw bytes on a fresh connection and checks the answer: the status,
 * a catalog error called name as JSON, and that the server closed.
 */
static void
expect_refused(struct srv *s, const char *raw, size_t n, int status,
    const char *name)
{
	char	 text[65536];
	json_t	*j;
	int	 fd = dial(s, NULL), closed;

	send_all(fd, raw, n);
	closed = read_until_close(fd, text, sizeof(text), 5000);
	close(fd);
	if (answer_of(text, &j) != status || j == NULL ||
	    strcmp(jstr(j, "error.name"), name) != 0 || !closed ||
	    strstr(text, "Content-Type: application/json\r\n") == NULL ||
	    strstr(text, "<html") != NULL) {
		fprintf(stderr, "sent: %.200s\nwant %d %s, closed; got (closed=%d):"
		    "\n%.1500s\n", raw, status, name, closed, text);
		fail();
	}
	json_decref(j);
}

#define REFUSED(s, lit, status, name) \
	expect_refused(s, lit, sizeof(lit) - 1, status, name)

static void
ambiguous_framing_is_refused_and_the_connection_closed(void **state)
{
	struct srv	s;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	/* The classic smuggling pairs (RFC 9112 6.1, 6.3). */
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Content-Length: 50\r\n\r\nhello", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n"
	    "\r\nhello", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6"
	    "\r\n\r\nhello", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: -5"
	    "\r\n\r\nhello", 400, "INVALID_REQUEST");
	REFUSED(&s, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
	    400, "INVALID_REQUEST");
	REFUSED(&s, "GET /health HTTP/1.1\nHost: x\n\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400,
	    "INVALID_REQUEST");
	REFUSED(&s, "GET /health HTTP/1.1\r\n\r\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n0\r\n\r\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "gzip, chunked\r\n\r\n0\r\n\r\n", 501, "NOT_IMPLEMENTED");
	REFUSED(&s, "POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\n\r\nzz\r\n", 400, "INVALID_REQUEST");
	REFUSED(&s, "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505,
	    "HTTP_VERSION_NOT_SUPPORTED");
	REFUSED(&s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
	    "INVALID_REQUEST");
	REFUSED(&s, "GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400,
	    "INVALID_REQUEST");
	/* the server still serves afterwards */
	{
		struct res r;

		assert_int_equal(get(&s, "/health", &r), 0);
		assert_status(&r, 200);
		res_free(&r);
	}
	srv_cleanup(&s);
}

static void
oversized_requests_get_json_at_once(void **state)
{
	struct srv	 s;
	char		*big, text[8192];
	json_t		*j;
	size_t		 n;
	int		 fd;
	double		 t0;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	big = malloc(40000);
	/* 414: a 9,000-byte target */
	n = (size_t)snprintf(big, 40000, "GET /v1/users?q=");
	memset(big + n, 'a', 9000);
	n += 9000;
	n += (size_t)snprintf(big + n, 40000 - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_refused(&s, big, n, 414, "URI_TOO_LONG");
	/* 431: a 20,000-byte header */
	n = (size_t)snprintf(big, 40000, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'b', 20000);
	n += 20000;
	n += (size_t)snprintf(big + n, 40000 - n, "\r\n\r\n");
	expect_refused(&s, big, n, 431, "HEADERS_TOO_LARGE");
	/* 431: too many fields */
	n = (size_t)snprintf(big, 40000, "GET /health HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(big + n, 40000 - n, "X-F%d: 1\r\n", i);
	n += (size_t)snprintf(big + n, 40000 - n, "\r\n");
	expect_refused(&s, big, n, 431, "HEADERS_TOO_LARGE");
	/*
	 * 413 at once for a declared body over the limit, and no 100 Continue
	 * before it: the client is not invited to send 1 GB.
	 */
	fd = dial(&s, NULL);
	n = (size_t)snprintf(big, 40000, "POST /v1/users HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Expect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n",
	    s.token);
	t0 = now_s();
	send_all(fd, big, n);
	assert_true(read_until_close(fd, text, sizeof(text), 5000));
	assert_true(now_s() - t0 < 2.0);
	close(fd);
	assert_null(strstr(text, "100 Continue"));
	assert_int_equal(answer_of(text, &j), 413);
	assert_string_equal(jstr(j, "error.name"), "PAYLOAD_TOO_LARGE");
	json_decref(j);
	/* a chunked body over the limit: 413 as well */
	fd = dial(&s, NULL);
	n = (size_t)snprintf(big, 40000, "POST /v1/users HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", s.token);
	send_all(fd, big, n);
	memset(big, 'x', 32768);
	n = (size_t)snprintf(text, sizeof(text), "8000\r\n");
	for (int i = 0; i < 40; i++) {
		send_all(fd, text, n);
		send_all(fd, big, 32768);
		send_all(fd, "\r\n", 2);
	}
	assert_true(read_until_close(fd, text, sizeof(text), 5000));
	close(fd);
	assert_int_equal(answer_of(text, &j), 413);
	json_decref(j);
	free(big);
	srv_cleanup(&s);
}

static void
chunked_bodies_pipelining_and_keep_alive(void **state)
{
	struct srv	 s;
	char		 head[1024], text[16384], *p;
	json_t		*j;
	int		 fd, n, count = 0;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	/* a chunked JSON body, with an extension and a trailer */
	fd = dial(&s, NULL);
	n = snprintf(head, sizeof(head), "POST /v1/users HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    "5;x=y\r\n{\"ext\r\n"
	    "14\r\nernal_ref\":\"chunky\"}\r\n0\r\nX-Trailer: 1\r\n\r\n", s.token);
	send_all(fd, head, (size_t)n);
	assert_true(read_until_close(fd, text, sizeof(text), 5000));
	close(fd);
	assert_int_equal(answer_of(text, &j), 201);
	assert_string_equal(jstr(j, "external_ref"), "chunky");
	json_decref(j);
	/* three pipelined requests in one write, answered in order */
	fd = dial(&s, NULL);
	n = snprintf(head, sizeof(head),
	    "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
	    "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n"
	    "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: three\r\n"
	    "Connection: close\r\n\r\n");
	send_all(fd, head, (size_t)n);
	assert_true(read_until_close(fd, text, sizeof(text), 5000));
	close(fd);
	for (p = text; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
		count++;
	assert_int_equal(count, 3);
	assert_true(strstr(text, "X-Request-Id: one") < strstr(text,
	    "X-Request-Id: two"));
	assert_true(strstr(text, "X-Request-Id: two") < strstr(text,
	    "X-Request-Id: three"));
	assert_non_null(strstr(text, "HTTP/1.1 404"));
	/* HTTP/1.0 closes after the answer unless asked otherwise */
	fd = dial(&s, NULL);
	send_all(fd, "GET /health HTTP/1.0\r\n\r\n", 24);
	assert_true(read_until_close(fd, text, sizeof(text), 5000));
	close(fd);
	assert_int_equal(answer_of(text, &j), 200);
	json_decref(j);
	srv_cleanup(&s);
}

/*
 * A head dripped one byte at a time is cut off header-timeout after its
 * first byte, however steadily the bytes come: 408, then closed.
 */
static void
a_dripping_head_is_cut_off_on_time(void **state)
{
	struct srv	 s;
	const char	*env[] = { "BANKFEED_HEADER_TIMEOUT_SECONDS=2", NULL };
	char		 text[4096];
	json_t		*j;
	double		 t0, took;
	int		 fd, closed = 0;

	(void)state;
	assert_int_equal(srv_start(&s, env), 0);
	fd = dial(&s, NULL);
	t0 = now_s();
	send_all(fd, "GET /health HTTP/1.1\r\n", 22);
	while (!closed && now_s() - t0 < 10) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		send_all(fd, "X", 1);
		if (poll(&pf, 1, 300) > 0)
			closed = read_until_close(fd, text, sizeof(text), 3000);
	}
	took = now_s() - t0;
	close(fd);
	assert_true(closed);
	if (took < 1.9 || took > 3.5) {
		fprintf(stderr, "cut off after %.2f s, want about 2\n", took);
		fail();
	}
	assert_int_equal(answer_of(text, &j), 408);
	assert_string_equal(jstr(j, "error.name"), "REQUEST_TIMEOUT");
	json_decref(j);
	srv_cleanup(&s);
}

static void
raise_fd_limit(void)
{
	struct rlimit	rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Opens n slow sockets from the source addresses 127.0.0.{first..}. */
static int *
open_slow(struct srv *s, int n, int first, int per_addr)
{
	int	*fds = malloc((size_t)n * sizeof(int)), i;
	char	 src[32];

	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", first + i / per_addr);
		fds[i] = dial(s, src);
		send_all(fds[i], "GET /health HTTP/1.1\r\nHost: x\r\n", 31);
	}
	return fds;
}

static void
close_all(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* The best of five GET /health, in ms; each must answer 200. */
static double
best_health_ms(struct srv *s)
{
	double		best = 1e9;
	struct res	r;
	int		i;

	for (i = 0; i < 5; i++) {
		double	t0 = now_s(), t;

		assert_int_equal(get(s, "/health", &r), 0);
		t = (now_s() - t0) * 1000;
		assert_status(&r, 200);
		res_free(&r);
		if (t < best)
			best = t;
	}
	return best;
}

/*
 * 1,100 sockets that never finish their heads, from 20 addresses and then
 * from the client's own, do not keep a normal request from being answered
 * at once.
 */
static void
slow_sockets_do_not_lock_out_clients(void **state)
{
	struct srv	 s;
	int		*fds;
	double		 ms;

	(void)state;
	raise_fd_limit();
	assert_int_equal(srv_start(&s, NULL), 0);
	fds = open_slow(&s, 1100, 2, 55);
	ms = best_health_ms(&s);
	printf("GET /health with 1,100 slow sockets from 20 addresses: %.2f ms\n",
	    ms);
	assert_true(ms < 100);
	close_all(fds, 1100);
	/* the same address as the client: the oldest slow ones make room */
	fds = open_slow(&s, 1100, 1, 1100);
	ms = best_health_ms(&s);
	printf("GET /health with 1,100 slow sockets from its own address: "
	    "%.2f ms\n", ms);
	assert_true(ms < 100);
	close_all(fds, 1100);
	srv_cleanup(&s);
}

/*
 * Connections busy with a request count against their address's limit
 * and cannot be evicted: past the limit a new one gets 429 JSON; another
 * address is served.  When the server is full, idle connections make room.
 */
static void
connection_limits_per_address_and_in_all(void **state)
{
	struct srv	 s;
	const char	*env[] = { "BANKFEED_MAX_CONNECTIONS_PER_IP=4",
	    "BANKFEED_MAX_CONNECTIONS=16", NULL };
	char		 text[4096];
	json_t		*j;
	int		 busy[4], i, fd, *idle;
	struct res	 r;

	(void)state;
	raise_fd_limit();
	assert_int_equal(srv_start(&s, env), 0);
	for (i = 0; i < 4; i++) {
		busy[i] = dial(&s, "127.0.0.3");
		const char *h = "POST /v1/users HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 100\r\n\r\n{\"a\"";

		send_all(busy[i], h, strlen(h));
	}
	usleep(200000);
	fd = dial(&s, "127.0.0.3");
	assert_true(read_until_close(fd, text, sizeof(text), 3000));
	close(fd);
	assert_int_equal(answer_of(text, &j), 429);
	assert_string_equal(jstr(j, "error.name"), "TOO_MANY_REQUESTS");
	assert_non_null(strstr(text, "Retry-After: "));
	json_decref(j);
	assert_int_equal(get(&s, "/health", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	/* 20 idle connections from other addresses fill the server */
	idle = open_slow(&s, 20, 10, 2);
	assert_int_equal(get(&s, "/health", &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	close_all(idle, 20);
	for (i = 0; i < 4; i++)
		close(busy[i]);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ambiguous_framing_is_refused_and_the_connection_closed),
		cmocka_unit_test(oversized_requests_get_json_at_once),
		cmocka_unit_test(chunked_bodies_pipelining_and_keep_alive),
		cmocka_unit_test(a_dripping_head_is_cut_off_on_time),
		cmocka_unit_test(slow_sockets_do_not_lock_out_clients),
		cmocka_unit_test(connection_limits_per_address_and_in_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
