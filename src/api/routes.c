/*
 * Every route of the HTTP API, in one table: method, path pattern,
 * handler, and what the edge must check before the handler runs.
 * A literal path must come before a pattern that would also match it.
 */
#include "api/api.h"
#include "http/http.h"

#define AUTH	RT_AUTH
#define JSON	RT_JSON
#define IDEM	(RT_IDEMPOTENT | RT_AUTH)

const struct route routes[] = {
	{ "GET",	"/health",			h_health,		0 },
	{ "POST",	"/oauth/token",			h_oauth_token,		0 },
	{ "GET",	"/v1/errors",			h_errors_list,		0 },
	{ "GET",	"/v1/institutions",		h_institutions_list,	AUTH },
	{ "GET",	"/v1/institutions/{id}",	h_institutions_get,	AUTH },
	{ "POST",	"/v1/users",			h_users_create,		IDEM | JSON },
	{ "GET",	"/v1/users",			h_users_list,		AUTH },
	{ "GET",	"/v1/users/{id}",		h_users_get,		AUTH },
	{ "DELETE",	"/v1/users/{id}",		h_users_delete,		AUTH },
	{ "PUT",	"/v1/webhook",			h_webhook_put,		AUTH | JSON },
	{ "GET",	"/v1/webhook",			h_webhook_get,		AUTH },
	{ "DELETE",	"/v1/webhook",			h_webhook_delete,	AUTH },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
