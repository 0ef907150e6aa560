/*
 * CODA (Belgian) and BAI2 (US) statement files through stmt_parse(): real
 * files from other projects' test suites (tests/data/statements/MANIFEST.tsv)
 * and files written here record by record, for what the real ones lack:
 * several statements, continuations, the trailers' checks, rejections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codaw.h"
#include "formats_test.h"

#define DATA BANKFEED_TEST_DATA

/* Odoo's l10n_be_coda test file (KBC): one statement, globalised batches. */
static void
coda_real_file_imports_every_movement(void **state)
{
	struct got	*g = got_new();
	char		 head[STMT_DETECT_LEN];
	FILE		*f = fopen(DATA "/coda/odoo_ontvangen_2013.cod", "rb");
	enum stmt_format fmt;
	size_t		 n;

	(void)state;
	assert_non_null(f);
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	assert_int_equal(stmt_detect(head, n, &fmt), 0);
	assert_int_equal(fmt, STMT_CODA);
	assert_int_equal(got_file(DATA "/coda/odoo_ontvangen_2013.cod",
	    STMT_CODA, g), STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_int_equal(g->nw, 0);
	assert_string_equal(g->st[0].iban, "BE33737018595246");
	assert_string_equal(g->st[0].ccy, "EUR");
	assert_string_equal(g->st[0].holder, "NOVIAT NV");
	assert_string_equal(g->st[0].bic, "KREDBEBB");
	assert_string_equal(g->st[0].from, "2010-07-27");
	assert_string_equal(g->st[0].to, "2011-01-11");
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, 1181270);
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 1352781);
	/* The two globalised batches count once each, not with details. */
	assert_int_equal(g->ntx, 5);
	assert_int_equal(g->tx[0].amount, -43500);
	assert_string_equal(g->tx[0].desc, "MEDEDELING");
	assert_string_equal(g->tx[0].cp_name, "PARTNER 1");
	assert_string_equal(g->tx[0].cp_iban, "BE41063012345610");
	assert_string_equal(g->tx[0].booking, "2011-01-11");
	assert_string_equal(g->tx[0].btc, "00101000");
	assert_int_equal(g->tx[0].line, 3);
	/* A structured communication reads as Belgians write it. */
	assert_int_equal(g->tx[1].amount, 304445);
	assert_string_equal(g->tx[1].desc, "+++240/2838/42818+++");
	assert_int_equal(g->tx[2].amount, -47904);
	assert_int_equal(g->tx[2].line, 12);
	assert_int_equal(g->tx[3].line, 15);
	assert_string_equal(g->tx[4].e2e, "362/363");
	assert_string_equal(g->tx[4].cp_name, "KBC VERZEKERINGEN NV");
	free(g);
}

/*
 * pycoda's test file (KBC and BNP Paribas Fortis, anonymised): two files
 * in one, POS batches, a domiciliation, globalised transfers to a central
 * account with 1 and 14 details; every count and sum adds up.
 */
static void
coda_real_multi_statement_file(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_file(DATA "/coda/pycoda_v2_3_multi_statements.txt",
	    STMT_CODA, g), STMT_OK);
	assert_int_equal(g->nw, 0);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].iban, "BE86407051416150");
	assert_string_equal(g->st[0].holder, "STORA ENSO LANGERBRUGGE NV");
	assert_int_equal(g->st[0].ntxn, 17);
	assert_string_equal(g->st[1].iban, "BE12341702625236");
	assert_string_equal(g->st[1].bic, "GEBABEBB");
	assert_int_equal(g->st[1].ntxn, 11);
	assert_int_equal(got_bal(&g->st[1], BAL_OPENING_BOOKED)->amount, 1933809);
	assert_int_equal(got_bal(&g->st[1], BAL_BOOKED)->amount, 1080781);
	/* The globalised transfers, once each. */
	assert_int_equal(g->tx[15].amount, 6209501);
	assert_int_equal(g->tx[16].amount, -260800);
	assert_string_equal(g->tx[16].cp_iban, "BE38733040385372");
	/* A 31 with type 001 names the counterparty; SALA is the category. */
	assert_int_equal(g->tx[19].amount, -556832);
	assert_string_equal(g->tx[19].purpose, "SALA");
	assert_string_equal(g->tx[20].cp_name, "XXXX");
	assert_string_equal(g->tx[20].e2e, "201312241200195957XXXXXX");
	free(g);
}

