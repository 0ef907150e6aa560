/*
 * institutions: the banks bankfeed can connect to.  The built-in ones are
 * institutions.def; an operator adds Berlin Group XS2A banks with an
 * institutions file (--institutions; README, "Connecting a real bank").
 *
 * The list is loaded once at start, before any thread runs, and is
 * read-only after: lookups take no lock, and the pointers they return stay
 * valid until institutions_free() at shutdown.  Before a load (CLI tools,
 * unit tests) the built-in institutions alone are listed.
 */
#ifndef BF_INSTITUTIONS_H
#define BF_INSTITUTIONS_H

#include <stddef.h>
#include <stdio.h>

/* How the bank authenticates its user (NextGenPSD2 "SCA approach"). */
enum sca_approach { SCA_REDIRECT, SCA_EMBEDDED, SCA_DECOUPLED };
#define SCA_APPROACHES_MAX	3

#define INSTITUTION_ID_MAX	64	/* an id's bytes with the NUL */
#define INSTITUTIONS_MAX	5000	/* entries of an institutions file */
#define INSTITUTIONS_FILE_MAX	(4 << 20) /* its bytes */

/* The built-in institution that reaches `bankfeed sandbox-bank` over XS2A. */
#define SANDBOX_XS2A_ID		"sandbox_xs2a"

struct institution {
	const char	*id;		/* [a-z0-9_-], at most 63 bytes */
	const char	*name;
	const char	*country;	/* ISO 3166-1 alpha-2; "ZZ": none */
	const char	*bic;		/* NULL when none */
	const char	*protocol;	/* "sandbox", "file", "xs2a" */
	const char	*status;	/* "up" or "maintenance" */
	int		 requires_psu_ip;
	/* The SCA approaches the bank offers, its preferred first. */
	enum sca_approach sca_approaches[SCA_APPROACHES_MAX];
	size_t		 nsca_approaches;
	/* What makes the status "maintenance", for the error; or NULL. */
	const char	*why;
	/*
	 * xs2a: the bank's XS2A root, an https:// URL (http:// only on a
	 * loopback host) without a trailing slash: requests go to
	 * base_url + "/v1/consents" and so on.  NULL for other protocols, and
	 * for sandbox_xs2a while --sandbox-xs2a-url is unset.
	 */
	const char	*base_url;
	/* The eIDAS QWAC and its private key, absolute PEM paths; both or
	 * neither (NULL).  bankfeed checked at start that both are readable. */
	const char	*tls_client_cert;
	const char	*tls_client_key;
	/* Where the bank sends the user's browser back after a redirect SCA
	 * (TPP-Redirect-URI); NULL: none (institution_redirect_uri()). */
	const char	*tpp_redirect_uri;
};

/*
 * Makes the list: the built-in institutions, sandbox_xs2a at
 * sandbox_xs2a_url ("" or NULL: listed in maintenance), then the entries of
 * the institutions file at path ("" or NULL: none), in the file's order.
 * Call once, before any thread that looks institutions up.  Returns 0, or
 * -1 after printing every problem to err, one line each, naming the file,
 * the entry (index from 0, and id) and the field.
 */
int	institutions_load(const char *path, const char *sandbox_xs2a_url,
	    FILE *err);
/* Back to the built-in list; frees what institutions_load() made. */
void	institutions_free(void);

size_t	institutions_count(void);
/* The i-th institution in listing order, i < institutions_count(). */
const struct institution *institution_at(size_t i);
/* The institution with this id, or NULL (a binary search once loaded). */
const struct institution *institution_find(const char *id);

/*
 * The server's own GET /v1/callback/xs2a, as a browser on this machine
 * reaches it (http://127.0.0.1:PORT/v1/callback/xs2a), once it listens.
 * sandbox_xs2a has no tpp_redirect_uri of its own: it uses this one, so
 * that a redirect SCA at sandbox-bank comes back to this server.
 */
void	institutions_set_own_callback(const char *uri);
/* The TPP-Redirect-URI for institution i: its tpp_redirect_uri, for
 * sandbox_xs2a the server's own callback; NULL when there is none. */
const char *institution_redirect_uri(const struct institution *i);

/* "REDIRECT", "EMBEDDED", "DECOUPLED": the Berlin Group spelling. */
const char *sca_approach_name(enum sca_approach);
/* "redirect", "embedded", "decoupled": the spelling of bankfeed's API. */
const char *sca_approach_api_name(enum sca_approach);

#endif
