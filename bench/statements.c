/*
 * statements: `bfbench statements DIR MEGABYTES` writes five statement
 * files of about MEGABYTES x 10^6 bytes each, of the same transactions:
 *   DIR/statements.camt053.xml   ISO 20022 camt.053.001.02, indented
 *   DIR/statements.mt940         SWIFT MT940, German :86: subfields, CRLF
 *   DIR/statements.ofx           OFX 1.02 SGML (one tag a line)
 *   DIR/statements.coda          Belgian CODA 2, 128-character records
 *   DIR/statements.bai2          BAI2, a text and an 88 per transaction
 * Each holds monthly statements of a run of checking accounts (12 months
 * each, then the next account), with opening and closing balances that
 * add up, so a parser's balance check passes.
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"

#define MONTH_MAX	1024	/* transactions in one monthly statement */
#define MONTHS_PER_ACCOUNT 12

/* One monthly statement of one account. */
struct stmt {
	unsigned	 account;	/* number, from 0 */
	unsigned	 seq;		/* statement number in the account's year */
	char		 iban[IBAN_MAX];
	char		 holder[64];
	long		 first, last;	/* days */
	int64_t		 open, close;	/* balances, cents */
	struct gen_txn	 t[MONTH_MAX];
	size_t		 n;
};

struct writer {
	const char	*file;
	void		(*begin)(FILE *);
	void		(*stmt)(FILE *, const struct stmt *);
	void		(*end)(FILE *);
};

/* "1234.56" (sep '.') or "1234,56" (sep ','), without sign. */
static void
amount(int64_t v, char sep, char out[32])
{
	unsigned long long a = (unsigned long long)(v < 0 ? -v : v);

	snprintf(out, 32, "%llu%c%02llu", a / 100, sep, a % 100);
}

static void
ymd(long day, char out[DAY_STRLEN])
{
	day_format(day, out);
}

/* YYMMDD for MT940. */
static void
yymmdd(long day, char out[8])
{
	int	y, m, d;

	day_to_civil(day, &y, &m, &d);
	snprintf(out, 8, "%02d%02d%02d", y % 100, m, d);
}

/* An OFX date-time at noon, Central European Time. */
static void
ofxdate(long day, char out[32])
{
	int	y, m, d;

	day_to_civil(day, &y, &m, &d);
	snprintf(out, 32, "%04d%02d%02d120000.000[+1:CET]", y, m, d);
}

/* Writes s with XML's five special characters escaped. */
static void
xml_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* ---- camt.053.001.02 ---- */

static void
camt_begin(FILE *f)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xsi:schemaLocation=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
	    " camt.053.001.02.xsd\">\n"
	    "  <BkToCstmrStmt>\n"
	    "    <GrpHdr>\n"
	    "      <MsgId>BENCH-CAMT-0000001</MsgId>\n"
	    "      <CreDtTm>2026-01-02T06:00:00.0+01:00</CreDtTm>\n"
	    "      <MsgPgntn>\n"
	    "        <PgNb>1</PgNb>\n"
	    "        <LastPgInd>true</LastPgInd>\n"
	    "      </MsgPgntn>\n"
	    "    </GrpHdr>\n", f);
}

static void
camt_balance(FILE *f, const char *code, int64_t v, long day)
{
	char	a[32], d[DAY_STRLEN];

	amount(v, '.', a);
	ymd(day, d);
	fprintf(f, "      <Bal>\n"
	    "        <Tp>\n"
	    "          <CdOrPrtry>\n"
	    "            <Cd>%s</Cd>\n"
	    "          </CdOrPrtry>\n"
	    "        </Tp>\n"
	    "        <Amt Ccy=\"EUR\">%s</Amt>\n"
	    "        <CdtDbtInd>%s</CdtDbtInd>\n"
	    "        <Dt>\n"
	    "          <Dt>%s</Dt>\n"
	    "        </Dt>\n"
	    "      </Bal>\n", code, a, v < 0 ? "DBIT" : "CRDT", d);
}

