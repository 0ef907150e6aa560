#define _GNU_SOURCE
/*
 * Account data through the public API: accounts and balances, transactions
 * and their pagination, pending-to-booked, the incremental feed, consent
 * and the PSD2 rules, closed accounts, and the data-quality warnings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/warnings.h"
#include "harness.h"

static struct srv S;
static const char *const PSU[] = { "PSU-IP-Address: 192.0.2.44", NULL };

static int
setup(void **state)
{
	(void)state;
	return srv_start(&S, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	srv_cleanup(&S);
	return 0;
}

/* A new user with an authorized connection of username; fills cid. */
static void
connect_user(struct srv *s, const char *username, char cid[64])
{
	struct res	r, u;
	char		body[512];

	assert_int_equal(post(s, "/v1/users", "{}", &u), 0);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox\",\"credentials\":{\"username\":\"%s\",\"password\":"
	    "\"pass_good\"}}", jstr(u.json, "id"), username);
	res_free(&u);
	assert_int_equal(post(s, "/v1/connections", body, &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "session.status"), "authorized");
	snprintf(cid, 64, "%s", jstr(r.json, "connection.id"));
	res_free(&r);
}

/* Syncs (attended unless hdrs says otherwise) and waits; r is the task. */
static void
sync_now(struct srv *s, const char *cid, const char *body,
    const char *const *hdrs, struct res *r)
{
	char	path[256];

	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	if (body == NULL)
		body = "{\"wait_seconds\":60}";
	assert_int_equal(req(s, "POST", path, s->token, hdrs, body, strlen(body),
	    r), 0);
}

static json_t *
accounts_of(struct srv *s, const char *cid, struct res *r)
{
	char	path[256];

	snprintf(path, sizeof(path), "/v1/accounts?connection_id=%s", cid);
	assert_int_equal(get(s, path, r), 0);
	assert_status(r, 200);
	return jget(r->json, "data");
}

static json_t *
account_of_type(json_t *list, const char *type)
{
	json_t	*a;
	size_t	 i;

	json_array_foreach(list, i, a)
		if (strcmp(json_string_value(json_object_get(a, "type")), type) == 0)
			return a;
	return NULL;
}

/* The id of the account of type ("checking") of connection cid. */
static void
account_id(struct srv *s, const char *cid, const char *type, char out[64])
{
	struct res	r;

	snprintf(out, 64, "%s", jstr(account_of_type(accounts_of(s, cid, &r),
	    type), "id"));
	res_free(&r);
}

/* A new connection of username, synced with the user present: its id, and
 * the id of its account of type. */
static void
synced_account(struct srv *s, const char *username, const char *type,
    char cid[64], char acc[64])
{
	struct res	r;

	connect_user(s, username, cid);
	sync_now(s, cid, NULL, PSU, &r);
	res_free(&r);
	account_id(s, cid, type, acc);
}

/* Every transaction of an account, page by page, into a JSON array. */
static json_t *
all_transactions(struct srv *s, const char *acc, const char *query, int limit)
{
	json_t		*all = json_array(), *t;
	char		 path[512], cursor[256] = "";
	struct res	 r;
	size_t		 i;

	do {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?limit=%d"
		    "%s%s%s%s", acc, limit, query ? "&" : "", query ? query : "",
		    cursor[0] ? "&cursor=" : "", cursor);
		assert_int_equal(get(s, path, &r), 0);
		assert_status(&r, 200);
		json_array_foreach(jget(r.json, "data"), i, t)
			json_array_append(all, t);
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor") ?
		    jstr(r.json, "next_cursor") : "");
		res_free(&r);
	} while (cursor[0] != '\0');
	return all;
}

static int
has_id(json_t *list, const char *id)
{
	json_t	*t;
	size_t	 i;

	json_array_foreach(list, i, t)
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
			return 1;
	return 0;
}

static void
no_duplicate_ids(json_t *list)
{
	size_t	i, j, n = json_array_size(list);

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(jstr(json_array_get(list, i), "id"),
			    jstr(json_array_get(list, j), "id")) == 0)
				fail_msg("transaction %s listed twice",
				    jstr(json_array_get(list, i), "id"));
}

