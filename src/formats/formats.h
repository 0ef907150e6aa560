/*
 * formats: statement files (camt.053, MT940/MT942, OFX, CODA, BAI2, and
 * ZIP archives of them) turned into the normalized records of records.h.
 *
 * A parser reads a FILE* front to back in bounded pieces and hands what it
 * finds to a sink, one record at a time, so a 1 GB file never sits in
 * memory: every internal buffer has a hard limit, and a field longer than
 * its limit rejects the file with a clear message instead of growing.
 *
 * For each statement in the file the sink sees, in this order:
 *
 *	begin(info, account)	the account and what is known of the statement
 *	txn(info, txn)		once per transaction, in file order
 *	end(info, summary)	balances (opening, closing, available...) and counts
 *
 * and at any point warning(w) for a doubt that does not stop the import
 * (balances that don't add up, unknown codes, rounded amounts...).  OFX
 * account listings without statements come through account().  Every
 * pointer passed to a callback is borrowed: valid during the call only.
 * Any callback may be NULL; one that returns non-zero stops the parse,
 * which then returns STMT_STOPPED with that value in diag->cb_rc.
 */
#ifndef BF_FORMATS_H
#define BF_FORMATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/records.h"

/* F(enum, name on the command line and in JSON, human name) */
#define STMT_FORMATS(F) \
	F(STMT_CAMT053, "camt053", "camt.053") \
	F(STMT_MT940, "mt940", "MT940") \
	F(STMT_OFX, "ofx", "OFX") \
	F(STMT_MT942, "mt942", "MT942") \
	F(STMT_CAMT054, "camt054", "camt.054") \
	F(STMT_CODA, "coda", "CODA") \
	F(STMT_BAI2, "bai2", "BAI2") \
	F(STMT_ZIP, "zip", "ZIP")

enum stmt_format {
#define F(e, s, h) e,
	STMT_FORMATS(F)
#undef F
	STMT__COUNT
};

/*
 * Warnings: a file that parses with doubts is imported with these, never
 * silently.  W(enum, code in JSON, what it means)
 */
#define STMT_WARNINGS(W) \
	W(STMT_W_BALANCE_MISMATCH, "balance_mismatch", \
	  "the opening balance plus the transactions does not give the closing balance") \
	W(STMT_W_SUMS_MISMATCH, "sums_mismatch", \
	  "the count or sum of entries the file states differs from its transactions") \
	W(STMT_W_AMOUNT_ROUNDED, "amount_rounded", \
	  "an amount had more decimals than its currency and was rounded half-even") \
	W(STMT_W_UNKNOWN_CODE, "unknown_code", \
	  "a code the parser does not know (transaction type, subfield, status...)") \
	W(STMT_W_UNKNOWN_FIELD, "unknown_field", \
	  "a field or tag the parser does not know was skipped") \
	W(STMT_W_DATE_ADJUSTED, "date_adjusted", \
	  "a day that does not exist (30 February) was moved to the month's last day") \
	W(STMT_W_INVALID_DATE, "invalid_date", \
	  "an impossible date (month 13, day 32) was replaced by a date the file gives") \
	W(STMT_W_EMPTY_FIELD, "empty_field", \
	  "a field was present but empty and was ignored") \
	W(STMT_W_MISSING_FIELD, "missing_field", \
	  "an expected field is missing; the record was imported without it") \
	W(STMT_W_CURRENCY, "currency", \
	  "a currency is unknown, missing, or differs from the account's") \
	W(STMT_W_BATCH, "batch_amounts", \
	  "the transactions of a batch entry do not add up to the entry") \
	W(STMT_W_NOT_IMPORTED, "not_imported", \
	  "records the parser recognized but does not import (e.g. security trades)") \
	W(STMT_W_NO_STATEMENT, "no_statement", \
	  "the file is valid but holds no statement") \
	W(STMT_W_BANK_STATUS, "bank_status", \
	  "the bank reported a non-fatal status message in the file") \
	W(STMT_W_REPEATED_FIELD, "repeated_field", \
	  "a field that occurs once per statement occurred again and was ignored") \
	W(STMT_W_TRAILING_DATA, "trailing_data", \
	  "data after the end of the statement document was ignored") \
	W(STMT_W_ARCHIVE_MEMBER, "archive_member", \
	  "a ZIP member was not imported (not a statement, a nested archive, " \
	  "metadata), or its name is unsafe as a path (it is never used as one)")

enum stmt_warn {
#define W(e, s, d) e,
	STMT_WARNINGS(W)
#undef W
	STMT_W__COUNT
};

/* What is known of a statement; passed to begin, txn and end. */
struct stmt_info {
	enum stmt_format format;
	const char	*id;		/* camt Stmt/Id, MT940 :20:, OFX TRNUID */
	const char	*sequence;	/* camt ElctrncSeqNb/LglSeqNb, MT940 :28C: */
	char		 from_date[11];	/* period, YYYY-MM-DD or "" */
	char		 to_date[11];	/* may be known at end() only (MT940) */
	int		 interim;	/* MT942: intraday, transactions pending */
	uint64_t	 line;		/* where the statement begins (1-based) */
	size_t		 index;		/* 0 for the first statement of the file */
	const char	*member;	/* the ZIP member it is in, or NULL */
};

struct stmt_txn {
	struct rec_txn	 rec;
	int		 reversal;	/* camt RvslInd, MT940 RC/RD */
	const char	*purpose_code;	/* camt BkTxCd Prtry or MT940 GVC ("166") */
	const char	*check_number;	/* OFX CHECKNUM */
	uint64_t	 line;		/* where the record begins */
};

#define STMT_MAXBAL 16