/* php-coda-parser's sample: a Belgian account number (structure 0) and
 * a trailer and balances that do not add up, which are warnings. */
static void
coda_real_file_that_does_not_add_up(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_file(DATA "/coda/php_coda_parser_sample5.cod",
	    STMT_CODA, g), STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].number, "001548226815");
	assert_string_equal(g->st[0].name, "PROFESSIONAL ACCOUNT");
	assert_int_equal(g->ntx, 3);
	assert_string_equal(g->tx[1].desc, "+++112/4554/46812+++");
	assert_string_equal(g->tx[0].cp_name, "BVBA.BAKKER PIET");
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 1);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, NULL), 2);
	free(g);
}

/* Two statements (two 0...9 blocks), a Belgian account number, a debit
 * balance, a communication over 21, 22 and 23, a name from a 31. */
static void
coda_two_statements_and_continued_communication(void **state)
{
	struct codaw	 w = { .len = 0 };
	struct got	*g = got_new();

	(void)state;
	codaw_header(&w, "020324");
	codaw_rec(&w, 1, "10", 3, "001", 6, "001548226815", 19, "EUR", 23, "BE",
	    43, "1", 44, "000000000100000", 59, "010324", 65,
	    "Soci\xe9t\xe9 G\xe9n\xe9rale",
	    126, "001", 0);
	codaw_rec(&w, 1, "21", 3, "0001", 7, "0000", 11, "BANKREF1", 32, "0",
	    33, "000000000250500", 48, "000000", 54, "00150000", 62, "0",
	    63, "Invoice 2024-017 for the", 116, "020324", 128, "0", 0);
	codaw_rec(&w, 1, "22", 3, "0001", 7, "0000", 11,
	    " garden work of March", 64, "E2E-77", 122, "SUPP", 0);
	codaw_rec(&w, 1, "23", 3, "0001", 7, "0000", 11, "BE68539007547034",
	    83, " and April", 128, "1", 0);
	codaw_rec(&w, 1, "31", 3, "0001", 7, "0001", 11, "BANKREF1", 32,
	    "00150000", 40, "1", 41, "001", 44, "TUINEN VERMEULEN NV", 0);
	codaw_rec(&w, 1, "4", 3, "0002", 7, "0000", 33, "Uw nieuwe kaart is "
	    "verzonden", 0);
	codaw_rec(&w, 1, "8", 2, "001", 5, "001548226815", 18, "EUR", 42, "0",
	    43, "000000000150500", 58, "020324", 0);
	codaw_trailer(&w, "000007", "000000000000000", "000000000250500");
	codaw_one(&w, "1", "030324", "000000000009000", "000003",
	    "000000000001000");
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_OK);
	assert_int_equal(g->nw, 0);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].number, "001548226815");
	assert_string_equal(g->st[0].iban, "");
	/* Names in ISO-8859-1, as Belgian banks still write them. */
	assert_string_equal(g->st[0].holder, "Soci\xc3\xa9t\xc3\xa9 "
	    "G\xc3\xa9n\xc3\xa9rale");
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, -10000);
	assert_int_equal(g->ntx, 2);
	assert_int_equal(g->tx[0].amount, 25050);
	assert_string_equal(g->tx[0].desc, "Invoice 2024-017 for the garden "
	    "work of March and April");
	assert_string_equal(g->tx[0].cp_name, "TUINEN VERMEULEN NV");
	assert_string_equal(g->tx[0].cp_iban, "BE68539007547034");
	assert_string_equal(g->tx[0].e2e, "E2E-77");
	assert_string_equal(g->tx[0].purpose, "SUPP");
	/* No value date (000000): the entry date. */
	assert_string_equal(g->tx[0].value, "2024-03-02");
	assert_int_equal(g->tx[1].stmt, 1);
	assert_string_equal(g->st[1].iban, "BE68539007547034");
	assert_int_equal(g->tx[1].amount, -100);
	free(g);
}

