#include "banks/institutions.h"

#include <string.h>

const struct institution institutions[] = {
#define I(id, name, country, bic, proto, status, psu) \
	{ id, name, country, bic, proto, status, psu },
#include "banks/institutions.def"
#undef I
};

const size_t ninstitutions = sizeof(institutions) / sizeof(institutions[0]);

const struct institution *
institution_find(const char *id)
{
	size_t	i;

	for (i = 0; i < ninstitutions; i++)
		if (strcmp(institutions[i].id, id) == 0)
			return &institutions[i];
	return NULL;
}
