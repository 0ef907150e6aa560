/*
 * Every route of the HTTP API, in one table: method, path pattern,
 * handler, and what the edge must check before the handler runs.
 * A literal path must come before a pattern that would also match it.
 */
#include "api/api.h"
#include "http/http.h"
#include "web/web.h"

#define AUTH	RT_AUTH
#define JSON	RT_JSON
#define IDEM	(RT_IDEMPOTENT | RT_AUTH)

const struct route routes[] = {
	{ "GET",	"/health",			h_health,		0 },
	{ "POST",	"/oauth/token",			h_oauth_token,		0 },
	{ "GET",	"/metrics",			h_metrics,		RT_METRICS },
	{ "GET",	"/v1/errors",			h_errors_list,		0 },
	{ "GET",	"/v1/institutions",		h_institutions_list,	AUTH },
	{ "GET",	"/v1/institutions/{id}",	h_institutions_get,	AUTH },
	{ "POST",	"/v1/users",			h_users_create,		IDEM | JSON },
	{ "GET",	"/v1/users",			h_users_list,		AUTH },
	{ "GET",	"/v1/users/{id}",		h_users_get,		AUTH },
	{ "DELETE",	"/v1/users/{id}",		h_users_delete,		AUTH },
	{ "POST",	"/v1/users/{id}/statements",	h_users_statements,	IDEM | RT_UPLOAD },
	{ "POST",	"/v1/connections",		h_connections_create,	IDEM | JSON },
	{ "GET",	"/v1/connections",		h_connections_list,	AUTH },
	{ "GET",	"/v1/connections/{id}",		h_connections_get,	AUTH },
	{ "DELETE",	"/v1/connections/{id}",		h_connections_delete,	AUTH },
	{ "POST",	"/v1/connections/{id}/sessions", h_connections_new_session, IDEM | JSON },
	{ "POST",	"/v1/connections/{id}/sync",	h_connections_sync,	IDEM | JSON },
	{ "GET",	"/v1/sessions/{id}",		h_sessions_get,		AUTH },
	{ "POST",	"/v1/sessions/{id}/answers",	h_sessions_answer,	IDEM | JSON },
	{ "GET",	"/v1/callback/xs2a",		h_callback_xs2a,	0 },
	{ "GET",	"/v1/tasks/{id}",		h_tasks_get,		AUTH },
	{ "GET",	"/v1/accounts",			h_accounts_list,	AUTH },
	{ "GET",	"/v1/accounts/{id}",		h_accounts_get,		AUTH },
	{ "GET",	"/v1/accounts/{id}/transactions", h_accounts_transactions, AUTH },
	{ "GET",	"/v1/transactions/sync",	h_transactions_sync,	AUTH },
	{ "PUT",	"/v1/webhook",			h_webhook_put,		AUTH | JSON },
	{ "GET",	"/v1/webhook",			h_webhook_get,		AUTH },
	{ "DELETE",	"/v1/webhook",			h_webhook_delete,	AUTH },
	{ "POST",	"/v1/connect_tokens",		h_connect_tokens_create, IDEM | JSON },
	/* Pages for browsers (src/web): no bearer token, a session cookie. */
	{ "GET",	"/connect",			h_connect_get,		0 },
	{ "POST",	"/connect",			h_connect_post,		RT_FORM },
	{ "GET",	"/assets/{name}",		h_web_asset,		0 },
	{ "GET",	"/dashboard",			h_dashboard_get,	0 },
	{ "POST",	"/dashboard/login",		h_dashboard_login,	RT_FORM },
	{ "POST",	"/dashboard/logout",		h_dashboard_logout,	RT_FORM },
	{ "POST",	"/dashboard/webhooks/resend",	h_dashboard_resend,	RT_FORM },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
_Static_assert(sizeof(routes) / sizeof(routes[0]) <= ROUTES_MAX,
    "raise ROUTES_MAX in http.h");
