/*
 * gen_statements: writes a realistic statement file of about SIZE
 * megabytes to stdout, for measuring the parsers (issue 6, item 3).
 *
 *	cc -O2 -o gen bench/gen_statements.c
 *	./gen camt053 100 > /tmp/bench.xml
 *	./gen mt940 100 > /tmp/bench.sta
 *	./gen ofx 100 > /tmp/bench.ofx
 *
 * Standalone on purpose (no bankfeed headers, no CMake target): the
 * output is the same for the same arguments (a fixed-seed generator), and
 * every statement adds up (opening + transactions = closing), so a parser
 * spends its time on the transactions, not on warnings.
 *
 * camt.053: statements of 2,000 entries, each with NtryDtls/TxDtls (Refs,
 *   AmtDtls, RltdPties with names and IBANs, RltdAgts, RmtInf/Ustrd,
 *   Purp), one entry in ten a batch of three TxDtls; UTF-8 names, some
 *   with &amp;.
 * MT940: German bank style, CRLF, daily statements of 200 :61:/:86:
 *   pairs; :86: is the structured GVC?00..?32 form with SEPA keywords
 *   (EREF+, MREF+, CRED+, SVWZ+) wrapped over ?20..?29, names with
 *   ISO-8859-1 umlauts in one statement in four (as many German banks
 *   still send).
 * OFX: 1.x SGML (OFXHEADER:100, unclosed leaf tags), CRLF, statements of
 *   5,000 STMTTRN with TRNTYPE, DTPOSTED, DTUSER, TRNAMT, FITID,
 *   CHECKNUM/REFNUM now and then, NAME, BANKACCTTO, MEMO.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;
static uint64_t	written;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#include <stdarg.h>

static void
out(const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n > 0)
		written += (uint64_t)n;
}

static const char *const first_utf8[] = {
	"Anna", "Jörg", "Müller", "Sören", "Zoë", "François", "Łukasz", "Ana",
	"Peter", "Jürgen", "Renée", "Björn", "Max", "Grete", "Ömer", "Lena",
};
static const char *const first_ascii[] = {
	"Anna", "Joerg", "Peter", "Max", "Lena", "Paul", "Eva", "Tim",
	"Clara", "Jan", "Sophie", "Lukas", "Marie", "Felix", "Emma", "Noah",
};
static const char *const last[] = {
	"Schmidt", "Meyer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch",
	"Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Braun",
	"Krueger", "Hartmann",
};
static const char *const companies[] = {
	"Stadtwerke Muenchen GmbH", "Deutsche Telekom AG", "Allianz Versicherung",
	"REWE Markt GmbH", "Amazon EU S.a.r.l.", "Finanzamt Berlin", "Vodafone GmbH",
	"ADAC e.V.", "Netflix International B.V.", "DB Vertrieb GmbH",
	"Mueller & Soehne KG", "Edeka Zentrale AG & Co. KG",
};
static const char *const purposes[] = {
	"Rechnung", "Miete", "Strom", "Gehalt", "Beitrag", "Abo", "Bestellung",
	"Erstattung", "Darlehen", "Versicherung",
};
static const char *const months[] = {
	"Januar", "Februar", "Maerz", "April", "Mai", "Juni", "Juli",
	"August", "September", "Oktober", "November", "Dezember",
};

static void
iban(char out_[23])
{
	snprintf(out_, 23, "DE%02u%08u%010u", 10 + rnd(89),
	    10000000 + rnd(89999999), rnd(2000000000));
}

/* A date d days after 2021-01-01 (30-day months are fine for a bench). */
static void
date(unsigned d, int *y, int *m, int *dd)
{
	*y = 2021 + (int)(d / 360);
	*m = 1 + (int)(d / 30 % 12);
	*dd = 1 + (int)(d % 28);
}

static int64_t
amount(void)
{
	/* Mostly small, some large, in cents. */
	return rnd(10) == 0 ? 100000 + rnd(500000) : 100 + rnd(20000);
}

/* ------------------------------------------------------------ camt.053 */

