/*
 * xs2a: the Berlin Group NextGenPSD2 (XS2A) connector, internal to
 * src/banks/xs2a*.c and its tests.
 *
 *   xs2a.c		the connector: operations, requests, retries, the state
 *   xs2a_auth.c	consent and SCA (redirect, embedded, decoupled)
 *   xs2a_fetch.c	accounts, balances, transactions (JSON, camt, MT940)
 *   xs2a_net.c		HTTP exchanges on one network thread (libcurl multi)
 *   xs2a_map.c		tppMessages to catalog entries, JSON bodies, links
 *   xs2a_records.c	bank JSON to records (accounts, balances, transactions)
 *   xs2a_codes.def	the table of tppMessages codes and catalog entries
 *			(xs2a_codes.c reads it, sandbox-bank too)
 */
#ifndef BF_XS2A_INT_H
#define BF_XS2A_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "banks/connector.h"
#include "banks/xs2a_codes.h"
#include "core/buf.h"
#include "core/records.h"

/* Limits: a bank's answer larger than XS2A_BODY_MAX is refused whole. */
#define XS2A_BODY_MAX		(8u << 20)
#define XS2A_URL_MAX		1024
#define XS2A_ID_MAX		128
#define XS2A_MAX_ACCOUNTS	256
#define XS2A_MAX_BALANCES	16
#define XS2A_MAX_PAGES		500
/* Requests of one fetch in flight at once, after the account list. */
#define XS2A_LANES		8

/* ---- the institution (until the institutions file gives these) ---- */

#define XS2A_APPROACHES(A) \
	A(XA_REDIRECT, "REDIRECT") \
	A(XA_EMBEDDED, "EMBEDDED") \
	A(XA_DECOUPLED, "DECOUPLED") \
	A(XA_OAUTH, "OAUTH")

enum xs2a_approach {
#define A(e, s) e,
	XS2A_APPROACHES(A)
#undef A
	XA__COUNT
};

struct xs2a_inst {
	char			base_url[XS2A_URL_MAX];	/* no trailing slash */
	enum xs2a_approach	approaches[XA__COUNT];	/* bank's preference */
	size_t			napproaches;
	char			tls_cert[512];		/* QWAC PEM path, "" */
	char			tls_key[512];
	char			tpp_redirect_uri[XS2A_URL_MAX];	/* "" none */
};

/* xs2a.c: the institution's XS2A settings.  0, or -1 when it has none. */
int	xs2a_inst_get(const char *institution_id, struct xs2a_inst *);
const char *xs2a_approach_name(enum xs2a_approach);
int	xs2a_approach_parse(const char *, enum xs2a_approach *);

/* ---- xs2a_net.c: HTTP exchanges ---- */

struct xs2a_req {
	const char	*method;		/* "GET", "POST", "PUT" */
	const char	*url;
	const char	*const *headers;	/* "Name: value", NULL-terminated */
	const char	*body;			/* NULL: none */
	size_t		 bodylen;
	const char	*tls_cert, *tls_key;	/* "" or NULL: none */
	long		 timeout_ms;
};

/* What came back.  status 0: no HTTP answer (see cc). */
struct xs2a_resp {
	int		 cc;		/* CURLcode */
	long		 status;
	int		 too_big;	/* the body passed XS2A_BODY_MAX */
	const char	*body;		/* NUL-terminated, "" when none */
	size_t		 len;
	char		 ctype[96];	/* Content-Type, "" */
	char		 approach[16];	/* ASPSP-SCA-Approach, "" */
	long long	 retry_after;	/* Retry-After seconds, -1 none */
	char		 errbuf[256];	/* libcurl's words for cc */
};

struct xs2a_xfer;

/*
 * Starts an exchange: it runs on the network thread, which calls
 * wake(arg) (and bank_notify()) when it ended.  The request's strings are
 * copied; a body is wiped when the exchange is freed (it may carry a
 * password).  NULL when libcurl cannot be loaded or memory runs out.
 */
struct xs2a_xfer *xs2a_xfer_start(const struct xs2a_req *,
	    const struct bank_ctx *wake);
