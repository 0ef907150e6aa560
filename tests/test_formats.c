/*
 * Statement parsers on the project's own small files (tests/data/statements)
 * and inline snippets: one test per quirk of each format, broken input
 * (truncated, garbage, impossible dates, fields past their limit), and
 * `bankfeed import` end to end.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "formats_test.h"
#include "core/buf.h"
#include "core/jw.h"
#include "formats/fmt.h"

#ifndef BANKFEED_TEST_DATA
#define BANKFEED_TEST_DATA "tests/data/statements"
#endif

static struct got *
own(const char *rel, enum stmt_format fmt, enum stmt_rc want)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", BANKFEED_TEST_DATA, rel);
	return got_expect(path, NULL, fmt, 0, want);
}

static struct got *
snippet(const char *s, enum stmt_format fmt, enum stmt_rc want)
{
	return got_expect(NULL, s, fmt, 0, want);
}

/* snippet() with sink.strict set. */
static struct got *
snippet_strict(const char *s, enum stmt_format fmt, enum stmt_rc want)
{
	return got_expect(NULL, s, fmt, 1, want);
}

/* A buffer of n bytes: s repeated. The caller frees it. */
static char *
repeat(const char *s, size_t times)
{
	size_t	 k = strlen(s), i;
	char	*b = malloc(k * times + 1);

	assert_non_null(b);
	for (i = 0; i < times; i++)
		memcpy(b + i * k, s, k);
	b[k * times] = '\0';
	return b;
}

/* ---------------------------------------------------------------- MT940 */

static void
mt940_german_sepa_blocks_latin1_crlf(void **state)
{
	struct got	*g;

	(void)state;
	g = own("mt940/german_sepa_latin1.sta", STMT_MT940, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].iban, "DE89370400440532013000");
	assert_string_equal(g->st[0].id, "STARTUMSE");
	assert_string_equal(g->st[0].seq, "00001/001");
	assert_string_equal(g->st[0].ccy, "EUR");
	assert_int_equal(g->ntx, 4);
	/* Value date 2020-12-31, entry date 0102 in the next year. */
	assert_string_equal(g->tx[0].value, "2020-12-31");
	assert_string_equal(g->tx[0].booking, "2021-01-02");
	assert_int_equal(g->tx[0].amount, -10050);
	/* ?20-?29 with SEPA keywords; Latin-1 read as UTF-8 text. */
	assert_string_equal(g->tx[0].desc, "Strom Dezember M\xc3\xbcller GmbH");
	assert_string_equal(g->tx[0].e2e, "E2E-123");
	assert_string_equal(g->tx[0].cp_name, "Stadtwerke M\xc3\xbcnchen GmbH");
	assert_string_equal(g->tx[0].cp_iban, "DE02120300000000202051");
	assert_string_equal(g->tx[0].btc, "NDDT");
	assert_string_equal(g->tx[0].purpose, "105");
	assert_string_equal(g->tx[0].bref, "BANKREF1");
	/* Value date 2021-01-02, entry date 1231 in the year before. */
	assert_string_equal(g->tx[1].value, "2021-01-02");
	assert_string_equal(g->tx[1].booking, "2020-12-31");
	assert_string_equal(g->tx[1].cp_name, "Erika Mustermann");
	assert_string_equal(g->tx[1].desc, "Rechnung 4711");
	/* RD, reversal of a debit: money comes back.  RC goes out. */
	assert_true(g->tx[2].reversal);
	assert_int_equal(g->tx[2].amount, 1234);
	assert_string_equal(g->tx[2].desc, "Storno Geb\xc3\xbchr");
	assert_true(g->tx[3].reversal);
	assert_int_equal(g->tx[3].amount, -1000);
	/* :62F:, :64:, :65: and everything adds up. */
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, 100000);
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 115184);
	assert_int_equal(got_bal(&g->st[0], BAL_AVAILABLE)->amount, 115184);
	assert_string_equal(got_bal(&g->st[0], BAL_FORWARD_AVAILABLE)->date,
	    "2021-01-03");
	assert_string_equal(g->st[0].from, "2020-12-30");
	assert_string_equal(g->st[0].to, "2021-01-02");
	assert_int_equal(g->nw, 0);
	free(g);
}

static void
mt940_lf_utf8_reads_like_crlf_latin1(void **state)
{
	static const char	*s =
	    ":20:STARTUMSE\n:25:DE89370400440532013000\n:28C:00001/001\n"
	    ":60F:C201230EUR1000,00\n"
	    ":61:2012310102D100,50NDDTNONREF//BANKREF1\n"
	    ":86:105?00SEPA-LASTSCHRIFT?109310?20EREF+E2E-123?21MREF+M-77"
	    "?22CRED+DE98ZZZ09999999999?23SVWZ+Strom Dezember M\xc3\xbcller\n"
	    " GmbH?30COBADEFFXXX?31DE02120300000000202051?32Stadtwerke "
	    "M\xc3\xbcnchen\n?33 GmbH\n:62F:C210102EUR899,50\n";
	struct got		*g;

	(void)state;
	g = snippet(s, STMT_MT940, STMT_OK);
	assert_string_equal(g->tx[0].desc, "Strom Dezember M\xc3\xbcller GmbH");
	assert_string_equal(g->tx[0].cp_name, "Stadtwerke M\xc3\xbcnchen GmbH");
	assert_int_equal(g->nw, 0);
	free(g);
}

static void
mt940_header_lines_are_skipped(void **state)
{
	static const char	*s =
	    "0000 01INGBNL2AXXXX00001\r\n0000 01INGBNL2AXXXX00001\r\n"
	    "940 00\r\n:20:MPBZ\r\n:25:0001234567\r\n:28C:000\r\n"
	    ":60F:C100722EUR0,00\r\n:61:100722D25,03NTRFNONREF\r\n"
	    ":86: RC AFREKENING BETALINGSVERKEER\r\n:62F:D100723EUR25,03\r\n"
	    "-XXX\r\nABNANL2A\r\n940\r\nABNANL2A\r\n:20:ABN\r\n:25:517852257\r\n"
	    ":28:19321/1\r\n:60F:C110522EUR1,\r\n:62F:C110523EUR1,\r\n-\r\n";
	struct got		*g;

	(void)state;
	g = snippet(s, STMT_MT940, STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->st[0].number, "0001234567");
	assert_string_equal(g->st[1].id, "ABN");
	assert_int_equal(got_bal(&g->st[1], BAL_BOOKED)->amount, 100);
	assert_int_equal(g->nw, 0);
	free(g);
}

