/*
 * import: `bankfeed import FILE [--format NAME] [--strict]`, the
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
 * in import_split.c): the output is the same to the byte.
 */
#include "formats/import.h"

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

void
import_out_init(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->spool = -1;
	buf_init(&o->b, OUT_MAX);
	buf_init(&o->warnings, TAIL_MAX);
	buf_init(&o->accounts, TAIL_MAX);
	buf_init(&o->kept_msgs, MAX_LISTED * STMT_MSGLEN);
	jw_init(&o->w, &o->b);
}

void
import_out_free(struct out *o)
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

int
import_write_all(int fd, const char *p, size_t n)
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

/* Writes ob to the spool file, created at the first import_spill. */
void
import_spill(struct out *o)
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
	if (import_write_all(o->spool, o->ob, o->olen) == -1)
		o->err = 1;
	o->olen = 0;
}

/*
 * Moves what jw staged in b on into ob, and ob out of memory once it is
 * large: to the spool file, in pieces of OUT_FLUSH or more.
 */
void
import_flush(struct out *o)
{
	if (o->b.len > 0) {
		if (o->b.len > OB_CAP - o->olen)
			import_spill(o);
		if (o->b.len > OB_CAP) {
			import_spill(o);
			if (import_write_all(o->spool, o->b.p, o->b.len) == -1)
				o->err = 1;
		} else {
			memcpy(o->ob + o->olen, o->b.p, o->b.len);
			o->olen += o->b.len;
		}
		buf_reset(&o->b);
	}
	if (o->olen >= (o->spool == -1 ? OUT_KEEP : OUT_FLUSH))
		import_spill(o);
}

/* The contents of the spool file fd (its offset is its end) to out. */
int
import_emit_spool(int out, int fd)
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
			if (import_write_all(out, chunk, (size_t)k) == -1)
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
	if (o->spool != -1 && import_emit_spool(out, o->spool) == -1)
		return -1;
	if (import_write_all(out, o->ob, o->olen) == -1)
		return -1;
	return import_write_all(out, o->b.p != NULL ? o->b.p : "", o->b.len);
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
	if (i->member != NULL)		/* from a ZIP archive */
		jw_kstr(w, "member", i->member);
	kstr_opt(w, "id", i->id);
	kstr_opt(w, "sequence", i->sequence);
	kstr_opt(w, "from_date", i->from_date);
	jw_kbool(w, "interim", i->interim);
	jw_key(w, "account");
	account_json(w, a);
	jw_key(w, "transactions");
	jw_arr(w);
	import_flush(o);
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
	import_flush(o);
	if (OB_CAP - o->olen < TXN_JSON_MAX)
		import_spill(o);
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
	    r->details_bank_transaction_code, &room);
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
		import_spill(o);
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
	import_flush(o);
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

int
import_on_warning(void *arg, const struct stmt_warning *x)
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
 * Once every piece is read they go through import_on_warning() in file order,
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

void
import_sink_init(struct stmt_sink *sink, struct out *o, int piece)
{
	memset(sink, 0, sizeof(*sink));
	sink->arg = o;
	sink->begin = on_begin;
	sink->txn = on_txn;
	sink->end = on_end;
	/* Accounts are listed by OFX only, which is never read in pieces. */
	sink->account = piece ? NULL : on_account;
	sink->warning = piece ? on_warning_kept : import_on_warning;
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
void
import_doc_tail(struct out *o, size_t nstatements, size_t ntxns)
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
void
import_parse_failed(const char *path, enum stmt_rc rc, const struct stmt_diag *diag,
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

static void
usage(void)
{
	char	names[256];

	fprintf(stderr, "usage: bankfeed import FILE [--format %s] "
	    "[--strict]\n       FILE - reads standard input; --strict "
	    "rejects impossible dates and\n       MT940 statements without "
	    ":62F: (a warning otherwise)\n",
	    stmt_format_names("|", names, sizeof(names)));
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

	import_out_init(&o);
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
		    "(%s)\n", fmtname, stmt_format_names(", ", head,
		    sizeof(head)));
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
		    "OFX statement file, nor CODA, BAI2 or a ZIP archive of "
		    "them (use --format to say which)\n", path);
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
	import_sink_init(&sink, &o, 0);
	sink.strict = strict;
	rc = stmt_parse(in, fmt, &sink, &diag);
	if (rc != STMT_OK) {
		import_parse_failed(path, rc, &diag, &o);
		goto out;
	}
	import_doc_tail(&o, diag.nstatements, diag.ntxns);
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
	import_out_free(&o);
	return status;
}
