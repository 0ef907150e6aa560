/*
 * ofx_lex: the tokenizer of OFX 1.x (SGML) and 2.x (XML): open tags,
 * close tags and text, tag names case-insensitive, entities decoded,
 * CDATA sections merged in, comments and processing instructions
 * skipped, each scanned straight from the read buffer.
 */
#include "formats/ofx.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The byte k ahead of the read position (k < OFX_READ), or -1 at the end. */
static int
peek(struct ox *o, size_t k)
{
	if (o->rpos + k >= o->rlen && !o->reof) {
		size_t	n;

		memmove(o->rb, o->rb + o->rpos, o->rlen - o->rpos);
		o->rlen -= o->rpos;
		o->rpos = 0;
		n = fread(o->rb + o->rlen, 1, sizeof(o->rb) - o->rlen, o->in);
		o->rlen += n;
		if (n == 0)
			o->reof = 1;
	}
	return o->rpos + k < o->rlen ? o->rb[o->rpos + k] : -1;
}

static int
next(struct ox *o)
{
	int	ch = peek(o, 0);

	if (ch != -1) {
		o->rpos++;
		o->offset++;
		if (ch == '\n')
			o->line++;
	}
	return ch;
}

static int
looking_at(struct ox *o, const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (peek(o, i) != (unsigned char)s[i])
			return 0;
	return 1;
}

/* Skips past the string end (e.g. "?>", "-->"); -1 at the end of input. */
static int
skip_past(struct ox *o, const char *end)
{
	while (!looking_at(o, end))
		if (next(o) == -1)
			return -1;
	while (*end++ != '\0')
		next(o);
	return 0;
}

/* Decodes the entity after '&' (already read) into b. */
static int
entity(struct ox *o, struct buf *b)
{
	static const struct {
		const char	*name;
		const char	*text;
	} ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" },
		{ "quot;", "\"" }, { "apos;", "'" }, { "nbsp;", " " },
	};
	char		num[12];
	size_t		i, n;
	unsigned long	cp = 0;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (looking_at(o, ents[i].name)) {
			for (n = strlen(ents[i].name); n > 0; n--)
				next(o);
			return buf_addstr(b, ents[i].text);
		}
	if (peek(o, 0) == '#') {
		int	hex = peek(o, 1) == 'x' || peek(o, 1) == 'X';

		for (n = 0; n < sizeof(num) - 1; n++) {
			int	ch = peek(o, n + 1 + hex);

			if (ch == -1 || !(hex ? isxdigit(ch) : isdigit(ch)))
				break;
			num[n] = (char)ch;
		}
		num[n] = '\0';
		if (n > 0 && n < 8 && peek(o, n + 1 + hex) == ';') {
			for (i = 0; i < n + 2 + hex; i++)
				next(o);
			for (i = 0; i < n; i++)
				cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit(
				    (unsigned char)num[i]) ? num[i] - '0' :
				    (tolower((unsigned char)num[i]) - 'a' + 10));
			if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 &&
			    cp <= 0xdfff))
				return buf_addc(b, '?');
			if (cp < 0x80)
				return buf_addc(b, (char)cp);
			if (cp < 0x800)
				return buf_printf(b, "%c%c", (char)(0xc0 | (cp >> 6)),
				    (char)(0x80 | (cp & 0x3f)));
			if (cp < 0x10000)
				return buf_printf(b, "%c%c%c",
				    (char)(0xe0 | (cp >> 12)),
				    (char)(0x80 | ((cp >> 6) & 0x3f)),
				    (char)(0x80 | (cp & 0x3f)));
			return buf_printf(b, "%c%c%c%c", (char)(0xf0 | (cp >> 18)),
			    (char)(0x80 | ((cp >> 12) & 0x3f)),
			    (char)(0x80 | ((cp >> 6) & 0x3f)),
			    (char)(0x80 | (cp & 0x3f)));
		}
	}
	return buf_addc(b, '&');
}

/*
 * Byte classes for the loops below: isspace() of the C locale, what ends
 * a tag name, what ends a run of text.
 */
#define C_BLANK		1
#define C_NAME_END	2
#define C_TEXT_END	4
#define C_NL		8
static const unsigned char cls[256] = {
	['\t'] = C_BLANK | C_NAME_END, ['\n'] = C_BLANK | C_NAME_END | C_NL,
	['\v'] = C_BLANK | C_NAME_END, ['\f'] = C_BLANK | C_NAME_END,
	['\r'] = C_BLANK | C_NAME_END, [' '] = C_BLANK | C_NAME_END,
	['>'] = C_NAME_END, ['/'] = C_NAME_END, ['<'] = C_NAME_END | C_TEXT_END,
	['&'] = C_TEXT_END,
};

/*
 * The tag name at the read position (at most OFX_NAME_MAX bytes, upper
 * case) into t->name, read straight from the buffer: one append, not a
 * call per byte.  -1 when it is longer.
 */
