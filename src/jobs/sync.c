/*
 * The sync task: fetches a connection's accounts, balances and transactions
 * from its bank through the connector and upserts them, one database
 * transaction per connector step, while the data-quality checks watch the
 * same records.  At the end: accounts not delivered are closed, pending
 * transactions that vanished are removed, the task records its counts and
 * warnings, and the client's webhook hears of it.
 *
 * A transaction's identity is the bank's id when it has one; otherwise a
 * fingerprint of its content (accdata_fp_key).
 */
#include "jobs/engine.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banks/institutions.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/vault.h"
#include "jobs/quality.h"
#include "jobs/sync.h"
#include "jobs/tasks.h"
#include "jobs/webhooks.h"
#include "store/accdata.h"
#include "store/store.h"

#define MAX_ANSWERS	16
#define MAX_ACCOUNTS	256

struct sync {
	const struct connector	*c;
	struct bank_op		*op;
	struct bank_ctx		 ctx;
	struct bank_fetch_req	 req;
	struct bank_fetch_result res;
	struct bank_sink	 sink;
	char			 institution_id[64];
	const char		*institution;	/* its id in institutions.def */
	long long		 t0_ms;		/* when this node started it */
	long long		 t0_ns;		/* the same, clock_mono_ns() */
	char			 from[11], to[11], psu_ip[64];
	char			*state;		/* vault memory */
	size_t			 statelen;
	char			*secret;	/* vault memory: JSON */
	size_t			 secretlen;
	json_t			*secret_json;
	struct bank_secret	 bsecret;
	struct bank_answer	 answers[MAX_ANSWERS];
	struct accdata_batch	 batch;
	struct accdata_known	*known;		/* the batches' memory */
	int			 internal;	/* our own failure */
	struct quality		*q;
	/* accounts seen: the bank's key and our id */
	char			 acc_key[MAX_ACCOUNTS][128];
	char			 acc_id[MAX_ACCOUNTS][ID_MAX];
	int			 acc_fresh[MAX_ACCOUNTS];	/* created now */
	const char		*acc_ids[MAX_ACCOUNTS];
	size_t			 nacc;
	char			**pending_seen;
	size_t			 npending, pending_cap;
	struct accdata_fp	 fp;
	long long		 added, updated;
	struct task_run		*run;
};

/* Opens this step's write batch on first use. */
static int
batch(struct sync *s)
{
	if (s->internal)
		return -1;
	if (s->batch.open)
		return 0;
	if (accdata_batch_begin_known(&s->batch, store_db(), s->known) == -1) {
		s->internal = 1;
		return -1;
	}
	return 0;
}

/* The index of an account seen in this delivery, or -1. */
static int
account_of(struct sync *s, const char *key)
{
	size_t	i;

	for (i = 0; i < s->nacc; i++)
		if (strcmp(s->acc_key[i], key) == 0)
			return (int)i;
	return -1;
}

static int
remember_account(struct sync *s, const char *key, const char *id, int fresh)
{
	if (account_of(s, key) >= 0)
		return 0;
	if (s->nacc >= MAX_ACCOUNTS)
		return -1;
	snprintf(s->acc_key[s->nacc], sizeof(s->acc_key[0]), "%s", key);
	snprintf(s->acc_id[s->nacc], ID_MAX, "%s", id);
	s->acc_fresh[s->nacc] = fresh;
	s->acc_ids[s->nacc] = s->acc_id[s->nacc];
	s->nacc++;
	return 0;
}

static int
on_account(void *arg, const struct rec_account *a)
{
	struct sync	*s = arg;
	char		 id[ID_MAX];
	int		 created = 0;

	if (batch(s) == -1 ||
	    accdata_account(&s->batch, s->run->connection_id, a, id,
	    &created) == -1 ||
	    remember_account(s, a->bank_id ? a->bank_id :
	    accdata_account_key(a), id, created) == -1 ||
	    quality_account(s->q, id, a) != ERR_OK) {
		s->internal = 1;
		return -1;
	}
	return 0;
}

