/*
 * connector: what a bank protocol implements so that bankfeed can log in,
 * present the bank's challenges (MFA / SCA), pass the user's answers, and
 * fetch accounts, balances and transactions.
 *
 * Banks are reached over the network, where every step can take seconds.
 * So no connector call blocks: each one starts an operation (struct
 * bank_op), and bank_step() advances it.  A step that waits on the bank
 * returns BANK_WAIT with the time it wants to be called again (and, for
 * HTTP connectors, later the sockets to watch); the caller parks the
 * operation and uses its thread for other work meanwhile.  So 500 syncs
 * waiting on slow banks hold no worker threads.
 *
 * A connector never returns free-form errors: a failure is a catalog entry
 * plus the bank's own message text (struct bank_error).  It knows nothing of
 * the store or of HTTP: records go to a sink (records.h), and what it must
 * remember between operations (a consent id, the Sandbox Bank's username)
 * is an opaque state string that the caller keeps encrypted.
 *
 * The Berlin Group XS2A connector (xs2a.c: redirect / embedded / decoupled
 * SCA over HTTP) implements the same interface.  Its HTTP exchanges run on
 * one network thread of its own; when one ends, it calls the wake function
 * of the operation's bank_ctx (and bank_notify()), so the caller need not
 * poll: an operation waiting on a bank costs a socket and a struct, never
 * a thread.
 */
#ifndef BF_CONNECTOR_H
#define BF_CONNECTOR_H

#include <stddef.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/records.h"

#define BANK_MAX_CHALLENGES	8
#define BANK_KEY_MAX		64
#define BANK_PROMPT_MAX		256
#define BANK_MAX_OPTIONS	8
#define BANK_OPTION_MAX		64
#define BANK_MSG_MAX		512
#define BANK_STATE_MAX		4096
#define BANK_URL_MAX		2048

/*
 * Challenge kinds, with their name in the API.  K(enum, name, answered):
 * answered 0 means the end user acts elsewhere and the session needs no
 * answer to go on (a redirect to the bank's page, a confirmation in the
 * bank's app).
 */
#define BANK_CHAL_KINDS(K) \
	K(BANK_CHAL_QUESTION, "question", 1) \
	K(BANK_CHAL_TAN, "tan", 1) \
	K(BANK_CHAL_CHOICE, "choice", 1) \
	K(BANK_CHAL_REDIRECT, "redirect", 0) \
	K(BANK_CHAL_DECOUPLED, "decoupled", 0)

enum bank_chal_kind {
#define K(e, name, answered) e,
	BANK_CHAL_KINDS(K)
#undef K
	BANK_CHAL__COUNT
};

struct bank_challenge {
	char			key[BANK_KEY_MAX];
	enum bank_chal_kind	kind;
	char			prompt[BANK_PROMPT_MAX];
	char			options[BANK_MAX_OPTIONS][BANK_OPTION_MAX];
	size_t			noptions;
	char			url[BANK_URL_MAX];	/* redirect: the bank's page */
};

/* The API name of a kind ("tan"), and whether it takes an answer. */
const char	*bank_chal_kind_name(enum bank_chal_kind);
int		 bank_chal_kind_parse(const char *, enum bank_chal_kind *);
int		 bank_chal_answered(enum bank_chal_kind);

/* A failure: the catalog entry and the bank's own words ("" when none). */
struct bank_error {
	enum err	code;
	char		message[BANK_MSG_MAX];
};

/*
 * Login credentials and stored MFA answers.  The caller keeps these in
 * sodium_malloc'ed memory and wipes them after the call that takes them;
 * a connector copies nothing of them into its state, its errors or a log.
 */
struct bank_secret {
	const char	*username;
	const char	*password;
};

struct bank_answer {
	const char	*key;
	const char	*value;
};

/* The value answered for key among n answers, or NULL. */
const char	*bank_answer_get(const struct bank_answer *, size_t n,
		    const char *key);

/* What the caller knows of the request, for every operation. */
struct bank_ctx {
	const char	*institution_id;
	long long	 now;		/* unix seconds: the server's clock */
	const char	*psu_ip;	/* the end user's IP; NULL when unattended */
	/*
	 * Login and answer: the value that brings the end user's browser
	 * back to this authorization session from the bank's page (the
	 * state parameter of bankfeed's callback URL), or NULL.
	 */
	const char	*callback_state;
	/*
	 * Called, from any thread, when an operation started with this ctx
	 * may step again before the time its last BANK_WAIT gave (a bank
	 * answered).  May be NULL: the caller then steps at that time, and
	 * bank_run_blocking() hears of it through bank_notify().  Never
	 * called after op_free() of the operation returned.
	 */
	void		(*wake)(void *arg);
	void		*wake_arg;
};

