/*
 * institutions: the built-in list (institutions.def) and the institutions
 * file an operator adds XS2A banks with.  The file is read once at start;
 * any problem in it stops the start, so a server that runs has a list it
 * can trust, and the code that reads an institution checks nothing again.
 */
#include "banks/institutions.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "banks/connector.h"
#include "core/log.h"

#define SCA_NONE		{ SCA_REDIRECT }, 0
#define SCA1(a)			{ a }, 1
#define SCA3(a, b, c)		{ a, b, c }, 3

static const struct institution builtin[] = {
#define I(id, name, country, bic, proto, status, psu, sca, why) \
	{ id, name, country, bic, proto, status, psu, sca, why, \
	  NULL, NULL, NULL, NULL },
#include "banks/institutions.def"
#undef I
};

#define NBUILTIN	(sizeof(builtin) / sizeof(builtin[0]))

/*
 * The list in force.  table is builtin until institutions_load() installs
 * its own copy; byid (NULL before a load) is the same entries sorted by id.
 */
static const struct institution	 *table = builtin;
static size_t			  ntable = NBUILTIN;
static struct institution	 *loaded;
static const struct institution	**byid;

static const struct {
	const char	*spec, *api;
} sca_names[] = {
	[SCA_REDIRECT] = { "REDIRECT", "redirect" },
	[SCA_EMBEDDED] = { "EMBEDDED", "embedded" },
	[SCA_DECOUPLED] = { "DECOUPLED", "decoupled" },
};

static const char *const countries[] = {
#define CTRY(c) c,
#include "core/countries.def"
#undef CTRY
};

/* Listed limits of one entry's strings, in bytes. */
#define NAME_MAX_LEN	200
#define URL_MAX_LEN	2000
#define PATH_MAX_LEN	4000
/* Problems printed before "and N more". */
#define PROBLEMS_SHOWN	50
/* Bytes of a PEM file looked at for its BEGIN line. */
#define PEM_HEAD	16384

const char *
sca_approach_name(enum sca_approach a)
{
	return sca_names[a].spec;
}

const char *
sca_approach_api_name(enum sca_approach a)
{
	return sca_names[a].api;
}

size_t
institutions_count(void)
{
	return ntable;
}

const struct institution *
institution_at(size_t i)
{
	return i < ntable ? &table[i] : NULL;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct institution *const *x = a, *const *y = b;
	int	c = strcmp((*x)->id, (*y)->id);

	/* Equal ids keep their listing order: the later one is the duplicate. */
	if (c == 0)
		c = *x < *y ? -1 : *x > *y;
	return c;
}

static int
cmp_key(const void *key, const void *elem)
{
	const struct institution *const *e = elem;

	return strcmp(key, (*e)->id);
}

const struct institution *
institution_find(const char *id)
{
	const struct institution *const *p;
	size_t	i;

	if (id == NULL)
		return NULL;
	if (byid != NULL) {
		p = bsearch(id, byid, ntable, sizeof(*byid), cmp_key);
		return p != NULL ? *p : NULL;
	}
	for (i = 0; i < ntable; i++)
		if (strcmp(table[i].id, id) == 0)
			return &table[i];
	return NULL;
}

/* The static spelling of an ISO 3166-1 alpha-2 code, or NULL. */
static const char *
country_known(const char *c)
{
	size_t	i;

	for (i = 0; i < sizeof(countries) / sizeof(countries[0]); i++)
		if (strcmp(countries[i], c) == 0)
			return countries[i];
	return NULL;
}

static int
upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int
upper_or_digit(char c)
{
	return upper(c) || (c >= '0' && c <= '9');
}

/* ISO 9362: bank (4 letters), country, location (2), branch (3, optional). */
static int
bic_valid(const char *b)
{
	size_t	i, n = strlen(b);
	char	cc[3];

	if (n != 8 && n != 11)
		return 0;
	for (i = 0; i < n; i++)
		if (i < 6 ? !upper(b[i]) : !upper_or_digit(b[i]))
			return 0;
	memcpy(cc, b + 4, 2);
	cc[2] = '\0';
	return country_known(cc) != NULL;
}

static int
id_valid(const char *id)
{
	size_t	i, n = strlen(id);

	if (n == 0 || n >= INSTITUTION_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '_' ||
		    id[i] == '-'))
			return 0;
	return 1;
}

static int
loopback_host(const char *h)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 &&
	    memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}

