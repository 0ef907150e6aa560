/*
 * The shared corpus (../shared/corpus/{camt053,mt940,ofx}): every file
 * either imports with the values of its EXPECTED.md / expected/, or is
 * rejected with a clear message where the upstream suite rejects it.
 * Where bankfeed reads a file differently from the upstream library, the
 * test says why next to the value.  Without the corpus the tests say they
 * were skipped and pass.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "formats_test.h"

#ifndef BANKFEED_CORPUS_DIR
#define BANKFEED_CORPUS_DIR "../shared/corpus"
#endif

static int	have_corpus;

static struct got *
load(const char *dir, const char *file, enum stmt_format fmt,
    enum stmt_rc want)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s/%s", BANKFEED_CORPUS_DIR, dir, file);
	return got_expect(path, NULL, fmt, 0, want);
}

#define SKIP_WITHOUT_CORPUS() do {					\
	if (!have_corpus) {						\
		print_message("corpus %s not found: skipped\n",		\
		    BANKFEED_CORPUS_DIR);				\
		skip();							\
	}								\
} while (0)

/* Is there a balance of type t, amount v, date d in some statement? */
static int
has_bal(const struct got *g, enum bal_type t, int64_t v, const char *d)
{
	size_t	i;

	for (i = 0; i < g->nst; i++) {
		const struct rec_balance	*b = got_bal(&g->st[i], t);

		if (b != NULL && b->amount == v && (d == NULL ||
		    strcmp(b->date, d) == 0))
			return 1;
	}
	return 0;
}

/* ---- camt.053 (genkgo/camt EndToEndTest and golden JSON) ---- */

/* The statement every EndToEndTest file shares. */
static void
camt_end_to_end(const char *file, const char *cp_name, const char *cp_iban)
{
	struct got		*g = load("camt053", file, STMT_CAMT053, STMT_OK);
	const struct got_stmt	*s = &g->st[0];

	assert_int_equal(g->nst, 1);
	assert_string_equal(s->id, "253EURNL26VAYB8060476890");
	/* v3/v4/v8 give it in Acct/Id/Othr/Id: still recognized as IBAN. */
	assert_string_equal(s->iban, "NL26VAYB8060476890");
	assert_string_equal(s->seq, "12312");
	assert_string_equal(s->from, "2007-10-18");
	assert_string_equal(s->to, "2007-10-18");
	/* Balances in document order, minor units. */
	assert_int_equal(s->nbal, 4);
	assert_int_equal(s->bal[0].type, BAL_OPENING_BOOKED);
	assert_int_equal(s->bal[0].amount, 1815);
	assert_string_equal(s->bal[0].currency, "EUR");
	assert_string_equal(s->bal[0].date, "2014-12-30");
	assert_int_equal(s->bal[1].type, BAL_BOOKED);
	assert_int_equal(s->bal[1].amount, -2700);
	assert_string_equal(s->bal[1].currency, "SEK");
	assert_int_equal(s->bal[2].type, BAL_OPENING_AVAILABLE);
	assert_int_equal(s->bal[2].amount, 3500);
	assert_string_equal(s->bal[2].currency, "CHF");
	assert_int_equal(s->bal[3].type, BAL_AVAILABLE);
	assert_int_equal(s->bal[3].amount, -2700);
	assert_string_equal(s->bal[3].currency, "JPY");
	/* The closing balance's currency differs from the account's. */
	assert_int_equal(got_warned(g, STMT_W_CURRENCY, "SEK"), 1);
	/* Exactly one entry: 8.85 EUR credit. */
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->tx[0].amount, 885);
	assert_string_equal(g->tx[0].ccy, "EUR");
	assert_string_equal(g->tx[0].booking, "2014-12-31");
	assert_string_equal(g->tx[0].value, "2015-01-02");
	/* A credit: the counterparty is the debtor. */
	assert_string_equal(g->tx[0].cp_name, cp_name);
	assert_string_equal(g->tx[0].cp_iban, cp_iban);
	/* Structured creditor reference as the remittance information. */
	assert_string_equal(g->tx[0].desc, "4654654654654654");
	free(g);
}

static void
camt_v2_minimal(void **state)
{
	(void)state;
	SKIP_WITHOUT_CORPUS();
	camt_end_to_end("genkgo_camt053.v2.minimal.xml", "NAME NAME",
	    "NL56AGDH9619008421");
}

static void
camt_v2_minimal_ultimate(void **state)
{
	(void)state;
	SKIP_WITHOUT_CORPUS();
	/* No Dbtr in this one: the ultimate debtor names the payer. */
	camt_end_to_end("genkgo_camt053.v2.minimal.ultimate.xml",
	    "DEBTOR NAME NM", "");
}

