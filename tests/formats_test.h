/*
 * What the statement parser tests share: a sink that copies everything it
 * is given (so tests can look at it after the parse) and small finders.
 */
#ifndef BF_FORMATS_TEST_H
#define BF_FORMATS_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

#define UNUSED __attribute__((unused))

#define GOT_MAXSTMT	64
#define GOT_MAXTXN	256
#define GOT_MAXWARN	256
#define GOT_MAXACCT	16

struct got_txn {
	char		 booking[11], value[11], ccy[4];
	int64_t		 amount;
	int		 status, reversal;
	char		 cp_name[512], cp_iban[64], desc[2048], btc[64];
	char		 dbtc[64];	/* details_bank_transaction_code */
	char		 bref[128], e2e[128], bank_id[256], purpose[64], check[32];
	uint64_t	 line;
	size_t		 stmt;
};

struct got_stmt {
	char		 id[128], seq[64], from[11], to[11];
	char		 bank_id[256], iban[64], number[128], name[128];
	char		 holder[128], bic[16], ccy[4];
	enum acct_type	 type;
	int		 interim, ended;
	uint64_t	 line;
	size_t		 ntxn, first_txn;
	struct rec_balance bal[STMT_MAXBAL];
	size_t		 nbal;
};

struct got_warn {
	enum stmt_warn	 code;
	uint64_t	 line;
	char		 msg[STMT_MSGLEN];
};

struct got {
	struct got_stmt	 st[GOT_MAXSTMT];
	size_t		 nst;
	struct got_txn	 tx[GOT_MAXTXN];
	size_t		 ntx;
	struct got_warn	 w[GOT_MAXWARN];
	size_t		 nw;
	struct rec_account acct[GOT_MAXACCT];
	char		 acct_num[GOT_MAXACCT][64], acct_name[GOT_MAXACCT][64];
	char		 acct_bank_id[GOT_MAXACCT][128];
	size_t		 nacct;
	int		 stop_at_txn;	/* txn() returns 7 at this count */
	int		 strict;	/* parse with sink.strict */
	struct stmt_diag diag;
};

static void
cp(char *out, size_t n, const char *s)
{
	snprintf(out, n, "%s", s != NULL ? s : "");
}

static int
got_begin(void *arg, const struct stmt_info *i, const struct rec_account *a)
{
	struct got	*g = arg;
	struct got_stmt	*s;

	if (g->nst == GOT_MAXSTMT)
		return 0;
	s = &g->st[g->nst++];
	memset(s, 0, sizeof(*s));
	cp(s->id, sizeof(s->id), i->id);
	cp(s->seq, sizeof(s->seq), i->sequence);
	cp(s->from, sizeof(s->from), i->from_date);
	cp(s->bank_id, sizeof(s->bank_id), a->bank_id);
	cp(s->iban, sizeof(s->iban), a->iban);
	cp(s->number, sizeof(s->number), a->number);
	cp(s->name, sizeof(s->name), a->name);
	cp(s->holder, sizeof(s->holder), a->holder_name);
	cp(s->bic, sizeof(s->bic), a->bic);
	cp(s->ccy, sizeof(s->ccy), a->currency);
	s->type = a->type;
	s->interim = i->interim;
	s->line = i->line;
	s->first_txn = g->ntx;
	return 0;
}

static int
got_txn(void *arg, const struct stmt_info *i, const struct stmt_txn *t)
{
	struct got	*g = arg;
	struct got_txn	*x;

	(void)i;
	if (g->nst > 0)
		g->st[g->nst - 1].ntxn++;
	if (g->ntx == GOT_MAXTXN)
		return 0;
	x = &g->tx[g->ntx++];
	memset(x, 0, sizeof(*x));
	cp(x->booking, sizeof(x->booking), t->rec.booking_date);
	cp(x->value, sizeof(x->value), t->rec.value_date);
	cp(x->ccy, sizeof(x->ccy), t->rec.currency);
	x->amount = t->rec.amount;
	x->status = t->rec.status;
	x->reversal = t->reversal;
	cp(x->cp_name, sizeof(x->cp_name), t->rec.cp_name);
	cp(x->cp_iban, sizeof(x->cp_iban), t->rec.cp_iban);
	cp(x->desc, sizeof(x->desc), t->rec.description);
	cp(x->btc, sizeof(x->btc), t->rec.bank_transaction_code);
	cp(x->dbtc, sizeof(x->dbtc), t->rec.details_bank_transaction_code);
	cp(x->bref, sizeof(x->bref), t->rec.bank_reference);
	cp(x->e2e, sizeof(x->e2e), t->rec.end_to_end_id);
	cp(x->bank_id, sizeof(x->bank_id), t->rec.bank_id);
	cp(x->purpose, sizeof(x->purpose), t->purpose_code);
	cp(x->check, sizeof(x->check), t->check_number);
	x->line = t->line;
	x->stmt = g->nst - 1;
	if (g->stop_at_txn > 0 && (int)g->ntx == g->stop_at_txn)
		return 7;
	return 0;
}

