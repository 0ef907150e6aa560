/*
 * xs2a_bank: see xs2a_bank.h.
 */
#include "xs2a_bank.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "core/buf.h"

struct conn {
	struct buf	body;
};

struct prism_answer {
	long		 status;
	struct buf	 body;
	char		 ctype[128];
	char		 approach[32];
	char		 violations[2048];
};

static void
msleep(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fb_req	*r = cls;
	size_t		 o = strlen(r->headers), i;

	(void)kind;
	for (i = 0; key[i] != '\0' && o + 1 < sizeof(r->headers); i++)
		r->headers[o++] = (char)tolower((unsigned char)key[i]);
	r->headers[o] = '\0';
	snprintf(r->headers + o, sizeof(r->headers) - o, ": %s\n",
	    value ? value : "");
	return MHD_YES;
}

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fb_req	*r = cls;
	size_t		 o = strlen(r->query);

	(void)kind;
	snprintf(r->query + o, sizeof(r->query) - o, "%s%s=%s", o ? "&" : "",
	    key, value ? value : "");
	return MHD_YES;
}

const char *
fb_header(const struct fb_req *r, const char *name, char *out, size_t n)
{
	char		 want[128];
	const char	*p = r->headers;
	size_t		 i, wl;

	for (i = 0; name[i] != '\0' && i + 3 < sizeof(want); i++)
		want[i] = (char)tolower((unsigned char)name[i]);
	want[i++] = ':';
	want[i++] = ' ';
	want[i] = '\0';
	wl = strlen(want);
	while (*p != '\0') {
		size_t	len = strcspn(p, "\n");

		if (len >= wl && strncmp(p, want, wl) == 0) {
			snprintf(out, n, "%.*s", (int)(len - wl), p + wl);
			return out;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return NULL;
}

static size_t
on_prism_body(char *p, size_t size, size_t n, void *arg)
{
	struct prism_answer	*a = arg;

	buf_add(&a->body, p, size * n);
	return size * n;
}

/* Request violations of an sl-violations header value, as JSON text. */
static void
request_violations(const char *v, char *out, size_t n)
{
	json_t	*j = json_loads(v, 0, NULL), *e, *keep = json_array();
	size_t	 i;
	char	*s;

	json_array_foreach(j, i, e) {
		const char *loc = json_string_value(json_array_get(
		    json_object_get(e, "location"), 0));

		if (loc != NULL && strcmp(loc, "request") == 0)
			json_array_append(keep, e);
	}
	s = json_array_size(keep) ? json_dumps(keep, JSON_COMPACT) : NULL;
	snprintf(out, n, "%s", s ? s : "");
	free(s);
	json_decref(j);
	json_decref(keep);
}

static size_t
on_prism_header(char *p, size_t size, size_t n, void *arg)
{
	struct prism_answer	*a = arg;
	size_t			 len = size * n;
	char			 line[4096];

	snprintf(line, sizeof(line), "%.*s", (int)len, p);
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "sl-violations: ", 15) == 0)
		request_violations(line + 15, a->violations,
		    sizeof(a->violations));
	else if (strncasecmp(line, "content-type: ", 14) == 0)
		snprintf(a->ctype, sizeof(a->ctype), "%.100s", line + 14);
	else if (strncasecmp(line, "aspsp-sca-approach: ", 20) == 0)
		snprintf(a->approach, sizeof(a->approach), "%.20s", line + 20);
	return len;
}

