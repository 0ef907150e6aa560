/*
 * `bankfeed import` of a large MT940 file reads it in pieces, in threads
 * (src/formats/import.c, "Pieces").  These tests run the built program
 * on files made here, with pieces forced small by
 * BANKFEED_IMPORT_SPLIT_BYTES and with pieces off (0), and want the same
 * bytes on stdout, the same stderr and the same exit status: for a good
 * file, for files rejected late, and for the warning list's cap.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <jansson.h>

#ifndef BANKFEED_BIN
#define BANKFEED_BIN "bankfeed"
#endif
#ifndef BANKFEED_CORPUS_DIR
#define BANKFEED_CORPUS_DIR "../shared/corpus"
#endif

/* Piece sizes tried: several pieces of a few messages, one message... */
static const char *const sizes[] = { "1", "700", "2500", "9000", "40000" };

struct run {
	int	 status;
	char	*out, *err;
	size_t	 outlen;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*b;
	long	 n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	assert_non_null(b = malloc((size_t)n + 1));
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return b;
}

/*
 * Runs `bankfeed import --strict path` with BANKFEED_IMPORT_SPLIT_BYTES=
 * split: strict, so that the impossible dates of the tests reject.
 */
static void
import(struct run *r, const char *path, const char *split)
{
	char	out[] = "/tmp/bf-split-out-XXXXXX";
	char	err[] = "/tmp/bf-split-err-XXXXXX";
	int	ofd = mkstemp(out), efd = mkstemp(err), st;
	pid_t	pid;

	assert_true(ofd >= 0 && efd >= 0);
	fflush(stdout);
	fflush(stderr);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		setenv("BANKFEED_IMPORT_SPLIT_BYTES", split, 1);
		execl(BANKFEED_BIN, "bankfeed", "import", "--strict", path,
		    (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	r->status = WEXITSTATUS(st);
	close(ofd);
	close(efd);
	r->out = slurp(out, &r->outlen);
	r->err = slurp(err, NULL);
	unlink(out);
	unlink(err);
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/*
 * path imported whole and in pieces of every size above: the same bytes,
 * the same status.  Returns the whole import (the caller frees it).
 */
static struct run
same_in_pieces(const char *path)
{
	struct run	whole, part;
	size_t		i;

	import(&whole, path, "0");
	assert_int_not_equal(whole.status, 127);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		import(&part, path, sizes[i]);
		if (part.status != whole.status ||
		    part.outlen != whole.outlen ||
		    memcmp(part.out, whole.out, whole.outlen) != 0 ||
		    strcmp(part.err, whole.err) != 0)
			print_error("%s in pieces of %s bytes: status %d/%d, "
			    "%zu/%zu bytes out, stderr \"%s\" / \"%s\"\n", path,
			    sizes[i], whole.status, part.status, whole.outlen,
			    part.outlen, whole.err, part.err);
		assert_int_equal(part.status, whole.status);
		assert_int_equal(part.outlen, whole.outlen);
		assert_memory_equal(part.out, whole.out, whole.outlen);
		assert_string_equal(part.err, whole.err);
		run_free(&part);
	}
	return whole;
}

/* The line end of message k: CRLF, LF or CR, in turn. */
static const char *
eol(size_t k)
{
	static const char *const e[] = { "\r\n", "\n", "\r" };

	return e[k % 3];
}

/*
 * One statement message of n transactions, its lines ended with e.
 * Every fifth has warnings (an unknown field, an unknown type code, a
 * date that does not exist); bad, when not 0, makes transaction bad - 1
 * carry an impossible date.
 */
static void
message(FILE *f, size_t k, size_t n, const char *e, size_t bad)
{
	size_t	i;
	int	warn = k % 5 == 2;

	if (k % 4 == 1)
		fprintf(f, "{1:F01BANKDEFFAXXX0000000000}{2:O940}{4:%s", e);
	fprintf(f, ":20:STMT%zu%s:25:DE89370400440532013000%s:28C:%zu/1%s",
	    k, e, e, k + 1, e);
	if (warn)
		fprintf(f, ":99X:not a field we know%s", e);
	fprintf(f, ":60F:C240101EUR1000,00%s", e);
	for (i = 0; i < n; i++) {
		fprintf(f, ":61:24%s%sD1,00%s%s//REF%zu%s",
		    bad == i + 1 ? "13" : warn && i == 0 ? "02" : "01",
		    warn && i == 0 ? "30" : "01", warn && i == 1 ? "NXYZ" :
		    "NTRF", i % 2 ? "NONREF" : "KREF1", i, e);
		fprintf(f, ":86:166?00SEPA-UEBERWEISUNG?20EREF+E2E%zu-%zu?21SVWZ+"
		    "Rechnung \"%zu\" M\xfcller%s?22und mehr%s?32Stadtwerke%s", k,
		    i, i, e, e, e);
	}
	fprintf(f, ":62F:C240102EUR%zu,00%s-%s%s", 1000 - n, e,
	    k % 4 == 1 ? "}" : "", e);
}

/*
 * A file of nmsg messages: header noise, messages of 1 to 40
 * transactions (one of 300, longer than most pieces), the line ends
 * changing from message to message.  bad_msg/bad_txn (1-based, 0 for
 * none) place an impossible date.  Returns the path (static).
 */
static const char *
mt940_file(size_t nmsg, const char *ends, size_t bad_msg, size_t bad_txn)
{
	static char	 path[] = "/tmp/bf-split-XXXXXX";
	FILE		*f;
	size_t		 k;
	int		 fd;

	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "ABNANL2A%s940 00%s", eol(0), eol(0));
	for (k = 0; k < nmsg; k++)
		message(f, k, k == nmsg / 3 ? 300 : 1 + k * 7 % 40,
		    ends != NULL ? ends : eol(k),
		    k + 1 == bad_msg ? bad_txn : 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Appends the file at src to the one at dst. */
static void
append(const char *dst, const char *src)
{
	size_t	 n;
	char	*b = slurp(src, &n);
	FILE	*f = fopen(dst, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
	free(b);
}

static void
pieces_print_the_same(void **state)
{
	static const char *const corpus[] = {
		"wolph_betterplace_sepa_mt9401.sta", "wolph_jejik_ing.sta",
		"wolph_jejik_rabobank.sta", "wolph_mBank_mt942.sta",
		"wolph_february_30.sta", "wolph_raiffeisen-cmi.sta",
	};
	const char	*path;
	struct run	 r;
	json_t		*j, *st;
	json_error_t	 e;
	char		 c[1024];
	size_t		 i;

	(void)state;
	/* Line ends changing per message, then all LF, then all CR. */
	path = mt940_file(60, NULL, 0, 0);
	/* Real files after ours, when the corpus is there. */
	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		snprintf(c, sizeof(c), "%s/mt940/%s", BANKFEED_CORPUS_DIR,
		    corpus[i]);
		if (access(c, R_OK) == 0)
			append(path, c);
	}
	r = same_in_pieces(path);
	assert_int_equal(r.status, 0);
	assert_non_null(j = json_loads(r.out, 0, &e));
	assert_true(json_integer_value(json_object_get(j,
	    "statement_count")) >= 60);
	assert_true(json_integer_value(json_object_get(j,
	    "warning_count")) >= 36);
	/* Indexes in order across the pieces. */
	for (i = 0; i < json_array_size(json_object_get(j, "statements")); i++) {
		st = json_array_get(json_object_get(j, "statements"), i);
		assert_int_equal(json_integer_value(json_object_get(st,
		    "index")), i);
	}
	json_decref(j);
	run_free(&r);
	unlink(path);

	path = mt940_file(45, "\n", 0, 0);
	r = same_in_pieces(path);
	assert_int_equal(r.status, 0);
	run_free(&r);
	unlink(path);
	path = mt940_file(45, "\r", 0, 0);
	r = same_in_pieces(path);
	assert_int_equal(r.status, 0);
	run_free(&r);
	unlink(path);
}

/*
 * Rejected in a late piece: the message of the whole-file parse, the
 * line counted over the whole file, nothing on stdout.  With two bad
 * messages, the first is the one reported.
 */
static void
pieces_reject_as_whole(void **state)
{
	const char	*path;
	struct run	 r;
	char		*f, *p, want[64];
	size_t		 line = 1, n;

	(void)state;
	path = mt940_file(60, NULL, 45, 3);
	r = same_in_pieces(path);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.outlen, 0);
	/* The line of ":61:2413" counted here, over CRLF, LF and CR. */
	f = slurp(path, &n);
	assert_non_null(p = strstr(f, ":61:2413"));
	for (char *q = f; q < p; q++)
		if (*q == '\n' || (*q == '\r' && q[1] != '\n'))
			line++;
	snprintf(want, sizeof(want), "MT940: line %zu: invalid value date",
	    line);
	assert_non_null(strstr(r.err, want));
	free(f);
	run_free(&r);
	unlink(path);

	/* Broken at the very end (truncated): the last piece. */
	path = mt940_file(40, "\r\n", 0, 0);
	f = slurp(path, &n);
	assert_int_equal(truncate(path, (off_t)(n - 30)), 0);
	r = same_in_pieces(path);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "ends without its closing balance"));
	free(f);
	run_free(&r);
	unlink(path);

	/* Messages with no :20: at all: rejected at the end, once. */
	{
		static char	 p0[] = "/tmp/bf-split-n-XXXXXX";
		FILE		*o;
		int		 fd;

		assert_true((fd = mkstemp(p0)) >= 0);
		assert_non_null(o = fdopen(fd, "w"));
		for (n = 0; n < 2000; n++)
			fprintf(o, "{1:F01BANKDEFFAXXX0000000000}\r\n-\r\n");
		assert_int_equal(fclose(o), 0);
		r = same_in_pieces(p0);
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.err, "MT940: line 4000: no :20: field"));
		run_free(&r);
		unlink(p0);
	}
}

