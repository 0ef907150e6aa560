/*
 * bankfeed backup and restore: the commands around the driver's db_backup
 * and db_restore, and what the database alone does not say: whether the
 * master key opens the credentials a backup holds.
 *
 * The master key is not in a backup unless asked for (--with-key writes
 * it beside the backup, as FILE.key): it is what keeps the bank
 * credentials of a stolen backup sealed, and backups travel further than
 * the data dir does.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/vault.h"

#define PATH_LEN 4096

struct restore {
	const char	*file;
	const char	*install;	/* a key file to make DATA_DIR/master.key */
	int		 have_key;	/* a key is loaded to open secrets with */
	int		 ignore_key;	/* --ignore-key */
	int		 version;	/* the backup's schema version */
};

static int
usage(const char *cmd)
{
	if (strcmp(cmd, "backup") == 0)
		fprintf(stderr, "usage: bankfeed backup FILE [--with-key] "
		    "[--data-dir DIR | --database-url URL]\n"
		    "  writes a consistent copy of the database to the new file "
		    "FILE (0600)\n  while the server runs; --with-key also writes "
		    "the master key to FILE.key\n");
	else
		fprintf(stderr, "usage: bankfeed restore FILE [--with-key] "
		    "[--ignore-key] [--data-dir DIR | --database-url URL]\n"
		    "  replaces the database with the backup FILE, the server "
		    "stopped;\n  --with-key also installs FILE.key as "
		    "DATA_DIR/master.key\n");
	return 2;
}

/*
 * Loads config, then takes FILE and the flags of names (NULL-terminated)
 * into flags[] (1 when given).  0, or the exit status to return.
 */
static int
parse(int *argcp, char **argv, const char *const *names, int *flags,
    const char **file)
{
	int	i, j, argc;

	if (config_load(argcp, argv) == -1)
		return 2;
	argc = *argcp;
	*file = NULL;
	for (i = 1; i < argc; i++) {
		for (j = 0; names[j] != NULL; j++)
			if (strcmp(argv[i], names[j]) == 0)
				break;
		if (names[j] != NULL)
			flags[j] = 1;
		else if (argv[i][0] == '-' || *file != NULL)
			return usage(argv[0]);
		else
			*file = argv[i];
	}
	return *file == NULL ? usage(argv[0]) : 0;
}

/*
 * Loads the key a server on this data dir would use, never making one:
 * 1 loaded (*origin says from where), 0 there is none, -1 it is unreadable.
 */
static int
key_in_force(const char **origin)
{
	const char	*env = getenv("BANKFEED_MASTER_KEY");
	char		 path[PATH_LEN];

	if (env != NULL && *env != '\0') {
		*origin = "BANKFEED_MASTER_KEY";
		return vault_init(cfg.data_dir) == 0 ? 1 : -1;
	}
	*origin = "DATA_DIR/master.key";
	snprintf(path, sizeof(path), "%s/master.key", cfg.data_dir);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	return vault_init_file(path) == 0 ? 1 : -1;
}

int
backup_cmd(int argc, char **argv)
{
	static const char *const names[] = { "--with-key", NULL };
	const char	*file, *why, *origin;
	char		 url[PATH_LEN], keyfile[PATH_LEN + 8];
	int		 flags[1] = { 0 }, status = 1, rc;
	struct stat	 st;

	if ((rc = parse(&argc, argv, names, flags, &file)) != 0) {
		config_free();
		return rc;
	}
	config_database_url(url, sizeof(url));
	snprintf(keyfile, sizeof(keyfile), "%s.key", file);
	/* The key first: a backup asked with its key is not made without it. */
	if (flags[0] && (rc = key_in_force(&origin)) != 1) {
		fprintf(stderr, "bankfeed backup: %s\n", rc == 0 ?
		    "there is no master key (no DATA_DIR/master.key, no "
		    "BANKFEED_MASTER_KEY) to back up" : "cannot read the master key");
		goto out;
	}
	if (flags[0] && access(keyfile, F_OK) == 0) {
		fprintf(stderr, "bankfeed backup: %s exists already (a backup "
		    "never replaces a file)\n", keyfile);
		goto out;
	}
	if (db_backup(url, file, &why) != DB_OK) {
		fprintf(stderr, "bankfeed backup: %s: %s\n", file, why);
		goto out;
	}
	if (flags[0] && vault_key_write(keyfile) == -1) {
		fprintf(stderr, "bankfeed backup: cannot write %s: %s; no backup "
		    "made\n", keyfile, strerror(errno));
		unlink(file);
		goto out;
	}
	printf("bankfeed: backed up %s to %s (%lld bytes)\n", url, file,
	    stat(file, &st) == 0 ? (long long)st.st_size : -1LL);
	if (flags[0])
		printf("bankfeed: the master key (from %s) is in %s: whoever "
		    "has both can open the stored bank credentials\n", origin,
		    keyfile);
	else
		printf("bankfeed: the master key is not in this backup: keep "
		    "DATA_DIR/master.key (or BANKFEED_MASTER_KEY) safe apart "
		    "from it, or stored bank credentials cannot be opened after "
		    "a restore (--with-key writes it beside the backup)\n");
	status = 0;
out:
	vault_shutdown();
	config_free();
	return status;
}

/*
 * Whether the key loaded opens the backup's stored secrets, tried on one:
 * 1 it does (or there are none), 0 it does not, -1 unreadable.  Each is
 * sealed with its row as associated data: "CONNECTION_ID:secret" and
 * "CONNECTION_ID:state" (api/authflow.c, jobs/sync.c), a webhook's under
 * its client id (jobs/webhooks.c).
 */