/* "NOT PROVIDED" (as some banks spell NOTPROVIDED) is no reference. */
static void
coda_not_provided_is_no_reference(void **state)
{
	struct codaw	 w = { .len = 0 };
	struct got	*g = got_new();

	(void)state;
	codaw_header(&w, "030324");
	codaw_old(&w, "BE68539007547034", "0", "000000000010000", "020324");
	codaw_mv(&w, "0001", "1", "000000000001000", "030324", "Coffee");
	codaw_rec(&w, 1, "22", 3, "0001", 7, "0000", 64, "NOT PROVIDED", 99,
	    "BBRUBEBB", 0);
	codaw_new(&w, "BE68539007547034", "0", "000000000009000", "030324");
	codaw_trailer(&w, "000004", "000000000001000", "000000000000000");
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_string_equal(g->tx[0].e2e, "");
	assert_int_equal(g->nw, 0);
	free(g);
}

/* The trailer's count and sums, and the balances, are checked. */
static void
coda_checks_give_warnings(void **state)
{
	struct codaw	 w = { .len = 0 };
	struct got	*g = got_new();

	(void)state;
	codaw_one(&w, "1", "030324", "000000000009900", "000004",
	    "000000000002000");
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 1);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, "counts 4 records"),
	    1);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, "debits 2.000"), 1);
	assert_int_equal(g->w[g->nw - 1].line, 5);
	free(g);
}

/* Each broken file: its line and what is wrong. */
static void
coda_rejections_point_at_the_line(void **state)
{
	static const struct {
		int		 cut;		/* records kept, 0: all */
		const char	*mv_date;	/* the movement's entry date */
		const char	*sign;
		int		 line;
		const char	*msg;
	} cases[] = {
		{ 4, "030324", "1", 3, "ends without its new balance" },
		{ 4, "030324", "1", 4, "ends without its new balance" },
		{ 0, "300224", "1", 0, NULL },
		{ 0, "320324", "1", 3, "invalid value date \"320324\"" },
		{ 0, "031324", "1", 3, "month 01-12" },
		{ 0, "030324", "7", 3, "invalid sign '7'" },
		{ 5, "030324", "1", 5, "without its trailer (record 9)" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct codaw	 w = { .len = 0 };
		struct got	*g = got_new();
		enum stmt_rc	 rc;
		size_t		 keep;

		codaw_header(&w, "030324");
		codaw_old(&w, "BE68539007547034", "0", "000000000010000",
		    "020324");
		codaw_mv(&w, "0001", cases[i].sign, "000000000001000",
		    cases[i].mv_date, "Coffee");
		codaw_rec(&w, 1, "4", 3, "0002", 7, "0000", 33, "Hello", 0);
		codaw_new(&w, "BE68539007547034", "0", "000000000009000",
		    "030324");
		codaw_trailer(&w, "000004", "000000000001000",
		    "000000000000000");
		keep = cases[i].cut ? (size_t)cases[i].cut * 130 : w.len;
		/* Case 1 cuts in the middle of the free message. */
		if (i == 0)
			keep = 3 * 130;
		rc = got_mem(w.p, keep, STMT_CODA, g);
		if (cases[i].msg == NULL) {
			/* 30 February: a warning, not a rejection. */
			assert_int_equal(rc, STMT_OK);
			assert_int_equal(got_warned(g, STMT_W_DATE_ADJUSTED,
			    "2024-02-29"), 2);
		} else {
			assert_int_equal(rc, STMT_REJECTED);
			if (strstr(g->diag.msg, cases[i].msg) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				    g->diag.msg, cases[i].msg);
			assert_int_equal(g->diag.line, cases[i].line);
		}
		free(g);
	}
}

static void
coda_refuses_what_it_cannot_read(void **state)
{
	struct codaw	 w = { .len = 0 };
	struct got	*g = got_new();
	char		 old[256];

	(void)state;
	/* Version 1 has other positions. */
	codaw_rec(&w, 1, "00000", 6, "030324", 12, "300", 15, "05", 128, "1", 0);
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "only version 2"));
	assert_int_equal(g->diag.line, 1);
	/* An unknown record type, a record before the header, a long line. */
	memset(g, 0, sizeof(*g));
	w.len = 0;
	codaw_header(&w, "030324");
	codaw_rec(&w, 1, "7", 0);
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "unknown record type '7'"));
	assert_int_equal(g->diag.line, 2);
	memset(g, 0, sizeof(*g));
	w.len = 0;
	codaw_old(&w, "BE68539007547034", "0", "000000000010000", "020324");
	assert_int_equal(got_mem(w.p, w.len, STMT_CODA, g), STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "before the header"));
	memset(g, 0, sizeof(*g));
	w.len = 0;
	codaw_header(&w, "030324");
	snprintf(old, sizeof(old), "%.128s", w.p);
	memcpy(old + 128, "XX\r\n", 5);
	assert_int_equal(got_str(old, STMT_CODA, g), STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "longer than 128"));
	free(g);
}