static void
accounts_and_balances(void **state)
{
	struct res	 r, t;
	char		 cid[64], path[128];
	json_t		*list, *chk, *card, *b;
	size_t		 i;
	int		 limit = 0, booked = 0;

	(void)state;
	connect_user(&S, "user_good", cid);
	sync_now(&S, cid, NULL, PSU, &t);
	assert_string_equal(jstr(t.json, "status"), "completed");
	assert_int_equal(jint(t.json, "result.accounts"), 2);
	assert_true(json_array_size(jget(t.json, "warnings")) == 0);
	res_free(&t);
	list = accounts_of(&S, cid, &r);
	assert_int_equal(json_array_size(list), 2);
	chk = account_of_type(list, "checking");
	card = account_of_type(list, "credit_card");
	assert_non_null(chk);
	assert_non_null(card);
	assert_true(strncmp(jstr(chk, "iban"), "DE", 2) == 0);
	assert_string_equal(jstr(chk, "currency"), "EUR");
	assert_non_null(jstr(chk, "holder.name"));
	assert_non_null(jstr(chk, "holder.address"));
	assert_non_null(jstr(chk, "holder.email"));
	/* a card shows only its last four digits, and its limit apart */
	assert_true(json_is_null(jget(card, "iban")));
	assert_true(strncmp(jstr(card, "masked_number"), "****", 4) == 0);
	assert_int_equal(strlen(jstr(card, "masked_number")), 8);
	json_array_foreach(jget(card, "balances"), i, b) {
		const char *amt = jstr(b, "amount");

		assert_non_null(strchr(amt, '.'));
		assert_int_equal(strlen(strchr(amt, '.')), 3);	/* EUR: 2 digits */
		if (strcmp(jstr(b, "type"), "credit_limit") == 0)
			limit = 1;
		if (strcmp(jstr(b, "type"), "booked") == 0)
			booked = 1;
	}
	assert_true(limit && booked);
	snprintf(path, sizeof(path), "/v1/accounts/%s", jstr(chk, "id"));
	res_free(&r);
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "type"), "checking");
	res_free(&r);
	assert_int_equal(get(&S, "/v1/accounts/acc_nope", &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
}

/* A cursor as the server writes them: "c1." and the key in base64url. */
static const char *
cursor_of(const char *key, char out[128])
{
	memcpy(out, "c1.", 3);
	sodium_bin2base64(out + 3, 125, (const unsigned char *)key, strlen(key),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static void
transactions_filter_order_and_page(void **state)
{
	struct res	 r;
	char		 cid[64], acc[64], path[256], old[96], enc[128];
	json_t		*all, *paged, *t;
	size_t		 i;

	(void)state;
	synced_account(&S, "user_good", "checking", cid, acc);
	all = all_transactions(&S, acc, NULL, 500);
	paged = all_transactions(&S, acc, NULL, 7);
	assert_true(json_array_size(all) > 100);
	assert_int_equal(json_array_size(paged), json_array_size(all));
	no_duplicate_ids(paged);
	/* newest first */
	for (i = 1; i < json_array_size(all); i++) {
		const char *a = jstr(json_array_get(all, i - 1), "booking_date");
		const char *b = jstr(json_array_get(all, i), "booking_date");

		assert_true(strcmp(a, b) >= 0);
	}
	json_array_foreach(all, i, t) {
		assert_true(strncmp(jstr(t, "id"), "txn_", 4) == 0);
		assert_string_equal(jstr(t, "currency"), "EUR");
		assert_non_null(jget(t, "counterparty"));
	}
	json_decref(paged);
	/*
	 * A cursor of the schema 2 server ("date|id" of the last row seen)
	 * still goes on after that row; one naming no row is refused.
	 */
	t = json_array_get(all, 10);
	assert_string_equal(jstr(t, "status"), "booked");
	snprintf(old, sizeof(old), "%s|%s", jstr(t, "booking_date"),
	    jstr(t, "id"));
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?limit=3&"
	    "cursor=%s", acc, cursor_of(old, enc));
	assert_int_equal(get(&S, path, &r), 0);
	assert_status(&r, 200);
	assert_int_equal(json_array_size(jget(r.json, "data")), 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(jstr(json_array_get(jget(r.json, "data"), i),
		    "id"), jstr(json_array_get(all, 11 + i), "id"));
	res_free(&r);
	snprintf(old, sizeof(old), "%s|txn_notarow", jstr(t, "booking_date"));
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?cursor=%s",
	    acc, cursor_of(old, enc));
	assert_int_equal(get(&S, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?cursor=%s",
	    acc, cursor_of("2026-01-01|12x", enc));
	assert_int_equal(get(&S, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	paged = all_transactions(&S, acc, "status=booked&from=2000-01-01", 100);
	json_array_foreach(paged, i, t)
		assert_string_equal(jstr(t, "status"), "booked");
	json_decref(paged);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?from=2026-13-01",
	    acc);
	assert_int_equal(get(&S, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?status=gone",
	    acc);
	assert_int_equal(get(&S, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	json_decref(all);
}

/*
 * A cursor tells its holder nothing: after its tag it is base64url of at
 * least a nonce and a tag (40 bytes) that are not text, and neither the
 * text nor those bytes hold what the page ended on (plain, a cursor held
 * the last date and the server's global row counter).
 */
static void
assert_sealed(const char *cursor, const char *last_date)
{
	const char	*dot = strchr(cursor, '.');
	unsigned char	 bin[512];
	size_t		 n, i, printable = 0;

	assert_non_null(dot);
	assert_true(strncmp(cursor, "c1.", 3) != 0);
	assert_int_equal(sodium_base642bin(bin, sizeof(bin) - 1, dot + 1,
	    strlen(dot + 1), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	assert_true(n >= 40);
	for (i = 0; i < n; i++)
		printable += bin[i] >= 0x20 && bin[i] < 0x7f;
	if (printable == n)
		fail_msg("cursor %s opens to text", cursor);
	bin[n] = '\0';
	if (last_date != NULL) {
		assert_null(strstr(cursor, last_date));
		assert_null(memmem(bin, n, last_date, strlen(last_date)));
		assert_null(memmem(bin, n, last_date, 4));	/* the year */
	}
}

/* GET path with cursor changed at byte i (or cut there when cut). */
static void
assert_refused(struct srv *s, const char *path, const char *cursor, size_t i,
    int cut)
{
	char		 bad[600], full[1024];
	struct res	 r;

	snprintf(bad, sizeof(bad), "%s", cursor);
	if (cut)
		bad[i] = '\0';
	else
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
	snprintf(full, sizeof(full), "%s%scursor=%s", path,
	    strchr(path, '?') ? "&" : "?", bad);
	assert_int_equal(get(s, full, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	assert_string_equal(jstr(r.json, "error.data.cursor.0"),
	    "Not a cursor this server gave out.");
	res_free(&r);
}

/*
 * Issue 11, item 8: cursors are sealed.  Paging still returns every row
 * once; a cursor shows no date or counter; a changed, cut, foreign or
 * misplaced cursor is refused; and a cursor outlives a restart.
 */
static void
cursors_are_sealed(void **state)
{
	struct srv	 t, other;
	struct res	 r;
	char		 cid[64], acc[64], path[1024], cursor[600] = "";
	char		 second[600] = "", second_next[600] = "", ucur[600];
	json_t		*all, *paged = json_array(), *t2;
	size_t		 i;
	int		 pages = 0;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	synced_account(&t, "user_good", "checking", cid, acc);
	all = all_transactions(&t, acc, NULL, 500);
	do {
		json_t	*data;
		char	 date[11];

		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
		    "limit=9%s%s", acc, cursor[0] ? "&cursor=" : "", cursor);
		assert_int_equal(get(&t, path, &r), 0);
		assert_status(&r, 200);
		data = jget(r.json, "data");
		json_array_extend(paged, data);
		if (pages == 1) {
			snprintf(second, sizeof(second), "%s", cursor);
			snprintf(second_next, sizeof(second_next), "%s",
			    jstr(r.json, "next_cursor"));
		}
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor") ?
		    jstr(r.json, "next_cursor") : "");
		if (cursor[0] != '\0') {
			snprintf(date, sizeof(date), "%s", jstr(json_array_get(data,
			    json_array_size(data) - 1), "booking_date"));
			assert_sealed(cursor, date);
		}
		res_free(&r);
		pages++;
	} while (cursor[0] != '\0');
	assert_true(pages > 10);
	assert_int_equal(json_array_size(paged), json_array_size(all));
	no_duplicate_ids(paged);
	json_array_foreach(all, i, t2)
		assert_string_equal(jstr(t2, "id"),
		    jstr(json_array_get(paged, i), "id"));
	/* changed anywhere, or cut: refused */
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?limit=9", acc);
	for (i = 3; i < strlen(second); i += 7)
		assert_refused(&t, path, second, i, 0);
	assert_refused(&t, path, second, strlen(second) - 1, 0);
	assert_refused(&t, path, second, strlen(second) - 2, 1);
	assert_refused(&t, path, second, 1, 0);		/* the tag */
	/* another client, or another list: refused */
	assert_int_equal(post(&t, "/v1/users", "{}", &r), 0);
	res_free(&r);
	assert_int_equal(post(&t, "/v1/users", "{}", &r), 0);
	res_free(&r);
	assert_int_equal(get(&t, "/v1/users?limit=1", &r), 0);
	assert_status(&r, 200);
	snprintf(ucur, sizeof(ucur), "%s", jstr(r.json, "next_cursor"));
	assert_sealed(ucur, NULL);
	assert_null(strstr(ucur, jstr(r.json, "data.0.id") + 4));
	res_free(&r);
	assert_int_equal(srv_new_client(&t, &other), 0);
	snprintf(path, sizeof(path), "/v1/users?limit=1&cursor=%s", ucur);
	assert_int_equal(get(&t, path, &r), 0);
	assert_status(&r, 200);
	res_free(&r);
	assert_int_equal(get(&other, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?cursor=%s",
	    acc, ucur);
	assert_int_equal(get(&t, path, &r), 0);
	assert_error(&r, 400, "INVALID_REQUEST");
	res_free(&r);
	/* the feed's cursor: no sequence number in it either */
	snprintf(path, sizeof(path), "/v1/transactions/sync?connection_id=%s&"
	    "limit=50", cid);
	assert_int_equal(get(&t, path, &r), 0);
	assert_status(&r, 200);
	assert_sealed(jstr(r.json, "next_cursor"), NULL);
	snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor"));
	res_free(&r);
	assert_refused(&t, path, cursor, 10, 0);
	/* after a restart the same cursor gives the same page */
	srv_stop(&t);
	assert_int_equal(srv_restart(&t, NULL), 0);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?limit=9&"
	    "cursor=%s", acc, second);
	assert_int_equal(get(&t, path, &r), 0);
	assert_status(&r, 200);
	for (i = 0; i < 9; i++)
		assert_string_equal(jstr(json_array_get(jget(r.json, "data"), i),
		    "id"), jstr(json_array_get(all, 9 + i), "id"));
	assert_string_equal(jstr(r.json, "next_cursor"), second_next);
	res_free(&r);
	json_decref(all);
	json_decref(paged);
	srv_cleanup(&t);
}

static void
pagination_holds_while_a_sync_inserts(void **state)
{
	struct res	 r;
	char		 cid[64], acc[64], path[512], cursor[256] = "", tid[64];
	json_t		*seen = json_array(), *t, *all;
	size_t		 i;
	int		 pages = 0;

	(void)state;
	connect_user(&S, "user_large", cid);
	snprintf(path, sizeof(path), "/v1/connections/%s/sync", cid);
	assert_int_equal(req(&S, "POST", path, S.token, PSU,
	    "{\"wait_seconds\":0}", 18, &r), 0);
	snprintf(tid, sizeof(tid), "%s", jstr(r.json, "id"));
	res_free(&r);
	/* page through the account while its rows are being inserted */
	for (acc[0] = '\0'; acc[0] == '\0'; usleep(20000)) {
		json_t *l = accounts_of(&S, cid, &r);

		if (json_array_size(l) > 0)
			snprintf(acc, sizeof(acc), "%s", jstr(json_array_get(l, 0),
			    "id"));
		res_free(&r);
	}
	do {
		snprintf(path, sizeof(path), "/v1/accounts/%s/transactions?"
		    "limit=250%s%s", acc, cursor[0] ? "&cursor=" : "", cursor);
		assert_int_equal(get(&S, path, &r), 0);
		json_array_foreach(jget(r.json, "data"), i, t)
			json_array_append(seen, t);
		snprintf(cursor, sizeof(cursor), "%s", jstr(r.json, "next_cursor") ?
		    jstr(r.json, "next_cursor") : "");
		res_free(&r);
		pages++;
	} while (cursor[0] != '\0');
	assert_true(pages > 1);
	/* never a row twice, and in order */
	{
		size_t n = json_array_size(seen);
		char **ids = calloc(n, sizeof(char *));

		for (i = 0; i < n; i++)
			ids[i] = (char *)jstr(json_array_get(seen, i), "id");
		qsort(ids, n, sizeof(char *), (int (*)(const void *,
		    const void *))strcmp);
		for (i = 1; i < n; i++)
			if (strcmp(*(char **)&ids[i - 1], *(char **)&ids[i]) == 0)
				fail_msg("%s seen twice", ids[i]);
		free(ids);
	}
	snprintf(path, sizeof(path), "/v1/tasks/%s", tid);
	for (;;) {
		assert_int_equal(get(&S, path, &r), 0);
		if (strcmp(jstr(r.json, "status"), "completed") == 0)
			break;
		res_free(&r);
		usleep(100000);
	}
	res_free(&r);
	all = all_transactions(&S, acc, NULL, 500);
	assert_int_equal(json_array_size(all), 100000);
	json_decref(all);
	json_decref(seen);
}

static void
accounts_and_transactions_are_the_clients_own(void **state)
{
	struct srv	 other;
	struct res	 r;
	char		 cid[64], path[256];
	json_t		*list;

	(void)state;
	connect_user(&S, "user_good", cid);
	sync_now(&S, cid, NULL, PSU, &r);
	res_free(&r);
	list = accounts_of(&S, cid, &r);
	snprintf(path, sizeof(path), "/v1/accounts/%s/transactions",
	    jstr(json_array_get(list, 0), "id"));
	res_free(&r);
	assert_int_equal(srv_new_client(&S, &other), 0);
	assert_int_equal(get(&other, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/transactions/sync?connection_id=%s", cid);
	assert_int_equal(get(&other, path, &r), 0);
	assert_error(&r, 404, "ENTITY_NOT_FOUND");
	res_free(&r);
	accounts_of(&other, cid, &r);
	assert_int_equal(json_array_size(jget(r.json, "data")), 0);
	res_free(&r);
}

/*
 * An account's pending transactions: the card payments that will book
 * (preauth 0), or the pre-authorizations the bank releases instead
 * (preauth 1).
 */
static json_t *
pending_of(json_t *all, int preauth)
{
	json_t		*p = json_array(), *t;
	const char	*desc;
	size_t		 i;

	json_array_foreach(all, i, t) {
		desc = jstr(t, "description");
		if (strcmp(jstr(t, "status"), "pending") == 0 && preauth ==
		    (desc != NULL && strstr(desc, "VORAUTORISIERUNG") != NULL))
			json_array_append(p, t);
	}
	return p;
}

/*
 * Reads the whole feed from cursor; fills the next cursor.  The removed
 * transactions are appended to gone unless it is NULL.
 */
static void
feed(struct srv *s, const char *cid, char cursor[256], int *added,
    int *modified, int *removed, json_t *gone)
{
	char		path[512];
	struct res	r;
	int		more;

	*added = *modified = *removed = 0;
	do {
		snprintf(path, sizeof(path), "/v1/transactions/sync?connection_id="
		    "%s&limit=200%s%s", cid, cursor[0] ? "&cursor=" : "", cursor);
		assert_int_equal(get(s, path, &r), 0);
		assert_status(&r, 200);
		*added += (int)json_array_size(jget(r.json, "added"));
		*modified += (int)json_array_size(jget(r.json, "modified"));
		*removed += (int)json_array_size(jget(r.json, "removed"));
		if (gone != NULL)
			json_array_extend(gone, jget(r.json, "removed"));
		more = json_is_true(jget(r.json, "has_more"));
		assert_non_null(jstr(r.json, "next_cursor"));
		snprintf(cursor, 256, "%s", jstr(r.json, "next_cursor"));
		res_free(&r);
	} while (more);
}

/*
 * Time passes (the server restarts with its clock 4 days on): pending card
 * payments book under the same id, the card's pre-authorization is
 * released (never booked) and removed, new transactions come, and the feed
 * says exactly that.
 */
static void
pending_books_and_the_feed_follows(void **state)
{
	struct srv	 t;
	const char	*later[] = { "BANKFEED_CLOCK_OFFSET_SECONDS=345600", NULL };
	struct res	 r;
	char		 cid[64], card[64], cursor[256] = "";
	json_t		*before, *after, *pend, *pre, *p, *gone = json_array();
	size_t		 i;
	int		 a, m, d, total = 0;

	(void)state;
	assert_int_equal(srv_start(&t, NULL), 0);
	connect_user(&t, "user_good", cid);
	sync_now(&t, cid, NULL, PSU, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	total = (int)jint(r.json, "result.transactions_added");
	res_free(&r);
	account_id(&t, cid, "credit_card", card);
	before = all_transactions(&t, card, NULL, 500);
	pend = pending_of(before, 0);
	pre = pending_of(before, 1);
	assert_true(json_array_size(pend) > 0);
	assert_true(json_array_size(pre) > 0);
	/* feed, first read: everything is added */
	feed(&t, cid, cursor, &a, &m, &d, NULL);
	assert_int_equal(a, total);
	assert_int_equal(m + d, 0);
	/* the same data again: nothing changes */
	sync_now(&t, cid, NULL, PSU, &r);
	assert_int_equal(jint(r.json, "result.transactions_added"), 0);
	assert_int_equal(jint(r.json, "result.transactions_updated"), 0);
	res_free(&r);
	feed(&t, cid, cursor, &a, &m, &d, NULL);
	assert_int_equal(a + m + d, 0);
	/* four days later */
	srv_stop(&t);
	assert_int_equal(srv_restart(&t, later), 0);
	sync_now(&t, cid, NULL, PSU, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_true(jint(r.json, "result.transactions_updated") >=
	    (long long)json_array_size(pend));
	assert_true(jint(r.json, "result.transactions_added") > 0);
	res_free(&r);
	feed(&t, cid, cursor, &a, &m, &d, gone);
	assert_true(m >= (int)json_array_size(pend));
	assert_true(a > 0);
	assert_int_equal(d, (int)json_array_size(pre));
	after = all_transactions(&t, card, NULL, 500);
	no_duplicate_ids(after);
	/* every earlier pending payment is there, booked, with the same id */
	json_array_foreach(pend, i, p) {
		size_t j;
		json_t *q;
		int found = 0;

		json_array_foreach(after, j, q)
			if (strcmp(jstr(q, "id"), jstr(p, "id")) == 0) {
				assert_string_equal(jstr(q, "status"), "booked");
				assert_string_equal(jstr(q, "amount"), jstr(p, "amount"));
				found = 1;
			}
		assert_true(found);
	}
	/* every pre-authorization is gone from the list, and the feed says
	 * it was removed */
	json_array_foreach(pre, i, p) {
		size_t j;
		json_t *q;
		int removed = 0;

		json_array_foreach(after, j, q)
			assert_string_not_equal(jstr(q, "id"), jstr(p, "id"));
		json_array_foreach(gone, j, q)
			if (strcmp(jstr(q, "id"), jstr(p, "id")) == 0) {
				assert_string_equal(jstr(q, "account_id"),
				    card);
				removed = 1;
			}
		assert_true(removed);
	}
	json_decref(before);
	json_decref(after);
	json_decref(pend);
	json_decref(pre);
	json_decref(gone);
	srv_cleanup(&t);
}

static void
consent_runs_out_and_is_renewed(void **state)
{
	struct srv	 t;
	const char	*day1[] = { "BANKFEED_CONSENT_DAYS=1", NULL };
	const char	*day2[] = { "BANKFEED_CONSENT_DAYS=1",
	    "BANKFEED_CLOCK_OFFSET_SECONDS=172800", NULL };
	struct res	 r;
	char		 cid[64], path[128];

	(void)state;
	assert_int_equal(srv_start(&t, day1), 0);
	connect_user(&t, "user_good", cid);
	sync_now(&t, cid, NULL, PSU, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	srv_stop(&t);
	assert_int_equal(srv_restart(&t, day2), 0);
	sync_now(&t, cid, NULL, PSU, &r);
	assert_error(&r, 403, "NO_ACTIVE_CONSENT");
	res_free(&r);
	snprintf(path, sizeof(path), "/v1/connections/%s", cid);
	assert_int_equal(get(&t, path, &r), 0);
	assert_string_equal(jstr(r.json, "status"), "expired");
	res_free(&r);
	/* the user authorizes again: syncs work again */
	snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
	assert_int_equal(post(&t, path, "{\"credentials\":{\"username\":"
	    "\"user_good\",\"password\":\"pass_good\"}}", &r), 0);
	assert_status(&r, 201);
	assert_string_equal(jstr(r.json, "status"), "authorized");
	res_free(&r);
	sync_now(&t, cid, NULL, PSU, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	srv_cleanup(&t);
}

static void
fifth_unattended_sync_in_a_day_is_refused(void **state)
{
	struct res	 r;
	char		 cid[64], *rem, *ra;
	int		 i;
	time_t		 t0 = time(NULL);

	(void)state;
	connect_user(&S, "user_good", cid);
	for (i = 0; i < 4; i++) {
		sync_now(&S, cid, NULL, NULL, &r);
		assert_status(&r, 200);
		rem = res_header(&r, "X-RateLimit-Remaining");
		assert_non_null(rem);
		assert_int_equal(atoi(rem), 3 - i);
		free(rem);
		res_free(&r);
	}
	sync_now(&S, cid, NULL, NULL, &r);
	assert_error(&r, 429, "API_USAGE_LIMIT_REACHED");
	assert_int_equal(jint(r.json, "error.code"), 1020);
	ra = res_header(&r, "Retry-After");
	rem = res_header(&r, "X-RateLimit-Remaining");
	assert_non_null(ra);
	assert_string_equal(rem, "0");
	/* the rolling window: the first sync leaves it 24 hours after it */
	assert_true(atol(ra) <= 86400 && atol(ra) >= 86400 - (time(NULL) - t0) - 2);
	free(ra);
	free(rem);
	res_free(&r);
	/* with the user present (PSU-IP-Address) a sync is fine */
	sync_now(&S, cid, NULL, PSU, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
}

/*
 * Only an IP address lifts the unattended limit: any other PSU-IP-Address
 * is refused with 400 naming the header, and counts as no sync at all.
 */
static void
psu_ip_address_must_be_an_ip_address(void **state)
{
	static const char *const bad[] = { "yes", "present", "192.0.2.300",
	    "192.0.2.7, 198.51.100.1", "2001:db8::7%eth0", "::ffff:1.2.3",
	    "192.0.2.7\",\"from\":\"2000-01-01", NULL };
	static const char *const good[] = { "203.0.113.7", "2001:db8::7",
	    "::ffff:192.0.2.1", NULL };
	struct res	 r;
	char		 cid[64], hdr[128], *rem;
	size_t		 i;

	(void)state;
	connect_user(&S, "user_good", cid);
	for (i = 0; i < 4; i++) {
		sync_now(&S, cid, NULL, NULL, &r);
		assert_status(&r, 200);
		res_free(&r);
	}
	for (i = 0; bad[i] != NULL; i++) {
		const char *h[] = { hdr, NULL };

		snprintf(hdr, sizeof(hdr), "PSU-IP-Address: %s", bad[i]);
		sync_now(&S, cid, NULL, h, &r);
		if (r.status != 400)
			fail_msg("PSU-IP-Address \"%s\": status %ld, want 400",
			    bad[i], r.status);
		assert_error(&r, 400, "INVALID_REQUEST");
		assert_non_null(jget(r.json, "error.data.PSU-IP-Address"));
		res_free(&r);
	}
	/* the limit still holds without the header */
	sync_now(&S, cid, NULL, NULL, &r);
	assert_error(&r, 429, "API_USAGE_LIMIT_REACHED");
	res_free(&r);
	for (i = 0; good[i] != NULL; i++) {
		const char *h[] = { hdr, NULL };

		snprintf(hdr, sizeof(hdr), "PSU-IP-Address: %s", good[i]);
		sync_now(&S, cid, NULL, h, &r);
		assert_status(&r, 200);
		assert_string_equal(jstr(r.json, "status"), "completed");
		rem = res_header(&r, "X-RateLimit-Remaining");
		assert_string_equal(rem, "0");
		free(rem);
		res_free(&r);
	}
}

static void
psu_ip_required_by_an_institution(void **state)
{
	struct res	r, u;
	char		body[512], path[128];

	(void)state;
	assert_int_equal(post(&S, "/v1/users", "{}", &u), 0);
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"institution_id\":"
	    "\"sandbox_psu_ip\",\"credentials\":{\"username\":\"user_good\","
	    "\"password\":\"pass_good\"}}", jstr(u.json, "id"));
	res_free(&u);
	assert_int_equal(post(&S, "/v1/connections", body, &r), 0);
	assert_status(&r, 201);
	snprintf(path, sizeof(path), "%s", jstr(r.json, "connection.id"));
	res_free(&r);
	sync_now(&S, path, NULL, NULL, &r);
	assert_error(&r, 400, "PSU_IP_REQUIRED");
	assert_int_equal(jint(r.json, "error.code"), 1021);
	res_free(&r);
	sync_now(&S, path, NULL, PSU, &r);
	assert_status(&r, 200);
	res_free(&r);
}

static void
old_history_needs_a_fresh_authorization(void **state)
{
	struct srv	 t;
	const char	*e[] = { "BANKFEED_SCA_FRESH_SECONDS=1", NULL };
	struct res	 r;
	char		 cid[64], path[128], from_old[64], from_recent[64], day[11];
	time_t		 now = (time_t)srv_bank_now();
	struct tm	 tm;

	(void)state;
	gmtime_r(&(time_t){ now - 100 * 86400 }, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(from_old, sizeof(from_old), "{\"from\":\"%s\",\"wait_seconds\":"
	    "60}", day);
	gmtime_r(&(time_t){ now - 30 * 86400 }, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(from_recent, sizeof(from_recent), "{\"from\":\"%s\","
	    "\"wait_seconds\":60}", day);
	assert_int_equal(srv_start(&t, e), 0);
	connect_user(&t, "user_good", cid);
	sleep(2);
	sync_now(&t, cid, from_old, PSU, &r);
	assert_error(&r, 403, "SCA_REQUIRED");
	assert_non_null(jstr(r.json, "error.data.reauthorize"));
	res_free(&r);
	sync_now(&t, cid, from_recent, PSU, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	/* a fresh authorization opens the old history */
	snprintf(path, sizeof(path), "/v1/connections/%s/sessions", cid);
	assert_int_equal(post(&t, path, "{\"credentials\":{\"username\":"
	    "\"user_good\",\"password\":\"pass_good\"}}", &r), 0);
	assert_status(&r, 201);
	res_free(&r);
	sync_now(&t, cid, from_old, PSU, &r);
	assert_status(&r, 200);
	assert_string_equal(jstr(r.json, "status"), "completed");
	res_free(&r);
	srv_cleanup(&t);
}

static void
an_account_that_disappears_is_closed_with_its_history(void **state)
{
	struct res	 r;
	char		 cid[64], card[64];
	json_t		*before, *after;

	(void)state;
	synced_account(&S, "user_account_disappears", "credit_card", cid, card);
	before = all_transactions(&S, card, NULL, 500);
	sync_now(&S, cid, NULL, PSU, &r);
	assert_string_equal(jstr(r.json, "status"), "completed");
	assert_int_equal(jint(r.json, "result.accounts"), 1);
	res_free(&r);
	{
		json_t *c = account_of_type(accounts_of(&S, cid, &r), "credit_card");

		assert_string_equal(jstr(c, "status"), "closed");
		res_free(&r);
	}
	after = all_transactions(&S, card, NULL, 500);
	assert_int_equal(json_array_size(after), json_array_size(before));
	assert_true(json_array_size(after) > 0);
	json_decref(before);
	json_decref(after);
	(void)has_id;
}

/* Every warning that applies: its sandbox user shows it and no other. */
static void
each_warning_has_a_user_that_shows_it_alone(void **state)
{
	int	w, n = 0;

	(void)state;
	for (w = 0; w < WARN__COUNT; w++) {
		const struct warn_info	*wi = warn_info((enum warn)w);
		char			 user[96], cid[64];
		struct res		 r;
		json_t			*list;

		if (!wi->applies)
			continue;
		warn_sandbox_username((enum warn)w, user, sizeof(user));
		connect_user(&S, user, cid);
		sync_now(&S, cid, NULL, PSU, &r);
		assert_status(&r, 200);
		if (strcmp(jstr(r.json, "status"), "completed") != 0)
			fail_msg("%s: sync %s: %s", user, jstr(r.json, "status"),
			    r.body);
		list = jget(r.json, "warnings");
		if (json_array_size(list) != 1 ||
		    strcmp(jstr(list, "0.name"), wi->name) != 0)
			fail_msg("%s: warnings %s, want only %s", user,
			    json_dumps(list, 0), wi->name);
		assert_non_null(jstr(list, "0.detail"));
		if (wi->scope != WSCOPE_CONNECTION)
			assert_true(strncmp(jstr(list, "0.account_id"), "acc_", 4) == 0);
		if (wi->scope == WSCOPE_TXN)
			assert_true(strncmp(jstr(list, "0.transaction_id"), "txn_",
			    4) == 0);
		res_free(&r);
		n++;
	}
	assert_true(n >= 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accounts_and_balances),
		cmocka_unit_test(transactions_filter_order_and_page),
		cmocka_unit_test(cursors_are_sealed),
		cmocka_unit_test(pagination_holds_while_a_sync_inserts),
		cmocka_unit_test(accounts_and_transactions_are_the_clients_own),
		cmocka_unit_test(pending_books_and_the_feed_follows),
		cmocka_unit_test(consent_runs_out_and_is_renewed),
		cmocka_unit_test(fifth_unattended_sync_in_a_day_is_refused),
		cmocka_unit_test(psu_ip_address_must_be_an_ip_address),
		cmocka_unit_test(psu_ip_required_by_an_institution),
		cmocka_unit_test(old_history_needs_a_fresh_authorization),
		cmocka_unit_test(an_account_that_disappears_is_closed_with_its_history),
		cmocka_unit_test(each_warning_has_a_user_that_shows_it_alone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
