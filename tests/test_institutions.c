/*
 * Institutions as configuration: an institutions file (--institutions,
 * BANKFEED_INSTITUTIONS) adds XS2A banks to GET /v1/institutions; every
 * kind of mistake in it stops `bankfeed serve` with a line naming the
 * entry and the field; sandbox_xs2a is in maintenance until its URL is set;
 * and an institution bankfeed cannot reach answers BANK_NOT_SUPPORTED.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>


#include "harness.h"

/* Files of the tests: institutions files, a QWAC and its key. */
static char	dir[64];

/* A valid entry; the bad files below change one thing of it. */
#define GOOD_ENTRY "{\"id\":\"bank_x\",\"name\":\"Bank X\",\"country\":\"DE\"," \
	"\"bic\":\"BNKXDEFFXXX\",\"protocol\":\"xs2a\"," \
	"\"base_url\":\"https://xs2a.bank-x.example/psd2\"," \
	"\"sca_approaches\":[\"REDIRECT\"]"

static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
    "MIIBfTCCASOgAwIBAgIUTESTTESTTESTTESTTESTTESTTESTwCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n";
static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTESTTESTTESTTEST\n"
    "-----END PRIVATE KEY-----\n";
static const char enc_key_pem[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhTESTTESTAgIIADAMBgg\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	char	tmpl[] = "/tmp/bankfeed-inst-XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	write_file("qwac.pem", cert_pem, 0644);
	write_file("qwac.key", key_pem, 0600);
	write_file("qwac-enc.key", enc_key_pem, 0600);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Runs `bankfeed serve` with the institutions file name (in dir; NULL:
 * none) and the setting env ("NAME=value" or NULL) on a fresh data dir.
 * Returns its exit status, its stderr in err; -2 when it started to
 * listen (then it is killed).
 */
static int
serve_once(const char *name, const char *env, char *err, size_t errlen)
{
	char		 data[256], path[256], logp[300];
	pid_t		 pid;
	int		 status = 0, fd, waited;
	ssize_t		 n;

	snprintf(data, sizeof(data), "%s/data-XXXXXX", dir);
	assert_non_null(mkdtemp(data));
	snprintf(path, sizeof(path), "%s/%s", dir, name ? name : "");
	snprintf(logp, sizeof(logp), "%s/stderr", data);
	if ((pid = fork()) == 0) {
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDERR_FILENO);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		if (env != NULL)
			putenv((char *)env);
		if (name != NULL)
			execl(BANKFEED_BIN, BANKFEED_BIN, "serve", "--listen",
			    "127.0.0.1:0", "--data-dir", data, "--institutions",
			    path, (char *)NULL);
		else
			execl(BANKFEED_BIN, BANKFEED_BIN, "serve", "--listen",
			    "127.0.0.1:0", "--data-dir", data, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	/* A bad file stops the start at once; 10 s means it is running. */
	for (waited = 0; waited < 10000; waited += 20) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(20000);
	}
	if (waited >= 10000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -2;
	} else
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	fd = open(logp, O_RDONLY);
	n = fd >= 0 ? read(fd, err, errlen - 1) : 0;
	err[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return status;
}

struct bad_case {
	const char	*what;
	const char	*json;		/* the file; NULL: none at all */
	const char	*env;		/* a setting besides, or NULL */
	const char	*want;		/* in stderr */
};

static const struct bad_case bad_cases[] = {
	{ "not JSON", "[{\"id\": \"bank_x\",\n", NULL,
	  "bad.json: line 2, column 0: " },
	{ "not an array", GOOD_ENTRY "}", NULL,
	  "bad.json: must be a JSON array" },
	{ "an entry not an object", "[" GOOD_ENTRY "}, 5]", NULL,
	  "bad.json: entry 1: must be an object" },
	{ "unknown field", "[" GOOD_ENTRY ",\"colour\":\"orange\"}]", NULL,
	  "entry 0 (\"bank_x\"): colour: unknown field" },
	{ "a field twice", "[" GOOD_ENTRY ",\"name\":\"Bank Z\"}]", NULL,
	  "bad.json: line 1, column " },
	{ "wrong type: name", "[{\"id\":\"bank_y\",\"name\":5,"
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): name: must be a string" },
	{ "wrong type: requires_psu_ip", "[" GOOD_ENTRY
	  ",\"requires_psu_ip\":\"yes\"}]", NULL,
	  "entry 0 (\"bank_x\"): requires_psu_ip: must be true or false" },
	{ "wrong type: sca_approaches",
	  "[{\"id\":\"bank_y\",\"name\":\"Y\",\"country\":\"DE\","
	  "\"protocol\":\"xs2a\",\"base_url\":\"https://y.example\","
	  "\"sca_approaches\":\"REDIRECT\"}]", NULL,
	  "entry 0 (\"bank_y\"): sca_approaches: must be a list" },
	{ "wrong type: id", "[{\"id\":7,\"name\":\"Y\",\"country\":\"DE\","
	  "\"protocol\":\"xs2a\",\"base_url\":\"https://y.example\","
	  "\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0: id: must be a string" },
	{ "missing id", "[{\"name\":\"Y\",\"country\":\"DE\","
	  "\"protocol\":\"xs2a\",\"base_url\":\"https://y.example\","
	  "\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0: id: missing" },
	{ "bad id", "[{\"id\":\"Bank Y\",\"name\":\"Y\",\"country\":\"DE\","
	  "\"protocol\":\"xs2a\",\"base_url\":\"https://y.example\","
	  "\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0: id: must be 1 to 63 characters of a-z, 0-9, _ and -" },
	{ "duplicate id", "[" GOOD_ENTRY "}," GOOD_ENTRY "}]", NULL,
	  "entry 1 (\"bank_x\"): id: \"bank_x\" is already entry 0's id" },
	{ "id of a built-in", "[{\"id\":\"sandbox_xs2a\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"sandbox_xs2a\"): id: \"sandbox_xs2a\" is already a "
	  "built-in institution's id" },
	{ "unknown protocol", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"hbci\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): protocol: \"hbci\" is not a protocol an "
	  "institutions file can add" },
	{ "country not ISO 3166", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"XX\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): country: \"XX\" is not an ISO 3166-1 alpha-2" },
	{ "country in lower case", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"de\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): country: \"de\" is not an ISO 3166-1" },
	{ "BIC shape", "[{\"id\":\"bank_y\",\"name\":\"Y\",\"country\":\"DE\","
	  "\"bic\":\"BNKY-DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): bic: \"BNKY-DE\" is not a BIC" },
	{ "BIC with no country", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"bic\":\"BNKYQQ22\",\"protocol\":\"xs2a\","
	  "\"base_url\":\"https://y.example\",\"sca_approaches\":"
	  "[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): bic: \"BNKYQQ22\" is not a BIC" },
	{ "base_url http on the network", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"http://y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "bad.json: entry 0 (\"bank_y\"): base_url: must be an https:// URL" },
	{ "base_url not a URL", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"y.example/psd2\",\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): base_url: must be an https:// URL" },
	{ "base_url with a password", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://tpp:secret@y.example\",\"sca_approaches\":[\"EMBEDDED\"]}]",
	  NULL, "entry 0 (\"bank_y\"): base_url: must not hold a user name" },
	{ "base_url missing", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\","
	  "\"sca_approaches\":[\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): base_url: missing" },
	{ "unknown SCA approach", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\",\"OAUTH\"]}]",
	  NULL, "entry 0 (\"bank_y\"): sca_approaches[1]: must be \"REDIRECT\", "
	  "\"EMBEDDED\" or \"DECOUPLED\"" },
	{ "SCA approach twice", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	  "\"country\":\"DE\",\"protocol\":\"xs2a\",\"base_url\":"
	  "\"https://y.example\",\"sca_approaches\":[\"EMBEDDED\","
	  "\"EMBEDDED\"]}]", NULL,
	  "entry 0 (\"bank_y\"): sca_approaches[1]: \"EMBEDDED\" is listed twice" },
	{ "missing cert file", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"nope.pem\",\"tls_client_key\":\"qwac.key\"}]", NULL,
	  "entry 0 (\"bank_x\"): tls_client_cert: cannot read " },
	{ "missing key file", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"qwac.pem\",\"tls_client_key\":\"nope.key\"}]", NULL,
	  "entry 0 (\"bank_x\"): tls_client_key: cannot read " },
	{ "key path a folder", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"qwac.pem\",\"tls_client_key\":\".\"}]", NULL,
	  "entry 0 (\"bank_x\"): tls_client_key: /" },
	{ "cert without key", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"qwac.pem\"}]", NULL,
	  "entry 0 (\"bank_x\"): tls_client_key: missing: tls_client_cert "
	  "needs its private key" },
	{ "key without cert", "[" GOOD_ENTRY ",\"tls_client_key\":"
	  "\"qwac.key\"}]", NULL,
	  "entry 0 (\"bank_x\"): tls_client_cert: missing" },
	{ "cert and key swapped", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"qwac.key\",\"tls_client_key\":\"qwac.pem\"}]", NULL,
	  "holds no PEM certificate" },
	{ "encrypted key", "[" GOOD_ENTRY ",\"tls_client_cert\":"
	  "\"qwac.pem\",\"tls_client_key\":\"qwac-enc.key\"}]", NULL,
	  "qwac-enc.key is encrypted" },
	{ "tpp_redirect_uri http on the network", "[" GOOD_ENTRY
	  ",\"tpp_redirect_uri\":\"http://app.example/cb\"}]", NULL,
	  "entry 0 (\"bank_x\"): tpp_redirect_uri: must be an https:// URL" },
	{ "status", "[" GOOD_ENTRY ",\"status\":\"down\"}]", NULL,
	  "entry 0 (\"bank_x\"): status: must be \"up\" or \"maintenance\"" },
	{ "sandbox-xs2a-url not http(s)", NULL,
	  "BANKFEED_SANDBOX_XS2A_URL=ftp://127.0.0.1/xs2a",
	  "bankfeed: sandbox-xs2a-url: must be an https:// URL" },
};

/* Each kind of mistake stops the start and says where it is. */
static void
bad_files_stop_the_start(void **state)
{
	char	err[8192];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		if (c->json != NULL)
			write_file("bad.json", c->json, 0644);
		rc = serve_once(c->json ? "bad.json" : NULL, c->env, err,
		    sizeof(err));
		if (rc == 0 || rc == -2 || strstr(err, c->want) == NULL)
			fail_msg("%s: exit %d, want non-zero and \"%s\" on stderr:"
			    "\n%s", c->what, rc, c->want, err);
	}
}

/* A file that does not exist, and one problem line per problem. */
static void
missing_file_and_many_problems(void **state)
{
	char	err[16384];

	(void)state;
	assert_int_not_equal(serve_once("absent.json", NULL, err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "absent.json: cannot read: No such file"));
	write_file("bad.json", "[{\"id\":\"bank_y\",\"name\":\"Y\","
	    "\"country\":\"DEU\",\"protocol\":\"xs2a\",\"base_url\":"
	    "\"http://y.example\",\"sca_approaches\":[],\"status\":\"x\"}]",
	    0644);
	assert_int_not_equal(serve_once("bad.json", NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "entry 0 (\"bank_y\"): country: "));
	assert_non_null(strstr(err, "entry 0 (\"bank_y\"): base_url: "));
	assert_non_null(strstr(err, "entry 0 (\"bank_y\"): sca_approaches: "));
	assert_non_null(strstr(err, "entry 0 (\"bank_y\"): status: "));
}

static const char good_file[] = "[\n"
    " {\"id\": \"ing_de\", \"name\": \"ING Deutschland\", \"country\": \"DE\",\n"
    "  \"bic\": \"INGDDEFFXXX\", \"protocol\": \"xs2a\",\n"
    "  \"base_url\": \"https://api.ing.example/psd2/\",\n"
    "  \"sca_approaches\": [\"REDIRECT\", \"DECOUPLED\"],\n"
    "  \"tls_client_cert\": \"qwac.pem\", \"tls_client_key\": \"qwac.key\",\n"
    "  \"tpp_redirect_uri\": \"https://app.example/bankfeed/xs2a\"},\n"
    " {\"id\": \"erste_at\", \"name\": \"Erste Bank\", \"country\": \"AT\",\n"
    "  \"bic\": \"GIBAATWWXXX\", \"protocol\": \"xs2a\",\n"
    "  \"base_url\": \"http://127.0.0.1:9\",\n"
    "  \"sca_approaches\": [\"EMBEDDED\"], \"requires_psu_ip\": true,\n"
    "  \"status\": \"maintenance\"},\n"
    " {\"id\": \"knab_nl\", \"name\": \"Knab\", \"country\": \"NL\",\n"
    "  \"bic\": null, \"protocol\": \"xs2a\", \"base_url\": \"http://[::1]:9\",\n"
    "  \"sca_approaches\": [\"DECOUPLED\", \"EMBEDDED\", \"REDIRECT\"]}\n"
    "]\n";

static void
start_with_good_file(struct srv *s)
{
	char		 set[300];
	const char	*env[] = { set, NULL };

	write_file("good.json", good_file, 0644);
	snprintf(set, sizeof(set), "BANKFEED_INSTITUTIONS=%s/good.json", dir);
	assert_int_equal(srv_start(s, env), 0);
}

/* The list of ids in a list answer, "a,b,c". */
static void
ids_of(struct res *r, char *out, size_t n)
{
	json_t	*d = jget(r->json, "data"), *v;
	size_t	 i, o = 0;

	out[0] = '\0';
	json_array_foreach(d, i, v)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(v, "id")));
}

