/*
 * Accounts and their transactions: the read path clients call most, so the
 * JSON is written straight from the rows with jw, and a page of an
 * account's transactions is one range scan of the table's clustered key.
 */
#include "api/api.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "http/http.h"
#include "store/accdata.h"
#include "store/store.h"

static int
exponent_of(const char *currency)
{
	int	e = currency_exponent(currency);

	return e >= 0 ? e : 2;
}

static void
write_amount(struct jw *w, int64_t minor, const char *currency)
{
	char	s[MONEY_STRLEN];

	money_format(minor, exponent_of(currency), s);
	jw_kstr(w, "amount", s);
	jw_kstr(w, "currency", currency);
}

/* Writes one account; s is positioned on its row (ACCOUNT_COLS). */
#define ACCOUNT_COLS "a.id, a.connection_id, a.name, a.type, a.iban, " \
	"a.masked_number, a.currency, a.status, a.error_code, a.error_message, " \
	"a.holder_name, a.holder_address, a.holder_email"

static void
write_account(struct jw *w, struct db *db, struct db_stmt *s)
{
	struct db_stmt	*b;

	jw_obj(w);
	jw_kstr(w, "id", db_col_text(s, 0));
	jw_kstr(w, "connection_id", db_col_text(s, 1));
	jw_kstr(w, "name", db_col_text(s, 2));
	jw_kstr(w, "type", db_col_text(s, 3));
	jw_kstr(w, "iban", db_col_text(s, 4));
	jw_kstr(w, "masked_number", db_col_text(s, 5));
	jw_kstr(w, "currency", db_col_text(s, 6));
	jw_kstr(w, "status", db_col_text(s, 7));
	error_object_kopt(w, "error", db_col_null(s, 8) ? 0 :
	    (int)db_col_int(s, 8), NULL, db_col_text(s, 9));
	jw_key(w, "holder");
	jw_obj(w);
	jw_kstr(w, "name", db_col_text(s, 10));
	jw_kstr(w, "address", db_col_text(s, 11));
	jw_kstr(w, "email", db_col_text(s, 12));
	jw_obj_end(w);
	jw_key(w, "balances");
	jw_arr(w);
	b = db_q(db, "SELECT type, amount, currency, reference_date FROM balances "
	    "WHERE account_id = ? ORDER BY type", "t", db_col_text(s, 0));
	while (b != NULL && db_step(b) == DB_ROW) {
		jw_obj(w);
		jw_kstr(w, "type", db_col_text(b, 0));
		write_amount(w, db_col_int(b, 1), db_col_text(b, 2));
		jw_kstr(w, "reference_date", db_col_text(b, 3));
		jw_obj_end(w);
	}
	db_done(b);
	jw_arr_end(w);
	jw_obj_end(w);
}

void
h_accounts_list(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct page	 p;
	struct jw	 w;
	const char	*user = req_query(r, "user_id");
	const char	*con = req_query(r, "connection_id");
	char		 last[ID_MAX];
	int		 n = 0, more = 0;

	if (page_parse(r, &p) == -1)
		return;
	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (con != NULL)
		s = db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a JOIN "
		    "connections c ON a.connection_id = c.id WHERE c.client_id = ? "
		    "AND a.connection_id = ? AND a.id > ? ORDER BY a.id LIMIT ?",
		    "ttti", r->client_id, con, p.after, (int64_t)p.limit + 1);
	else if (user != NULL)
		s = db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a JOIN "
		    "connections c ON a.connection_id = c.id WHERE c.client_id = ? "
		    "AND c.user_id = ? AND a.id > ? ORDER BY a.id LIMIT ?", "ttti",
		    r->client_id, user, p.after, (int64_t)p.limit + 1);
	else
		s = db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a JOIN "
		    "connections c ON a.connection_id = c.id WHERE c.client_id = ? "
		    "AND a.id > ? ORDER BY a.id LIMIT ?", "tti", r->client_id,
		    p.after, (int64_t)p.limit + 1);
	if (s == NULL) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	last[0] = '\0';
	page_begin(r, &w);
	while (db_step(s) == DB_ROW) {
		if (n == p.limit) {
			more = 1;
			break;
		}
		write_account(&w, db, s);
		snprintf(last, sizeof(last), "%s", db_col_text(s, 0));
		n++;
	}
	db_done(s);
	page_end(r, &w, last, more);
}