static int
key_opens(struct db *db, int have_key)
{
	struct db_stmt	*s;
	const void	*blob;
	size_t		 n, ptn;
	char		*pt;
	int		 rc = -1;

	s = db_q(db, "SELECT id || ':secret', secret FROM connections "
	    "WHERE length(secret) > 0 UNION ALL "
	    "SELECT id || ':state', state FROM connections "
	    "WHERE length(state) > 0 UNION ALL "
	    "SELECT client_id, secret FROM webhooks WHERE length(secret) > 0 "
	    "LIMIT 1", "");
	if (s == NULL)
		return -1;
	switch (db_step(s)) {
	case DB_DONE:
		rc = 1;
		break;
	case DB_ROW:
		blob = db_col_blob(s, 1, &n);
		rc = have_key && vault_open(blob, n, db_col_text(s, 0), &pt,
		    &ptn) == 0;
		if (rc)
			vault_free(pt, ptn);
		break;
	default:
		break;
	}
	db_done(s);
	return rc;
}

/* The backup's key file, loaded, becomes DATA_DIR/master.key (none was there). */
static int
install_key(const char *keyfile)
{
	char	path[PATH_LEN];

	snprintf(path, sizeof(path), "%s/master.key", cfg.data_dir);
	if (vault_key_write(path) == -1) {
		fprintf(stderr, "bankfeed restore: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	printf("bankfeed: installed the master key of %s as %s\n", keyfile,
	    path);
	return 0;
}

/* db_restore's check: the last word before the database is replaced. */
static int
restore_check(struct db *db, void *arg)
{
	struct restore	*r = arg;

	r->version = schema_version(db);
	if (r->version < 1) {
		fprintf(stderr, "bankfeed restore: %s is not a bankfeed database "
		    "(it has no schema version)\n", r->file);
		return -1;
	}
	if (r->version > schema_known()) {
		fprintf(stderr, "bankfeed restore: %s has schema version %d, newer "
		    "than this bankfeed (%d): restore it with the bankfeed that "
		    "made it, or a newer one\n", r->file, r->version,
		    schema_known());
		return -1;
	}
	switch (r->ignore_key ? 1 : key_opens(db, r->have_key)) {
	case 1:
		break;
	case 0:
		fprintf(stderr, "bankfeed restore: %s holds bank credentials "
		    "sealed under a master key %s; restore with --with-key and "
		    "its FILE.key, set BANKFEED_MASTER_KEY to its key, or pass "
		    "--ignore-key to restore without them (those connections "
		    "then need a new authorization)\n", r->file, r->have_key ?
		    "other than the one in force" : "that is not here (no "
		    "DATA_DIR/master.key, no BANKFEED_MASTER_KEY)");
		return -1;
	default:
		fprintf(stderr, "bankfeed restore: cannot read the sealed "
		    "values of %s\n", r->file);
		return -1;
	}
	return r->install != NULL ? install_key(r->install) : 0;
}

/*
 * --with-key: the backup's key must be the key in force, or become it when
 * there is none.  A different key in force is never replaced: it may be
 * the only one that opens other backups.
 */
static int
restore_key_from(const char *keyfile, struct restore *r)
{
	const char	*origin;

	switch (key_in_force(&origin)) {
	case 0:
		if (vault_init_file(keyfile) == -1) {
			fprintf(stderr, "bankfeed restore: cannot read %s\n",
			    keyfile);
			return -1;
		}
		r->install = keyfile;
		r->have_key = 1;
		return 0;
	case 1:
		switch (vault_key_matches(keyfile)) {
		case 1:
			r->have_key = 1;
			return 0;
		case 0:
			fprintf(stderr, "bankfeed restore: %s holds another key "
			    "than %s: it may be the only key to other backups, so "
			    "it is not replaced; move it away (or unset "
			    "BANKFEED_MASTER_KEY) and restore again\n", origin,
			    keyfile);
			return -1;
		default:
			fprintf(stderr, "bankfeed restore: cannot read %s\n",
			    keyfile);
			return -1;
		}
	default:
		return -1;
	}
}

int
backup_cmd_restore(int argc, char **argv)
{
	static const char *const names[] = { "--with-key", "--ignore-key",
	    NULL };
	struct restore	 r;
	const char	*file, *why, *origin;
	char		 url[PATH_LEN], keyfile[PATH_LEN + 8];
	int		 flags[2] = { 0, 0 }, status = 1, rc;

	memset(&r, 0, sizeof(r));
	if ((rc = parse(&argc, argv, names, flags, &file)) != 0) {
		config_free();
		return rc;
	}
	r.file = file;
	r.ignore_key = flags[1];
	config_database_url(url, sizeof(url));
	snprintf(keyfile, sizeof(keyfile), "%s.key", file);
	/* A restore into a wiped data dir makes it again, as serve would. */
	if (mkdir(cfg.data_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "bankfeed restore: cannot create %s: %s\n",
		    cfg.data_dir, strerror(errno));
		goto out;
	}
	if (flags[0]) {
		if (restore_key_from(keyfile, &r) == -1)
			goto out;
	} else if ((r.have_key = key_in_force(&origin)) == -1)
		goto out;
	switch (db_restore(url, file, restore_check, &r, &why)) {
	case DB_OK:
		printf("bankfeed: restored %s into %s (schema version %d%s)\n",
		    file, url, r.version, r.version < schema_known() ?
		    "; the server migrates it when it starts" : "");
		status = 0;
		break;
	case DB_BUSY:
		fprintf(stderr, "bankfeed restore: %s: stop the server (and "
		    "every bankfeed command using it) first; the database is "
		    "unchanged\n", why);
		break;
	default:
		fprintf(stderr, "bankfeed restore: %s: %s; the database is "
		    "unchanged\n", file, why);
	}
out:
	vault_shutdown();
	config_free();
	return status;
}