static void
mt940_mt942_interim_report(void **state)
{
	struct got	*g;
	const char	*bad =
	    ":20:I\n:25:PL61109010140000071219812874\n:28C:7/1\n:34F:PLN0,\n"
	    ":13D:2103041015+0100\n:61:2103040304CN12,50NTRFNONREF//X1\n"
	    ":90D:0PLN0,\n:90C:2PLN12,50\n";

	(void)state;
	g = own("mt940/mt942_interim.sta", STMT_MT940, STMT_OK);
	assert_true(g->st[0].interim);
	assert_int_equal(g->ntx, 2);
	assert_int_equal(g->tx[0].status, TXN_PENDING);
	assert_int_equal(g->tx[0].amount, 1250);
	assert_int_equal(g->tx[1].amount, -200);
	assert_string_equal(g->tx[1].ccy, "PLN");
	assert_int_equal(g->nw, 0);
	free(g);

	/* :90C: counts 2 credits, the report has 1: flagged. */
	g = snippet(bad, STMT_MT940, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, ":90C:"), 1);
	free(g);
}

static void
mt940_invalid_dates(void **state)
{
	struct got	*g;

	char		 path[1024];
	static const char bad_entry[] = ":20:X\n:25:1\n:60F:C210101EUR1,\n"
	    ":61:2101021340C1,NTRFNONREF\n:62F:C210102EUR2,\n";

	(void)state;
	/* Month 13, strict: rejected with the line and the date. */
	snprintf(path, sizeof(path), "%s/mt940/invalid_month.sta",
	    BANKFEED_TEST_DATA);
	g = got_expect(path, NULL, STMT_MT940, 1, STMT_REJECTED);
	assert_int_equal(g->diag.format, STMT_MT940);
	assert_int_equal(g->diag.line, 5);
	assert_non_null(strstr(g->diag.msg, "211301"));
	assert_non_null(strstr(g->diag.msg, "value date"));
	free(g);

	/*
	 * Lenient (the default): imported, the date before it (the opening
	 * balance's) in its place, and an invalid_date warning at its line.
	 */
	g = own("mt940/invalid_month.sta", STMT_MT940, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_string_equal(g->tx[0].value, "2021-01-01");
	assert_string_equal(g->tx[0].booking, "2021-01-01");
	assert_int_equal(got_warned(g, STMT_W_INVALID_DATE, "211301"), 1);
	assert_int_equal(g->w[0].line, 5);
	free(g);

	/* An impossible entry date: the value date stands in for it. */
	g = snippet(bad_entry, STMT_MT940, STMT_OK);
	assert_string_equal(g->tx[0].booking, "2021-01-02");
	assert_int_equal(got_warned(g, STMT_W_INVALID_DATE, "1340"), 1);
	free(g);
	g = snippet_strict(bad_entry, STMT_MT940, STMT_REJECTED);
	assert_int_equal(g->diag.line, 4);
	free(g);

	/* Day 32 in the first balance: no date before it, rejected anyway. */
	g = snippet(":20:X\n:25:1\n:60F:C210132EUR1,\n", STMT_MT940,
	    STMT_REJECTED);
	assert_int_equal(g->diag.line, 3);
	assert_non_null(strstr(g->diag.msg, "210132"));
	free(g);

	/* 30 February (30-day months): the 28th, and a warning with the line. */
	g = snippet(":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102300301C1,NTRFNONREF\n:62F:C210301EUR2,\n", STMT_MT940,
	    STMT_OK);
	assert_string_equal(g->tx[0].value, "2021-02-28");
	assert_int_equal(got_warned(g, STMT_W_DATE_ADJUSTED, "210230"), 1);
	assert_int_equal(g->w[0].line, 4);
	free(g);
}

static void
mt940_broken_and_truncated(void **state)
{
	struct got	*g;
	char		 garbage[4096];
	size_t		 i;

	(void)state;
	/* Ends after a :61: without its closing balance: strict rejects. */
	g = snippet_strict(":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRF", STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "closing balance"));
	assert_int_equal(g->diag.line, 4);
	free(g);
	/* Lenient: imported, with a missing_field warning at its end. */
	g = snippet(":20:X\n:25:1\n:60F:C210201EUR1,\n:61:2102010201C1,NTRF",
	    STMT_MT940, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(got_warned(g, STMT_W_MISSING_FIELD, ":62F:"), 1);
	free(g);
	/*
	 * Ended by the next :20:, the missing :62F: is missed on the last
	 * line of its statement, not on the next statement's :20:.
	 */
	g = snippet_strict(":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRF\n:86:text\n:20:Y\n:25:1\n"
	    ":62F:C210201EUR1,\n", STMT_MT940, STMT_REJECTED);
	assert_int_equal(g->diag.line, 5);
	free(g);

	/* Ends in the middle of a :61:. */
	g = snippet(":20:X\n:25:1\n:60F:C210201EUR1,\n:61:2102", STMT_MT940,
	    STMT_REJECTED);
	assert_int_equal(g->diag.line, 4);
	free(g);

	/* No :25:. */
	g = snippet(":20:X\n:60F:C210201EUR1,\n:62F:C210201EUR1,\n",
	    STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, ":25:"));
	free(g);

	/* Amount that is not one. */
	g = snippet(":20:X\n:25:1\n:60F:C210201EUR1,2,3\n", STMT_MT940,
	    STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "not an amount"));
	free(g);

	/* Binary garbage. */
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)((i * 7919 + 13) % 251);
	g = got_new();
	assert_int_equal(got_mem(garbage, sizeof(garbage), STMT_MT940, g),
	    STMT_REJECTED);
	free(g);

	/* Unknown fields are skipped with a warning. */
	g = snippet(":20:X\n:25:1\n:60F:C210201EUR1,\n:99Z:what\n"
	    ":62F:C210201EUR1,\n", STMT_MT940, STMT_OK);
	assert_int_equal(got_warned(g, STMT_W_UNKNOWN_FIELD, ":99Z:"), 1);
	free(g);
}