static void
good_file_lists_its_banks(void **state)
{
	struct srv	s;
	struct res	r;
	char		ids[512];

	(void)state;
	start_with_good_file(&s);
	assert_int_equal(get(&s, "/v1/institutions", &r), 0);
	assert_status(&r, 200);
	ids_of(&r, ids, sizeof(ids));
	/* The built-in ones first, then the file's in its order. */
	assert_string_equal(ids, "sandbox,sandbox_psu_ip,sandbox_maintenance,"
	    "file,sandbox_xs2a,ing_de,erste_at,knab_nl");
	/* How bankfeed reaches a bank is not the client's business. */
	assert_null(strstr(r.body, "qwac"));
	assert_null(strstr(r.body, "api.ing.example"));
	assert_null(strstr(r.body, "app.example"));
	assert_null(strstr(r.body, "base_url"));
	res_free(&r);

	assert_int_equal(get(&s, "/v1/institutions?country=at", &r), 0);
	ids_of(&r, ids, sizeof(ids));
	assert_string_equal(ids, "erste_at");
	assert_string_equal(jstr(r.json, "data.0.status"), "maintenance");
	assert_true(json_is_true(jget(r.json, "data.0.requires_psu_ip")));
	assert_string_equal(jstr(r.json, "data.0.protocol"), "xs2a");
	res_free(&r);

	assert_int_equal(get(&s, "/v1/institutions?q=ing", &r), 0);
	ids_of(&r, ids, sizeof(ids));
	assert_string_equal(ids, "ing_de");
	res_free(&r);
	assert_int_equal(get(&s, "/v1/institutions?country=DE&q=INGDDEFF", &r),
	    0);
	ids_of(&r, ids, sizeof(ids));
	assert_string_equal(ids, "ing_de");
	res_free(&r);
	assert_int_equal(get(&s, "/v1/institutions?country=NL&q=ing", &r), 0);
	ids_of(&r, ids, sizeof(ids));
	assert_string_equal(ids, "");
	res_free(&r);

	assert_int_equal(get(&s, "/v1/institutions/ing_de", &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "name"), "ING Deutschland");
	assert_string_equal(jstr(r.json, "bic"), "INGDDEFFXXX");
	assert_string_equal(jstr(r.json, "status"), "up");
	assert_int_equal(json_array_size(jget(r.json, "sca_approaches")), 2);
	assert_string_equal(jstr(r.json, "sca_approaches.0"), "redirect");
	assert_string_equal(jstr(r.json, "sca_approaches.1"), "decoupled");
	res_free(&r);
	assert_int_equal(get(&s, "/v1/institutions/knab_nl", &r), 0);
	assert_true(json_is_null(jget(r.json, "bic")));
	assert_string_equal(jstr(r.json, "sca_approaches.0"), "decoupled");
	res_free(&r);
	srv_cleanup(&s);
}

