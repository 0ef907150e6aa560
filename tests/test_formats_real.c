/*
 * Issue 15: statement files as banks really write them.  The files in
 * tests/data/statements/real/ were written by others (their MANIFEST.tsv
 * names repository, path, commit and license); each test says what the
 * file shows and what a user of it would expect.  Where no file written
 * by others was found, a snippet in the same shape stands in, and the
 * test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "formats_test.h"

#ifndef BANKFEED_TEST_DATA
#define BANKFEED_TEST_DATA "data/statements"
#endif

/* Parses real/<file> as fmt (strict or not); its result must be want. */
static struct got *
real(const char *file, enum stmt_format fmt, int strict, enum stmt_rc want)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/real/%s", BANKFEED_TEST_DATA, file);
	return got_expect(path, NULL, fmt, strict, want);
}

static struct got *
text(const char *s, enum stmt_format fmt, int strict, enum stmt_rc want)
{
	return got_expect(NULL, s, fmt, strict, want);
}

/* The format stmt_detect() gives the file real/<file>. */
static enum stmt_format
detected(const char *file)
{
	char			 path[1024], head[STMT_DETECT_LEN];
	FILE			*f;
	size_t			 n;
	enum stmt_format	 fmt;

	snprintf(path, sizeof(path), "%s/real/%s", BANKFEED_TEST_DATA, file);
	assert_non_null(f = fopen(path, "rb"));
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	assert_int_equal(stmt_detect(head, n, &fmt), 0);
	return fmt;
}

/*
 * Rabobank's older layout (php-mt940's Rabo sample): a ":940:" line
 * before the first :20:, amounts with a decimal point ("2145.00", and
 * "115351." in JPY), 39 statements one after the other without "-".
 * Every statement and transaction arrives, with the amounts to the cent.
 */
static void
mt940_rabobank_older_layout(void **state)
{
	struct got		*g;
	const struct rec_balance *b;
	size_t			 i, jpy = 0;

	(void)state;
	assert_int_equal(detected("php-mt940_rabo_sample.sta"), STMT_MT940);
	g = real("php-mt940_rabo_sample.sta", STMT_MT940, 1, STMT_OK);
	assert_int_equal(g->nst, 39);
	assert_int_equal(g->ntx, 39);
	assert_string_equal(g->st[0].id, "940A030107");
	assert_string_equal(g->st[0].number, "0800003200000001610722 EUR");
	assert_non_null(b = got_bal(&g->st[0], BAL_BOOKED));
	assert_int_equal(b->amount, 214500);
	assert_string_equal(b->date, "2003-01-07");
	/* The repeated :86: of one transaction are one description. */
	assert_int_equal(g->tx[0].amount, 30000);
	assert_string_equal(g->tx[0].desc, "Demo gebruiker Spaarpot kantine");
	/* The name after the 16-character reference (Dutch legacy). */
	for (i = 0; i < g->ntx; i++)
		if (strcmp(g->tx[i].cp_name, "ROBECO") == 0)
			break;
	assert_true(i < g->ntx);
	assert_int_equal(g->tx[i].amount, -50000);
	assert_string_equal(g->tx[i].desc, "AANKOOP FONDSEN");
	/* USD cents and JPY without minor units, read with their point. */
	for (i = 0; i < g->ntx; i++)
		if (strcmp(g->tx[i].cp_name, "MR AND MRS DAVIDS") == 0)
			assert_int_equal(g->tx[i].amount, 4398566);
	for (i = 0; i < g->nst; i++) {
		if (strcmp(g->st[i].ccy, "JPY") != 0)
			continue;
		jpy++;
		if (strcmp(g->st[i].id, "940A030107") == 0) {
			assert_non_null(b = got_bal(&g->st[i], BAL_BOOKED));
			assert_int_equal(b->amount, -115351);
		}
	}
	assert_int_equal(jpy, 3);
	for (i = 0; i < g->ntx; i++)
		if (strcmp(g->tx[i].cp_name, "YAN SO") == 0)
			assert_int_equal(g->tx[i].amount, 1560395);
	/* Nothing was rounded: the point is the decimal separator. */
	assert_int_equal(got_warned(g, STMT_W_AMOUNT_ROUNDED, NULL), 0);
	free(g);
}

/*
 * A Polish bank (BPH) writes ":86: 020?00..." with a space before the
 * code: still the structured form, its subfields wrapped across lines.
 */
