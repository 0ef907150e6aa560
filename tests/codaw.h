/*
 * codaw: writes CODA records for the tests: each record is 128 blanks
 * with texts put at their 1-based positions, as the Febelfin standard
 * numbers them, so a test reads like the standard's tables.
 */
#ifndef BF_CODAW_H
#define BF_CODAW_H

#include <stdarg.h>
#include <string.h>

struct codaw {
	char	p[65536];
	size_t	len;
};

/*
 * Appends one record and CRLF: codaw_rec(w, 1, "21", 3, "0001", ..., 0).
 */
static __attribute__((unused)) void
codaw_rec(struct codaw *w, ...)
{
	char	r[129];
	va_list	ap;
	int	pos;

	memset(r, ' ', 128);
	r[128] = '\0';
	va_start(ap, w);
	while ((pos = va_arg(ap, int)) > 0) {
		const char	*s = va_arg(ap, const char *);
		size_t		 n = strlen(s);

		if (pos - 1 + n > 128)
			n = (size_t)(128 - (pos - 1));
		memcpy(r + pos - 1, s, n);
	}
	va_end(ap);
	if (w->len + 130 < sizeof(w->p)) {
		memcpy(w->p + w->len, r, 128);
		memcpy(w->p + w->len + 128, "\r\n", 2);
		w->len += 130;
		w->p[w->len] = '\0';
	}
}

/* The header of a CODA file created on `ddmmyy` by bank 300 (BBRUBEBB). */
static __attribute__((unused)) void
codaw_header(struct codaw *w, const char *ddmmyy)
{
	codaw_rec(w, 1, "00000", 6, ddmmyy, 12, "300", 15, "05", 35,
	    "BANKFEED TEST", 61, "BBRUBEBB", 128, "2", 0);
}

/* Old balance of IBAN account `iban` in EUR: sign '0'/'1', 15 digits. */
static __attribute__((unused)) void
codaw_old(struct codaw *w, const char *iban, const char *sign,
    const char *amount15, const char *ddmmyy)
{
	codaw_rec(w, 1, "13", 3, "012", 6, iban, 40, "EUR", 43, sign, 44,
	    amount15, 59, ddmmyy, 65, "ACME BVBA", 91, "Zichtrekening", 126,
	    "012", 0);
}

/* A movement 21 with an unstructured communication. */
static __attribute__((unused)) void
codaw_mv(struct codaw *w, const char *seq, const char *sign,
    const char *amount15, const char *ddmmyy, const char *text)
{
	codaw_rec(w, 1, "21", 3, seq, 7, "0000", 11, "REF", 32, sign, 33,
	    amount15, 48, ddmmyy, 54, "00150000", 62, "0", 63, text, 116,
	    ddmmyy, 122, "012", 125, "0", 126, "0", 128, "0", 0);
}

static __attribute__((unused)) void
codaw_new(struct codaw *w, const char *iban, const char *sign,
    const char *amount15, const char *ddmmyy)
{
	codaw_rec(w, 1, "8", 2, "012", 5, iban, 39, "EUR", 42, sign, 43,
	    amount15, 58, ddmmyy, 0);
}

/* Trailer: records, debit and credit sums (6 and 15 digits). */
static __attribute__((unused)) void
codaw_trailer(struct codaw *w, const char *n6, const char *deb15,
    const char *cred15)
{
	codaw_rec(w, 1, "9", 17, n6, 23, deb15, 38, cred15, 128, "2", 0);
}

/*
 * A whole file: one statement of BE68539007547034 from 10.00 EUR on
 * 2 March 2024, one movement of 1.00 (sign '0' or '1') entered on
 * `date`, the new balance `new15`, and a trailer saying `n6` records and
 * `deb15` of debits.
 */
static __attribute__((unused)) void
codaw_one(struct codaw *w, const char *sign, const char *date,
    const char *new15, const char *n6, const char *deb15)
{
	codaw_header(w, "030324");
	codaw_old(w, "BE68539007547034", "0", "000000000010000", "020324");
	codaw_mv(w, "0001", sign, "000000000001000", date, "Coffee");
	codaw_new(w, "BE68539007547034", "0", new15, "030324");
	codaw_trailer(w, n6, deb15, "000000000000000");
}

#endif
