/*
 * bankfeed: argv, configuration, and the commands of the one binary.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "api/api.h"
#include "api/authflow.h"
#include "web/web.h"
#include "core/config.h"
#include "core/errors_doc.h"
#include "core/log.h"
#include "core/vault.h"
#include "formats/formats.h"
#include "banks/institutions.h"
#include "banks/sandbox.h"
#include "banks/xs2a_bank.h"
#include "http/http.h"
#include "jobs/engine.h"
#include "jobs/webhooks.h"
#include "store/store.h"

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*help;
};

static int cmd_help(int, char **);
static int cmd_serve(int, char **);
static int cmd_clients(int, char **);
static int cmd_dashboard_user(int, char **);
static int cmd_errors(int, char **);
static int cmd_version(int, char **);
static int cmd_config(int, char **);

static const struct command commands[] = {
	{ "serve", cmd_serve, "run the HTTP server (--demo: also make a demo client and print it)" },
	{ "clients", cmd_clients, "create|list|delete API clients" },
	{ "dashboard-user", cmd_dashboard_user, "add|list|delete people who log in to a client's /dashboard" },
	{ "sandbox-bank", xs2a_bank_cmd, "run the Sandbox Bank as a Berlin Group XS2A bank (--listen HOST:PORT)" },
	{ "import", formats_cmd_import, "print a statement file (camt.053, MT940, OFX, CODA, BAI2, ZIP) as normalized JSON" },
	{ "backup", backup_cmd, "FILE [--with-key]: copy the database to FILE while the server runs" },
	{ "restore", backup_cmd_restore, "FILE [--with-key]: replace the database with a backup (server stopped)" },
	{ "errors", cmd_errors, "print the error catalog (--markdown: docs/errors.md, --json)" },
	{ "config", cmd_config, "print the settings table as Markdown (for the README; --env: as an environment file)" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this text" },
};

static int
cmd_help(int argc, char **argv)
{
	size_t	i;

	(void)argc;
	(void)argv;
	printf("usage: bankfeed COMMAND [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-13s %s\n", commands[i].name, commands[i].help);
	printf("\nserver options (flag, environment variable, meaning):\n");
	config_usage(stdout);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("bankfeed %s\n", BANKFEED_VERSION);
	return 0;
}

static int
cmd_config(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--env") == 0)
		config_env(stdout);
	else if (argc == 1)
		config_markdown(stdout);
	else {
		fprintf(stderr, "usage: bankfeed config [--env]\n");
		return 2;
	}
	return 0;
}

/* Loads the configuration and opens the database: what every command
 * that touches data needs. */
static int
setup(int *argcp, char **argv)
{
	char		 url[4096];

	/* Whatever the caller's umask: what bankfeed writes is its own. */
	umask(077);
	if (config_load(argcp, argv) == -1)
		return -1;
	if (mkdir(cfg.data_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "bankfeed: cannot create data dir %s: %s\n",
		    cfg.data_dir, strerror(errno));
		return -1;
	}
	if (log_init(cfg.log_level, cfg.log_format, cfg.log_file,
	    cfg.log_unauth_rate) == -1)
		return -1;
	log_warn_exposed(cfg.data_dir);
	config_database_url(url, sizeof(url));
	if (vault_init(cfg.data_dir) == -1) {
		fprintf(stderr, "bankfeed: no master key (see the log above)\n");
		return -1;
	}
	if (store_init(url) == -1) {
		fprintf(stderr, "bankfeed: cannot open the database %s\n", url);
		return -1;
	}
	return 0;
}

static void
teardown(void)
{
	store_shutdown();
	vault_shutdown();
	institutions_free();
	config_free();
	log_close();
}

/*
 * This node's id, kept in DATA_DIR/node.id: the tasks a node was running
 * when it stopped are its own to take back when it starts again.
 */
static int
node_id(char out[ID_MAX])
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/node.id", cfg.data_dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(out, ID_MAX, f) != NULL)
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
		if (id_valid(out, "nod"))
			return 0;
	}
	id_new("nod", out);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "%s\n", out);
	return fclose(f) == 0 ? 0 : -1;
}

