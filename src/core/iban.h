/*
 * iban: International Bank Account Numbers (ISO 13616): normalizing,
 * validating with the mod-97 check digits, and making one from a BBAN.
 */
#ifndef BF_IBAN_H
#define BF_IBAN_H

#include <stddef.h>

#define IBAN_MAX 35	/* 34 characters + NUL */

/*
 * Copies s without spaces and in upper case into out (IBAN_MAX bytes);
 * -1 when it does not have the shape of an IBAN (2 letters, 2 digits,
 * 11 to 30 letters or digits).
 */
int	iban_normalize(const char *s, char out[IBAN_MAX]);
/* 1 when s (spaces allowed) is an IBAN whose check digits are right. */
int	iban_valid(const char *s);
/*
 * Makes the IBAN of a country ("DE") and a BBAN (letters and digits) into
 * out (IBAN_MAX bytes), computing its check digits; -1 when they do not fit.
 */
int	iban_make(const char *country, const char *bban, char out[IBAN_MAX]);

#endif
