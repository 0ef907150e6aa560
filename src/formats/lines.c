/*
 * lines: reads the lines of a record-per-line statement file (see
 * lines.h).  Records of these formats are short (128 bytes in CODA, a few
 * hundred in BAI2), so a byte at a time through stdio is fast enough and
 * keeps the reader simple.
 */
#include "formats/lines.h"

#include <stdlib.h>

#include "formats/fmt.h"

int
fmt_lines_init(struct fmt_lines *l, FILE *in, size_t max)
{
	l->in = in;
	l->len = 0;
	l->max = max;
	l->line = 0;
	l->pend = -1;
	if ((l->p = malloc(max + 1)) == NULL)
		return -1;
	l->p[0] = '\0';
	return 0;
}

void
fmt_lines_free(struct fmt_lines *l)
{
	free(l->p);
	l->p = NULL;
}

enum fmt_lines_rc
fmt_lines_next(struct fmt_lines *l)
{
	int	ch, any = 0, lng = 0;

	l->len = 0;
	for (;;) {
		if (l->pend != -1) {
			ch = l->pend;
			l->pend = -1;
		} else
			ch = getc_unlocked(l->in);
		if (ch == EOF) {
			if (ferror(l->in))
				return FMT_LINES_ERROR;
			if (!any)
				return FMT_LINES_END;
			break;
		}
		any = 1;
		if (ch == '\n')
			break;
		if (ch == '\r') {
			ch = getc_unlocked(l->in);
			if (ch != '\n' && ch != EOF)
				l->pend = ch;
			break;
		}
		if (l->len == l->max)
			lng = 1;
		else
			l->p[l->len++] = (char)ch;
	}
	l->line++;
	l->p[l->len] = '\0';
	return lng ? FMT_LINE_LONG : FMT_LINE;
}

enum stmt_rc
fmt_lines_end(struct fmt_ctx *c, const struct fmt_lines *l,
    enum fmt_lines_rc lr)
{
	if (lr == FMT_LINE_LONG)
		return fmt_reject(c, l->line, "line longer than %zu bytes",
		    l->max);
	if (lr == FMT_LINES_ERROR)
		return fmt_failed(c, "read error");
	return STMT_OK;
}
