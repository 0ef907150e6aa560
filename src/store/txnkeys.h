/*
 * txnkeys: an in-memory map from a transaction's key (its stable identity,
 * see accdata.h) to its id and content hash: what one account already
 * holds, read once so that a re-sync need not ask the database row by row.
 *
 * Keys and ids live in one growing arena; a row costs its key and id with
 * their NULs, 20 bytes of entry and, at a load of at most one half, 8 to 16
 * bytes of slots: about 80 bytes for a "b:LG-20240101-0001" key, and up
 * to 120 allocated while the arrays grow by doubling.  Slots
 * are placed by a keyed SipHash, so a source that picks its ids cannot
 * make the probes long.
 */
#ifndef BF_TXNKEYS_H
#define BF_TXNKEYS_H

#include <stddef.h>

#define TXNKEYS_HASH	16	/* bytes of a content hash */

struct txnkeys;

struct txnkeys	*txnkeys_new(void);
void		 txnkeys_free(struct txnkeys *);
/* Rows stored (a removed key's row stays stored until the map is freed). */
size_t		 txnkeys_count(const struct txnkeys *);
/* Bytes allocated. */
size_t		 txnkeys_bytes(const struct txnkeys *);

/*
 * Adds key with its id and hash, or, when key is there, replaces its hash
 * (the id stays).  0, or -1 when out of memory (the map is unchanged).
 */
int	txnkeys_put(struct txnkeys *, const char *key, const char *id,
	    const unsigned char hash[TXNKEYS_HASH]);
/*
 * Finds key: 1 with *id and *hash pointing into the map (valid until the
 * next txnkeys_put), 0 when absent.  Either pointer may be NULL.
 */
int	txnkeys_get(const struct txnkeys *, const char *key, const char **id,
	    const unsigned char **hash);
/* Forgets key (a pending row whose key a booked one took over). */
void	txnkeys_del(struct txnkeys *, const char *key);

#endif
