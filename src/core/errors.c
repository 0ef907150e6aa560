#include "core/errors.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

static const struct err_info catalog[ERR__COUNT] = {
	[ERR_OK] = { ERR_OK, 0, "OK", ERRG_GENERAL, 200, 0, "", STG_NONE, "", "" },
#define E(id, c, nm, grp, st, retry, al, stage, desc, repro) \
	[ERR_##id] = { ERR_##id, c, nm, grp, st, retry, al, stage, desc, repro },
#include "core/errors.def"
#undef E
};

static const struct {
	const char	*name;
	int		 lo, hi;
} groups[ERRG__COUNT] = {
	[ERRG_CLIENT]		= { "client", 1000, 1999 },
	[ERRG_USER]		= { "user", 10000, 19999 },
	[ERRG_BANK]		= { "bank", 20000, 29999 },
	[ERRG_GENERAL]		= { "general", 30000, 39999 },
	[ERRG_CONNECTIVITY]	= { "connectivity", 40000, 49999 },
	[ERRG_CATEGORIZATION]	= { "categorization", 50000, 59999 },
};

const struct err_info *
err_info(enum err e)
{
	if ((int)e <= 0 || e >= ERR__COUNT)
		e = ERR_INTERNAL_ERROR;
	return &catalog[e];
}

const char *err_name(enum err e) { return err_info(e)->name; }
int err_code(enum err e) { return err_info(e)->code; }
int err_http(enum err e) { return err_info(e)->http; }

enum err
err_by_code(int code)
{
	int	i;

	for (i = 1; i < ERR__COUNT; i++)
		if (catalog[i].code == code)
			return (enum err)i;
	return ERR_OK;
}

/* Whether the space-separated list contains the word w. */
static int
word_in(const char *list, const char *w)
{
	size_t	 wl = strlen(w);
	const char *p = list;

	while (*p != '\0') {
		size_t l = strcspn(p, " ");

		if (l == wl && strncmp(p, w, wl) == 0)
			return 1;
		p += l;
		p += strspn(p, " ");
	}
	return 0;
}

enum err
err_by_name(const char *name)
{
	int	i;

	for (i = 1; i < ERR__COUNT; i++)
		if (strcmp(catalog[i].name, name) == 0 ||
		    word_in(catalog[i].aliases, name))
			return (enum err)i;
	return ERR_OK;
}

const char *
err_group_name(enum err_group g)
{
	return g < ERRG__COUNT ? groups[g].name : "general";
}

void
err_group_range(enum err_group g, int *lo, int *hi)
{
	*lo = groups[g].lo;
	*hi = groups[g].hi;
}

const char *
err_stage_name(enum err_stage s)
{
	static const char *names[] = { "none", "login", "challenge", "sync",
	    "account" };

	return names[s];
}

void
err_sandbox_username(enum err e, char *out, size_t n)
{
	const char	*s = err_name(e);
	size_t		 o;

	o = (size_t)snprintf(out, n, "user_");
	for (; *s != '\0' && o + 1 < n; s++)
		out[o++] = (char)tolower((unsigned char)*s);
	if (o < n)
		out[o] = '\0';
}

const char *
err_reproduce(enum err e, char *out, size_t n)
{
	const struct err_info	*ei = err_info(e);
	char			 user[96];
	static const char	*when[] = {
		[STG_LOGIN] = "the bank refuses the login",
		[STG_CHALLENGE] = "the bank refuses the answer to its challenge (answer the TAN 123456)",
		[STG_SYNC] = "the login succeeds and the sync fails",
		[STG_ACCOUNT] = "the sync completes but one account is marked with this error",
	};

	if (ei->stage == STG_NONE) {
		snprintf(out, n, "%s", ei->reproduce);
		return out;
	}
	err_sandbox_username(e, user, sizeof(user));
	snprintf(out, n, "POST /v1/connections to institution sandbox with "
	    "username %s and password pass_good: %s.", user, when[ei->stage]);
	return out;
}

/* A number of seconds in words: "1 second", "90 seconds", "30 minutes". */
static void
duration_text(long long secs, char *out, size_t n)
{
	static const struct {
		long long	 unit;
		const char	*name;
	} units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
	    { 1, "second" } };
	size_t	i = 0;

	while (i + 1 < sizeof(units) / sizeof(units[0]) &&
	    (secs == 0 || secs % units[i].unit != 0))
		i++;
	snprintf(out, n, "%lld %s%s", secs / units[i].unit, units[i].name,
	    secs / units[i].unit == 1 ? "" : "s");
}

const char *
err_description(enum err e, char *out, size_t n)
{
	const char	*p = err_info(e)->description, *close;
	char		 flag[64], val[64];
	size_t		 o = 0, l;
	long long	 secs;

	if (n == 0)
		return out;
	out[0] = '\0';
	while (*p != '\0' && o + 1 < n) {
		val[0] = '\0';
		if (*p == '{' && (close = strchr(p, '}')) != NULL &&
		    (size_t)(close - p - 1) < sizeof(flag)) {
			memcpy(flag, p + 1, (size_t)(close - p - 1));
			flag[close - p - 1] = '\0';
			if (config_int(flag, &secs) == 0) {
				duration_text(secs, val, sizeof(val));
				p = close + 1;
			}
		}
		if (val[0] == '\0') {
			val[0] = *p++;
			val[1] = '\0';
		}
		l = strlen(val);
		if (o + l >= n)
			break;
		memcpy(out + o, val, l + 1);
		o += l;
	}
	return out;
}
