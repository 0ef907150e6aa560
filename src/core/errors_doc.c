#include "core/errors_doc.h"

#include <string.h>

#include "banks/xs2a_codes.h"

const struct seedrow seedrows[] = {
#define S(seed, st, nm, code, text, entry, note) \
	{ seed, st, nm, code, text, ERR_##entry, note },
#include "core/seedrows.def"
#undef S
};

const size_t nseedrows = sizeof(seedrows) / sizeof(seedrows[0]);

void
errors_write_entry(struct jw *w, enum err e)
{
	const struct err_info	*ei = err_info(e);
	const char		*p;
	char			 repro[512], desc[512];

	jw_obj(w);
	jw_kint(w, "code", ei->code);
	jw_kstr(w, "name", ei->name);
	jw_key(w, "aliases");
	jw_arr(w);
	for (p = ei->aliases; *p != '\0';) {
		size_t	n = strcspn(p, " ");

		if (n > 0)
			jw_strn(w, p, n);
		p += n;
		p += strspn(p, " ");
	}
	jw_arr_end(w);
	jw_kstr(w, "group", err_group_name(ei->group));
	jw_kint(w, "http_status", ei->http);
	jw_kstr(w, "description", err_description(e, desc, sizeof(desc)));
	jw_kbool(w, "retryable", ei->retryable);
	jw_kstr(w, "reproduce", err_reproduce(e, repro, sizeof(repro)));
	jw_obj_end(w);
}

void
errors_write_list(struct jw *w)
{
	int	i;

	jw_obj(w);
	jw_key(w, "data");
	jw_arr(w);
	for (i = 1; i < ERR__COUNT; i++)
		errors_write_entry(w, (enum err)i);
	jw_arr_end(w);
	jw_knull(w, "next_cursor");
	jw_obj_end(w);
}

void
errors_json(FILE *f)
{
	struct buf	b;
	struct jw	w;

	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	errors_write_list(&w);
	fprintf(f, "%s\n", buf_str(&b));
	buf_free(&b);
}

/*
 * The rest of an XS2A row after its first cells: the entry of each stage
 * (n of them; an account entry of OK reads "the whole sync").
 */
static void
xs2a_cells(FILE *f, const enum err *at, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (at[i] == ERR_OK)
			fputs(" the whole sync (fetch) |", f);
		else
			fprintf(f, " %d `%s` |", err_code(at[i]),
			    err_name(at[i]));
	fputc('\n', f);
}

/*
 * The XS2A connector's mapping (the back rows of src/banks/xs2a_codes.def):
 * its data only, so the catalog's documentation shows every bank code it
 * serves.
 */
static void
xs2a_markdown(FILE *f)
{
	static const char *const stages[] = { "login", "SCA", "fetch",
	    "account" };

	fputs("\n## XS2A banks: tppMessages to the catalog\n\n"
	    "What the Berlin Group NextGenPSD2 connector makes of a bank's "
	    "failure (src/banks/xs2a_codes.def).\n"
	    "The bank's `text` becomes the error's `message`. The entry depends "
	    "on where the answer came:\n"
	    "*login* (the consent, the password, the return from a redirect), "
	    "*SCA* (method, TAN,\ndecoupled confirmation), *fetch* (the "
	    "account list: the sync fails) or *account* (an\naccount's own "
	    "balances or transactions: the entry marks that account and the "
	    "sync goes on\nwith the others).\n\n"
	    "| tppMessages code | HTTP | login | SCA | fetch | account |\n"
	    "|---|---|---|---|---|---|\n", f);
#define T(c, h, l, s, fe, a) \
	fprintf(f, "| `%s` | %d |", c, h); \
	xs2a_cells(f, (const enum err[]){ ERR_##l, ERR_##s, ERR_##fe, \
	    ERR_##a }, 4);
#include "banks/xs2a_codes.def"
	fputs("\nAn answer of 400 or more with none of these codes, by its "
	    "status:\n\n"
	    "| HTTP | login | SCA | fetch | account |\n"
	    "|---|---|---|---|---|\n", f);
#define S(h, l, s, fe, a) \
	if (h != 0) fprintf(f, "| %d |", h); else fputs("| any other |", f); \
	xs2a_cells(f, (const enum err[]){ ERR_##l, ERR_##s, ERR_##fe, \
	    ERR_##a }, 4);
#include "banks/xs2a_codes.def"
	fputs("\nWhere one code (or status) serves several entries at a stage, "
	    "the bank's `path` (the element\nin error) or its words tell them "
	    "apart, before the rows above: the first row that matches\n"
	    "decides. Words are matched in any case, in English and German; a "
	    "bank that words it\notherwise gets the entry of the rows above "
	    "(docs/xs2a.md).\n\n"
	    "| tppMessages code | HTTP | stage | `path` | words | entry |\n"
	    "|---|---|---|---|---|---|\n", f);
#define W(c, h, st, p, w, e) \
	fprintf(f, "| %s | %s | %s | %s%s%s | ", c[0] ? "`" c "`" : "any", \
	    h ? #h : "any", stages[XS_##st], p[0] ? "`" : "", p[0] ? p : "", \
	    p[0] ? "`" : ""); \
	md_cell(f, w); \
	fprintf(f, " | %d `%s` |\n", err_code(ERR_##e), err_name(ERR_##e));
#include "banks/xs2a_codes.def"
	fputs("\nNo usable answer at all (GETs are tried up to three times "
	    "first, with a growing wait;\na POST or PUT only when nothing "
	    "reached the bank):\n\n"
	    "| fault | login | SCA | fetch and account |\n|---|---|---|---|\n",
	    f);
#define F(n, w, l, s, fe) \
	fprintf(f, "| %s |", w); \
	xs2a_cells(f, (const enum err[]){ ERR_##l, ERR_##s, ERR_##fe }, 3);
#include "banks/xs2a_codes.def"
}

/* Markdown table cells must not break the row: pipes and newlines out. */
void
md_cell(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static const char *const seed_names[] = {
	"seed 000 — finAPI error codes",
	"seed 001 — Flinks API codes and Client Dashboard statuses",
	"seed 002 — Flinks error codes with steps to reproduce",
	"seed 003 — Belfius PSD2 Account API",
};

void
errors_markdown(FILE *f)
{
	char	repro[512], desc[512];
	int	i, seed;
	size_t	r;

	fputs("# Errors\n\n"
	    "<!-- Generated by `bankfeed errors --markdown` from src/core/errors.def and\n"
	    "     src/core/seedrows.def. Do not edit: a test fails when this file is stale. -->\n\n"
	    "Every answer with an HTTP status of 400 or more has the same body:\n\n"
	    "```json\n"
	    "{\"error\": {\n"
	    "  \"code\": 1000,\n"
	    "  \"name\": \"INVALID_REQUEST\",\n"
	    "  \"group\": \"client\",\n"
	    "  \"description\": \"Request body doesn't match input schema.\",\n"
	    "  \"data\": {\"external_ref\": [\"Not a valid string: got a number.\"]},\n"
	    "  \"message\": null,\n"
	    "  \"request_id\": \"req_...\"}}\n"
	    "```\n\n"
	    "- `code` and `name` identify the catalog entry below; `group` is its range.\n"
	    "- `data` is always an object. For validation errors (1000) it maps each\n"
	    "  offending field, as a dotted path, to its messages: all problems at once.\n"
	    "- `message` is the bank's own message when a bank caused the error, else null.\n"
	    "- Answers marked retryable carry `Retry-After` (seconds): the true wait where\n"
	    "  bankfeed knows it (rate limits, the PSD2 24-hour window), else a short hint.\n"
	    "- The same object (without `request_id`) is a task's `error` when a background\n"
	    "  sync fails.\n\n"
	    "| group | codes |\n|---|---|\n", f);
	for (i = 0; i < ERRG__COUNT; i++) {
		int	lo, hi;

		err_group_range((enum err_group)i, &lo, &hi);
		fprintf(f, "| %s | %d–%d |\n", err_group_name((enum err_group)i),
		    lo, hi);
	}
	fputs("\n## The catalog\n\n"
	    "`GET /v1/errors` lists the same entries. For errors a bank causes, the\n"
	    "Sandbox Bank has a username that causes it (see docs/sandbox.md).\n\n"
	    "| code | name | aliases | group | HTTP | retryable | description | how to reproduce |\n"
	    "|---|---|---|---|---|---|---|---|\n", f);
	for (i = 1; i < ERR__COUNT; i++) {
		const struct err_info *ei = err_info((enum err)i);

		fprintf(f, "| %d | `%s` | ", ei->code, ei->name);
		md_cell(f, ei->aliases);
		fprintf(f, " | %s | %d | %s | ", err_group_name(ei->group),
		    ei->http, ei->retryable ? "yes" : "no");
		md_cell(f, err_description((enum err)i, desc, sizeof(desc)));
		fputs(" | ", f);
		md_cell(f, err_reproduce((enum err)i, repro, sizeof(repro)));
		fputs(" |\n", f);
	}
	fputs("\n## From the seed documents to the catalog\n\n"
	    "Every row of the four documents bankfeed was specified by, and the entry\n"
	    "that serves it. Rows that are not errors say what stands for them.\n", f);
	for (seed = 0; seed < 4; seed++) {
		fprintf(f, "\n### %s\n\n| their status | their name | their code "
		    "| their text | bankfeed | note |\n|---|---|---|---|---|---|\n",
		    seed_names[seed]);
		for (r = 0; r < nseedrows; r++) {
			const struct seedrow *s = &seedrows[r];

			if (s->seed != seed)
				continue;
			fputs("| ", f);
			md_cell(f, s->status);
			fputs(" | ", f);
			md_cell(f, s->name);
			fputs(" | ", f);
			md_cell(f, s->code);
			fputs(" | ", f);
			md_cell(f, s->text);
			if (s->entry == ERR_OK)
				fputs(" | not an error | ", f);
			else
				fprintf(f, " | %d `%s` (HTTP %d) | ", err_code(s->entry),
				    err_name(s->entry), err_http(s->entry));
			md_cell(f, s->note);
			fputs(" |\n", f);
		}
	}
	xs2a_markdown(f);
}

void
error_object_write(struct jw *w, enum err e, const char *data,
    const char *message, const char *request_id)
{
	const struct err_info	*ei = err_info(e);
	char			 desc[512];

	jw_obj(w);
	jw_kint(w, "code", ei->code);
	jw_kstr(w, "name", ei->name);
	jw_kstr(w, "group", err_group_name(ei->group));
	jw_kstr(w, "description", err_description(e, desc, sizeof(desc)));
	jw_key(w, "data");
	if (data != NULL && *data == '{')
		jw_raw(w, data, strlen(data));
	else
		jw_raw(w, "{}", 2);
	jw_key(w, "message");
	jw_str(w, message != NULL && *message != '\0' ? message : NULL);
	if (request_id != NULL)
		jw_kstr(w, "request_id", request_id);
	jw_obj_end(w);
}

void
error_object_kopt(struct jw *w, const char *key, int code, const char *data,
    const char *message)
{
	jw_key(w, key);
	if (code == 0)
		jw_null(w);
	else
		error_object_write(w, err_by_code(code), data, message, NULL);
}