static void
pieces_reject_first_of_two(void **state)
{
	const char	*path;
	struct run	 r;
	char		*f, *p;
	size_t		 n;

	(void)state;
	path = mt940_file(60, "\n", 33, 2);
	/* A second bad date, further on. */
	f = slurp(path, &n);
	assert_non_null(p = strstr(f, ":20:STMT50\n"));
	assert_non_null(p = strstr(p, ":61:2401"));
	memcpy(p + 6, "00", 2);
	{
		FILE	*o = fopen(path, "wb");

		assert_non_null(o);
		assert_int_equal(fwrite(f, 1, n, o), n);
		fclose(o);
	}
	r = same_in_pieces(path);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "invalid value date \"241301\""));
	free(f);
	run_free(&r);
	unlink(path);
}

/*
 * More than the 1000 warnings listed, from every piece: the count of all
 * of them, the first 1000 in file order.
 */
static void
pieces_keep_the_warning_cap(void **state)
{
	static char	 path[] = "/tmp/bf-split-w-XXXXXX";
	FILE		*f;
	struct run	 r;
	json_t		*j, *w;
	json_error_t	 e;
	size_t		 k, i, last = 0;
	int		 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	/* 300 messages of 5 unknown fields each. */
	for (k = 0; k < 300; k++) {
		fprintf(f, ":20:W%zu\r\n:25:DE89370400440532013000\r\n"
		    ":60F:C240101EUR1,00\r\n", k);
		for (i = 0; i < 5; i++)
			fprintf(f, ":9%zuZ:x\r\n", i);
		fprintf(f, ":62F:C240101EUR1,00\r\n-\r\n");
	}
	assert_int_equal(fclose(f), 0);
	r = same_in_pieces(path);
	assert_int_equal(r.status, 0);
	assert_non_null(j = json_loads(r.out, 0, &e));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "warning_count")), 1500);
	w = json_object_get(j, "warnings");
	assert_int_equal(json_array_size(w), 1000);
	for (i = 0; i < json_array_size(w); i++) {
		size_t	line = (size_t)json_integer_value(json_object_get(
			    json_array_get(w, i), "line"));

		assert_true(line > last);
		last = line;
	}
	json_decref(j);
	run_free(&r);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pieces_print_the_same),
		cmocka_unit_test(pieces_reject_as_whole),
		cmocka_unit_test(pieces_reject_first_of_two),
		cmocka_unit_test(pieces_keep_the_warning_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
