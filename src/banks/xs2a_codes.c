/*
 * xs2a_codes: the rows of xs2a_codes.def, and their lookups.
 */
#include "banks/xs2a_codes.h"

#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct xs2a_tpp_row xs2a_tpp_rows[] = {
#define T(c, h, l, s, f, p) { c, h, { ERR_##l, ERR_##s, ERR_##f }, p },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_ntpp_rows = NELEM(xs2a_tpp_rows);

const struct xs2a_tpp_row xs2a_status_rows[] = {
#define S(h, l, s, f, p) { NULL, h, { ERR_##l, ERR_##s, ERR_##f }, p },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_nstatus_rows = NELEM(xs2a_status_rows);

const struct xs2a_code xs2a_codes[] = {
#define A(e, http, code, text) { ERR_##e, http, code, text },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_ncodes = NELEM(xs2a_codes);

const struct xs2a_code *
xs2a_code_fwd(enum err e)
{
	size_t	i;

	for (i = 0; i < xs2a_ncodes; i++)
		if (xs2a_codes[i].err == e)
			return &xs2a_codes[i];
	return NULL;
}

const struct xs2a_tpp_row *
xs2a_code_known(const char *code)
{
	size_t	i;

	for (i = 0; code != NULL && i < xs2a_ntpp_rows; i++)
		if (strcmp(xs2a_tpp_rows[i].code, code) == 0)
			return &xs2a_tpp_rows[i];
	return NULL;
}

const struct xs2a_tpp_row *
xs2a_code_back(int http, const char *code)
{
	const struct xs2a_tpp_row	*t;
	size_t				 i;

	if ((t = xs2a_code_known(code)) != NULL)
		return t;
	/* The file ends the S rows with the one of any other status (0). */
	for (i = 0; i < xs2a_nstatus_rows; i++)
		if (xs2a_status_rows[i].http == http ||
		    xs2a_status_rows[i].http == 0)
			return &xs2a_status_rows[i];
	return &xs2a_status_rows[xs2a_nstatus_rows - 1];
}

enum xs2a_stage
xs2a_stage_of(enum err_stage st)
{
	static const enum xs2a_stage of[] = {
		[STG_NONE] = XS_FETCH, [STG_LOGIN] = XS_LOGIN,
		[STG_CHALLENGE] = XS_SCA, [STG_SYNC] = XS_FETCH,
		[STG_ACCOUNT] = XS_FETCH
	};

	return of[st];
}
