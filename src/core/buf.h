/*
 * buf: a growable byte buffer with a mandatory maximum size.
 *
 * Every dynamic buffer in bankfeed has a hard limit (curl's DYNBUF rule): a
 * write that would cross it fails with -1 and leaves the buffer unchanged, so
 * the caller can answer with a specific error (413, 1000...) instead of
 * growing without bound.  The contents are always NUL-terminated.
 */
#ifndef BF_BUF_H
#define BF_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char   *p;		/* NUL-terminated contents, NULL until first write */
	size_t  len;
	size_t  cap;
	size_t  max;		/* hard limit on len */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
int	 buf_add_slow(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
/* Reserves room for n more bytes (one allocation up front). 0 or -1. */
int	 buf_reserve(struct buf *, size_t);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list);
/* Returns the contents ("" when empty); the buffer keeps ownership. */
const char *buf_str(const struct buf *);
/* Hands the malloc'd contents to the caller and resets the buffer. */
char	*buf_steal(struct buf *, size_t *lenp);

/*
 * Appends are on every hot path (JSON output): the common case, when the
 * bytes fit in what is allocated, is inline and copies only.
 */
static inline int
buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->p != NULL && n < b->cap - b->len) {
		memcpy(b->p + b->len, d, n);
		b->len += n;
		b->p[b->len] = '\0';
		return 0;
	}
	return buf_add_slow(b, d, n);
}

/* Empties the buffer, keeping its memory (inline: parsers call it often). */
static inline void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static inline int
buf_addc(struct buf *b, char c)
{
	if (b->p != NULL && b->cap - b->len > 1) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return 0;
	}
	return buf_add_slow(b, &c, 1);
}

#endif