static void
camt_v2_with_party_ids(void **state)
{
	(void)state;
	SKIP_WITHOUT_CORPUS();
	camt_end_to_end("genkgo_camt053.v2.with-party-ids.xml", "NAME NAME",
	    "NL56AGDH9619008421");
}

static void
camt_v3(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	camt_end_to_end("genkgo_camt053.v3.xml", "NAME NAME",
	    "NL56AGDH9619008421");
	g = load("camt053", "genkgo_camt053.v3.xml", STMT_CAMT053, STMT_OK);
	assert_string_equal(g->tx[0].btc, "PMNT-RCDT-DMCT");
	assert_string_equal(g->tx[0].purpose, "025132131");
	assert_string_equal(g->tx[0].bref, "XXXXXXXXXXXXXXXXXXXXXXEUR");
	assert_string_equal(g->st[0].holder, "COMPANY BVBA");
	assert_string_equal(g->st[0].bic, "KREDBEBB");
	/* Its TxDtls says 105.750 EUR for an 8.85 EUR entry: flagged. */
	assert_int_equal(got_warned(g, STMT_W_BATCH, "105.75"), 1);
	free(g);
}

static void
camt_v4_v8(void **state)
{
	const char	*files[] = { "genkgo_camt053.v4.xml",
			    "genkgo_camt053.v8.xml" };
	struct got	*g;
	size_t		 i;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	for (i = 0; i < 2; i++) {
		g = load("camt053", files[i], STMT_CAMT053, STMT_OK);
		assert_int_equal(g->nst, 1);
		assert_string_equal(g->st[0].iban, "NL26VAYB8060476890");
		assert_int_equal(g->st[0].nbal, 4);
		assert_int_equal(g->st[0].bal[0].amount, 1815);
		assert_int_equal(g->st[0].bal[3].amount, -2700);
		assert_int_equal(g->ntx, 1);
		assert_int_equal(g->tx[0].amount, 885);
		assert_string_equal(g->tx[0].booking, "2014-12-31");
		assert_string_equal(g->tx[0].cp_name, "NAME NAME");
		assert_string_equal(g->tx[0].cp_iban, "NL56AGDH9619008421");
		assert_string_equal(g->tx[0].bref, "AAAASESS-FP-CN_98765/01");
		free(g);
	}
	/* v8: DtTm booking date, Sts/Cd, EndToEndId. */
	g = load("camt053", "genkgo_camt053.v8.xml", STMT_CAMT053, STMT_OK);
	assert_string_equal(g->tx[0].e2e, "MUELL/FINP/RA12345");
	assert_string_equal(g->tx[0].btc, "PMNT-RCDT-BOOK");
	assert_int_equal(g->tx[0].status, TXN_BOOKED);
	assert_string_equal(g->st[0].holder, "FINPETROL");
	free(g);
}

static void
camt_v2_wrong(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.v2.wrong.xml", STMT_CAMT053,
	    STMT_REJECTED);
	assert_int_equal(g->diag.format, STMT_CAMT053);
	assert_true(g->diag.line > 0);
	assert_non_null(strstr(g->diag.msg, "no <Stmt>"));
	free(g);
}

static void
camt_v2_five_decimals(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.v2.five.decimals.xml",
	    STMT_CAMT053, STMT_OK);
	/* 18.150, 27.050, 8.850: extra zeros only, so no rounding warning. */
	assert_int_equal(g->st[0].bal[0].amount, 1815);
	assert_int_equal(g->st[0].bal[1].amount, 2705);
	assert_int_equal(g->tx[0].amount, 885);
	assert_int_equal(got_warned(g, STMT_W_AMOUNT_ROUNDED, NULL), 0);
	free(g);
}

static void
camt_v2_multi_statement(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.v2.multi.statement.xml",
	    STMT_CAMT053, STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].iban, "NL26VAYB8060476890");
	assert_string_equal(g->st[1].iban, "NL26VAYB8060476890");
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, 1815);
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 2700);
	assert_int_equal(got_bal(&g->st[1], BAL_OPENING_BOOKED)->amount, 2700);
	assert_int_equal(got_bal(&g->st[1], BAL_BOOKED)->amount, 2000);
	assert_int_equal(g->st[1].ntxn, 1);
	assert_int_equal(g->tx[1].amount, -700);
	assert_string_equal(g->tx[1].booking, "2014-12-31");
	assert_string_equal(g->tx[1].purpose, "544");
	/* A debit: the counterparty is the creditor. */
	assert_string_equal(g->tx[1].cp_name, "Company Name 2");
	/* Both statements add up: no balance warning. */
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 0);
	free(g);
}