/* Our side and theirs, as the debtor or creditor of the payment. */
static void
camt_party(FILE *f, const char *role, const char *name, const char *iban)
{
	fprintf(f, "              <%s>\n"
	    "                <Nm>", role);
	xml_text(f, name);
	fprintf(f, "</Nm>\n"
	    "              </%s>\n"
	    "              <%sAcct>\n"
	    "                <Id>\n"
	    "                  <IBAN>%s</IBAN>\n"
	    "                </Id>\n"
	    "              </%sAcct>\n", role, role, iban, role);
}

static void
camt_entry(FILE *f, const struct stmt *s, const struct gen_txn *t)
{
	char	a[32], b[DAY_STRLEN], v[DAY_STRLEN];
	int	credit = t->amount > 0;

	amount(t->amount, '.', a);
	ymd(t->bday, b);
	ymd(t->vday, v);
	fprintf(f, "      <Ntry>\n"
	    "        <Amt Ccy=\"EUR\">%s</Amt>\n"
	    "        <CdtDbtInd>%s</CdtDbtInd>\n"
	    "        <Sts>BOOK</Sts>\n"
	    "        <BookgDt>\n"
	    "          <Dt>%s</Dt>\n"
	    "        </BookgDt>\n"
	    "        <ValDt>\n"
	    "          <Dt>%s</Dt>\n"
	    "        </ValDt>\n"
	    "        <AcctSvcrRef>%s</AcctSvcrRef>\n"
	    "        <BkTxCd>\n"
	    "          <Domn>\n"
	    "            <Cd>%s</Cd>\n"
	    "            <Fmly>\n"
	    "              <Cd>%s</Cd>\n"
	    "              <SubFmlyCd>%s</SubFmlyCd>\n"
	    "            </Fmly>\n"
	    "          </Domn>\n"
	    "          <Prtry>\n"
	    "            <Cd>%s+%s</Cd>\n"
	    "            <Issr>DK</Issr>\n"
	    "          </Prtry>\n"
	    "        </BkTxCd>\n"
	    "        <NtryDtls>\n"
	    "          <TxDtls>\n"
	    "            <Refs>\n"
	    "              <EndToEndId>%s</EndToEndId>\n", a,
	    credit ? "CRDT" : "DBIT", b, v, t->ref, t->iso_domain,
	    t->iso_family, t->iso_sub, t->swift, t->gvc, t->e2e);
	if (t->mandate[0] != '\0')
		fprintf(f, "              <MndtId>%s</MndtId>\n", t->mandate);
	fprintf(f, "            </Refs>\n"
	    "            <AmtDtls>\n"
	    "              <TxAmt>\n"
	    "                <Amt Ccy=\"EUR\">%s</Amt>\n"
	    "              </TxAmt>\n"
	    "            </AmtDtls>\n"
	    "            <RltdPties>\n", a);
	if (credit) {
		camt_party(f, "Dbtr", t->cp_name, t->cp_iban);
		camt_party(f, "Cdtr", s->holder, s->iban);
	} else {
		camt_party(f, "Dbtr", s->holder, s->iban);
		camt_party(f, "Cdtr", t->cp_name, t->cp_iban);
	}
	fprintf(f, "            </RltdPties>\n"
	    "            <RltdAgts>\n"
	    "              <%sAgt>\n"
	    "                <FinInstnId>\n"
	    "                  <BIC>%s</BIC>\n"
	    "                </FinInstnId>\n"
	    "              </%sAgt>\n"
	    "            </RltdAgts>\n"
	    "            <RmtInf>\n"
	    "              <Ustrd>", credit ? "Dbtr" : "Cdtr", t->cp_bic,
	    credit ? "Dbtr" : "Cdtr");
	xml_text(f, t->desc);
	fprintf(f, "</Ustrd>\n"
	    "            </RmtInf>\n"
	    "          </TxDtls>\n"
	    "        </NtryDtls>\n"
	    "        <AddtlNtryInf>%s</AddtlNtryInf>\n"
	    "      </Ntry>\n", t->posting);
}