static int
on_account_error(void *arg, const char *bank_id, const struct bank_error *e)
{
	struct sync	*s = arg;
	char		 id[ID_MAX];

	if (batch(s) == -1 || accdata_account_error(&s->batch,
	    s->run->connection_id, bank_id, e->code, e->message, id) == -1 ||
	    remember_account(s, bank_id, id, 0) == -1 ||
	    quality_account_error(s->q, id, e->code) != ERR_OK) {
		s->internal = 1;
		return -1;
	}
	return 0;
}

static int
on_txn(void *arg, const char *account_bank_id, const struct rec_txn *t)
{
	struct sync	*s = arg;
	int		 ai = account_of(s, account_bank_id);
	const char	*acc = ai >= 0 ? s->acc_id[ai] : NULL;
	char		 key[160], pkey[160], id[ID_MAX];
	enum txn_change	 ch;

	if (acc == NULL) {
		log_error("msg=\"connector sent a transaction of an unknown "
		    "account\" task_id=%s", s->run->id);
		s->internal = 1;
		return -1;
	}
	if (batch(s) == -1)
		return -1;
	if (t->bank_id != NULL && *t->bank_id != '\0' &&
	    strlen(t->bank_id) < sizeof(key) - 2) {
		memcpy(key, "b:", 2);
		memcpy(key + 2, t->bank_id, strlen(t->bank_id) + 1);
	}
	else if (accdata_fp_key(&s->fp, acc, t, key) == -1) {
		s->internal = 1;
		return -1;
	}
	if (t->status == TXN_BOOKED && t->pending_bank_id != NULL &&
	    *t->pending_bank_id != '\0')
		snprintf(pkey, sizeof(pkey), "b:%s", t->pending_bank_id);
	else
		pkey[0] = '\0';
	if (accdata_txn(&s->batch, s->run->connection_id, acc, t, key,
	    pkey[0] ? pkey : NULL, s->acc_fresh[ai], id, &ch) == -1) {
		s->internal = 1;
		return -1;
	}
	if (ch == TXN_ADDED)
		s->added++;
	else if (ch == TXN_UPDATED)
		s->updated++;
	if (t->status == TXN_PENDING) {
		if (s->npending == s->pending_cap) {
			size_t	 ncap = s->pending_cap ? s->pending_cap * 2 : 64;
			char	**p = realloc(s->pending_seen, ncap * sizeof(*p));

			if (p == NULL) {
				s->internal = 1;
				return -1;
			}
			s->pending_seen = p;
			s->pending_cap = ncap;
		}
		if ((s->pending_seen[s->npending] = strdup(id)) == NULL) {
			s->internal = 1;
			return -1;
		}
		s->npending++;
	}
	if (quality_txn(s->q, acc, id, t) != ERR_OK) {
		s->internal = 1;
		return -1;
	}
	return 0;
}

static void
sync_free(struct sync *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->op != NULL)
		s->c->op_free(s->op);
	accdata_batch_abort(&s->batch);
	accdata_known_free(s->known);
	bank_fetch_result_free(&s->res);
	vault_free(s->state, s->statelen);
	vault_free(s->secret, s->secretlen);
	json_decref(s->secret_json);
	quality_free(s->q);
	for (i = 0; i < s->npending; i++)
		free(s->pending_seen[i]);
	free(s->pending_seen);
	accdata_fp_free(&s->fp);
	free(s);
}

/* A sync ended with result: counted for GET /metrics, then freed. */
static void
sync_done(struct sync *s, const char *result)
{
	metrics_sync_done(s->institution, result,
	    (double)(bank_monotonic_ms() - s->t0_ms) / 1e3);
	sync_free(s);
}

