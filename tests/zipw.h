/*
 * zipw: builds ZIP archives in memory for the tests, good ones and every
 * kind of bad one (encrypted flag, lying sizes, ZIP64 markers, cut short),
 * deflating with zlib as any archiver would.
 */
#ifndef BF_ZIPW_H
#define BF_ZIPW_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct zipw {
	unsigned char	*p, *cd;
	size_t		 len, cdlen;
	unsigned	 n;
};

/* A test file (up to 1 MiB) to put in an archive; NULL when unreadable. */
static __attribute__((unused)) char *
zipw_slurp(const char *path, size_t *n)
{
	FILE	*f = fopen(path, "rb");
	char	*p = malloc(1 << 20);

	*n = 0;
	if (f == NULL || p == NULL) {
		if (f != NULL)
			fclose(f);
		free(p);
		return NULL;
	}
	*n = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

/* How a member is written; zero is a plain deflated member. */
struct zipw_opt {
	int		 stored;	/* method 0 instead of 8 */
	unsigned	 method;	/* when not 0: this method number */
	unsigned	 flags;		/* general purpose flags (1: encrypted) */
	int		 bad_crc;	/* the directory's CRC-32 is wrong */
	uint32_t	 usize;		/* when not 0: the size the headers claim */
	int		 descriptor;	/* sizes and CRC in a data descriptor
					 * after the data (flag 8), as
					 * streaming archivers write them */
};

static void
zipw_put(unsigned char **b, size_t *len, const void *d, size_t n)
{
	*b = realloc(*b, *len + n + 1);
	if (*b == NULL)
		abort();
	memcpy(*b + *len, d, n);
	*len += n;
}

static void
zipw_le(unsigned char **b, size_t *len, uint32_t v, int bytes)
{
	unsigned char	x[4];
	int		i;

	for (i = 0; i < bytes; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	zipw_put(b, len, x, (size_t)bytes);
}

static __attribute__((unused)) void
zipw_add_opt(struct zipw *z, const char *name, const void *data, size_t n,
    const struct zipw_opt *o)
{
	unsigned char	*c = NULL;
	size_t		 clen = 0;
	uint32_t	 crc = (uint32_t)crc32(0, data, (uInt)n), off = (uint32_t)z->len;
	unsigned	 method = o->method ? o->method : o->stored ? 0 : 8;
	size_t		 nlen = strlen(name);

	if (method == 8) {
		z_stream	s;

		memset(&s, 0, sizeof(s));
		if (deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		clen = deflateBound(&s, (uLong)n);
		c = malloc(clen + 1);
		s.next_in = (unsigned char *)(uintptr_t)data;
		s.avail_in = (uInt)n;
		s.next_out = c;
		s.avail_out = (uInt)clen;
		if (deflate(&s, Z_FINISH) != Z_STREAM_END)
			abort();
		clen = s.total_out;
		deflateEnd(&s);
	} else {
		c = malloc(n + 1);
		memcpy(c, data, n);
		clen = n;
	}
	if (o->bad_crc)
		crc ^= 0x5a5a5a5a;
	/* Local header: with a descriptor, no sizes or CRC yet. */
	zipw_le(&z->p, &z->len, 0x04034b50, 4);
	zipw_le(&z->p, &z->len, 20, 2);
	zipw_le(&z->p, &z->len, o->flags | (o->descriptor ? 8 : 0), 2);
	zipw_le(&z->p, &z->len, method, 2);
	zipw_le(&z->p, &z->len, 0, 4);		/* time, date */
	zipw_le(&z->p, &z->len, o->descriptor ? 0 : crc, 4);
	zipw_le(&z->p, &z->len, o->descriptor ? 0 : (uint32_t)clen, 4);
	zipw_le(&z->p, &z->len, o->descriptor ? 0 : o->usize ? o->usize :
	    (uint32_t)n, 4);
	zipw_le(&z->p, &z->len, (uint32_t)nlen, 2);
	zipw_le(&z->p, &z->len, 0, 2);
	zipw_put(&z->p, &z->len, name, nlen);
	zipw_put(&z->p, &z->len, c, clen);
	if (o->descriptor) {
		zipw_le(&z->p, &z->len, 0x08074b50, 4);
		zipw_le(&z->p, &z->len, crc, 4);
		zipw_le(&z->p, &z->len, (uint32_t)clen, 4);
		zipw_le(&z->p, &z->len, (uint32_t)n, 4);
	}
	/* Its central directory entry. */
	zipw_le(&z->cd, &z->cdlen, 0x02014b50, 4);
	zipw_le(&z->cd, &z->cdlen, 20, 2);
	zipw_le(&z->cd, &z->cdlen, 20, 2);
	zipw_le(&z->cd, &z->cdlen, o->flags | (o->descriptor ? 8 : 0), 2);
	zipw_le(&z->cd, &z->cdlen, method, 2);
	zipw_le(&z->cd, &z->cdlen, 0, 4);
	zipw_le(&z->cd, &z->cdlen, crc, 4);
	zipw_le(&z->cd, &z->cdlen, (uint32_t)clen, 4);
	zipw_le(&z->cd, &z->cdlen, o->usize ? o->usize : (uint32_t)n, 4);
	zipw_le(&z->cd, &z->cdlen, (uint32_t)nlen, 2);
	zipw_le(&z->cd, &z->cdlen, 0, 2);	/* extra */
	zipw_le(&z->cd, &z->cdlen, 0, 2);	/* comment */
	zipw_le(&z->cd, &z->cdlen, 0, 2);	/* disk */
	zipw_le(&z->cd, &z->cdlen, 0, 2);	/* internal attributes */
	zipw_le(&z->cd, &z->cdlen, 0, 4);	/* external attributes */
	zipw_le(&z->cd, &z->cdlen, off, 4);
	zipw_put(&z->cd, &z->cdlen, name, nlen);
	z->n++;
	free(c);
}

static __attribute__((unused)) void
zipw_add(struct zipw *z, const char *name, const void *data, size_t n)
{
	static const struct zipw_opt	plain;

	zipw_add_opt(z, name, data, n, &plain);
}

/*
 * The archive (malloc'd; *len its size); z is emptied.  zip64 writes the
 * ZIP64 marker counts in the end record.
 */
static __attribute__((unused)) unsigned char *
zipw_finish(struct zipw *z, size_t *len, int zip64)
{
	uint32_t	cdoff = (uint32_t)z->len;
	unsigned char	*p;

	zipw_put(&z->p, &z->len, z->cd ? z->cd : (unsigned char *)"", z->cdlen);
	zipw_le(&z->p, &z->len, 0x06054b50, 4);
	zipw_le(&z->p, &z->len, 0, 2);
	zipw_le(&z->p, &z->len, 0, 2);
	zipw_le(&z->p, &z->len, zip64 ? 0xffff : z->n, 2);
	zipw_le(&z->p, &z->len, zip64 ? 0xffff : z->n, 2);
	zipw_le(&z->p, &z->len, (uint32_t)z->cdlen, 4);
	zipw_le(&z->p, &z->len, cdoff, 4);
	zipw_le(&z->p, &z->len, 0, 2);
	p = z->p;
	*len = z->len;
	free(z->cd);
	memset(z, 0, sizeof(*z));
	return p;
}

#endif
