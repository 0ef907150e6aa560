/*
 * h1: the HTTP/1.1 request framing of RFC 9112, strictly.  Pure functions
 * over bytes, with no sockets, so that the server and a fuzzer share them.
 *
 * Strict means that every message whose framing two parsers could read
 * differently (the ground of request smuggling) is refused, not repaired:
 * two Content-Length headers that differ, Content-Length together with
 * Transfer-Encoding, white space between a field name and its colon,
 * obsolete line folding, bare CR or LF, control bytes in values.
 */
#ifndef BF_H1_H
#define BF_H1_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define H1_MAX_HEADERS	64

struct h1_field {
	const char	*name;
	size_t		 nlen;
	const char	*value;		/* without leading and trailing OWS */
	size_t		 vlen;
};

struct h1_head {
	const char	*method;
	size_t		 mlen;
	const char	*target;
	size_t		 tlen;
	int		 minor;		/* HTTP/1.minor: 0 or 1 */
	struct h1_field	 f[H1_MAX_HEADERS];
	size_t		 nf;
	size_t		 len;		/* bytes of the head, blank line included */
	/* framing, from the fields */
	int		 has_length;
	uint64_t	 length;	/* UINT64_MAX when it does not fit */
	int		 chunked;
	int		 close;		/* the connection ends after the answer */
	int		 expect_continue;
};

enum h1_status {
	H1_OK,
	H1_INCOMPLETE,		/* more bytes needed */
	H1_BAD,			/* 400 */
	H1_URI_TOO_LONG,	/* 414 */
	H1_HEAD_TOO_LARGE,	/* 431 */
	H1_VERSION,		/* 505 */
	H1_NOT_IMPLEMENTED	/* 501: a transfer coding other than chunked */
};

/*
 * Parses the request head at the start of p[0..len).  max_head bounds the
 * whole head and max_line the request line.  On H1_OK, out describes the
 * head (pointers into p) and out->len says how many bytes it took.  On an
 * error, *why is a sentence for the client.  H1_INCOMPLETE is returned only
 * while every byte so far is valid and the limits are not yet reached, so
 * garbage is refused on its first line, not after a timeout.
 */
enum h1_status	 h1_parse_head(const char *p, size_t len, size_t max_head,
		    size_t max_line, struct h1_head *out, const char **why);

/* The value of the first field called name (case-insensitive), or NULL. */
const struct h1_field *h1_field(const struct h1_head *, const char *name);

/*
 * The chunked transfer coding, decoded as bytes arrive.  h1_chunked_feed
 * consumes what it can of in[0..len) (*used says how much), appends the
 * data to out and returns 0, with c->done set after the last chunk and its
 * trailer; -1 on malformed framing (*why set), -2 when out is full (the
 * body is larger than allowed).
 */
struct h1_chunked {
	int		 state;
	uint64_t	 left;		/* bytes of the current chunk still due */
	unsigned	 digits;
	size_t		 extra;		/* bytes of extensions or trailer so far */
	int		 done;
};

void		 h1_chunked_init(struct h1_chunked *);
int		 h1_chunked_feed(struct h1_chunked *, const char *in, size_t len,
		    size_t *used, struct buf *out, const char **why);

/* The value of a hex digit, or -1 (percent escapes, chunk sizes). */
int		 h1_hexval(char);

/* The reason phrase of a status code ("" when unknown). */
const char	*h1_reason(int status);

#endif