static void
camt_party(const char *role, int utf8)
{
	char	ib[23];

	iban(ib);
	if (rnd(3) == 0) {
		const char	*c = companies[rnd(sizeof(companies) /
				    sizeof(companies[0]))], *amp;

		/* "Mueller & Soehne KG": the & as XML wants it. */
		out("<%s><Nm>", role);
		while ((amp = strchr(c, '&')) != NULL) {
			out("%.*s&amp;", (int)(amp - c), c);
			c = amp + 1;
		}
		out("%s</Nm></%s>", c, role);
	} else
		out("<%s><Nm>%s %s</Nm><PstlAdr><Ctry>DE</Ctry></PstlAdr></%s>",
		    role, utf8 ? first_utf8[rnd(16)] : first_ascii[rnd(16)],
		    last[rnd(16)], role);
	out("\n                <%sAcct><Id><IBAN>%s</IBAN></Id></%sAcct>\n",
	    role, ib, role);
}

static void
camt_txdtls(unsigned n, int64_t amt, int credit, int own_amount)
{
	out("            <TxDtls>\n"
	    "              <Refs><MsgId>MSG%08u</MsgId><AcctSvcrRef>TX%010u"
	    "</AcctSvcrRef><EndToEndId>E2E-%08u-%u</EndToEndId>"
	    "<MndtId>MNDT-%06u</MndtId></Refs>\n", n, n * 7 + 1, n, rnd(100),
	    rnd(1000000));
	if (own_amount)
		out("              <Amt Ccy=\"EUR\">%lld.%02lld</Amt>"
		    "<CdtDbtInd>%s</CdtDbtInd>\n", (long long)(amt / 100),
		    (long long)(amt % 100), credit ? "CRDT" : "DBIT");
	out("              <AmtDtls><TxAmt><Amt Ccy=\"EUR\">%lld.%02lld</Amt>"
	    "</TxAmt></AmtDtls>\n", (long long)(amt / 100),
	    (long long)(amt % 100));
	out("              <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>%s</Cd>"
	    "<SubFmlyCd>%s</SubFmlyCd></Fmly></Domn></BkTxCd>\n",
	    credit ? "RCDT" : "IDDT", credit ? "ESCT" : "ESDD");
	out("              <RltdPties>\n                ");
	camt_party("Dbtr", rnd(4) == 0);
	out("                ");
	camt_party("Cdtr", rnd(4) == 0);
	out("              </RltdPties>\n"
	    "              <RltdAgts><DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC>"
	    "</FinInstnId></DbtrAgt></RltdAgts>\n"
	    "              <Purp><Cd>%s</Cd></Purp>\n"
	    "              <RmtInf><Ustrd>%s %s %u Kd-Nr. %u</Ustrd>",
	    credit ? "SALA" : "OTHR", purposes[rnd(10)], months[rnd(12)],
	    2021 + rnd(3), rnd(10000000));
	if (rnd(3) == 0)
		out("<Ustrd>Vielen Dank fuer Ihre Zahlung &amp; Ihr Vertrauen"
		    "</Ustrd>");
	out("</RmtInf>\n"
	    "              <AddtlTxInf>SEPA %s</AddtlTxInf>\n"
	    "            </TxDtls>\n", credit ? "GUTSCHRIFT" : "LASTSCHRIFT");
}

