/*
 * resp: answering a request, and the error object of API.md (seed 000's
 * structure plus name and request_id).
 */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

/* The first header field called name (case-insensitive), or NULL. */
const char *
req_header(struct req *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nfields; i++)
		if (strcasecmp(r->fname[i], name) == 0)
			return r->fvalue[i];
	return NULL;
}

/*
 * Splits the query into decoded arguments, once: "+" is a space, %XX a
 * byte; an argument whose escapes are bad keeps its text as it came.  A
 * key without "=" has the value "".
 */
static void
query_parse(struct req *r)
{
	const char	*p = r->query, *end;
	char		*o;

	r->qparsed = 1;
	if (p == NULL || (r->qbuf = malloc(2 * strlen(p) + 2)) == NULL)
		return;
	end = p + strlen(p);
	o = r->qbuf;
	while (p < end && r->nargs < REQ_MAX_ARGS) {
		const char	*amp = memchr(p, '&', (size_t)(end - p));
		const char	*pe = amp != NULL ? amp : end;
		const char	*eq = memchr(p, '=', (size_t)(pe - p));
		const char	*ke = eq != NULL ? eq : pe;
		const char	*v = eq != NULL ? eq + 1 : pe;
		size_t		 room = (size_t)(ke - p) + 1;

		if (ke > p) {
			if (form_decode(p, (size_t)(ke - p), o, room) == -1)
				snprintf(o, room, "%.*s", (int)(ke - p), p);
			r->qkey[r->nargs] = o;
			o += strlen(o) + 1;
			room = (size_t)(pe - v) + 1;
			if (form_decode(v, (size_t)(pe - v), o, room) == -1)
				snprintf(o, room, "%.*s", (int)(pe - v), v);
			r->qval[r->nargs++] = o;
			o += strlen(o) + 1;
		}
		p = pe + 1;
	}
}

/* The first query argument called name, decoded, or NULL. */
const char *
req_query(struct req *r, const char *name)
{
	size_t	i;

	if (!r->qparsed)
		query_parse(r);
	for (i = 0; i < r->nargs; i++)
		if (strcmp(r->qkey[i], name) == 0)
			return r->qval[i];
	return NULL;
}

/*
 * Starts an answer over whatever was answered before: no body, no error
 * code, and no Content-Type that resp_text() set.
 */
static void
answer(struct req *r, int status, int out_empty)
{
	size_t	i;

	buf_reset(&r->out);
	rblob_unref(r->body_ref);
	r->body_ref = NULL;
	r->status = status;
	r->answered = 1;
	r->out_empty = out_empty;
	r->err_code = 0;
	for (i = 0; i < r->nhdrs; i++)
		if (strcmp(r->hdr_name[i], "Content-Type") == 0) {
			free(r->hdr_value[i]);
			r->nhdrs--;
			r->hdr_name[i] = r->hdr_name[r->nhdrs];
			r->hdr_value[i] = r->hdr_value[r->nhdrs];
			break;
		}
}

struct jw *
resp_begin(struct req *r, int status, struct jw *w)
{
	answer(r, status, 0);
	jw_init(w, &r->out);
	return w;
}

void
resp_empty(struct req *r, int status)
{
	answer(r, status, 1);
}

void
resp_blob(struct req *r, int status, struct rblob *b)
{
	answer(r, status, 0);
	r->body_ref = b;
}

void
resp_text(struct req *r, int status, const char *content_type,
    const char *body, size_t len)
{
	answer(r, status, 1);
	resp_header(r, "Content-Type", content_type);
	if (buf_add(&r->out, body, len) == -1)
		resp_internal(r, "answer larger than its buffer");
}

void
resp_header(struct req *r, const char *name, const char *value)
{
	size_t	i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcmp(r->hdr_name[i], name) == 0) {
			free(r->hdr_value[i]);
			r->hdr_value[i] = strdup(value);
			return;
		}
	if (r->nhdrs >= REQ_MAX_HEADERS)
		return;
	r->hdr_name[r->nhdrs] = name;
	r->hdr_value[r->nhdrs] = strdup(value);
	if (r->hdr_value[r->nhdrs] != NULL)
		r->nhdrs++;
}

void
resp_error(struct req *r, enum err e, const char *data, const char *message)
{
	const struct err_info	*ei = err_info(e);
	struct jw		 w;

	resp_begin(r, ei->http, &w);
	r->err_code = ei->code;
	/* Retryable answers say when to come back; callers may set it first. */
	if (ei->retryable) {
		size_t i;
		int have = 0;

		for (i = 0; i < r->nhdrs; i++)
			if (strcmp(r->hdr_name[i], "Retry-After") == 0)
				have = 1;
		if (!have)
			resp_header(r, "Retry-After", ei->http == 500 ? "5" : "1");
	}
	jw_obj(&w);
	jw_key(&w, "error");
	error_object_write(&w, e, data, message, r->request_id);
	jw_obj_end(&w);
}

void
resp_error_field(struct req *r, enum err e, const char *field,
    const char *fmt, ...)
{
	json_t	*data;
	char	 msg[512], *s;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	data = json_pack("{s:[s]}", field, msg);
	s = data ? json_dumps(data, JSON_COMPACT) : NULL;
	resp_error(r, e, s, NULL);
	free(s);
	json_decref(data);
}

void
resp_internal(struct req *r, const char *why)
{
	log_peer(LOG_ERROR, r->client_id[0] != '\0',
	    "msg=\"internal error\" request_id=%s reason=\"%s\"",
	    r->request_id, why);
	resp_error(r, ERR_INTERNAL_ERROR, NULL, NULL);
}