/* Reads the stored credentials and answers for unattended refreshes. */
static void
load_secret(struct sync *s)
{
	const char	*k;
	json_t		*v, *answers;

	if (s->secret == NULL)
		return;
	s->secret_json = json_loads(s->secret, 0, NULL);
	if (s->secret_json == NULL)
		return;
	s->bsecret.username = json_string_value(json_object_get(s->secret_json,
	    "username"));
	s->bsecret.password = json_string_value(json_object_get(s->secret_json,
	    "password"));
	if (s->bsecret.username != NULL && s->bsecret.password != NULL)
		s->req.secret = &s->bsecret;
	answers = json_object_get(s->secret_json, "answers");
	json_object_foreach(answers, k, v) {
		if (s->req.nanswers >= MAX_ANSWERS || !json_is_string(v))
			break;
		s->answers[s->req.nanswers].key = k;
		s->answers[s->req.nanswers].value = json_string_value(v);
		s->req.nanswers++;
	}
	s->req.answers = s->answers;
}

/* The connector's bank answered: the task is due now (ctx.wake). */
static void
sync_wake(void *arg)
{
	engine_wake(arg);
}

static void
fail_task(struct task_run *run, enum err e, const char *message)
{
	struct db	*db = store_db();

	if (db == NULL)
		return;
	db_run(db, "UPDATE tasks SET status = 'failed', error_code = ?, "
	    "error_message = ?, finished_at = ?, lease_owner = NULL WHERE id = ?",
	    "ntit", err_code(e), message, (int64_t)time(NULL), run->id);
	sync_announce(db, run->client_id, run->id, "task.failed");
}

static void
param(json_t *params, const char *key, char *out, size_t n)
{
	const char	*v = json_string_value(json_object_get(params, key));

	snprintf(out, n, "%s", v != NULL ? v : "");
}

static int
sync_start(struct task_run *run)
{
	struct db		*db = store_db();
	struct db_stmt		*st;
	struct sync		*s;
	const struct institution *inst = NULL;
	json_t			*params;
	char			 aad[ID_MAX + 16];
	int			 ok = 0;

	if (db == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->run = run;
	s->institution = "unknown";
	s->t0_ms = bank_monotonic_ms();
	s->t0_ns = clock_mono_ns();
	bank_fetch_result_init(&s->res);
	st = db_q(db, "SELECT institution_id, state, secret FROM connections "
	    "WHERE id = ?", "t", run->connection_id);
	if (st != NULL && db_step(st) == DB_ROW) {
		const void	*blob;
		size_t		 n;

		snprintf(s->institution_id, sizeof(s->institution_id), "%s",
		    db_col_text(st, 0));
		snprintf(aad, sizeof(aad), "%s:state", run->connection_id);
		if ((blob = db_col_blob(st, 1, &n)) != NULL && n > 0)
			ok = vault_open(blob, n, aad, &s->state, &s->statelen) == 0;
		else
			ok = 1;
		snprintf(aad, sizeof(aad), "%s:secret", run->connection_id);
		if (ok && (blob = db_col_blob(st, 2, &n)) != NULL && n > 0)
			ok = vault_open(blob, n, aad, &s->secret,
			    &s->secretlen) == 0;
	}
	db_done(st);
	/* A re-sync mostly delivers rows stored already: remember them. */
	if (!ok || (s->known = accdata_known_new(run->connection_id)) == NULL ||
	    (inst = institution_find(s->institution_id)) == NULL ||
	    (s->c = connector_for(inst->protocol)) == NULL ||
	    (s->q = quality_new(clock_now())) == NULL) {
		if (inst != NULL)
			s->institution = inst->id;
		log_error("msg=\"cannot start sync\" task_id=%s", run->id);
		fail_task(run, ERR_INTERNAL_ERROR, NULL);
		sync_done(s, "failed");
		return -1;
	}
	s->institution = inst->id;
	params = run->params ? json_loads(run->params, 0, NULL) : NULL;
	param(params, "from", s->from, sizeof(s->from));
	param(params, "to", s->to, sizeof(s->to));
	param(params, "psu_ip", s->psu_ip, sizeof(s->psu_ip));
	json_decref(params);
	load_secret(s);
	s->ctx.institution_id = s->institution_id;
	s->ctx.now = clock_now();
	s->ctx.psu_ip = s->psu_ip[0] ? s->psu_ip : NULL;
	s->ctx.wake = sync_wake;
	s->ctx.wake_arg = run;
	s->req.from = s->from;
	s->req.to = s->to;
	quality_period(s->q, s->from, s->to);
	s->sink.arg = s;
	s->sink.account = on_account;
	s->sink.account_error = on_account_error;
	s->sink.txn = on_txn;
	s->op = s->c->fetch(&s->ctx, s->state ? s->state : "", &s->req, &s->sink,
	    &s->res);
	if (s->op == NULL) {
		fail_task(run, ERR_INTERNAL_ERROR, NULL);
		sync_done(s, "failed");
		return -1;
	}
	run->impl = s;
	log_info("event=sync_started task_id=%s connection_id=%s", run->id,
	    run->connection_id);
	return 0;
}

static enum bank_rc
sync_step(struct task_run *run, long long *wake_ms)
{
	struct sync	*s = run->impl;
	enum bank_rc	 rc;

	rc = s->c->step(s->op, wake_ms);
	if (s->batch.open && accdata_batch_commit(&s->batch) == -1)
		s->internal = 1;
	if (s->internal)
		return BANK_DONE;
	return rc;
}

/* One warning of the quality checks into the task's JSON array. */
static void
add_warning(void *arg, const char *name, const char *account_id,
    const char *txn_id, const char *detail)
{
	struct jw	*w = arg;

	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "account_id", account_id);
	jw_kstr(w, "transaction_id", txn_id);
	jw_kstr(w, "detail", detail);
	jw_obj_end(w);
}