static void
camt_all_balance_types(void **state)
{
	static const enum bal_type	 want[] = { BAL_OPENING_BOOKED,
					    BAL_PREVIOUSLY_CLOSED,
					    BAL_OPENING_AVAILABLE, BAL_BOOKED,
					    BAL_AVAILABLE, BAL_FORWARD_AVAILABLE,
					    BAL_INFORMATION,
					    BAL_INTERIM_AVAILABLE,
					    BAL_INTERIM_BOOKED, BAL_EXPECTED };
	struct got			*g;
	size_t				 i;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.v2.all-balance-types.xml",
	    STMT_CAMT053, STMT_OK);
	assert_int_equal(g->st[0].nbal, 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(g->st[0].bal[i].type, want[i]);
		/* 1.01, 2.02 ... 10.10 */
		assert_int_equal(g->st[0].bal[i].amount,
		    (int64_t)(i + 1) * 100 + (int64_t)(i + 1));
	}
	free(g);
}

static void
camt_with_account_name(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.v2.with-account-name.xml",
	    STMT_CAMT053, STMT_OK);
	assert_string_equal(g->st[0].iban, "CH2801234000123456789");
	assert_string_equal(g->st[0].name, "Account Owner Name");
	assert_int_equal(got_bal(&g->st[0], BAL_AVAILABLE)->amount, -2700);
	free(g);
}

static void
camt_only_dt_with_dttm(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("camt053", "genkgo_camt053.only-Dt-with-DtTm.xml",
	    STMT_CAMT053, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].iban, "GB33BUKB20201555555555");
	assert_int_equal(g->st[0].nbal, 1);
	/* 5442.09000 RON, the date from a DtTm. */
	assert_int_equal(g->st[0].bal[0].amount, 544209);
	assert_string_equal(g->st[0].bal[0].currency, "RON");
	assert_string_equal(g->st[0].bal[0].date, "2025-07-23");
	assert_int_equal(g->ntx, 0);
	free(g);
}

/* ---- MT940 (WoLpH/mt940 golden YAML) ---- */

struct mt_case {
	const char	*file;
	size_t		 ntx;
	int64_t		 opening;	/* some statement's :60F: */
	const char	*opening_date;
	int64_t		 closing;	/* some statement's :62F: */
	const char	*closing_date;
	int		 has_avail;
	int64_t		 avail;
	const char	*account;	/* of the last statement */
	const char	*seq;		/* :28C: of the last statement */
	const char	*ref;		/* :20: of the last statement */
	int64_t		 first[8];	/* leading amounts, 0 ends */
};

