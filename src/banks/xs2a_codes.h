/*
 * xs2a_codes: Berlin Group NextGenPSD2 (XS2A) error answers, a status and a
 * tppMessages code, and the catalog entries they stand for, both ways
 * (xs2a_codes.def says how).
 */
#ifndef BF_XS2A_CODES_H
#define BF_XS2A_CODES_H

#include <stddef.h>

#include "core/errors.h"

enum xs2a_dir {
	XS2A_FWD = 1 << 0,	/* how a bank fails with the entry */
	XS2A_BACK = 1 << 1,	/* what the code means at the entry's stage */
	XS2A_BOTH = XS2A_FWD | XS2A_BACK
};

struct xs2a_code {
	enum err	 err;
	int		 http;
	const char	*code;
	unsigned	 dir;
	const char	*text;		/* default text in a bank's words */
};

/* The rows of xs2a_codes.def, in its order. */
extern const struct xs2a_code	xs2a_codes[];
extern const size_t		xs2a_ncodes;

/* The XS2A_FWD row of e, or NULL when a bank does not cause e. */
const struct xs2a_code	*xs2a_code_fwd(enum err e);
/*
 * The catalog entry a bank's answer (http, code) means when it comes at
 * stage (the rule of xs2a_codes.def), or ERR_OK when the table has none.
 */
enum err		 xs2a_code_back(int http, const char *code,
			    enum err_stage stage);

#endif
