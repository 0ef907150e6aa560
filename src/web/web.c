/*
 * web.c: what the Connect page and the dashboard share (web.h).
 */
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vault.h"
#include "http/http.h"
#include "store/store.h"

static const char *const strings[WS__COUNT][LANG__COUNT] = {
#define S(id, en, de, fr, nl) [WS_##id] = { en, de, fr, nl },
#include "web/strings.def"
#undef S
};

static const char *const codes[LANG__COUNT] = { "en", "de", "fr", "nl" };

const char *
web_t(enum web_lang l, enum web_str s)
{
	return strings[s][l];
}

const char *
web_lang_code(enum web_lang l)
{
	return codes[l];
}

int
web_lang_parse(const char *code, enum web_lang *out)
{
	int	i;

	for (i = 0; code != NULL && i < LANG__COUNT; i++)
		if (strncasecmp(code, codes[i], 2) == 0 && (code[2] == '\0' ||
		    code[2] == '-' || code[2] == '_')) {
			*out = (enum web_lang)i;
			return 0;
		}
	return -1;
}

/*
 * Accept-Language: the language of the highest q that the pages have
 * (ties: the first listed); "de-AT" counts as "de".
 */
enum web_lang
web_lang_pick(struct req *r, const char *asked)
{
	const char	*h = req_header(r, "Accept-Language"), *p;
	enum web_lang	 l, best = LANG_EN;
	double		 bestq = -1;

	if (asked != NULL && web_lang_parse(asked, &l) == 0)
		return l;
	for (p = h; p != NULL && *p != '\0';) {
		size_t		 n = strcspn(p, ",");
		char		 item[64];
		const char	*q;
		double		 qv = 1.0;

		snprintf(item, sizeof(item), "%.*s", (int)(n < 63 ? n : 63), p);
		p += n;
		if (*p == ',')
			p++;
		if ((q = strstr(item, ";q=")) != NULL)
			qv = strtod(q + 3, NULL);
		if (web_lang_parse(item + strspn(item, " \t"), &l) == 0 &&
		    qv > bestq && qv > 0) {
			best = l;
			bestq = qv;
		}
	}
	return best;
}

void
web_esc(struct buf *b, const char *s)
{
	const char	*p;

	for (p = s; p != NULL && *p != '\0'; p++) {
		switch (*p) {
		case '&': buf_addstr(b, "&amp;"); break;
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&#39;"); break;
		default: buf_add(b, p, 1);
		}
	}
}

void
web_fmt(struct buf *b, enum web_lang l, enum web_str s, const char *a1,
    const char *a2)
{
	const char	*p = web_t(l, s);

	while (*p != '\0') {
		if (p[0] == '{' && (p[1] == '1' || p[1] == '2') && p[2] == '}') {
			web_esc(b, p[1] == '1' ? a1 : a2);
			p += 3;
			continue;
		}
		buf_add(b, p, 1);
		p++;
	}
}

void
web_page_begin(struct buf *b, enum web_lang l, const char *title,
    const char *script)
{
	buf_printf(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\">\n<meta name=\"referrer\" "
	    "content=\"no-referrer\">\n", web_lang_code(l));
	buf_addstr(b, "<title>");
	web_esc(b, title);
	buf_addstr(b, "</title>\n<link rel=\"stylesheet\" href=\"/assets/"
	    "web.css\">\n");
	if (script != NULL)
		buf_printf(b, "<script src=\"/assets/%s\" defer></script>\n",
		    script);
	buf_addstr(b, "</head>\n<body>\n<main id=\"main\">\n");
}

void
web_page_end(struct buf *b)
{
	buf_addstr(b, "</main>\n</body>\n</html>\n");
}

void
web_send(struct req *r, int status, struct buf *b, const char *frame_ancestors,
    int err)
{
	char	csp[1024];

	snprintf(csp, sizeof(csp), "default-src 'none'; script-src 'self'; "
	    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	    "form-action 'self'; base-uri 'none'; frame-ancestors %s",
	    frame_ancestors != NULL && *frame_ancestors != '\0' ?
	    frame_ancestors : "'none'");
	resp_text(r, status, "text/html; charset=utf-8", b->p != NULL ? b->p :
	    "", b->len);
	resp_header(r, "Content-Security-Policy", csp);
	resp_header(r, "X-Content-Type-Options", "nosniff");
	resp_header(r, "Referrer-Policy", "no-referrer");
	r->err_code = err;
}

int
web_wants_html(struct req *r)
{
	const char	*a = req_header(r, "Accept");

	return a != NULL && strstr(a, "text/html") != NULL;
}

void
web_redirect(struct req *r, const char *location)
{
	resp_empty(r, 303);
	resp_header(r, "Location", location);
}

int
web_cookie(struct req *r, const char *name, char *out, size_t outn)
{
	size_t		 i, nl = strlen(name);

	for (i = 0; i < r->nfields; i++) {
		const char	*p = r->fvalue[i];

		if (strcasecmp(r->fname[i], "Cookie") != 0)
			continue;
		while (*p != '\0') {
			size_t	n;

			p += strspn(p, " ");
			n = strcspn(p, ";");
			if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
				if (n - nl - 1 >= outn)
					return -1;
				snprintf(out, outn, "%.*s", (int)(n - nl - 1),
				    p + nl + 1);
				return 0;
			}
			p += n;
			if (*p == ';')
				p++;
		}
	}
	return -1;
}

