/*
 * money: amounts are an integer count of minor units plus an ISO 4217
 * currency, from parsing to JSON output.  No float ever holds an amount.
 */
#ifndef BF_MONEY_H
#define BF_MONEY_H

#include <stddef.h>
#include <stdint.h>

enum money_rc {
	MONEY_OK = 0,
	MONEY_INEXACT,		/* more decimals than the currency: rounded half-even */
	MONEY_BAD,		/* not a decimal number */
	MONEY_OVERFLOW		/* does not fit in int64 minor units */
};

/* Minor digits of an ISO 4217 code (3 letters), or -1 when unknown. */
int	currency_exponent(const char *code);

/*
 * Parses a decimal amount of n bytes ("-12.3", "+7", "1500", ".5") into minor
 * units of the given exponent.  dec is the decimal separator ('.' or ',').
 * Digits past the exponent are rounded half-even and reported as
 * MONEY_INEXACT unless they are all zero.  No thousands separators, no spaces.
 */
enum money_rc money_parse(const char *s, size_t n, char dec, int exponent,
	    int64_t *out);

/*
 * Formats minor units with exactly `exponent` decimals ("-12.30", "1500").
 * out must hold MONEY_STRLEN bytes.
 */
#define MONEY_STRLEN 32
void	money_format(int64_t minor, int exponent, char *out);

#endif
