/*
 * The body shared by the statement fuzzers: the input goes through
 * fmemopen() into stmt_parse() with a sink that reads every string it is
 * given, so a dangling or unterminated borrowed pointer shows under ASan.
 */
#ifndef BF_FUZZ_COMMON_H
#define BF_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

static size_t	fuzz_sink_bytes;

static void
touch(const char *s)
{
	if (s != NULL)
		fuzz_sink_bytes += strlen(s);
}

static int
fz_begin(void *arg, const struct stmt_info *i, const struct rec_account *a)
{
	(void)arg;
	touch(i->id);
	touch(i->sequence);
	touch(i->from_date);
	touch(a->bank_id);
	touch(a->iban);
	touch(a->number);
	touch(a->bic);
	touch(a->name);
	touch(a->holder_name);
	touch(a->currency);
	return 0;
}

static int
fz_txn(void *arg, const struct stmt_info *i, const struct stmt_txn *t)
{
	(void)arg;
	(void)i;
	touch(t->rec.bank_id);
	touch(t->rec.booking_date);
	touch(t->rec.value_date);
	touch(t->rec.currency);
	touch(t->rec.cp_name);
	touch(t->rec.cp_iban);
	touch(t->rec.description);
	touch(t->rec.bank_transaction_code);
	touch(t->rec.bank_reference);
	touch(t->rec.end_to_end_id);
	touch(t->purpose_code);
	touch(t->check_number);
	return 0;
}

static int
fz_end(void *arg, const struct stmt_info *i, const struct stmt_summary *s)
{
	size_t	k;

	(void)arg;
	touch(i->to_date);
	for (k = 0; k < s->nbalances; k++) {
		touch(s->balances[k].currency);
		touch(s->balances[k].date);
	}
	return 0;
}

static int
fz_account(void *arg, const struct rec_account *a)
{
	(void)arg;
	touch(a->bank_id);
	touch(a->number);
	touch(a->name);
	return 0;
}

static int
fz_warning(void *arg, const struct stmt_warning *w)
{
	(void)arg;
	touch(w->message);
	return 0;
}

static int
fuzz_one(enum stmt_format fmt, const uint8_t *data, size_t size)
{
	struct stmt_sink	 sink = { NULL, fz_begin, fz_txn, fz_end,
				    fz_account, fz_warning };
	struct stmt_diag	 d;
	enum stmt_format	 det;
	FILE			*f;
	char			 msg[STMT_MSGLEN + 64];

	(void)stmt_detect((const char *)data, size, &det);
	if (size == 0)
		return 0;
	if ((f = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		return 0;
	if (stmt_parse(f, fmt, &sink, &d) != STMT_OK)
		touch(stmt_diag_str(&d, msg, sizeof(msg)));
	fclose(f);
	return 0;
}

#endif