static void
connect_to(struct srv *s, const char *institution, struct res *r)
{
	char	user[64], body[512];

	assert_int_equal(post(s, "/v1/users", "{}", r), 0);
	assert_status(r, 201);
	snprintf(user, sizeof(user), "%s", jstr(r->json, "id"));
	res_free(r);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"%s\",\"credentials\":{\"username\":\"user_good\",\"password\":"
	    "\"pass_good\"}}", user, institution);
	assert_int_equal(post(s, "/v1/connections", body, r), 0);
}

/* Connecting to institution answers BANK_NOT_SUPPORTED, saying why. */
static void
connect_refused(struct srv *s, const char *institution, const char *why)
{
	struct res	r;

	connect_to(s, institution, &r);
	assert_error(&r, 422, "BANK_NOT_SUPPORTED");
	if (strstr(jstr(r.json, "error.data.institution_id.0"), why) == NULL)
		fail_msg("%s: want \"%s\" in %s", institution, why, r.body);
	res_free(&r);
}

/* A catalog error, not a crash, where bankfeed cannot reach the bank. */
static void
unreachable_institutions_answer_catalog_errors(void **state)
{
	struct srv	s;
	struct res	r;

	(void)state;
	start_with_good_file(&s);
	/*
	 * ing_de's base_url names a host that does not resolve: the XS2A
	 * connector tries it and says so, in the bank group's words.
	 */
	connect_to(&s, "ing_de", &r);
	assert_error(&r, 502, "LOGIN_NOT_POSSIBLE");
	assert_non_null(strstr(jstr(r.json, "error.message"), "could not be "
	    "reached"));
	res_free(&r);
	connect_refused(&s, "erste_at", "Erste Bank is in maintenance");
	srv_cleanup(&s);
}