static int
finish_completed(struct sync *s, struct db *db)
{
	struct task_run	*run = s->run;
	struct buf	 wb;
	struct jw	 w;
	unsigned char	*sealed = NULL;
	size_t		 sealedn = 0, nold = 0, i;
	char		 aad[ID_MAX + 16];
	const char	*old[MAX_ACCOUNTS];
	int		 rc = -1;

	if (s->res.mfa_after_authorization)
		quality_mfa_after_authorization(s->q);
	buf_init(&wb, 1 << 20);
	jw_init(&w, &wb);
	jw_arr(&w);
	quality_finish(s->q, add_warning, &w);
	jw_arr_end(&w);
	if (jw_finish(&w) == -1)
		goto out;
	snprintf(aad, sizeof(aad), "%s:state", run->connection_id);
	if (s->res.state.len > 0 && vault_seal(s->res.state.p, s->res.state.len,
	    aad, &sealed, &sealedn) == -1)
		goto out;
	if (accdata_batch_begin_known(&s->batch, db, s->known) == -1)
		goto out;
	/*
	 * Pending rows the bank no longer lists can only be in accounts
	 * stored before (every row of an account this sync created came
	 * with it), and only in those that may hold pending rows at all:
	 * looking reads every row of the account.
	 */
	for (i = 0; i < s->nacc; i++)
		if (!s->acc_fresh[i] &&
		    accdata_known_pending(s->known, s->acc_ids[i]))
			old[nold++] = s->acc_ids[i];
	if (accdata_close_unseen(&s->batch, run->connection_id, s->acc_ids,
	    s->nacc) == -1 || accdata_remove_unseen_pending(&s->batch, old,
	    nold, (const char *const *)s->pending_seen, s->npending) == -1)
		goto abort;
	if (sealed != NULL && db_run(db, "UPDATE connections SET state = ? "
	    "WHERE id = ?", "bt", sealed, sealedn, run->connection_id) != DB_OK)
		goto abort;
	if (db_run(db, "UPDATE connections SET last_synced_at = ?, error_code = "
	    "NULL, error_message = NULL WHERE id = ?", "it", (int64_t)clock_now(),
	    run->connection_id) != DB_OK ||
	    db_run(db, "UPDATE tasks SET status = 'completed', accounts = ?, "
	    "added = ?, updated = ?, warnings = ?, finished_at = ?, lease_owner = "
	    "NULL WHERE id = ?", "iiitit", (int64_t)s->nacc, (int64_t)s->added,
	    (int64_t)s->updated, buf_str(&wb), (int64_t)time(NULL),
	    run->id) != DB_OK)
		goto abort;
	sync_announce(db, run->client_id, run->id, "task.completed");
	if (accdata_batch_commit(&s->batch) == -1)
		goto out;
	webhooks_wake();
	rc = 0;
	goto out;
abort:
	accdata_batch_abort(&s->batch);
out:
	free(sealed);
	buf_free(&wb);
	return rc;
}