/*
 * Whether u is a URL bankfeed may send a bank's traffic to, or send a bank
 * to: https://HOST[:PORT][/PATH], and a query only when allow_query.
 *
 * Plain http:// is taken only for a loopback host.  The XS2A traffic holds
 * what must not cross a network in clear: the PSU's bank password and TANs
 * (embedded SCA), the Consent-ID that reads the accounts for 180 days, and
 * the account data itself; and without TLS a machine on the path could
 * answer in the bank's place.  PSD2 (RTS on SCA and secure communication,
 * art. 35) asks for TLS on this channel anyway, and eIDAS certificates
 * (QWAC) only work over it.  A loopback host never leaves this machine:
 * that is the sandbox-bank and a spec mock such as Prism in tests.
 * Returns NULL, or what is wrong.
 */
static const char *
url_problem(const char *u, int allow_query)
{
	static const char *const scheme_msg = "must be an https:// URL "
	    "(http:// only for a loopback host such as 127.0.0.1; README, "
	    "\"Connecting a real bank\")";
	const char	*p, *auth, *end;
	char		 host[256];
	int		 http = 0;
	size_t		 hn;

	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "must not hold spaces, control characters or "
			    "other than ASCII (percent-encode them)";
	if (strncmp(u, "https://", 8) == 0)
		auth = u + 8;
	else if (strncmp(u, "http://", 7) == 0) {
		auth = u + 7;
		http = 1;
	} else
		return scheme_msg;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return "must not hold a user name or password";
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', (size_t)(end - auth));

		if (rb == NULL)
			return "has an IPv6 address without its closing ]";
		hn = (size_t)(rb - auth - 1);
		p = rb + 1;
		if (hn >= sizeof(host))
			return "has too long a host";
		memcpy(host, auth + 1, hn);
		host[hn] = '\0';
		{
			struct in6_addr	a6;

			if (inet_pton(AF_INET6, host, &a6) != 1)
				return "has a bad IPv6 address";
		}
	} else {
		p = auth + strcspn(auth, ":/?#");
		hn = (size_t)(p - auth);
		if (hn >= sizeof(host))
			return "has too long a host";
		memcpy(host, auth, hn);
		host[hn] = '\0';
		if (strspn(host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != hn)
			return "has a bad host name";
	}
	if (hn == 0)
		return "must name a host";
	if (*p == ':') {
		char		*pe;
		unsigned long	 port;

		errno = 0;
		port = strtoul(p + 1, &pe, 10);
		if (pe == p + 1 || pe != end || errno != 0 || port == 0 ||
		    port > 65535 || p[1] == '+' || p[1] == '-')
			return "has a bad port (1 to 65535)";
	} else if (p != end)
		return "has a bad host";
	if (http && !loopback_host(host))
		return scheme_msg;
	if (strchr(end, '#') != NULL)
		return "must not have a fragment (#...)";
	if (!allow_query && strchr(end, '?') != NULL)
		return "must not have a query (?...)";
	return NULL;
}

/* ---- reading the file ---------------------------------------------- */

struct loader {
	FILE		*err;
	const char	*file;
	char		 dir[PATH_MAX_LEN];	/* relative paths start here */
	size_t		 nproblems;
};

/* One entry being read: what a problem's line names. */
struct entry {
	struct loader	*l;
	size_t		 idx;
	const char	*id;	/* once known to be a valid id, else NULL */
};

static void
vproblem(struct loader *l, const struct entry *e, const char *field,
    const char *fmt, va_list ap)
{
	if (l->nproblems++ >= PROBLEMS_SHOWN)
		return;
	fprintf(l->err, "bankfeed: institutions file %s: ", l->file);
	if (e != NULL) {
		fprintf(l->err, "entry %zu", e->idx);
		if (e->id != NULL)
			fprintf(l->err, " (\"%s\")", e->id);
		fputs(": ", l->err);
	}
	if (field != NULL)
		fprintf(l->err, "%s: ", field);
	vfprintf(l->err, fmt, ap);
	fputc('\n', l->err);
}

static void problem(struct loader *, const struct entry *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct loader *l, const struct entry *e, const char *field,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vproblem(l, e, field, fmt, ap);
	va_end(ap);
}