static void
mt940_fields_past_their_limit(void **state)
{
	char		*line, *lines, *s;
	struct got	*g;
	size_t		 n;

	(void)state;
	/* One line of 10000 bytes. */
	line = repeat("A", STMT_FIELD_MAX + 100);
	n = strlen(line) + 128;
	s = malloc(n);
	snprintf(s, n, ":20:X\n:25:1\n:86:%s\n", line);
	g = snippet(s, STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "line longer than"));
	assert_int_equal(g->diag.line, 3);
	free(g);
	free(s);
	free(line);

	/* A :86: of 60 KB in 65-byte lines. */
	lines = repeat("?20Eine sehr lange Zeile Verwendungszweck die nie endet\n",
	    1200);
	n = strlen(lines) + 256;
	s = malloc(n);
	snprintf(s, n, ":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRFNONREF\n:86:166%s:62F:C210201EUR2,\n", lines);
	g = snippet(s, STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "longer than"));
	/* The line that goes past the limit; the message names the field's. */
	assert_int_equal(g->diag.line, 590);
	assert_non_null(strstr(g->diag.msg, ":86: (from line 5)"));
	free(g);
	free(s);
	free(lines);
}

static void
callbacks_stop_the_parse(void **state)
{
	struct got	*g = got_new();

	(void)state;
	g->stop_at_txn = 2;
	assert_int_equal(got_str(":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRFNONREF\n:61:2102010201C1,NTRFNONREF\n"
	    ":61:2102010201C1,NTRFNONREF\n:62F:C210201EUR4,\n", STMT_MT940, g),
	    STMT_STOPPED);
	assert_int_equal(g->diag.cb_rc, 7);
	assert_int_equal(g->ntx, 2);
	free(g);
}

/* ------------------------------------------------------------ camt.053 */

static void
camt_batch_charges_reversal_pending(void **state)
{
	struct got	*g;

	(void)state;
	g = own("camt053/batch_reversal_v08.xml", STMT_CAMT053, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].iban, "DE89370400440532013000");
	assert_string_equal(g->st[0].holder, "Beispiel GmbH");
	assert_string_equal(g->st[0].bic, "COBADEFFXXX");
	assert_string_equal(g->st[0].seq, "42");
	assert_string_equal(g->st[0].from, "2024-02-01");
	assert_string_equal(g->st[0].to, "2024-02-29");
	/* Batch of 2 TxDtls with their own amounts, plus the charges. */
	assert_int_equal(g->ntx, 5);
	assert_int_equal(g->tx[0].amount, -10000);
	assert_string_equal(g->tx[0].booking, "2024-02-05");	/* a DtTm */
	assert_string_equal(g->tx[0].cp_name, "Alpha AG");
	assert_string_equal(g->tx[0].cp_iban, "FR1420041010050500013M02606");
	assert_string_equal(g->tx[0].desc, "Invoice 1 and 2");
	assert_string_equal(g->tx[0].e2e, "E2E-A");
	assert_string_equal(g->tx[0].btc, "PMNT-ICDT-ESCT");
	assert_string_equal(g->tx[0].bank_id, "BATCH-0001/1");
	assert_int_equal(g->tx[1].amount, -20000);
	assert_string_equal(g->tx[1].cp_name, "Beta & Co");
	assert_string_equal(g->tx[1].desc, "RF18539007547034");
	assert_string_equal(g->tx[1].e2e, "");		/* NOTPROVIDED */
	assert_int_equal(g->tx[2].amount, -150);
	assert_string_equal(g->tx[2].desc, "charges");
	/* Reversal: CRDT, counterparty the original's creditor. */
	assert_true(g->tx[3].reversal);
	assert_int_equal(g->tx[3].amount, 2898);	/* 28.975 rounded */
	assert_string_equal(g->tx[3].cp_name, "Gamma Versand");
	assert_string_equal(g->tx[3].purpose, "NRTI+109");
	assert_int_equal(got_warned(g, STMT_W_AMOUNT_ROUNDED, "28.975"), 1);
	/* Pending, no booking date: the value date stands in. */
	assert_int_equal(g->tx[4].status, TXN_PENDING);
	assert_string_equal(g->tx[4].booking, "2024-03-01");
	assert_string_equal(g->tx[4].desc, "Kartenzahlung vorgemerkt");
	/* PRCD + booked entries = CLBD: no mismatch. */
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 0);
	assert_int_equal(g->nw, 1);
	free(g);
}

static void
camt_national_variant(void **state)
{
	struct got	*g;

	(void)state;
	g = own("camt053/austrian_variant.xml", STMT_CAMT053, STMT_OK);
	assert_string_equal(g->st[0].iban, "AT611904300234573201");
	assert_int_equal(got_bal(&g->st[0], BAL_OPENING_BOOKED)->amount, -1000);
	assert_string_equal(g->tx[0].cp_name,
	    "\xc3\x96sterreicher \xc3\x96lhandel");
	assert_int_equal(g->nw, 0);
	free(g);
}

/* camt.052 (an intraday account report, what XS2A banks send): read as
 * camt.053, its Rpt as a Stmt, booked and pending entries alike. */
static void
camt052_account_report(void **state)
{
	struct got	*g;
	static const char *mixed =
	    "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:"
	    "tech:xsd:camt.052.001.02\"><BkToCstmrStmt/></Document>\n";

	(void)state;
	g = own("camt053/camt052_report.xml", STMT_CAMT053, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].id, "RPT-1");
	assert_string_equal(g->st[0].iban, "DE89370400440532013000");
	assert_int_equal(g->ntx, 2);
	assert_int_equal(g->tx[0].amount, -1230);
	assert_int_equal(g->tx[0].status, TXN_BOOKED);
	assert_int_equal(g->tx[1].status, TXN_PENDING);
	assert_string_equal(g->tx[1].bank_id, "P-1");
	free(g);
	g = snippet(mixed, STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "BkToCstmrAcctRpt"));
	free(g);
}