static void
camt_stmt(FILE *f, const struct stmt *s)
{
	char	from[DAY_STRLEN], to[DAY_STRLEN];
	size_t	i;

	ymd(s->first, from);
	ymd(s->last, to);
	fprintf(f, "    <Stmt>\n"
	    "      <Id>%s-%04u-%02u</Id>\n"
	    "      <ElctrncSeqNb>%u</ElctrncSeqNb>\n"
	    "      <CreDtTm>%sT22:00:00.0+01:00</CreDtTm>\n"
	    "      <FrToDt>\n"
	    "        <FrDtTm>%sT00:00:00.0+01:00</FrDtTm>\n"
	    "        <ToDtTm>%sT23:59:59.9+01:00</ToDtTm>\n"
	    "      </FrToDt>\n"
	    "      <Acct>\n"
	    "        <Id>\n"
	    "          <IBAN>%s</IBAN>\n"
	    "        </Id>\n"
	    "        <Ccy>EUR</Ccy>\n"
	    "        <Ownr>\n"
	    "          <Nm>", s->iban + 12, s->account, s->seq, s->seq, to,
	    from, to, s->iban);
	xml_text(f, s->holder);
	fputs("</Nm>\n"
	    "        </Ownr>\n"
	    "        <Svcr>\n"
	    "          <FinInstnId>\n"
	    "            <BIC>SPKHDE2HXXX</BIC>\n"
	    "          </FinInstnId>\n"
	    "        </Svcr>\n"
	    "      </Acct>\n", f);
	camt_balance(f, "PRCD", s->open, s->first - 1);
	camt_balance(f, "CLBD", s->close, s->last);
	for (i = 0; i < s->n; i++)
		camt_entry(f, s, &s->t[i]);
	fputs("    </Stmt>\n", f);
}

static void
camt_end(FILE *f)
{
	fputs("  </BkToCstmrStmt>\n</Document>\n", f);
}

/* ---- MT940 ---- */

static void
mt940_begin(FILE *f)
{
	(void)f;
}

/* Appends "?NN" + up to 27 characters of each piece of v to the :86: text. */
static void
sub(char *out, size_t n, int *tag, int last_tag, const char *v)
{
	size_t	len = strlen(out), k;

	while (*v != '\0' && *tag <= last_tag && len + 32 < n) {
		len += (size_t)snprintf(out + len, n - len, "?%02d", *tag);
		for (k = 0; k < 27 && *v != '\0'; k++)
			out[len++] = *v++;
		out[len] = '\0';
		(*tag)++;
	}
}

/* The :86: field, wrapped at 65 characters a line as banks write it. */
static void
mt940_86(FILE *f, const struct gen_txn *t)
{
	char	txt[1024], buf[200];
	size_t	len, off, w;
	int	tag = 20;

	snprintf(txt, sizeof(txt), "%s?00%s?109310", t->gvc, t->posting);
	snprintf(buf, sizeof(buf), "EREF+%s", t->e2e);
	sub(txt, sizeof(txt), &tag, 29, buf);
	if (t->mandate[0] != '\0') {
		snprintf(buf, sizeof(buf), "MREF+%s", t->mandate);
		sub(txt, sizeof(txt), &tag, 29, buf);
		snprintf(buf, sizeof(buf), "CRED+%s", t->creditor_id);
		sub(txt, sizeof(txt), &tag, 29, buf);
	}
	snprintf(buf, sizeof(buf), "SVWZ+%s", t->desc);
	sub(txt, sizeof(txt), &tag, 29, buf);
	len = strlen(txt);
	snprintf(txt + len, sizeof(txt) - len, "?30%s?31%s", t->cp_bic,
	    t->cp_iban);
	tag = 32;
	sub(txt, sizeof(txt), &tag, 33, t->cp_name);
	len = strlen(txt);
	snprintf(txt + len, sizeof(txt) - len, "?34%s", t->mandate[0] ? "992" :
	    "000");
	len = strlen(txt);
	/* The first line has ":86:" before its 61 characters. */
	for (off = 0; off < len; off += w) {
		w = off == 0 ? 61 : 65;
		if (w > len - off)
			w = len - off;
		fprintf(f, "%s%.*s\r\n", off == 0 ? ":86:" : "", (int)w,
		    txt + off);
	}
}

