/*
 * warnings: the data-quality warning catalog (warnings.def) expanded into
 * an enum and a table, for the checks (src/jobs/quality.c), the API's
 * listing, the Sandbox Bank's usernames and docs/warnings.md.
 */
#ifndef BF_WARNINGS_H
#define BF_WARNINGS_H

#include <stddef.h>
#include <stdio.h>

/* What a warning names besides itself. */
enum warn_scope {
	WSCOPE_CONNECTION,	/* the sync as a whole: account_id is NULL */
	WSCOPE_ACCOUNT,		/* one account */
	WSCOPE_TXN		/* one account and a transaction of it */
};

enum warn {
#define W(id, name, snake, scope, applies, seed, check) WARN_##id,
#include "core/warnings.def"
#undef W
	WARN__COUNT
};

struct warn_info {
	enum warn	 id;
	const char	*name;		/* "BalanceMismatch" */
	const char	*snake;		/* "balance_mismatch" */
	enum warn_scope	 scope;
	int		 applies;	/* 1: checked by quality.c */
	const char	*seed;		/* seed 001's description */
	const char	*check;		/* what is checked, or why not */
};

/* The entry of w (w < WARN__COUNT). */
const struct warn_info *warn_info(enum warn w);
const char	*warn_name(enum warn w);
/* The warning of that name ("BalanceMismatch"), or WARN__COUNT. */
enum warn	 warn_by_name(const char *name);
/* The warning of that snake case ("balance_mismatch"), or WARN__COUNT. */
enum warn	 warn_by_snake(const char *snake);
/*
 * The snake case of a CamelCase name, the rule of the sandbox usernames:
 * "_" before a capital that follows a lowercase letter or a digit, or that
 * starts a word after capitals ("MFAAfter" -> "mfa_after"); digits stay
 * with the word before them ("Last15Days" -> "last15_days").
 */
void		 warn_snake_case(const char *name, char *out, size_t n);
/* The Sandbox Bank username that shows w: "user_warn_<snake>". */
void		 warn_sandbox_username(enum warn w, char *out, size_t n);
/* Writes docs/warnings.md (the whole file) to f; -1 on a write error. */
int		 warnings_markdown(FILE *f);

#endif
