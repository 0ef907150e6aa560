/*
 * fill: `bfbench fill DATA_DIR CLIENT_ID NACCOUNTS NTXNS IDS_FILE` makes
 * the read path's database the way syncs would have: for each account a
 * user, an authorized Sandbox Bank connection and a checking account with
 * its balances, then its transactions upserted through accdata_txn() in one
 * write batch per account, as a sync step does.  The client must exist
 * (`bankfeed clients create`).  The account ids go to IDS_FILE, one a line.
 */
#include "bench.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/day.h"
#include "core/log.h"
#include "core/vault.h"
#include "store/accdata.h"
#include "store/store.h"

#define FILL_MAX_ACCOUNTS	100000
#define FILL_MAX_TXNS		1000000

/* The user and its connection, as POST /v1/connections leaves them. */
static int
owner_rows(struct db *db, const char *client_id, unsigned i, int64_t now,
    char con_id[ID_MAX])
{
	char	user_id[ID_MAX], ref[32], login[96], lh[65];
	int	n;

	id_new("usr", user_id);
	id_new("con", con_id);
	snprintf(ref, sizeof(ref), "customer-%06u", i);
	n = snprintf(login, sizeof(login), "sandbox%cuser_good_%u", '\0', i);
	if (vault_mac_hex(login, (size_t)n, lh) == -1)
		return -1;
	if (db_run(db, "INSERT INTO users (id, client_id, external_ref, "
	    "created_at) VALUES (?, ?, ?, ?)", "ttti", user_id, client_id, ref,
	    now) != DB_OK)
		return -1;
	return db_run(db, "INSERT INTO connections (id, user_id, client_id, "
	    "institution_id, status, store_credentials, login_hash, "
	    "authorized_at, consent_expires_at, last_synced_at, created_at) "
	    "VALUES (?, ?, ?, 'sandbox', 'authorized', 0, ?, ?, ?, ?, ?)",
	    "ttttiiii", con_id, user_id, client_id, lh, now,
	    now + 180 * 86400LL, now, now) == DB_OK ? 0 : -1;
}

static int
fill_account(struct db *db, const char *client_id, unsigned i, long ntxn,
    long first_day, char acc_id[ID_MAX])
{
	struct accdata_batch	 b;
	struct rec_account	 a;
	struct rec_balance	 bal[2];
	struct rec_txn		 t;
	struct gen		 g;
	struct gen_txn		 gt;
	char			 con_id[ID_MAX], iban[IBAN_MAX], holder[64];
	char			 bank_acc[32], btc[32], key[64], id[ID_MAX];
	enum txn_change		 ch;
	int			 fresh = 0;
	int64_t			 now = (int64_t)time(NULL);
	long			 j;

	if (accdata_batch_begin(&b, db) == -1)
		return -1;
	if (owner_rows(db, client_id, i, now, con_id) == -1)
		goto fail;
	gen_account(i, iban, holder);
	snprintf(bank_acc, sizeof(bank_acc), "ACC-%08u", i);
	memset(&a, 0, sizeof(a));
	memset(bal, 0, sizeof(bal));
	bal[0].type = BAL_BOOKED;
	bal[1].type = BAL_AVAILABLE;
	bal[0].amount = 250000 + (int64_t)(i % 997) * 113;
	bal[1].amount = bal[0].amount + 150000;
	snprintf(bal[0].currency, sizeof(bal[0].currency), "EUR");
	snprintf(bal[1].currency, sizeof(bal[1].currency), "EUR");
	day_format(day_from_unix(now), bal[0].date);
	day_format(day_from_unix(now), bal[1].date);
	a.bank_id = bank_acc;
	a.iban = iban;
	a.bic = "SPKHDE2HXXX";
	a.name = "Girokonto";
	a.type = ACCT_CHECKING;
	snprintf(a.currency, sizeof(a.currency), "EUR");
	a.holder_name = holder;
	a.holder_address = "Hauptstrasse 12, 30159 Neustadt, DE";
	a.holder_email = "kunde@example.org";
	a.balances = bal;
	a.nbalances = 2;
	if (accdata_account(&b, con_id, &a, acc_id, &fresh) == -1)
		goto fail;
	gen_init(&g, 0xacc00000ULL + i, first_day, 14);
	for (j = 0; j < ntxn; j++) {
		gen_next(&g, &gt);
		memset(&t, 0, sizeof(t));
		t.bank_id = gt.bank_id;
		/* The last few card payments are still pending, as at a bank. */
		t.status = j >= ntxn - 3 ? TXN_PENDING : TXN_BOOKED;
		if (t.status == TXN_BOOKED)
			day_format(gt.bday, t.booking_date);
		day_format(gt.vday, t.value_date);
		t.amount = gt.amount;
		snprintf(t.currency, sizeof(t.currency), "EUR");
		t.cp_name = gt.cp_name;
		t.cp_iban = gt.cp_iban;
		t.description = gt.desc;
		snprintf(btc, sizeof(btc), "%s-%s-%s", gt.iso_domain,
		    gt.iso_family, gt.iso_sub);
		t.bank_transaction_code = btc;
		t.bank_reference = gt.ref;
		t.end_to_end_id = gt.e2e;
		/* The key sync.c gives a transaction with a bank id. */
		snprintf(key, sizeof(key), "b:%s", gt.bank_id);
		if (accdata_txn(&b, con_id, acc_id, &t, key, NULL, fresh, id,
		    &ch) == -1)
			goto fail;
	}
	return accdata_batch_commit(&b);
fail:
	fprintf(stderr, "bfbench fill: account %u: %s\n", i, db_errmsg(db));
	accdata_batch_abort(&b);
	return -1;
}

