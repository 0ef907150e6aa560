/*
 * errors: the catalog (errors.def) expanded into an enum and a table.
 *
 * Functions across bankfeed return `enum err` (ERR_OK = 0 on success); the
 * HTTP edge turns an entry into a status and the error object of API.md.
 */
#ifndef BF_ERRORS_H
#define BF_ERRORS_H

#include <stddef.h>

enum err_group {
	ERRG_CLIENT,
	ERRG_USER,
	ERRG_BANK,
	ERRG_GENERAL,
	ERRG_CONNECTIVITY,
	ERRG_CATEGORIZATION,
	ERRG__COUNT
};

/* Where a bank causes an error (the Sandbox Bank fails at that step). */
enum err_stage {
	STG_NONE,
	STG_LOGIN,
	STG_CHALLENGE,
	STG_SYNC,
	STG_ACCOUNT
};

enum err {
	ERR_OK = 0,
#define E(id, code, name, grp, http, retry, aliases, stage, desc, repro) ERR_##id,
#include "core/errors.def"
#undef E
	ERR__COUNT
};

struct err_info {
	enum err	 id;
	int		 code;
	const char	*name;
	enum err_group	 group;
	int		 http;
	int		 retryable;
	const char	*aliases;	/* space-separated, "" when none */
	enum err_stage	 stage;
	const char	*description;
	const char	*reproduce;	/* "" for bank stages: see err_reproduce() */
};

/* The entry of e; e must be a real entry, not ERR_OK. */
const struct err_info *err_info(enum err e);
/* Entries in catalog order, for listings: i from 1 to ERR__COUNT - 1. */
const char	*err_name(enum err);
int		 err_code(enum err);
int		 err_http(enum err);
/* Looks an entry up by its code, or by its name or one of its aliases. */
enum err	 err_by_code(int code);
enum err	 err_by_name(const char *name);

const char	*err_group_name(enum err_group);
void		 err_group_range(enum err_group, int *lo, int *hi);
const char	*err_stage_name(enum err_stage);

/*
 * The entry's description as answers and listings show it: a setting named
 * in braces ({task-timeout}) becomes its value in force as a duration ("30
 * minutes"; the default when no configuration was loaded).  Writes into out
 * (size n) and returns it.
 */
const char	*err_description(enum err, char *out, size_t n);

/*
 * How to cause the entry through the API.  Bank-caused entries are derived
 * from the sandbox username convention; writes into out (size n).
 */
const char	*err_reproduce(enum err, char *out, size_t n);

/* Lowercase sandbox username of a bank-caused entry ("user_invalid_tan"). */
void		 err_sandbox_username(enum err, char *out, size_t n);

#endif