static void
mt940_stmt(FILE *f, const struct stmt *s)
{
	char	a[32], d[8], e[8];
	size_t	i;
	int	y, m, dd;

	yymmdd(s->first - 1, d);
	amount(s->open, ',', a);
	fprintf(f, ":20:STARTUMSE\r\n"
	    ":25:25050180/%.10s\r\n"
	    ":28C:%05u/001\r\n"
	    ":60F:%c%sEUR%s\r\n", s->iban + 12, s->seq, s->open < 0 ? 'D' : 'C',
	    d, a);
	for (i = 0; i < s->n; i++) {
		const struct gen_txn *t = &s->t[i];

		yymmdd(t->vday, d);
		day_to_civil(t->bday, &y, &m, &dd);
		amount(t->amount, ',', a);
		snprintf(e, sizeof(e), "%02d%02d", m, dd);
		fprintf(f, ":61:%s%s%s%s%s%s//%s\r\n", d, e,
		    t->amount < 0 ? "D" : "C", a, t->swift,
		    t->mandate[0] ? t->mandate : "NONREF", t->ref);
		mt940_86(f, t);
	}
	yymmdd(s->last, d);
	amount(s->close, ',', a);
	fprintf(f, ":62F:%c%sEUR%s\r\n-\r\n", s->close < 0 ? 'D' : 'C', d, a);
}

static void
mt940_end(FILE *f)
{
	(void)f;
}

/* ---- OFX 1.02 ---- */

static void
ofx_begin(FILE *f)
{
	fputs("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n"
	    "SECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\n"
	    "COMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
	    "<OFX>\r\n<SIGNONMSGSRSV1>\r\n<SONRS>\r\n<STATUS>\r\n<CODE>0\r\n"
	    "<SEVERITY>INFO\r\n</STATUS>\r\n<DTSERVER>20260102060000.000[+1:CET]\r\n"
	    "<LANGUAGE>ENG\r\n<FI>\r\n<ORG>Sparkasse Neustadt\r\n<FID>25050180\r\n"
	    "</FI>\r\n</SONRS>\r\n</SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1>\r\n", f);
}

static void
ofx_stmt(FILE *f, const struct stmt *s)
{
	char	a[32], d[32], u[32];
	size_t	i;

	fprintf(f, "<STMTTRNRS>\r\n<TRNUID>%u%04u\r\n<STATUS>\r\n<CODE>0\r\n"
	    "<SEVERITY>INFO\r\n</STATUS>\r\n<STMTRS>\r\n<CURDEF>EUR\r\n"
	    "<BANKACCTFROM>\r\n<BANKID>25050180\r\n<ACCTID>%.10s\r\n"
	    "<ACCTTYPE>CHECKING\r\n</BANKACCTFROM>\r\n<BANKTRANLIST>\r\n",
	    s->account, s->seq, s->iban + 12);
	ofxdate(s->first, d);
	ofxdate(s->last, u);
	fprintf(f, "<DTSTART>%s\r\n<DTEND>%s\r\n", d, u);
	for (i = 0; i < s->n; i++) {
		const struct gen_txn *t = &s->t[i];

		amount(t->amount, '.', a);
		ofxdate(t->bday, d);
		ofxdate(t->vday, u);
		fprintf(f, "<STMTTRN>\r\n<TRNTYPE>%s\r\n<DTPOSTED>%s\r\n"
		    "<DTUSER>%s\r\n<TRNAMT>%s%s\r\n<FITID>%s\r\n"
		    "<NAME>%.32s\r\n<MEMO>", t->ofx_type, d, u,
		    t->amount < 0 ? "-" : "", a, t->bank_id, t->cp_name);
		xml_text(f, t->desc);
		fputs("\r\n</STMTTRN>\r\n", f);
	}
	amount(s->close, '.', a);
	ofxdate(s->last, d);
	fprintf(f, "</BANKTRANLIST>\r\n<LEDGERBAL>\r\n<BALAMT>%s%s\r\n"
	    "<DTASOF>%s\r\n</LEDGERBAL>\r\n</STMTRS>\r\n</STMTTRNRS>\r\n",
	    s->close < 0 ? "-" : "", a, d);
}

static void
ofx_end(FILE *f)
{
	fputs("</BANKMSGSRSV1>\r\n</OFX>\r\n", f);
}

/* ---- CODA 2 (Belgium) ---- */

/* One 128-character record: (position, text) pairs, then 0. */
static void
coda_rec(FILE *f, ...)
{
	char	r[129];
	va_list	ap;
	int	pos;

	memset(r, ' ', 128);
	r[128] = '\0';
	va_start(ap, f);
	while ((pos = va_arg(ap, int)) > 0) {
		const char	*v = va_arg(ap, const char *);
		size_t		 n = strlen(v);

		if (n > (size_t)(129 - pos))
			n = (size_t)(129 - pos);
		memcpy(r + pos - 1, v, n);
	}
	va_end(ap);
	fprintf(f, "%s\r\n", r);
}

