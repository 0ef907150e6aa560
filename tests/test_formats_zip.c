/*
 * ZIP archives of statement files through stmt_parse(): each member read
 * as the file it holds, and every way an archive can be hostile or
 * broken refused with a message that says which member and why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats_test.h"
#include "zipw.h"

#define DATA BANKFEED_TEST_DATA

static const char mt940[] =
    ":20:STMT1\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n"
    ":60F:C240301EUR100,00\r\n"
    ":61:2403010301D12,50NTRFNONREF//REF01\r\n:86:Coffee\r\n"
    ":62F:C240301EUR87,50\r\n-";

static const char bai2[] =
    "01,BANKFEED,ACME,240305,0800,42,,,2/\n"
    "02,ACME,021000021,1,240304,2400,USD,2/\n"
    "03,123456789,,010,100000,,,015,99000,,/\n"
    "16,475,1000,Z,B-1,1042,Check paid/\n"
    "49,200000,3/\n"
    "98,200000,1,5/\n"
    "99,200000,1,7/\n";

static struct got *
parse_zip(const unsigned char *p, size_t n, enum stmt_rc want)
{
	struct got	*g = got_new();
	char		 head[STMT_DETECT_LEN];
	enum stmt_format f;
	enum stmt_rc	 rc;

	memcpy(head, p, n < sizeof(head) ? n : sizeof(head));
	assert_int_equal(stmt_detect(head, n < sizeof(head) ? n : sizeof(head),
	    &f), 0);
	assert_int_equal(f, STMT_ZIP);
	rc = got_mem((const char *)p, n, STMT_ZIP, g);
	if (rc != want)
		fail_msg("parse gave %d, not %d: %s", rc, want, g->diag.msg);
	return g;
}

/* Three formats in one archive, deflated and stored, in a folder; the
 * BAI2 member written as a streaming archiver does (sizes after it). */
static void
members_of_every_format_are_imported(void **state)
{
	struct zipw	 z = { 0 };
	struct zipw_opt	 stored = { .stored = 1 };
	struct zipw_opt	 streamed = { .descriptor = 1 };
	struct got	*g;
	unsigned char	*p;
	size_t		 n, clen;
	char		*coda = zipw_slurp(DATA "/coda/odoo_ontvangen_2013.cod", &clen);

	(void)state;
	zipw_add(&z, "2024/", "", 0);
	zipw_add(&z, "2024/kbc.cod", coda, clen);
	zipw_add_opt(&z, "2024/abn.sta", mt940, strlen(mt940), &stored);
	zipw_add_opt(&z, "2024/us.bai", bai2, strlen(bai2), &streamed);
	p = zipw_finish(&z, &n, 0);
	g = parse_zip(p, n, STMT_OK);
	assert_int_equal(g->nst, 3);
	assert_string_equal(g->st[0].iban, "BE33737018595246");
	assert_string_equal(g->st[1].iban, "NL91ABNA0417164300");
	assert_string_equal(g->st[2].number, "123456789");
	assert_int_equal(g->ntx, 5 + 1 + 1);
	/* Lines are the member's own. */
	assert_int_equal(g->tx[0].line, 3);
	assert_int_equal(g->nw, 0);
	free(g);
	free(p);
	free(coda);
}

/* What is not a statement is skipped with a warning naming it; names
 * that would be dangerous as paths are only named. */
static void
odd_members_are_reported_by_name(void **state)
{
	struct zipw	 z = { 0 };
	struct got	*g;
	unsigned char	*p, *inner;
	size_t		 n, in;

	(void)state;
	zipw_add(&z, "x.sta", mt940, strlen(mt940));
	inner = zipw_finish(&z, &in, 0);
	zipw_add(&z, "README.txt", "Statements of March", 19);
	zipw_add(&z, "nested.zip", inner, in);
	zipw_add(&z, "__MACOSX/._abn.sta", "\x00\x05\x16\x07", 4);
	zipw_add(&z, "../../etc/cron.d/abn.sta", mt940, strlen(mt940));
	zipw_add(&z, "/abs\x01.sta", mt940, strlen(mt940));
	zipw_add(&z, "empty.sta", "", 0);
	p = zipw_finish(&z, &n, 0);
	g = parse_zip(p, n, STMT_OK);
	assert_int_equal(g->nst, 2);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER,
	    "\"README.txt\" not imported: not a statement"), 1);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER,
	    "\"nested.zip\" not imported: archives inside"), 1);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER, "macOS"), 1);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER,
	    "\"../../etc/cron.d/abn.sta\" has a name that is unsafe"), 1);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER,
	    "\"/abs\\x01.sta\" has a name that is unsafe"), 1);
	assert_int_equal(got_warned(g, STMT_W_ARCHIVE_MEMBER,
	    "\"empty.sta\" not imported: empty"), 1);
	assert_int_equal(g->nw, 6);
	free(g);
	free(p);
	free(inner);
}

