/*
 * bankfeed sandbox-bank: the Sandbox Bank behind a Berlin Group
 * NextGenPSD2 (XS2A, AIS) interface over HTTP, so that an XS2A connector
 * can link to it through a real socket.  This file: the command, its
 * routes table, the in-memory consent store and the answers every route
 * shares (tppMessages errors, X-Request-ID, links).
 *
 * It lives in banks/ although it speaks HTTP: it is a bank, seen from the
 * other side.  It runs in a process of its own (bankfeed's HTTP server
 * with this routes table, router_use()), never inside bankfeed serve.
 */
#include "banks/xs2a_bank.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banks/sandbox.h"
#include "banks/xs2a_bank_int.h"
#include "banks/xs2a_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/day.h"
#include "core/log.h"
#include "http/http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Answers go out --latency-ms late; the reads see to it themselves. */
#define LATE(h) static void late_##h(struct req *r) { h(r); xb_hold(r, 0); }
LATE(xb_h_consents_create)
LATE(xb_h_consent_get)
LATE(xb_h_consent_delete)
LATE(xb_h_consent_status)
LATE(xb_h_auth_start)
LATE(xb_h_auth_list)
LATE(xb_h_auth_get)
LATE(xb_h_auth_update)
LATE(xb_h_page_get)
LATE(xb_h_page_post)
#undef LATE

static const struct route xb_routes[] = {
	{ "POST",	"/v1/consents",		late_xb_h_consents_create, 0 },
	{ "GET",	"/v1/consents/{id}",	late_xb_h_consent_get, 0 },
	{ "DELETE",	"/v1/consents/{id}",	late_xb_h_consent_delete, 0 },
	{ "GET",	"/v1/consents/{id}/status", late_xb_h_consent_status, 0 },
	{ "POST",	"/v1/consents/{id}/authorisations", late_xb_h_auth_start, 0 },
	{ "GET",	"/v1/consents/{id}/authorisations", late_xb_h_auth_list, 0 },
	{ "GET",	"/v1/consents/{id}/authorisations/{aid}",
	    late_xb_h_auth_get, 0 },
	{ "PUT",	"/v1/consents/{id}/authorisations/{aid}",
	    late_xb_h_auth_update, 0 },
	{ "GET",	"/v1/accounts",		xb_h_accounts, 0 },
	{ "GET",	"/v1/accounts/{id}",	xb_h_account, 0 },
	{ "GET",	"/v1/accounts/{id}/balances", xb_h_balances, 0 },
	{ "GET",	"/v1/accounts/{id}/transactions", xb_h_transactions, 0 },
	{ "GET",	"/sandbox/authorise",	late_xb_h_page_get, 0 },
	{ "POST",	"/sandbox/authorise",	late_xb_h_page_post, 0 },
};

/* ---- the consent store ---- */

static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static struct xb_consent	*consents[XB_CONSENTS_MAX];
static size_t			 nconsents;

void
xb_lock(void)
{
	pthread_mutex_lock(&lock);
}

void
xb_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

long
xb_today(void)
{
	return day_from_unix(clock_now());
}

void
xb_auth_clear(struct xb_auth *a)
{
	size_t	i;

	free(a->state);
	a->state = NULL;
	free(a->chal);
	a->chal = NULL;
	a->nchal = 0;
	for (i = 0; i < a->nans; i++)
		sodium_free(a->ans[i]);
	a->nans = 0;
}

static void
consent_free(struct xb_consent *c)
{
	size_t	i;

	for (i = 0; i < c->nauth; i++) {
		xb_auth_clear(c->auth[i]);
		free(c->auth[i]);
	}
	free(c->state_read);
	free(c->state_next);
	free(c);
}

struct xb_consent *
xb_consent_find(const char *id)
{
	size_t	i;

	for (i = 0; i < nconsents; i++)
		if (strcmp(consents[i]->id, id) == 0) {
			consents[i]->touched = clock_mono();
			return consents[i];
		}
	return NULL;
}

struct xb_consent *
xb_consent_new(void)
{
	struct xb_consent	*c;
	size_t			 i, old = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (nconsents == XB_CONSENTS_MAX) {
		for (i = 1; i < nconsents; i++)
			if (consents[i]->touched < consents[old]->touched)
				old = i;
		consent_free(consents[old]);
		consents[old] = consents[--nconsents];
	}
	id_new("cns", c->id);
	c->status = CST_RECEIVED;
	c->touched = clock_mono();
	c->last_action = xb_today();
	consents[nconsents++] = c;
	return c;
}

