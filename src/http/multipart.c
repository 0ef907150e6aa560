#define _GNU_SOURCE
/*
 * multipart: finds one part of a multipart/form-data body (RFC 7578), for
 * file uploads.  The body is already in memory and bounded; the part is
 * returned as a slice of it, nothing is copied.
 */
#include "http/http.h"

#include <string.h>
#include <strings.h>

/* The boundary parameter of a Content-Type value, into out.  0 or -1. */
static int
boundary_of(const char *ct, char *out, size_t n)
{
	const char	*p = strcasestr(ct, "boundary=");
	size_t		 len;

	if (p == NULL)
		return -1;
	p += 9;
	if (*p == '"') {
		p++;
		len = strcspn(p, "\"");
	} else
		len = strcspn(p, "; \t");
	if (len == 0 || len > 70 || len + 3 > n)
		return -1;
	out[0] = '-';
	out[1] = '-';
	memcpy(out + 2, p, len);
	out[len + 2] = '\0';
	return 0;
}

/* A header's parameter ("name", "filename") in a Content-Disposition. */
static int
disposition_param(const char *h, size_t hl, const char *param, char *out,
    size_t n)
{
	size_t	pl = strlen(param), i;

	for (i = 0; i + pl + 2 < hl; i++) {
		size_t	len;

		if (strncasecmp(h + i, param, pl) != 0 || h[i + pl] != '=' ||
		    (i > 0 && h[i - 1] != ' ' && h[i - 1] != ';'))
			continue;
		i += pl + 1;
		if (h[i] == '"') {
			const char *e = memchr(h + i + 1, '"', hl - i - 1);

			if (e == NULL)
				return -1;
			len = (size_t)(e - (h + i + 1));
			i++;
		} else {
			len = 0;
			while (i + len < hl && h[i + len] != ';' &&
			    h[i + len] != '\r')
				len++;
		}
		if (len >= n)
			len = n - 1;
		memcpy(out, h + i, len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

int
multipart_part(const char *body, size_t len, const char *content_type,
    const char *name, const char **data, size_t *datalen, char *filename,
    size_t fnlen)
{
	char		 bd[80], pname[128];
	const char	*end = body + len, *p;
	size_t		 bl;

	if (boundary_of(content_type, bd, sizeof(bd)) == -1)
		return -1;
	bl = strlen(bd);
	p = memmem(body, len, bd, bl);
	while (p != NULL) {
		const char	*hdr, *hend, *content, *next;

		p += bl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return -1;		/* the closing boundary */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		hdr = p + 2;
		if ((hend = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4)) == NULL)
			return -1;
		content = hend + 4;
		next = memmem(content, (size_t)(end - content), bd, bl);
		if (next == NULL || next - content < 2)
			return -1;
		pname[0] = '\0';
		if (filename != NULL && fnlen > 0)
			filename[0] = '\0';
		{
			/* Find Content-Disposition among this part's headers. */
			const char *h = hdr;

			while (h < hend) {
				const char *le = memmem(h, (size_t)(hend + 2 - h),
				    "\r\n", 2);
				size_t hl = le ? (size_t)(le - h) : (size_t)(hend - h);

				if (hl > 20 && strncasecmp(h,
				    "Content-Disposition:", 20) == 0) {
					disposition_param(h, hl, "name", pname,
					    sizeof(pname));
					if (filename != NULL)
						disposition_param(h, hl, "filename",
						    filename, fnlen);
				}
				if (le == NULL)
					break;
				h = le + 2;
			}
		}
		if (strcmp(pname, name) == 0) {
			*data = content;
			*datalen = (size_t)(next - 2 - content);	/* CRLF */
			return 0;
		}
		p = next;
	}
	return -1;
}
