#include "core/day.h"

#include <stdio.h>
#include <string.h>

/*
 * The civil <-> day-number conversions count in 400-year eras (146097 days),
 * with years starting on March 1 so that the leap day ends a year.
 */
long
day_from_civil(int y, int m, int d)
{
	long	yy = (long)y - (m <= 2);
	long	era = (yy >= 0 ? yy : yy - 399) / 400;
	long	yoe = yy - era * 400;			/* 0..399 */
	long	mp = (m + 9) % 12;			/* March = 0 */
	long	doy = (153 * mp + 2) / 5 + d - 1;	/* 0..365 */
	long	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
day_to_civil(long day, int *y, int *m, int *d)
{
	long	z = day + 719468;
	long	era = (z >= 0 ? z : z - 146096) / 146097;
	long	doe = z - era * 146097;
	long	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long	mp = (5 * doy + 2) / 153;
	long	dd = doy - (153 * mp + 2) / 5 + 1;
	long	mm = mp < 10 ? mp + 3 : mp - 9;

	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

long
day_from_unix(long long secs)
{
	long long	d = secs / 86400;

	if (secs % 86400 < 0)
		d--;
	return (long)d;
}

int
day_month_length(int y, int m)
{
	static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return len[(m - 1) % 12];
}

/* n decimal digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
day_parse(const char *s, long *out)
{
	int	y, m, d;

	if (s == NULL || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if ((y = digits(s, 4)) < 0 || (m = digits(s + 5, 2)) < 1 || m > 12 ||
	    (d = digits(s + 8, 2)) < 1 || d > day_month_length(y, m))
		return -1;
	*out = day_from_civil(y, m, d);
	return 0;
}

void
day_format(long day, char out[DAY_STRLEN])
{
	int	y, m, d;

	day_to_civil(day, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, DAY_STRLEN, "%04d-%02d-%02d", y, m, d);
		return;
	}
	ymd_format(y, m, d, out);
}

/* "00".."99": two digits a lookup, not two divisions. */
static const char two_digits[] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* Written by hand: a sync or an import formats dates for every record. */
void
ymd_format(int y, int m, int d, char *out)
{
	memcpy(out, two_digits + 2 * (y / 100 % 100), 2);
	memcpy(out + 2, two_digits + 2 * (y % 100), 2);
	out[4] = '-';
	memcpy(out + 5, two_digits + 2 * (m % 100), 2);
	out[7] = '-';
	memcpy(out + 8, two_digits + 2 * (d % 100), 2);
	out[10] = '\0';
}
