/*
 * harness: what the API tests share.  Starts the real bankfeed binary on a
 * free loopback port with a fresh data directory, and talks HTTP to it
 * through libcurl.  Every exchange is appended to the file named by
 * BANKFEED_EXCHANGES (JSON lines), which the OpenAPI checker reads.
 * BANKFEED_TEST_DAYS_AHEAD=n runs every server's bank clock n days ahead,
 * to try the tests as of other dates:
 *   for n in $(seq 0 39); do BANKFEED_TEST_DAYS_AHEAD=$n \
 *       build/tests/test_api_accounts || echo "fails $n days ahead"; done
 */
#ifndef BF_HARNESS_H
#define BF_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct srv {
	pid_t	 pid;
	int	 port;
	char	 dir[256];		/* test dir, removed at the end */
	char	 data[300];		/* the server's data dir: dir or below it */
	char	 log[300];		/* the server's stderr */
	char	 client_id[64];
	char	 client_secret[128];
	char	 token[128];
	int	 internal_ok;		/* the test causes internal errors */
	char	 source_ip[46];		/* local address requests come from,
					   e.g. 127.0.0.2; "" = the usual */
	char	 db_url[512];		/* its PostgreSQL database, or "" */
};

struct res {
	long	 status;
	char	*body;
	size_t	 len;
	json_t	*json;			/* parsed body, or NULL */
	char	*headers;		/* raw header block */
};

/*
 * Starts a server; env is a NULL-terminated list of "NAME=value" settings
 * (or NULL).  A client is created and a token fetched.  0 or -1.
 */
int	 srv_start(struct srv *, const char *const *env);
/*
 * The same with the data dir DIR/sub, which the server makes itself (its
 * mode is then the server's doing, not the harness's).
 */
int	 srv_start_in(struct srv *, const char *sub, const char *const *env);
/*
 * Starts another command of the binary: args after the program's name
 * (NULL-terminated, at most 14), which must print "... listening on
 * http://HOST:PORT" first on stdout.  A fresh dir holds its log (stderr);
 * no client.  0 or -1.
 */
int	 srv_start_args(struct srv *, const char *const *args,
	    const char *const *env);
/*
 * With BANKFEED_TEST_PG set (libpq URL parameters of a test cluster,
 * e.g. "host=/tmp/pg&port=5433&user=bankfeed": scripts/pg-cluster.sh),
 * each server started gets a new PostgreSQL database of its own (dropped
 * by srv_cleanup) instead of the SQLite file in its data dir; its URL is
 * in db_url and BANKFEED_DATABASE_URL (for the CLI the test runs).
 * Whether the tests run on PostgreSQL:
 */
int	 srv_pg(void);
/* A new empty database of the test cluster: its URL in url.  0 or -1. */
int	 srv_pg_create(char *url, size_t n);
void	 srv_pg_drop(const char *url);
/*
 * Runs sql (no parameters) on s's database, whichever it is, as an
 * operator would by hand (the server stopped): the rows it changed, or -1.
 */
long	 srv_sql(struct srv *s, const char *sql);
/*
 * A new user with a connection to the Sandbox Bank as username (password
 * pass_good), created on s: 0 with its id in cid, or -1.
 */
int	 srv_connect(struct srv *s, const char *username, char cid[64]);
/* Points BANKFEED_DATABASE_URL at s's database for the CLI a test runs. */
void	 srv_use_db(struct srv *s);
/* Starts again on the same data dir (after srv_kill / srv_stop). */
int	 srv_restart(struct srv *, const char *const *env);
void	 srv_stop(struct srv *);	/* SIGTERM and wait */
void	 srv_kill(struct srv *);	/* SIGKILL and wait */
void	 srv_cleanup(struct srv *);	/* stop if running, remove the dir */
/* Unix time on the servers' bank clock (BANKFEED_TEST_DAYS_AHEAD counted),
 * for the dates a test sends. */
