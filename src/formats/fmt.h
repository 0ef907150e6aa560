/*
 * fmt: what the three statement parsers share (internal to src/formats).
 *
 * A parser owns a struct fmt_ctx for one stmt_parse() call.  It reports
 * through the fmt_* helpers below, which call the sink, keep the counts
 * and the running sums for the balance check, and turn a callback's
 * non-zero answer into STMT_STOPPED.  Every helper returning enum stmt_rc
 * must have its non-zero result passed up at once.
 */
#ifndef BF_FMT_H
#define BF_FMT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "formats/formats.h"

struct fmt_ctx {
	enum stmt_format	 fmt;
	const struct stmt_sink	*sink;
	struct stmt_diag	*diag;
	struct stmt_piece	*piece;		/* NULL: the whole file */
	int			 strict;	/* sink->strict */
	size_t			 index0;	/* statements before it */
	const char		*member;	/* ZIP member being read (zip.c) */

	/* The statement being read. */
	struct stmt_info	 info;
	int			 open;		/* between begin() and end() */
	char			 currency[4];	/* of its transactions */
	struct rec_balance	 bal[STMT_MAXBAL];
	size_t			 nbal;
	size_t			 ntxns;
	int64_t			 credits, debits;
	int			 sum_overflow;
	int			 warned_ccy;	/* one currency warning per statement */

	/*
	 * Sink calls made (begin, txn, end, account, warning) and how many
	 * of the first to leave out: a parser that reads a file a second
	 * time passes on only what its first reading did not.
	 */
	uint64_t		 ncalls, skip;
};

void		fmt_ctx_init(struct fmt_ctx *, enum stmt_format,
		    const struct stmt_sink *, struct stmt_diag *);

enum stmt_rc	fmt_reject(struct fmt_ctx *, uint64_t line, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
enum stmt_rc	fmt_reject_at(struct fmt_ctx *, uint64_t offset, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
enum stmt_rc	fmt_failed(struct fmt_ctx *, const char *what);
enum stmt_rc	fmt_warn(struct fmt_ctx *, enum stmt_warn, uint64_t line,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/*
 * Statement life cycle.  fmt_stmt_reset() clears the per-statement state
 * (the caller then fills ctx->info and ctx->currency); fmt_begin() calls
 * begin(); fmt_txn() calls txn() and tallies the amount; fmt_end() checks
 * opening + transactions = closing (a warning when not) and calls end().
 */
void		fmt_stmt_reset(struct fmt_ctx *);
enum stmt_rc	fmt_begin(struct fmt_ctx *, const struct rec_account *);
enum stmt_rc	fmt_txn(struct fmt_ctx *, const struct stmt_txn *);
enum stmt_rc	fmt_add_balance(struct fmt_ctx *, uint64_t line,
		    enum bal_type, int64_t amount, const char *ccy,
		    const char *date);
enum stmt_rc	fmt_end(struct fmt_ctx *, uint64_t line);
enum stmt_rc	fmt_account(struct fmt_ctx *, const struct rec_account *);

/*
 * Reads the amount s (n bytes, decimal separator dec, optional sign) in
 * currency ccy into minor units.  An unknown or missing currency reads
 * with 2 decimals and warns once per statement; extra decimals round and
 * warn.  `what` names the field in messages.
 */
enum stmt_rc	fmt_amount(struct fmt_ctx *, uint64_t line, const char *what,
		    const char *s, size_t n, char dec, const char *ccy,
		    int64_t *out);
/* Minor digits used for ccy: its exponent, or 2 when unknown. */
int		fmt_exponent(const char *ccy);

/*
 * Dates.  fmt_date() checks y-m-d: -1 when the month is not 1-12 or the
 * day not 1-31; a day past the month's end (30 February, which banks
 * counting 30-day months write) becomes the last day and sets *adjusted.
 * fmt_iso_date() reads the "YYYY-MM-DD" that starts s (a date or an ISO
 * date-time) the same way.
 */
int		fmt_date(int y, int m, int d, char out[11], int *adjusted);
int		fmt_iso_date(const char *s, size_t n, char out[11], int *adjusted);

/*
 * Appends n bytes of text as UTF-8: kept as it is when it is valid UTF-8,
 * else read as ISO-8859-1.  Control characters are dropped, tabs become
 * spaces.  -1 when the buffer's limit is hit.
 */
int		fmt_text(struct buf *, const char *s, size_t n);
int		fmt_utf8_valid(const char *s, size_t n);
/* Length of the leading run of printable ASCII (0x20-0x7e) of s. */
size_t		fmt_plain_prefix(const char *s, size_t n);
/*
 * Strips leading and trailing blanks of b in place.  Inline: called for
 * nearly every value, and most have nothing to trim (two looks and the
 * NUL); fmt_trim_slow() does the rest.
 */
void		fmt_trim_slow(struct buf *);

static inline int
fmt_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline void
fmt_trim(struct buf *b)
{
	if (b->p == NULL)
		return;
	if (b->len == 0 || (!fmt_blank(b->p[0]) && !fmt_blank(b->p[b->len - 1]))) {
		b->p[b->len] = '\0';
		return;
	}
	fmt_trim_slow(b);
}
/* Copies at most n-1 bytes of s into out, NUL-terminated. */
void		fmt_copy(char *out, size_t n, const char *s);
/* NULL for an empty buffer, so absent and empty read the same. */
const char	*fmt_opt(const struct buf *);
int		fmt_is_iban(const char *);

/* The parsers, called by stmt_parse() with a fresh ctx. */
enum stmt_rc	camt053_parse(FILE *, struct fmt_ctx *);
enum stmt_rc	mt940_parse(FILE *, struct fmt_ctx *);
enum stmt_rc	ofx_parse(FILE *, struct fmt_ctx *);
enum stmt_rc	coda_parse(FILE *, struct fmt_ctx *);
enum stmt_rc	bai2_parse(FILE *, struct fmt_ctx *);
enum stmt_rc	zip_parse(FILE *, struct fmt_ctx *);
/* The parser of ctx->fmt (a ZIP member's, from zip.c). */
enum stmt_rc	fmt_dispatch(FILE *, struct fmt_ctx *);
/* Whether the head of a file is a CODA header, a BAI2 header, a ZIP. */
int		coda_detect(const char *head, size_t n);
int		bai2_detect(const char *head, size_t n);
int		zip_detect(const char *head, size_t n);

/*
 * MT940's line grammar, for the import's pieces (import.c), which must cut
 * a file where mt940_parse() would see a message end and count the
 * statements it would see.  The end mark at s ("-" alone, "-}", "-XXX"):
 * its length, up to n bytes or the first CR or LF; 0 when s does not start
 * with one.
 */
size_t		mt940_end_mark(const char *s, size_t n);
/* Whether the line at s (n bytes or more) opens a statement: ":20:", or a
 * SWIFT block line whose first "{4:" is followed by ":20:". */
int		mt940_opens_stmt(const char *s, size_t n);

#endif