static void
sync_finish(struct task_run *run, int expired)
{
	struct sync	*s = run->impl;
	struct db	*db = store_db();
	enum err	 e;

	run->impl = NULL;
	if (expired == -1 || db == NULL) {	/* the node stops: resumed later */
		sync_free(s);
		return;
	}
	if (expired) {
		db_run(db, "UPDATE tasks SET status = 'expired', error_code = ?, "
		    "finished_at = ?, lease_owner = NULL WHERE id = ?", "nit",
		    err_code(ERR_TASK_EXPIRED), (int64_t)time(NULL), run->id);
		sync_announce(db, run->client_id, run->id, "task.failed");
		log_info("event=sync_expired task_id=%s", run->id);
		sync_done(s, "expired");
		return;
	}
	e = s->internal ? ERR_INTERNAL_ERROR : s->res.error.code;
	if (e == ERR_OK && finish_completed(s, db) == 0) {
		log_info("event=sync_completed task_id=%s accounts=%zu added=%lld "
		    "updated=%lld", run->id, s->nacc, s->added, s->updated);
		sync_done(s, "completed");
		return;
	}
	if (e == ERR_OK)
		e = ERR_INTERNAL_ERROR;
	/*
	 * The database went out of reach meanwhile (PostgreSQL restarted,
	 * say): the task is queued again, for this node or another, rather
	 * than failed.  Should that write fail too, its lease runs out and
	 * a node takes it back all the same.
	 */
	if (e == ERR_INTERNAL_ERROR && db_last_busy_ns() >= s->t0_ns &&
	    db_run(db, "UPDATE tasks SET status = 'queued', lease_owner = NULL "
	    "WHERE id = ? AND status = 'running'", "t", run->id) == DB_OK) {
		log_warn("event=sync_requeued task_id=%s msg=\"the database was "
		    "out of reach\"", run->id);
		sync_free(s);
		engine_notify();
		return;
	}
	if (e == ERR_NO_ACTIVE_CONSENT || e == ERR_QUESTION_NOT_FOUND)
		db_run(db, "UPDATE connections SET status = 'expired', error_code "
		    "= ?, error_message = ? WHERE id = ?", "ntt", err_code(e),
		    s->res.error.message, run->connection_id);
	fail_task(run, e, e == ERR_INTERNAL_ERROR ? NULL : s->res.error.message);
	log_info("event=sync_failed task_id=%s error=%s", run->id, err_name(e));
	sync_done(s, "failed");
}

void
sync_announce(struct db *db, const char *client_id, const char *task_id,
    const char *type)
{
	struct buf	b;
	struct jw	w;

	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	if (tasks_write(&w, db, task_id, client_id, 0) == 0 && jw_finish(&w) == 0)
		webhooks_enqueue(db, client_id, type, buf_str(&b));
	buf_free(&b);
}

const struct task_kind sync_task_kind = {
	"sync", sync_start, sync_step, sync_finish
};
