/*
 * import: `bankfeed import FILE [--format camt053|mt940|ofx]`, the
 * offline way to read a statement file: the normalized statements go to
 * stdout as JSON, written in chunks as the parser streams them.
 *
 * The file is parsed twice: once to check it, then to print it, so that
 * stdout gets either one complete JSON document (exit 0) or nothing and
 * the reason on stderr (exit 1).  Standard input is spooled to a
 * temporary file first; memory stays bounded either way.
 */
#include "formats/fmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/jw.h"
#include "core/money.h"

#define OUT_MAX		(4 * 1024 * 1024)	/* one transaction fits */
#define OUT_FLUSH	(64 * 1024)
#define TAIL_MAX	(1024 * 1024)		/* warnings, listed accounts */
#define MAX_LISTED	1000

struct out {
	FILE		*f;
	struct buf	 b;
	struct jw	 w;
	int		 in_txns;
	int		 err;
	struct buf	 warnings;	/* rendered JSON objects, comma-joined */
	size_t		 nwarn, nwarn_listed;
	struct buf	 accounts;
	size_t		 nacct;
};

static void
flush(struct out *o, int force)
{
	if (o->b.len == 0 || (!force && o->b.len < OUT_FLUSH))
		return;
	if (fwrite(o->b.p, 1, o->b.len, o->f) != o->b.len)
		o->err = 1;
	buf_reset(&o->b);
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
	flush(o, 0);
	return o->err;
}

static int
on_txn(void *arg, const struct stmt_info *i, const struct stmt_txn *t)
{
	struct out		*o = arg;
	struct jw		*w = &o->w;
	const struct rec_txn	*r = &t->rec;

	(void)i;
	jw_obj(w);
	jw_kint(w, "line", (int64_t)t->line);
	jw_kstr(w, "status", r->status == TXN_PENDING ? "pending" : "booked");
	kstr_opt(w, "booking_date", r->booking_date);
	kstr_opt(w, "value_date", r->value_date);
	kmoney(w, "amount", r->amount, r->currency);
	kstr_opt(w, "currency", r->currency);
	kstr_opt(w, "counterparty_name", r->cp_name);
	kstr_opt(w, "counterparty_iban", r->cp_iban);
	kstr_opt(w, "description", r->description);
	kstr_opt(w, "bank_transaction_code", r->bank_transaction_code);
	kstr_opt(w, "purpose_code", t->purpose_code);
	kstr_opt(w, "bank_reference", r->bank_reference);
	kstr_opt(w, "end_to_end_id", r->end_to_end_id);
	kstr_opt(w, "bank_id", r->bank_id);
	kstr_opt(w, "check_number", t->check_number);
	jw_kbool(w, "reversal", t->reversal);
	jw_obj_end(w);
	flush(o, 0);
	return o->err;
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
	flush(o, 0);
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

static void
usage(void)
{
	fprintf(stderr, "usage: bankfeed import FILE [--format camt053|mt940|"
	    "ofx]\n       FILE - reads standard input\n");
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
	char			 head[STMT_DETECT_LEN], msg[STMT_MSGLEN + 64];
	size_t			 n;
	int			 i, status = 1, detected = 0;
	enum stmt_rc		 rc;

	memset(&o, 0, sizeof(o));
	buf_init(&o.b, OUT_MAX);
	buf_init(&o.warnings, TAIL_MAX);
	buf_init(&o.accounts, TAIL_MAX);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			fmtname = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			fmtname = argv[i] + 9;
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
	if (strcmp(path, "-") == 0)
		in = spool(stdin);
	else if ((f = fopen(path, "rb")) != NULL) {
		/* Pipes and such cannot be read twice: spool them. */
		if (fseek(f, 0, SEEK_SET) == 0)
			in = f;
		else {
			in = spool(f);
			fclose(f);
		}
	}
	if (in == NULL) {
		fprintf(stderr, "bankfeed import: %s: %s\n", path, strerror(errno));
		goto out;
	}
	n = fread(head, 1, sizeof(head), in);
	if (fmtname == NULL) {
		if (stmt_detect(head, n, &fmt) == -1) {
			fprintf(stderr, "bankfeed import: %s: not a camt.053, "
			    "MT940 or OFX statement file (use --format to say "
			    "which)\n", path);
			goto out;
		}
		detected = 1;
	}
	(void)detected;
	if (fseek(in, 0, SEEK_SET) != 0)
		goto ioerr;

	/* First pass: is the file good? */
	rc = stmt_parse(in, fmt, NULL, &diag);
	if (rc != STMT_OK) {
		fprintf(stderr, "bankfeed import: %s: rejected: %s\n", path,
		    stmt_diag_str(&diag, msg, sizeof(msg)));
		goto out;
	}
	if (fseek(in, 0, SEEK_SET) != 0)
		goto ioerr;

	/* Second pass: print it. */
	o.f = stdout;
	jw_init(&o.w, &o.b);
	jw_obj(&o.w);
	jw_kstr(&o.w, "format", stmt_format_name(fmt));
	jw_key(&o.w, "statements");
	jw_arr(&o.w);
	memset(&sink, 0, sizeof(sink));
	sink.arg = &o;
	sink.begin = on_begin;
	sink.txn = on_txn;
	sink.end = on_end;
	sink.account = on_account;
	sink.warning = on_warning;
	rc = stmt_parse(in, fmt, &sink, &diag);
	if (rc != STMT_OK) {
		fprintf(stderr, "bankfeed import: %s: %s\n", path,
		    stmt_diag_str(&diag, msg, sizeof(msg)));
		goto out;
	}
	jw_arr_end(&o.w);
	jw_key(&o.w, "accounts");
	jw_raw(&o.w, "[", 1);
	buf_add(&o.b, buf_str(&o.accounts), o.accounts.len);
	buf_addc(&o.b, ']');
	jw_kint(&o.w, "statement_count", (int64_t)diag.nstatements);
	jw_kint(&o.w, "transaction_count", (int64_t)diag.ntxns);
	jw_kint(&o.w, "warning_count", (int64_t)o.nwarn);
	jw_key(&o.w, "warnings");
	jw_raw(&o.w, "[", 1);
	buf_add(&o.b, buf_str(&o.warnings), o.warnings.len);
	buf_addc(&o.b, ']');
	jw_obj_end(&o.w);
	buf_addc(&o.b, '\n');
	if (jw_finish(&o.w) == -1) {
		fprintf(stderr, "bankfeed import: %s: output too large\n", path);
		goto out;
	}
	flush(&o, 1);
	if (o.err || fflush(stdout) != 0) {
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
	buf_free(&o.b);
	buf_free(&o.warnings);
	buf_free(&o.accounts);
	return status;
}