int	xs2a_xfer_done(struct xs2a_xfer *);
/* The answer of a done exchange; valid until xs2a_xfer_free(). */
const struct xs2a_resp *xs2a_xfer_resp(struct xs2a_xfer *);
/* Frees a done exchange, or abandons a running one (the network thread
 * frees it, and calls no wake function for it). */
void	xs2a_xfer_free(struct xs2a_xfer *);
/* Whether the CURLcode means nothing reached the bank (safe to resend). */
int	xs2a_cc_unsent(int cc);
int	xs2a_cc_tls(int cc);

/* Exchanges started and not yet freed (tests: none may be left behind). */
long	xs2a_net_live(void);

/* ---- xs2a.c, xs2a_auth.c, xs2a_fetch.c: operations ---- */

/*
 * The phases of an operation: each sends one request and reads its answer,
 * but PH_LANES, where the accounts' requests run as lanes (PH_BALANCES,
 * PH_TXNS), several at once.
 */
enum xs2a_phase {
	PH_CONSENT,		/* POST /v1/consents */
	PH_START_AUTH,		/* POST /v1/consents/{id}/authorisations */
	PH_UPDATE,		/* PUT .../authorisations/{aid} */
	PH_SCA_STATUS,		/* GET .../authorisations/{aid} (decoupled) */
	PH_CONSENT_STATUS,	/* GET /v1/consents/{id}/status */
	PH_ACCOUNTS,		/* GET /v1/accounts */
	PH_BALANCES,		/* GET /v1/accounts/{id}/balances (a lane) */
	PH_TXNS,		/* GET /v1/accounts/{id}/transactions, next pages
				 * (a lane) */
	PH_LANES,		/* the lanes of every account, several at once */
	PH_DONE
};

/* The challenge an authorization waits for (the state's "pending"). */
#define XS2A_PENDING(P) \
	P(PEND_NONE, "") \
	P(PEND_METHOD, "method") \
	P(PEND_TAN, "tan") \
	P(PEND_DECOUPLED, "decoupled") \
	P(PEND_REDIRECT, "redirect")

enum xs2a_pending {
#define P(e, s) e,
	XS2A_PENDING(P)
#undef P
	PEND__COUNT
};

/* What an authorisation request carries (PH_START_AUTH, PH_UPDATE). */
enum xs2a_upd { UPD_NONE, UPD_PASSWORD, UPD_METHOD, UPD_TAN };

/*
 * The connector's state string, kept by the caller between operations:
 * the consent and its authorisation, where the SCA stands, and what is
 * needed to show its challenge again.  Never a password or a TAN.
 */
struct xs2a_state {
	char			consent[XS2A_ID_MAX];
	char			auth[XS2A_ID_MAX];	/* authorisationId, "" */
	char			psu_id[128];		/* PSU-ID (username) */
	int			authorized;
	enum xs2a_pending	pending;
	char			prompt[BANK_PROMPT_MAX];
	char			url[BANK_URL_MAX];	/* redirect */
	long long		poll_at;		/* decoupled: unix s */
	struct {
		char	opt[BANK_OPTION_MAX];		/* shown to the user */
		char	id[XS2A_ID_MAX];		/* authenticationMethodId */
	}			methods[BANK_MAX_OPTIONS];
	size_t			nmethods;
};

enum xs2a_op_kind { OP_LOGIN, OP_ANSWER, OP_FETCH };

/*
 * One sequence of requests of a fetch after the account list: an
 * account's balances, or its transaction pages one after the other.
 * Up to XS2A_LANES of them run at once.
 */
struct xs2a_lane {
	enum xs2a_phase		 kind;		/* PH_BALANCES, PH_TXNS */
	size_t			 ai;		/* the account */
	struct xs2a_xfer	*x;		/* in flight or held, NULL */
	long long		 deadline_ms;
	long long		 retry_ms;
	int			 tries;
	char			 next[XS2A_URL_MAX];	/* next page, "" */
	int			 pages;
	int			 accept;	/* 0 JSON, 1 XML, 2 text */
};

