/*
 * accdata: accounts, balances and transactions as every source writes them
 * (bank syncs, statement imports).  Rows are upserted by a stable identity,
 * so a re-sync or a re-import never stores anything twice:
 *   - an account by its key at the source (bank id, else IBAN, else number);
 *   - a transaction by the bank's id when it has a stable one, else by a
 *     fingerprint of its content (see sync.c); a booked transaction that
 *     names the id it had while pending takes over that row and its id.
 * Every added or changed transaction gets the next change sequence number,
 * which the incremental feed (GET /v1/transactions/sync) reads.
 */
#ifndef BF_ACCDATA_H
#define BF_ACCDATA_H

#include <stdint.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/records.h"
#include "store/db.h"

enum txn_change { TXN_SAME, TXN_ADDED, TXN_UPDATED };

/*
 * What the accounts of one connection already hold, kept in memory across
 * the batches of a task (accdata_batch_begin_known): each transaction's
 * key, id and content hash, read in one pass on the account's first
 * transaction, so that a transaction delivered again unchanged costs no
 * query.  About 80 bytes a row used, 120 allocated: 12 MB for 100,000
 * rows.  An account created by the delivery is not kept (its rows are
 * inserted without looking).  A batch that finds another writer moved the
 * connection's transactions since the last commit, or a batch rolled back,
 * turns it off: from then on rows are looked up one by one.  The process
 * holds at most ACCDATA_KNOWN_ROWS rows (36 MB) in all; an account beyond
 * that is looked up row by row.
 */
#define ACCDATA_KNOWN_ROWS	300000
struct accdata_known;

struct accdata_known	*accdata_known_new(const char *connection_id);
void			 accdata_known_free(struct accdata_known *);
/*
 * 0 when k knows that account_id holds no pending transaction (none was
 * read, none delivered since); 1 when it may.  Valid in a batch begun
 * with k, which checks that no other writer came.
 */
int			 accdata_known_pending(const struct accdata_known *,
			    const char *account_id);

/* A write batch: one transaction, one read and one write of the sequence. */
struct accdata_batch {
	struct db		*db;
	int			 open;
	int64_t			 seq;	/* last sequence number used */
	struct accdata_known	*known;	/* NULL: every row is looked up */
	/* The account last written to, and the numbers its rows are keyed by. */
	char			 acc_id[ID_MAX];
	int64_t			 acc_num, con_num;
};

int	accdata_batch_begin(struct accdata_batch *, struct db *);
/* A batch that uses and keeps up k (the caller's, used by one batch at a
 * time; NULL as accdata_batch_begin). */
int	accdata_batch_begin_known(struct accdata_batch *, struct db *,
	    struct accdata_known *k);
int	accdata_batch_commit(struct accdata_batch *);
void	accdata_batch_abort(struct accdata_batch *);

/* Upserts an account (and replaces its balances); fills its id, and
 * *created (when not NULL) says whether it is new. */
int	accdata_account(struct accdata_batch *, const char *connection_id,
	    const struct rec_account *, char id_out[ID_MAX], int *created);
/* Marks one account unreachable (created if new); fills its id. */
int	accdata_account_error(struct accdata_batch *, const char *connection_id,
	    const char *bank_key, enum err, const char *message,
	    char id_out[ID_MAX]);
/*
 * Upserts a transaction under key (its stable identity) and, for a booked
 * one, pending_key (the bank id it had while pending).  fresh: the account
 * was created by this delivery, so the row is most likely new (inserted
 * without looking first).  Fills its id and what changed.
 */
int	accdata_txn(struct accdata_batch *, const char *connection_id,
	    const char *account_id, const struct rec_txn *, const char *key,
	    const char *pending_key, int fresh, char id_out[ID_MAX],
	    enum txn_change *);

/* After a complete sync: accounts not seen are closed, their history kept. */
int	accdata_close_unseen(struct accdata_batch *, const char *connection_id,
	    const char *const *seen_ids, size_t nseen);
/*
 * After a complete sync: pending transactions of the accounts it delivered
 * that were not seen again (nor booked) are removed: hidden, and reported
 * by the feed.  An account the bank no longer lists keeps its history
 * whole.
 */
int	accdata_remove_unseen_pending(struct accdata_batch *,
	    const char *const *account_ids, size_t naccounts,
	    const char *const *seen_ids, size_t nseen);

/*
 * The identity of a transaction that has no stable bank id: a hash of its
 * content, and which of its identical twins in one delivery it is (two
 * equal coffees on one day stay two rows).  One map per delivery.
 */
struct accdata_fp {
	unsigned char	(*keys)[16];
	unsigned	 *counts;
	size_t		  cap, n;
};

void	accdata_fp_free(struct accdata_fp *);
/* Fills out (80 bytes) with "f:<hash>:<occurrence>"; -1 when out of memory. */
int	accdata_fp_key(struct accdata_fp *, const char *account_id,
	    const struct rec_txn *, char out[80]);

/*
 * The data version: the transaction change counter, moved by every write
 * of a transaction and by accdata_bump_version() (deletions).  A rendered
 * answer stamped with it is current as long as it does not move.
 */
int	accdata_version(struct db *, int64_t *out);
/* After a deletion is committed, outside any transaction (-1 inside one). */
int	accdata_bump_version(struct db *);

/* The account key of a record: bank id, IBAN, number or name. */
const char *accdata_account_key(const struct rec_account *);
/* Masks a card or account number: "****1234". out holds 32 bytes. */
void	accdata_mask_number(const char *number, char out[32]);

/*
 * Schema 7's step: gives each stored transaction without one its doc, the
 * object the API shows (txn_json.h).  0, or -1 on a storage error.
 */
int	accdata_backfill_docs(struct db *);

#endif