static void
gen_camt(uint64_t size)
{
	unsigned	stmt = 0, n = 0, day = 0, i;
	int64_t		bal = 10000000, amts[2000];
	int		y, m, d, credits[2000];

	out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\""
	    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	    "  <BkToCstmrStmt>\n"
	    "    <GrpHdr><MsgId>BENCH-CAMT</MsgId>"
	    "<CreDtTm>2024-01-01T06:00:00</CreDtTm></GrpHdr>\n");
	while (written < size) {
		int64_t	open = bal;

		date(day, &y, &m, &d);
		out("    <Stmt>\n"
		    "      <Id>STMT-%06u</Id><ElctrncSeqNb>%u</ElctrncSeqNb>"
		    "<CreDtTm>%04d-%02d-%02dT06:00:00</CreDtTm>\n"
		    "      <FrToDt><FrDtTm>%04d-%02d-%02dT00:00:00</FrDtTm>"
		    "<ToDtTm>%04d-%02d-%02dT23:59:59</ToDtTm></FrToDt>\n"
		    "      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
		    "<Ccy>EUR</Ccy><Ownr><Nm>Max Mustermann</Nm></Ownr>"
		    "<Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI>"
		    "</FinInstnId></Svcr></Acct>\n", stmt, stmt + 1, y, m, d,
		    y, m, d, y, m, d);
		/* Bal comes before Ntry: draw the amounts first. */
		{
			int64_t	close = open;

			for (i = 0; i < 2000; i++) {
				amts[i] = amount();
				credits[i] = rnd(3) == 0;
				close += credits[i] ? amts[i] : -amts[i];
			}
			out("      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry>"
			    "</Tp><Amt Ccy=\"EUR\">%lld.%02lld</Amt>"
			    "<CdtDbtInd>%s</CdtDbtInd><Dt><Dt>%04d-%02d-%02d</Dt>"
			    "</Dt></Bal>\n", (long long)(llabs(open) / 100),
			    (long long)(llabs(open) % 100), open < 0 ? "DBIT" :
			    "CRDT", y, m, d);
			out("      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry>"
			    "</Tp><Amt Ccy=\"EUR\">%lld.%02lld</Amt>"
			    "<CdtDbtInd>%s</CdtDbtInd><Dt><Dt>%04d-%02d-%02d</Dt>"
			    "</Dt></Bal>\n", (long long)(llabs(close) / 100),
			    (long long)(llabs(close) % 100), close < 0 ? "DBIT" :
			    "CRDT", y, m, d);
			bal = close;
		}
		for (i = 0; i < 2000; i++) {
			int64_t	a = amts[i];
			int	credit = credits[i], batch = rnd(10) == 0;

			n++;
			out("      <Ntry>\n"
			    "        <NtryRef>%u</NtryRef>\n"
			    "        <Amt Ccy=\"EUR\">%lld.%02lld</Amt>\n"
			    "        <CdtDbtInd>%s</CdtDbtInd>\n"
			    "        <Sts><Cd>BOOK</Cd></Sts>\n"
			    "        <BookgDt><Dt>%04d-%02d-%02d</Dt></BookgDt>\n"
			    "        <ValDt><Dt>%04d-%02d-%02d</Dt></ValDt>\n"
			    "        <AcctSvcrRef>%010u</AcctSvcrRef>\n"
			    "        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>%s</Cd>"
			    "<SubFmlyCd>%s</SubFmlyCd></Fmly></Domn><Prtry>"
			    "<Cd>NTRF+%03u</Cd><Issr>DK</Issr></Prtry></BkTxCd>\n"
			    "        <NtryDtls>\n", n, (long long)(a / 100),
			    (long long)(a % 100), credit ? "CRDT" : "DBIT", y, m,
			    d, y, m, d, n, credit ? "RCDT" : "IDDT",
			    credit ? "ESCT" : "ESDD", 100 + rnd(100));
			if (batch) {
				/* Three parts that add up to the entry. */
				int64_t	p1 = a / 3, p2 = a / 3, p3 = a - p1 - p2;

				out("          <Btch><NbOfTxs>3</NbOfTxs></Btch>\n");
				camt_txdtls(n, p1, credit, 1);
				camt_txdtls(n, p2, credit, 1);
				camt_txdtls(n, p3, credit, 1);
			} else
				camt_txdtls(n, a, credit, 0);
			out("        </NtryDtls>\n"
			    "        <AddtlNtryInf>%s</AddtlNtryInf>\n"
			    "      </Ntry>\n", credit ? "SEPA-GUTSCHRIFT" :
			    "SEPA-LASTSCHRIFT");
		}
		out("    </Stmt>\n");
		stmt++;
		day++;
	}
	out("  </BkToCstmrStmt>\n</Document>\n");
}

/* --------------------------------------------------------------- MT940 */

