/*
 * xs2a_bank_int: what the parts of bankfeed sandbox-bank share.  Not for
 * use outside src/banks/xs2a_bank*.c.
 *
 *   xs2a_bank.c       the command, the routes, the consent store, answers
 *   xs2a_bank_consent.c  consents, and the choice of SCA approach
 *   xs2a_bank_sca.c   authorisations (embedded, decoupled) and the
 *                     bank's dialogue through its connector
 *   xs2a_bank_page.c  the redirect approach's page
 *   xs2a_bank_ais.c   accounts, balances, transactions
 *   xs2a_bank_doc.c   its section of docs/sandbox.md
 *
 * Consents and their authorisations live in memory, at most
 * XB_CONSENTS_MAX; one mutex guards them all.  The Sandbox Bank itself is
 * its connector (sandbox_connector): logins, answers and fetches go
 * through it, so usernames, data and errors are the built-in bank's.
 */
#ifndef BF_XS2A_BANK_INT_H
#define BF_XS2A_BANK_INT_H

#include <stddef.h>

#include <jansson.h>

#include "banks/connector.h"
#include "core/iban.h"
#include "core/ids.h"
#include "core/jw.h"

struct req;

#define XB_CONSENTS_MAX	4096	/* then the one used longest ago goes */
#define XB_AUTHS_MAX	4	/* authorisations of one consent */
#define XB_REFS_MAX	8	/* account references of one access list */
#define XB_REF_MAX	36	/* an IBAN or a masked PAN (35) + NUL */
#define XB_USES_MAX	16	/* resources counted for frequencyPerDay */
#define XB_PSU_MAX	96	/* a PSU-ID (a sandbox username) */
#define XB_URI_MAX	1024	/* TPP-Redirect-URI, TPP-Nok-Redirect-URI */

/* Decoupled: the app approves at this poll or after this time. */
#define XB_DECOUPLED_POLLS	3
#define XB_DECOUPLED_SECONDS	5

enum xb_approach { XB_EMBEDDED, XB_DECOUPLED, XB_REDIRECT };

enum xb_cstatus { CST_RECEIVED, CST_REJECTED, CST_VALID, CST_EXPIRED,
	CST_TERMINATED };

enum xb_sca { SCA_RECEIVED, SCA_PSU_IDENTIFIED, SCA_PSU_AUTHENTICATED,
	SCA_METHOD_SELECTED, SCA_STARTED, SCA_FINALISED, SCA_FAILED };

/* What a consent gives access to. */
enum xb_scope {
	SCOPE_ALL,		/* allPsd2, or a bank-offered consent */
	SCOPE_LIST,		/* availableAccounts: the list only */
	SCOPE_LIST_BALANCES,	/* availableAccountsWithBalance */
	SCOPE_REFS		/* the accounts named in the lists */
};

/* An account reference: an IBAN or a masked PAN. */
struct xb_ref {
	char	id[XB_REF_MAX];
	int	masked;
};

enum xb_list { XL_ACCOUNTS, XL_BALANCES, XL_TRANSACTIONS, XL__COUNT };

struct xb_access {
	enum xb_scope	 scope;
	const char	*all_value;	/* "allAccounts"... as asked, or NULL */
	const char	*all_key;	/* "allPsd2", "availableAccounts"... */
	struct xb_ref	 refs[XL__COUNT][XB_REFS_MAX];
	size_t		 nrefs[XL__COUNT];
};

struct xb_auth {
	char			 id[ID_MAX];
	enum xb_sca		 sca;
	char			*state;		/* the connector's, NULL before login */
	struct bank_challenge	*chal;		/* what the bank asks now */
	size_t			 nchal;
	char			*ans[BANK_MAX_CHALLENGES];	/* sodium_malloc'd */
	size_t			 nans;
	char			 method[BANK_OPTION_MAX];	/* chosen */
	int			 polls;		/* decoupled status requests */
	double			 t0;		/* decoupled start, clock_mono() */
	char			 message[BANK_MSG_MAX];	/* psuMessage */
};

struct xb_consent {
	char		 id[ID_MAX];
	enum xb_cstatus	 status;
	struct xb_access access;
	long		 valid_until;	/* day */
	long		 last_action;	/* day */
	int		 freq;
	int		 recurring;
	char		 psu_id[XB_PSU_MAX];
	enum xb_approach approach;
	int		 explicit_start;
	char		 redirect_uri[XB_URI_MAX];
	char		 nok_uri[XB_URI_MAX];
	/* The connector state once authorised: reads use state_read; an
	 * account list starts a new sync from state_next. */
	char		*state_read, *state_next;
	struct xb_auth	*auth[XB_AUTHS_MAX];
	size_t		 nauth;
	struct {
		char	key[64];
		long	day;
		int	n;
	}		 use[XB_USES_MAX];
	size_t		 nuse;
	double		 touched;	/* clock_mono() */
};

