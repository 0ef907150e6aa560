/*
 * store: the process's database.  store_init() opens it and applies the
 * schema migrations; afterwards each thread gets its own connection from
 * store_db(), opened on first use and kept (with its prepared statements)
 * until store_shutdown().
 */
#ifndef BF_STORE_H
#define BF_STORE_H

#include "store/db.h"

/* Opens url, applies pending migrations.  0, or -1 with a reason logged. */
int		 store_init(const char *url);
/* The calling thread's connection; NULL when the database cannot be opened. */
struct db	*store_db(void);
void		 store_shutdown(void);

/* schema.c: applies every migration newer than the database's version. */
int		 schema_migrate(struct db *);
/* ... up to version target only (tests start from an older schema). */
int		 schema_migrate_to(struct db *, int target);
int		 schema_version(struct db *);
/* The newest version this binary knows (a newer database is refused). */
int		 schema_known(void);

/*
 * backup.c: bankfeed backup FILE [--with-key] and bankfeed restore FILE
 * [--with-key] [--ignore-key].  argv[0] is the command's name; the
 * settings (data dir, database URL) come as for serve.  Each returns the
 * exit status: 0 done, 1 failed or refused (the reason on stderr), 2 usage.
 */
int		 backup_cmd(int argc, char **argv);
int		 backup_cmd_restore(int argc, char **argv);

#endif