static void eproblem(struct entry *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
eproblem(struct entry *e, const char *field, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vproblem(e->l, e, field, fmt, ap);
	va_end(ap);
}

/*
 * The string value of field, 1 to max bytes without control characters.
 * NULL when absent or null (a problem when required) or when bad (a
 * problem).
 */
static const char *
get_str(struct entry *e, json_t *o, const char *field, int required,
    size_t max)
{
	json_t		*v = json_object_get(o, field);
	const char	*s;
	size_t		 n, i;

	if (v == NULL || json_is_null(v)) {
		if (required)
			eproblem(e, field, "missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		eproblem(e, field, "must be a string");
		return NULL;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max) {
		eproblem(e, field, "must be 1 to %zu bytes long", max);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			eproblem(e, field, "must not hold control characters");
			return NULL;
		}
	return s;
}

/* A copy of s owned by the entry, or NULL (with a problem) when out of memory. */
static char *
own(struct entry *e, const char *s)
{
	char	*c = strdup(s);

	if (c == NULL)
		eproblem(e, NULL, "out of memory");
	return c;
}

/* A URL field: checked, copied, without trailing slashes when a base. */
static const char *
get_url(struct entry *e, json_t *o, const char *field, int required,
    int allow_query)
{
	const char	*s = get_str(e, o, field, required, URL_MAX_LEN), *why;
	char		*c;
	size_t		 n;

	if (s == NULL)
		return NULL;
	if ((why = url_problem(s, allow_query)) != NULL) {
		eproblem(e, field, "%s", why);
		return NULL;
	}
	if ((c = own(e, s)) == NULL)
		return NULL;
	if (!allow_query)
		for (n = strlen(c); n > 0 && c[n - 1] == '/'; n--)
			c[n - 1] = '\0';
	return c;
}

/*
 * Whether path p (relative ones to the file's folder) is a readable PEM
 * file of the kind wanted; the absolute path, owned by the entry, or NULL
 * after a problem.  Only its first bytes are read, into memory that is
 * wiped after (a key file's bytes are a secret).
 */
static const char *
get_pem(struct entry *e, json_t *o, const char *field, int key)
{
	const char	*p = get_str(e, o, field, 0, PATH_MAX_LEN);
	char		 joined[2 * PATH_MAX_LEN + 2], *abs = NULL, *head = NULL;
	const char	*bad = NULL;
	struct stat	 st;
	ssize_t		 got;
	size_t		 n = 0;
	int		 fd = -1;

	if (p == NULL)
		return NULL;
	if (*p == '/')
		snprintf(joined, sizeof(joined), "%s", p);
	else
		snprintf(joined, sizeof(joined), "%s/%s", e->l->dir, p);
	if ((abs = realpath(joined, NULL)) == NULL ||
	    (fd = open(abs, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		eproblem(e, field, "cannot read %s: %s", joined, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		eproblem(e, field, "%s is not a file", abs);
		goto fail;
	}
	if ((head = sodium_malloc(PEM_HEAD + 1)) == NULL) {
		eproblem(e, field, "out of memory");
		goto fail;
	}
	while (n < PEM_HEAD && (got = read(fd, head + n, PEM_HEAD - n)) > 0)
		n += (size_t)got;
	head[n] = '\0';
	if (!key && strstr(head, "-----BEGIN CERTIFICATE-----") == NULL)
		bad = "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
	else if (key && (strstr(head, "-----BEGIN ") == NULL ||
	    strstr(head, "PRIVATE KEY-----") == NULL))
		bad = "holds no PEM private key (-----BEGIN PRIVATE KEY-----)";
	else if (key && (strstr(head, "ENCRYPTED PRIVATE KEY") != NULL ||
	    strstr(head, "Proc-Type: 4,ENCRYPTED") != NULL))
		bad = "is encrypted; bankfeed takes the key unencrypted (make "
		    "it readable by bankfeed's user alone)";
	sodium_memzero(head, PEM_HEAD + 1);
	sodium_free(head);
	if (bad != NULL) {
		eproblem(e, field, "%s %s", abs, bad);
		goto fail;
	}
	if (key && (st.st_mode & 077) != 0)
		log_warn("msg=\"institution key readable by others\" id=%s "
		    "path=%s hint=\"chmod 600\"", e->id ? e->id : "?", abs);
	close(fd);
	return abs;
fail:
	if (fd != -1)
		close(fd);
	free(abs);
	return NULL;
}

/* Whether s is short printable ASCII, fit to quote in a message. */
static int
printable(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ||
		    i >= 64)
			return 0;
	return i > 0;
}

static const char *const entry_fields[] = {
	"id", "name", "country", "bic", "protocol", "base_url",
	"sca_approaches", "requires_psu_ip", "tls_client_cert",
	"tls_client_key", "tpp_redirect_uri", "status", NULL
};

static void
entry_approaches(struct entry *e, json_t *o, struct institution *in)
{
	json_t	*a = json_object_get(o, "sca_approaches"), *v;
	size_t	 i, j, k;
	char	 field[48];

	if (a == NULL || json_is_null(a)) {
		eproblem(e, "sca_approaches", "missing: list the bank's, its "
		    "preferred first, such as [\"REDIRECT\", \"DECOUPLED\"]");
		return;
	}
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > SCA_APPROACHES_MAX) {
		eproblem(e, "sca_approaches", "must be a list of 1 to 3 of "
		    "\"REDIRECT\", \"EMBEDDED\", \"DECOUPLED\", the bank's "
		    "preferred first");
		return;
	}
	json_array_foreach(a, i, v) {
		snprintf(field, sizeof(field), "sca_approaches[%zu]", i);
		for (k = 0; k < SCA_APPROACHES_MAX; k++)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), sca_names[k].spec) == 0)
				break;
		if (k == SCA_APPROACHES_MAX) {
			eproblem(e, field, "must be \"REDIRECT\", \"EMBEDDED\" or "
			    "\"DECOUPLED\" (an OAuth approach counts as REDIRECT)");
			continue;
		}
		for (j = 0; j < in->nsca_approaches; j++)
			if (in->sca_approaches[j] == (enum sca_approach)k)
				break;
		if (j < in->nsca_approaches) {
			eproblem(e, field, "\"%s\" is listed twice",
			    sca_names[k].spec);
			continue;
		}
		in->sca_approaches[in->nsca_approaches++] = (enum sca_approach)k;
	}
}