/* DDMMYY for CODA. */
static void
ddmmyy(long day, char out[8])
{
	int	y, m, d;

	day_to_civil(day, &y, &m, &d);
	snprintf(out, 8, "%02d%02d%02d", d, m, y % 100);
}

/* Sign digit and 15 digits of thousandths. */
static void
coda_amount(int64_t v, char out[20])
{
	unsigned long long a = (unsigned long long)(v < 0 ? -v : v) * 10;

	snprintf(out, 20, "%c%015llu", v < 0 ? '1' : '0', a);
}

static void
coda_begin(FILE *f)
{
	(void)f;
}

/* A statement is a whole CODA file: header to trailer. */
static void
coda_stmt(FILE *f, const struct stmt *s)
{
	char		 d[8], e[8], a[20], seq[8], mv[8], c1[54], c2[54], c3[44];
	unsigned long long deb = 0, cred = 0;
	size_t		 i, n;

	ddmmyy(s->last, d);
	snprintf(seq, sizeof(seq), "%03u", s->seq);
	coda_rec(f, 1, "00000", 6, d, 12, "300", 15, "05", 35, "BANKFEED BENCH",
	    61, "BBRUBEBB", 128, "2", 0);
	ddmmyy(s->first - 1, d);
	coda_amount(s->open, a);
	coda_rec(f, 1, "13", 3, seq, 6, s->iban, 40, "EUR", 43, a, 59, d,
	    65, s->holder, 91, "Zichtrekening", 126, seq, 0);
	for (i = 0; i < s->n; i++) {
		const struct gen_txn *t = &s->t[i];

		snprintf(mv, sizeof(mv), "%04zu", (i + 1) % 10000);
		ddmmyy(t->vday, d);
		ddmmyy(t->bday, e);
		coda_amount(t->amount, a);
		if (t->amount < 0)
			deb += (unsigned long long)-t->amount * 10;
		else
			cred += (unsigned long long)t->amount * 10;
		n = strlen(t->desc);
		snprintf(c1, sizeof(c1), "%.53s", t->desc);
		snprintf(c2, sizeof(c2), "%.53s", n > 53 ? t->desc + 53 : "");
		snprintf(c3, sizeof(c3), "%.43s", n > 106 ? t->desc + 106 : "");
		coda_rec(f, 1, "21", 3, mv, 7, "0000", 11, t->ref, 32, a, 48, d,
		    54, "00150000", 62, "0", 63, c1, 116, e, 122, seq, 125, "0",
		    126, "1", 128, "0", 0);
		coda_rec(f, 1, "22", 3, mv, 7, "0000", 11, c2, 64, t->e2e,
		    99, t->cp_bic ? t->cp_bic : "", 126, "1", 128, "0", 0);
		coda_rec(f, 1, "23", 3, mv, 7, "0000", 11, t->cp_iban, 48,
		    t->cp_name, 83, c3, 126, "0", 128, "0", 0);
	}
	ddmmyy(s->last, d);
	coda_amount(s->close, a);
	coda_rec(f, 1, "8", 2, seq, 5, s->iban, 39, "EUR", 42, a, 58, d, 0);
	snprintf(c1, sizeof(c1), "%06zu", (s->n * 3 + 2) % 1000000);
	snprintf(c2, sizeof(c2), "%015llu", deb);
	snprintf(c3, sizeof(c3), "%015llu", cred);
	coda_rec(f, 1, "9", 17, c1, 23, c2, 38, c3, 128, "2", 0);
}

static void
coda_end(FILE *f)
{
	(void)f;
}

/* ---- BAI2 ---- */

/* The file's running control total and counts, for 98 and 99. */
static long long	bai2_total, bai2_records, bai2_groups;

static void
bai2_begin(FILE *f)
{
	bai2_total = bai2_groups = 0;
	bai2_records = 1;
	fputs("01,BANKFEED,BENCH,260102,0600,1,,,2/\n", f);
}

