/*
 * resp: answering a request, and the error object of API.md (seed 000's
 * structure plus name and request_id).
 */
#include "http/http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

const char *
req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct jw *
resp_begin(struct req *r, int status, struct jw *w)
{
	buf_reset(&r->out);
	r->status = status;
	r->answered = 1;
	r->out_empty = 0;
	jw_init(w, &r->out);
	return w;
}

void
resp_empty(struct req *r, int status)
{
	buf_reset(&r->out);
	r->status = status;
	r->answered = 1;
	r->out_empty = 1;
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