long long srv_bank_now(void);
/* Creates another client (CLI) and fills id/secret/token of c. */
int	 srv_new_client(struct srv *, struct srv *c);
/*
 * Starts `bankfeed sandbox-bank` as bank (every answer latency_ms late; 0:
 * at once) and then s with env (NULL-terminated, up to 14 settings) and
 * BANKFEED_SANDBOX_XS2A_URL naming the bank: the built-in institution
 * sandbox_xs2a reaches it over XS2A.
 */
int	 srv_start_with_bank(struct srv *s, struct srv *bank, int latency_ms,
	    const char *const *env);
/* Creates a user of s's client (POST /v1/users, which must answer 201). */
void	 srv_new_user(struct srv *, char id[64]);

/*
 * One request.  token may be NULL; headers is a NULL-terminated list of
 * "Name: value" lines or NULL; body may be NULL.  A JSON body is sent with
 * Content-Type: application/json unless headers name another type.
 */
int	 req(struct srv *, const char *method, const char *path,
	    const char *token, const char *const *headers, const char *body,
	    size_t len, struct res *);
/* Shorthands with the server's own token. */
int	 get(struct srv *, const char *path, struct res *);
int	 post(struct srv *, const char *path, const char *json, struct res *);
int	 del(struct srv *, const char *path, struct res *);
/*
 * Every item of a paged list (GET path, 100 a page, following
 * next_cursor) into a new JSON array; asserts each page answers 200.
 */
json_t	*get_all(struct srv *, const char *path);
/* A header's value in a response (case-insensitive name), malloc'd or NULL. */
char	*res_header(struct res *, const char *name);
void	 res_free(struct res *);

/* Field access in the parsed body: jstr(r->json, "error.name"). */
const char *jstr(json_t *, const char *path);
long long   jint(json_t *, const char *path);
json_t	   *jget(json_t *, const char *path);

/*
 * Prism (@stoplight/prism-cli, installed in dir/node_modules: `npm ci`
 * there) in proxy mode on the OpenAPI file spec, in front of
 * http://127.0.0.1:upstream, on a free loopback port (*port), its output
 * in the file log.  Runs in the background in a process group of its own:
 * its pid; 0 when node, Prism or the spec is missing (said on stderr,
 * naming who), -1 when it cannot start.
 */
pid_t	 prism_proxy_start(const char *who, const char *dir, const char *spec,
	    int upstream, const char *log, int *port);
/* Waits up to seconds for the Prism of log to listen: 1, or 0. */
int	 prism_proxy_wait(const char *log, int seconds);
/* Stops a Prism of prism_proxy_start() (pid > 0) and waits for it. */
void	 prism_proxy_stop(pid_t);
/* A free TCP port on 127.0.0.1 (free when asked), or -1. */
int	 free_port(void);

/* Whether the server's log contains s. */
int	 log_contains(struct srv *, const char *s);
/* Whether the file at path contains s, waiting up to ms for it to appear. */
int	 file_wait(const char *path, const char *s, int ms);
/*
 * Waits up to ms for s to appear in the log: a request's access-log line is
 * written after its response is sent, so it may come after the response.
 */
int	 log_wait(struct srv *, const char *s, int ms);
/* The same as log_contains, as a word of its own (not inside a random id). */
int	 log_contains_word(struct srv *, const char *s);

/* asserts with context: the response body is printed on failure */
#define assert_status(r, want) do { \
	if ((r)->status != (want)) { \
		fprintf(stderr, "%s:%d: status %ld, want %d; body: %.2000s\n", \
		    __FILE__, __LINE__, (r)->status, (want), \
		    (r)->body ? (r)->body : ""); \
		fail(); \
	} } while (0)

#define assert_error(r, want_status, want_name) do { \
	assert_status(r, want_status); \
	assert_non_null((r)->json); \
	assert_string_equal(jstr((r)->json, "error.name"), want_name); \
	} while (0)

#endif
