#include "store/txnkeys.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_EMPTY	0u
#define SLOT_GONE	UINT32_MAX	/* a removed key: probes go on past it */
#define ENTRY_GONE	UINT32_MAX

/* One row: where its key (then its id) starts in the arena, and its hash. */
struct entry {
	uint32_t	off;
	unsigned char	hash[TXNKEYS_HASH];
};

struct txnkeys {
	char		*arena;		/* key NUL id NUL, row after row */
	size_t		 alen, acap;
	struct entry	*e;
	size_t		 ne, ecap;
	uint32_t	*slot;		/* entry index + 1, SLOT_EMPTY, SLOT_GONE */
	size_t		 scap, used, live;
	unsigned char	 sipkey[crypto_shorthash_KEYBYTES];
};

struct txnkeys *
txnkeys_new(void)
{
	struct txnkeys	*m = calloc(1, sizeof(*m));

	if (m != NULL)
		randombytes_buf(m->sipkey, sizeof(m->sipkey));
	return m;
}

void
txnkeys_free(struct txnkeys *m)
{
	if (m == NULL)
		return;
	free(m->arena);
	free(m->e);
	free(m->slot);
	free(m);
}

size_t
txnkeys_count(const struct txnkeys *m)
{
	return m->ne;
}

size_t
txnkeys_bytes(const struct txnkeys *m)
{
	return sizeof(*m) + m->acap + m->ecap * sizeof(struct entry) +
	    m->scap * sizeof(uint32_t);
}

static size_t
home(const struct txnkeys *m, const char *key, size_t len)
{
	unsigned char	h[crypto_shorthash_BYTES];
	uint64_t	v;

	crypto_shorthash(h, (const unsigned char *)key, len, m->sipkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (m->scap - 1);
}

/* The slot holding key, or the empty slot that ends its probe. */
static size_t
probe(const struct txnkeys *m, const char *key, size_t len)
{
	size_t	i, mask = m->scap - 1;

	for (i = home(m, key, len); m->slot[i] != SLOT_EMPTY; i = (i + 1) & mask) {
		const struct entry *e;

		if (m->slot[i] == SLOT_GONE)
			continue;
		e = &m->e[m->slot[i] - 1];
		if (memcmp(m->arena + e->off, key, len + 1) == 0)
			break;
	}
	return i;
}

/* Rebuilds the slots for one more row at a load of at most one half. */
static int
rehash(struct txnkeys *m)
{
	uint32_t	*old = m->slot;
	size_t		 cap = 1024, j;

	while ((m->live + 1) * 2 > cap)
		cap *= 2;
	if ((m->slot = calloc(cap, sizeof(*m->slot))) == NULL) {
		m->slot = old;
		return -1;
	}
	m->scap = cap;
	m->used = 0;
	for (j = 0; j < m->ne; j++) {
		const char	*key;
		size_t		 i, len;

		if (m->e[j].off == ENTRY_GONE)
			continue;
		key = m->arena + m->e[j].off;
		len = strlen(key);
		for (i = home(m, key, len); m->slot[i] != SLOT_EMPTY;
		    i = (i + 1) & (cap - 1))
			;
		m->slot[i] = (uint32_t)j + 1;
		m->used++;
	}
	free(old);
	return 0;
}

/* Makes room for need more bytes in the arena and one more entry. */
static int
reserve(struct txnkeys *m, size_t need)
{
	if (m->alen + need > m->acap) {
		size_t	 cap = m->acap ? m->acap : 16384;
		char	*p;

		while (m->alen + need > cap)
			cap *= 2;
		if (cap > ENTRY_GONE || (p = realloc(m->arena, cap)) == NULL)
			return -1;
		m->arena = p;
		m->acap = cap;
	}
	if (m->ne == m->ecap) {
		size_t		 cap = m->ecap ? m->ecap * 2 : 512;
		struct entry	*p;

		if (cap >= ENTRY_GONE || (p = realloc(m->e, cap *
		    sizeof(*p))) == NULL)
			return -1;
		m->e = p;
		m->ecap = cap;
	}
	return 0;
}

int
txnkeys_put(struct txnkeys *m, const char *key, const char *id,
    const unsigned char hash[TXNKEYS_HASH])
{
	size_t		 klen = strlen(key), ilen = strlen(id), i;
	struct entry	*e;

	if ((m->used + 1) * 2 > m->scap && rehash(m) == -1)
		return -1;
	i = probe(m, key, klen);
	if (m->slot[i] != SLOT_EMPTY) {
		memcpy(m->e[m->slot[i] - 1].hash, hash, TXNKEYS_HASH);
		return 0;
	}
	if (reserve(m, klen + ilen + 2) == -1)
		return -1;
	e = &m->e[m->ne];
	e->off = (uint32_t)m->alen;
	memcpy(e->hash, hash, TXNKEYS_HASH);
	memcpy(m->arena + m->alen, key, klen + 1);
	memcpy(m->arena + m->alen + klen + 1, id, ilen + 1);
	m->alen += klen + ilen + 2;
	m->slot[i] = (uint32_t)++m->ne;
	m->used++;
	m->live++;
	return 0;
}

int
txnkeys_get(const struct txnkeys *m, const char *key, const char **id,
    const unsigned char **hash)
{
	size_t			 len = strlen(key), i;
	const struct entry	*e;

	if (m->live == 0)
		return 0;
	i = probe(m, key, len);
	if (m->slot[i] == SLOT_EMPTY)
		return 0;
	e = &m->e[m->slot[i] - 1];
	if (id != NULL)
		*id = m->arena + e->off + len + 1;
	if (hash != NULL)
		*hash = e->hash;
	return 1;
}

void
txnkeys_del(struct txnkeys *m, const char *key)
{
	size_t	i;

	if (m->live == 0)
		return;
	i = probe(m, key, strlen(key));
	if (m->slot[i] == SLOT_EMPTY)
		return;
	m->e[m->slot[i] - 1].off = ENTRY_GONE;
	m->slot[i] = SLOT_GONE;		/* still counted in used */
	m->live--;
}