enum bank_auth_outcome {
	BANK_AUTHORIZED,	/* access granted: fetch may follow */
	BANK_CHALLENGE,		/* the bank asks: answer the challenges */
	BANK_FAILED		/* refused: see error */
};

/* The result of a login or answer operation. */
struct bank_auth {
	enum bank_auth_outcome	 outcome;
	struct bank_challenge	 challenges[BANK_MAX_CHALLENGES];
	size_t			 nchallenges;
	struct bank_error	 error;
	/*
	 * A challenge that takes no answer and is finished by asking the
	 * bank again (decoupled): when it may be asked (unix seconds, the
	 * bank's wait or Retry-After), so that the caller can ask in the
	 * background by then; 0 when there is nothing to ask.
	 */
	long long		 poll_at;
	/* The connector's state to keep for the next operation (JSON text). */
	struct buf		 state;
};

/*
 * Where fetched data goes.  account() comes before the transactions of that
 * account; account_error() marks one account as unreachable (seed 003's
 * ACCESS_DENIED, ACCOUNT_BLOCKED...) without failing the others.  A
 * callback returning non-zero stops the fetch (the caller's own failure).
 */
struct bank_sink {
	void	*arg;
	int	(*account)(void *, const struct rec_account *);
	int	(*account_error)(void *, const char *account_bank_id,
		    const struct bank_error *);
	int	(*txn)(void *, const char *account_bank_id,
		    const struct rec_txn *);
};

struct bank_fetch_req {
	const char		*from;		/* YYYY-MM-DD: oldest booking date wanted */
	const char		*to;		/* YYYY-MM-DD */
	/*
	 * For an unattended refresh that meets a login at the bank: the
	 * stored credentials and answers, or NULL when none are stored.
	 */
	const struct bank_secret *secret;
	const struct bank_answer *answers;
	size_t			 nanswers;
};

/* What a fetch says besides the records it gave the sink. */
struct bank_fetch_result {
	struct bank_error	error;		/* ERR_OK when it completed */
	/* The bank asked for MFA again after authorization (a warning). */
	int			mfa_after_authorization;
	struct buf		state;		/* updated state, "" = unchanged */
};

enum bank_rc {
	BANK_DONE,	/* the operation finished; its result is filled */
	BANK_WAIT	/* call bank_step() again at wait_until_ms or later */
};

struct bank_op;

struct connector {
	const char	*protocol;	/* "sandbox", "xs2a" */
	/* Start operations: they never block and never fail to start
	 * except for lack of memory (NULL). */
	struct bank_op	*(*login)(const struct bank_ctx *,
			    const struct bank_secret *, struct bank_auth *);
	struct bank_op	*(*answer)(const struct bank_ctx *, const char *state,
			    const struct bank_answer *, size_t,
			    struct bank_auth *);
	struct bank_op	*(*fetch)(const struct bank_ctx *, const char *state,
			    const struct bank_fetch_req *,
			    const struct bank_sink *, struct bank_fetch_result *);
	/* Advance; on BANK_WAIT sets *wait_until_ms (CLOCK_MONOTONIC ms). */
	enum bank_rc	 (*step)(struct bank_op *, long long *wait_until_ms);
	void		 (*op_free)(struct bank_op *);
};

/* The connector for a protocol name, or NULL. */
const struct connector *connector_for(const char *protocol);

void	bank_auth_init(struct bank_auth *);
void	bank_auth_free(struct bank_auth *);
void	bank_fetch_result_init(struct bank_fetch_result *);
void	bank_fetch_result_free(struct bank_fetch_result *);
void	bank_error_set(struct bank_error *, enum err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Runs an operation to its end on the calling thread, sleeping through its
 * waits: for CLI tools and tests, and for steps known to be quick.
 */
void	bank_run_blocking(const struct connector *, struct bank_op *);

/* Milliseconds of CLOCK_MONOTONIC. */
long long bank_monotonic_ms(void);

/*
 * A connector's operation may step again (a bank answered): calls the
 * ctx's wake function when there is one, and wakes every
 * bank_run_blocking() so that it steps at once.  The connector's own
 * threads call this; it never blocks for long.
 */
void	bank_notify(const struct bank_ctx *);

#endif
