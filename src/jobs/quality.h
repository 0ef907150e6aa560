/*
 * quality: the data-quality checks of a sync (seed 001's warnings, see
 * src/core/warnings.def and docs/warnings.md).
 *
 * A streaming checker: the sync feeds it the records it stores, one at a
 * time and with bankfeed's own ids, in the order the bank delivered them
 * (account before its transactions), then asks for the warnings.  Memory
 * is bounded per account, whatever the number of transactions: one warning
 * per (name, account) is kept, with its first transaction and a count.
 *
 *	q = quality_new(now);
 *	quality_period(q, req.from, req.to);
 *	... quality_account(q, "acc_1", &acct);
 *	... quality_txn(q, "acc_1", "txn_9", &txn);
 *	... quality_account_error(q, "acc_2", ERR_ACCOUNT_BLOCKED);
 *	if (result.mfa_after_authorization) quality_mfa_after_authorization(q);
 *	quality_finish(q, on_warning, arg);
 *	quality_free(q);
 *
 * Record strings are borrowed for the call only (records.h); ids are
 * copied when kept.  Not thread-safe: one checker per sync.
 */
#ifndef BF_QUALITY_H
#define BF_QUALITY_H

#include <stddef.h>

#include "core/errors.h"
#include "core/records.h"
#include "core/warnings.h"

#define QUALITY_MAX_ACCOUNTS	1000	/* more: ERR_INTERNAL_ERROR */
#define QUALITY_DAY_TXNS	4096	/* TransactionDuplicate: per booking date */
#define QUALITY_DETAIL_MAX	320

struct quality;

/*
 * One warning.  account_id is NULL for connection-wide warnings; txn_id is
 * NULL unless the warning names a transaction.  All strings are valid
 * during the call only.
 */
typedef void	(*quality_cb)(void *arg, const char *name,
		    const char *account_id, const char *txn_id,
		    const char *detail);

/* A checker for a sync at unix time now (its "today", UTC); NULL on ENOMEM. */
struct quality	*quality_new(long long now);
void		 quality_free(struct quality *);

/*
 * The period the sync asked for (YYYY-MM-DD, NULL = open-ended), before any
 * record.  Absence checks only judge what the period covers, and
 * transactions outside it are TransactionsMisconfigured.  Without a call,
 * the period is open on both sides.  ERR_INVALID_REQUEST on a bad date.
 */
enum err	 quality_period(struct quality *, const char *from,
		    const char *to);

/* An account delivered by the bank.  ERR_INTERNAL_ERROR on ENOMEM/limit. */
enum err	 quality_account(struct quality *, const char *account_id,
		    const struct rec_account *);

/*
 * An account the bank listed but refused (the sink's account_error);
 * account_id may be NULL when the sync made no account of it.
 */
enum err	 quality_account_error(struct quality *,
		    const char *account_id, enum err code);

/* A transaction of account_id (txn_id: bankfeed's id, may be NULL). */
enum err	 quality_txn(struct quality *, const char *account_id,
		    const char *txn_id, const struct rec_txn *);

/* The fetch result said mfa_after_authorization. */
void		 quality_mfa_after_authorization(struct quality *);

/*
 * Runs the checks that need the whole sync and calls cb once per warning:
 * connection-wide ones first, then per account in delivery order, each in
 * catalog order.  Returns the number of warnings.  Call once.
 */
size_t		 quality_finish(struct quality *, quality_cb cb, void *arg);

/* Exposed for tests and for other checks of the same rules. */
int		 quality_email_valid(const char *);
int		 quality_address_complete(const char *);
/* 1 when s holds a full card number (Luhn-valid PAN token); see docs. */
int		 quality_has_pan(const char *s);

#endif
