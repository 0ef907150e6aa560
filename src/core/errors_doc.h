/*
 * errors_doc: the catalog as listings: JSON (GET /v1/errors, `bankfeed
 * errors --json`) and Markdown (docs/errors.md), with the seed-row mapping.
 */
#ifndef BF_ERRORS_DOC_H
#define BF_ERRORS_DOC_H

#include <stdio.h>

#include "core/errors.h"
#include "core/jw.h"

struct seedrow {
	int		 seed;
	const char	*status;
	const char	*name;
	const char	*code;
	const char	*text;
	enum err	 entry;		/* ERR_OK: not an error */
	const char	*note;
};

extern const struct seedrow seedrows[];
extern const size_t nseedrows;

/* One catalog entry as GET /v1/errors lists it. */
void	errors_write_entry(struct jw *, enum err);
/* {"data": [every entry], "next_cursor": null} */
void	errors_write_list(struct jw *);
void	errors_json(FILE *);
/*
 * Writes the error object (the value of "error" in an answer, or a task's
 * error): code, name, group, description, data (a JSON object text, or NULL
 * for {}), message (the bank's, or NULL), request_id (omitted when NULL).
 */
void	error_object_write(struct jw *, enum err, const char *data,
	    const char *message, const char *request_id);
/* "key": the error object of a stored code, or null when code is 0. */
void	error_object_kopt(struct jw *, const char *key, int code,
	    const char *data, const char *message);
void	errors_markdown(FILE *);
/* Writes s as a cell of a Markdown table row: pipes escaped, newlines
 * made blanks (every generated doc's tables). */
void	md_cell(FILE *, const char *s);

#endif
