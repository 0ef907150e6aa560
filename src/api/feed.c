/*
 * GET /v1/transactions/sync?connection_id=&cursor=&limit=: what changed in
 * a connection's transactions since the cursor (added, modified, removed),
 * the way Plaid's /transactions/sync works, so a client never downloads its
 * history again.  Every write of a transaction takes the next number of one
 * sequence; the cursor holds, sealed (page_write_next), the last number a
 * client has seen.  Call again
 * while has_more is true; keep next_cursor for the next time.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "store/store.h"

void
h_transactions_sync(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s;
	struct page	 p;
	struct jw	 w;
	struct buf	 added, modified, removed;
	struct jw	 wa, wm, wr;
	const char	*con = req_query(r, "connection_id");
	long long	 after = 0, last;
	char		 next[32], *end;
	int		 n = 0, more = 0, sealed, bad = 0;

	if (page_parse(r, &p) == -1)
		return;
	if (con == NULL || *con == '\0') {
		resp_error_field(r, ERR_INVALID_REQUEST, "connection_id",
		    "Missing required query parameter.");
		return;
	}
	if (p.after[0] != '\0') {
		after = strtoll(p.after, &end, 10);
		if (*end != '\0' || after < 0) {
			resp_error_field(r, ERR_INVALID_REQUEST, "cursor",
			    "Not a cursor this server gave out.");
			return;
		}
	}
	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (db_exists(db, "SELECT 1 FROM connections WHERE id = ? AND "
	    "client_id = ?", "tt", con, r->client_id) != 1) {
		resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
		return;
	}
	s = db_q(db, "SELECT " TXN_COLS " FROM transactions t JOIN accounts a "
	    "ON a.num = t.account_num WHERE t.connection_num = (SELECT num FROM "
	    "connections WHERE id = ?) AND t.seq > ? ORDER BY t.seq LIMIT ?",
	    "tii", con, (int64_t)after, (int64_t)p.limit + 1);
	if (s == NULL) {
		resp_internal(r, db_errmsg(db));
		return;
	}
	/* Three lists written side by side, joined at the end. */
	buf_init(&added, 64u << 20);
	buf_init(&modified, 64u << 20);
	buf_init(&removed, 64u << 20);
	jw_init(&wa, &added);
	jw_init(&wm, &modified);
	jw_init(&wr, &removed);
	jw_arr(&wa);
	jw_arr(&wm);
	jw_arr(&wr);
	last = after;
	while (db_step(s) == DB_ROW) {
		if (n == p.limit) {
			more = 1;
			break;
		}
		if (db_col_int(s, TXN_REMOVED)) {
			jw_obj(&wr);
			jw_kstr(&wr, "id", db_col_text(s, TXN_ID));
			jw_kstr(&wr, "account_id", db_col_text(s, TXN_ACCOUNT_ID));
			jw_obj_end(&wr);
		} else if (accounts_write_txn(db_col_int(s, TXN_FIRST_SEQ) >
		    after ? &wa : &wm, s) == -1) {
			bad = 1;
			break;
		}
		last = db_col_int(s, TXN_SEQ);
		n++;
	}
	db_done(s);
	if (bad) {
		resp_internal(r, "a stored transaction has no doc");
		buf_free(&added);
		buf_free(&modified);
		buf_free(&removed);
		return;
	}
	jw_arr_end(&wa);
	jw_arr_end(&wm);
	jw_arr_end(&wr);
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "added");
	jw_raw(&w, buf_str(&added), added.len);
	jw_key(&w, "modified");
	jw_raw(&w, buf_str(&modified), modified.len);
	jw_key(&w, "removed");
	jw_raw(&w, buf_str(&removed), removed.len);
	/* Always a cursor here: the place to continue from next time. */
	snprintf(next, sizeof(next), "%lld", last);
	sealed = page_write_next(r, &w, next, 1);
	jw_kbool(&w, "has_more", more);
	jw_obj_end(&w);
	if (sealed == -1)
		resp_internal(r, "cannot seal the cursor");
	else if (jw_finish(&wa) || jw_finish(&wm) || jw_finish(&wr) ||
	    jw_finish(&w))
		resp_internal(r, "sync feed too large");
	buf_free(&added);
	buf_free(&modified);
	buf_free(&removed);
}