void
h_accounts_get(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct jw	 w;

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	s = db_q(db, "SELECT " ACCOUNT_COLS " FROM accounts a JOIN connections c "
	    "ON a.connection_id = c.id WHERE a.id = ? AND c.client_id = ?", "tt",
	    req_param(r, 0), r->client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		resp_begin(r, 200, &w);
		write_account(&w, db, s);
	} else
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
	db_done(s);
}

/* A text column as a JSON string (or null), without measuring it again. */
static void
kcol(struct jw *w, const char *key, struct db_stmt *s, int col)
{
	const char	*v = db_col_text(s, col);

	jw_key(w, key);
	if (v == NULL)
		jw_null(w);
	else
		jw_strn(w, v, db_col_len(s, col));
}

/* Writes one transaction; s is positioned on its row (TXN_COLS). */
void
accounts_write_txn(struct jw *w, struct db_stmt *s)
{
	jw_obj(w);
	kcol(w, "id", s, 0);
	kcol(w, "account_id", s, 1);
	kcol(w, "status", s, 2);
	kcol(w, "booking_date", s, 3);
	kcol(w, "value_date", s, 4);
	write_amount(w, db_col_int(s, 5), db_col_text(s, 6));
	jw_key(w, "counterparty");
	jw_obj(w);
	kcol(w, "name", s, 7);
	kcol(w, "iban", s, 8);
	jw_obj_end(w);
	kcol(w, "description", s, 9);
	kcol(w, "bank_transaction_code", s, 10);
	kcol(w, "bank_reference", s, 11);
	jw_obj_end(w);
}

/* The first_seq of the row a schema 2 cursor names, or -1. */
static int64_t
old_cursor(struct db *db, const char *account_id, const char *date,
    const char *txn_id)
{
	struct db_stmt	*s;
	int64_t		 seq = -1;

	s = db_q(db, "SELECT t.first_seq FROM accounts a JOIN transactions t ON "
	    "t.account_num = a.num WHERE a.id = ? AND t.sort_date = ? AND "
	    "t.id = ?", "ttt", account_id, date, txn_id);
	if (s != NULL && db_step(s) == DB_ROW)
		seq = db_col_int(s, 0);
	db_done(s);
	return seq;
}

/*
 * GET /v1/accounts/{id}/transactions: newest first, by the date a
 * transaction was first seen with (its booking date, or a pending one's
 * transaction date), then by when it was added (its first_seq), the
 * table's clustered order.  That order never changes for a row, so the
 * cursor (the last date and first_seq seen, "2026-03-01|4711", sealed)
 * neither skips nor repeats rows while syncs insert or book transactions.
 * Cursors of schema 2 ("2026-03-01|txn_...", given out in the plain "c1."
 * form) still work: the row they name is looked up.
 */
