/*
 * jw: a streaming JSON writer into a struct buf.
 *
 * jansson builds a tree and costs about 5 us per transaction row when encoded;
 * responses are written straight into a buffer instead.  Commas and nesting
 * are tracked here, so callers only say what comes next.  Strings are escaped
 * and invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON.
 * A write past the buffer's limit sets jw.err; jw_finish() reports it.
 */
#ifndef BF_JW_H
#define BF_JW_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JW_MAXDEPTH 32

struct jw {
	struct buf	*b;
	unsigned	 depth;
	uint8_t		 first[JW_MAXDEPTH];	/* no element written yet */
	int		 after_key;
	int		 err;
};

void	jw_init(struct jw *, struct buf *);
int	jw_finish(struct jw *);

void	jw_obj(struct jw *);
void	jw_obj_end(struct jw *);
void	jw_arr(struct jw *);
void	jw_arr_end(struct jw *);
void	jw_key(struct jw *, const char *);
void	jw_str(struct jw *, const char *);	/* NULL writes null */
void	jw_strn(struct jw *, const char *, size_t);
void	jw_int(struct jw *, int64_t);
void	jw_bool(struct jw *, int);
void	jw_null(struct jw *);
void	jw_raw(struct jw *, const char *, size_t);	/* trusted JSON text */

/* key + value shorthands */
void	jw_kstr(struct jw *, const char *, const char *);
void	jw_kint(struct jw *, const char *, int64_t);
void	jw_kbool(struct jw *, const char *, int);
void	jw_knull(struct jw *, const char *);

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), or 0
 * when the bytes there are not one (overlong forms and surrogates included).
 */
size_t	utf8_seq(const unsigned char *s, size_t n);

/* "2026-11-22T16:00:10Z" for unix seconds, or null when secs < 0. */
void	jw_ktime(struct jw *, const char *key, long long secs);

/* Appends s as a JSON string literal (quotes included) to b. */
int	json_escape(struct buf *, const char *s, size_t n);

#endif
