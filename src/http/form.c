/*
 * form: application/x-www-form-urlencoded bodies (RFC 6749 token requests).
 */
#include "http/http.h"
#include "http/h1.h"

#include <string.h>

/* Decodes n bytes of s into out (size outn).  -1 on bad escapes or room. */
int
form_decode(const char *s, size_t n, char *out, size_t outn)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		char	c = s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int	hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = h1_hexval(s[i + 1]);
			lo = h1_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outn)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
form_get(const char *body, size_t len, const char *key, char *out, size_t outn)
{
	const char	*p = body, *end = body + len;
	size_t		 kl = strlen(key);

	while (p < end) {
		const char	*amp = memchr(p, '&', (size_t)(end - p));
		const char	*pe = amp ? amp : end;
		const char	*eq = memchr(p, '=', (size_t)(pe - p));

		if (eq != NULL && (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0)
			return form_decode(eq + 1, (size_t)(pe - eq - 1), out, outn);
		p = pe + 1;
	}
	return -1;
}