int
cmd_fill(int argc, char **argv)
{
	struct db	*db;
	FILE		*ids = NULL;
	char		 url[4096], acc_id[ID_MAX];
	long		 nacc, ntxn, first_day;
	unsigned	 i;
	double		 t0, t;
	int		 rc = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: bfbench fill DATA_DIR CLIENT_ID "
		    "NACCOUNTS NTXNS IDS_FILE\n");
		return 2;
	}
	nacc = strtol(argv[3], NULL, 10);
	ntxn = strtol(argv[4], NULL, 10);
	if (nacc < 1 || nacc > FILL_MAX_ACCOUNTS || ntxn < 1 ||
	    ntxn > FILL_MAX_TXNS) {
		fprintf(stderr, "bfbench fill: 1-%d accounts, 1-%d transactions\n",
		    FILL_MAX_ACCOUNTS, FILL_MAX_TXNS);
		return 2;
	}
	log_set_level(LOG_WARN);
	snprintf(url, sizeof(url), "sqlite:%s/bankfeed.db", argv[1]);
	if (vault_init(argv[1]) == -1 || store_init(url) == -1 ||
	    (db = store_db()) == NULL) {
		fprintf(stderr, "bfbench fill: cannot open %s\n", argv[1]);
		return 1;
	}
	/*
	 * Pages reach the disk less often, in the same layout: the B-trees
	 * get the same inserts in the same order as with bankfeed's own
	 * settings, which only the fill's speed depends on.
	 */
	if (db_exec(db, "PRAGMA cache_size=-1048576") != DB_OK ||
	    db_exec(db, "PRAGMA synchronous=OFF") != DB_OK)
		goto out;
	if ((ids = fopen(argv[5], "w")) == NULL) {
		perror(argv[5]);
		goto out;
	}
	/* About 1.4 a day: 1,000 transactions reach two years back. */
	first_day = day_from_unix((long long)time(NULL)) - ntxn * 10 / 14;
	t0 = bench_now();
	for (i = 0; i < (unsigned)nacc; i++) {
		if (fill_account(db, argv[2], i, ntxn, first_day, acc_id) == -1)
			goto out;
		fprintf(ids, "%s\n", acc_id);
	}
	t = bench_now() - t0;
	printf("accounts=%ld transactions=%ld seconds=%.2f rows_per_s=%.0f\n",
	    nacc, nacc * ntxn, t, (double)(nacc * ntxn) / t);
	rc = 0;
out:
	if (ids != NULL && fclose(ids) != 0)
		rc = 1;
	store_shutdown();
	vault_shutdown();
	return rc;
}
