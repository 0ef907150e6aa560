/*
 * ids: opaque resource ids with a type prefix ("usr_", "con_"...) and 120
 * random bits in lowercase base32, e.g. usr_4k2h7q...; unguessable.
 */
#ifndef BF_IDS_H
#define BF_IDS_H

#include <stddef.h>

#define ID_MAX 40	/* prefix + '_' + 24 chars + NUL, with room */

void	id_new(const char *prefix, char out[ID_MAX]);
/* Whether s has the shape of an id with that prefix (cheap pre-check). */
int	id_valid(const char *s, const char *prefix);
/* Lowercase base32 (RFC 4648 alphabet) of n bytes into out (8n/5+1 bytes). */
void	base32_lower(const unsigned char *in, size_t n, char *out);

#endif
