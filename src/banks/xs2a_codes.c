/*
 * xs2a_codes: the rows of xs2a_codes.def, and their lookups.
 */
#include "banks/xs2a_codes.h"

#include <string.h>
#include <strings.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct xs2a_tpp_row xs2a_tpp_rows[] = {
#define T(c, h, l, s, f, a) { c, h, { ERR_##l, ERR_##s, ERR_##f, ERR_##a } },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_ntpp_rows = NELEM(xs2a_tpp_rows);

const struct xs2a_tpp_row xs2a_status_rows[] = {
#define S(h, l, s, f, a) { NULL, h, { ERR_##l, ERR_##s, ERR_##f, ERR_##a } },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_nstatus_rows = NELEM(xs2a_status_rows);

const struct xs2a_words_row xs2a_words_rows[] = {
#define W(c, h, st, p, w, e) { c, h, XS_##st, p, w, ERR_##e },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_nwords_rows = NELEM(xs2a_words_rows);

const struct xs2a_code xs2a_codes[] = {
#define A(e, http, code, path, text) { ERR_##e, http, code, path, text },
#include "banks/xs2a_codes.def"
};

const size_t xs2a_ncodes = NELEM(xs2a_codes);

const struct xs2a_code *
xs2a_code_fwd(enum err e)
{
	size_t	i;

	for (i = 0; i < xs2a_ncodes; i++)
		if (xs2a_codes[i].err == e)
			return &xs2a_codes[i];
	return NULL;
}

const struct xs2a_tpp_row *
xs2a_code_known(const char *code)
{
	size_t	i;

	for (i = 0; code != NULL && i < xs2a_ntpp_rows; i++)
		if (strcmp(xs2a_tpp_rows[i].code, code) == 0)
			return &xs2a_tpp_rows[i];
	return NULL;
}

const struct xs2a_tpp_row *
xs2a_code_back(int http, const char *code)
{
	const struct xs2a_tpp_row	*t;
	size_t				 i;

	if ((t = xs2a_code_known(code)) != NULL)
		return t;
	/* The file ends the S rows with the one of any other status (0). */
	for (i = 0; i < xs2a_nstatus_rows; i++)
		if (xs2a_status_rows[i].http == http ||
		    xs2a_status_rows[i].http == 0)
			return &xs2a_status_rows[i];
	return &xs2a_status_rows[xs2a_nstatus_rows - 1];
}

/* Whether path names the element want, or one inside it ("access.x"). */
static int
path_is(const char *path, const char *want)
{
	size_t	n = strlen(want);

	return path != NULL && strncmp(path, want, n) == 0 &&
	    (path[n] == '\0' || path[n] == '.' || path[n] == '[' ||
	    path[n] == '/');
}

/* Whether text holds one of the '|'-separated words, in any case. */
static int
has_word(const char *text, const char *words)
{
	const char	*w, *t;
	size_t		 n;

	if (text == NULL)
		return 0;
	for (w = words; *w != '\0'; w += n + (w[n] == '|')) {
		n = strcspn(w, "|");
		for (t = text; n > 0 && strlen(t) >= n; t++)
			if (strncasecmp(t, w, n) == 0)
				return 1;
	}
	return 0;
}

/* The entry of the first W row that matches at st, or ERR_OK. */
static enum err
words_entry(int http, const char *code, const char *path, const char *text,
    enum xs2a_stage st)
{
	const struct xs2a_words_row	*w;
	size_t				 i;

	for (i = 0; i < xs2a_nwords_rows; i++) {
		w = &xs2a_words_rows[i];
		if (w->stage != st || (w->http != 0 && w->http != http) ||
		    (w->code[0] != '\0' && (code == NULL ||
		    strcmp(w->code, code) != 0)))
			continue;
		if (w->path[0] != '\0' ? path_is(path, w->path) :
		    has_word(text, w->words))
			return w->entry;
	}
	return ERR_OK;
}

enum err
xs2a_code_read(int http, const char *code, const char *path,
    const char *text, enum xs2a_stage st, int *per_account)
{
	const struct xs2a_tpp_row	*row = xs2a_code_back(http, code);
	enum err			 e;

	*per_account = 0;
	if (st == XS_ACCOUNT) {
		if ((e = words_entry(http, code, path, text, st)) != ERR_OK ||
		    (e = row->at[XS_ACCOUNT]) != ERR_OK) {
			*per_account = 1;
			return e;
		}
		st = XS_FETCH;
	}
	if ((e = words_entry(http, code, path, text, st)) != ERR_OK)
		return e;
	return row->at[st];
}

enum xs2a_stage
xs2a_stage_of(enum err_stage st)
{
	static const enum xs2a_stage of[] = {
		[STG_NONE] = XS_FETCH, [STG_LOGIN] = XS_LOGIN,
		[STG_CHALLENGE] = XS_SCA, [STG_SYNC] = XS_FETCH,
		[STG_ACCOUNT] = XS_ACCOUNT
	};

	return of[st];
}

const char *
xs2a_stage_name(enum xs2a_stage st)
{
	static const char *const names[] = { "login", "SCA", "fetch",
	    "account" };

	return names[st];
}
