/*
 * receiver: a webhook endpoint for tests.  A small HTTP server
 * (libmicrohttpd) on a loopback port inside the test process that records
 * every request and checks its signature with the client's secret, as a
 * client's endpoint would.  It can be taken down and brought back on the
 * same port, answer any status, answer slowly, or answer big.
 */
#ifndef BF_TEST_RECEIVER_H
#define BF_TEST_RECEIVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MAXGOT		1024

struct got {
	char	 id[64];		/* the body's id */
	char	 hdr_id[64];		/* Bankfeed-Event-Id */
	char	 type[64];		/* the body's type */
	char	 hdr_type[64];		/* Bankfeed-Event-Type */
	char	 data_id[64];		/* data.id: the resource's id */
	long	 seq;			/* data.seq, -1 if none */
	int	 sig_ok;		/* signature right and fresh */
	int	 shape_ok;		/* exactly id, type, created_at, data */
	int	 json_ct;		/* Content-Type: application/json */
	int	 answered;		/* the status we answered */
	int64_t	 at;			/* ms */
};

struct receiver {
	struct MHD_Daemon	*d;
	int			 port;
	const char		*secret;
	pthread_mutex_t		 lock;
	int			 status;	/* what to answer */
	int			 delay_ms;	/* before answering */
	size_t			 big;		/* answer body size, 0 = "ok" */
	char			 location[128];	/* for 3xx */
	struct got		 got[MAXGOT];
	int			 n;
};

int64_t	 now_ms(void);
void	 sleep_ms(int ms);
/* Whether a Bankfeed-Signature header is right (and fresh) for body. */
int	 signature_ok(const char *hdr, const char *secret, const char *body,
	    size_t len);
struct receiver *rx_new(const char *secret, int status);
void	 rx_up(struct receiver *);	/* fails the test when it cannot */
void	 rx_down(struct receiver *);
void	 rx_free(struct receiver *);
void	 rx_set(struct receiver *, int status);
int	 rx_count(struct receiver *);
/* Requests answered 2xx that carried data.seq == seq. */
int	 rx_delivered(struct receiver *, long seq);
void	 rx_url(struct receiver *, char *out, size_t n);
/* Waits until rx has at least n requests; 0, or -1 after timeout_ms. */
int	 wait_count(struct receiver *, int n, int timeout_ms);
/* Waits until every seq in [from, to] was answered 2xx. */
int	 wait_delivered(struct receiver *, long from, long to, int timeout_ms);

#endif