static int
over_tls(struct req *r)
{
	const char	*p = req_header(r, "X-Forwarded-Proto");

	return p != NULL && strcasecmp(p, "https") == 0;
}

void
web_set_cookie(struct req *r, const char *name, const char *value,
    const char *path, const char *samesite)
{
	char	c[512];

	snprintf(c, sizeof(c), "%s=%s; Path=%s; HttpOnly; SameSite=%s%s%s",
	    name, value != NULL ? value : "", path, samesite,
	    over_tls(r) ? "; Secure" : "",
	    value == NULL ? "; Max-Age=0" : "");
	resp_header(r, "Set-Cookie", c);
}

void
web_token_hash(const char *token, char hash[65])
{
	vault_mac_hex(token, strlen(token), hash);
}

void
web_token_new(const char *prefix, char token[WEB_TOKEN_MAX], char hash[65])
{
	unsigned char	rnd[20];
	size_t		n = strlen(prefix);

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(token, prefix, n);
	token[n] = '_';
	base32_lower(rnd, sizeof(rnd), token + n + 1);
	sodium_memzero(rnd, sizeof(rnd));
	web_token_hash(token, hash);
}

int
web_session_start(struct req *r, const char *kind, const char *cookie,
    const char *path, const char *samesite, struct web_session *ws)
{
	struct db	*db = store_db();
	char		 value[WEB_TOKEN_MAX], hash[65];
	int64_t		 now = (int64_t)clock_now();

	if (db == NULL)
		return -1;
	web_token_new("ws", value, ws->id_hash);
	web_token_new("csrf", ws->csrf, hash);
	db_run(db, "DELETE FROM web_sessions WHERE expires_at < ?", "i", now);
	if (db_run(db, "INSERT INTO web_sessions (id_hash, kind, csrf, "
	    "client_id, token_hash, user_id, login, language, expires_at, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "ttttttttii",
	    ws->id_hash, kind, ws->csrf, ws->client_id,
	    *ws->token_hash ? ws->token_hash : NULL,
	    *ws->user_id ? ws->user_id : NULL, *ws->login ? ws->login : NULL,
	    *ws->language ? ws->language : NULL, now + cfg.web_session_ttl,
	    now) != DB_OK)
		return -1;
	web_set_cookie(r, cookie, value, path, samesite);
	sodium_memzero(value, sizeof(value));
	return 0;
}

static void
copy_col(char *dst, size_t n, struct db_stmt *s, int col)
{
	const char	*t = db_col_text(s, col);

	snprintf(dst, n, "%s", t != NULL ? t : "");
}

int
web_session_load(struct req *r, const char *kind, const char *cookie,
    struct web_session *ws)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	char		 value[WEB_TOKEN_MAX], hash[65];
	int64_t		 now = (int64_t)clock_now();
	int		 found = 0;

	memset(ws, 0, sizeof(*ws));
	if (db == NULL || web_cookie(r, cookie, value, sizeof(value)) == -1)
		return 0;
	web_token_hash(value, hash);
	s = db_q(db, "SELECT id_hash, csrf, client_id, token_hash, user_id, "
	    "login, institution_id, consented, language, connection_id, "
	    "session_id, error_code, error_message FROM web_sessions WHERE "
	    "id_hash = ? AND kind = ? AND expires_at > ?", "tti", hash, kind,
	    now);
	if (s != NULL && db_step(s) == DB_ROW) {
		copy_col(ws->id_hash, sizeof(ws->id_hash), s, 0);
		copy_col(ws->csrf, sizeof(ws->csrf), s, 1);
		copy_col(ws->client_id, sizeof(ws->client_id), s, 2);
		copy_col(ws->token_hash, sizeof(ws->token_hash), s, 3);
		copy_col(ws->user_id, sizeof(ws->user_id), s, 4);
		copy_col(ws->login, sizeof(ws->login), s, 5);
		copy_col(ws->institution_id, sizeof(ws->institution_id), s, 6);
		ws->consented = (int)db_col_int(s, 7);
		copy_col(ws->language, sizeof(ws->language), s, 8);
		copy_col(ws->connection_id, sizeof(ws->connection_id), s, 9);
		copy_col(ws->session_id, sizeof(ws->session_id), s, 10);
		ws->error_code = (int)db_col_int(s, 11);
		copy_col(ws->error_message, sizeof(ws->error_message), s, 12);
		found = 1;
	}
	db_done(s);
	if (found)
		db_run(db, "UPDATE web_sessions SET expires_at = ? WHERE "
		    "id_hash = ?", "it", now + cfg.web_session_ttl, hash);
	return found;
}

static const char *
nz(const char *s)
{
	return *s != '\0' ? s : NULL;
}

