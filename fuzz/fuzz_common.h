/*
 * The body shared by the statement fuzzers: the input goes through
 * fmemopen() into stmt_parse() with a sink that reads every string it is
 * given, so a dangling or unterminated borrowed pointer shows under ASan.
 */
#ifndef BF_FUZZ_COMMON_H
#define BF_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jw.h"
#include "formats/formats.h"

static size_t	fuzz_sink_bytes;

#define FZ_STR_MAX	(64 * 1024)

/*
 * Reads s, and writes it as JSON both ways (json_escape_to takes 16
 * bytes at a time, json_escape's output is the reference): the parsers'
 * strings are what `bankfeed import` escapes.
 */
static void
touch(const char *s)
{
	static char		out[JSON_ESCAPED_MAX(FZ_STR_MAX)];
	static struct buf	b;
	size_t			n, k;

	if (s == NULL)
		return;
	n = strlen(s);
	fuzz_sink_bytes += n;
	if (n > FZ_STR_MAX)
		return;
	if (b.max == 0)
		buf_init(&b, JSON_ESCAPED_MAX(FZ_STR_MAX));
	buf_reset(&b);
	k = json_escape_to(out, s, n);
	if (json_escape(&b, s, n) == -1 || k != b.len ||
	    memcmp(out, b.p, k) != 0)
		abort();
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
	touch(t->rec.details_bank_transaction_code);
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
				    fz_account, fz_warning, 0 };
	struct stmt_diag	 d;
	enum stmt_format	 det;
	FILE			*f;
	char			 msg[STMT_MSGLEN + 64];

	(void)stmt_detect((const char *)data, size, &det);
	if (size == 0)
		return 0;
	/* Strict and lenient both: the last byte chooses, the same each run. */
	sink.strict = data[size - 1] & 1;
	if ((f = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		return 0;
	if (stmt_parse(f, fmt, &sink, &d) != STMT_OK)
		touch(stmt_diag_str(&d, msg, sizeof(msg)));
	fclose(f);
	return 0;
}

#endif
