/*
 * xs2a_codes: the table of xs2a_codes.def, and its two lookups.
 */
#include "banks/xs2a_codes.h"

#include <string.h>

const struct xs2a_code xs2a_codes[] = {
#define X(e, http, code, dir, text) { ERR_##e, http, code, dir, text },
#include "banks/xs2a_codes.def"
#undef X
};

const size_t xs2a_ncodes = sizeof(xs2a_codes) / sizeof(xs2a_codes[0]);

const struct xs2a_code *
xs2a_code_fwd(enum err e)
{
	size_t	i;

	for (i = 0; i < xs2a_ncodes; i++)
		if (xs2a_codes[i].err == e && (xs2a_codes[i].dir & XS2A_FWD))
			return &xs2a_codes[i];
	return NULL;
}

enum err
xs2a_code_back(int http, const char *code, enum err_stage stage)
{
	const struct xs2a_code	*first = NULL, *any_status = NULL, *c;
	size_t			 i;

	if (code == NULL)
		return ERR_OK;
	for (i = 0; i < xs2a_ncodes; i++) {
		c = &xs2a_codes[i];
		if (!(c->dir & XS2A_BACK) || strcmp(c->code, code) != 0)
			continue;
		if (c->http != http) {
			if (any_status == NULL)
				any_status = c;
			continue;
		}
		if (err_info(c->err)->stage == stage)
			return c->err;
		if (first == NULL)
			first = c;
	}
	if (first != NULL)
		return first->err;
	return any_status != NULL ? any_status->err : ERR_OK;
}