/* moov-io/bai2's sample1 (a Canadian bank): two accounts, 88 continuing
 * the summaries, value dates from funds type V. */
static void
bai2_real_file_imports(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_file(DATA "/bai2/moov_sample1.txt", STMT_BAI2, g),
	    STMT_OK);
	assert_int_equal(g->nw, 0);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].number, "10200123456");
	assert_string_equal(g->st[0].ccy, "CAD");
	assert_string_equal(g->st[0].from, "2006-03-17");
	assert_int_equal(g->ntx, 17);
	assert_int_equal(g->tx[0].amount, -2500);
	assert_string_equal(g->tx[0].desc, "RETURNED CHEQUE");
	assert_string_equal(g->tx[0].btc, "409");
	assert_string_equal(g->tx[0].value, "2006-03-16");
	assert_string_equal(g->tx[0].booking, "2006-03-17");
	assert_int_equal(g->tx[3].amount, 203500);
	assert_int_equal(g->tx[3].line, 8);
	assert_non_null(got_bal(&g->st[0], BAL_AVAILABLE));
	free(g);
}

static const char bai2_file[] =
    "01,BANKFEED,ACME,240305,0800,42,,,2/\n"
    "02,ACME,021000021,1,240304,2400,USD,2/\n"
    "03,123456789,,010,100000,,,015,+89550,,/\n"
    "16,475,10000,Z,B-1,1042,Check paid/\n"
    "16,195,450,V,240301,,B-2,,Incoming wire from ACME, LLC:\n"
    "88,invoice 7 / March\n"
    "16,451,1000,S,0,1000,0,B-3,,ACH debit/\n"
    "16,890,0,Z,,,Information only/\n"
    "16,142,100,D,2,0,50,1,50,B-4,,Deposit/\n"
    "49,201100,8/\n"
    "98,201100,1,10/\n"
    "99,201100,1,12/\n";

/* Everything a BAI2 record can carry; an 88 continues the text. */
static void
bai2_fields_funds_types_and_continuations(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_str(bai2_file, STMT_BAI2, g), STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].ccy, "USD");
	assert_string_equal(g->st[0].id, "42");
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, 100000);
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 89550);
	/* 890 is information: warned, not imported. */
	assert_int_equal(g->ntx, 4);
	assert_int_equal(got_warned(g, STMT_W_UNKNOWN_CODE, "\"890\""), 1);
	assert_int_equal(g->nw, 1);
	assert_int_equal(g->tx[0].amount, -10000);
	assert_string_equal(g->tx[0].check, "1042");
	assert_string_equal(g->tx[0].bref, "B-1");
	assert_int_equal(g->tx[1].amount, 450);
	assert_string_equal(g->tx[1].value, "2024-03-01");
	assert_string_equal(g->tx[1].desc, "Incoming wire from ACME, LLC: "
	    "invoice 7 / March");
	assert_int_equal(g->tx[2].amount, -1000);
	assert_string_equal(g->tx[2].bref, "B-3");
	assert_int_equal(g->tx[3].amount, 100);
	assert_string_equal(g->tx[3].bref, "B-4");
	assert_string_equal(g->tx[3].desc, "Deposit");
	free(g);
}

/* Control totals and counts of 49, 98 and 99 are checked. */
static void
bai2_control_totals_give_warnings(void **state)
{
	struct got	*g = got_new();
	char		 f[sizeof(bai2_file)];

	(void)state;
	memcpy(f, bai2_file, sizeof(f));
	memcpy(strstr(f, "49,201100,8/"), "49,201101,9/", 12);
	assert_int_equal(got_str(f, STMT_BAI2, g), STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH,
	    "account trailer (49): control total 201101"), 1);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH,
	    "9 records counted, 8 found"), 1);
	/* The group's total is its account trailers' sum: now off too. */
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, "group trailer "
	    "(98): control total 201100, the account trailers' totals add up "
	    "to 201101"), 1);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, NULL), 3);
	free(g);
}

/*
 * ministryofjustice/bai2's files: NatWest (GBP, a text wrapped at 80
 * columns in the middle of a word, summaries continued) and SVB (two
 * groups, empty summary fields, no "/" after the file trailer).
 */
