/*
 * import: `bankfeed import FILE [--format camt053|mt940|ofx]`, the
 * offline way to read a statement file: the normalized statements go to
 * stdout as JSON, written in chunks as the parser streams them.
 *
 * The file is parsed once.  So that stdout gets either one complete JSON
 * document (exit 0) or nothing and the reason on stderr (exit 1), the
 * JSON is held back: in memory while it is small, else in an unlinked
 * temporary file, and copied to stdout only once the whole file has
 * parsed.  (Parsing twice, check then print, cost more than the copy:
 * the parse is the expensive part.)  Standard input is spooled to a
 * temporary file first too; memory stays bounded either way.
 *
 * A large MT940 file is read in pieces, one thread each (see "Pieces"
 * below): the output is the same to the byte.
 */
#include "formats/fmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/buf.h"
#include "core/jw.h"
#include "core/money.h"

#define OUT_MAX		(4 * 1024 * 1024)	/* one transaction fits */
#define OUT_FLUSH	(256 * 1024)
#define OUT_KEEP	(1024 * 1024)		/* held in memory up to this */
#define TAIL_MAX	(1024 * 1024)		/* warnings, listed accounts */
#define MAX_LISTED	1000

/*
 * The worst case of one transaction's JSON: its strings escaped (six
 * bytes per byte at most), the fixed keys and numbers.  Every string of
 * a record is bounded by the parsers' limits.
 */
#define TXN_STRINGS	(STMT_TEXT_MAX + 14 * STMT_FIELD_MAX)
#define TXN_JSON_MAX	(JSON_ESCAPED_MAX(TXN_STRINGS) + 64 * 15 + 1024)

/* The held-back output: what one spill to the spool holds at most. */
#define OB_CAP		(OUT_KEEP + TXN_JSON_MAX)

/* A warning of a piece, kept for the listing (see on_warning_kept()). */
struct kept {
	enum stmt_warn	 code;
	uint64_t	 line;
	size_t		 off;		/* of the message in kept_msgs */
};

/*
 * The document is written by jw into b, a staging area that each
 * callback moves on into ob (flush), except the transactions: those go
 * straight into ob, the hot path.  ob goes on to the spool file.
 */
struct out {
	int		 spool;		/* the held-back JSON, -1 while in ob */
	char		*ob;		/* OB_CAP bytes */
	size_t		 olen;
	struct buf	 b;
	struct jw	 w;
	int		 err;
	struct buf	 warnings;	/* rendered JSON objects, comma-joined */
	size_t		 nwarn, nwarn_listed;
	struct buf	 accounts;
	size_t		 nacct;
	/* A piece's warnings, kept to be listed in file order at the end. */
	struct kept	*kept;		/* MAX_LISTED, allocated at the first */
	size_t		 nkept;
	struct buf	 kept_msgs;	/* their messages, NUL-terminated */
};

static void
out_init(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->spool = -1;
	buf_init(&o->b, OUT_MAX);
	buf_init(&o->warnings, TAIL_MAX);
	buf_init(&o->accounts, TAIL_MAX);
	buf_init(&o->kept_msgs, MAX_LISTED * STMT_MSGLEN);
	jw_init(&o->w, &o->b);
}