static void
camt_refuses_entities_and_other_messages(void **state)
{
	struct got	*g;
	static const char *laughs =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	    "<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "]>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
	    "camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>&lol3;</MsgId>"
	    "</GrpHdr></BkToCstmrStmt></Document>\n";

	(void)state;
	g = own("camt053/xxe.xml", STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "DOCTYPE"));
	free(g);
	/* libxml2 stops the expansion itself, or we stop at the DOCTYPE. */
	g = snippet(laughs, STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "entit"));
	free(g);
	/* camt.054 is read, and one without notifications is no statement. */
	g = own("camt053/camt054.xml", STMT_CAMT054, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "no <Ntfctn>"));
	assert_non_null(strstr(g->diag.msg, "camt.054"));
	assert_int_equal(g->diag.line, 3);
	free(g);
	/* Another message altogether. */
	g = snippet("<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:"
	    "iso:20022:tech:xsd:pain.001.001.03\">\n</Document>\n",
	    STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "pain.001"));
	assert_int_equal(g->diag.line, 2);
	free(g);
}

static void
camt_broken_and_truncated(void **state)
{
	char		 path[1024], *buf, garbage[2048];
	struct got	*g;
	FILE		*f;
	size_t		 n, i;

	(void)state;
	snprintf(path, sizeof(path), "%s/camt053/batch_reversal_v08.xml",
	    BANKFEED_TEST_DATA);
	assert_non_null(f = fopen(path, "rb"));
	buf = malloc(65536);
	n = fread(buf, 1, 65536, f);
	fclose(f);
	/* Cut in the middle of the second entry. */
	g = got_new();
	assert_int_equal(got_mem(buf, n * 2 / 3, STMT_CAMT053, g),
	    STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "truncated"));
	assert_non_null(strstr(g->diag.msg, "Stmt/Ntry"));
	assert_true(g->diag.line > 30);
	free(g);
	free(buf);

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)((i * 31 + 7) % 256);
	g = got_new();
	assert_int_equal(got_mem(garbage, sizeof(garbage), STMT_CAMT053, g),
	    STMT_REJECTED);
	free(g);

	/* An entry without CdtDbtInd. */
	g = snippet("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
	    "camt.053.001.04\"><BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>"
	    "DE89370400440532013000</IBAN></Id></Acct><Ntry><Amt Ccy=\"EUR\">"
	    "1.00</Amt></Ntry></Stmt></BkToCstmrStmt></Document>",
	    STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "CdtDbtInd"));
	free(g);
}

static void
camt_batch_without_own_amounts(void **state)
{
	struct got	*g;

	(void)state;
	g = snippet("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
	    "camt.053.001.02\"><BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>"
	    "DE89370400440532013000</IBAN></Id></Acct><Ntry><Amt Ccy=\"EUR\">"
	    "30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2024-01-02</Dt>"
	    "</BookgDt><AddtlNtryInf>SAMMLER</AddtlNtryInf><NtryDtls><TxDtls>"
	    "<RmtInf><Ustrd>a</Ustrd></RmtInf></TxDtls><TxDtls><RmtInf><Ustrd>b"
	    "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt>"
	    "</Document>", STMT_CAMT053, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->tx[0].amount, -3000);
	assert_string_equal(g->tx[0].desc, "batch of 2 transactions: SAMMLER");
	assert_int_equal(got_warned(g, STMT_W_BATCH, "2 TxDtls"), 1);
	free(g);
}

static void
camt_text_past_its_limit(void **state)
{
	char		*big = repeat("x", STMT_TEXT_MAX + 10), *s;
	size_t		 n = strlen(big) + 512;
	struct got	*g;

	(void)state;
	s = malloc(n);
	snprintf(s, n, "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
	    "camt.053.001.02\"><BkToCstmrStmt><Stmt><Id>%s</Id></Stmt>"
	    "</BkToCstmrStmt></Document>", big);
	g = snippet(s, STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "longer than"));
	free(g);
	free(s);
	free(big);
}

/*
 * camt.053 is read by a SAX pass, and again by the xmlTextReader for
 * what that pass leaves to it; these pin what both must agree on.
 */
#define CAMT_HEAD "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:" \
	"camt.053.001.02\">\n<BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>" \
	"DE89370400440532013000</IBAN></Id></Acct>\n"
#define CAMT_NTRY(ustrd) "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT" \
	"</CdtDbtInd><BookgDt><Dt>2024-01-02</Dt></BookgDt><NtryDtls><TxDtls>" \
	"<RmtInf><Ustrd>" ustrd "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
#define CAMT_TAIL "</Stmt></BkToCstmrStmt></Document>\n"