/*
 * Reads entry e->idx of the file into in, which owns the copies made (even
 * when the entry has problems: institutions_free_entry() frees them).
 */
static void
entry_read(struct entry *e, json_t *o, struct institution *in)
{
	const char	*key, *s;
	json_t		*v;
	size_t		 i;

	memset(in, 0, sizeof(*in));
	in->protocol = "xs2a";
	in->status = "up";
	if (!json_is_object(o)) {
		eproblem(e, NULL, "must be an object such as {\"id\": ..., "
		    "\"name\": ..., ...}");
		return;
	}
	if ((s = get_str(e, o, "id", 1, 256)) != NULL) {
		if (!id_valid(s))
			eproblem(e, "id", "must be 1 to %d characters of a-z, "
			    "0-9, _ and -", INSTITUTION_ID_MAX - 1);
		else if ((in->id = own(e, s)) != NULL)
			e->id = in->id;
	}
	json_object_foreach(o, key, v) {
		for (i = 0; entry_fields[i] != NULL; i++)
			if (strcmp(entry_fields[i], key) == 0)
				break;
		if (entry_fields[i] == NULL)
			eproblem(e, printable(key) ? key : "(a field)",
			    "unknown field (README, \"Connecting a real "
			    "bank\", lists the fields)");
	}
	if ((s = get_str(e, o, "name", 1, NAME_MAX_LEN)) != NULL)
		in->name = own(e, s);
	if ((s = get_str(e, o, "country", 1, 64)) != NULL &&
	    (in->country = country_known(s)) == NULL)
		eproblem(e, "country", "\"%s\" is not an ISO 3166-1 alpha-2 "
		    "country code (capitals, such as DE)", s);
	if ((s = get_str(e, o, "bic", 0, 64)) != NULL) {
		if (!bic_valid(s))
			eproblem(e, "bic", "\"%s\" is not a BIC: 8 or 11 capitals "
			    "and digits, bank (4 letters), country, location (2), "
			    "branch (3, optional), such as INGDDEFFXXX", s);
		else
			in->bic = own(e, s);
	}
	if ((s = get_str(e, o, "protocol", 1, 32)) != NULL &&
	    strcmp(s, "xs2a") != 0)
		eproblem(e, "protocol", "\"%s\" is not a protocol an "
		    "institutions file can add (only \"xs2a\")", s);
	in->base_url = get_url(e, o, "base_url", 1, 0);
	entry_approaches(e, o, in);
	v = json_object_get(o, "requires_psu_ip");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		eproblem(e, "requires_psu_ip", "must be true or false");
	in->requires_psu_ip = json_is_true(v);
	in->tls_client_cert = get_pem(e, o, "tls_client_cert", 0);
	in->tls_client_key = get_pem(e, o, "tls_client_key", 1);
	/* A lone one is a mistake, not "no client certificate". */
	if (json_is_string(json_object_get(o, "tls_client_cert")) &&
	    !json_is_string(json_object_get(o, "tls_client_key")))
		eproblem(e, "tls_client_key", "missing: tls_client_cert needs "
		    "its private key");
	if (json_is_string(json_object_get(o, "tls_client_key")) &&
	    !json_is_string(json_object_get(o, "tls_client_cert")))
		eproblem(e, "tls_client_cert", "missing: tls_client_key is "
		    "set without its certificate");
	in->tpp_redirect_uri = get_url(e, o, "tpp_redirect_uri", 0, 1);
	if ((s = get_str(e, o, "status", 0, 32)) != NULL) {
		if (strcmp(s, "up") == 0)
			in->status = "up";
		else if (strcmp(s, "maintenance") == 0)
			in->status = "maintenance";
		else
			eproblem(e, "status", "must be \"up\" or "
			    "\"maintenance\"");
	}
}