static void
out_free(struct out *o)
{
	if (o->spool != -1)
		close(o->spool);
	o->spool = -1;
	free(o->ob);
	o->ob = NULL;
	buf_free(&o->b);
	buf_free(&o->warnings);
	buf_free(&o->accounts);
	free(o->kept);
	o->kept = NULL;
	buf_free(&o->kept_msgs);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Writes ob to the spool file, created at the first spill. */
static void
spill(struct out *o)
{
	FILE	*t;
	int	 fd;

	if (o->spool == -1) {
		/* A private unlinked file, as tmpfile() makes, as an fd. */
		if ((t = tmpfile()) == NULL || (fd = dup(fileno(t))) == -1) {
			if (t != NULL)
				fclose(t);
			o->err = 1;
			o->olen = 0;
			return;
		}
		fclose(t);
		o->spool = fd;
	}
	if (write_all(o->spool, o->ob, o->olen) == -1)
		o->err = 1;
	o->olen = 0;
}

/*
 * Moves what jw staged in b on into ob, and ob out of memory once it is
 * large: to the spool file, in pieces of OUT_FLUSH or more.
 */
static void
flush(struct out *o)
{
	if (o->b.len > 0) {
		if (o->b.len > OB_CAP - o->olen)
			spill(o);
		if (o->b.len > OB_CAP) {
			spill(o);
			if (write_all(o->spool, o->b.p, o->b.len) == -1)
				o->err = 1;
		} else {
			memcpy(o->ob + o->olen, o->b.p, o->b.len);
			o->olen += o->b.len;
		}
		buf_reset(&o->b);
	}
	if (o->olen >= (o->spool == -1 ? OUT_KEEP : OUT_FLUSH))
		spill(o);
}

/* The contents of the spool file fd (its offset is its end) to out. */
static int
emit_spool(int out, int fd)
{
	off_t	off = 0, end;
	ssize_t	k;
	char	chunk[65536];

	if ((end = lseek(fd, 0, SEEK_CUR)) == -1)
		return -1;
	/* sendfile: no copy through user space where it can. */
	while (off < end) {
		k = sendfile(out, fd, &off, (size_t)(end - off));
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
	}
	if (off < end) {
		/* Not supported for this stdout: read and write. */
		if (lseek(fd, off, SEEK_SET) == -1)
			return -1;
		while ((k = read(fd, chunk, sizeof(chunk))) > 0)
			if (write_all(out, chunk, (size_t)k) == -1)
				return -1;
		if (k == -1)
			return -1;
	}
	return 0;
}

/* The whole document to stdout: the spool's contents, ob's, then b's. */
static int
emit_all(struct out *o)
{
	int	out = fileno(stdout);

	if (fflush(stdout) != 0)
		return -1;
	if (o->spool != -1 && emit_spool(out, o->spool) == -1)
		return -1;
	if (write_all(out, o->ob, o->olen) == -1)
		return -1;
	return write_all(out, o->b.p != NULL ? o->b.p : "", o->b.len);
}

static void
kmoney(struct jw *w, const char *key, int64_t v, const char *ccy)
{
	char	s[MONEY_STRLEN];

	money_format(v, fmt_exponent(ccy), s);
	jw_kstr(w, key, s);
}

static void
kstr_opt(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s == NULL || *s == '\0')
		jw_null(w);
	else
		jw_str(w, s);
}

static void
account_json(struct jw *w, const struct rec_account *a)
{
	jw_obj(w);
	kstr_opt(w, "bank_id", a->bank_id);
	kstr_opt(w, "iban", a->iban);
	kstr_opt(w, "number", a->number);
	kstr_opt(w, "bic", a->bic);
	kstr_opt(w, "name", a->name);
	jw_kstr(w, "type", acct_type_name(a->type));
	kstr_opt(w, "currency", a->currency);
	kstr_opt(w, "holder_name", a->holder_name);
	jw_obj_end(w);
}

static int
on_begin(void *arg, const struct stmt_info *i, const struct rec_account *a)
{
	struct out	*o = arg;
	struct jw	*w = &o->w;

	jw_obj(w);
	jw_kint(w, "index", (int64_t)i->index);
	jw_kint(w, "line", (int64_t)i->line);
	kstr_opt(w, "id", i->id);
	kstr_opt(w, "sequence", i->sequence);
	kstr_opt(w, "from_date", i->from_date);
	jw_kbool(w, "interim", i->interim);
	jw_key(w, "account");
	account_json(w, a);
	jw_key(w, "transactions");
	jw_arr(w);
	flush(o);
	return o->err;
}

/* The pieces of one transaction's JSON, written into ob. */
#define LIT(p, s)	(memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* A string or null; *room is what ob has left for it, short of the tail. */
static char *
tx_str(char *p, const char *s, size_t *room)
{
	size_t	n, k;

	if (s == NULL || *s == '\0')
		return LIT(p, "null");
	n = strlen(s);
	/* The parsers' limits keep within TXN_JSON_MAX; this says so. */
	if (JSON_ESCAPED_MAX(n) + 64 > *room) {
		*room = 0;
		return LIT(p, "null");
	}
	k = json_escape_to(p, s, n);
	*room -= k;
	return p + k;
}