static void
camt_sax_lines_and_text(void **state)
{
	struct got	*g;
	char		*s, *nl, *p;
	size_t		 n;
	uint64_t	 line;

	(void)state;
	/* A start tag over several lines counts where it ends (its '>'). */
	g = snippet(CAMT_HEAD "<Ntry\n a=\"1\"\n>\n<Amt\n Ccy=\"EUR\"\n>1.00</Amt>"
	    "<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt\n>2024-02-30</Dt>"
	    "</BookgDt></Ntry>\n" CAMT_TAIL, STMT_CAMT053, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->tx[0].line, 5);
	assert_int_equal(g->nw, 1);
	assert_int_equal(g->w[0].code, STMT_W_DATE_ADJUSTED);
	assert_int_equal(g->w[0].line, 9);
	free(g);
	g = snippet(CAMT_HEAD "<Ntry><Amt\n Ccy=\"EUR\"\n>-1.00</Amt></Ntry>\n"
	    CAMT_TAIL, STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "negative"));
	assert_int_equal(g->diag.line, 5);
	free(g);

	/* CDATA, character and predefined entities are text. */
	g = snippet(CAMT_HEAD CAMT_NTRY("\n  <![CDATA[a <b>]]> &amp; &#67;\n")
	    CAMT_TAIL, STMT_CAMT053, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_string_equal(g->tx[0].desc, "a <b> & C");
	free(g);

	/* Other entities are refused, declared or not. */
	g = snippet(CAMT_HEAD CAMT_NTRY("&foo;") CAMT_TAIL, STMT_CAMT053,
	    STMT_REJECTED);
	assert_string_equal(g->diag.msg,
	    "not well-formed XML: Entity 'foo' not defined");
	assert_int_equal(g->diag.line, 3);
	free(g);
	g = snippet("<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\n"
	    "<!ENTITY foo \"x\">\n]>\n" CAMT_HEAD CAMT_NTRY("&foo;") CAMT_TAIL,
	    STMT_CAMT053, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "a DOCTYPE is not allowed"));
	free(g);

	/*
	 * A comment inside the text: read again by the reader, and the
	 * sink still gets each record once.  The blanks between two
	 * comments are a text node of their own, kept.
	 */
	g = snippet(CAMT_HEAD CAMT_NTRY("one") CAMT_NTRY("two")
	    CAMT_NTRY("a<!--c-->  <!--d-->b") CAMT_TAIL, STMT_CAMT053, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_int_equal(g->ntx, 3);
	assert_string_equal(g->tx[0].desc, "one");
	assert_string_equal(g->tx[2].desc, "a  b");
	free(g);

	/*
	 * Past line 65535 lines are the file's (libxml2 keeps 16 bits of
	 * them unless told otherwise): a good file, read by the SAX pass,
	 * exactly; a rejected one, read by the reader, within a few lines.
	 */
	n = 70000;
	s = malloc(sizeof(CAMT_HEAD) + n + 1024);
	strcpy(s, CAMT_HEAD "<Ntry");
	nl = s + strlen(s);
	memset(nl, '\n', n);
	strcpy(nl + n, "><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT"
	    "</CdtDbtInd><BookgDt><Dt>2024-02-30</Dt></BookgDt></Ntry>\n"
	    CAMT_TAIL);
	for (line = 1, p = s; p < nl + n; p++)
		line += *p == '\n';
	assert_true(line > 70000);
	g = snippet(s, STMT_CAMT053, STMT_OK);
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->tx[0].line, line);
	assert_int_equal(g->nw, 1);
	assert_int_equal(g->w[0].line, line);
	free(g);
	memcpy(strstr(nl + n, "1.00"), "1.x0", 4);
	g = snippet(s, STMT_CAMT053, STMT_REJECTED);
	assert_true(g->diag.line >= line && g->diag.line <= line + 3);
	free(g);
	free(s);
}

/* ----------------------------------------------------------------- OFX */

static void
ofx_sgml_bank_and_card(void **state)
{
	struct got	*g;

	(void)state;
	g = own("ofx/sgml_latin1_bank_and_card.ofx", STMT_OFX, STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_int_equal(g->st[0].type, ACCT_SAVINGS);
	assert_string_equal(g->st[0].iban, "FR7630004000031234567890143");
	assert_string_equal(g->st[0].id, "1001");
	assert_string_equal(g->st[0].from, "2024-02-01");
	assert_string_equal(g->st[0].to, "2024-02-29");
	assert_int_equal(g->st[0].ntxn, 3);
	/* "-1.006,60": thousands dot, decimal comma. */
	assert_int_equal(g->tx[0].amount, -100660);
	assert_string_equal(g->tx[0].cp_name, "Caf\xc3\xa9 & Cr\xc3\xaape");
	assert_string_equal(g->tx[0].desc, "Ch\xc3\xa8que n\xc2\xb0 1234");
	assert_string_equal(g->tx[0].check, "1234");
	assert_string_equal(g->tx[0].booking, "2024-02-05");
	assert_string_equal(g->tx[0].value, "2024-02-03");	/* DTUSER */
	assert_string_equal(g->tx[0].bank_id, "F-1");
	/* "+2,50"; PAYEE aggregate; BANKACCTTO gives the counterparty. */
	assert_int_equal(g->tx[1].amount, 250);
	assert_string_equal(g->tx[1].cp_name, "Jean Dupont");
	assert_string_equal(g->tx[1].cp_iban, "FR1420041010050500013M02606");
	/* Feb 30, a rounded amount and an unknown TRNTYPE: warnings. */
	assert_string_equal(g->tx[2].booking, "2024-02-29");
	assert_int_equal(got_warned(g, STMT_W_DATE_ADJUSTED, "20240230"), 1);
	assert_int_equal(got_warned(g, STMT_W_AMOUNT_ROUNDED, "-0.005"), 1);
	assert_int_equal(got_warned(g, STMT_W_UNKNOWN_CODE, "WEIRD"), 1);
	/* The credit card statement. */
	assert_int_equal(g->st[1].type, ACCT_CREDIT_CARD);
	assert_string_equal(g->st[1].number, "4970101234567890");
	assert_int_equal(g->tx[3].amount, -4200);
	assert_int_equal(got_bal(&g->st[1], BAL_AVAILABLE)->amount, 95800);
	free(g);
}

static void
ofx_xml_cdata_entities(void **state)
{
	struct got	*g;

	(void)state;
	g = snippet("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<?OFX OFXHEADER=\"200\" VERSION=\"220\"?>\n<OFX><!-- note -->"
	    "<BANKMSGSRSV1><STMTTRNRS><TRNUID>9</TRNUID><STMTRS>"
	    "<CURDEF>JPY</CURDEF><BANKACCTFROM><BANKID>0001</BANKID>"
	    "<ACCTID>1234567</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE>"
	    "</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE>"
	    "<DTPOSTED>20240101</DTPOSTED><TRNAMT>-1500</TRNAMT>"
	    "<FITID>a&amp;b</FITID><NAME><![CDATA[<Shop> & Co]]></NAME>"
	    "<MEMO>caf&#233; &#x263A;</MEMO><SIC/></STMTTRN></BANKTRANLIST>"
	    "<LEDGERBAL><BALAMT>1,234,567</BALAMT><DTASOF>20240102</DTASOF>"
	    "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>",
	    STMT_OFX, STMT_OK);
	assert_int_equal(g->tx[0].amount, -1500);		/* JPY: 0 digits */
	assert_string_equal(g->tx[0].bank_id, "a&b");
	assert_string_equal(g->tx[0].cp_name, "<Shop> & Co");
	assert_string_equal(g->tx[0].desc, "caf\xc3\xa9 \xe2\x98\xba");
	assert_int_equal(got_bal(&g->st[0], BAL_BOOKED)->amount, 1234567);
	assert_int_equal(g->nw, 0);
	free(g);
}

static void
ofx_broken_and_truncated(void **state)
{
	struct got	*g;
	char		 garbage[3000], *big, *s;
	size_t		 i, n;
	static const char *head =
	    "OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS>"
	    "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>2"
	    "<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>";

	(void)state;
	/* Truncated: the file ends inside the statement. */
	n = strlen(head) + 128;
	s = malloc(n);
	snprintf(s, n, "%s<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240101<TRNAMT>-1"
	    "<FITID>1</STMTTRN>", head);
	g = snippet(s, STMT_OFX, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "truncated"));
	free(g);
	/* No TRNAMT. */
	snprintf(s, n, "%s<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240101<FITID>1"
	    "</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1>"
	    "</OFX>", head);
	g = snippet(s, STMT_OFX, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "without TRNAMT"));
	assert_int_equal(g->diag.line, 4);
	free(g);
	free(s);

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)((i * 131 + 3) % 256);
	g = got_new();
	assert_int_equal(got_mem(garbage, sizeof(garbage), STMT_OFX, g),
	    STMT_REJECTED);
	free(g);

	/* A MEMO past the field limit. */
	big = repeat("m", STMT_FIELD_MAX + 10);
	n = strlen(big) + strlen(head) + 256;
	s = malloc(n);
	snprintf(s, n, "%s<STMTTRN><MEMO>%s</STMTTRN>", head, big);
	g = snippet(s, STMT_OFX, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "longer than"));
	free(g);
	free(s);
	free(big);
}