struct stmt_summary {
	const struct rec_balance *balances;	/* in file order */
	size_t		 nbalances;
	size_t		 ntxns;		/* transactions passed to txn() */
	int64_t		 sum_credits;	/* in minor units of the account */
	int64_t		 sum_debits;	/* negative or 0 */
};

struct stmt_warning {
	enum stmt_format format;
	enum stmt_warn	 code;
	uint64_t	 line;		/* 0 when not known */
	const char	*message;
	const char	*member;	/* the ZIP member it is about, or NULL */
};

struct stmt_sink {
	void	*arg;
	int	(*begin)(void *arg, const struct stmt_info *,
		    const struct rec_account *);
	int	(*txn)(void *arg, const struct stmt_info *,
		    const struct stmt_txn *);
	int	(*end)(void *arg, const struct stmt_info *,
		    const struct stmt_summary *);
	/* An account listed without a statement (OFX ACCTINFORS). */
	int	(*account)(void *arg, const struct rec_account *);
	int	(*warning)(void *arg, const struct stmt_warning *);
	/*
	 * An option of the parse rather than a callback: 1 rejects what a
	 * lenient parse (0, the default) imports with a warning: impossible
	 * MT940 dates (invalid_date) and an MT940 statement without its
	 * closing balance :62F: (missing_field).
	 */
	int	  strict;
};

enum stmt_rc {
	STMT_OK = 0,
	STMT_REJECTED,		/* the file is bad: diag says where and why */
	STMT_STOPPED,		/* a callback returned diag->cb_rc != 0 */
	STMT_FAILED		/* reading failed or memory ran out */
};

#define STMT_MSGLEN 512

struct stmt_diag {
	enum stmt_format format;
	uint64_t	 line;		/* 1-based line of the problem, 0 unknown */
	uint64_t	 offset;	/* byte offset, when lines mean nothing */
	char		 msg[STMT_MSGLEN];
	int		 cb_rc;		/* STMT_STOPPED: the callback's value */
	size_t		 nstatements;	/* statements begun */
	size_t		 ntxns;		/* transactions passed to the sink */
	size_t		 nwarnings;	/* warnings passed to the sink */
	char		 member[512];	/* the ZIP member rejected, or "" */
};

/* How many leading bytes stmt_detect() wants to see (it takes fewer). */
#define STMT_DETECT_LEN 4096

/* Hard limits of the parsers, exposed so tests can go past them. */
#define STMT_FIELD_MAX	8192	/* one value (a name, a :61: line...) */
#define STMT_TEXT_MAX	32768	/* one multi-line field (:86:, Ustrd...) */

const char	*stmt_format_name(enum stmt_format);
/*
 * The names of all formats joined by sep ("camt053|mt940|..."), into out
 * (size n, truncated to fit); returns out.
 */
const char	*stmt_format_names(const char *sep, char *out, size_t n);
int		 stmt_format_parse(const char *, enum stmt_format *);
const char	*stmt_warn_name(enum stmt_warn);
const char	*stmt_warn_description(enum stmt_warn);

/*
 * Guesses the format from the first n bytes of a file (up to
 * STMT_DETECT_LEN are looked at).  Returns 0 and sets *out, or -1 when the
 * bytes look like none of the formats.
 */
int		 stmt_detect(const char *head, size_t n, enum stmt_format *out);

/*
 * Parses the statement file in `in` as format `fmt`, streaming records to
 * `sink` (see the top of this file).  Reads `in` to its end or to the first
 * fatal problem; does not close it.  diag is always filled (zeroed, then
 * counts; on STMT_REJECTED/STMT_FAILED the format, line or byte offset and
 * a message).  Memory stays bounded whatever the input.
 */
enum stmt_rc	 stmt_parse(FILE *in, enum stmt_format fmt,
		    const struct stmt_sink *sink, struct stmt_diag *diag);

/*
 * One piece of an MT940 file, for reading a large file in several threads
 * (bankfeed import).  A piece that does not start the file must start
 * right after an end-of-message line ("-", "-}", "-XXX") and its line
 * end: there the parser has ended its statement and skips to the next
 * :20:, so it can start afresh knowing only the lines and the statements
 * before it.  Lines (the statement's, the transactions', warnings' and a
 * rejection's) and statement indexes then read as in the whole file, and
 * diag counts the piece's own statements, transactions and warnings.
 */
struct stmt_piece {
	uint64_t	 line0;		/* lines before the piece */
	size_t		 index0;	/* statements begun before it */
	uint64_t	 bytes;		/* its length: read no further */
	int		 first;		/* it starts the file */
	int		 last;		/* it ends the file */
	uint64_t	 nlines;	/* out: the lines it had */
};

/*
 * stmt_parse() of one piece, which starts where `in` is (STMT_MT940 only;
 * other formats fail).  At
 * the end of a piece that is not last, the parser does what it does at
 * any line: it does not look for a missing :20: there.
 */
enum stmt_rc	 stmt_parse_piece(FILE *in, enum stmt_format fmt,
		    const struct stmt_sink *sink, struct stmt_diag *diag,
		    struct stmt_piece *piece);

/*
 * Writes "FORMAT: line N: MESSAGE" (or "byte N") for a rejected parse into
 * out (size n); returns out.
 */
const char	*stmt_diag_str(const struct stmt_diag *, char *out, size_t n);

/*
 * bankfeed import FILE [--format camt053|mt940|ofx|coda|bai2|zip]: prints
 * the normalized statements as JSON on stdout.  argv[0] is "import".
 * Returns the exit status: 0 imported, 1 rejected (the reason on stderr),
 * 2 usage.
 */
int		 formats_cmd_import(int argc, char **argv);

#endif
