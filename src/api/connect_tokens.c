/*
 * POST /v1/connect_tokens: a short-lived, single-use token that opens the
 * Connect page (src/web/connect.c) for one of the client's users.  Only a
 * keyed hash of the token is stored; the token itself is shown once.
 */
#include "api/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banks/institutions.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/vault.h"
#include "http/http.h"
#include "store/store.h"
#include "web/web.h"

#define REDIRECT_URI_MAX	2048
#define INSTITUTIONS_LIST_MAX	100

/*
 * Whether u is a URI a browser may be sent back to with the connection's
 * id: https://, or http:// on a loopback host (development).  No
 * fragment (the query is appended), no user info, no white space.
 */
int
connect_redirect_ok(const char *u)
{
	const char	*host;
	size_t		 i, hl;

	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f || u[i] == '#' ||
		    u[i] == '"' || u[i] == '<' || u[i] == '>' || u[i] == '\\')
			return 0;
	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return 0;
	hl = strcspn(host, "/?");
	if (hl == 0 || memchr(host, '@', hl) != NULL)
		return 0;
	if (host == u + 8)
		return 1;
	return (hl >= 9 && strncmp(host, "localhost", 9) == 0 &&
	    (hl == 9 || host[9] == ':')) ||
	    (hl >= 9 && strncmp(host, "127.0.0.1", 9) == 0 &&
	    (hl == 9 || host[9] == ':')) ||
	    (hl >= 5 && strncmp(host, "[::1]", 5) == 0 &&
	    (hl == 5 || host[5] == ':'));
}

/* Reads and checks "institutions": ids of the server's institutions. */
static json_t *
read_institutions(struct vctx *v, json_t *body)
{
	json_t	*a = json_object_get(body, "institutions"), *e;
	size_t	 i;

	if (a == NULL || json_is_null(a))
		return NULL;
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > INSTITUTIONS_LIST_MAX) {
		v_add(v, "institutions", "Must be a list of 1 to %d institution "
		    "ids.", INSTITUTIONS_LIST_MAX);
		return NULL;
	}
	json_array_foreach(a, i, e) {
		char	path[48];
		const struct institution *in;

		snprintf(path, sizeof(path), "institutions.%zu", i);
		if (!json_is_string(e))
			v_add(v, path, "Not a valid string.");
		else if ((in = institution_find(json_string_value(e))) == NULL)
			v_add(v, path, "No institution %.64s; GET /v1/institutions "
			    "lists them.", json_string_value(e));
		else if (strcmp(in->protocol, "file") == 0)
			v_add(v, path, "%.64s takes statement files, which are not "
			    "connected.", in->id);
	}
	return a;
}

void
h_connect_tokens_create(struct req *r)
{
	static const char *const fields[] = { "user_id", "redirect_uri",
	    "institutions", "language", NULL };
	struct db	*db = store_db();
	struct vctx	 v;
	const char	*user_id, *redirect, *language;
	json_t		*insts;
	char		 token[WEB_TOKEN_MAX], hash[65], *list = NULL;
	char		 url[WEB_TOKEN_MAX + 32];
	int64_t		 now = (int64_t)clock_now();
	enum web_lang	 lang;
	struct jw	 w;

	v_init(&v);
	v_known(&v, r->json, NULL, fields);
	user_id = v_string(&v, r->json, NULL, "user_id", 1, 1, 64);
	redirect = v_string(&v, r->json, NULL, "redirect_uri", 0, 1,
	    REDIRECT_URI_MAX);
	language = v_string(&v, r->json, NULL, "language", 0, 2, 2);
	insts = read_institutions(&v, r->json);
	if (redirect != NULL && !connect_redirect_ok(redirect))
		v_add(&v, "redirect_uri", "Must be an https:// URI (http:// only "
		    "for localhost) without a fragment.");
	if (language != NULL && web_lang_parse(language, &lang) == -1)
		v_add(&v, "language", "Must be one of en, de, fr, nl.");
	if (v_failed(&v)) {
		v_respond(&v, r);
		goto out;
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		goto out;
	}
	if (!users_of_client(r, db, user_id, "user_id"))
		goto out;
	web_token_new("ct", token, hash);
	list = insts != NULL ? json_dumps(insts, JSON_COMPACT) : NULL;
	/* Tokens long expired go as new ones come. */
	db_run(db, "DELETE FROM connect_tokens WHERE expires_at < ?", "i",
	    now - 86400);
	if (db_run(db, "INSERT INTO connect_tokens (token_hash, client_id, "
	    "user_id, redirect_uri, institutions, language, expires_at, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "ttttttii", hash,
	    r->client_id, user_id, redirect, list, language,
	    now + cfg.connect_token_ttl, now) != DB_OK) {
		resp_internal(r, db_errmsg(db));
		goto out;
	}
	resp_begin(r, 201, &w);
	jw_obj(&w);
	jw_kstr(&w, "connect_token", token);
	snprintf(url, sizeof(url), "/connect?token=%s", token);
	jw_kstr(&w, "url", url);
	jw_kstr(&w, "user_id", user_id);
	jw_ktime(&w, "expires_at", now + cfg.connect_token_ttl);
	jw_obj_end(&w);
out:
	free(list);
	v_free(&v);
}