/* Replaces the demo client (its old secret cannot be shown again). */
static int
make_demo_client(const char *host, int port)
{
	char		 id[ID_MAX], secret[CLIENT_SECRET_MAX];
	struct db	*db = store_db();

	if (db == NULL)
		return -1;
	db_run(db, "DELETE FROM clients WHERE name = 'demo'", "");
	if (clients_create("demo", id, secret) != 0)
		return -1;
	printf("\nDemo client (made anew at each start with --demo):\n"
	    "  client_id:     %s\n  client_secret: %s\n\n"
	    "Get a token:\n  curl -s -u '%s:%s' -d grant_type=client_credentials "
	    "http://%s:%d/oauth/token\n\n", id, secret, id, secret, host, port);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

/*
 * What server_stop() calls to answer every suspended request: those that
 * wait for a task, those whose client secret is being checked (the
 * check pool answers them as their checks end, within one check's time),
 * and logins and answers waiting on a bank (given half the grace).
 */
static void
release_suspended(void)
{
	engine_release_waiters();
	clients_pool_stop();
	authflow_release();
}

/*
 * Tells the institutions where this server's XS2A callback is, for
 * sandbox_xs2a's redirect SCA: a browser on this machine comes back to it
 * (a wildcard listen address is reached as 127.0.0.1).
 */
static void
own_callback(const char *host, int port)
{
	char	uri[256];
	int	v6 = strchr(host, ':') != NULL;

	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    *host == '\0') {
		host = "127.0.0.1";
		v6 = 0;
	}
	snprintf(uri, sizeof(uri), "http://%s%s%s:%d/v1/callback/xs2a",
	    v6 ? "[" : "", host, v6 ? "]" : "", port);
	institutions_set_own_callback(uri);
}

static int
cmd_serve(int argc, char **argv)
{
	struct server	*srv;
	sigset_t	 set;
	int		 sig, demo = 0, i;
	char		 node[ID_MAX];
	struct timespec	 tick = { 0, 20000000 };	/* log_tick() */

	if (setup(&argc, argv) == -1)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--demo") == 0)
			demo = 1;
		else {
			fprintf(stderr, "bankfeed serve: unknown option %s\n",
			    argv[i]);
			teardown();
			return 2;
		}
	}
	if (proxies_init(cfg.trusted_proxies, stderr) == -1 ||
	    institutions_load(cfg.institutions, cfg.sandbox_xs2a_url,
	    stderr) == -1) {
		teardown();
		return 1;
	}
	/* Signals go to this thread alone, through sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sandbox_set_slow_ms(cfg.sandbox_slow_ms);
	rcache_init((size_t)cfg.cache_mb << 20);
	if (node_id(node) == -1 || engine_start((int)cfg.workers,
	    (int)cfg.max_active_tasks, node) == -1) {
		fprintf(stderr, "bankfeed: cannot start the task workers\n");
		teardown();
		return 1;
	}
	if (webhooks_start() == -1) {
		fprintf(stderr, "bankfeed: cannot start webhook delivery\n");
		engine_stop();
		teardown();
		return 1;
	}
	if (clients_pool_start() == -1) {
		fprintf(stderr, "bankfeed: cannot start the client secret "
		    "checks\n");
		webhooks_stop();
		engine_stop();
		teardown();
		return 1;
	}
	if (server_start(&srv, cfg.host, cfg.port) == -1) {
		clients_pool_stop();
		webhooks_stop();
		engine_stop();
		teardown();
		return 1;
	}
	log_info("msg=\"listening\" host=%s port=%d version=%s", cfg.host,
	    server_port(srv), BANKFEED_VERSION);
	printf("bankfeed: listening on http://%s:%d\n", cfg.host,
	    server_port(srv));
	own_callback(cfg.host, server_port(srv));
	authflow_start();
	if (demo && make_demo_client(cfg.host, server_port(srv)) == -1)
		log_error("msg=\"cannot create the demo client\"");
	fflush(stdout);
	/* SIGHUP reopens the log file; once a second, dropped lines are told. */
	while ((sig = sigtimedwait(&set, NULL, &tick)) == -1 || sig == SIGHUP) {
		if (sig == SIGHUP)
			log_reopen();
		else
			log_tick();
	}
	log_info("msg=\"stopping\" signal=%s", sig == SIGTERM ? "TERM" : "INT");
	server_stop(srv, (int)cfg.shutdown_grace, release_suspended);
	engine_stop();
	rcache_free();
	/*
	 * After the HTTP server: events queued by requests that finished
	 * during its grace are still tried.  Undelivered ones wait in the
	 * outbox for the next start.
	 */
	webhooks_stop();
	log_info("msg=\"stopped\"");
	teardown();
	return 0;
}

static int
cmd_clients(int argc, char **argv)
{
	int	rc;

	if (setup(&argc, argv) == -1)
		return 1;
	rc = clients_cmd(argc, argv);
	teardown();
	return rc;
}

static int
cmd_dashboard_user(int argc, char **argv)
{
	int	rc;

	if (setup(&argc, argv) == -1)
		return 1;
	rc = dashboard_user_cmd(argc, argv);
	teardown();
	return rc;
}

static int
cmd_errors(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--markdown") == 0)
		errors_markdown(stdout);
	else if (argc == 1 || (argc == 2 && strcmp(argv[1], "--json") == 0))
		errors_json(stdout);
	else {
		fprintf(stderr, "usage: bankfeed errors [--markdown|--json]\n");
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (sodium_init() < 0) {
		fprintf(stderr, "bankfeed: libsodium failed to initialize\n");
		return 1;
	}
	vault_wipe_json_allocations();
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return cmd_help(argc, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "bankfeed: unknown command \"%s\"; try bankfeed help\n",
	    argv[1]);
	return 2;
}
