/*
 * lines: the line reader of the record-per-line formats (CODA, BAI2),
 * internal to src/formats.
 *
 * Lines end with LF, CRLF or a lone CR; the end is not part of the line.
 * A line longer than the reader's maximum is not cut: fmt_lines_next()
 * says so, and the parser rejects the file with that line's number.
 */
#ifndef BF_LINES_H
#define BF_LINES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/formats.h"

struct fmt_lines {
	FILE		*in;
	char		*p;		/* the line, NUL-terminated */
	size_t		 len;
	size_t		 max;		/* longest line accepted */
	uint64_t	 line;		/* 1-based number of the line in p */
	int		 pend;		/* a byte read ahead (after a CR), or -1 */
};

/* 0, or -1 when memory runs out. */
int	fmt_lines_init(struct fmt_lines *, FILE *, size_t max);
void	fmt_lines_free(struct fmt_lines *);

enum fmt_lines_rc {
	FMT_LINE = 1,		/* a line is in p */
	FMT_LINES_END = 0,	/* the end of the input */
	FMT_LINE_LONG = -1,	/* line `line` is longer than max */
	FMT_LINES_ERROR = -2	/* reading failed */
};

enum fmt_lines_rc fmt_lines_next(struct fmt_lines *);

/*
 * Copies the n bytes at s into out (size outn) as a short UTF-8 value:
 * blanks trimmed at both ends, kept as it is when it is valid UTF-8, else
 * read as ISO-8859-1 (Belgian and US banks still write names so);
 * control characters dropped; cut short on a character boundary.
 */
void	fmt_field_text(char *out, size_t outn, const char *s, size_t n);

struct fmt_ctx;
/*
 * What the parse becomes when fmt_lines_next() stopped with lr: STMT_OK
 * at the end of the input, a rejection naming the line that is too long,
 * or a failure to read.
 */
enum stmt_rc	fmt_lines_end(struct fmt_ctx *, const struct fmt_lines *,
		    enum fmt_lines_rc lr);

#endif
