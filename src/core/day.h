/*
 * day: calendar days of the proleptic Gregorian calendar as integers (days
 * since 1970-01-01), so that dates can be compared, stepped and subtracted
 * without struct tm or time zones.  Dates in records are YYYY-MM-DD (UTC).
 */
#ifndef BF_DAY_H
#define BF_DAY_H

#define DAY_STRLEN 11	/* "YYYY-MM-DD" + NUL */

/* The day number of a civil date (month 1-12, day 1-31). */
long	day_from_civil(int y, int m, int d);
/* The civil date of a day number. */
void	day_to_civil(long day, int *y, int *m, int *d);
/* The UTC day of unix seconds. */
long	day_from_unix(long long secs);
/* Parses exactly "YYYY-MM-DD" (a real date); 0 on success, -1 otherwise. */
int	day_parse(const char *s, long *out);
/* Writes "YYYY-MM-DD" into out (DAY_STRLEN bytes). */
void	day_format(long day, char out[DAY_STRLEN]);
/* Days in a month of a year. */
int	day_month_length(int y, int m);

/* YYYY-MM-DD of a civil date (year 0-9999) into out (DAY_STRLEN bytes). */
void	ymd_format(int y, int m, int d, char *out);

#endif
