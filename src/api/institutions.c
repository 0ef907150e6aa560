/*
 * GET /v1/institutions (?country=, ?q=) and GET /v1/institutions/{id}.
 * The list is fixed at start and a few thousand entries at most, so it has
 * no pagination cursor.  What a client can act on is shown (the SCA
 * approaches tell it whether its user will be sent to the bank's page);
 * how bankfeed reaches the bank (URLs, certificate paths) is not.
 */
#include "api/api.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "banks/institutions.h"
#include "http/http.h"

static void
write_institution(struct jw *w, const struct institution *in)
{
	size_t	i;

	jw_obj(w);
	jw_kstr(w, "id", in->id);
	jw_kstr(w, "name", in->name);
	jw_kstr(w, "country", in->country);
	jw_kstr(w, "bic", in->bic);
	jw_kstr(w, "protocol", in->protocol);
	jw_kstr(w, "status", in->status);
	jw_kbool(w, "requires_psu_ip", in->requires_psu_ip);
	jw_key(w, "sca_approaches");
	jw_arr(w);
	for (i = 0; i < in->nsca_approaches; i++)
		jw_str(w, sca_approach_api_name(in->sca_approaches[i]));
	jw_arr_end(w);
	jw_obj_end(w);
}

/* Case-insensitive substring test. */
static int
contains(const char *hay, const char *needle)
{
	size_t	n = strlen(needle);

	if (hay == NULL)
		return 0;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

void
h_institutions_list(struct req *r)
{
	const char	*country = req_query(r, "country"), *q = req_query(r, "q");
	struct jw	 w;
	size_t		 i;

	if (country != NULL && (strlen(country) != 2 ||
	    !isalpha((unsigned char)country[0]) ||
	    !isalpha((unsigned char)country[1]))) {
		resp_error_field(r, ERR_INVALID_REQUEST, "country",
		    "Must be an ISO 3166 alpha-2 country code, e.g. DE.");
		return;
	}
	if (q != NULL && strlen(q) > 100) {
		resp_error_field(r, ERR_INVALID_REQUEST, "q",
		    "Must be at most 100 characters long.");
		return;
	}
	page_begin(r, &w);
	for (i = 0; i < institutions_count(); i++) {
		const struct institution *in = institution_at(i);

		if (country != NULL && strcasecmp(country, in->country) != 0)
			continue;
		if (q != NULL && !contains(in->name, q) && !contains(in->id, q) &&
		    !contains(in->bic, q))
			continue;
		write_institution(&w, in);
	}
	page_end(r, &w, NULL, 0);
}

void
h_institutions_get(struct req *r)
{
	const struct institution	*in = institution_find(req_param(r, 0));
	struct jw			 w;

	if (in == NULL) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	resp_begin(r, 200, &w);
	write_institution(&w, in);
}
