/*
 * lines: reads the lines of a record-per-line statement file (see
 * lines.h).  Records of these formats are short (128 bytes in CODA, a few
 * hundred in BAI2), so a byte at a time through stdio is fast enough and
 * keeps the reader simple.
 */
#include "formats/lines.h"

#include <stdlib.h>
#include <string.h>

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

void
fmt_field_text(char *out, size_t outn, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, o = 0, k;
	int			 utf8;

	if (outn == 0)
		return;
	while (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	utf8 = fmt_utf8_valid((const char *)p, n);
	for (i = 0; i < n; i += k) {
		unsigned char	u[2];
		const unsigned char *c = p + i;

		k = 1;
		if (p[i] < 0x20 || p[i] == 0x7f)
			continue;
		if (p[i] >= 0x80 && utf8) {
			while (i + k < n && (p[i + k] & 0xc0) == 0x80)
				k++;
		} else if (p[i] >= 0x80) {
			u[0] = (unsigned char)(0xc0 | (p[i] >> 6));
			u[1] = (unsigned char)(0x80 | (p[i] & 0x3f));
			c = u;
			if (o + 2 >= outn)
				break;
			memcpy(out + o, c, 2);
			o += 2;
			continue;
		}
		if (o + k >= outn)
			break;
		memcpy(out + o, c, k);
		o += k;
	}
	out[o] = '\0';
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