int
web_session_save(const struct web_session *ws)
{
	struct db	*db = store_db();

	if (db == NULL)
		return -1;
	return db_run(db, "UPDATE web_sessions SET institution_id = ?, "
	    "consented = ?, language = ?, connection_id = ?, session_id = ?, "
	    "error_code = ?, error_message = ? WHERE id_hash = ?", "titttitt",
	    nz(ws->institution_id), (int64_t)ws->consented, nz(ws->language),
	    nz(ws->connection_id), nz(ws->session_id),
	    (int64_t)ws->error_code, nz(ws->error_message), ws->id_hash) ==
	    DB_OK ? 0 : -1;
}

void
web_session_end(const struct web_session *ws)
{
	struct db	*db = store_db();

	if (db != NULL)
		db_run(db, "DELETE FROM web_sessions WHERE id_hash = ?", "t",
		    ws->id_hash);
}

void
web_form(struct req *r, const char *key, char *out, size_t n)
{
	if (r->body.p == NULL || form_get(r->body.p, r->body.len, key, out,
	    n) == -1)
		*out = '\0';
}

json_t *
web_form_fields(struct req *r, const char *prefix)
{
	json_t		*a = json_object();
	const char	*p = r->body.p, *end = r->body.p + r->body.len;
	size_t		 pl = strlen(prefix);
	char		 key[WEB_FIELD_MAX], val[WEB_FIELD_MAX];

	while (p != NULL && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));

		if (eq != NULL && (size_t)(eq - p) > pl &&
		    strncmp(p, prefix, pl) == 0 &&
		    form_decode(p + pl, (size_t)(eq - p) - pl, key,
		    sizeof(key)) == 0 && form_decode(eq + 1,
		    (size_t)(pe - eq - 1), val, sizeof(val)) == 0)
			json_object_set_new(a, key, json_string(val));
		p = pe + 1;
	}
	return a;
}

int
web_csrf_ok(struct req *r, const struct web_session *ws)
{
	char	got[WEB_TOKEN_MAX];
	size_t	n = strlen(ws->csrf);

	web_form(r, "csrf", got, sizeof(got));
	return n > 0 && strlen(got) == n && sodium_memcmp(got, ws->csrf, n) == 0;
}

void
web_csrf_field(struct buf *b, const struct web_session *ws)
{
	buf_addstr(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_esc(b, ws->csrf);
	buf_addstr(b, "\">\n");
}

/* Takes the API handler's answer back from r, for the page to answer. */
static int
web_take(struct req *r, json_t **out)
{
	size_t	i;
	int	status = r->status;

	*out = NULL;
	if (r->out.len > 0)
		*out = json_loadb(r->out.p, r->out.len, 0, NULL);
	/* The page answers for itself: nothing of the API's answer stays. */
	for (i = 0; i < r->nhdrs; i++)
		free(r->hdr_value[i]);
	r->nhdrs = 0;
	r->answered = 0;
	r->err_code = 0;
	return status;
}

/* What a call whose handler suspended r needs when r is resumed. */
struct web_wait {
	web_then_fn	 then;
	void		*arg;
	json_t		*body;		/* kept until the handler is done */
	json_t		*saved_json;
	const char	*saved_param;
};

/* req_resume()'s hook: the handler has answered; the page goes on. */
static void
web_resumed(struct req *r, void *arg)
{
	struct web_wait	*w = arg;
	web_then_fn	 then = w->then;
	void		*then_arg = w->arg;
	json_t		*out;
	int		 status;

	r->json = w->saved_json;
	r->params[0] = w->saved_param;
	json_decref(w->body);
	free(w);
	status = web_take(r, &out);
	then(r, status, out, then_arg);
}

int
web_call(struct req *r, void (*handler)(struct req *), json_t *body,
    const char *param, json_t **out, web_then_fn then, void *arg)
{
	struct web_wait	*w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		/* taken back as the handler's answer would be: a 500 to show */
		resp_internal(r, "out of memory");
		return web_take(r, out);
	}
	w->then = then;
	w->arg = arg;
	w->body = json_incref(body);
	w->saved_json = r->json;
	w->saved_param = r->params[0];
	/*
	 * The end user is at the browser: its address is the PSU's (PSD2),
	 * for banks that want it, unless a proxy in front said otherwise.
	 */
	if (req_header(r, "PSU-IP-Address") == NULL && *r->peer_ip != '\0' &&
	    r->nfields < REQ_MAX_FIELDS) {
		r->fname[r->nfields] = "PSU-IP-Address";
		r->fvalue[r->nfields++] = r->peer_ip;
	}
	/*
	 * Set before the handler runs: a handler that suspends r may have it
	 * resumed by another thread before it even returns here.
	 */
	r->on_resume = web_resumed;
	r->on_resume_arg = w;
	r->json = body;
	r->params[0] = param;
	handler(r);
	if (r->suspended)
		return -1;	/* r and w are web_resumed()'s now */
	r->on_resume = NULL;
	r->on_resume_arg = NULL;
	r->json = w->saved_json;
	r->params[0] = w->saved_param;
	json_decref(w->body);
	free(w);
	return web_take(r, out);
}
