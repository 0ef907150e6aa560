#include "core/iban.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
iban_normalize(const char *s, char out[IBAN_MAX])
{
	size_t	n = 0, i;

	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c == ' ')
			continue;
		if (!isalnum(c) || n + 1 >= IBAN_MAX)
			return -1;
		out[n++] = (char)toupper(c);
	}
	out[n] = '\0';
	if (n < 15)
		return -1;
	for (i = 0; i < 4; i++)
		if (i < 2 ? !isalpha((unsigned char)out[i]) :
		    !isdigit((unsigned char)out[i]))
			return -1;
	return 0;
}

/* The IBAN's number (BBAN, then country and check digits) modulo 97. */
static unsigned
mod97(const char *iban)
{
	size_t		 n = strlen(iban), i;
	unsigned	 r = 0;

	for (i = 0; i < n; i++) {
		char	c = iban[(i + 4) % n];

		if (isdigit((unsigned char)c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return r;
}

int
iban_valid(const char *s)
{
	char	n[IBAN_MAX];

	return s != NULL && iban_normalize(s, n) == 0 && mod97(n) == 1;
}

int
iban_make(const char *country, const char *bban, char out[IBAN_MAX])
{
	char		n[IBAN_MAX];
	unsigned	cd;

	if (strlen(country) != 2 || strlen(bban) + 4 >= IBAN_MAX)
		return -1;
	snprintf(n, sizeof(n), "%s00%s", country, bban);
	if (iban_normalize(n, out) == -1)
		return -1;
	cd = 98 - mod97(out);
	out[2] = (char)('0' + cd / 10);
	out[3] = (char)('0' + cd % 10);
	return 0;
}