/* A statement is a group: the as-of date is its last day. */
static void
bai2_stmt(FILE *f, const struct stmt *s)
{
	char		 d[8], v[8];
	long long	 total = s->open + s->close, n = 2;
	size_t		 i;

	yymmdd(s->last, d);
	fprintf(f, "02,BENCH,BANKFEED,1,%s,2400,EUR,2/\n"
	    "03,%s,EUR,010,%lld,,,015,%lld,,/\n", d, s->iban,
	    (long long)s->open, (long long)s->close);
	for (i = 0; i < s->n; i++) {
		const struct gen_txn *t = &s->t[i];
		long long	a = t->amount < 0 ? -t->amount : t->amount;

		yymmdd(t->vday, v);
		fprintf(f, "16,%s,%lld,V,%s,,%s,%.16s,%s/\n88,%s %s/\n",
		    t->amount < 0 ? "495" : "195", a, v, t->ref,
		    t->e2e, t->desc, t->cp_name, t->cp_iban);
		total += a;
		n += 2;
	}
	fprintf(f, "49,%lld,%lld/\n98,%lld,1,%lld/\n", total, n, total, n + 2);
	bai2_total += total;
	bai2_records += n + 2;
	bai2_groups++;
}

static void
bai2_end(FILE *f)
{
	fprintf(f, "99,%lld,%lld,%lld/\n", bai2_total, bai2_groups,
	    bai2_records + 1);
}

static const struct writer writers[] = {
	{ "statements.camt053.xml", camt_begin, camt_stmt, camt_end },
	{ "statements.mt940", mt940_begin, mt940_stmt, mt940_end },
	{ "statements.ofx", ofx_begin, ofx_stmt, ofx_end },
	{ "statements.coda", coda_begin, coda_stmt, coda_end },
	{ "statements.bai2", bai2_begin, bai2_stmt, bai2_end },
};

/* The statement after s: the next month, or the next account's first. */
static void
next_stmt(struct stmt *s, struct gen *g, struct gen_txn *carry, int *has)
{
	int	y, m, d;
	size_t	i;

	if (s->seq == 0 || s->seq == MONTHS_PER_ACCOUNT) {
		if (s->seq != 0)
			s->account++;
		s->seq = 0;
		gen_account(s->account, s->iban, s->holder);
		gen_init(g, 0x57a7e000ULL + s->account,
		    day_from_civil(2025, 1, 1), 14);
		s->close = 150000 + (int64_t)(s->account % 97) * 1234;
		*has = 0;
	}
	s->seq++;
	s->open = s->close;
	day_to_civil(s->seq == 1 ? day_from_civil(2025, 1, 1) : s->last + 1,
	    &y, &m, &d);
	s->first = day_from_civil(y, m, 1);
	s->last = s->first + day_month_length(y, m) - 1;
	s->n = 0;
	for (;;) {
		if (!*has)
			gen_next(g, carry);
		*has = 1;
		if (carry->bday > s->last)
			break;
		if (s->n < MONTH_MAX)
			s->t[s->n++] = *carry;
		*has = 0;
	}
	for (i = 0, s->close = s->open; i < s->n; i++)
		s->close += s->t[i].amount;
}

static int
write_file(const char *dir, const struct writer *w, long long bytes)
{
	static struct stmt	 s;
	struct gen		 g;
	struct gen_txn		 carry;
	char			 path[4096];
	FILE			*f;
	int			 has = 0;
	long long		 ntxn = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, w->file);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	memset(&s, 0, sizeof(s));
	w->begin(f);
	while (ftell(f) < bytes) {
		next_stmt(&s, &g, &carry, &has);
		w->stmt(f, &s);
		ntxn += (long long)s.n;
	}
	w->end(f);
	if (ferror(f) || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	printf("%s transactions=%lld\n", w->file, ntxn);
	return 0;
}

int
cmd_statements(int argc, char **argv)
{
	long long	mb;
	size_t		i;

	if (argc != 3 || (mb = strtoll(argv[2], NULL, 10)) < 1 || mb > 10000) {
		fprintf(stderr, "usage: bfbench statements DIR MEGABYTES "
		    "(1-10000)\n");
		return 2;
	}
	for (i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
		if (write_file(argv[1], &writers[i], mb * 1000000) == -1)
			return 1;
	return 0;
}
