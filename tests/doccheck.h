/*
 * doccheck: a committed doc (docs/NAME.md) must equal what its generator
 * writes now.  With BANKFEED_REGEN_DOCS set, the doc is rewritten first.
 * For cmocka tests; include after cmocka.h.
 */
#ifndef BF_DOCCHECK_H
#define BF_DOCCHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* path's bytes (NUL-terminated) and their count, or NULL. */
static inline char *
doc_slurp(const char *path, size_t *n)
{
	FILE	*f = fopen(path, "rb");
	char	*p;
	long	 l;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	l = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)l + 1);
	*n = fread(p, 1, (size_t)l, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/* Fails the test when path differs from gen(f), naming the regen command. */
static inline void
doc_matches(const char *path, int (*gen)(FILE *), const char *regen)
{
	char	*want, *have;
	size_t	 nwant, nhave;
	FILE	*f;

	f = open_memstream(&want, &nwant);
	assert_int_equal(gen(f), 0);
	fclose(f);
	if (getenv("BANKFEED_REGEN_DOCS") != NULL) {
		f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(want, 1, nwant, f);
		fclose(f);
	}
	have = doc_slurp(path, &nhave);
	if (have == NULL || nhave != nwant || memcmp(have, want, nwant) != 0)
		fail_msg("%s differs from its generator; regenerate with "
		    "BANKFEED_REGEN_DOCS=1 %s", path, regen);
	free(have);
	free(want);
}

#endif
