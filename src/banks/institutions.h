/* institutions: the banks bankfeed knows (institutions.def). */
#ifndef BF_INSTITUTIONS_H
#define BF_INSTITUTIONS_H

#include <stddef.h>

struct institution {
	const char	*id;
	const char	*name;
	const char	*country;
	const char	*bic;
	const char	*protocol;
	const char	*status;
	int		 requires_psu_ip;
};

extern const struct institution institutions[];
extern const size_t ninstitutions;

const struct institution *institution_find(const char *id);

#endif