static void
sandbox_xs2a_without_url_is_maintenance(void **state)
{
	struct srv	 s;
	struct res	 r;
	const char	*url[] = { "BANKFEED_SANDBOX_XS2A_URL=http://127.0.0.1:9/",
	    NULL };

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	assert_int_equal(get(&s, "/v1/institutions/sandbox_xs2a", &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "name"), "Sandbox Bank (XS2A)");
	assert_string_equal(jstr(r.json, "protocol"), "xs2a");
	assert_string_equal(jstr(r.json, "status"), "maintenance");
	res_free(&r);
	connect_refused(&s, "sandbox_xs2a", "its URL is unset; start bankfeed "
	    "with --sandbox-xs2a-url");
	srv_cleanup(&s);

	assert_int_equal(srv_start(&s, url), 0);
	assert_int_equal(get(&s, "/v1/institutions/sandbox_xs2a", &r), 0);
	assert_string_equal(jstr(r.json, "status"), "up");
	res_free(&r);
	srv_cleanup(&s);
}

/*
 * The operator took a bank out of the file: its connections stay, but
 * neither sync nor authorize again.
 */
static void
sync_of_an_institution_no_longer_configured(void **state)
{
	struct srv	 s;
	struct res	 r;
	char		 cid[64], path[300], sql[256];

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	connect_to(&s, "sandbox", &r);
	assert_status(&r, 201);
	snprintf(cid, sizeof(cid), "%s", jstr(r.json, "connection.id"));
	res_free(&r);
	srv_stop(&s);
	/* As if it had been made to a bank of a file since changed. */
	snprintf(sql, sizeof(sql), "UPDATE connections SET institution_id = "
	    "'gone_bank' WHERE id = '%s'", cid);
	assert_int_equal(srv_sql(&s, sql), 1);
	assert_int_equal(srv_restart(&s, NULL), 0);
	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(post(&s, path, "{\"wait_seconds\":0}", &r), 0);
	assert_error(&r, 422, "BANK_NOT_SUPPORTED");
	assert_non_null(strstr(jstr(r.json, "error.data.connection.0"),
	    "gone_bank is no longer configured"));
	res_free(&r);
	/* Nor can it be authorized again. */
	snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
	assert_int_equal(post(&s, path, "{\"credentials\":{\"username\":"
	    "\"user_good\",\"password\":\"pass_good\"}}", &r), 0);
	assert_error(&r, 422, "BANK_NOT_SUPPORTED");
	assert_non_null(strstr(jstr(r.json, "error.data.institution_id.0"),
	    "gone_bank is no longer configured"));
	res_free(&r);
	srv_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_files_stop_the_start),
		cmocka_unit_test(missing_file_and_many_problems),
		cmocka_unit_test(good_file_lists_its_banks),
		cmocka_unit_test(unreachable_institutions_answer_catalog_errors),
		cmocka_unit_test(sandbox_xs2a_without_url_is_maintenance),
		cmocka_unit_test(sync_of_an_institution_no_longer_configured),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