struct bank_op {
	enum xs2a_op_kind	 kind;
	enum xs2a_phase		 phase;
	enum xs2a_stage		 stage;		/* of the request in flight */
	struct xs2a_inst	 inst;
	struct xs2a_state	 st;
	struct bank_ctx		 waker;		/* the ctx's wake, wake_arg */
	char			 psu_ip[64];
	char			 cb_state[256];
	long long		 now;		/* ctx->now */
	char			 today[11];

	struct bank_auth	*auth;		/* login, answer */
	struct bank_fetch_result *res;		/* fetch */
	struct bank_sink	 sink;

	/* login and answer */
	char			*secret;	/* sodium: password, method, TAN */
	size_t			 secretn;
	enum xs2a_upd		 upd;		/* what PH_START_AUTH/UPDATE send */
	int			 pw_sent;
	int			 consent_try;	/* 1: bank-offered consent */
	int			 confirm;	/* consent status after finalised */

	/* the exchange in flight, and retries */
	struct xs2a_xfer	*x;
	const char		*method;
	long long		 x_deadline_ms;
	int			 tries;
	long long		 retry_ms;

	/* fetch: the accounts, delivered in their order (ai the next) */
	char			 from[11], to[11];
	struct xs2a_account	*acc;
	size_t			 nacc, ai;
	size_t			 work;		/* next lane to start: 2/account */
	struct xs2a_lane	 lanes[XS2A_LANES];
	size_t			 nlanes;
};

/* Test settings: exchange timeout, first retry wait, decoupled poll. */
void	xs2a_set_timing(long timeout_ms, long backoff_ms, long poll_ms);
long	xs2a_poll_ms(void);

/* Sends a request of op's phase: 0, or -1 after failing op. */
enum xs2a_hdrs { H_GET, H_GET_CONSENT, H_CONSENT, H_AUTH };
int	xs2a_send(struct bank_op *, const char *method, const char *url,
	    enum xs2a_hdrs, const char *accept, const char *body, size_t n);
/* The same, for an exchange op does not hold in op->x (a lane): the
 * exchange, *deadline_ms set; NULL after failing op. */
struct xs2a_xfer *xs2a_start(struct bank_op *, const char *method,
	    const char *url, enum xs2a_hdrs, const char *accept,
	    const char *body, size_t n, long long *deadline_ms);
/*
 * Whether a request of method that got r on its try tries + 1 (from 0) is
 * sent again: 1 with *wait_ms before it, or 0.  A GET after any fault,
 * 5xx or 408; a 429 whose Retry-After is short; any method when nothing
 * was sent.
 */
int	xs2a_retry_wait(const char *method, int tries,
	    const struct xs2a_resp *, long long *wait_ms);
