/*
 * mt940.h: what the MT940/MT942 reader (mt940.c) and its :86: dialects
 * (mt940_details.c) share, internal to src/formats.
 */
#ifndef BF_MT940_H
#define BF_MT940_H

#include "formats/fmt.h"

/*
 * ASCII classes by hand: <ctype.h> goes through the locale's table (a call
 * per byte), and these run several times per byte of a statement.  Same
 * answers as the C locale bankfeed runs in.
 */
static inline int
is_digit(int c)
{
	return (unsigned)c - '0' < 10;
}

static inline int
is_upper(int c)
{
	return (unsigned)c - 'A' < 26;
}

static inline int
is_alnum(int c)
{
	return is_digit(c) || is_upper(c) || (unsigned)c - 'a' < 26;
}

/*
 * Whether the :86: text s (n bytes) is the German structured form: a
 * three-digit business transaction code, a delimiter that is not a
 * letter, digit or space, and the two digits of the first subfield.
 */
static inline int
gvc_form(const char *s, size_t n)
{
	/* Polish banks write a space before the code (":86: 020?00..."). */
	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	return n > 5 && is_digit((unsigned char)s[0]) &&
	    is_digit((unsigned char)s[1]) && is_digit((unsigned char)s[2]) &&
	    !is_alnum((unsigned char)s[3]) && s[3] != ' ' &&
	    is_digit((unsigned char)s[4]) && is_digit((unsigned char)s[5]);
}

struct mt {
	FILE		*in;
	struct fmt_ctx	*c;
	uint64_t	 lineno;
	int		 eof;
	int		 pending_cr;	/* last line ended with CR: skip an LF */
	const char	*ls;		/* the line, NUL-terminated */
	size_t		 ln;
	struct buf	 line;		/* the line made UTF-8, when it had to be */

	/* The field being collected. */
	char		 tag[4];
	uint64_t	 tag_line;
	uint64_t	 before_tag;	/* the last line before the field */
	int		 have_field;
	int		 after_end;	/* after "-": skip until :20: */
	/*
	 * A "-" line inside an open :86: (ING wraps text so): an end of
	 * message or a line of the text, which the next line tells.
	 */
	uint64_t	 dash_line;
	uint64_t	 prev_line;	/* the line before it that was not blank */
	uint64_t	 last_line;	/* the last line that was not blank */
	/* The first line before a :20: that is no MT940 header line. */
	uint64_t	 bad_line;
	char		 bad_text[48];
	char		 last_date[11];	/* the last good date, for a bad one */
	struct buf	 field;		/* lines joined with '\n' */
	/*
	 * A German structured :86: (gvc_form()) is glued without its line
	 * ends as it is read, since mt_details() would take them out: they
	 * are only counted, so that the limits stay those of the text with
	 * them.
	 */
	int		 field_glued;
	size_t		 field_nl;

	/* The statement. */
	int		 in_stmt;
	int		 seen_20;
	char		 last_tag[4];
	struct buf	 ref, seq, acct;
	int		 acct_locked;	/* :25: cannot change any more */
	int		 interim;
	int		 n_credit, n_debit;
	int64_t		 sum_credit, sum_debit;	/* saturating, for :90C:/:90D: */
	int		 has_90d, has_90c;
	int		 has_opening, has_closing;
	int64_t		 s90d, s90c;
	int		 n90d, n90c;
	uint64_t	 line_90;

	/* The transaction waiting for its :86:. */
	int		 have_txn;
	struct stmt_txn	 txn;
	struct buf	 t_cref, t_bref, t_supp, t_name, t_details;
	char		 t_code[5];
	int		 t_details_lines;
	int		 t_glued;	/* t_details is one glued :86: */
	size_t		 t_nl;		/* line ends not stored in t_details */
	/* Pieces of :86: once read, and scratch space for reading it. */
	struct buf	 d_desc, d_name, d_iban, d_e2e, d_posting, d_gvc;
	struct buf	 x_text, x_purpose, x_sepa;
	/* gvc_fields by subfield number: 1 + its role, 0 when unknown. */
	unsigned char	 gvc_role[100];

	/* Read buffer, and a byte to end a last line with no line end. */
	unsigned char	 rb[65536 + 1];
	size_t		 rpos, rlen;
	int		 reof;
	uint64_t	 left;		/* bytes still to read (a piece's) */
};

static inline int
is_ccy(const char *s)
{
	return is_upper((unsigned char)s[0]) && is_upper((unsigned char)s[1]) &&
	    is_upper((unsigned char)s[2]);
}

/* The field's first line: a pointer into m->field and its length. */
static inline size_t
first_line(struct mt *m, const char **p)
{
	const char	*s = buf_str(&m->field);
	const char	*nl = memchr(s, '\n', m->field.len);

	*p = s;
	return nl != NULL ? (size_t)(nl - s) : m->field.len;
}

/* mt940_fields.c: each a stmt_rc; m->tag is the field, m->field its text. */
/* A balance field (:60F: :62F: :64: :65: and M forms) of type type. */
enum stmt_rc	mt_balance(struct mt *, enum bal_type type);
/* The :61: statement line, into m->txn and m->t_*. */
enum stmt_rc	mt_txn(struct mt *);
/* MT942 :90D: (credit 0) or :90C: (credit 1). */
enum stmt_rc	mt_sum(struct mt *, int credit);

/* mt940_details.c */
/* Fills m->gvc_role from the table of German subfields. */
void		mt_details_init(struct mt *);
/*
 * Splits the :86: lines of the pending transaction (m->t_details) into
 * description, counterparty and references (m->d_*).
 */
enum stmt_rc	mt_details(struct mt *);

#endif