/* v in decimal: its digits counted first, then written from the last. */
static char *
tx_uint(char *p, uint64_t v)
{
	uint64_t	lim = 10;
	size_t		n = 1, i;

	while (n < 20 && v >= lim) {
		n++;
		lim *= 10;
	}
	for (i = n; i > 0; i--) {
		p[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * One transaction: the hot path of the output, a few hundred thousand
 * times for a large file.  Written in one piece straight into ob (room
 * for its worst case, TXN_JSON_MAX, is made first) rather than key by key
 * through jw: the keys are constants, and one call per piece cost more
 * than the parse.  jw still places the comma before it.  Absent or empty
 * strings are null.
 */
static int
on_txn(void *arg, const struct stmt_info *i, const struct stmt_txn *t)
{
	struct out		*o = arg;
	const struct rec_txn	*r = &t->rec;
	char			*p, *start;
	char			 amt[MONEY_STRLEN];
	size_t			 room = TXN_JSON_MAX - 1024;

	(void)i;
	jw_raw(&o->w, "", 0);	/* the comma, and jw knows a value came */
	flush(o);
	if (OB_CAP - o->olen < TXN_JSON_MAX)
		spill(o);
	p = start = o->ob + o->olen;
	p = LIT(p, "{\"line\":");
	p = tx_uint(p, t->line);
	p = r->status == TXN_PENDING ? LIT(p, ",\"status\":\"pending\"") :
	    LIT(p, ",\"status\":\"booked\"");
	p = tx_str(LIT(p, ",\"booking_date\":"), r->booking_date, &room);
	p = tx_str(LIT(p, ",\"value_date\":"), r->value_date, &room);
	money_format(r->amount, fmt_exponent(r->currency), amt);
	p = tx_str(LIT(p, ",\"amount\":"), amt, &room);
	p = tx_str(LIT(p, ",\"currency\":"), r->currency, &room);
	p = tx_str(LIT(p, ",\"counterparty_name\":"), r->cp_name, &room);
	p = tx_str(LIT(p, ",\"counterparty_iban\":"), r->cp_iban, &room);
	p = tx_str(LIT(p, ",\"description\":"), r->description, &room);
	p = tx_str(LIT(p, ",\"bank_transaction_code\":"),
	    r->bank_transaction_code, &room);
	p = tx_str(LIT(p, ",\"details_bank_transaction_code\":"),
	    t->details_bank_transaction_code, &room);
	p = tx_str(LIT(p, ",\"purpose_code\":"), t->purpose_code, &room);
	p = tx_str(LIT(p, ",\"bank_reference\":"), r->bank_reference, &room);
	p = tx_str(LIT(p, ",\"end_to_end_id\":"), r->end_to_end_id, &room);
	p = tx_str(LIT(p, ",\"bank_id\":"), r->bank_id, &room);
	p = tx_str(LIT(p, ",\"check_number\":"), t->check_number, &room);
	p = t->reversal ? LIT(p, ",\"reversal\":true}") :
	    LIT(p, ",\"reversal\":false}");
	if (room == 0)
		o->w.err = 1;	/* cannot happen with the parsers' limits */
	o->olen += (size_t)(p - start);
	if (o->olen >= (o->spool == -1 ? OUT_KEEP : OUT_FLUSH))
		spill(o);
	return o->err || o->w.err;
}

static int
on_end(void *arg, const struct stmt_info *i, const struct stmt_summary *s)
{
	struct out	*o = arg;
	struct jw	*w = &o->w;
	size_t		 k;
	const char	*ccy = "";

	jw_arr_end(w);
	kstr_opt(w, "to_date", i->to_date);
	jw_key(w, "balances");
	jw_arr(w);
	for (k = 0; k < s->nbalances; k++) {
		const struct rec_balance	*b = &s->balances[k];

		jw_obj(w);
		jw_kstr(w, "type", bal_type_name(b->type));
		kmoney(w, "amount", b->amount, b->currency);
		kstr_opt(w, "currency", b->currency);
		kstr_opt(w, "date", b->date);
		jw_obj_end(w);
		if (*ccy == '\0')
			ccy = b->currency;
	}
	jw_arr_end(w);
	jw_kint(w, "transaction_count", (int64_t)s->ntxns);
	jw_obj_end(w);
	flush(o);
	return o->err;
}

static int
on_account(void *arg, const struct rec_account *a)
{
	struct out	*o = arg;
	struct jw	 w;

	if (o->nacct >= MAX_LISTED)
		return 0;
	jw_init(&w, &o->accounts);
	if (o->nacct > 0)
		buf_addc(&o->accounts, ',');
	account_json(&w, a);
	o->nacct++;
	return 0;
}

static int
on_warning(void *arg, const struct stmt_warning *x)
{
	struct out	*o = arg;
	struct jw	 w;
	size_t		 mark = o->warnings.len;

	o->nwarn++;
	if (o->nwarn_listed >= MAX_LISTED)
		return 0;
	jw_init(&w, &o->warnings);
	if (o->nwarn_listed > 0)
		buf_addc(&o->warnings, ',');
	jw_obj(&w);
	jw_kstr(&w, "code", stmt_warn_name(x->code));
	if (x->line > 0)
		jw_kint(&w, "line", (int64_t)x->line);
	else
		jw_knull(&w, "line");
	jw_kstr(&w, "message", x->message);
	jw_obj_end(&w);
	if (w.err) {
		/* Out of room: drop this one whole, keep counting. */
		o->warnings.len = mark;
		if (o->warnings.p != NULL)
			o->warnings.p[mark] = '\0';
		o->nwarn_listed = MAX_LISTED;
		return 0;
	}
	o->nwarn_listed++;
	return 0;
}

/*
 * A piece's warning: counted, and the first MAX_LISTED kept as they came.
 * Once every piece is read they go through on_warning() in file order,
 * so the listing, its limits and the count are those of one parse.
 */
static int
on_warning_kept(void *arg, const struct stmt_warning *x)
{
	struct out	*o = arg;
	struct kept	*k;

	o->nwarn++;
	if (o->nkept >= MAX_LISTED)
		return 0;
	if (o->kept == NULL &&
	    (o->kept = calloc(MAX_LISTED, sizeof(*o->kept))) == NULL) {
		o->err = 1;
		return 1;
	}
	k = &o->kept[o->nkept];
	k->code = x->code;
	k->line = x->line;
	k->off = o->kept_msgs.len;
	/* Messages are shorter than STMT_MSGLEN: this fits. */
	if (buf_add(&o->kept_msgs, x->message, strlen(x->message) + 1) == -1) {
		o->err = 1;
		return 1;
	}
	o->nkept++;
	return 0;
}

static void
sink_init(struct stmt_sink *sink, struct out *o, int piece)
{
	memset(sink, 0, sizeof(*sink));
	sink->arg = o;
	sink->begin = on_begin;
	sink->txn = on_txn;
	sink->end = on_end;
	/* Accounts are listed by OFX only, which is never read in pieces. */
	sink->account = piece ? NULL : on_account;
	sink->warning = piece ? on_warning_kept : on_warning;
}

/* The document up to its statements. */
static void
doc_head(struct out *o, enum stmt_format fmt)
{
	jw_obj(&o->w);
	jw_kstr(&o->w, "format", stmt_format_name(fmt));
	jw_key(&o->w, "statements");
	jw_arr(&o->w);
}

/* The document after its statements: accounts, counts and warnings. */
static void
doc_tail(struct out *o, size_t nstatements, size_t ntxns)
{
	jw_arr_end(&o->w);
	jw_key(&o->w, "accounts");
	jw_raw(&o->w, "[", 1);
	buf_add(&o->b, buf_str(&o->accounts), o->accounts.len);
	buf_addc(&o->b, ']');
	jw_kint(&o->w, "statement_count", (int64_t)nstatements);
	jw_kint(&o->w, "transaction_count", (int64_t)ntxns);
	jw_kint(&o->w, "warning_count", (int64_t)o->nwarn);
	jw_key(&o->w, "warnings");
	jw_raw(&o->w, "[", 1);
	buf_add(&o->b, buf_str(&o->warnings), o->warnings.len);
	buf_addc(&o->b, ']');
	jw_obj_end(&o->w);
	buf_addc(&o->b, '\n');
}

/* Says on stderr why the parse of path ended with rc, not STMT_OK. */
static void
parse_failed(const char *path, enum stmt_rc rc, const struct stmt_diag *diag,
    const struct out *o)
{
	char	msg[STMT_MSGLEN + 64];

	if (rc == STMT_REJECTED)
		fprintf(stderr, "bankfeed import: %s: rejected: %s\n", path,
		    stmt_diag_str(diag, msg, sizeof(msg)));
	else if (o->err)
		fprintf(stderr, "bankfeed import: %s: writing the output "
		    "failed\n", path);
	else if (o->w.err)
		fprintf(stderr, "bankfeed import: %s: output too large\n",
		    path);
	else
		fprintf(stderr, "bankfeed import: %s: %s\n", path,
		    stmt_diag_str(diag, msg, sizeof(msg)));
}

/*
 * Pieces.  A large MT940 file (a regular file) is cut into pieces at the
 * ends of its messages, and the pieces are parsed at the same time, one
 * thread each, each into its own spool file; the document is then
 * written from them in order.  Right after an end-of-message line the
 * parser has ended its statement and skips to the next :20:, so a parse
 * started there afresh reads on as the whole-file parse would
 * (stmt_parse_piece()); it needs only the number of lines and of
 * statements before its piece, which a quick count of the pieces gives
 * before they are parsed.  The parse reports what it saw, and the two
 * are compared: a file where they differ (a control byte before a ":20:"
 * that the count does not see) is parsed again in one piece.  When a
 * piece is rejected the earliest rejected piece is the answer, with the
 * line the whole-file parse would give.
 *
 * BANKFEED_IMPORT_SPLIT_BYTES (environment) sets the size of a piece,
 * 4 MiB by default; 0 turns pieces off.  Files no larger than one piece
 * are read whole, and so is every file on a single CPU unless the
 * variable is set.
 */
#define SPLIT_ENV	"BANKFEED_IMPORT_SPLIT_BYTES"
#define SPLIT_BYTES	(4 * 1024 * 1024)
#define SPLIT_THREADS	8
#define SPLIT_PIECES	16
#define SCAN_CHUNK	(256 * 1024)
/* Read past a chunk: the whole of a line that starts in it. */
#define SCAN_LOOK	(2 * STMT_FIELD_MAX)

struct piece {
	off_t		 start, end;
	uint64_t	 lines;		/* its line ends, counted */
	size_t		 n20;		/* its lines that start a statement */
	int		 count_err;
	struct stmt_piece sp;
	struct out	 o;
	struct stmt_diag diag;
	enum stmt_rc	 rc;
};

struct split {
	int		 fd;
	const char	*path;
	dev_t		 dev;		/* the file's, to open it again */
	ino_t		 ino;
	struct piece	*p;
	size_t		 np;
	pthread_mutex_t	 lock;
	pthread_cond_t	 counted_cv;
	size_t		 next_count, ncounted, next_parse;
	size_t		 failed;	/* the first piece that failed, or np */
	int		 count_err;	/* reading failed: read the file whole */
	int		 setup_err;
	int		 strict;	/* --strict */
};

/* Reads n bytes at off into b; -1 when they are not all there. */
static int
read_at(int fd, char *b, size_t n, off_t off)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = pread(fd, b, n, off)) == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/*
 * The CR or LF at b[i] (len bytes in b): a line end unless it is the CR
 * of a CRLF, as mt940.c reads them.  A CR that is the last byte is one:
 * a piece ends with one only where no LF follows.  The line after it is
 * looked at when it starts before len.
 */
static inline void
count_end(const char *b, size_t len, size_t i, uint64_t *lines, size_t *n20)
{
	if (b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')
		return;
	(*lines)++;
	if (i + 1 < len)
		*n20 += (size_t)mt940_opens_stmt(b + i + 1, len - i - 1);
}

/*
 * Counts the line ends of a piece and its lines that start a statement,
 * reading it a chunk at a time into b (SCAN_CHUNK + SCAN_LOOK bytes).
 */
static int
count_piece(int fd, struct piece *p, char *b)
{
	off_t		 off = p->start;
	size_t		 len, n, i;
	uint64_t	 lines = 0;
	size_t		 n20 = 0;

	while (off < p->end) {
		len = (size_t)(p->end - off);
		if (len > SCAN_CHUNK + SCAN_LOOK)
			len = SCAN_CHUNK + SCAN_LOOK;
		if (read_at(fd, b, len, off) == -1)
			return -1;
		if (off == p->start)
			n20 += (size_t)mt940_opens_stmt(b, len);
		n = len < SCAN_CHUNK ? len : SCAN_CHUNK;
		i = 0;
#ifdef __SSE2__
		for (; i + 16 <= n; i += 16) {
			__m128i		x = _mm_loadu_si128((const __m128i *)
					    (const void *)(b + i));
			unsigned	m = (unsigned)_mm_movemask_epi8(
					    _mm_or_si128(
					    _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
					    _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));

			for (; m != 0; m &= m - 1)
				count_end(b, len, i + (size_t)__builtin_ctz(m),
				    &lines, &n20);
		}
#endif
		for (; i < n; i++)
			if (b[i] == '\n' || b[i] == '\r')
				count_end(b, len, i, &lines, &n20);
		off += (off_t)n;
	}
	p->lines = lines;
	p->n20 = n20;
	return 0;
}

/*
 * The length of the end-of-message line at s (mt940_end_mark()) with its
 * line end, or 0.  n bytes are here.
 */
static size_t
end_line_len(const char *s, size_t n)
{
	size_t	i;

	if ((i = mt940_end_mark(s, n)) == 0 || i == n)
		return 0;
	if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
		return i + 2;
	if (s[i] == '\r' && i + 1 == n)
		return 0;	/* an LF may follow: not known here */
	return i + 1;
}

/*
 * The first place in [from, to) where a piece can start: right after an
 * end-of-message line that starts at or after from and is followed by a
 * line that opens a statement, before the end of the file.  0 when there is none.  from is at least 1: the byte
 * before it says whether a line starts at from.
 */
static off_t
find_split(int fd, off_t from, off_t to, off_t size, char *b)
{
	off_t	off = from - 1;
	size_t	len, n, i, k;

	while (off < to - 1) {
		len = (size_t)(size - off);
		if (len > SCAN_CHUNK + 128)
			len = SCAN_CHUNK + 128;
		if (read_at(fd, b, len, off) == -1)
			return 0;
		n = len < SCAN_CHUNK ? len : SCAN_CHUNK;
		if ((off_t)n > to - 1 - off)
			n = (size_t)(to - 1 - off);
		for (i = 0; i < n; i++) {
			if (b[i] != '\n' && b[i] != '\r')
				continue;
			/* A line starts at i + 1 (after a CRLF's LF only). */
			if (b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')
				continue;
			/*
			 * Only where a statement follows at once: a "-" before
			 * anything else may be a line of a :86: (mt940.c).
			 */
			if ((k = end_line_len(b + i + 1, len - i - 1)) > 0 &&
			    off + (off_t)(i + 1 + k) < size &&
			    mt940_opens_stmt(b + i + 1 + k, len - i - 1 - k))
				return off + (off_t)(i + 1 + k);
		}
		off += (off_t)n;
	}
	return 0;
}

/* The next piece to count or to parse, or np when there is none. */
static size_t
split_take(struct split *s, size_t *next, int parse)
{
	size_t	i;

	pthread_mutex_lock(&s->lock);
	i = *next;
	/* Past a piece that failed nothing is needed any more. */
	if (parse && (i > s->failed || s->count_err || s->setup_err))
		i = s->np;
	if (i < s->np)
		(*next)++;
	pthread_mutex_unlock(&s->lock);
	return i;
}

static void
split_parse(struct split *s, size_t i)
{
	struct piece		*p = &s->p[i];
	struct stmt_sink	 sink;
	struct stat		 st;
	FILE			*f;
	size_t			 k;

	p->sp.bytes = (uint64_t)(p->end - p->start);
	p->sp.first = i == 0;
	p->sp.last = i == s->np - 1;
	for (k = 0; k < i; k++) {
		p->sp.line0 += s->p[k].lines;
		p->sp.index0 += s->p[k].n20;
	}
	/* The piece's elements of the statements array, no bracket. */
	jw_arr(&p->o.w);
	buf_reset(&p->o.b);
	/*
	 * A FILE of its own, with its own offset and read-ahead: the file
	 * opened again (the same file: checked), at the piece's start.
	 */
	f = fopen(s->path, "rb");
	if (f == NULL || fstat(fileno(f), &st) == -1 || st.st_dev != s->dev ||
	    st.st_ino != s->ino || fseeko(f, p->start, SEEK_SET) == -1 ||
	    (p->o.ob = malloc(OB_CAP)) == NULL) {
		/* Not a parse that failed: the file is read whole instead. */
		p->rc = STMT_FAILED;
		pthread_mutex_lock(&s->lock);
		s->setup_err = 1;
		pthread_mutex_unlock(&s->lock);
	} else {
		sink_init(&sink, &p->o, 1);
		sink.strict = s->strict;
		p->rc = stmt_parse_piece(f, STMT_MT940, &sink, &p->diag, &p->sp);
	}
	if (f != NULL)
		fclose(f);
	if (p->rc == STMT_OK) {
		/* All of it to the spool file: memory for the next piece. */
		flush(&p->o);
		spill(&p->o);
	}
	free(p->o.ob);
	p->o.ob = NULL;
	p->o.olen = 0;
	buf_free(&p->o.b);
	if (p->rc != STMT_OK) {
		pthread_mutex_lock(&s->lock);
		if (i < s->failed)
			s->failed = i;
		pthread_mutex_unlock(&s->lock);
	}
}

/*
 * A thread: counts pieces while there are some to count, waits until
 * all are, then parses pieces while there are some to parse.
 */
static void *
split_worker(void *arg)
{
	struct split	*s = arg;
	char		*b = malloc(SCAN_CHUNK + SCAN_LOOK);
	size_t		 i;

	while ((i = split_take(s, &s->next_count, 0)) < s->np) {
		s->p[i].count_err = b == NULL ||
		    count_piece(s->fd, &s->p[i], b) == -1;
		pthread_mutex_lock(&s->lock);
		s->count_err |= s->p[i].count_err;
		if (++s->ncounted == s->np)
			pthread_cond_broadcast(&s->counted_cv);
		pthread_mutex_unlock(&s->lock);
	}
	free(b);
	pthread_mutex_lock(&s->lock);
	while (s->ncounted < s->np)
		pthread_cond_wait(&s->counted_cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	while ((i = split_take(s, &s->next_parse, 1)) < s->np)
		split_parse(s, i);
	return NULL;
}

/* The document: o's head, the pieces' statements, o's tail. */
static int
split_emit(struct out *o, size_t hlen, const struct split *s)
{
	int	out = fileno(stdout);
	size_t	i, nst = 0;

	if (fflush(stdout) != 0 || write_all(out, o->b.p, hlen) == -1)
		return -1;
	for (i = 0; i < s->np; i++) {
		if (s->p[i].diag.nstatements == 0)
			continue;
		if ((nst > 0 && write_all(out, ",", 1) == -1) ||
		    emit_spool(out, s->p[i].o.spool) == -1)
			return -1;
		nst += s->p[i].diag.nstatements;
	}
	return write_all(out, o->b.p + hlen, o->b.len - hlen);
}

/*
 * Cuts the file of in into pieces where it can (see "Pieces" above) and
 * imports them in threads, into o (the document's head and tail).
 * Returns 0 with *status when it did, -1 when the file is to be read in
 * one piece (too small, not a regular file, no place to cut, or counts
 * that disagree with the parse); nothing has been written then.
 */
static int
import_split(FILE *in, const char *path, int strict, struct out *o,
    int *status)
{
	struct split	 s;
	struct stat	 st;
	const char	*env = getenv(SPLIT_ENV);
	char		*end, *b = NULL;
	unsigned long long piece = SPLIT_BYTES;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t	 tid[SPLIT_THREADS];
	size_t		 i, nthreads, nt = 0, want, hlen, nst = 0, ntx = 0;
	uint64_t	 lines = 0;
	off_t		 cut, prev = 0;
	struct stmt_warning w;
	int		 rv = -1;

	memset(&s, 0, sizeof(s));
	if (env != NULL && (*env < '0' || *env > '9'))
		env = NULL;	/* not a number: as if unset */
	if (env != NULL) {
		errno = 0;
		piece = strtoull(env, &end, 10);
		if (errno != 0 || *end != '\0')
			piece = SPLIT_BYTES;
	}
	nthreads = ncpu < 1 ? 1 : ncpu > SPLIT_THREADS ? SPLIT_THREADS :
	    (size_t)ncpu;
	if (piece == 0 || (nthreads < 2 && env == NULL) ||
	    fstat(fileno(in), &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size <= piece)
		return -1;
	want = (size_t)(((unsigned long long)st.st_size + piece - 1) / piece);
	if (want > SPLIT_PIECES)
		want = SPLIT_PIECES;
	if ((s.p = calloc(want, sizeof(*s.p))) == NULL ||
	    (b = malloc(SCAN_CHUNK + 128)) == NULL)
		goto out;
	for (i = 0; i < want; i++)
		out_init(&s.p[i].o);
	s.fd = fileno(in);
	s.path = path;
	s.strict = strict;
	s.dev = st.st_dev;
	s.ino = st.st_ino;
	/* A cut near each i/want of the file, where one can be made. */
	for (i = 1; i <= want; i++) {
		cut = i == want ? st.st_size : find_split(s.fd,
		    (off_t)((unsigned long long)st.st_size * (i) / want),
		    (off_t)((unsigned long long)st.st_size * (i + 1) / want),
		    st.st_size, b);
		if (cut <= prev)
			continue;
		s.p[s.np].start = prev;
		s.p[s.np].end = cut;
		prev = cut;
		s.np++;
	}
	free(b);
	b = NULL;
	if (s.np < 2)
		goto out;
	s.failed = s.np;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.counted_cv, NULL);
	if (nthreads > s.np)
		nthreads = s.np;
	/* This thread is one of them. */
	for (nt = 0; nt + 1 < nthreads; nt++)
		if (pthread_create(&tid[nt], NULL, split_worker, &s) != 0)
			break;
	split_worker(&s);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_cond_destroy(&s.counted_cv);
	pthread_mutex_destroy(&s.lock);
	if (s.count_err || s.setup_err)
		goto out;

	/* The counts the pieces started from, against what was parsed. */
	for (i = 1; i < s.np && i <= s.failed; i++) {
		lines += s.p[i - 1].sp.nlines;
		nst += s.p[i - 1].diag.nstatements;
		if (s.p[i].sp.line0 != lines || s.p[i].sp.index0 != nst)
			goto out;
	}
	rv = 0;
	*status = 1;
	if (s.failed < s.np) {
		parse_failed(path, s.p[s.failed].rc, &s.p[s.failed].diag,
		    &s.p[s.failed].o);
		goto out;
	}
	nst = 0;
	for (i = 0; i < s.np; i++) {
		struct out	*po = &s.p[i].o;

		if (po->err) {
			fprintf(stderr, "bankfeed import: writing the output "
			    "failed\n");
			goto out;
		}
		nst += s.p[i].diag.nstatements;
		ntx += s.p[i].diag.ntxns;
		for (size_t k = 0; k < po->nkept; k++) {
			w.format = STMT_MT940;
			w.code = po->kept[k].code;
			w.line = po->kept[k].line;
			w.message = po->kept_msgs.p + po->kept[k].off;
			on_warning(o, &w);
		}
		o->nwarn += po->nwarn - po->nkept;
	}
	hlen = o->b.len;
	doc_tail(o, nst, ntx);
	if (jw_finish(&o->w) == -1) {
		fprintf(stderr, "bankfeed import: %s: output too large\n", path);
		goto out;
	}
	if (split_emit(o, hlen, &s) == -1) {
		fprintf(stderr, "bankfeed import: writing the output failed\n");
		goto out;
	}
	*status = 0;
out:
	free(b);
	if (s.p != NULL)
		for (i = 0; i < want; i++)
			out_free(&s.p[i].o);
	free(s.p);
	return rv;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bankfeed import FILE [--format camt053|mt940|"
	    "ofx] [--strict]\n       FILE - reads standard input; --strict "
	    "rejects impossible dates and\n       MT940 statements without "
	    ":62F: (a warning otherwise)\n");
}

/* Copies in to a temporary file, returned rewound; NULL on failure. */
static FILE *
spool(FILE *in)
{
	FILE	*t = tmpfile();
	char	 chunk[65536];
	size_t	 n;

	if (t == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (fwrite(chunk, 1, n, t) != n) {
			fclose(t);
			return NULL;
		}
	if (ferror(in) || fflush(t) != 0 || fseek(t, 0, SEEK_SET) != 0) {
		fclose(t);
		return NULL;
	}
	return t;
}

int
formats_cmd_import(int argc, char **argv)
{
	const char		*path = NULL, *fmtname = NULL;
	FILE			*in = NULL, *f;
	enum stmt_format	 fmt;
	struct stmt_diag	 diag;
	struct stmt_sink	 sink;
	struct out		 o;
	char			 head[STMT_DETECT_LEN];
	size_t			 n;
	int			 i, status = 1, spooled = 0, strict = 0;
	enum stmt_rc		 rc;

	out_init(&o);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			fmtname = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			fmtname = argv[i] + 9;
		else if (strcmp(argv[i], "--strict") == 0)
			strict = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage();
			status = 2;
			goto out;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "bankfeed import: unknown option %s\n",
			    argv[i]);
			usage();
			status = 2;
			goto out;
		} else if (path == NULL)
			path = argv[i];
		else {
			usage();
			status = 2;
			goto out;
		}
	}
	if (path == NULL) {
		usage();
		status = 2;
		goto out;
	}
	if (fmtname != NULL && stmt_format_parse(fmtname, &fmt) == -1) {
		fprintf(stderr, "bankfeed import: unknown format \"%s\" "
		    "(camt053, mt940 or ofx)\n", fmtname);
		status = 2;
		goto out;
	}
	if (strcmp(path, "-") == 0) {
		in = spool(stdin);
		spooled = 1;
	} else if ((f = fopen(path, "rb")) != NULL) {
		/* Pipes and such cannot be read twice: spool them. */
		if (fseek(f, 0, SEEK_SET) == 0)
			in = f;
		else {
			in = spool(f);
			spooled = 1;
			fclose(f);
		}
	}
	if (in == NULL) {
		fprintf(stderr, "bankfeed import: %s: %s\n", path, strerror(errno));
		goto out;
	}
	n = fread(head, 1, sizeof(head), in);
	if (fmtname == NULL && stmt_detect(head, n, &fmt) == -1) {
		fprintf(stderr, "bankfeed import: %s: not a camt.053, MT940 or "
		    "OFX statement file (use --format to say which)\n", path);
		goto out;
	}
	if (fseek(in, 0, SEEK_SET) != 0)
		goto ioerr;

	doc_head(&o, fmt);
	if (fmt == STMT_MT940 && !spooled &&
	    import_split(in, path, strict, &o, &status) == 0)
		goto out;
	if ((o.ob = malloc(OB_CAP)) == NULL) {
		fprintf(stderr, "bankfeed import: out of memory\n");
		goto out;
	}
	sink_init(&sink, &o, 0);
	sink.strict = strict;
	rc = stmt_parse(in, fmt, &sink, &diag);
	if (rc != STMT_OK) {
		parse_failed(path, rc, &diag, &o);
		goto out;
	}
	doc_tail(&o, diag.nstatements, diag.ntxns);
	if (jw_finish(&o.w) == -1) {
		fprintf(stderr, "bankfeed import: %s: output too large\n", path);
		goto out;
	}
	if (o.err || emit_all(&o) == -1) {
		fprintf(stderr, "bankfeed import: writing the output failed\n");
		goto out;
	}
	status = 0;
	goto out;
ioerr:
	fprintf(stderr, "bankfeed import: %s: %s\n", path, strerror(errno));
out:
	if (in != NULL)
		fclose(in);
	out_free(&o);
	return status;
}
