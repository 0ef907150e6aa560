/*
 * records: the normalized account data every source produces, whatever the
 * bank or the file format (Sandbox Bank, XS2A, camt.053, MT940, OFX), and
 * that the store keeps.
 *
 * Producers hand records to a consumer one at a time (callbacks), so a
 * 100,000-transaction sync or a 1 GB statement file never sits in memory
 * whole.  String fields are borrowed: valid only during the call that
 * passes the record; a consumer copies what it keeps.  NULL means absent.
 * Amounts are minor units of `currency` (see money.h); dates are YYYY-MM-DD
 * or "" when unknown.
 */
#ifndef BF_RECORDS_H
#define BF_RECORDS_H

#include <stddef.h>
#include <stdint.h>

/* Account types of API.md. R(enum, json name) */
#define ACCT_TYPES(R) \
	R(ACCT_CHECKING, "checking") \
	R(ACCT_SAVINGS, "savings") \
	R(ACCT_CREDIT_CARD, "credit_card") \
	R(ACCT_LOAN, "loan") \
	R(ACCT_INVESTMENT, "investment") \
	R(ACCT_OTHER, "other")

enum acct_type {
#define R(e, s) e,
	ACCT_TYPES(R)
#undef R
};

/*
 * Balance types with their ISO 20022 code (camt.053 BalanceType12Code) and
 * Berlin Group name.  R(enum, json name, ISO code, Berlin Group balanceType)
 */
#define BAL_TYPES(R) \
	R(BAL_BOOKED, "booked", "CLBD", "closingBooked") \
	R(BAL_AVAILABLE, "available", "CLAV", "closingAvailable") \
	R(BAL_OPENING_BOOKED, "opening_booked", "OPBD", "openingBooked") \
	R(BAL_OPENING_AVAILABLE, "opening_available", "OPAV", "openingAvailable") \
	R(BAL_INTERIM_BOOKED, "interim_booked", "ITBD", "interimBooked") \
	R(BAL_INTERIM_AVAILABLE, "interim_available", "ITAV", "interimAvailable") \
	R(BAL_FORWARD_AVAILABLE, "forward_available", "FWAV", "forwardAvailable") \
	R(BAL_EXPECTED, "expected", "XPCD", "expected") \
	R(BAL_PREVIOUSLY_CLOSED, "previously_closed_booked", "PRCD", "previouslyClosedBooked") \
	R(BAL_INFORMATION, "information", "INFO", "information") \
	R(BAL_CREDIT_LIMIT, "credit_limit", "", "creditLimit")

enum bal_type {
#define R(e, s, iso, bg) e,
	BAL_TYPES(R)
#undef R
	BAL__COUNT
};

enum txn_status { TXN_BOOKED, TXN_PENDING };

struct rec_balance {
	enum bal_type	 type;
	int64_t		 amount;
	char		 currency[4];
	char		 date[11];
};

struct rec_account {
	const char	*bank_id;	/* the source's stable id of the account */
	const char	*iban;
	const char	*number;	/* non-IBAN account or card number as given */
	const char	*bic;
	const char	*name;
	enum acct_type	 type;
	char		 currency[4];
	const char	*holder_name;
	const char	*holder_address;
	const char	*holder_email;
	const struct rec_balance *balances;
	size_t		 nbalances;
};

struct rec_txn {
	const char	*bank_id;	/* the source's id, when stable */
	const char	*pending_bank_id; /* booked: the id it had while pending */
	enum txn_status	 status;
	char		 booking_date[11];
	char		 value_date[11];
	int64_t		 amount;
	char		 currency[4];
	const char	*cp_name;	/* counterparty */
	const char	*cp_iban;
	const char	*description;	/* remittance information */
	const char	*bank_transaction_code;
	const char	*bank_reference;
	/*
	 * camt: the TxDtls' own bank transaction code when the entry's
	 * (bank_transaction_code, which wins) says something else; else NULL.
	 */
	const char	*details_bank_transaction_code;
	const char	*end_to_end_id;
};

const char	*acct_type_name(enum acct_type);
int		 acct_type_parse(const char *, enum acct_type *);
const char	*bal_type_name(enum bal_type);
/* From an ISO 20022 balance code ("CLBD"); -1 when unknown. */
int		 bal_type_from_iso(const char *, enum bal_type *);

#endif