static const struct mt_case mt_cases[] = {
	{ "wolph_jejik_abnamro.sta", 10, 323628, "2011-05-22", 87684,
	  "2011-05-23", 0, 0, "517852257", "19322/1", "ABN AMRO BANK NV",
	  { -900, -1159, -1163, -1180, -1345, -1549, -10700, -14148 } },
	{ "wolph_jejik_ing.sta", 7, 0, "2010-07-22", 347, "2010-07-23", 0, 0,
	  "0001234567", "000", "MPBZ",
	  { -2503, -303, -111, -2000, -110, 368, 100 } },
	{ "wolph_jejik_postfinance.sta", 4, 0, "2013-11-30", 15960,
	  "2014-04-07", 0, 0, "123456789", "999/2", "2014040708285928",
	  { 7970, 14950, -7990, 1010 } },
	{ "wolph_jejik_rabobank.sta", 5, 419612, "2012-08-28", 410182,
	  "2012-08-29", 0, 0, "1526.89.184EUR", "00000/00", "940A120829",
	  { -121328, -4495, -23656, -8810, -620 } },
	{ "wolph_jejik_rabobank-iban.sta", 4, 96500, "2013-01-08", 93000,
	  "2013-01-15", 0, 0, "NL71RABO0123456789", "0", "940S130101",
	  { -2500, -1000, -2500, -1000 } },
	/*
	 * Upstream lists the 6th amount as +204.88: its :61: mark is RC, a
	 * reversal of a credit, which SWIFT books as a debit.  -204.88 is
	 * also the only sign with which that statement's balances add up.
	 */
	{ "wolph_betterplace_sepa_mt9401.sta", 97, 0, "2007-08-22", 5005,
	  "2007-09-04", 1, 5005, "50880050/0194804000888", "00001/00001",
	  "T089414136000001",
	  { 30000, 33533, 1500000, 6629508, 91531155, -20488, -99994695 } },
	{ "wolph_betterplace_sepa_snippet.sta", 11, -197043187, "2007-09-03",
	  -447204909, "2007-09-04", 1, -447204909, "50880050/0194791600888",
	  "00004/00001", "T089414096000001",
	  { 5099005, 15455193, 15455193, -150000 } },
	/*
	 * Upstream takes the :25: that a broken :86: turned into as the
	 * account; bankfeed keeps the first :25: and warns (see below).
	 */
	{ "wolph_betterplace_sepa_snippet_broken.sta", 1, 76665649, NULL,
	  112525040, NULL, 1, 55961451, "50880050/0194787400888",
	  "00004/00001", "T089414086000001", { 5099005 } },
	{ "wolph_betterplace_with_binary_character.sta", 4, 13007319,
	  "2010-03-18", 13119319, "2010-03-19", 0, 0, "51230800/0000007304",
	  "00053/00001", "STAR1\xc3\x9cTUMS", { 2700, 1306830, -19328205, 112000 } },
	{ "wolph_mBank_mt940.sta", 3, 40, "2017-01-19", 43, NULL, 1, 43,
	  "PL29114010810000267002001002", "1/1", "ST170119CYC/1", { 1, 1, 1 } },
	{ "wolph_mBank_with_newline_in_tnr.sta", 2, 46, "2017-02-01", 86017,
	  NULL, 1, 86017, "PL29114010810000267002001002", "3/1",
	  "ST170201CYC/1", { 4500, 4400 } },
	{ "wolph_raiffeisen-cmi.sta", 7, 2517063710, "2018-04-17", 2528168760,
	  NULL, 1, 2528168760, "UBRTHUHB/123456789150ABCDEF002/HUF", "0072",
	  "STARTUMS",
	  { 206663700, -1479000, -305180000, -389277, -78924, -157849, -600000 } },
	/*
	 * Upstream reads "0.00 950" for the :62F:C02032495000,00 that lacks
	 * its currency; bankfeed sees the missing code, takes the
	 * statement's DEM and warns: 95000.00 = 145000.00 - 50000.00.
	 */
	{ "wolph_raphaelm.sta", 9, 14500000, "2002-03-24", 9500000,
	  "2002-03-24", 0, 0, "3346780111", "2/1", "STARTUMS",
	  { 500000, 2000000 } },
	{ "wolph_february_30.sta", 1, 120000, "2016-02-29", 119400,
	  "2016-03-01", 0, 0, "12345678/1020304050", "00000/001", "STARTUMSE",
	  { -600 } },
	{ "wolph_whitespace.sta", 1, 1234512, "2017-09-14", 1234598,
	  "2017-09-14", 0, 0, "12345678/1020304050", "0", "STARTUMS",
	  { -23315 } },
};

static void
mt940_golden_values(void **state)
{
	size_t	i, k;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	for (i = 0; i < sizeof(mt_cases) / sizeof(mt_cases[0]); i++) {
		const struct mt_case	*c = &mt_cases[i];
		struct got		*g = load("mt940", c->file, STMT_MT940,
					    STMT_OK);
		const struct got_stmt	*last = &g->st[g->nst - 1];

		print_message("  %s\n", c->file);
		assert_true(g->nst >= 1);
		assert_int_equal(g->diag.ntxns, c->ntx);
		assert_true(has_bal(g, BAL_OPENING_BOOKED, c->opening,
		    c->opening_date));
		assert_true(has_bal(g, BAL_BOOKED, c->closing, c->closing_date));
		if (c->has_avail)
			assert_true(has_bal(g, BAL_AVAILABLE, c->avail, NULL));
		assert_string_equal(last->iban[0] ? last->iban : last->number,
		    c->account);
		assert_string_equal(last->seq, c->seq);
		assert_string_equal(last->id, c->ref);
		for (k = 0; k < 8 && c->first[k] != 0; k++)
			assert_int_equal(g->tx[k].amount, c->first[k]);
		for (k = 0; k < g->nst; k++)
			assert_true(g->st[k].ended);
		free(g);
	}
}