/* Writes a German :86: with subfields wrapped like a bank does. */
static void
mt_86(unsigned n, int credit, int latin1)
{
	char		 text[512], ib[23];
	const char	*p;
	size_t		 len;
	int		 sub = 20;
	static const char *const umlaut_names[] = {
		"M\xfcller", "J\xfcrgen", "K\xf6hler", "B\xe4" "cker", "Stra\xdf" "e",
	};

	iban(ib);
	out(":86:%s?00%s?10%u\r\n", credit ? "166" : "105",
	    credit ? "SEPA-UEBERWEISUNG" : "SEPA-BASISLASTSCHRIFT", 900 + rnd(99));
	len = (size_t)snprintf(text, sizeof(text), "EREF+E2E-%08u-%u"
	    "MREF+M-%06uCRED+DE98ZZZ%011uSVWZ+%s %s %u Kd-Nr. %u %s", n,
	    rnd(100), rnd(1000000), rnd(2000000000), purposes[rnd(10)],
	    months[rnd(12)], 2021 + rnd(3), rnd(10000000),
	    latin1 ? umlaut_names[rnd(5)] : last[rnd(16)]);
	/* ?20..?29 carry 27 characters each. */
	for (p = text; len > 0 && sub <= 29; sub++) {
		size_t	k = len > 27 ? 27 : len;

		out("?%d%.*s\r\n", sub, (int)k, p);
		p += k;
		len -= k;
	}
	out("?30COBADEFFXXX?31%s\r\n?32%s %s\r\n", ib,
	    first_ascii[rnd(16)], latin1 ? umlaut_names[rnd(5)] : last[rnd(16)]);
	if (rnd(4) == 0)
		out("?33Berlin\r\n");
}

static void
gen_mt940(uint64_t size)
{
	unsigned	stmt = 0, n = 0, day = 0, i;
	int64_t		bal = 10000000;
	int		y, m, d;

	while (written < size) {
		int64_t		open = bal;
		int		latin1 = stmt % 4 == 3;

		date(day, &y, &m, &d);
		out(":20:STARTUMSE\r\n:25:37040044/0532013000\r\n"
		    ":28C:%05u/001\r\n:60F:%c%02d%02d%02dEUR%lld,%02lld\r\n",
		    stmt + 1, open < 0 ? 'D' : 'C', y % 100, m, d,
		    (long long)(llabs(open) / 100), (long long)(llabs(open) % 100));
		for (i = 0; i < 200; i++) {
			int64_t	a = amount();
			int	credit = rnd(3) == 0;

			n++;
			bal += credit ? a : -a;
			out(":61:%02d%02d%02d%02d%02d%c%lld,%02lld%s%s//%010u\r\n",
			    y % 100, m, d, m, d, credit ? 'C' : 'D',
			    (long long)(a / 100), (long long)(a % 100),
			    credit ? "NTRF" : "NDDT", rnd(5) == 0 ? "NONREF" :
			    "KREF4711", n);
			if (rnd(8) == 0)
				out("/OCMT/EUR%lld,%02lld/\r\n", (long long)(a / 100),
				    (long long)(a % 100));
			mt_86(n, credit, latin1);
		}
		out(":62F:%c%02d%02d%02dEUR%lld,%02lld\r\n-\r\n",
		    bal < 0 ? 'D' : 'C', y % 100, m, d,
		    (long long)(llabs(bal) / 100), (long long)(llabs(bal) % 100));
		stmt++;
		day++;
	}
}

/* ----------------------------------------------------------------- OFX */