/* A member's rejection names the member, its format and line. */
static void
a_broken_member_rejects_the_archive(void **state)
{
	struct zipw	 z = { 0 };
	struct got	*g;
	unsigned char	*p;
	size_t		 n;
	char		 bad[sizeof(bai2)], msg[1024];

	(void)state;
	memcpy(bad, bai2, sizeof(bai2));
	memcpy(strstr(bad, "16,475,1000"), "16,475,10.0", 11);
	zipw_add(&z, "good.sta", mt940, strlen(mt940));
	zipw_add(&z, "bad.bai", bad, strlen(bad));
	p = zipw_finish(&z, &n, 0);
	g = parse_zip(p, n, STMT_REJECTED);
	assert_string_equal(g->diag.member, "bad.bai");
	assert_int_equal(g->diag.format, STMT_BAI2);
	assert_int_equal(g->diag.line, 4);
	stmt_diag_str(&g->diag, msg, sizeof(msg));
	assert_non_null(strstr(msg, "ZIP member \"bad.bai\": BAI2: line 4: "));
	free(g);
	free(p);
}

/* Every refusal of the container, with its reason. */
static void
hostile_and_broken_archives_are_refused(void **state)
{
	static const struct zipw_opt	enc = { .flags = 1 };
	static const struct zipw_opt	bz2 = { .method = 12 };
	static const struct zipw_opt	crc = { .bad_crc = 1 };
	static const struct zipw_opt	lies = { .usize = 100 };
	struct zipw	 z = { 0 };
	struct got	*g;
	unsigned char	*p;
	size_t		 n, i;
	char		*zeros;
	const char	*want[] = {
		"member \"secret.sta\" is encrypted",
		"compressed with method 12",
		"damaged: member \"crc.sta\" inflates to",
		"damaged: member \"lies.sta\" inflates to 142 bytes",
		"ZIP64 archives are not supported",
		"member \"bomb.sta\": inflates too far",
		"truncated or damaged: no end of central directory",
		"the archive holds no statement file",
		"1001 members; at most 1000",
	};

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		switch (i) {
		case 0:
			zipw_add_opt(&z, "secret.sta", mt940, strlen(mt940), &enc);
			break;
		case 1:
			zipw_add_opt(&z, "b.sta", mt940, strlen(mt940), &bz2);
			break;
		case 2:
			zipw_add_opt(&z, "crc.sta", mt940, strlen(mt940), &crc);
			break;
		case 3:
			zipw_add_opt(&z, "lies.sta", mt940, strlen(mt940), &lies);
			break;
		case 4:
			zipw_add(&z, "a.sta", mt940, strlen(mt940));
			break;
		case 5:
			/* 64 MiB of zeros deflate to 64 KiB: refused at the
			 * first MiB that passes the ratio, not at the end. */
			zeros = calloc(1, 64 << 20);
			memcpy(zeros, ":20:X\r\n", 7);
			zipw_add(&z, "bomb.sta", zeros, 64 << 20);
			free(zeros);
			break;
		case 6:
			zipw_add(&z, "a.sta", mt940, strlen(mt940));
			break;
		case 7:
			zipw_add(&z, "notes.txt", "hello", 5);
			break;
		case 8:
			for (int k = 0; k < 1001; k++)
				zipw_add(&z, "d/", "", 0);
			break;
		}
		p = zipw_finish(&z, &n, i == 4);
		/* Case 6: the archive cut short, as an interrupted upload. */
		if (i == 6)
			n -= 10;
		g = parse_zip(p, n, STMT_REJECTED);
		if (strstr(g->diag.msg, want[i]) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, g->diag.msg,
			    want[i]);
		assert_int_equal(g->diag.format, STMT_ZIP);
		assert_int_equal(g->ntx, 0);
		free(g);
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(members_of_every_format_are_imported),
		cmocka_unit_test(odd_members_are_reported_by_name),
		cmocka_unit_test(a_broken_member_rejects_the_archive),
		cmocka_unit_test(hostile_and_broken_archives_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