/* ---------------------------------------------------------- detection */

static void
detection(void **state)
{
	static const struct {
		const char		*file;
		enum stmt_format	 fmt;
	} files[] = {
		{ "mt940/german_sepa_latin1.sta", STMT_MT940 },
		{ "mt940/mt942_interim.sta", STMT_MT942 },
		{ "camt053/batch_reversal_v08.xml", STMT_CAMT053 },
		{ "camt053/austrian_variant.xml", STMT_CAMT053 },
		{ "camt053/camt054.xml", STMT_CAMT054 },
		{ "ofx/sgml_latin1_bank_and_card.ofx", STMT_OFX },
	};
	enum stmt_format	 f;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char	 path[1024], head[STMT_DETECT_LEN];
		FILE	*fp;
		size_t	 n;

		snprintf(path, sizeof(path), "%s/%s", BANKFEED_TEST_DATA,
		    files[i].file);
		assert_non_null(fp = fopen(path, "rb"));
		n = fread(head, 1, sizeof(head), fp);
		fclose(fp);
		assert_int_equal(stmt_detect(head, n, &f), 0);
		assert_int_equal(f, files[i].fmt);
	}
	assert_int_equal(stmt_detect("%PDF-1.4\n", 9, &f), -1);
	assert_int_equal(stmt_detect("", 0, &f), -1);
	assert_int_equal(stmt_detect("<html><body>", 12, &f), -1);
	assert_int_equal(stmt_format_parse("mt940", &f), 0);
	assert_int_equal(f, STMT_MT940);
	assert_int_equal(stmt_format_parse("pdf", &f), -1);
}

/* ------------------------------------------------------- fast paths */

/*
 * The escaping and text scans take 8 or 16 bytes at a time: they must
 * give what a byte at a time gives, whatever the length and wherever the
 * byte that needs care sits.
 */
static size_t
naive_safe_prefix(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			break;
	}
	return i;
}

static size_t
naive_plain_prefix(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	return i;
}

static void
escape_fast_paths_agree(void **state)
{
	static const char *const odd[] = { "\"", "\\", "\n", "\x01", "\x7f",
	    "\xc3\xa9", "\xff", "\xe2\x82", "\t", "\xf0\x9f\x98\x80" };
	char		 s[80], out[JSON_ESCAPED_MAX(80)];
	struct buf	 b;
	size_t		 n, pos, k, len;

	(void)state;
	buf_init(&b, 4096);
	for (n = 0; n < 70; n++)
		for (pos = 0; pos <= n; pos++)
			for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
				/* n plain bytes with odd[k] put at pos. */
				memset(s, 'a' + (int)(n % 26), n);
				len = strlen(odd[k]);
				if (pos + len > n)
					continue;
				memcpy(s + pos, odd[k], len);
				assert_int_equal(json_safe_prefix(s, n),
				    naive_safe_prefix(s, n));
				buf_reset(&b);
				assert_int_equal(json_escape(&b, s, n), 0);
				assert_int_equal(json_escape_to(out, s, n), b.len);
				assert_memory_equal(out, b.p, b.len);
				assert_int_equal(fmt_plain_prefix(s, n),
				    naive_plain_prefix(s, n));
			}
	buf_free(&b);
}

/* fmt_text: ASCII kept, UTF-8 kept, ISO-8859-1 converted, controls gone. */
static void
text_fast_paths_agree(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(fmt_text(&b, "Miete Januar 2024 Kd-Nr. 12345", 30), 0);
	assert_string_equal(b.p, "Miete Januar 2024 Kd-Nr. 12345");
	buf_reset(&b);
	/* Past 16 bytes, then ISO-8859-1: the whole line is Latin-1. */
	assert_int_equal(fmt_text(&b, "Stadtwerke M\xfcnchen GmbH\ttest\x01!",
	    31), 0);
	assert_string_equal(b.p, "Stadtwerke M\xc3\xbcnchen GmbH test!");
	buf_reset(&b);
	assert_int_equal(fmt_text(&b, "0123456789abcdefStra\xc3\x9f" "e", 23), 0);
	assert_string_equal(b.p, "0123456789abcdefStra\xc3\x9f" "e");
	buf_reset(&b);
	/* Valid UTF-8 first, an invalid byte later: all Latin-1. */
	assert_int_equal(fmt_text(&b, "\xc3\xa9t\xe9", 4), 0);
	assert_string_equal(b.p, "\xc3\x83\xc2\xa9t\xc3\xa9");
	assert_int_equal(fmt_utf8_valid("0123456789abcdef\xe2\x82\xac", 19), 1);
	assert_int_equal(fmt_utf8_valid("0123456789abcdef\xe2\x82", 18), 0);
	buf_free(&b);
}