void
h_accounts_transactions(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct page	 p;
	struct vctx	 v;
	struct jw	 w;
	const char	*from = req_query(r, "from"), *to = req_query(r, "to");
	const char	*status = req_query(r, "status");
	char		 after_date[11] = "9999-99-99", after_id[ID_MAX] = "";
	char		 last[48], key[1024], *end;
	int64_t		 after_seq = INT64_MAX;
	int64_t		 version = -1;
	int		 n = 0, more = 0;
	struct rblob	*blob;

	if (page_parse(r, &p) == -1)
		return;
	v_init(&v);
	if (from != NULL && !v_is_date(from))
		v_add(&v, "from", "Must be a date YYYY-MM-DD.");
	if (to != NULL && !v_is_date(to))
		v_add(&v, "to", "Must be a date YYYY-MM-DD.");
	if (status != NULL && strcmp(status, "booked") != 0 &&
	    strcmp(status, "pending") != 0)
		v_add(&v, "status", "Must be booked or pending.");
	if (p.after[0] != '\0') {
		const char *bar = strchr(p.after, '|');

		if (bar == NULL || bar - p.after != 10 || bar[1] == '\0')
			v_add(&v, "cursor", "Not a cursor this server gave out.");
		else if (strncmp(bar + 1, "txn_", 4) == 0 &&
		    strlen(bar + 1) < sizeof(after_id)) {
			memcpy(after_date, p.after, 10);
			snprintf(after_id, sizeof(after_id), "%s", bar + 1);
		} else {
			memcpy(after_date, p.after, 10);
			errno = 0;
			after_seq = strtoll(bar + 1, &end, 10);
			if (*end != '\0' || errno != 0 || after_seq < 0 ||
			    !(bar[1] >= '0' && bar[1] <= '9'))
				v_add(&v, "cursor",
				    "Not a cursor this server gave out.");
		}
	}
	if (v_failed(&v)) {
		v_respond(&v, r);
		v_free(&v);
		return;
	}
	v_free(&v);
	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	/*
	 * A page rendered before is served again while the data version has
	 * not moved (read first: a page is never newer than its stamp says).
	 */
	snprintf(key, sizeof(key), "txns|%s|%s|%s|%s|%s|%d|%s", r->client_id,
	    req_param(r, 0), from ? from : "", to ? to : "", status ? status : "",
	    p.limit, p.after);
	if (accdata_version(db, &version) == 0 &&
	    rcache_get(key, version, &blob)) {
		resp_blob(r, 200, blob);
		return;
	}
	if (db_exists(db, "SELECT 1 FROM accounts a JOIN connections c ON "
	    "a.connection_id = c.id WHERE a.id = ? AND c.client_id = ?", "tt",
	    req_param(r, 0), r->client_id) != 1) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	if (after_id[0] != '\0' && (after_seq = old_cursor(db, req_param(r, 0),
	    after_date, after_id)) < 0) {
		resp_error_field(r, ERR_INVALID_REQUEST, "cursor",
		    "Not a cursor this server gave out.");
		return;
	}
	/*
	 * The account's number first, as a value: PostgreSQL then reads the
	 * rows in the primary key's order and stops at the limit (joined
	 * the other way, it sorted every row of the account).
	 */
	s = db_q(db, "SELECT " TXN_COLS " FROM transactions t JOIN accounts a "
	    "ON a.num = t.account_num WHERE t.account_num = (SELECT num FROM "
	    "accounts WHERE id = ?) AND t.removed = 0 AND "
	    "(t.sort_date < ? OR (t.sort_date = ? AND t.first_seq < ?)) AND "
	    "t.sort_date >= ? AND t.sort_date <= ? AND t.status >= ? AND "
	    "t.status <= ? ORDER BY t.sort_date DESC, t.first_seq DESC LIMIT ?",
	    "tttitttti", req_param(r, 0), after_date, after_date, after_seq,
	    from ? from : "0000-00-00", to ? to : "9999-99-99",
	    status ? status : "", status ? status : "~", (int64_t)p.limit + 1);
	if (s == NULL) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	last[0] = '\0';
	page_begin(r, &w);
	while (db_step(s) == DB_ROW) {
		if (n == p.limit) {
			more = 1;
			break;
		}
		accounts_write_txn(&w, s);
		snprintf(last, sizeof(last), "%s|%lld", db_col_text(s, 12),
		    (long long)db_col_int(s, 13));
		n++;
	}
	db_done(s);
	if (page_end(r, &w, last, more) == 0 && version >= 0 &&
	    jw_finish(&w) == 0)
		rcache_put(key, version, r->out.p, r->out.len);
}
