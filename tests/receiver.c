#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "receiver.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * What a client's endpoint does: recompute HMAC-SHA256(secret, t + "." +
 * body) and compare it with v1 in constant time; refuse a stale t.
 */
int
signature_ok(const char *hdr, const char *secret, const char *body,
    size_t len)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[32], want[32];
	const char			*v1;
	char				*end;
	long long			 t;
	size_t				 n;

	if (hdr == NULL || strncmp(hdr, "t=", 2) != 0)
		return 0;
	t = strtoll(hdr + 2, &end, 10);
	if (end == hdr + 2 || strncmp(end, ",v1=", 4) != 0)
		return 0;
	v1 = end + 4;
	if (strlen(v1) != 64 || strspn(v1, "0123456789abcdef") != 64 ||
	    sodium_hex2bin(want, sizeof(want), v1, 64, NULL, &n, NULL) != 0)
		return 0;
	if (llabs(t - (long long)time(NULL)) > 300)
		return 0;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)hdr + 2,
	    (size_t)(end - hdr - 2));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	return sodium_memcmp(mac, want, sizeof(mac)) == 0;
}

static void
record(struct receiver *rx, struct MHD_Connection *c, const struct buf *b)
{
	struct got	 g;
	json_t		*j, *v;
	const char	*h, *ts;

	memset(&g, 0, sizeof(g));
	g.seq = -1;
	g.at = now_ms();
	g.answered = rx->status;
	g.sig_ok = signature_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Bankfeed-Signature"), rx->secret, buf_str(b), b->len);
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	g.json_ct = h != NULL && strcmp(h, "application/json") == 0;
	if ((h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Bankfeed-Event-Id")) != NULL)
		snprintf(g.hdr_id, sizeof(g.hdr_id), "%s", h);
	if ((h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Bankfeed-Event-Type")) != NULL)
		snprintf(g.hdr_type, sizeof(g.hdr_type), "%s", h);
	if ((j = json_loadb(buf_str(b), b->len, 0, NULL)) != NULL) {
		if ((h = json_string_value(json_object_get(j, "id"))) != NULL)
			snprintf(g.id, sizeof(g.id), "%s", h);
		if ((h = json_string_value(json_object_get(j, "type"))) != NULL)
			snprintf(g.type, sizeof(g.type), "%s", h);
		if ((h = json_string_value(json_object_get(json_object_get(j,
		    "data"), "id"))) != NULL)
			snprintf(g.data_id, sizeof(g.data_id), "%s", h);
		v = json_object_get(json_object_get(j, "data"), "seq");
		if (json_is_integer(v))
			g.seq = (long)json_integer_value(v);
		ts = json_string_value(json_object_get(j, "created_at"));
		g.shape_ok = json_object_size(j) == 4 &&
		    json_is_object(json_object_get(j, "data")) && ts != NULL &&
		    strlen(ts) == 20 && ts[10] == 'T' && ts[19] == 'Z';
		json_decref(j);
	}
	pthread_mutex_lock(&rx->lock);
	if (rx->n < MAXGOT)
		rx->got[rx->n++] = g;
	pthread_mutex_unlock(&rx->lock);
}

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct receiver		*rx = cls;
	struct buf		*b = *con_cls;
	struct MHD_Response	*resp;
	enum MHD_Result		 rc;
	char			*body;
	size_t			 len;
	int			 status;

	(void)url;
	(void)method;
	(void)version;
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return MHD_NO;
		buf_init(b, 4u << 20);
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		buf_add(b, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rx->lock);
	status = rx->status;
	len = rx->big;
	pthread_mutex_unlock(&rx->lock);
	record(rx, c, b);
	if (rx->delay_ms > 0)
		sleep_ms(rx->delay_ms);
	if (len > 0) {
		body = malloc(len);
		assert_non_null(body);
		memset(body, 'x', len);
	} else {
		body = strdup("ok");
		len = 2;
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (status / 100 == 3)
		MHD_add_response_header(resp, "Location", rx->location);
	rc = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct buf	*b = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (b != NULL) {
		buf_free(b);
		free(b);
	}
	*con_cls = NULL;
}

/* Starts rx on its port (0 = a free one, remembered for restarts). */
void
rx_up(struct receiver *rx)
{
	struct sockaddr_in		 sa;
	const union MHD_DaemonInfo	*info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)rx->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, on_req, rx,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, rx,
	    MHD_OPTION_END);
	assert_non_null(rx->d);
	info = MHD_get_daemon_info(rx->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	rx->port = info->port;
}

void
rx_down(struct receiver *rx)
{
	if (rx->d != NULL)
		MHD_stop_daemon(rx->d);
	rx->d = NULL;
}

struct receiver *
rx_new(const char *secret, int status)
{
	struct receiver	*rx = calloc(1, sizeof(*rx));

	assert_non_null(rx);
	pthread_mutex_init(&rx->lock, NULL);
	rx->secret = secret;
	rx->status = status;
	rx_up(rx);
	return rx;
}

void
rx_free(struct receiver *rx)
{
	rx_down(rx);
	pthread_mutex_destroy(&rx->lock);
	free(rx);
}

void
rx_set(struct receiver *rx, int status)
{
	pthread_mutex_lock(&rx->lock);
	rx->status = status;
	pthread_mutex_unlock(&rx->lock);
}

int
rx_count(struct receiver *rx)
{
	int	n;

	pthread_mutex_lock(&rx->lock);
	n = rx->n;
	pthread_mutex_unlock(&rx->lock);
	return n;
}

/* Requests answered 2xx that carried seq. */
int
rx_delivered(struct receiver *rx, long seq)
{
	int	i, n = 0;

	pthread_mutex_lock(&rx->lock);
	for (i = 0; i < rx->n; i++)
		n += rx->got[i].seq == seq && rx->got[i].answered / 100 == 2;
	pthread_mutex_unlock(&rx->lock);
	return n;
}

void
rx_url(struct receiver *rx, char *out, size_t n)
{
	snprintf(out, n, "http://127.0.0.1:%d/hooks/bankfeed", rx->port);
}

/* Waits until rx has at least n requests; 0, or -1 after timeout_ms. */
int
wait_count(struct receiver *rx, int n, int timeout_ms)
{
	int64_t	end = now_ms() + timeout_ms;

	while (rx_count(rx) < n)
		if (now_ms() > end)
			return -1;
		else
			sleep_ms(10);
	return 0;
}

/* Waits until every seq in [from, to] was answered 2xx. */
int
wait_delivered(struct receiver *rx, long from, long to, int timeout_ms)
{
	int64_t	end = now_ms() + timeout_ms;
	long	s;

	for (s = from; s <= to; s++)
		while (rx_delivered(rx, s) == 0)
			if (now_ms() > end)
				return -1;
			else
				sleep_ms(10);
	return 0;
}