/* Ends op with an error (login/answer: BANK_FAILED). */
void	xs2a_fail(struct bank_op *, enum err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	xs2a_fail_with(struct bank_op *, const struct bank_error *);
/* The error of a non-2xx answer, at op's stage; ends op unless the code
 * concerns one account and per_account is wanted (then 1 and *e). */
int	xs2a_answer_error(struct bank_op *, const struct xs2a_resp *,
	    int per_account_ok, struct bank_error *e);
/* URL of base + path (printf-style), into out of XS2A_URL_MAX: 0 or -1. */
int	xs2a_url(struct bank_op *, char *out, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Keeps a value to send (password, method id, TAN) in sodium memory. */
int	xs2a_keep_secret(struct bank_op *, const char *);
int	xs2a_state_write(const struct xs2a_state *, struct buf *);
int	xs2a_state_read(const char *, struct xs2a_state *);

/* xs2a_auth.c and xs2a_fetch.c: each phase's request and answer. */
int	xs2a_auth_send(struct bank_op *);
void	xs2a_auth_recv(struct bank_op *, const struct xs2a_resp *);
/* Starts an answer operation's first phase from the state (or ends it). */
void	xs2a_auth_answer(struct bank_op *, const struct bank_answer *, size_t);
int	xs2a_fetch_send(struct bank_op *);
void	xs2a_fetch_recv(struct bank_op *, const struct xs2a_resp *);
/* PH_LANES: advances the lanes (BANK_WAIT until *until_ms, or done). */
enum bank_rc xs2a_fetch_step(struct bank_op *, long long *until_ms);
/* Frees what the lanes hold (their exchanges abandoned). */
void	xs2a_fetch_free(struct bank_op *);

/* ---- xs2a_map.c and xs2a_records.c: from the bank's answers ---- */

/*
 * The catalog entry and message of a failed answer (status >= 300, or a
 * 2xx whose body is no use): tppMessages first (xs2a_codes.def), else the
 * status.  *per_account is set when the code concerns the one account
 * addressed, not the whole connection.
 */
void	xs2a_map_error(const struct xs2a_resp *, enum xs2a_stage,
	    struct bank_error *, int *per_account);
/* A network fault (r->status == 0) as a catalog entry. */
void	xs2a_map_fault(const struct xs2a_resp *, enum xs2a_stage,
	    struct bank_error *);
/* BANK_RESPONSE_INVALID with a reason: a body that is no use. */
void	xs2a_invalid(struct bank_error *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* A JSON string member of at most max bytes: 1 and *out, 0 absent, -1
 * wrong type, too long or holding a NUL. */
int	xs2a_jstr(json_t *, const char *key, const char **out, size_t max);
/* The body as a JSON object, or NULL with err filled. */
json_t	*xs2a_json_body(const struct xs2a_resp *, struct bank_error *err);

/* A bank account as GET /v1/accounts lists it. */
struct xs2a_account {
	char		 resource_id[XS2A_ID_MAX];
	char		 key[128];	/* rec_account.bank_id: IBAN... */
	char		 iban[64], bban[64], masked_pan[64], msisdn[64];
	char		 bic[16];
	char		*name;		/* malloc'd, NULL */
	char		*owner;		/* malloc'd, NULL */
	enum acct_type	 type;
	char		 currency[4];
	struct rec_balance bal[XS2A_MAX_BALANCES];
	size_t		 nbal;
	/* A card's creditLimit (cardAccountDetails), kept apart so that
	 * GET .../balances, which replaces bal, keeps it as a balance. */
	struct rec_balance limit;
	int		 has_limit;
	/* The fetch: balances read, record or error delivered, failed
	 * (with err, delivered in the accounts' order). */
	int		 bal_done, delivered, failed;
	struct bank_error err;
};

/*
 * GET /v1/accounts: fills *out (calloc'd array, *n entries) or fails with
 * err (the list is refused whole).  Each account's key is its IBAN (with
 * its currency when several accounts share one), else BBAN, masked PAN,
 * MSISDN or "xs2a:" + resourceId.
 */
int	xs2a_parse_accounts(json_t *, struct xs2a_account **out, size_t *n,
	    struct bank_error *err);
void	xs2a_accounts_free(struct xs2a_account *, size_t);
/* GET .../balances into a->bal. */
int	xs2a_parse_balances(json_t *, struct xs2a_account *a,
	    struct bank_error *err);
/* A rec_account of a (its strings borrowed from a). */
void	xs2a_account_record(const struct xs2a_account *, struct rec_account *);

/* One page of transactions, checked whole before any record goes out. */
struct xs2a_page {
	json_t		*root;
	struct rec_txn	*txns;		/* strings borrowed from root */
	size_t		 n;
	char		*strs;		/* joined texts (remittance arrays) */
	char		 next[XS2A_URL_MAX];	/* _links.next href, "" */
};

/* today: YYYY-MM-DD for pending entries without a date. */
int	xs2a_parse_transactions(json_t *root, const char *today,
	    struct xs2a_page *, struct bank_error *err);
void	xs2a_page_free(struct xs2a_page *);

/*
 * Resolves href (absolute, or relative to the base URL's origin) into out,
 * and checks it stays on the base URL's scheme, host and port.  0, or -1
 * with err filled (BANK_RESPONSE_INVALID) when it leads elsewhere.
 */
int	xs2a_link(const char *base_url, const char *href, char *out,
	    size_t outn, struct bank_error *err);

#endif