struct xb_auth *
xb_auth_find(struct xb_consent *c, const char *id, struct xb_consent **owner)
{
	size_t	i, j;

	for (i = 0; i < nconsents; i++) {
		if (c != NULL && consents[i] != c)
			continue;
		for (j = 0; j < consents[i]->nauth; j++)
			if (strcmp(consents[i]->auth[j]->id, id) == 0) {
				if (owner != NULL)
					*owner = consents[i];
				consents[i]->touched = clock_mono();
				return consents[i]->auth[j];
			}
	}
	return NULL;
}

struct xb_auth *
xb_auth_new(struct xb_consent *c)
{
	struct xb_auth	*a;

	if (c->nauth == XB_AUTHS_MAX || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	id_new("sca", a->id);
	a->sca = SCA_RECEIVED;
	c->auth[c->nauth++] = a;
	return a;
}

static void
store_free(void)
{
	xb_lock();
	while (nconsents > 0)
		consent_free(consents[--nconsents]);
	xb_unlock();
}

/* ---- names ---- */

const char *
xb_cstatus_name(enum xb_cstatus s)
{
	static const char *const n[] = { [CST_RECEIVED] = "received",
	    [CST_REJECTED] = "rejected", [CST_VALID] = "valid",
	    [CST_EXPIRED] = "expired", [CST_TERMINATED] = "terminatedByTpp" };

	return n[s];
}

const char *
xb_sca_name(enum xb_sca s)
{
	static const char *const n[] = { [SCA_RECEIVED] = "received",
	    [SCA_PSU_IDENTIFIED] = "psuIdentified",
	    [SCA_PSU_AUTHENTICATED] = "psuAuthenticated",
	    [SCA_METHOD_SELECTED] = "scaMethodSelected",
	    [SCA_STARTED] = "started", [SCA_FINALISED] = "finalised",
	    [SCA_FAILED] = "failed" };

	return n[s];
}

const char *
xb_approach_name(enum xb_approach a)
{
	static const char *const n[] = { [XB_EMBEDDED] = "EMBEDDED",
	    [XB_DECOUPLED] = "DECOUPLED", [XB_REDIRECT] = "REDIRECT" };

	return n[a];
}

/* ---- answers ---- */

void
xb_copy(char *out, size_t n, const char *s)
{
	size_t	len = strlen(s);

	if (len >= n) {
		len = n - 1;
		/* Not inside a UTF-8 sequence: back off its continuation bytes. */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

void
xb_error(struct req *r, int http, const char *code, const char *path,
    const char *text)
{
	struct jw	w;
	char		t[501];

	resp_begin(r, http, &w);
	jw_obj(&w);
	jw_key(&w, "tppMessages");
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "category", "ERROR");
	jw_kstr(&w, "code", code);
	if (path != NULL)
		jw_kstr(&w, "path", path);
	if (text != NULL && *text != '\0') {
		xb_copy(t, sizeof(t), text);	/* tppMessageText: 500 */
		jw_kstr(&w, "text", t);
	}
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (http == 503)
		resp_header(r, "Retry-After", "60");
}

void
xb_error_entry(struct req *r, const struct bank_error *be)
{
	const struct xs2a_code	*c = xs2a_code_fwd(be->code);

	if (c == NULL) {
		/* Not one a bank causes: the connector's own failure. */
		log_error("msg=\"sandbox-bank: no XS2A answer for an entry\" "
		    "entry=%s", be->code > 0 && be->code < ERR__COUNT ?
		    err_name(be->code) : "?");
		xb_error(r, 500, "INTERNAL_SERVER_ERROR", NULL,
		    "The request cannot be processed.");
		return;
	}
	if (c->code[0] == '\0') {
		/* A gateway's HTML page, not the interface's JSON. */
		static const char page[] = "<html><head><title>502 Bad Gateway"
		    "</title></head><body><h1>Bad Gateway</h1></body></html>\n";

		resp_text(r, c->http, "text/html", page, sizeof(page) - 1);
		return;
	}
	xb_error(r, c->http, c->code, c->path[0] != '\0' ? c->path : NULL,
	    be->message[0] != '\0' ?
	    be->message : c->text);
}

/* 8-4-4-4-12 hex digits. */
static int
uuid_ok(const char *s)
{
	static const char	shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t			i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == '-' ? s[i] != '-' :
		    !isxdigit((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

int
xb_request_ok(struct req *r)
{
	const char	*id = req_header(r, "X-Request-ID");

	if (id != NULL && uuid_ok(id))
		return 0;
	xb_error(r, 400, "FORMAT_ERROR", "X-Request-ID", id == NULL ?
	    "The header X-Request-ID is missing." :
	    "The header X-Request-ID must be a UUID.");
	return -1;
}

int
xb_body(struct req *r, json_t **out)
{
	json_error_t	 e;
	char		 msg[256];

	*out = NULL;
	if (r->body.len == 0) {
		*out = json_object();
		return *out != NULL ? 0 : -1;
	}
	*out = json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &e);
	if (*out != NULL && json_is_object(*out))
		return 0;
	json_decref(*out);
	*out = NULL;
	snprintf(msg, sizeof(msg), "The body is not a JSON object (line %d, "
	    "column %d).", e.line, e.column);
	xb_error(r, 400, "FORMAT_ERROR", NULL, msg);
	return -1;
}

int
xb_bool_header(struct req *r, const char *name)
{
	const char	*v = req_header(r, name);
	char		 msg[128];

	if (v == NULL)
		return -1;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	snprintf(msg, sizeof(msg), "The header %s must be true or false.",
	    name);
	xb_error(r, 400, "FORMAT_ERROR", name, msg);
	return -2;
}

void
xb_link(struct jw *w, const char *name, const char *fmt, ...)
{
	char	href[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(href, sizeof(href), fmt, ap);
	va_end(ap);
	jw_key(w, name);
	jw_obj(w);
	jw_kstr(w, "href", href);
	jw_obj_end(w);
}

/* http://HOST:PORT of the listening socket, "" when it listens on all. */
static char	listen_base[128];

static void
set_listen_base(const char *host, int port)
{
	if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0)
		listen_base[0] = '\0';
	else if (strchr(host, ':') != NULL)
		snprintf(listen_base, sizeof(listen_base), "http://[%s]:%d",
		    host, port);
	else
		snprintf(listen_base, sizeof(listen_base), "http://%s:%d",
		    host, port);
}

/*
 * The socket's own address when it listens on one; else the Host the
 * request names, when it is a plain host[:port].  Not the Host alone: a
 * proxy in front (Prism) may name itself.
 */
void
xb_base_url(struct req *r, char *out, size_t n)
{
	const char	*h = req_header(r, "Host");
	size_t		 i;

	if (listen_base[0] != '\0' || h == NULL || *h == '\0' ||
	    strlen(h) > 100) {
		snprintf(out, n, "%s", listen_base[0] != '\0' ? listen_base :
		    "http://localhost");
		return;
	}
	for (i = 0; h[i] != '\0'; i++)
		if (!isalnum((unsigned char)h[i]) && strchr(".-:[]", h[i]) == NULL) {
			snprintf(out, n, "http://localhost");
			return;
		}
	snprintf(out, n, "http://%s", h);
}

/* ---- the command ---- */

static void
no_waiters(void)
{
}

int
xs2a_bank_cmd(int argc, char **argv)
{
	struct server	*srv;
	sigset_t	 set;
	enum log_level	 lvl;
	long long	 latency = 0;
	char		*end;
	int		 i, sig;

	if (config_load(&argc, argv) == -1)
		return 2;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--latency-ms") == 0 && i + 1 < argc) {
			latency = strtoll(argv[++i], &end, 10);
			if (*end == '\0' && latency >= 0 && latency <= 600000)
				continue;
		}
		fprintf(stderr, "usage: bankfeed sandbox-bank [--listen "
		    "HOST:PORT] [--latency-ms MS] [server options]\n");
		config_free();
		return 2;
	}
	if (log_level_parse(cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The connector must not wait: user_slow's wait is the answer's. */
	sandbox_set_slow_ms(0);
	xb_set_slow_ms(cfg.sandbox_slow_ms);
	xb_set_latency_ms(latency);
	router_use(xb_routes, NELEM(xb_routes));
	if (server_start(&srv, cfg.host, cfg.port) == -1) {
		fprintf(stderr, "bankfeed sandbox-bank: cannot listen on %s\n",
		    cfg.listen);
		config_free();
		return 1;
	}
	set_listen_base(cfg.host, server_port(srv));
	log_info("msg=\"sandbox-bank listening\" host=%s port=%d", cfg.host,
	    server_port(srv));
	printf("bankfeed sandbox-bank: listening on http://%s:%d\n", cfg.host,
	    server_port(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	server_stop(srv, (int)cfg.shutdown_grace, no_waiters);
	store_free();
	config_free();
	return 0;
}