static void
mt940_space_before_the_structured_code(void **state)
{
	struct got	*g;

	(void)state;
	g = real("dennisvis_mt_bphk_polish.sta", STMT_MT940, 1, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_int_equal(g->ntx, 3);
	assert_string_equal(g->tx[0].purpose, "020");
	assert_string_equal(g->tx[0].cp_iban, "PL08106000760000777777777777");
	assert_string_equal(g->tx[0].cp_name,
	    "HUTA SZKLA TOPIC ULPRZEMYSLOWA 67 32-669 WROCLAW");
	assert_non_null(strstr(g->tx[0].desc, "ZAPLATA ZA FABRYKATY DO TUB"));
	assert_null(strstr(g->tx[0].desc, "?2"));
	assert_int_equal(g->tx[0].amount, 2000000);
	assert_string_equal(g->tx[0].bref, "8327000090031789");
	assert_string_equal(g->tx[2].purpose, "844");
	assert_string_equal(g->tx[2].desc, "Odsetki od lokaty nr 101000022086");
	assert_int_equal(got_warned(g, STMT_W_UNKNOWN_CODE, NULL), 0);
	free(g);
}

/*
 * German code 999 marks unstructured :86: text (xtrans's example): the
 * text is the description, without the 999, whether a space follows it
 * or not.
 */
static void
mt940_code_999_is_not_text(void **state)
{
	struct got	*g;
	size_t		 i;

	(void)state;
	g = real("xtrans_mt940_999.sta", STMT_MT940, 1, STMT_OK);
	assert_int_equal(g->ntx, 13);
	assert_string_equal(g->tx[0].desc, "DTA/REF./NR. 0602070012248 FIRMA "
	    "FREUEDICH GMBH U.CO SEI-GLUECKLICH-STR.1 298 84 02 TEXT DATUM DM "
	    "NETTO");
	assert_string_equal(g->tx[1].desc, "ACMS W/195 1010180 00");
	assert_string_equal(g->tx[2].desc, "602080032863 BSE/NR "
	    "0000003014/REF30726020872 820070050 20070050000100050040000");
	for (i = 0; i < g->ntx; i++) {
		assert_true(strncmp(g->tx[i].desc, "999", 3) != 0);
		assert_string_equal(g->tx[i].purpose, "");
	}
	assert_string_equal(g->tx[0].bref, "97186/034");
	/* :62M: closes it: no missing :62F:. */
	assert_int_equal(got_warned(g, STMT_W_MISSING_FIELD, NULL), 0);
	free(g);
}

/*
 * MT942 (DennisVis/mt's sample): its own import format, detected by its
 * {2:I942 header, the same reader: interim, pending, :90D: checked.
 */
static void
mt942_interim_report_of_a_bank(void **state)
{
	struct got	*g;

	(void)state;
	assert_int_equal(detected("dennisvis_mt_sample_mt942.sta"), STMT_MT942);
	g = real("dennisvis_mt_sample_mt942.sta", STMT_MT942, 1, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_true(g->st[0].interim);
	assert_string_equal(g->st[0].iban, "PL89106000760000321000006053");
	assert_string_equal(g->st[0].ccy, "PLN");
	assert_int_equal(g->ntx, 2);
	assert_int_equal(g->tx[0].status, TXN_PENDING);
	assert_int_equal(g->tx[0].amount, -9317);
	assert_int_equal(g->tx[1].amount, -9316);
	assert_non_null(strstr(g->tx[0].desc, "URZAD SKARBOWY KRAKOW"));
	assert_int_equal(got_warned(g, STMT_W_SUMS_MISMATCH, NULL), 0);
	assert_int_equal(g->diag.format, STMT_MT942);
	free(g);
	assert_string_equal(stmt_format_name(STMT_MT942), "mt942");
}

/*
 * camt.054 (genkgo/camt's v2 notification): its own import format, each
 * Ntfctn read as a statement; the account's currency is its entry's.
 */
static void
camt054_notification_of_a_bank(void **state)
{
	struct got	*g;

	(void)state;
	assert_int_equal(detected("genkgo_camt054.v2.xml"), STMT_CAMT054);
	g = real("genkgo_camt054.v2.xml", STMT_CAMT054, 1, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].id, "AAAASESS-FP-ACCR001");
	assert_string_equal(g->st[0].iban, "CH2801234000123456789");
	assert_string_equal(g->st[0].holder, "FINPETROL");
	assert_string_equal(g->st[0].ccy, "SEK");
	assert_string_equal(g->st[0].from, "2007-10-18");
	/* Four TxDtls without their own amounts: one transaction. */
	assert_int_equal(g->ntx, 1);
	assert_int_equal(g->tx[0].amount, -20000000);
	assert_string_equal(g->tx[0].btc, "PMNT-ICDT-DMCT");
	assert_string_equal(g->tx[0].booking, "2007-10-18");
	assert_int_equal(got_warned(g, STMT_W_BATCH, "4 TxDtls"), 1);
	free(g);
	assert_string_equal(stmt_format_name(STMT_CAMT054), "camt054");
}

/*
 * ING wraps :86: text so that a line holds just "-".  No file written by
 * others with one was found; this snippet has the shape of ING's SEPA
 * statements.  A "-" is the end of the message only where the next line
 * starts a statement (or the file ends); inside a statement that has no
 * :62F: yet, before another field or more text, it is a line of text.
 */
static void
mt940_dash_line_inside_86(void **state)
{
	static const char ing[] =
	    "0000 01INGBNL2AXXXX00001\r\n940 00\r\n"
	    ":20:INGEB\r\n:25:NL20INGB0001234567EUR\r\n:28C:1\r\n"
	    ":60F:C200101EUR100,00\r\n"
	    ":61:2001020102D10,00NTRFNONREF//1\r\n/TRCD/00100/\r\n"
	    ":86:/EREF/NOTPROVIDED//REMI/USTD//Factuur 2019-12 huur\r\n"
	    "-\r\n"
	    ":61:2001020102D5,00NTRFNONREF//2\r\n"
	    ":86:/REMI/USTD//Abonnement januari\r\n"
	    "-\r\n"
	    "rest van de omschrijving\r\n"
	    ":62F:C200102EUR85,00\r\n"
	    "-\r\n"
	    ":20:INGEB2\r\n:25:NL20INGB0001234567EUR\r\n:28C:2\r\n"
	    ":60F:C200102EUR85,00\r\n"
	    ":61:2001030103C1,00NTRFNONREF//3\r\n"
	    ":86:/REMI/USTD//Terug\r\n"
	    "-\r\n"
	    ":20:INGEB3\r\n:25:NL20INGB0001234567EUR\r\n:28C:3\r\n"
	    ":60F:C200103EUR86,00\r\n:62F:C200103EUR86,00\r\n-\r\n";
	struct got	*g;

	(void)state;
	g = text(ing, STMT_MT940, 0, STMT_OK);
	assert_int_equal(g->nst, 3);
	assert_int_equal(g->st[0].ntxn, 2);
	/* Structured text is glued as it wraps, the "-" with it. */
	assert_string_equal(g->tx[0].desc, "Factuur 2019-12 huur-");
	assert_string_equal(g->tx[1].desc, "Abonnement januari-rest van de "
	    "omschrijving");
	assert_int_equal(got_warned(g, STMT_W_BALANCE_MISMATCH, NULL), 0);
	/* The second statement ends at its "-" without :62F:. */
	assert_int_equal(got_warned(g, STMT_W_MISSING_FIELD, ":62F:"), 1);
	free(g);
	g = text(ing, STMT_MT940, 1, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "INGEB2"));
	assert_int_equal(g->diag.line, 23);	/* its "-" */
	free(g);
	/* Before the header lines of the next message, "-" ends it too. */
	g = text(":20:A\n:25:1\n:13D:2001011200+0100\n"
	    ":61:2001010101C1,NTRFNONREF\n:86:text\n-\n"
	    "0000 01INGBNL2AXXXX00001\n940 00\n:20:B\n:25:1\n"
	    ":60F:C200101EUR1,\n:62F:C200101EUR1,\n-\n", STMT_MT942, 1,
	    STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_string_equal(g->tx[0].desc, "text");
	free(g);
}

/*
 * What stands before the first :20: must be a header line banks write
 * (SWIFT blocks of an MT940/MT942, a BIC, "940 00", ":940:"): anything
 * else is another kind of file, rejected at that line, not skipped.
 */
static void
mt940_header_lines_that_are_not_mt940(void **state)
{
	struct got	*g;

	(void)state;
	g = text("Datum;Bedrag;Omschrijving\n:20:X\n:25:1\n:60F:C200101EUR1,\n"
	    ":62F:C200101EUR1,\n", STMT_MT940, 0, STMT_REJECTED);
	assert_int_equal(g->diag.line, 1);
	assert_non_null(strstr(g->diag.msg, "Datum;Bedrag"));
	free(g);
	g = text("{1:F01BANKDEFFAXXX0000000000}{2:I950BANKDEFFXXXXN}{4:\n"
	    ":20:X\n:25:1\n:60F:C200101EUR1,\n:62F:C200101EUR1,\n-}\n",
	    STMT_MT940, 0, STMT_REJECTED);
	assert_int_equal(g->diag.line, 1);
	assert_non_null(strstr(g->diag.msg, "MT950"));
	free(g);
	/* Between two messages the same holds. */
	g = text(":20:X\n:25:1\n:60F:C200101EUR1,\n:62F:C200101EUR1,\n-\n"
	    "<html>\n:20:Y\n:25:1\n:60F:C200101EUR1,\n:62F:C200101EUR1,\n",
	    STMT_MT940, 0, STMT_REJECTED);
	assert_int_equal(g->diag.line, 6);
	free(g);
	/* The headers banks write pass. */
	g = text("ABNANL2A\n940\nABNANL2A\n0000 01INGBNL2AXXXX00001\n940 00\n"
	    ":940:\n:20:X\n:25:1\n:60F:C200101EUR1,\n:62F:C200101EUR1,\n-\n"
	    "ABNANL2A\n940\n:20:Y\n:25:1\n:60F:C200101EUR1,\n"
	    ":62F:C200101EUR1,\n-\n", STMT_MT940, 1, STMT_OK);
	assert_int_equal(g->nst, 2);
	free(g);
}

/* A camt.053 entry of its own, inside a statement with balances. */
#define CAMT_HEAD \
	"<?xml version=\"1.0\"?>\n" \
	"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n" \
	"<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>\n" \
	"<Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>" \
	"<Ccy>EUR</Ccy></Acct>\n"
#define CAMT_TAIL "</Stmt></BkToCstmrStmt></Document>\n"
#define NTRY(cdi, rvsl, inner) \
	"<Ntry><Amt Ccy=\"EUR\">10.00</Amt><CdtDbtInd>" cdi "</CdtDbtInd>" \
	rvsl "<Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt>" inner \
	"</Ntry>\n"

/*
 * camt.053 descriptions: remittance text first (Ustrd, AddtlRmtInf) with
 * the creditor reference after it, never dropped; without remittance
 * text, AddtlTxInf and AddtlNtryInf joined; the reference last.  Same
 * shapes as the German banks' files (no file by others with all of them
 * was found).
 */
static void
camt_description_order(void **state)
{
	static const char doc[] = CAMT_HEAD
	    NTRY("CRDT", "", "<NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf>"
	    "<Ref>RF18539007547034</Ref></CdtrRefInf><AddtlRmtInf>Rechnung 42"
	    "</AddtlRmtInf></Strd></RmtInf></TxDtls></NtryDtls>")
	    NTRY("CRDT", "", "<NtryDtls><TxDtls><RmtInf><Ustrd>Miete Januar"
	    "</Ustrd><Strd><CdtrRefInf><Ref>RF7112</Ref></CdtrRefInf></Strd>"
	    "</RmtInf></TxDtls></NtryDtls>")
	    NTRY("CRDT", "", "<NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf>"
	    "<Ref>RF99</Ref></CdtrRefInf></Strd></RmtInf><AddtlTxInf>"
	    "SEPA-Gutschrift</AddtlTxInf></TxDtls></NtryDtls>"
	    "<AddtlNtryInf>Gutschrift Online</AddtlNtryInf>")
	    NTRY("CRDT", "", "<NtryDtls><TxDtls><AddtlTxInf>Zins</AddtlTxInf>"
	    "</TxDtls></NtryDtls><AddtlNtryInf>Zins</AddtlNtryInf>")
	    CAMT_TAIL;
	struct got	*g;

	(void)state;
	g = text(doc, STMT_CAMT053, 1, STMT_OK);
	assert_int_equal(g->ntx, 4);
	assert_string_equal(g->tx[0].desc, "Rechnung 42 RF18539007547034");
	assert_string_equal(g->tx[1].desc, "Miete Januar RF7112");
	assert_string_equal(g->tx[2].desc,
	    "SEPA-Gutschrift Gutschrift Online RF99");
	/* The same text twice is said once. */
	assert_string_equal(g->tx[3].desc, "Zins");
	free(g);
}

/*
 * A reversal keeps its counterparty: the original's party when the bank
 * gives it, else the one it gives; and the entry's bank transaction code
 * wins over the TxDtls', which is kept beside it.
 */
static void
camt_reversal_party_and_codes(void **state)
{
	static const char doc[] = CAMT_HEAD
	    /* a direct debit returned: only the creditor named */
	    NTRY("CRDT", "<RvslInd>true</RvslInd>", "<BkTxCd><Domn><Cd>PMNT"
	    "</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>"
	    "</BkTxCd><NtryDtls><TxDtls><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>"
	    "IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn></BkTxCd>"
	    "<RltdPties><Cdtr><Nm>Stadtwerke</Nm></Cdtr><CdtrAcct><Id><IBAN>"
	    "DE02120300000000202051</IBAN></Id></CdtrAcct></RltdPties>"
	    "</TxDtls></NtryDtls>")
	    /* a reversal that names only the other side */
	    NTRY("CRDT", "<RvslInd>true</RvslInd>", "<NtryDtls><TxDtls>"
	    "<RltdPties><Dbtr><Nm>Versand GmbH</Nm></Dbtr></RltdPties>"
	    "</TxDtls></NtryDtls>")
	    CAMT_TAIL;
	struct got	*g;

	(void)state;
	g = text(doc, STMT_CAMT053, 1, STMT_OK);
	assert_int_equal(g->ntx, 2);
	assert_true(g->tx[0].reversal);
	assert_string_equal(g->tx[0].cp_name, "Stadtwerke");
	assert_string_equal(g->tx[0].cp_iban, "DE02120300000000202051");
	assert_string_equal(g->tx[0].btc, "PMNT-IDDT-UPDD");
	assert_string_equal(g->tx[0].dbtc, "PMNT-IDDT-ESDD");
	assert_string_equal(g->tx[1].cp_name, "Versand GmbH");
	assert_string_equal(g->tx[1].dbtc, "");
	free(g);
}

/*
 * A camt statement without entries or balances is no statement: skipped
 * with no_statement; one with balances only stays (a day without
 * movements).
 */
static void
camt_statement_without_entries(void **state)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
	    "\n<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>\n"
	    "<Stmt><Id>EMPTY</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN>"
	    "</Id></Acct></Stmt>\n"
	    "<Stmt><Id>QUIET</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN>"
	    "</Id></Acct><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
	    "<Amt Ccy=\"EUR\">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>"
	    "2024-01-02</Dt></Dt></Bal></Stmt>\n"
	    "</BkToCstmrStmt></Document>\n";
	struct got	*g;

	(void)state;
	g = text(doc, STMT_CAMT053, 1, STMT_OK);
	assert_int_equal(g->nst, 1);
	assert_string_equal(g->st[0].id, "QUIET");
	assert_int_equal(got_warned(g, STMT_W_NO_STATEMENT, "EMPTY"), 1);
	assert_int_equal(g->w[0].line, 4);
	free(g);
	/* A statement without account id: at the line of its Stmt. */
	g = text("<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:"
	    "20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n<Stmt>"
	    "<Id>NOACCT</Id>\n<Acct><Ccy>EUR</Ccy></Acct>\n"
	    NTRY("CRDT", "", "") "</Stmt></BkToCstmrStmt></Document>\n",
	    STMT_CAMT053, 1, STMT_REJECTED);
	assert_non_null(strstr(g->diag.msg, "NOACCT"));
	assert_int_equal(g->diag.line, 4);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mt940_rabobank_older_layout),
		cmocka_unit_test(mt940_space_before_the_structured_code),
		cmocka_unit_test(mt940_code_999_is_not_text),
		cmocka_unit_test(mt942_interim_report_of_a_bank),
		cmocka_unit_test(camt054_notification_of_a_bank),
		cmocka_unit_test(mt940_dash_line_inside_86),
		cmocka_unit_test(mt940_header_lines_that_are_not_mt940),
		cmocka_unit_test(camt_description_order),
		cmocka_unit_test(camt_reversal_party_and_codes),
		cmocka_unit_test(camt_statement_without_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
