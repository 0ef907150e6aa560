/*
 * txn_json: a transaction as the API shows it, written once.
 *
 * The same object is stored with each row when it is written (its "doc"
 * column, so that a page read is a copy of stored bytes, not a rendering
 * of 14 columns), and rendered from the columns of a row written before
 * the doc existed.  Either way it comes from txn_json_write().
 *
 * A change to the object's shape is therefore a schema migration too: a
 * new column if it needs one, then "UPDATE transactions SET doc = NULL"
 * and accdata_backfill_docs() as its C step, so that no row keeps the old
 * shape.
 */
#ifndef BF_TXN_JSON_H
#define BF_TXN_JSON_H

#include <stdint.h>

struct jw;

/* A transaction's shown fields; NULL text is shown as null. */
struct txn_view {
	const char	*id;
	const char	*account_id;
	const char	*status;		/* "booked" or "pending" */
	const char	*booking_date;		/* NULL or YYYY-MM-DD */
	const char	*value_date;
	int64_t		 amount;		/* minor units */
	const char	*currency;
	const char	*cp_name;
	const char	*cp_iban;
	const char	*description;
	const char	*bank_transaction_code;
	const char	*bank_reference;
	const char	*details_bank_transaction_code;
};

void	txn_json_write(struct jw *, const struct txn_view *);

#endif
