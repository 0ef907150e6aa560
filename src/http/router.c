/*
 * router: finds the route of a request in the routes table (api/routes.c).
 * A pattern is a path whose "{name}" segments match any one non-empty
 * segment; the matched values become the request's params, in order.
 * Routes are tried in table order, so a literal path listed before a
 * pattern that also matches it wins.
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"

/* Whether path matches pattern; fills params (pointing into scratch). */
static int
match(const char *pattern, const char *path, char *scratch,
    const char **params, size_t *nparams)
{
	const char	*p = pattern;
	char		*s = scratch;

	memcpy(scratch, path, strlen(path) + 1);	/* scratch has room */
	*nparams = 0;
	for (;;) {
		size_t	pl = strcspn(p, "/"), sl = strcspn(s, "/");
		int	last_p = p[pl] == '\0', last_s = s[sl] == '\0';

		if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (sl == 0 || *nparams >= REQ_MAX_PARAMS)
				return 0;
			params[(*nparams)++] = s;
		} else if (pl != sl || strncmp(p, s, pl) != 0)
			return 0;
		if (last_p || last_s) {
			if (last_p != last_s)
				return 0;
			s[sl] = '\0';
			return 1;
		}
		s[sl] = '\0';
		p += pl + 1;
		s += sl + 1;
	}
}

/* The table requests are matched against: api/routes.c's by default. */
static const struct route	*table;
static size_t			 ntable;

void
router_use(const struct route *t, size_t n)
{
	table = t;
	ntable = n;
}

enum route_match
router_match(struct req *r, char *allow, size_t allowlen)
{
	const struct route *rt = table != NULL ? table : routes;
	size_t		 nrt = table != NULL ? ntable : nroutes;
	const char	*params[REQ_MAX_PARAMS];
	size_t		 i, n, plen = strlen(r->url), alen = 0;
	int		 path_known = 0;
	char		*scratch;

	allow[0] = '\0';
	r->route = NULL;
	if ((scratch = malloc(plen + 1)) == NULL)
		return ROUTE_NO_PATH;
	for (i = 0; i < nrt; i++) {
		/* Turned off, /metrics is a path like any unknown one. */
		if ((rt[i].flags & RT_METRICS) && (cfg.metrics_token == NULL ||
		    cfg.metrics_token[0] == '\0'))
			continue;
		if (!match(rt[i].pattern, r->url, scratch, params, &n))
			continue;
		if (strcmp(rt[i].method, r->method) == 0) {
			r->route = &rt[i];
			memcpy(r->params, params, sizeof(params));
			r->param_buf = scratch;
			return ROUTE_FOUND;
		}
		path_known = 1;
		if (strstr(allow, rt[i].method) == NULL &&
		    alen + strlen(rt[i].method) + 3 < allowlen) {
			if (alen > 0) {
				memcpy(allow + alen, ", ", 2);
				alen += 2;
			}
			memcpy(allow + alen, rt[i].method,
			    strlen(rt[i].method) + 1);
			alen += strlen(rt[i].method);
		}
	}
	free(scratch);
	return path_known ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

const char *
req_param(struct req *r, size_t i)
{
	return i < REQ_MAX_PARAMS ? r->params[i] : NULL;
}
