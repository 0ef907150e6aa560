/*
 * The import task: a statement file (camt.053, MT940, OFX, CODA, BAI2, or a
 * ZIP archive of them) uploaded through
 * POST /v1/users/{id}/statements becomes accounts, balances and
 * transactions of the user's connection to the built-in institution
 * "file", upserted by the same stable identities as a bank sync, so the
 * same file twice, or two overlapping files, store nothing twice.  The
 * upload waits in DATA_DIR/imports until its task has run, so a restart
 * does not lose it; it is removed afterwards.
 *
 * Seed 001's upload statuses map to the task: files uploaded = queued,
 * integration started = running, completed = completed, completed with
 * partial error = completed with warnings, integration failure = failed
 * with STATEMENT_REJECTED (data: format, line or offset, reason).
 */
#include "jobs/engine.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jw.h"
#include "core/log.h"
#include "formats/formats.h"
#include "jobs/sync.h"
#include "jobs/webhooks.h"
#include "store/accdata.h"
#include "store/store.h"

#define IMPORT_MAX_ACCOUNTS	256
#define IMPORT_MAX_WARNINGS	200

struct import {
	char			 path[4096];
	enum stmt_format	 format;
	int			 have_format;
	int			 strict;	/* ?strict=true of the upload */
	struct accdata_batch	 batch;
	struct stmt_diag	 diag;
	enum stmt_rc		 rc;
	int			 internal;
	/* the statement under way: its account, kept until end() */
	struct rec_account	 acc;
	char			*acc_strs[7];
	char			 acc_id[ID_MAX];
	char			 acc_key[128];
	int			 acc_fresh;	/* created by this file */
	/* every account touched */
	char			 ids[IMPORT_MAX_ACCOUNTS][ID_MAX];
	size_t			 nids;
	/* identical transactions in one file stay distinct */
	struct accdata_fp	 fp;
	struct buf		 warnings;
	struct jw		 ww;
	size_t			 nwarn;
	long long		 added, updated;
	struct task_run		*run;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
forget_account(struct import *im)
{
	size_t	i;

	for (i = 0; i < sizeof(im->acc_strs) / sizeof(im->acc_strs[0]); i++) {
		free(im->acc_strs[i]);
		im->acc_strs[i] = NULL;
	}
	memset(&im->acc, 0, sizeof(im->acc));
}

static int
batch(struct import *im)
{
	if (im->batch.open)
		return 0;
	if (accdata_batch_begin(&im->batch, store_db()) == -1) {
		im->internal = 1;
		return -1;
	}
	return 0;
}

static void
note_account(struct import *im, const char *id)
{
	size_t	i;

	for (i = 0; i < im->nids; i++)
		if (strcmp(im->ids[i], id) == 0)
			return;
	if (im->nids < IMPORT_MAX_ACCOUNTS)
		snprintf(im->ids[im->nids++], ID_MAX, "%s", id);
}

static int
on_begin(void *arg, const struct stmt_info *info, const struct rec_account *a)
{
	struct import	*im = arg;

	(void)info;
	forget_account(im);
	im->acc = *a;
	/* Keep the strings: end() upserts the account again with balances. */
	im->acc.bank_id = im->acc_strs[0] = dup_or_null(a->bank_id);
	im->acc.iban = im->acc_strs[1] = dup_or_null(a->iban);
	im->acc.number = im->acc_strs[2] = dup_or_null(a->number);
	im->acc.bic = im->acc_strs[3] = dup_or_null(a->bic);
	im->acc.name = im->acc_strs[4] = dup_or_null(a->name);
	im->acc.holder_name = im->acc_strs[5] = dup_or_null(a->holder_name);
	im->acc.holder_address = im->acc_strs[6] = dup_or_null(a->holder_address);
	im->acc.holder_email = NULL;
	im->acc.balances = NULL;
	im->acc.nbalances = 0;
	snprintf(im->acc_key, sizeof(im->acc_key), "%s",
	    accdata_account_key(&im->acc));
	if (batch(im) == -1 || accdata_account(&im->batch,
	    im->run->connection_id, &im->acc, im->acc_id, &im->acc_fresh) == -1) {
		im->internal = 1;
		return -1;
	}
	note_account(im, im->acc_id);
	return 0;
}

static int
on_txn(void *arg, const struct stmt_info *info, const struct stmt_txn *st)
{
	struct import	*im = arg;
	char		 key[160], id[ID_MAX];
	enum txn_change	 ch;

	(void)info;
	if (batch(im) == -1)
		return -1;
	/* A file's own entry references are not reliably unique across
	 * banks and files: the content decides identity. */
	if (accdata_fp_key(&im->fp, im->acc_id, &st->rec, key) == -1) {
		im->internal = 1;
		return -1;
	}
	if (accdata_txn(&im->batch, im->run->connection_id, im->acc_id, &st->rec,
	    key, NULL, im->acc_fresh, id, &ch) == -1) {
		im->internal = 1;
		return -1;
	}
	if (ch == TXN_ADDED)
		im->added++;
	else if (ch == TXN_UPDATED)
		im->updated++;
	return 0;
}

static int
on_end(void *arg, const struct stmt_info *info, const struct stmt_summary *sum)
{
	struct import	*im = arg;

	(void)info;
	if (sum->nbalances == 0)
		return 0;
	im->acc.balances = sum->balances;
	im->acc.nbalances = sum->nbalances;
	if (batch(im) == -1 || accdata_account(&im->batch,
	    im->run->connection_id, &im->acc, im->acc_id, NULL) == -1) {
		im->internal = 1;
		return -1;
	}
	return 0;
}

static int
on_account(void *arg, const struct rec_account *a)
{
	struct import	*im = arg;
	char		 id[ID_MAX];

	if (batch(im) == -1 || accdata_account(&im->batch,
	    im->run->connection_id, a, id, NULL) == -1) {
		im->internal = 1;
		return -1;
	}
	note_account(im, id);
	return 0;
}

/* "balance_mismatch" -> "BalanceMismatch", as the task's warnings read. */
static void
camel(const char *snake, char *out, size_t n)
{
	size_t	o = 0;
	int	up = 1;

	for (; *snake != '\0' && o + 1 < n; snake++) {
		if (*snake == '_') {
			up = 1;
			continue;
		}
		out[o++] = up ? (char)toupper((unsigned char)*snake) : *snake;
		up = 0;
	}
	out[o] = '\0';
}

static int
on_warning(void *arg, const struct stmt_warning *w)
{
	struct import	*im = arg;
	char		 name[64], detail[640];

	if (im->nwarn >= IMPORT_MAX_WARNINGS)
		return 0;
	camel(stmt_warn_name(w->code), name, sizeof(name));
	/* A ZIP member's warning names the member first. */
	if (w->member != NULL && w->line > 0)
		snprintf(detail, sizeof(detail), "zip member \"%s\": %s line "
		    "%llu: %s", w->member, stmt_format_name(w->format),
		    (unsigned long long)w->line, w->message);
	else if (w->member != NULL)
		snprintf(detail, sizeof(detail), "zip member \"%s\": %s: %s",
		    w->member, stmt_format_name(w->format), w->message);
	else if (w->line > 0)
		snprintf(detail, sizeof(detail), "%s line %llu: %s",
		    stmt_format_name(w->format), (unsigned long long)w->line,
		    w->message);
	else
		snprintf(detail, sizeof(detail), "%s: %s",
		    stmt_format_name(w->format), w->message);
	jw_obj(&im->ww);
	jw_kstr(&im->ww, "name", name);
	jw_kstr(&im->ww, "account_id", im->acc_id[0] ? im->acc_id : NULL);
	jw_knull(&im->ww, "transaction_id");
	jw_kstr(&im->ww, "detail", detail);
	jw_obj_end(&im->ww);
	im->nwarn++;
	return 0;
}

static void
import_free(struct import *im)
{
	if (im == NULL)
		return;
	accdata_batch_abort(&im->batch);
	forget_account(im);
	accdata_fp_free(&im->fp);
	buf_free(&im->warnings);
	free(im);
}

static int
import_start(struct task_run *run)
{
	struct import	*im;
	json_t		*params;
	const char	*fmt;

	if ((im = calloc(1, sizeof(*im))) == NULL)
		return -1;
	im->run = run;
	buf_init(&im->warnings, 1 << 20);
	jw_init(&im->ww, &im->warnings);
	jw_arr(&im->ww);
	params = run->params ? json_loads(run->params, 0, NULL) : NULL;
	snprintf(im->path, sizeof(im->path), "%s",
	    json_string_value(json_object_get(params, "file")) ?
	    json_string_value(json_object_get(params, "file")) : "");
	fmt = json_string_value(json_object_get(params, "format"));
	if (fmt != NULL && stmt_format_parse(fmt, &im->format) == 0)
		im->have_format = 1;
	im->strict = json_is_true(json_object_get(params, "strict"));
	json_decref(params);
	run->impl = im;
	return 0;
}

static enum bank_rc
import_step(struct task_run *run, long long *wake_ms)
{
	struct import		*im = run->impl;
	struct stmt_sink	 sink = { im, on_begin, on_txn, on_end, on_account,
	    on_warning, im->strict };
	char			 head[STMT_DETECT_LEN];
	size_t			 n;
	FILE			*f;

	(void)wake_ms;
	if ((f = fopen(im->path, "rb")) == NULL) {
		im->internal = 1;
		return BANK_DONE;
	}
	if (!im->have_format) {
		n = fread(head, 1, sizeof(head), f);
		rewind(f);
		if (stmt_detect(head, n, &im->format) != 0) {
			im->rc = STMT_REJECTED;
			im->diag.format = STMT__COUNT;
			snprintf(im->diag.msg, sizeof(im->diag.msg), "not a "
			    "camt.053, MT940, OFX, CODA or BAI2 statement, nor a "
			    "ZIP archive of them");
			fclose(f);
			return BANK_DONE;
		}
	}
	im->rc = stmt_parse(f, im->format, &sink, &im->diag);
	fclose(f);
	if (im->rc == STMT_OK && im->batch.open &&
	    accdata_batch_commit(&im->batch) == -1)
		im->internal = 1;
	return BANK_DONE;
}

/* The rejection as the error's data: format, line or offset, reason. */
static char *
rejection_data(const struct import *im)
{
	json_t	*d = json_object();
	char	*s;

	json_object_set_new(d, "format", im->diag.format < STMT__COUNT ?
	    json_string(stmt_format_name(im->diag.format)) : json_null());
	if (im->diag.line > 0)
		json_object_set_new(d, "line", json_integer((json_int_t)
		    im->diag.line));
	else if (im->diag.offset > 0)
		json_object_set_new(d, "offset", json_integer((json_int_t)
		    im->diag.offset));
	/* A rejected ZIP member: its name; format and line are its own. */
	if (im->diag.member[0] != '\0')
		json_object_set_new(d, "member", json_string(im->diag.member));
	json_object_set_new(d, "reason", json_string(im->diag.msg));
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

static void
import_finish(struct task_run *run, int expired)
{
	struct import	*im = run->impl;
	struct db	*db = store_db();
	char		*data = NULL;

	run->impl = NULL;
	if (expired == -1 || db == NULL) {	/* resumed at the next start */
		import_free(im);
		return;
	}
	accdata_batch_abort(&im->batch);
	jw_arr_end(&im->ww);
	if (!expired && !im->internal && im->rc == STMT_OK) {
		db_run(db, "UPDATE tasks SET status = 'completed', accounts = ?, "
		    "added = ?, updated = ?, warnings = ?, finished_at = ?, "
		    "lease_owner = NULL WHERE id = ?", "iiitit", (int64_t)im->nids,
		    (int64_t)im->added, (int64_t)im->updated,
		    buf_str(&im->warnings), (int64_t)time(NULL), run->id);
		db_run(db, "UPDATE connections SET last_synced_at = ? WHERE id = ?",
		    "it", (int64_t)time(NULL), run->connection_id);
		sync_announce(db, run->client_id, run->id, "task.completed");
		log_info("event=import_completed task_id=%s accounts=%zu added=%lld "
		    "updated=%lld warnings=%zu", run->id, im->nids, im->added,
		    im->updated, im->nwarn);
	} else {
		enum err e = expired ? ERR_TASK_EXPIRED : im->rc == STMT_REJECTED ?
		    ERR_STATEMENT_REJECTED : ERR_INTERNAL_ERROR;

		if (e == ERR_STATEMENT_REJECTED)
			data = rejection_data(im);
		db_run(db, "UPDATE tasks SET status = ?, error_code = ?, error_data "
		    "= ?, warnings = ?, finished_at = ?, lease_owner = NULL WHERE "
		    "id = ?", "tnttit", expired ? "expired" : "failed",
		    err_code(e), data, buf_str(&im->warnings), (int64_t)time(NULL),
		    run->id);
		sync_announce(db, run->client_id, run->id, "task.failed");
		log_info("event=import_failed task_id=%s error=%s", run->id,
		    err_name(e));
	}
	webhooks_wake();
	if (im->path[0] != '\0')
		unlink(im->path);
	free(data);
	import_free(im);
}

const struct task_kind import_task_kind = {
	"import", import_start, import_step, import_finish
};