static int
got_end(void *arg, const struct stmt_info *i, const struct stmt_summary *sum)
{
	struct got	*g = arg;
	struct got_stmt	*s;

	if (g->nst == 0)
		return 0;
	s = &g->st[g->nst - 1];
	cp(s->to, sizeof(s->to), i->to_date);
	s->interim = i->interim;
	s->nbal = sum->nbalances;
	memcpy(s->bal, sum->balances, sum->nbalances * sizeof(s->bal[0]));
	s->ended = 1;
	return 0;
}

static int
got_account(void *arg, const struct rec_account *a)
{
	struct got	*g = arg;

	if (g->nacct == GOT_MAXACCT)
		return 0;
	g->acct[g->nacct] = *a;
	cp(g->acct_num[g->nacct], 64, a->number);
	cp(g->acct_name[g->nacct], 64, a->name);
	cp(g->acct_bank_id[g->nacct], 128, a->bank_id);
	g->nacct++;
	return 0;
}

static int
got_warning(void *arg, const struct stmt_warning *w)
{
	struct got	*g = arg;

	if (g->nw == GOT_MAXWARN)
		return 0;
	g->w[g->nw].code = w->code;
	g->w[g->nw].line = w->line;
	cp(g->w[g->nw].msg, sizeof(g->w[0].msg), w->message);
	g->nw++;
	return 0;
}

UNUSED static enum stmt_rc
got_parse(FILE *f, enum stmt_format fmt, struct got *g)
{
	struct stmt_sink	sink = { g, got_begin, got_txn, got_end,
				    got_account, got_warning, g->strict };

	return stmt_parse(f, fmt, &sink, &g->diag);
}

/* Parses n bytes of s; g must be zeroed (calloc) by the caller. */
UNUSED static enum stmt_rc
got_mem(const char *s, size_t n, enum stmt_format fmt, struct got *g)
{
	FILE		*f = fmemopen((void *)(uintptr_t)s, n, "rb");
	enum stmt_rc	 rc;

	if (f == NULL)
		return STMT_FAILED;
	rc = got_parse(f, fmt, g);
	fclose(f);
	return rc;
}

UNUSED static enum stmt_rc
got_str(const char *s, enum stmt_format fmt, struct got *g)
{
	return got_mem(s, strlen(s), fmt, g);
}

UNUSED static enum stmt_rc
got_file(const char *path, enum stmt_format fmt, struct got *g)
{
	FILE		*f = fopen(path, "rb");
	enum stmt_rc	 rc;

	if (f == NULL)
		return STMT_FAILED;
	rc = got_parse(f, fmt, g);
	fclose(f);
	return rc;
}

UNUSED static struct got *
got_new(void)
{
	struct got	*g = calloc(1, sizeof(*g));

	if (g == NULL)
		abort();
	return g;
}

#ifdef cmocka_unit_test
/*
 * Parses the file at path, or with path NULL the text s, as fmt (strict
 * or not); the result must be want, else the diagnostic is printed and
 * the test fails.  The caller frees the got.
 */
UNUSED static struct got *
got_expect(const char *path, const char *s, enum stmt_format fmt, int strict,
    enum stmt_rc want)
{
	struct got	*g = got_new();
	enum stmt_rc	 rc;
	char		 msg[STMT_MSGLEN + 64];

	g->strict = strict;
	rc = path != NULL ? got_file(path, fmt, g) : got_str(s, fmt, g);
	if (rc != want)
		print_error("%s: %s\n", path != NULL ? path : "text",
		    stmt_diag_str(&g->diag, msg, sizeof(msg)));
	assert_int_equal(rc, want);
	return g;
}
#endif

/* The balance of type t of statement s; NULL when absent. */
UNUSED static const struct rec_balance *
got_bal(const struct got_stmt *s, enum bal_type t)
{
	size_t	i;

	for (i = 0; i < s->nbal; i++)
		if (s->bal[i].type == t)
			return &s->bal[i];
	return NULL;
}

/* The number of warnings of code c whose message contains sub. */
UNUSED static size_t
got_warned(const struct got *g, enum stmt_warn c, const char *sub)
{
	size_t	i, n = 0;

	for (i = 0; i < g->nw; i++)
		if (g->w[i].code == c && (sub == NULL ||
		    strstr(g->w[i].msg, sub) != NULL))
			n++;
	return n;
}

#endif