/* Sends the request on to a Prism, as the connector sent it. */
static void
to_prism(const char *base, const struct fb_req *r, struct prism_answer *a)
{
	CURL			*c = curl_easy_init();
	struct curl_slist	*h = NULL;
	const char		*p = r->headers;
	char			 url[1200], line[1024];

	memset(a, 0, sizeof(*a));
	buf_init(&a->body, 16u << 20);
	snprintf(url, sizeof(url), "%s%s%s%s", base, r->path,
	    r->query[0] ? "?" : "", r->query);
	while (*p != '\0') {
		size_t	len = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strncmp(line, "host:", 5) != 0 &&
		    strncmp(line, "content-length:", 15) != 0 &&
		    strncmp(line, "connection:", 11) != 0 &&
		    strncmp(line, "accept-encoding:", 16) != 0)
			h = curl_slist_append(h, line);
		p += len;
		if (*p == '\n')
			p++;
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->len > 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_prism_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_prism_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* A transactions page of about n bytes (booked entries). */
static char *
big_page(size_t n, size_t *len)
{
	struct buf	b;
	size_t		i = 0;

	buf_init(&b, n + 4096);
	buf_addstr(&b, "{\"transactions\":{\"booked\":[");
	while (b.len < n) {
		buf_printf(&b, "%s{\"transactionId\":\"big-%zu\","
		    "\"bookingDate\":\"2026-01-05\",\"transactionAmount\":"
		    "{\"currency\":\"EUR\",\"amount\":\"-1.00\"},"
		    "\"remittanceInformationUnstructured\":\"filler filler "
		    "filler filler filler filler filler filler\"}",
		    i ? "," : "", i);
		i++;
	}
	buf_addstr(&b, "]}}");
	return buf_steal(&b, len);
}

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct fb		*fb = cls;
	struct conn		*c = *con_cls;
	struct fb_req		 r;
	struct fb_rule		*rule = NULL, chosen;
	struct prism_answer	 pa, pf;
	struct MHD_Response	*resp;
	enum MHD_Result		 rc;
	char			*body;
	size_t			 len, i;
	int			 status;

	(void)version;
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return MHD_NO;
		buf_init(&c->body, 64u << 20);
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		buf_add(&c->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.method, sizeof(r.method), "%s", method);
	snprintf(r.path, sizeof(r.path), "%s", url);
	MHD_get_connection_values(mc, MHD_HEADER_KIND, collect_header, &r);
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_query, &r);
	r.len = c->body.len;
	r.body = c->body.len ? strdup(c->body.p) : NULL;
	memset(&pa, 0, sizeof(pa));
	memset(&pf, 0, sizeof(pf));
	if (fb->prism_url[0] != '\0') {
		to_prism(fb->prism_url, &r, &pa);
		snprintf(r.violations, sizeof(r.violations), "%s", pa.violations);
		r.prism_status = (int)pa.status;
	}
	if (fb->prism_fixed_url[0] != '\0') {
		to_prism(fb->prism_fixed_url, &r, &pf);
		snprintf(r.violations_fixed, sizeof(r.violations_fixed), "%s",
		    pf.violations);
		buf_free(&pf.body);
	}
	pthread_mutex_lock(&fb->lock);
	for (i = 0; i < fb->nrules && rule == NULL; i++) {
		struct fb_rule	*x = &fb->rules[i];

		if ((x->method == NULL || strcmp(x->method, method) == 0) &&
		    fnmatch(x->path, url, 0) == 0 && x->uses >= 0)
			rule = x;
	}
	if (rule != NULL) {
		chosen = *rule;
		if (rule->uses > 0 && --rule->uses == 0)
			rule->uses = -1;	/* used up */
	}
	if (fb->nreqs < FB_REQS)
		fb->reqs[fb->nreqs++] = r;
	else
		free(r.body);
	pthread_mutex_unlock(&fb->lock);
	if (rule == NULL && fb->prism_url[0] != '\0' && pa.status != 0) {
		/* Prism's own mock answer. */
		body = buf_steal(&pa.body, &len);
		if (body == NULL) {
			body = strdup("");
			len = 0;
		}
		resp = MHD_create_response_from_buffer(len, body,
		    MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", pa.ctype[0] ?
		    pa.ctype : "application/json");
		if (pa.approach[0] != '\0')
			MHD_add_response_header(resp, "ASPSP-SCA-Approach",
			    pa.approach);
		rc = MHD_queue_response(mc, (unsigned)pa.status, resp);
		MHD_destroy_response(resp);
		return rc;
	}
	buf_free(&pa.body);
	if (rule == NULL) {
		memset(&chosen, 0, sizeof(chosen));
		chosen.status = 404;
		chosen.body = "{\"tppMessages\":[{\"category\":\"ERROR\","
		    "\"code\":\"RESOURCE_UNKNOWN\",\"text\":\"no rule\"}]}";
	}
	if (chosen.delay_ms > 0)
		msleep(chosen.delay_ms);
	if (chosen.body != NULL) {
		body = strdup(chosen.body);
		len = strlen(body);
	} else if (chosen.big > 0)
		body = big_page(chosen.big, &len);
	else {
		body = strdup("");
		len = 0;
	}
	status = chosen.status;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", chosen.ctype ?
	    chosen.ctype : "application/json");
	if (chosen.header != NULL) {
		char	name[128];
		size_t	nl = strcspn(chosen.header, ":");

		snprintf(name, sizeof(name), "%.*s", (int)nl, chosen.header);
		MHD_add_response_header(resp, name, chosen.header + nl + 2);
	}
	rc = MHD_queue_response(mc, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void
on_done(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn	*c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (c != NULL) {
		buf_free(&c->body);
		free(c);
	}
	*con_cls = NULL;
}

void
fb_start(struct fb *fb)
{
	struct sockaddr_in		 sa;
	const union MHD_DaemonInfo	*info;

	pthread_mutex_init(&fb->lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fb->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, on_req, fb,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, fb,
	    MHD_OPTION_CONNECTION_LIMIT, 2000u,
	    MHD_OPTION_END);
	assert_non_null(fb->d);
	info = MHD_get_daemon_info(fb->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	fb->port = info->port;
}

void
fb_stop(struct fb *fb)
{
	if (fb->d != NULL)
		MHD_stop_daemon(fb->d);
	fb->d = NULL;
	fb_reset(fb);
}

void
fb_reset(struct fb *fb)
{
	size_t	i;

	pthread_mutex_lock(&fb->lock);
	for (i = 0; i < fb->nreqs; i++)
		free(fb->reqs[i].body);
	fb->nreqs = 0;
	fb->nrules = 0;
	pthread_mutex_unlock(&fb->lock);
}

void
fb_rule(struct fb *fb, const struct fb_rule *r)
{
	pthread_mutex_lock(&fb->lock);
	assert_true(fb->nrules < FB_RULES);
	fb->rules[fb->nrules++] = *r;
	pthread_mutex_unlock(&fb->lock);
}

void
fb_url(const struct fb *fb, char *out, size_t n)
{
	snprintf(out, n, "http://127.0.0.1:%d", fb->port);
}

int
fb_get(struct fb *fb, size_t i, struct fb_req *out)
{
	int	rc = -1;

	pthread_mutex_lock(&fb->lock);
	if (i < fb->nreqs) {
		*out = fb->reqs[i];
		out->body = NULL;	/* copy below */
		if (fb->reqs[i].body != NULL)
			out->body = strdup(fb->reqs[i].body);
		rc = 0;
	}
	pthread_mutex_unlock(&fb->lock);
	return rc;
}

size_t
fb_count(struct fb *fb)
{
	size_t	n;

	pthread_mutex_lock(&fb->lock);
	n = fb->nreqs;
	pthread_mutex_unlock(&fb->lock);
	return n;
}
