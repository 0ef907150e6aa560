/*
 * sandbox_int: what sandbox.c (scenarios, login, challenges, fetch steps)
 * and sandbox_data.c (the generated accounts and transactions) share.
 * Not for use outside src/banks/sandbox*.c.
 */
#ifndef BF_SANDBOX_INT_H
#define BF_SANDBOX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/iban.h"
#include "core/records.h"
#include "core/warnings.h"

/* How the bank authorizes at login. */
enum sb_mfa {
	MFA_NONE,
	MFA_QUESTION,		/* one question */
	MFA_QUESTIONS,		/* three questions */
	MFA_TAN,		/* one TAN */
	MFA_CHOICE,		/* a method, then a TAN */
	MFA_FAIL		/* a TAN whose answer fails with the entry */
};

/* What the bank does at fetch. */
enum sb_fetch {
	FETCH_OK,
	FETCH_FAIL,		/* fails with the scenario's entry */
	FETCH_REAUTH,		/* asks a new question: stored answers */
	FETCH_EXTRA_SCA,	/* asks an extra confirmation, approved */
	FETCH_SLOW		/* waits sandbox_slow_ms() first */
};

/* Which accounts the bank lists. */
enum sb_plan {
	PLAN_NONE,
	PLAN_GOOD,		/* checking + card */
	PLAN_CARD_ONLY,
	PLAN_EMPTY_SAVINGS,	/* good + savings at 0.00 */
	PLAN_IDLE_SAVINGS,	/* good + savings at 5,000.00, no txns */
	PLAN_DUP_CHECKING,	/* good + the checking account again */
	PLAN_DISAPPEARS,	/* good, the card only on the first sync */
	PLAN_LARGE,		/* one account, 100,000 transactions */
	PLAN__COUNT
};

/* Changes to the good data, one warning each. */
enum sb_mut {
	MUT_NO_HOLDER		= 1u << 0,
	MUT_NO_EMAIL		= 1u << 1,
	MUT_NO_ADDRESS		= 1u << 2,
	MUT_ADDRESS_INCOMPLETE	= 1u << 3,
	MUT_BAD_EMAIL		= 1u << 4,
	MUT_NO_IBAN		= 1u << 5,
	MUT_TXN_INCOMPLETE	= 1u << 6,
	MUT_WRONG_ORDER		= 1u << 7,
	MUT_TXN_DUP		= 1u << 8,
	MUT_BAD_CURRENCY	= 1u << 9,
	MUT_DROP_LAST_MONTH	= 1u << 10,
	MUT_DROP_LAST15		= 1u << 11,
	MUT_PAN			= 1u << 12,
	MUT_BALANCE_OFF		= 1u << 13,
	MUT_OUT_OF_PERIOD	= 1u << 14
};

/* The kinds of account the bank has. */
enum sb_kind {
	KIND_CHECKING,
	KIND_CARD,
	KIND_SAVINGS_EMPTY,
	KIND_SAVINGS_IDLE,
	KIND_LARGE,
	KIND__COUNT
};

#define SB_PLAN_MAX	4
struct sb_plan_acct {
	enum sb_kind	 kind;
	const char	*suffix;	/* of the account's bank id */
	int		 first_sync_only;
};

/* The accounts of a plan; *account_error_target: the index an
 * account-stage error hits. */
size_t	sb_plan_accounts(enum sb_plan, const struct sb_plan_acct **);

/* A username's behaviour. */
struct sb_scenario {
	char		 username[96];
	enum sb_mfa	 mfa;
	enum sb_fetch	 fetch;
	enum sb_plan	 plan;
	unsigned	 mut;
	enum err	 err;		/* ERR_OK: none */
	enum err_stage	 stage;
	enum warn	 warn;		/* WARN__COUNT: none */
	const char	*doc;
};

/* 0 and *out filled when the username exists, else -1. */
int	sb_lookup(const char *username, struct sb_scenario *out);
/* The bank's words for a catalog entry. */
const char *sb_message(enum err);

/* ---- sandbox_data.c ---- */

#define SB_TXT		160
#define SB_DAY_MAX	40	/* events booked on one day, at most */

/* One generated transaction. */
struct sb_ev {
	long		tday;		/* transaction (authorization) day */
	long		bday;		/* booking day */
	int64_t		amount;
	int		lag;		/* > 0: pending until bday */
	int		released;	/* a pre-authorization: on bday it
					 * is released, never booked */
	char		id[40];		/* booked id ("" if never) */
	char		pid[40];	/* id while pending ("" if never) */
	char		cp[72];
	char		cp_iban[IBAN_MAX];
	char		desc[SB_TXT];
	char		btc[24];
	char		ref[40];
	char		e2e[48];
};

#define SB_MONTH_CACHE	16

/* What the generator needs: who, when, which changes. */
struct sb_gen {
	uint64_t	user;		/* hash of the username */
	long		today;
	unsigned	mut;
	long		lm_first, lm_last;	/* the previous month */
	struct {
		int	kind;
		long	first;
		int64_t	sum;
	}		cache[SB_MONTH_CACHE];
	size_t		ncache;
};

/* An account record with the storage its strings point to. */
struct sb_account {
	char			bank_id[48];
	char			iban[IBAN_MAX];
	char			number[32];
	char			bic[12];
	char			name[48];
	char			holder[64];
	char			address[96];
	char			email[64];
	struct rec_balance	bal[4];
	struct rec_account	rec;
};

void	sb_gen_init(struct sb_gen *, const char *username, long today,
	    unsigned mut);
/* The history a kind serves: the first day of a fetch of [from, to]. */
int	sb_history_days(enum sb_kind);
/*
 * Fills the account of kind k (the plan's suffix makes its bank id) with
 * its balances for the window [s, e] (e <= today).
 */
void	sb_account_make(struct sb_gen *, enum sb_kind, const char *suffix,
	    long s, long e, struct sb_account *);
/* Booked on day d / authorized on day t and still pending today. */
size_t	sb_day_booked(struct sb_gen *, enum sb_kind, long d,
	    struct sb_ev *out, size_t max);
size_t	sb_day_pending(struct sb_gen *, enum sb_kind, long t,
	    struct sb_ev *out, size_t max);
/* The synthetic transaction of MUT_OUT_OF_PERIOD, dated day. */
void	sb_out_of_period(struct sb_gen *, long day, struct sb_ev *);
/* user_large: transactions on day d, and the i-th of them. */
size_t	sb_large_count(long d);
/* *daysum: the running sum of the day's earlier amounts (0 at i = 0). */
void	sb_large_txn(struct sb_gen *, long d, size_t i, int64_t *daysum,
	    struct sb_ev *);
/* The record of an event, borrowing its strings. */
void	sb_ev_record(const struct sb_ev *, int pending, struct rec_txn *);

#endif