/* Frees what entry_read() copied (the rest is static). */
static void
entry_free(struct institution *in)
{
	free((char *)in->id);
	free((char *)in->name);
	free((char *)in->bic);
	free((char *)in->base_url);
	free((char *)in->tls_client_cert);
	free((char *)in->tls_client_key);
	free((char *)in->tpp_redirect_uri);
}

/* The file's JSON array, or NULL after a problem. */
static json_t *
file_read(struct loader *l, const char *path)
{
	json_t		*j;
	json_error_t	 je;
	FILE		*f;
	char		*text = NULL;
	size_t		 n;
	const char	*slash;

	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(l->dir, sizeof(l->dir), ".");
	else if (slash == path)
		snprintf(l->dir, sizeof(l->dir), "/");
	else
		snprintf(l->dir, sizeof(l->dir), "%.*s", (int)(slash - path),
		    path);
	if ((f = fopen(path, "rb")) == NULL) {
		problem(l, NULL, NULL, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if ((text = malloc(INSTITUTIONS_FILE_MAX + 1)) == NULL) {
		fclose(f);
		problem(l, NULL, NULL, "out of memory");
		return NULL;
	}
	n = fread(text, 1, INSTITUTIONS_FILE_MAX + 1, f);
	if (ferror(f)) {
		problem(l, NULL, NULL, "cannot read: %s", strerror(errno));
		j = NULL;
	} else if (n > INSTITUTIONS_FILE_MAX) {
		problem(l, NULL, NULL, "larger than %d MiB",
		    INSTITUTIONS_FILE_MAX >> 20);
		j = NULL;
	} else if ((j = json_loadb(text, n, JSON_REJECT_DUPLICATES,
	    &je)) == NULL)
		problem(l, NULL, NULL, "line %d, column %d: %s", je.line,
		    je.column, je.text);
	fclose(f);
	free(text);
	if (j != NULL && (!json_is_array(j) ||
	    json_array_size(j) > INSTITUTIONS_MAX)) {
		problem(l, NULL, NULL, "must be a JSON array of at most %d "
		    "institutions, [{\"id\": ..., ...}, ...]", INSTITUTIONS_MAX);
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Reports ids that are there twice (the later entry), from sorted. */
static void
report_duplicates(struct loader *l, const struct institution **sorted,
    size_t n, const struct institution *all)
{
	struct entry	 e;
	size_t		 i, first, dup;

	for (i = 1; i < n; i++) {
		if (strcmp(sorted[i - 1]->id, sorted[i]->id) != 0)
			continue;
		first = (size_t)(sorted[i - 1] - all);
		dup = (size_t)(sorted[i] - all);
		e.l = l;
		e.idx = dup - NBUILTIN;
		e.id = sorted[i]->id;
		if (first < NBUILTIN)
			eproblem(&e, "id", "\"%s\" is already a built-in "
			    "institution's id", e.id);
		else
			eproblem(&e, "id", "\"%s\" is already entry %zu's id",
			    e.id, first - NBUILTIN);
	}
}

static void
free_list(struct institution *all, const struct institution **sorted,
    size_t n)
{
	size_t	i;

	if (all != NULL) {
		for (i = 0; i < NBUILTIN; i++)
			if (all[i].base_url != builtin[i].base_url)
				free((char *)all[i].base_url);
		for (i = NBUILTIN; i < n; i++)
			entry_free(&all[i]);
	}
	free(all);
	free(sorted);
}

/* Written once when the server listens, read by any thread after. */
static char		own_callback[256];
static _Atomic int	own_callback_set;

void
institutions_set_own_callback(const char *uri)
{
	if (atomic_load(&own_callback_set))
		return;
	snprintf(own_callback, sizeof(own_callback), "%s", uri);
	atomic_store(&own_callback_set, 1);
}

const char *
institution_redirect_uri(const struct institution *i)
{
	if (i->tpp_redirect_uri != NULL)
		return i->tpp_redirect_uri;
	if (strcmp(i->id, SANDBOX_XS2A_ID) == 0 &&
	    atomic_load(&own_callback_set))
		return own_callback;
	return NULL;
}

int
institutions_load(const char *path, const char *sandbox_xs2a_url, FILE *err)
{
	struct loader		 l;
	struct entry		 e;
	struct institution	*all = NULL;
	const struct institution **sorted = NULL;
	json_t			*j = NULL;
	size_t			 i, n = NBUILTIN, nfile = 0, nsorted;
	const char		*why;
	char			*url = NULL;

	institutions_free();
	memset(&l, 0, sizeof(l));
	l.err = err;
	l.file = path;
	if (path != NULL && *path != '\0') {
		if ((j = file_read(&l, path)) == NULL)
			goto fail;
		nfile = json_array_size(j);
		n += nfile;
	}
	if (sandbox_xs2a_url != NULL && *sandbox_xs2a_url != '\0') {
		if ((why = url_problem(sandbox_xs2a_url, 0)) != NULL) {
			fprintf(err, "bankfeed: sandbox-xs2a-url: %s\n", why);
			l.nproblems++;
			goto fail;
		}
		if ((url = strdup(sandbox_xs2a_url)) == NULL)
			goto oom;
		for (i = strlen(url); i > 0 && url[i - 1] == '/'; i--)
			url[i - 1] = '\0';
	}
	if ((all = calloc(n, sizeof(*all))) == NULL ||
	    (sorted = calloc(n, sizeof(*sorted))) == NULL)
		goto oom;
	memcpy(all, builtin, sizeof(builtin));
	for (i = 0; i < NBUILTIN; i++)
		if (url != NULL && strcmp(all[i].id, SANDBOX_XS2A_ID) == 0) {
			all[i].base_url = url;
			all[i].status = "up";
			all[i].why = NULL;
			url = NULL;
		}
	for (i = 0; i < nfile; i++) {
		e.l = &l;
		e.idx = i;
		e.id = NULL;
		entry_read(&e, json_array_get(j, i), &all[NBUILTIN + i]);
	}
	/* Entries whose id is bad have none, and are reported already. */
	for (i = nsorted = 0; i < n; i++)
		if (all[i].id != NULL)
			sorted[nsorted++] = &all[i];
	qsort(sorted, nsorted, sizeof(*sorted), cmp_id);
	report_duplicates(&l, sorted, nsorted, all);
	if (l.nproblems != 0)
		goto fail;
	json_decref(j);
	loaded = all;
	table = all;
	ntable = n;
	byid = sorted;
	for (i = 0; i < n; i++)
		if (connector_for(all[i].protocol) == NULL &&
		    strcmp(all[i].protocol, "file") != 0 &&
		    strcmp(all[i].status, "up") == 0)
			log_warn("msg=\"institution cannot be connected\" id=%s "
			    "protocol=%s reason=\"no connector for the protocol "
			    "in this build\"", all[i].id, all[i].protocol);
	log_info("msg=\"institutions\" builtin=%zu file=%zu", NBUILTIN, nfile);
	return 0;
oom:
	fprintf(err, "bankfeed: institutions: out of memory\n");
	l.nproblems++;
fail:
	if (l.nproblems > PROBLEMS_SHOWN)
		fprintf(err, "bankfeed: institutions file %s: and %zu more "
		    "problems\n", path, l.nproblems - PROBLEMS_SHOWN);
	free(url);
	free_list(all, sorted, all != NULL ? n : 0);
	json_decref(j);
	return -1;
}

void
institutions_free(void)
{
	if (loaded != NULL)
		free_list(loaded, byid, ntable);
	loaded = NULL;
	byid = NULL;
	table = builtin;
	ntable = NBUILTIN;
}

_Static_assert(INSTITUTIONS_MAX + 16 <= METRICS_INSTITUTIONS_MAX,
    "every institution's syncs are counted apart (core/metrics.c)");
