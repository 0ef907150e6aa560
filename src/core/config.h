/*
 * config: the server's settings, from flags, BANKFEED_* variables and
 * defaults (config.def lists them all; the README's table is made from it).
 */
#ifndef BF_CONFIG_H
#define BF_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum cfg_kind { CFG_STR, CFG_INT };

struct config {
#define C(field, kind, flag, env, def, help) CFG_FIELD_##kind(field)
#define CFG_FIELD_CFG_STR(f) char *f;
#define CFG_FIELD_CFG_INT(f) long long f;
#include "core/config.def"
#undef C
	/* derived */
	char	*host;
	int	 port;
};

/* The settings in force, set once at start. */
extern struct config cfg;

/*
 * Fills cfg from defaults, then the environment, then argv (flags of the
 * form --name VALUE or --name=VALUE).  Unknown flags are left in place:
 * *argcp/argv are compacted to the arguments config did not take.
 * Returns 0, or -1 after printing the problem to stderr.
 */
int	config_load(int *argcp, char **argv);
void	config_free(void);
/*
 * The value of the number setting with this flag name ("task-timeout"):
 * the one in force once config_load() ran, else its default.  0, or -1
 * when there is no such number setting.
 */
int	config_int(const char *flag, long long *out);
/* The database URL in force: --database-url, else sqlite:DATA_DIR/bankfeed.db. */
void	config_database_url(char *out, size_t n);
void	config_usage(FILE *);
/* The same table as Markdown, for the README. */
void	config_markdown(FILE *);
/*
 * The same settings as an environment file, each commented out with its
 * default: the Debian package's /etc/bankfeed/bankfeed.conf.
 */
void	config_env(FILE *);

#endif
