/*
 * xs2a_codes: Berlin Group NextGenPSD2 (XS2A) error answers, a status and a
 * tppMessages code, and the catalog entries they stand for, both ways: the
 * rows of xs2a_codes.def (which says how), and their lookups.
 */
#ifndef BF_XS2A_CODES_H
#define BF_XS2A_CODES_H

#include <stddef.h>

#include "core/errors.h"

/*
 * Where in the connector's flow an answer came: the entry depends on it.
 * XS_ACCOUNT is an account's own balances or transactions.
 */
enum xs2a_stage { XS_LOGIN, XS_SCA, XS_FETCH, XS_ACCOUNT };
#define XS2A_NSTAGES	4

/*
 * Back: a T row (code set) or an S row (code NULL; http 0 is any other
 * status) of xs2a_codes.def.  at[XS_ACCOUNT] is ERR_OK when the answer
 * fails the whole sync there (as at[XS_FETCH]).
 */
struct xs2a_tpp_row {
	const char	*code;
	int		 http;
	enum err	 at[XS2A_NSTAGES];	/* by enum xs2a_stage */
};

/* Back: a W row, the path or words that tell entries of one code apart. */
struct xs2a_words_row {
	const char	*code;		/* "" any */
	int		 http;		/* 0 any */
	enum xs2a_stage	 stage;
	const char	*path;		/* "" none */
	const char	*words;		/* "a|b|c", "" none */
	enum err	 entry;
};

/* The T rows, then the S rows, then the W rows, each in the file's order. */
extern const struct xs2a_tpp_row xs2a_tpp_rows[];
extern const size_t		 xs2a_ntpp_rows;
extern const struct xs2a_tpp_row xs2a_status_rows[];
extern const size_t		 xs2a_nstatus_rows;
extern const struct xs2a_words_row xs2a_words_rows[];
extern const size_t		 xs2a_nwords_rows;

/* Forward: an A row of xs2a_codes.def. */
struct xs2a_code {
	enum err	 err;
	int		 http;
	const char	*code;
	const char	*path;		/* "" none */
	const char	*text;		/* default text in a bank's words */
};

/* The A rows, in the file's order. */
extern const struct xs2a_code	xs2a_codes[];
extern const size_t		xs2a_ncodes;

/* The A row of e, or NULL when a bank does not cause e. */
const struct xs2a_code	*xs2a_code_fwd(enum err e);
/* The T row of code, or NULL when code is NULL or none of the table's. */
const struct xs2a_tpp_row *xs2a_code_known(const char *code);
/*
 * The row that decides what a bank's answer (http, code) means when no W
 * row does: code's T row, else the S row of http, else the S row of any
 * other status.  Never NULL; code may be NULL or "" (an answer without
 * one).
 */
const struct xs2a_tpp_row *xs2a_code_back(int http, const char *code);
/*
 * What a bank's error answer means at stage st: its W row (by path, then
 * words; path and text may be NULL), else its T or S row.  *per_account
 * is 1 when the entry marks the one account addressed (st XS_ACCOUNT and
 * the row has an account entry), 0 when it fails the whole operation.
 */
enum err		 xs2a_code_read(int http, const char *code,
			    const char *path, const char *text,
			    enum xs2a_stage st, int *per_account);
/* The connector's stage where a bank causes an entry of stage st. */
enum xs2a_stage		 xs2a_stage_of(enum err_stage st);
/* "login", "SCA", "fetch", "account". */
const char		*xs2a_stage_name(enum xs2a_stage);

#endif