static int
tag_name(struct ox *o, struct token *t)
{
	char		 name[OFX_NAME_MAX + 1];
	size_t		 n = 0;
	const unsigned char *p, *e;
	int		 c;

	/* The name and the byte after it in the buffer, when the file has. */
	peek(o, OFX_NAME_MAX + 1);
	p = o->rb + o->rpos;
	e = o->rb + o->rlen;
	while (p + n < e && !(cls[c = p[n]] & C_NAME_END)) {
		if (n == OFX_NAME_MAX)
			return -1;
		name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	o->rpos += n;
	o->offset += n;
	return buf_add(&t->name, name, n);
}

/*
 * A run of text up to the next '<' or '&' (or the end of what is read),
 * appended to raw in one piece; lines counted, *any set when it is not
 * all blanks.  0, or -1 past raw's limit.
 */
static int
text_run(struct ox *o, struct buf *raw, int *any)
{
	const unsigned char	*p = o->rb + o->rpos, *e = o->rb + o->rlen, *q;
	int			 c;

	for (q = p; q < e && !(cls[c = *q] & C_TEXT_END); q++) {
		if (cls[c] & C_NL)
			o->line++;
		else if (!(cls[c] & C_BLANK))
			*any = 1;
	}
	o->rpos += (size_t)(q - p);
	o->offset += (uint64_t)(q - p);
	return buf_add(raw, p, (size_t)(q - p));
}

/*
 * Reads the next token into t.  Text tokens that are only blanks are not
 * returned.  A stmt_rc on error.
 */
enum stmt_rc
ofx_lex(struct ox *o, struct token *t)
{
	struct buf	*raw = &o->raw;
	enum stmt_rc	 rc = STMT_OK;
	int		ch, c1, any;

	for (;;) {
		buf_reset(&t->name);
		buf_reset(&t->text);
		t->selfclose = 0;
		t->line = o->line;
		ch = peek(o, 0);
		if (ch == -1) {
			if (ferror(o->in))
				return fmt_failed(o->c, "read error");
			t->type = TK_EOF;
			return STMT_OK;
		}
		/* Markup other than a tag starts "<?" or "<!". */
		c1 = ch == '<' ? peek(o, 1) : -1;
		if (ch == '<' && c1 == '?') {
			if (skip_past(o, "?>") == -1)
				return fmt_reject(o->c, t->line, "unterminated "
				    "<? processing instruction");
			continue;
		}
		if (ch == '<' && c1 == '!' && looking_at(o, "<!--")) {
			if (skip_past(o, "-->") == -1)
				return fmt_reject(o->c, t->line, "unterminated "
				    "comment");
			continue;
		}
		if (ch == '<' && c1 == '!' && !looking_at(o, "<![CDATA[")) {
			if (skip_past(o, ">") == -1)
				return fmt_reject(o->c, t->line, "unterminated "
				    "<! declaration");
			continue;
		}
		if (ch == '<' && c1 != '!') {
			next(o);
			t->type = TK_OPEN;
			if (peek(o, 0) == '/') {
				next(o);
				t->type = TK_CLOSE;
			}
			if (tag_name(o, t) == -1)
				return fmt_reject(o->c, t->line, "tag name "
				    "longer than %d characters", OFX_NAME_MAX);
			/* Attributes (none in OFX) and blanks up to '>'. */
			while ((ch = peek(o, 0)) != -1 && ch != '>' && ch != '<') {
				if (ch == '/' && peek(o, 1) == '>')
					t->selfclose = 1;
				next(o);
			}
			if (ch != '>')
				return fmt_reject(o->c, t->line, "tag <%s is not "
				    "closed with '>'", buf_str(&t->name));
			next(o);
			if (t->name.len == 0)
				return fmt_reject(o->c, t->line, "empty tag name");
			return STMT_OK;
		}
		/* Text up to the next tag, CDATA sections merged in. */
		buf_reset(raw);
		any = 0;
		t->type = TK_TEXT;
		while ((ch = peek(o, 0)) != -1) {
			int	r = 0;

			if (ch == '<') {
				if (peek(o, 1) != '!' ||
				    !looking_at(o, "<![CDATA["))
					break;
				for (int i = 0; i < 9; i++)
					next(o);
				while (!looking_at(o, "]]>")) {
					if ((ch = next(o)) == -1) {
						rc = fmt_reject(o->c, t->line,
						    "unterminated CDATA section");
						goto text_out;
					}
					if ((r = buf_addc(raw, (char)ch)) == -1)
						break;
				}
				if (r == 0)
					skip_past(o, "]]>");
				any = 1;
			} else if (ch == '&') {
				next(o);
				r = entity(o, raw);
			} else
				r = text_run(o, raw, &any);
			if (r == -1) {
				rc = fmt_reject(o->c, t->line, "text longer than "
				    "%d bytes", STMT_FIELD_MAX);
				goto text_out;
			}
		}
		if (any && fmt_text(&t->text, buf_str(raw), raw->len) == -1)
			rc = fmt_reject(o->c, t->line, "text longer than %d bytes",
			    STMT_FIELD_MAX);
text_out:
		if (rc != STMT_OK || any)
			return rc;
	}
}
