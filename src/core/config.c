#include "core/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct config cfg;
static int loaded;	/* cfg holds the settings in force */

struct cfg_entry {
	const char	*flag;
	const char	*env;
	enum cfg_kind	 kind;
	const char	*def;
	const char	*help;
	size_t		 off;
};

static const struct cfg_entry entries[] = {
#define C(field, kind, flag, env, def, help) \
	{ flag, env, kind, def, help, offsetof(struct config, field) },
#include "core/config.def"
#undef C
};

#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static int
set(const struct cfg_entry *e, const char *v, const char *from)
{
	char		*end;
	long long	 n;

	if (e->kind == CFG_STR) {
		char **p = (char **)((char *)&cfg + e->off);

		free(*p);
		if ((*p = strdup(v)) == NULL)
			return -1;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0) {
		fprintf(stderr, "bankfeed: %s %s: \"%s\" is not a whole number "
		    ">= 0\n", from, e->flag, v);
		return -1;
	}
	*(long long *)((char *)&cfg + e->off) = n;
	return 0;
}

static int
split_listen(void)
{
	const char	*colon = strrchr(cfg.listen, ':');
	char		*end;
	long		 port;

	if (colon == NULL || colon == cfg.listen)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		goto bad;
	free(cfg.host);
	if ((cfg.host = strndup(cfg.listen, (size_t)(colon - cfg.listen))) == NULL)
		return -1;
	cfg.port = (int)port;
	return 0;
bad:
	fprintf(stderr, "bankfeed: listen address \"%s\" is not HOST:PORT\n",
	    cfg.listen);
	return -1;
}

int
config_load(int *argcp, char **argv)
{
	size_t		 i;
	int		 a, o = 1, argc = *argcp;
	const char	*v;
	char		 from[64];

	for (i = 0; i < NENTRIES; i++)
		if (set(&entries[i], entries[i].def, "default") == -1)
			return -1;
	for (i = 0; i < NENTRIES; i++)
		if ((v = getenv(entries[i].env)) != NULL && *v != '\0' &&
		    set(&entries[i], v, entries[i].env) == -1)
			return -1;
	for (a = 1; a < argc; a++) {
		const char	*arg = argv[a], *eq;
		size_t		 nl;
		int		 taken = 0;

		if (strncmp(arg, "--", 2) != 0) {
			argv[o++] = argv[a];
			continue;
		}
		eq = strchr(arg + 2, '=');
		nl = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		for (i = 0; i < NENTRIES && !taken; i++) {
			if (strlen(entries[i].flag) != nl ||
			    strncmp(entries[i].flag, arg + 2, nl) != 0)
				continue;
			if (eq != NULL)
				v = eq + 1;
			else if (a + 1 < argc)
				v = argv[++a];
			else {
				fprintf(stderr, "bankfeed: --%s needs a value\n",
				    entries[i].flag);
				return -1;
			}
			snprintf(from, sizeof(from), "flag");
			if (set(&entries[i], v, from) == -1)
				return -1;
			taken = 1;
		}
		if (!taken)
			argv[o++] = argv[a];
	}
	argv[o] = NULL;
	*argcp = o;
	if (cfg.max_body < 1024) {
		fprintf(stderr, "bankfeed: max-body must be at least 1024\n");
		return -1;
	}
	if (cfg.oauth_max_hashes < 1) {
		fprintf(stderr, "bankfeed: oauth-max-hashes must be at least 1\n");
		return -1;
	}
	/* Leases are renewed every 2 seconds: a shorter one would lapse. */
	if (cfg.task_lease < 3) {
		fprintf(stderr, "bankfeed: task-lease must be at least 3\n");
		return -1;
	}
	if (split_listen() == -1)
		return -1;
	loaded = 1;
	return 0;
}

int
config_int(const char *flag, long long *out)
{
	size_t	i;

	for (i = 0; i < NENTRIES; i++) {
		if (entries[i].kind != CFG_INT || strcmp(entries[i].flag, flag) != 0)
			continue;
		if (loaded)
			*out = *(const long long *)((const char *)&cfg +
			    entries[i].off);
		else
			*out = strtoll(entries[i].def, NULL, 10);
		return 0;
	}
	return -1;
}

void
config_free(void)
{
	size_t	i;

	for (i = 0; i < NENTRIES; i++)
		if (entries[i].kind == CFG_STR) {
			char **p = (char **)((char *)&cfg + entries[i].off);

			free(*p);
			*p = NULL;
		}
	free(cfg.host);
	cfg.host = NULL;
	loaded = 0;
}

void
config_database_url(char *out, size_t n)
{
	if (*cfg.database_url == '\0')
		snprintf(out, n, "sqlite:%s/bankfeed.db", cfg.data_dir);
	else
		snprintf(out, n, "%s", cfg.database_url);
}

void
config_usage(FILE *f)
{
	size_t	i;

	for (i = 0; i < NENTRIES; i++)
		fprintf(f, "  --%-16s %-34s %s (default: %s)\n", entries[i].flag,
		    entries[i].env, entries[i].help,
		    *entries[i].def ? entries[i].def : "\"\"");
}

void
config_markdown(FILE *f)
{
	size_t	i;

	fprintf(f, "| flag | environment | default | meaning |\n|---|---|---|---|\n");
	for (i = 0; i < NENTRIES; i++)
		fprintf(f, "| `--%s` | `%s` | %s%s%s | %s |\n", entries[i].flag,
		    entries[i].env, *entries[i].def ? "`" : "",
		    *entries[i].def ? entries[i].def : "(empty)",
		    *entries[i].def ? "`" : "", entries[i].help);
}

/* Writes text as "# " comment lines of at most 78 columns. */
static void
comment(FILE *f, const char *text)
{
	size_t	n, w;

	while (*text != '\0') {
		n = strlen(text);
		if (n > 76) {
			for (w = 76; w > 0 && text[w] != ' '; w--)
				;
			n = w > 0 ? w : 76;
		}
		fprintf(f, "# %.*s\n", (int)n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
}

void
config_env(FILE *f)
{
	size_t	i;

	comment(f, "bankfeed's settings as environment variables, one "
	    "VARIABLE=value a line: the EnvironmentFile of bankfeed.service "
	    "(bankfeed config --env prints this file). A line left commented "
	    "keeps the default it shows; a flag given to bankfeed serve wins "
	    "over its variable (bankfeed.service gives --data-dir "
	    "/var/lib/bankfeed, its StateDirectory).");
	for (i = 0; i < NENTRIES; i++) {
		fprintf(f, "\n");
		comment(f, entries[i].help);
		fprintf(f, "#%s=%s\n", entries[i].env, entries[i].def);
	}
	fprintf(f, "\n");
	comment(f, "the master key that seals stored bank credentials, 64 hex "
	    "digits, instead of DATA_DIR/master.key (made at the first start). "
	    "Whoever reads it can open the credentials of every backup: keep "
	    "this file 0600 if you set it.");
	fprintf(f, "#BANKFEED_MASTER_KEY=\n");
}