static void
mt940_quirks_of_the_corpus(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();

	/* Feb 30: imported as the 29th, with a warning naming the line. */
	g = load("mt940", "wolph_february_30.sta", STMT_MT940, STMT_OK);
	assert_string_equal(g->tx[0].value, "2016-02-29");
	assert_string_equal(g->tx[0].booking, "2016-03-01");
	assert_int_equal(got_warned(g, STMT_W_DATE_ADJUSTED, "160230"), 1);
	assert_int_equal(g->w[0].line, 6);
	assert_string_equal(g->tx[0].desc, "Pauschalen");
	free(g);

	/* A second :25: inside the statement is ignored, with a warning. */
	g = load("mt940", "wolph_betterplace_sepa_snippet_broken.sta",
	    STMT_MT940, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_REPEATED_FIELD, ":25:"), 1);
	/* ...and since its :86: was lost, the balances don't add up. */
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 1);
	free(g);

	/* MT942: interim, no balances, pending transactions. */
	g = load("mt940", "wolph_mBank_mt942.sta", STMT_MT940, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_true(g->st[0].interim);
	assert_int_equal(g->st[0].nbal, 0);
	assert_int_equal(g->ntx, 3);
	assert_int_equal(g->tx[2].status, TXN_PENDING);
	assert_string_equal(g->tx[0].bref, "MB170119012058");
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, NULL), 0);
	free(g);

	/* Free-text :86: lines joined; the TNR wrapped across two lines. */
	g = load("mt940", "wolph_mBank_with_newline_in_tnr.sta", STMT_MT940,
	    STMT_OK);
	assert_non_null(strstr(g->tx[0].desc, "TNR: 179301073837502.000001"));
	free(g);

	/* Structured ?-subfields whose continuation starts with a space. */
	g = load("mt940", "wolph_whitespace.sta", STMT_MT940, STMT_OK);
	assert_string_equal(g->tx[0].desc,
	    "ERSTATTUNG AUSLANDSEINSATZENTGELT FUER VISA 4998 XXXXXXXX 1234");
	assert_string_equal(g->tx[0].cp_name, "DEUTSCHE KREDITBANK AG");
	assert_string_equal(g->tx[0].purpose, "820");
	free(g);

	/* SEPA keywords: EREF+ and SVWZ+, counterparty from ?31/?32. */
	g = load("mt940", "wolph_betterplace_sepa_snippet.sta", STMT_MT940,
	    STMT_OK);
	assert_string_equal(g->tx[1].desc,
	    "Strukturierter Verwendungszweck 30030004 DE");
	assert_string_equal(g->tx[1].e2e, "TFNR 0300300004");
	assert_string_equal(g->tx[1].cp_name, "Quentin Quast");
	assert_string_equal(g->tx[1].cp_iban, "DE03508800500194791600");
	assert_string_equal(g->tx[1].bref, "0724710324647450");
	free(g);

	/* Dutch /TAG/ details and the IBAN on the :61: second line. */
	g = load("mt940", "wolph_jejik_rabobank-iban.sta", STMT_MT940, STMT_OK);
	assert_string_equal(g->tx[0].cp_name, "CONTRA ACCOUNT HOLDER");
	assert_string_equal(g->tx[0].cp_iban, "NL70ABNA0987654321");
	assert_string_equal(g->tx[1].desc, "Reference 201301234");
	assert_string_equal(g->tx[1].cp_name, "JOHN DOE");
	free(g);

	/* Missing currency on :62F: read as the statement's, with a warning. */
	g = load("mt940", "wolph_raphaelm.sta", STMT_MT940, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_CURRENCY, "no currency"), 3);
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 0);
	free(g);
}

static void
mt940_invalid_statement(void **state)
{
	struct got		*g;
	enum stmt_format	 f;
	char			 head[64] = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";

	(void)state;
	SKIP_WITHOUT_CORPUS();
	assert_int_equal(stmt_detect(head, strlen(head), &f), -1);
	g = load("mt940", "wolph_invalid_statement.sta", STMT_MT940,
	    STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "no :20:"));
	free(g);
}

/* ---- OFX (ofxparse tests/test_parse.py) ---- */