/* ---- xs2a_bank.c ---- */

void		 xb_lock(void);
void		 xb_unlock(void);
/* Locked: the consent with that id, or NULL. */
struct xb_consent *xb_consent_find(const char *id);
/* Locked: a new consent, status received, with a fresh id; NULL when out
 * of memory.  A full store drops the consent used longest ago. */
struct xb_consent *xb_consent_new(void);
/* Locked: the authorisation with that id, of c or (c NULL) of any. */
struct xb_auth	*xb_auth_find(struct xb_consent *c, const char *id,
		    struct xb_consent **owner);
struct xb_auth	*xb_auth_new(struct xb_consent *);
/* Forgets what an authorisation holds of the bank's dialogue. */
void		 xb_auth_clear(struct xb_auth *);
/* The bank's day now (the clock of bank data, clock_now()). */
long		 xb_today(void);

const char	*xb_cstatus_name(enum xb_cstatus);
const char	*xb_sca_name(enum xb_sca);
const char	*xb_approach_name(enum xb_approach);

/*
 * Every /v1 request carries X-Request-ID, a UUID: 0, or -1 after
 * answering 400 FORMAT_ERROR.
 */
int		 xb_request_ok(struct req *);
/* An error answer: {"tppMessages":[{category, code, path?, text}]}. */
void		 xb_error(struct req *, int http, const char *code,
		    const char *path, const char *text);
/* The answer of a catalog entry (xs2a_codes.def), with the bank's words
 * when it has some, else the table's. */
void		 xb_error_entry(struct req *, const struct bank_error *);
/* The request's JSON object body ({} when empty): 0, or -1 answered. */
int		 xb_body(struct req *, json_t **);
/* A header that must be "true" or "false": 1, 0, -1 when absent, -2
 * answered (400). */
int		 xb_bool_header(struct req *, const char *name);
/* "_links" member: name -> {"href": "/v1/consents/<id><tail>"}. */
void		 xb_link(struct jw *, const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Copies a string of at most n - 1 bytes, cut at a UTF-8 boundary. */
void		 xb_copy(char *out, size_t n, const char *s);

/*
 * http://HOST:PORT of this bank as the request reached it, for links a
 * browser follows (the redirect page).
 */
void		 xb_base_url(struct req *, char *out, size_t n);

/* ---- xs2a_bank_consent.c ---- */

/* Usernames whose SCA approach is not EMBEDDED by default. */
struct xb_user_approach {
	const char		*user;
	enum xb_approach	 approach;
};
extern const struct xb_user_approach	xb_user_approaches[];
extern const size_t			xb_nuser_approaches;

/* The PSU-ID header, when given: 1, 0 absent, -1 answered. */
int	xb_psu_header(struct req *, char out[XB_PSU_MAX]);
/* Locked on success: the consent of the path; -1 answered (unlocked). */
int	xb_consent_of_path(struct req *, struct xb_consent **);

void	xb_h_consents_create(struct req *);
void	xb_h_consent_get(struct req *);
void	xb_h_consent_delete(struct req *);
void	xb_h_consent_status(struct req *);

/* ---- xs2a_bank_sca.c ---- */

/* The bank's dialogue, through sandbox_connector (locked). */
void	xb_run_login(const char *user, const char *password,
	    struct bank_auth *);
/* Answers the authorisation's challenges with the answers it holds. */
void	xb_run_answer(struct xb_auth *, struct bank_auth *);
/* Keeps an answer (a secret, sodium_malloc'd) until the bank has it. */
int	xb_add_answer(struct xb_auth *, const char *);
/* Takes the bank's answer into the consent and its authorisation. */
void	xb_apply(struct xb_consent *, struct xb_auth *,
	    const struct bank_auth *);
/* The name of an SCA method of the TAN choice ("sms": "SMS"). */
const char *xb_method_name(const char *id);

void	xb_h_auth_start(struct req *);
void	xb_h_auth_list(struct req *);
void	xb_h_auth_get(struct req *);
void	xb_h_auth_update(struct req *);

/* ---- xs2a_bank_page.c ---- */

void	xb_h_page_get(struct req *);
void	xb_h_page_post(struct req *);

/* ---- xs2a_bank_ais.c ---- */

void	xb_h_accounts(struct req *);
void	xb_h_account(struct req *);
void	xb_h_balances(struct req *);
void	xb_h_transactions(struct req *);
/* How long answers wait (--latency-ms) and user_slow's list. */
void	xb_set_latency_ms(long long);
void	xb_set_slow_ms(long long);
/* Sends r's answer --latency-ms (plus extra_ms) late. */
void	xb_hold(struct req *, long long extra_ms);

#endif
