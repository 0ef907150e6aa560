#include "core/money.h"

#include <stdio.h>
#include <string.h>

struct currency {
	char	code[4];
	int	exponent;
};

static const struct currency currencies[] = {
#define CUR(c, e) { c, e },
#include "core/currencies.def"
#undef CUR
};

int
currency_exponent(const char *code)
{
	size_t	lo = 0, hi = sizeof(currencies) / sizeof(currencies[0]);

	if (code == NULL || strlen(code) != 3)
		return -1;
	/* The table is sorted by code. */
	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;
		int	c = strcmp(currencies[mid].code, code);

		if (c == 0)
			return currencies[mid].exponent;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum money_rc
money_parse(const char *s, size_t n, char dec, int exponent, int64_t *out)
{
	const char	*end = s + n;
	int		 neg = 0, digits = 0, frac = 0;
	int		 round_digit = -1, sticky = 0;
	uint64_t	 v = 0;
	enum money_rc	 rc = MONEY_OK;

	if (exponent < 0 || exponent > 9)
		return MONEY_BAD;
	if (s < end && (*s == '-' || *s == '+')) {
		neg = (*s == '-');
		s++;
	}
	/* The whole units, up to the separator: the loop every amount runs. */
	for (; s < end && *s != dec; s++) {
		if (*s < '0' || *s > '9')
			return MONEY_BAD;
		digits++;
		if (v > (UINT64_MAX - 9) / 10)
			return MONEY_OVERFLOW;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s < end)
		s++;		/* the separator */
	/* The decimals; a second separator is not a digit, so bad. */
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return MONEY_BAD;
		digits++;
		if (frac >= exponent) {
			/* Past the currency's precision: keep for rounding. */
			if (round_digit < 0)
				round_digit = *s - '0';
			else if (*s != '0')
				sticky = 1;
			continue;
		}
		frac++;
		if (v > (UINT64_MAX - 9) / 10)
			return MONEY_OVERFLOW;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (digits == 0)
		return MONEY_BAD;
	for (; frac < exponent; frac++) {
		if (v > UINT64_MAX / 10)
			return MONEY_OVERFLOW;
		v *= 10;
	}
	if (round_digit > 0 || sticky) {
		rc = MONEY_INEXACT;
		if (round_digit > 5 || (round_digit == 5 && (sticky || (v & 1))))
			v++;
	}
	if (v > (uint64_t)INT64_MAX)
		return MONEY_OVERFLOW;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return rc;
}

void
money_format(int64_t minor, int exponent, char *out)
{
	uint64_t	 mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	char		 tmp[MONEY_STRLEN];
	char		*e = tmp + sizeof(tmp), *p = e;
	int		 k;

	/*
	 * From the last digit back: the minor digits (zeros when the number
	 * runs out), the point, then the rest, at least one digit.
	 */
	for (k = 0; k < exponent; k++) {
		*--p = (char)('0' + mag % 10);
		mag /= 10;
	}
	if (exponent > 0)
		*--p = '.';
	do {
		*--p = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag > 0);
	if (minor < 0)
		*--p = '-';
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}