static void
ofx_bank_statements(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("ofx", "ofxparse_bank_medium.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].number, "12300 000012345678");
	assert_string_equal(g->st[0].bank_id, "160000100/12300 000012345678");
	assert_int_equal(g->st[0].type, ACCT_CHECKING);
	assert_string_equal(g->st[0].ccy, "CAD");
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 38234);
	assert_string_equal(got_bal(&g->st[0], BAL_BOOKED)->date, "2009-05-23");
	assert_int_equal(got_bal(&g->st[0], BAL_AVAILABLE)->amount, 68234);
	assert_string_equal(g->st[0].from, "2009-04-01");
	assert_string_equal(g->st[0].to, "2009-05-23");
	assert_int_equal(g->ntx, 3);
	assert_string_equal(g->tx[0].cp_name, "MCDONALD'S #112");
	assert_string_equal(g->tx[0].btc, "POS");
	assert_int_equal(g->tx[0].amount, -660);
	assert_string_equal(g->tx[0].bank_id, "0000123456782009040100001");
	assert_string_equal(g->tx[0].desc, "POS MERCHANDISE;MCDONALD'S #112");
	assert_string_equal(g->tx[0].booking, "2009-04-01");
	free(g);

	g = load("ofx", "ofxparse_multiple_accounts2.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].number, "9100");
	assert_string_equal(g->st[0].bank_id, "123/9100");
	assert_int_equal(g->st[0].type, ACCT_CHECKING);
	assert_string_equal(g->st[1].number, "9200");
	assert_string_equal(g->st[1].bank_id, "123/9200");
	assert_int_equal(g->st[1].type, ACCT_SAVINGS);
	assert_int_equal(got_bal(&g->st[1], BAL_BOOKED)->amount, 22200);
	free(g);

	g = load("ofx", "ofxparse_anzcc.ofx", STMT_OFX, STMT_OK);
	assert_string_equal(g->st[0].number, "1234123412341234");
	assert_int_equal(g->st[0].type, ACCT_CREDIT_CARD);
	assert_int_equal(g->tx[0].amount, -550);
	free(g);

	g = load("ofx", "ofxparse_suncorp.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_string_equal(g->tx[0].cp_name, "EFTPOS WDL HANDYWAY ALDI STORE");
	assert_string_equal(g->tx[0].desc,
	    "EFTPOS WDL HANDYWAY ALDI STORE   GEELONG WEST VICAU");
	assert_int_equal(g->tx[0].amount, -1685);
	free(g);

	g = load("ofx", "ofxparse_checking.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->ntx, 3);
	assert_string_equal(g->tx[2].check, "319");
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 10099);
	free(g);
}

static void
ofx_empty_tags_warn(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("ofx", "ofxparse_ofx-v102-empty-tags.ofx", STMT_OFX, STMT_OK);
	assert_string_equal(g->st[0].number, "12345678");
	assert_string_equal(g->st[0].bank_id, "NPBS/12345678");
	assert_int_equal(got_warned(g, STMT_W_EMPTY_FIELD, "<CURDEF>"), 1);
	assert_int_equal(got_warned(g, STMT_W_EMPTY_FIELD, "<BRANCHID>"), 1);
	assert_int_equal(got_warned(g, STMT_W_EMPTY_FIELD, "<ACCTTYPE>"), 1);
	assert_int_equal(got_warned(g, STMT_W_EMPTY_FIELD, "FITID"), 1);
	assert_int_equal(g->st[0].nbal, 0);
	free(g);

	/* fail_nice/empty_balance: 1 transaction, no balance at all. */
	g = load("ofx", "ofxparse_fail_nice_empty_balance.ofx", STMT_OFX,
	    STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->st[0].nbal, 0);
	assert_int_equal(got_warned(g, STMT_W_EMPTY_FIELD, "<BALAMT>"), 2);
	free(g);
}

static void
ofx_rejections(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("ofx", "ofxparse_error_message.ofx", STMT_OFX, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "code 2000 (ERROR)"));
	assert_non_null(strstr(g->diag.msg, "General Server Error"));
	free(g);

	g = load("ofx", "ofxparse_signon_fail.ofx", STMT_OFX, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "sign on"));
	assert_non_null(strstr(g->diag.msg, "15500"));
	assert_non_null(strstr(g->diag.msg, "your password was incorrect"));
	free(g);

	/* fail_nice in the default strict mode of ofxparse: rejected. */
	g = load("ofx", "ofxparse_fail_nice_date_missing.ofx", STMT_OFX,
	    STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "without DTPOSTED"));
	assert_int_equal(g->diag.line, 33);
	free(g);

	g = load("ofx", "ofxparse_fail_nice_decimal_error.ofx", STMT_OFX,
	    STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "201120000000"));
	free(g);
}

