/*
 * Memory stays bounded whatever the size of the file: large statements
 * are generated on the fly by a child process into a pipe (so the input
 * itself never sits in this process), parsed with a counting sink, and the
 * growth of the peak RSS (getrusage ru_maxrss) is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "formats/formats.h"

#ifdef __SANITIZE_ADDRESS__
/*
 * ASan keeps freed memory in a quarantine (256 MB by default) that would
 * read as growth here; a small one still catches use after free.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=4";
}
#endif

#define MB		(1024 * 1024)

/* Sanitizers run the parsers ~5x slower: smaller files there. */
#ifdef __SANITIZE_ADDRESS__
#define BIG_MT940	(20 * MB)
#define BIG_OTHER	(8 * MB)
#else
#define BIG_MT940	(50 * MB)
#define BIG_OTHER	(20 * MB)
#endif
#define RSS_LIMIT_KB	(64 * 1024)	/* peak growth allowed, in KiB */

struct count {
	size_t	stmts, txns, warnings;
	int64_t	sum;
};

static int
c_begin(void *arg, const struct stmt_info *i, const struct rec_account *a)
{
	(void)i;
	(void)a;
	((struct count *)arg)->stmts++;
	return 0;
}

static int
c_txn(void *arg, const struct stmt_info *i, const struct stmt_txn *t)
{
	struct count	*c = arg;

	(void)i;
	c->txns++;
	c->sum += t->rec.amount;
	return 0;
}

static int
c_warn(void *arg, const struct stmt_warning *w)
{
	(void)w;
	((struct count *)arg)->warnings++;
	return 0;
}

static long
maxrss_kb(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

typedef void (*gen_fn)(FILE *, size_t);

/* Parses what gen writes for `size` bytes; returns the RSS growth in KiB. */
static long
parse_generated(gen_fn gen, size_t size, enum stmt_format fmt,
    struct count *c)
{
	struct stmt_sink	 sink = { c, c_begin, c_txn, NULL, NULL, c_warn,
				    0 };
	struct stmt_diag	 d;
	int			 p[2], status;
	pid_t			 pid;
	FILE			*in;
	long			 before;
	enum stmt_rc		 rc;
	char			 msg[STMT_MSGLEN + 64];

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE	*out;

		close(p[0]);
		if ((out = fdopen(p[1], "wb")) == NULL)
			_exit(1);
		gen(out, size);
		_exit(fclose(out) == 0 ? 0 : 1);
	}
	close(p[1]);
	assert_non_null(in = fdopen(p[0], "rb"));
	before = maxrss_kb();
	rc = stmt_parse(in, fmt, &sink, &d);
	if (rc != STMT_OK)
		print_error("%s\n", stmt_diag_str(&d, msg, sizeof(msg)));
	assert_int_equal(rc, STMT_OK);
	fclose(in);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return maxrss_kb() - before;
}

/* MT940: statements of 1000 transactions with German ?-subfields. */
static void
gen_mt940(FILE *f, size_t size)
{
	size_t	written = 0, s, t;

	for (s = 0; written < size; s++) {
		written += (size_t)fprintf(f, ":20:STMT%zu\r\n:25:DE8937040044053"
		    "2013000\r\n:28C:%zu/1\r\n:60F:C240101EUR0,00\r\n", s, s);
		for (t = 0; t < 1000; t++)
			written += (size_t)fprintf(f,
			    ":61:2401020102C1,23NTRFNONREF//REF%zu\r\n"
			    ":86:166?00GUTSCHRIFT?20EREF+E2E%zu?21SVWZ+Rechnung "
			    "%zu vom?22 2. Januar 2024?32Erika Mustermann\r\n"
			    "?31DE12500105170648489890\r\n", t, t, t);
		written += (size_t)fprintf(f, ":62F:C240102EUR1230,00\r\n-\r\n");
	}
}

