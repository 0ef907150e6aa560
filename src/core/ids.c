#include "core/ids.h"

#include <sodium.h>
#include <stdint.h>
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

/*
 * Ids come from a per-thread ChaCha20 keystream under a key drawn from the
 * system once per thread: as unguessable as the system's randomness, at no
 * system call per id (a sync makes 100,000 of them).
 */
static void
id_random(unsigned char *out, size_t n)
{
	static _Thread_local unsigned char	key[crypto_stream_chacha20_KEYBYTES];
	static _Thread_local unsigned char	pool[4096];
	static _Thread_local size_t		left;
	static _Thread_local uint64_t		block;
	static _Thread_local int		keyed;
	unsigned char				nonce[crypto_stream_chacha20_NONCEBYTES];

	if (!keyed) {
		randombytes_buf(key, sizeof(key));
		keyed = 1;
	}
	if (left < n) {
		memset(nonce, 0, sizeof(nonce));
		memcpy(nonce, &block, sizeof(block) < sizeof(nonce) ?
		    sizeof(block) : sizeof(nonce));
		block++;
		crypto_stream_chacha20(pool, sizeof(pool), nonce, key);
		left = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - left, n);
	sodium_memzero(pool + sizeof(pool) - left, n);
	left -= n;
}

void
id_new(const char *prefix, char out[ID_MAX])
{
	unsigned char	rnd[ID_RANDOM_BYTES];
	size_t		pl = strlen(prefix);

	id_random(rnd, sizeof(rnd));
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
