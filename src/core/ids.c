#include "core/ids.h"

#include <sodium.h>
#include <string.h>

#define ID_RANDOM_BYTES 15	/* 120 bits -> 24 base32 characters */

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void
base32_lower(const unsigned char *in, size_t n, char *out)
{
	size_t		i, o = 0;
	unsigned	acc = 0, bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

void
id_new(const char *prefix, char out[ID_MAX])
{
	unsigned char	rnd[ID_RANDOM_BYTES];
	size_t		pl = strlen(prefix);

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(out, prefix, pl);
	out[pl] = '_';
	base32_lower(rnd, sizeof(rnd), out + pl + 1);
}

int
id_valid(const char *s, const char *prefix)
{
	size_t	pl = strlen(prefix), i;

	if (strncmp(s, prefix, pl) != 0 || s[pl] != '_')
		return 0;
	s += pl + 1;
	for (i = 0; s[i] != '\0'; i++)
		if (strchr(alphabet, s[i]) == NULL || i >= 32)
			return 0;
	return i > 0;
}