/* camt.053: one statement of many entries, and one 20000-TxDtls batch. */
static void
gen_camt(FILE *f, size_t size)
{
	size_t	written = 0, n, k;

	written += (size_t)fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">"
	    "<BkToCstmrStmt><GrpHdr><MsgId>BIG</MsgId></GrpHdr><Stmt><Id>BIG-1"
	    "</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR"
	    "</Ccy></Acct>\n");
	written += (size_t)fprintf(f, "<Ntry><Amt Ccy=\"EUR\">20000.00</Amt>"
	    "<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>"
	    "2024-01-02</Dt></BookgDt><AcctSvcrRef>B</AcctSvcrRef><NtryDtls>\n");
	for (k = 0; k < 20000; k++)
		written += (size_t)fprintf(f, "<TxDtls><Amt Ccy=\"EUR\">1.00</Amt>"
		    "<RltdPties><Dbtr><Pty><Nm>Payer %zu</Nm></Pty></Dbtr>"
		    "</RltdPties><RmtInf><Ustrd>Batch item %zu</Ustrd></RmtInf>"
		    "</TxDtls>\n", k, k);
	written += (size_t)fprintf(f, "</NtryDtls></Ntry>\n");
	for (n = 0; written < size; n++)
		written += (size_t)fprintf(f, "<Ntry><Amt Ccy=\"EUR\">1.23</Amt>"
		    "<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt>"
		    "<Dt>2024-01-02</Dt></BookgDt><ValDt><Dt>2024-01-02</Dt>"
		    "</ValDt><AcctSvcrRef>R%zu</AcctSvcrRef><NtryDtls><TxDtls>"
		    "<Refs><EndToEndId>E2E%zu</EndToEndId></Refs><RltdPties><Dbtr>"
		    "<Pty><Nm>Erika Mustermann</Nm></Pty></Dbtr><DbtrAcct><Id>"
		    "<IBAN>DE12500105170648489890</IBAN></Id></DbtrAcct>"
		    "</RltdPties><RmtInf><Ustrd>Rechnung %zu</Ustrd></RmtInf>"
		    "</TxDtls></NtryDtls></Ntry>\n", n, n, n);
	fprintf(f, "</Stmt></BkToCstmrStmt></Document>\n");
}

/* OFX 1.x SGML with unclosed leaf tags. */
static void
gen_ofx(FILE *f, size_t size)
{
	size_t	written = 0, n;

	written += (size_t)fprintf(f, "OFXHEADER:100\r\nDATA:OFXSGML\r\n"
	    "VERSION:102\r\n\r\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
	    "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>42<ACCTTYPE>"
	    "CHECKING</BANKACCTFROM><BANKTRANLIST>\r\n");
	for (n = 0; written < size; n++)
		written += (size_t)fprintf(f, "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>"
		    "20240102120000[-5:EST]<TRNAMT>1.23<FITID>F%zu<NAME>Payer "
		    "%zu<MEMO>Invoice %zu</STMTTRN>\r\n", n, n, n);
	fprintf(f, "</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20240102"
	    "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n");
}

static void
mt940_50mb_in_bounded_memory(void **state)
{
	struct count	c = { 0 };
	long		grew;

	(void)state;
	grew = parse_generated(gen_mt940, BIG_MT940, STMT_MT940, &c);
	print_message("MT940 %d MB: %zu statements, %zu transactions, peak RSS "
	    "+%ld KiB\n", BIG_MT940 / MB, c.stmts, c.txns, grew);
	assert_true(c.txns > (size_t)BIG_MT940 / 200);
	assert_int_equal(c.txns, c.stmts * 1000);
	assert_int_equal(c.sum, (int64_t)c.txns * 123);
	assert_int_equal(c.warnings, 0);
	assert_true(grew < RSS_LIMIT_KB);
}

static void
camt053_20mb_in_bounded_memory(void **state)
{
	struct count	c = { 0 };
	long		grew;

	(void)state;
	grew = parse_generated(gen_camt, BIG_OTHER, STMT_CAMT053, &c);
	print_message("camt.053 %d MB: %zu transactions, peak RSS +%ld KiB\n",
	    BIG_OTHER / MB, c.txns, grew);
	assert_true(c.txns > 20000 + (size_t)BIG_OTHER / 1000);
	assert_int_equal(c.stmts, 1);
	assert_true(grew < RSS_LIMIT_KB);
}

static void
ofx_20mb_in_bounded_memory(void **state)
{
	struct count	c = { 0 };
	long		grew;

	(void)state;
	grew = parse_generated(gen_ofx, BIG_OTHER, STMT_OFX, &c);
	print_message("OFX %d MB: %zu transactions, peak RSS +%ld KiB\n",
	    BIG_OTHER / MB, c.txns, grew);
	assert_true(c.txns > (size_t)BIG_OTHER / 200);
	assert_int_equal(c.sum, (int64_t)c.txns * 123);
	assert_true(grew < RSS_LIMIT_KB);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mt940_50mb_in_bounded_memory),
		cmocka_unit_test(camt053_20mb_in_bounded_memory),
		cmocka_unit_test(ofx_20mb_in_bounded_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
