/*
 * proxy: the client's address behind reverse proxies the operator trusts.
 *
 * Behind nginx or a load balancer every TCP peer is the proxy, so the
 * per-address limits of /oauth/token would count every client as one.
 * With BANKFEED_TRUSTED_PROXIES (addresses and CIDR ranges), a request
 * whose peer is one of them is taken to come from the address its
 * X-Forwarded-For names: read right to left, the first address that is not
 * a trusted proxy (each proxy appends the peer it saw, so only the hops
 * right of it can be believed).  A peer not in the list is the client,
 * whatever header it sends, so nobody outside can choose their address.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define MAX_PROXIES 64

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		bits;
};

static struct cidr	proxies[MAX_PROXIES];
static int		nproxies;

/* An address (v4 or v6) of n bytes at s into c; -1 when it is none. */
static int
addr_parse(const char *s, size_t n, struct cidr *c)
{
	char	tmp[64];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, c->addr) == 1) {
		c->family = AF_INET;
		c->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, c->addr) == 1) {
		c->family = AF_INET6;
		c->bits = 128;
		return 0;
	}
	return -1;
}

static int
cidr_has(const struct cidr *net, const struct cidr *a)
{
	int	full = net->bits / 8, rest = net->bits % 8;

	if (net->family != a->family)
		return 0;
	if (memcmp(net->addr, a->addr, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((net->addr[full] ^ a->addr[full]) &
	    (0xff << (8 - rest))) == 0;
}

/* Whether a (an IPv4-mapped IPv6 address counts as its IPv4) is trusted. */
static int
trusted(const struct cidr *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct cidr	v4;
	int		i;

	if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0) {
		v4.family = AF_INET;
		v4.bits = 32;
		memcpy(v4.addr, a->addr + 12, 4);
		a = &v4;
	}
	for (i = 0; i < nproxies; i++)
		if (cidr_has(&proxies[i], a))
			return 1;
	return 0;
}

int
proxies_init(const char *spec, FILE *err)
{
	const char	*p = spec != NULL ? spec : "", *end, *slash;
	int		 bad = 0;

	nproxies = 0;
	while (*p != '\0') {
		struct cidr	c;
		size_t		n;
		char		*e;
		long		bits;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && *end != ',' &&
		    !isspace((unsigned char)*end); end++)
			;
		n = (size_t)(end - p);
		slash = memchr(p, '/', n);
		if (addr_parse(p, slash != NULL ? (size_t)(slash - p) : n,
		    &c) == -1) {
			fprintf(err, "bankfeed: BANKFEED_TRUSTED_PROXIES: "
			    "\"%.*s\" is not an address or CIDR range\n",
			    (int)n, p);
			bad = 1;
		} else if (slash != NULL) {
			bits = strtol(slash + 1, &e, 10);
			if (e != end || slash + 1 == end || bits < 0 ||
			    bits > c.bits) {
				fprintf(err, "bankfeed: BANKFEED_TRUSTED_PROXIES: "
				    "\"%.*s\": the prefix length must be 0 to "
				    "%d\n", (int)n, p, c.bits);
				bad = 1;
			} else
				c.bits = (int)bits;
		}
		if (!bad && nproxies == MAX_PROXIES) {
			fprintf(err, "bankfeed: BANKFEED_TRUSTED_PROXIES: at "
			    "most %d entries\n", MAX_PROXIES);
			bad = 1;
		}
		if (!bad)
			proxies[nproxies++] = c;
		p = end;
	}
	if (bad)
		nproxies = 0;
	return bad ? -1 : 0;
}

/*
 * One entry of X-Forwarded-For, trimmed, without a port some proxies add
 * ("203.0.113.7:4711", "[2001:db8::7]:4711"); -1 when it is no address.
 */
static int
hop_parse(const char *s, size_t n, struct cidr *c)
{
	const char	*colon;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > 0 && *s == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return -1;
		return addr_parse(s + 1, (size_t)(close - s - 1), c);
	}
	colon = memchr(s, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - s) -
	    1) == NULL)
		n = (size_t)(colon - s);	/* a.b.c.d:port */
	return addr_parse(s, n, c);
}

void
req_client_ip(struct req *r, char out[46])
{
	const char	*xff, *end, *comma;
	struct cidr	 peer, hop, client;

	snprintf(out, 46, "%s", r->peer_ip);
	if (nproxies == 0 || addr_parse(r->peer_ip, strlen(r->peer_ip),
	    &peer) == -1 || !trusted(&peer) ||
	    (xff = req_header(r, "X-Forwarded-For")) == NULL)
		return;
	client = peer;
	end = xff + strlen(xff);
	/* Right to left: each hop was seen by the trusted one after it. */
	for (;;) {
		for (comma = end; comma > xff && comma[-1] != ','; comma--)
			;
		if (hop_parse(comma, (size_t)(end - comma), &hop) == -1)
			break;		/* garbage: the last trusted hop is all */
		client = hop;
		if (!trusted(&hop) || comma == xff)
			break;
		end = comma - 1;
	}
	inet_ntop(client.family, client.addr, out, 46);
}