static void
ofx_no_statements(void **state)
{
	static const char	*const names[] = { "USAA SAVINGS",
				    "FOUR STAR CHECKING", "LINE OF CREDIT",
				    "MY CREDIT CARD" };
	static const char	*const nums[] = { "0000000001", "0000000002",
				    "00000000000003", "4111111111111111" };
	static const enum acct_type types[] = { ACCT_SAVINGS, ACCT_CHECKING,
				    ACCT_LOAN, ACCT_CREDIT_CARD };
	struct got		*g;
	size_t			 i;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	g = load("ofx", "ofxparse_signon_success.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->nst, 0);
	assert_int_equal(got_warned(g, STMT_W_NO_STATEMENT, NULL), 1);
	free(g);

	g = load("ofx", "ofxparse_bank_small.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->nst, 0);
	assert_int_equal(got_warned(g, STMT_W_NO_STATEMENT, NULL), 1);
	free(g);

	g = load("ofx", "ofxparse_account_listing_aggregation.ofx", STMT_OFX,
	    STMT_OK);
	assert_int_equal(g->nst, 0);
	assert_int_equal(g->nacct, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(g->acct_name[i], names[i]);
		assert_string_equal(g->acct_num[i], nums[i]);
		assert_int_equal(g->acct[i].type, types[i]);
	}
	assert_string_equal(g->acct_bank_id[0], "314074269/0000000001");
	assert_int_equal(got_warned(g, STMT_W_NO_STATEMENT, NULL), 0);
	free(g);
}

static void
ofx_investments(void **state)
{
	struct got	*g;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	/* Cash transactions (INVBANKTRAN) are imported. */
	g = load("ofx", "ofxparse_fidelity-savings.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->st[0].type, ACCT_INVESTMENT);
	assert_int_equal(g->ntx, 4);
	assert_string_equal(g->tx[0].btc, "CHECK");
	assert_int_equal(g->tx[0].amount, -150000);
	assert_string_equal(g->tx[0].bank_id, "X0000000000000000000001");
	assert_string_equal(g->tx[0].cp_name, "Check Paid #0000001001");
	assert_string_equal(g->tx[0].desc, "Check Paid #0000001001");
	assert_string_equal(g->tx[1].btc, "DEP");
	/* 115.8331 USD rounds to 115.83, with a warning. */
	assert_int_equal(g->tx[1].amount, 11583);
	assert_int_equal(got_warned(g, STMT_W_AMOUNT_ROUNDED, "115.8331"), 1);
	assert_string_equal(g->tx[1].cp_name, "TRANSFERRED FROM     VS X10-08144");
	assert_string_equal(g->tx[1].desc, "TRANSFERRED FROM     VS X10-08144-1");
	free(g);

	/* Security trades and positions are not imported, and say so. */
	g = load("ofx", "ofxparse_fidelity.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(got_bal(&g->st[0], BAL_AVAILABLE)->amount, 1807398);
	assert_int_equal(got_warned(g, STMT_W_NOT_IMPORTED, "positions"), 1);
	free(g);

	g = load("ofx", "ofxparse_investment_401k.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->ntx, 0);
	assert_int_equal(got_warned(g, STMT_W_NOT_IMPORTED, "3 security"), 1);
	free(g);

	g = load("ofx", "ofxparse_vanguard401k.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_NOT_IMPORTED, "5 security"), 1);
	free(g);

	g = load("ofx", "ofxparse_vanguard.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_NOT_IMPORTED, "1 security"), 1);
	free(g);

	g = load("ofx", "ofxparse_tiaacref.ofx", STMT_OFX, STMT_OK);
	assert_string_equal(g->st[0].number, "111A1111 22B222 33C333");
	assert_int_equal(g->st[0].type, ACCT_INVESTMENT);
	free(g);

	g = load("ofx", "ofxparse_td_ameritrade.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->st[0].type, ACCT_INVESTMENT);
	free(g);

	g = load("ofx", "ofxparse_investment_medium.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->ntx, 3);
	free(g);
}

/*
 * Every file of the corpus directories is covered above (a new file
 * fails here until it gets its expectations), and detection recognizes
 * each by its content.
 */
static void
every_file_is_known_and_detected(void **state)
{
	static const char *const known[] = {
		"genkgo_camt053.only-Dt-with-DtTm.xml",
		"genkgo_camt053.v2.all-balance-types.xml",
		"genkgo_camt053.v2.five.decimals.xml",
		"genkgo_camt053.v2.minimal.ultimate.xml",
		"genkgo_camt053.v2.minimal.xml",
		"genkgo_camt053.v2.multi.statement.xml",
		"genkgo_camt053.v2.with-account-name.xml",
		"genkgo_camt053.v2.with-party-ids.xml",
		"genkgo_camt053.v2.wrong.xml", "genkgo_camt053.v3.xml",
		"genkgo_camt053.v4.xml", "genkgo_camt053.v8.xml",
		"wolph_invalid_statement.sta", "wolph_mBank_mt942.sta",
		"ofxparse_bank_small.ofx", "ofxparse_signon_success.ofx",
		"ofxparse_signon_fail.ofx", "ofxparse_error_message.ofx",
		"ofxparse_account_listing_aggregation.ofx",
		"ofxparse_fail_nice_date_missing.ofx",
		"ofxparse_fail_nice_decimal_error.ofx",
		"ofxparse_fail_nice_empty_balance.ofx",
		"ofxparse_ofx-v102-empty-tags.ofx", "ofxparse_bank_medium.ofx",
		"ofxparse_multiple_accounts2.ofx", "ofxparse_anzcc.ofx",
		"ofxparse_suncorp.ofx", "ofxparse_checking.ofx",
		"ofxparse_fidelity.ofx", "ofxparse_fidelity-savings.ofx",
		"ofxparse_investment_401k.ofx", "ofxparse_investment_medium.ofx",
		"ofxparse_vanguard.ofx", "ofxparse_vanguard401k.ofx",
		"ofxparse_tiaacref.ofx", "ofxparse_td_ameritrade.ofx",
	};
	static const struct {
		const char		*dir;
		enum stmt_format	 fmt;
	} dirs[] = { { "camt053", STMT_CAMT053 }, { "mt940", STMT_MT940 },
	    { "ofx", STMT_OFX } };
	size_t		 d, i, files = 0;

	(void)state;
	SKIP_WITHOUT_CORPUS();
	for (d = 0; d < 3; d++) {
		char		 path[1024];
		DIR		*dh;
		struct dirent	*e;

		snprintf(path, 1024, "%s/%s", BANKFEED_CORPUS_DIR, dirs[d].dir);
		assert_non_null(dh = opendir(path));
		while ((e = readdir(dh)) != NULL) {
			char			 head[STMT_DETECT_LEN], fp[1400];
			FILE			*f;
			size_t			 n;
			enum stmt_format	 got;
			int			 found = 0;

			if (e->d_name[0] == '.' || strcmp(e->d_name, "expected") == 0 ||
			    strstr(e->d_name, ".md") != NULL)
				continue;
			for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (strcmp(known[i], e->d_name) == 0)
					found = 1;
			for (i = 0; i < sizeof(mt_cases) / sizeof(mt_cases[0]); i++)
				if (strcmp(mt_cases[i].file, e->d_name) == 0)
					found = 1;
			if (!found)
				print_error("corpus file %s has no expectations\n",
				    e->d_name);
			assert_true(found);
			files++;
			if (strcmp(e->d_name, "wolph_invalid_statement.sta") == 0)
				continue;
			snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
			assert_non_null(f = fopen(fp, "rb"));
			n = fread(head, 1, sizeof(head), f);
			fclose(f);
			assert_int_equal(stmt_detect(head, n, &got), 0);
			/* An interim report is told from a statement. */
			assert_int_equal(got, strcmp(e->d_name,
			    "wolph_mBank_mt942.sta") == 0 ? STMT_MT942 :
			    dirs[d].fmt);
		}
		closedir(dh);
	}
	assert_int_equal(files, 12 + 17 + 22);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(camt_v2_minimal),
		cmocka_unit_test(camt_v2_minimal_ultimate),
		cmocka_unit_test(camt_v2_with_party_ids),
		cmocka_unit_test(camt_v3),
		cmocka_unit_test(camt_v4_v8),
		cmocka_unit_test(camt_v2_wrong),
		cmocka_unit_test(camt_v2_five_decimals),
		cmocka_unit_test(camt_v2_multi_statement),
		cmocka_unit_test(camt_all_balance_types),
		cmocka_unit_test(camt_with_account_name),
		cmocka_unit_test(camt_only_dt_with_dttm),
		cmocka_unit_test(mt940_golden_values),
		cmocka_unit_test(mt940_quirks_of_the_corpus),
		cmocka_unit_test(mt940_invalid_statement),
		cmocka_unit_test(ofx_bank_statements),
		cmocka_unit_test(ofx_empty_tags_warn),
		cmocka_unit_test(ofx_rejections),
		cmocka_unit_test(ofx_no_statements),
		cmocka_unit_test(ofx_investments),
		cmocka_unit_test(every_file_is_known_and_detected),
	};
	DIR	*d = opendir(BANKFEED_CORPUS_DIR "/mt940");

	if (d != NULL) {
		have_corpus = 1;
		closedir(d);
	} else
		printf("corpus %s not found: corpus tests skipped\n",
		    BANKFEED_CORPUS_DIR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