static void
gen_ofx(uint64_t size)
{
	unsigned	stmt = 0, n = 0, day = 0, i;
	int64_t		bal = 10000000;
	int		y, m, d;
	static const char *const types[] = { "DEBIT", "CREDIT", "POS", "ATM",
		"XFER", "CHECK", "PAYMENT", "DIRECTDEBIT", "FEE", "INT" };

	out("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\n"
	    "ENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\n"
	    "OLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
	    "<OFX>\r\n<SIGNONMSGSRSV1>\r\n<SONRS>\r\n<STATUS>\r\n<CODE>0\r\n"
	    "<SEVERITY>INFO\r\n</STATUS>\r\n<DTSERVER>20240101120000[0:GMT]\r\n"
	    "<LANGUAGE>ENG\r\n</SONRS>\r\n</SIGNONMSGSRSV1>\r\n"
	    "<BANKMSGSRSV1>\r\n");
	while (written < size) {
		date(day, &y, &m, &d);
		out("<STMTTRNRS>\r\n<TRNUID>%u\r\n<STATUS>\r\n<CODE>0\r\n"
		    "<SEVERITY>INFO\r\n</STATUS>\r\n<STMTRS>\r\n<CURDEF>EUR\r\n"
		    "<BANKACCTFROM>\r\n<BANKID>37040044\r\n"
		    "<ACCTID>DE89370400440532013000\r\n<ACCTTYPE>CHECKING\r\n"
		    "</BANKACCTFROM>\r\n<BANKTRANLIST>\r\n"
		    "<DTSTART>%04d%02d%02d\r\n<DTEND>%04d%02d%02d\r\n",
		    stmt + 1, y, m, d, y, m, d);
		for (i = 0; i < 5000; i++) {
			int64_t		 a = amount();
			int		 credit = rnd(3) == 0;
			const char	*t = types[rnd(10)];
			char		 ib[23];

			n++;
			bal += credit ? a : -a;
			out("<STMTTRN>\r\n<TRNTYPE>%s\r\n"
			    "<DTPOSTED>%04d%02d%02d120000.000[-5:EST]\r\n"
			    "<DTUSER>%04d%02d%02d\r\n<TRNAMT>%s%lld.%02lld\r\n"
			    "<FITID>%04d%02d%02d%010u\r\n", t, y, m, d, y, m, d,
			    credit ? "" : "-", (long long)(a / 100),
			    (long long)(a % 100), y, m, d, n);
			if (t[0] == 'C' && t[1] == 'H')
				out("<CHECKNUM>%u\r\n", 1000 + rnd(9000));
			else if (rnd(4) == 0)
				out("<REFNUM>REF%08u\r\n", rnd(100000000));
			if (rnd(3) == 0)
				out("<NAME>%s\r\n", companies[rnd(12)]);
			else
				out("<NAME>%s %s\r\n", first_ascii[rnd(16)],
				    last[rnd(16)]);
			if (rnd(4) == 0) {
				iban(ib);
				out("<BANKACCTTO>\r\n<BANKID>37040044\r\n"
				    "<ACCTID>%s\r\n<ACCTTYPE>CHECKING\r\n"
				    "</BANKACCTTO>\r\n", ib);
			}
			out("<MEMO>%s %s %u Kd-Nr. %u\r\n</STMTTRN>\r\n",
			    purposes[rnd(10)], months[rnd(12)], 2021 + rnd(3),
			    rnd(10000000));
		}
		out("</BANKTRANLIST>\r\n<LEDGERBAL>\r\n<BALAMT>%s%lld.%02lld\r\n"
		    "<DTASOF>%04d%02d%02d\r\n</LEDGERBAL>\r\n</STMTRS>\r\n"
		    "</STMTTRNRS>\r\n", bal < 0 ? "-" : "",
		    (long long)(llabs(bal) / 100), (long long)(llabs(bal) % 100),
		    y, m, d);
		stmt++;
		day++;
	}
	out("</BANKMSGSRSV1>\r\n</OFX>\r\n");
}

int
main(int argc, char **argv)
{
	uint64_t	size;

	if (argc != 3 || (size = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: gen camt053|mt940|ofx MEGABYTES\n");
		return 2;
	}
	size *= 1000 * 1000;
	if (strcmp(argv[1], "camt053") == 0)
		gen_camt(size);
	else if (strcmp(argv[1], "mt940") == 0)
		gen_mt940(size);
	else if (strcmp(argv[1], "ofx") == 0)
		gen_ofx(size);
	else {
		fprintf(stderr, "gen: unknown format %s\n", argv[1]);
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
