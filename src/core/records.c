#include "core/records.h"

#include <string.h>

static const char *const acct_names[] = {
#define R(e, s) s,
	ACCT_TYPES(R)
#undef R
};

static const struct {
	const char	*name;
	const char	*iso;
} bal_names[] = {
#define R(e, s, iso, bg) { s, iso },
	BAL_TYPES(R)
#undef R
};

const char *
acct_type_name(enum acct_type t)
{
	return acct_names[t];
}

int
acct_type_parse(const char *s, enum acct_type *out)
{
	size_t	i;

	for (i = 0; i < sizeof(acct_names) / sizeof(acct_names[0]); i++)
		if (strcmp(acct_names[i], s) == 0) {
			*out = (enum acct_type)i;
			return 0;
		}
	return -1;
}

const char *
bal_type_name(enum bal_type t)
{
	return bal_names[t].name;
}

int
bal_type_from_iso(const char *code, enum bal_type *out)
{
	size_t	i;

	for (i = 0; i < BAL__COUNT; i++)
		if (*bal_names[i].iso != '\0' && strcmp(bal_names[i].iso, code) == 0) {
			*out = (enum bal_type)i;
			return 0;
		}
	return -1;
}
