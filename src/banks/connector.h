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
 * The Berlin Group XS2A connector (redirect / embedded / decoupled SCA over
 * HTTP with libcurl's multi interface) is planned behind this same interface.
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

enum bank_chal_kind { BANK_CHAL_QUESTION, BANK_CHAL_TAN, BANK_CHAL_CHOICE };

struct bank_challenge {
	char			key[BANK_KEY_MAX];
	enum bank_chal_kind	kind;
	char			prompt[BANK_PROMPT_MAX];
	char			options[BANK_MAX_OPTIONS][BANK_OPTION_MAX];
	size_t			noptions;
};

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

/* What the caller knows of the request, for every operation. */
struct bank_ctx {
	const char	*institution_id;
	long long	 now;		/* unix seconds: the server's clock */
	const char	*psu_ip;	/* the end user's IP; NULL when unattended */
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

#endif