/* ---------------------------------------------------------------- CLI */

struct run {
	int	status;
	char	out[1 << 16];
	char	err[4096];
};

static void
slurp(int fd, char *b, size_t n)
{
	ssize_t	k;

	lseek(fd, 0, SEEK_SET);
	k = read(fd, b, n - 1);
	b[k > 0 ? k : 0] = '\0';
	close(fd);
}

/* Runs `bankfeed import ARGS...` in process, capturing stdout/stderr. */
static void
import(struct run *r, int argc, char **argv)
{
	char	ot[] = "/tmp/bf-out-XXXXXX", et[] = "/tmp/bf-err-XXXXXX";
	int	ofd = mkstemp(ot), efd = mkstemp(et);
	int	so = dup(1), se = dup(2);

	assert_true(ofd >= 0 && efd >= 0);
	unlink(ot);
	unlink(et);
	fflush(stdout);
	fflush(stderr);
	dup2(ofd, 1);
	dup2(efd, 2);
	r->status = formats_cmd_import(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(ofd, r->out, sizeof(r->out));
	slurp(efd, r->err, sizeof(r->err));
}

static void
cli_prints_json(void **state)
{
	char		 path[1024];
	char		*argv[] = { "import", path, NULL };
	struct run	*r = malloc(sizeof(*r));
	json_t		*j, *st, *tx, *bal;
	json_error_t	 e;

	(void)state;
	snprintf(path, sizeof(path), "%s/mt940/german_sepa_latin1.sta",
	    BANKFEED_TEST_DATA);
	import(r, 2, argv);
	assert_int_equal(r->status, 0);
	assert_string_equal(r->err, "");
	assert_non_null(j = json_loads(r->out, 0, &e));
	assert_string_equal(json_string_value(json_object_get(j, "format")),
	    "mt940");
	st = json_array_get(json_object_get(j, "statements"), 0);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(st, "account"), "iban")), "DE89370400440532013000");
	tx = json_array_get(json_object_get(st, "transactions"), 0);
	/* Decimal strings with exactly the currency's digits. */
	assert_string_equal(json_string_value(json_object_get(tx, "amount")),
	    "-100.50");
	assert_string_equal(json_string_value(json_object_get(tx,
	    "booking_date")), "2021-01-02");
	assert_string_equal(json_string_value(json_object_get(tx,
	    "counterparty_name")), "Stadtwerke M\xc3\xbcnchen GmbH");
	assert_true(json_is_null(json_object_get(tx, "bank_id")));
	bal = json_array_get(json_object_get(st, "balances"), 1);
	assert_string_equal(json_string_value(json_object_get(bal, "type")),
	    "booked");
	assert_string_equal(json_string_value(json_object_get(bal, "amount")),
	    "1151.84");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "transaction_count")), 4);
	assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
	json_decref(j);

	/* Warnings come along; --format forces the parser. */
	snprintf(path, sizeof(path), "%s/ofx/sgml_latin1_bank_and_card.ofx",
	    BANKFEED_TEST_DATA);
	{
		char	*argv2[] = { "import", "--format", "ofx", path, NULL };

		import(r, 4, argv2);
	}
	assert_int_equal(r->status, 0);
	assert_non_null(j = json_loads(r->out, 0, &e));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "warning_count")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "warnings"), 0), "code")), "date_adjusted");
	json_decref(j);
	free(r);
}

static void
cli_rejects_and_usage(void **state)
{
	char		 path[1024];
	char		*argv[] = { "import", path, NULL };
	char		*strict[] = { "import", "--strict", path, NULL };
	char		*noargs[] = { "import", NULL };
	char		*badfmt[] = { "import", "--format", "pdf", path, NULL };
	struct run	*r = malloc(sizeof(*r));

	(void)state;
	snprintf(path, sizeof(path), "%s/mt940/invalid_month.sta",
	    BANKFEED_TEST_DATA);
	import(r, 3, strict);
	assert_int_equal(r->status, 1);
	assert_string_equal(r->out, "");
	assert_non_null(strstr(r->err, "MT940: line 5: invalid value date"));
	/* Without --strict: imported, with the invalid_date warning. */
	import(r, 2, argv);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "\"code\":\"invalid_date\""));

	import(r, 1, noargs);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "usage"));
	import(r, 4, badfmt);
	assert_int_equal(r->status, 2);

	/* Not a statement at all. */
	snprintf(path, sizeof(path), "%s/../../CMakeLists.txt",
	    BANKFEED_TEST_DATA);
	import(r, 2, argv);
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "not a camt.053, MT940 or OFX"));

	/* Missing file. */
	snprintf(path, sizeof(path), "/nonexistent/x.sta");
	import(r, 2, argv);
	assert_int_equal(r->status, 1);
	free(r);
}

/*
 * Writes an MT940 file of nstmt statements of 100 transactions each;
 * with bad_last, the last :61: of the last statement has an impossible
 * date.  Returns the path (static).
 */
