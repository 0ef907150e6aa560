/*
 * libFuzzer target: what the pages for browsers (src/web) read from a
 * request: the Cookie header, Accept-Language, the fields of a form body,
 * and the HTML escaping of whatever comes back.  The input is split at
 * its first two NUL bytes into a Cookie value, an Accept-Language value
 * and a form body.  Whatever the bytes: a cookie value found has no ';',
 * the language is one of the pages', every field is valid UTF-8 or left
 * out by jansson, and escaped text holds no raw < > " ' characters.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "web/web.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req	 r;
	struct buf	 b;
	char		*in = malloc(size + 1), *cookie, *lang, *body, *end;
	char		 out[128];
	json_t		*f;
	const char	*k;
	json_t		*v;
	size_t		 i;
	enum web_lang	 l;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	end = in + size;
	cookie = in;
	lang = memchr(in, '\0', size);
	lang = lang != NULL ? lang + 1 : end;
	body = memchr(lang, '\0', (size_t)(end - lang));
	body = body != NULL ? body + 1 : end;
	memset(&r, 0, sizeof(r));
	r.fname[0] = "Cookie";
	r.fvalue[0] = cookie;
	r.fname[1] = "Accept-Language";
	r.fvalue[1] = lang;
	r.nfields = 2;
	r.body.p = body;
	r.body.len = (size_t)(end - body);
	if (web_cookie(&r, "bf_connect", out, sizeof(out)) == 0 &&
	    strchr(out, ';') != NULL)
		abort();
	l = web_lang_pick(&r, NULL);
	if (l >= LANG__COUNT || web_lang_parse(web_lang_code(l), &l) != 0)
		abort();
	f = web_form_fields(&r, "a_");
	buf_init(&b, 64 * size + 1024);
	json_object_foreach(f, k, v) {
		web_esc(&b, k);
		web_esc(&b, json_string_value(v));
	}
	web_fmt(&b, l, WS_CRED_H, cookie, lang);
	for (i = 0; i < b.len; i++)
		if (strchr("<>\"'", b.p[i]) != NULL &&
		    b.p[i] != '\0')
			abort();
	buf_free(&b);
	json_decref(f);
	free(in);
	return 0;
}