static void
bai2_real_files_from_two_banks(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_file(DATA "/bai2/mojbai2_nwb_example.bai2",
	    STMT_BAI2, g), STMT_OK);
	assert_int_equal(g->nw, 0);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].ccy, "GBP");
	assert_string_equal(g->st[0].number, "88888888 600004");
	assert_int_equal(g->ntx, 5);
	assert_int_equal(g->tx[0].amount, -971);
	assert_string_equal(g->tx[4].desc, "TFR XBANKGO24007680SJ CAT JPY 2 "
	    "GBPXBANKGO24007680BGC INTERNATIONAL-5373 CLIENT SECCY AC TFR");
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 33845);
	free(g);
	g = got_new();
	assert_int_equal(got_file(DATA "/bai2/mojbai2_svb_us_example.bai2",
	    STMT_BAI2, g), STMT_OK);
	assert_int_equal(g->nw, 0);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[1].from, "2022-02-02");
	/* 040 and 045 after a stray empty field, in an 88. */
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_AVAILABLE)->amount,
	    32742537);
	assert_int_equal(got_bal(&g->st[0], BAL_AVAILABLE)->amount, 35217175);
	assert_string_equal(g->tx[0].desc, "SOME PAYMENT ACH OFFSET");
	assert_string_equal(g->tx[0].bref, "172629");
	free(g);
}

static void
bai2_rejections_point_at_the_line(void **state)
{
	static const struct {
		const char	*from, *to;
		int		 line;
		const char	*msg;
	} cases[] = {
		{ "98,201100,1,10/\n99,201100,1,12/\n", "", 10,
		  "no file trailer (99)" },
		{ "49,201100,8/\n", "", 10, "group trailer (98) before the "
		  "account trailer" },
		{ "16,475,10000,", "16,475,10.00,", 4, "\"10.00\" is not an "
		  "amount" },
		{ "240304,2400", "241304,2400", 2, "invalid as-of date" },
		{ "03,123456789", "16,123456789", 3, "outside an account" },
		{ "01,BANKFEED,ACME,240305,0800,42,,,2/",
		  "01,BANKFEED,ACME,240305,0800,42,,,3/", 1, "only version 2" },
		{ "16,890", "17,890", 8, "unknown record type \"17\"" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got	*g = got_new();
		char		 f[1024];
		const char	*at = strstr(bai2_file, cases[i].from);
		size_t		 k = (size_t)(at - bai2_file);

		assert_non_null(at);
		snprintf(f, sizeof(f), "%.*s%s%s", (int)k, bai2_file,
		    cases[i].to, at + strlen(cases[i].from));
		assert_int_equal(got_str(f, STMT_BAI2, g), STMT_REJECTED);
		if (strstr(g->diag.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, g->diag.msg,
			    cases[i].msg);
		assert_int_equal(g->diag.line, cases[i].line);
		free(g);
	}
}

/* moov-io/bai2's sample4: "88:EREF" (a colon for the comma) on line 63 is
 * not a record; the rejection says where. */
static void
bai2_real_file_with_a_broken_record_is_rejected_at_its_line(void **state)
{
	struct got	*g = got_new();

	(void)state;
	assert_int_equal(got_file(DATA "/bai2/moov_sample4_continuations.txt",
	    STMT_BAI2, g), STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "unknown record type"));
	assert_int_equal(g->diag.line, 63);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(coda_real_file_imports_every_movement),
		cmocka_unit_test(coda_real_multi_statement_file),
		cmocka_unit_test(coda_real_file_that_does_not_add_up),
		cmocka_unit_test(coda_two_statements_and_continued_communication),
		cmocka_unit_test(coda_not_provided_is_no_reference),
		cmocka_unit_test(coda_checks_give_warnings),
		cmocka_unit_test(coda_rejections_point_at_the_line),
		cmocka_unit_test(coda_refuses_what_it_cannot_read),
		cmocka_unit_test(bai2_real_file_imports),
		cmocka_unit_test(bai2_fields_funds_types_and_continuations),
		cmocka_unit_test(bai2_control_totals_give_warnings),
		cmocka_unit_test(bai2_real_files_from_two_banks),
		cmocka_unit_test(bai2_rejections_point_at_the_line),
		cmocka_unit_test(bai2_real_file_with_a_broken_record_is_rejected_at_its_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