static const char *
big_mt940(size_t nstmt, int bad_last)
{
	static char	 path[] = "/tmp/bf-big-XXXXXX";
	FILE		*f;
	size_t		 i, k;
	int		 fd;

	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	for (i = 0; i < nstmt; i++) {
		fprintf(f, ":20:STMT%zu\r\n:25:DE89370400440532013000\r\n"
		    ":28C:%zu/1\r\n:60F:C240101EUR1000,00\r\n", i, i + 1);
		for (k = 0; k < 100; k++)
			fprintf(f, ":61:24%s010102D1,00NTRFNONREF//REF%zu\r\n"
			    ":86:166?00SEPA-UEBERWEISUNG?20EREF+E2E%zu?21SVWZ+"
			    "Rechnung \"%zu\" M\xfcller\r\n?32Stadtwerke M"
			    "\xfcnchen\r\n", bad_last && i == nstmt - 1 &&
			    k == 99 ? "13" : "01", k, k, i * 100 + k);
		fprintf(f, ":62F:C240102EUR900,00\r\n-\r\n");
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

/*
 * Runs `bankfeed import --strict path`, stdout into a file; its size in
 * *size.
 */
static int
import_to_file(const char *path, const char *out, size_t *size)
{
	char	*argv[] = { "import", "--strict", (char *)path, NULL };
	int	 ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int	 efd = open("/dev/null", O_WRONLY), so = dup(1), se = dup(2);
	int	 status;
	off_t	 end;

	assert_true(ofd >= 0 && efd >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(ofd, 1);
	dup2(efd, 2);
	status = formats_cmd_import(3, argv);
	fflush(stdout);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(efd);
	end = lseek(ofd, 0, SEEK_END);
	*size = end > 0 ? (size_t)end : 0;
	close(ofd);
	return status;
}

/*
 * Output past what is held in memory (1 MiB) goes through the spool file
 * and comes out whole; a file rejected near its end still prints nothing.
 */
static void
cli_large_output_whole_or_nothing(void **state)
{
	char		 out[] = "/tmp/bf-bigout-XXXXXX";
	const char	*path;
	size_t		 size;
	json_t		*j;
	json_error_t	 e;
	int		 fd;

	(void)state;
	assert_true((fd = mkstemp(out)) >= 0);
	close(fd);
	path = big_mt940(40, 0);
	assert_int_equal(import_to_file(path, out, &size), 0);
	assert_true(size > 1024 * 1024);	/* past OUT_KEEP: spooled */
	assert_non_null(j = json_load_file(out, 0, &e));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "transaction_count")), 4000);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "statement_count")), 40);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "statements"),
	    39), "transactions"), 99), "description")),
	    "Rechnung \"3999\" M\xc3\xbcller");
	json_decref(j);
	unlink(path);

	path = big_mt940(40, 1);
	assert_int_equal(import_to_file(path, out, &size), 1);
	assert_int_equal(size, 0);
	unlink(path);
	unlink(out);
}

/* Last: it replaces the process's stdin. */
static void
cli_reads_stdin(void **state)
{
	char		 path[1024];
	char		*argv[] = { "import", "-", NULL };
	struct run	*r = malloc(sizeof(*r));
	json_t		*j;
	json_error_t	 e;

	(void)state;
	snprintf(path, sizeof(path), "%s/camt053/batch_reversal_v08.xml",
	    BANKFEED_TEST_DATA);
	assert_non_null(freopen(path, "rb", stdin));
	import(r, 2, argv);
	assert_int_equal(r->status, 0);
	assert_non_null(j = json_loads(r->out, 0, &e));
	assert_string_equal(json_string_value(json_object_get(j, "format")),
	    "camt053");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "transaction_count")), 5);
	json_decref(j);
	free(r);
}

/*
 * A German :86: is glued without its line ends as it is read: the limit
 * stays that of the text with them, to the byte, for one :86: and for a
 * second one joined to it.
 */
static void
mt940_glued_86_keeps_its_limit(void **state)
{
	char		*first, *lines, *s;
	struct got	*g;
	size_t		 n;

	(void)state;
	/* 64 + 511 * 64 = STMT_TEXT_MAX with the line ends: fits. */
	first = repeat("F", 58);
	lines = repeat("\n?20Eine Zeile Verwendungszweck von 64 Bytes samt dem "
	    "Zeilenende", 511);
	assert_int_equal(strlen(lines), 511 * 64);
	n = strlen(first) + strlen(lines) + 256;
	s = malloc(n);
	snprintf(s, n, ":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRFNONREF\n:86:166?00%s%s\n:62F:C210201EUR2,\n",
	    first, lines);
	g = snippet(s, STMT_MT940, STMT_OK);
	assert_int_equal(g->ntx, 1);
	free(g);

	/* A second :86: of one byte joined to it: one past. */
	snprintf(s, n, ":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRFNONREF\n:86:166?00%s%s\n:86:X\n"
	    ":62F:C210201EUR2,\n", first, lines);
	g = snippet(s, STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, ":86: too long"));
	assert_int_equal(g->diag.line, 517);
	free(g);

	/* One more line: past with its line ends, not without them. */
	snprintf(s, n, ":20:X\n:25:1\n:60F:C210201EUR1,\n"
	    ":61:2102010201C1,NTRFNONREF\n:86:166?00%s%s\n?20x\n"
	    ":62F:C210201EUR2,\n", first, lines);
	g = snippet(s, STMT_MT940, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "longer than"));
	/* The line that goes past the limit; the message names the field's. */
	assert_int_equal(g->diag.line, 517);
	assert_non_null(strstr(g->diag.msg, "(from line 5)"));
	free(g);
	free(s);
	free(first);
	free(lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mt940_german_sepa_blocks_latin1_crlf),
		cmocka_unit_test(mt940_lf_utf8_reads_like_crlf_latin1),
		cmocka_unit_test(mt940_header_lines_are_skipped),
		cmocka_unit_test(mt940_mt942_interim_report),
		cmocka_unit_test(mt940_invalid_dates),
		cmocka_unit_test(mt940_broken_and_truncated),
		cmocka_unit_test(mt940_fields_past_their_limit),
		cmocka_unit_test(mt940_glued_86_keeps_its_limit),
		cmocka_unit_test(callbacks_stop_the_parse),
		cmocka_unit_test(camt_batch_charges_reversal_pending),
		cmocka_unit_test(camt_national_variant),
		cmocka_unit_test(camt_refuses_entities_and_other_messages),
		cmocka_unit_test(camt052_account_report),
		cmocka_unit_test(camt_broken_and_truncated),
		cmocka_unit_test(camt_batch_without_own_amounts),
		cmocka_unit_test(camt_text_past_its_limit),
		cmocka_unit_test(camt_sax_lines_and_text),
		cmocka_unit_test(ofx_sgml_bank_and_card),
		cmocka_unit_test(ofx_xml_cdata_entities),
		cmocka_unit_test(ofx_broken_and_truncated),
		cmocka_unit_test(detection),
		cmocka_unit_test(escape_fast_paths_agree),
		cmocka_unit_test(text_fast_paths_agree),
		cmocka_unit_test(cli_prints_json),
		cmocka_unit_test(cli_rejects_and_usage),
		cmocka_unit_test(cli_large_output_whole_or_nothing),
		cmocka_unit_test(cli_reads_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
