/*
 * txn_json: the one writer of a transaction's API object (txn_json.h).
 */
#include "core/txn_json.h"

#include "core/jw.h"
#include "core/money.h"

void
txn_json_write(struct jw *w, const struct txn_view *t)
{
	char	amount[MONEY_STRLEN];
	int	e = currency_exponent(t->currency);

	money_format(t->amount, e >= 0 ? e : 2, amount);
	jw_obj(w);
	jw_kstr(w, "id", t->id);
	jw_kstr(w, "account_id", t->account_id);
	jw_kstr(w, "status", t->status);
	jw_kstr(w, "booking_date", t->booking_date);
	jw_kstr(w, "value_date", t->value_date);
	jw_kstr(w, "amount", amount);
	jw_kstr(w, "currency", t->currency);
	jw_key(w, "counterparty");
	jw_obj(w);
	jw_kstr(w, "name", t->cp_name);
	jw_kstr(w, "iban", t->cp_iban);
	jw_obj_end(w);
	jw_kstr(w, "description", t->description);
	jw_kstr(w, "bank_transaction_code", t->bank_transaction_code);
	jw_kstr(w, "bank_reference", t->bank_reference);
	jw_kstr(w, "details_bank_transaction_code",
	    t->details_bank_transaction_code);
	jw_obj_end(w);
}
