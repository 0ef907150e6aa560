/*
 * libFuzzer target: HTTP/1.1 request heads and chunked bodies (h1.c), the
 * first code that reads bytes from the network.  The input is parsed as a
 * head; what follows a good head is fed to the chunked decoder in pieces
 * of sizes taken from the input, which must give the same body as one
 * piece.  Any crash, overread or disagreement is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Decodes in[0..n) in pieces of at most step bytes; the status. */
static int
decode(const char *in, size_t n, size_t step, struct buf *out)
{
	struct h1_chunked	 c;
	const char		*why;
	size_t			 off = 0, used, k;
	int			 rc = 0;

	h1_chunked_init(&c);
	while (off < n && !c.done && rc == 0) {
		k = n - off < step ? n - off : step;
		rc = h1_chunked_feed(&c, in + off, k, &used, out, &why);
		if (used > k)
			abort();
		off += used;
		if (rc == 0 && used < k && !c.done)
			abort();	/* a piece must be taken whole */
	}
	return rc != 0 ? rc : c.done;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h1_head	 h;
	const char	*why, *p = (const char *)data;
	enum h1_status	 st;
	struct buf	 a, b;
	int		 ra, rb;

	st = h1_parse_head(p, size, 4096, 2048, &h, &why);
	if (st != H1_OK) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (h.len > size || h.len > 4096 || h.nf > H1_MAX_HEADERS)
		abort();
	if (h.has_length && h.chunked)
		abort();	/* never both */
	buf_init(&a, 1 << 16);
	buf_init(&b, 1 << 16);
	ra = decode(p + h.len, size - h.len, size, &a);
	rb = decode(p + h.len, size - h.len, 1 + (size % 7), &b);
	if (ra != rb || a.len != b.len || (a.len > 0 &&
	    memcmp(a.p, b.p, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
