/*
 * xs2a_bank: a scripted XS2A bank for tests, on a loopback port inside the
 * test process (libmicrohttpd).  It records every request and answers by
 * the first rule that matches (method and a path pattern), as often as
 * the rule allows.
 *
 * In front of Prism (fb.prism_url set) it is also a relay: every request
 * goes to Prism first, which validates it against the NextGenPSD2 spec;
 * the request's violations (the sl-violations header, location
 * ["request", ...]) are recorded, and a request no rule answers gets
 * Prism's own mock answer.  A second Prism (fb.prism_fixed_url) may judge
 * the same request against a copy of the spec with one defect mended (see
 * test_xs2a.c).
 */
#ifndef BF_TEST_XS2A_BANK_H
#define BF_TEST_XS2A_BANK_H

#include <pthread.h>
#include <stddef.h>

#define FB_RULES	64
#define FB_REQS		512

struct fb_rule {
	const char	*method;	/* NULL: any */
	const char	*path;		/* fnmatch(3) pattern of the path */
	int		 status;
	const char	*ctype;		/* NULL: application/json */
	const char	*header;	/* one more header "Name: value", NULL */
	const char	*body;		/* NULL: big bytes of JSON, or none */
	size_t		 big;		/* a transactions page this large */
	int		 delay_ms;
	int		 uses;		/* 0: every time */
};

struct fb_req {
	char	 method[8];
	char	 path[512];
	char	 query[512];
	char	 headers[4096];		/* "name: value\n", names lowercase */
	char	*body;
	size_t	 len;
	char	 violations[2048];	/* request violations, official spec */
	char	 violations_fixed[2048];
	int	 prism_status;
};

struct fb {
	void			*d;		/* struct MHD_Daemon */
	int			 port;
	pthread_mutex_t		 lock;
	struct fb_rule		 rules[FB_RULES];
	size_t			 nrules;
	struct fb_req		 reqs[FB_REQS];
	size_t			 nreqs;
	char			 prism_url[128];	/* "" none */
	char			 prism_fixed_url[128];
};

void	fb_start(struct fb *);
void	fb_stop(struct fb *);
/* Forgets rules and requests. */
void	fb_reset(struct fb *);
void	fb_rule(struct fb *, const struct fb_rule *);
void	fb_url(const struct fb *, char *out, size_t n);
/* The i-th request (copied), or -1 when there are fewer. */
int	fb_get(struct fb *, size_t i, struct fb_req *out);
size_t	fb_count(struct fb *);
/* A header's value of a recorded request, or NULL (points into r). */
const char *fb_header(const struct fb_req *, const char *name, char *out,
	    size_t n);

#endif
