#include "core/warnings.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct warn_info catalog[WARN__COUNT] = {
#define W(id, name, snake, scope, applies, seed, check) \
	[WARN_##id] = { WARN_##id, name, snake, scope, applies, seed, check },
#include "core/warnings.def"
#undef W
};

const struct warn_info *
warn_info(enum warn w)
{
	return &catalog[w < WARN__COUNT ? w : 0];
}

const char *
warn_name(enum warn w)
{
	return warn_info(w)->name;
}

enum warn
warn_by_name(const char *name)
{
	int	i;

	for (i = 0; i < WARN__COUNT; i++)
		if (strcmp(catalog[i].name, name) == 0)
			return (enum warn)i;
	return WARN__COUNT;
}

enum warn
warn_by_snake(const char *snake)
{
	int	i;

	for (i = 0; i < WARN__COUNT; i++)
		if (strcmp(catalog[i].snake, snake) == 0)
			return (enum warn)i;
	return WARN__COUNT;
}

void
warn_snake_case(const char *s, char *out, size_t n)
{
	size_t	o = 0, i;

	if (n == 0)
		return;
	for (i = 0; s[i] != '\0' && o + 2 < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (i > 0 && isupper(c)) {
			unsigned char	p = (unsigned char)s[i - 1];
			unsigned char	nx = (unsigned char)s[i + 1];

			if (islower(p) || isdigit(p) ||
			    (isupper(p) && islower(nx)))
				out[o++] = '_';
		}
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
}

void
warn_sandbox_username(enum warn w, char *out, size_t n)
{
	snprintf(out, n, "user_warn_%s", warn_info(w)->snake);
}

static const char *const scope_names[] = {
	[WSCOPE_CONNECTION] = "connection",
	[WSCOPE_ACCOUNT] = "account",
	[WSCOPE_TXN] = "transaction",
};

/* Markdown table cells must not contain a bare "|". */
static void
cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

int
warnings_markdown(FILE *f)
{
	int	i;

	fputs("# Data-quality warnings\n\n"
	    "<!-- Generated from src/core/warnings.def by warnings_markdown(); "
	    "tests/test_quality.c\n     fails when this file differs. "
	    "Regenerate: BANKFEED_REGEN_DOCS=1 ./build/tests/test_quality -->\n\n"
	    "Every sync runs the checks of `src/jobs/quality.c` on the data "
	    "it fetched and lists what they\nfind on the task: "
	    "`{\"name\", \"account_id\", \"transaction_id\", \"detail\"}`. "
	    "These are the warnings of seed 001,\nin its order. "
	    "Each one that bankfeed checks has a Sandbox Bank username, "
	    "`user_warn_<snake case>`,\nwhose sync shows that warning and no "
	    "other; `user_good` shows none.\n\n"
	    "## How warnings are reported\n\n"
	    "- One warning per (name, account) and sync, however many "
	    "transactions show it: `transaction_id`\n  names the first one "
	    "and `detail` counts them. So 100,000 faulty transactions make "
	    "one line,\n  and the checker's memory does not grow with the "
	    "number of transactions.\n"
	    "- Connection-wide warnings (NoAccounts, MissingOperationAccounts, "
	    "MFAAfterAuthorization) have no\n  `account_id`.\n"
	    "- `detail` is one English sentence; it never repeats a card "
	    "number or a secret.\n"
	    "- Absence checks (NoTransactions, TransactionNull, "
	    "NoLastMonthTransaction, NoLast15DaysTransaction)\n  judge only "
	    "what the fetched period can show: an incremental sync of the "
	    "last 3 days says nothing\n  about last month. An account that "
	    "has no transaction at all gets NoTransactions or\n  "
	    "TransactionNull, not also the two recency warnings.\n\n"
	    "## Warnings that look alike\n\n"
	    "- **NoTransactions vs TransactionNull**: both mean the account "
	    "has no transaction in the fetched\n  period; exactly one of them "
	    "is said, chosen by the balances. Money on the account (a "
	    "balance,\n  credit limits aside, that is not zero): "
	    "transactions were expected and are missing, "
	    "**NoTransactions**.\n  All balances zero or none: an empty, "
	    "unused account with nothing associated with it,\n  "
	    "**TransactionNull**.\n"
	    "- **NoHolder vs KycIncomplete**: KYC here is the holder's name, "
	    "address and email. **NoHolder** is\n  the name missing; "
	    "**NoAddress** / **AddressIncomplete** the address; "
	    "**KycIncomplete** the rest, the\n  email. They are checked "
	    "independently: an account with no holder data at all shows all "
	    "three.\n  An email that is there but malformed is "
	    "**InvalidEmail**.\n"
	    "- **TransactionIncomplete vs TransactionNull**: the first is "
	    "about a transaction that lacks\n  details, the second about an "
	    "account without transactions.\n\n"
	    "## How a sync feeds the checks\n\n"
	    "`src/jobs/quality.h`: `quality_new(now)`, then "
	    "`quality_period(q, from, to)` with the period the sync\n"
	    "asked the bank for, then the records in the order the bank "
	    "delivered them, with bankfeed's ids:\n"
	    "`quality_account()`, `quality_txn()`, `quality_account_error()` "
	    "(and `quality_mfa_after_authorization()`\n"
	    "when the fetch result says so), then `quality_finish(q, cb, arg)` "
	    "calls `cb` once per warning.\n\n"
	    "- The period matters: absence checks judge only what it covers, "
	    "and transactions outside it are\n  TransactionsMisconfigured. "
	    "An open period (NULL) covers everything and flags nothing.\n"
	    "- BalanceMismatch needs the bank's `opening_booked` balance, "
	    "dated the first day the balance\n  covers (before that day's "
	    "transactions), and its `booked` balance, dated the last day. "
	    "Connectors\n  and statement parsers report them when the bank "
	    "or the file has them (camt.053 OPBD and CLBD,\n  MT940 :60F: "
	    "and :62F:, Berlin Group openingBooked and closingBooked); "
	    "without both, nothing is\n  checked.\n\n"
	    "## The catalog\n\n"
	    "| warning | scope | sandbox username | seed 001 says | "
	    "what bankfeed checks |\n"
	    "|---|---|---|---|---|\n", f);
	for (i = 0; i < WARN__COUNT; i++) {
		const struct warn_info	*w = &catalog[i];
		char			 user[96];

		if (!w->applies)
			continue;
		warn_sandbox_username(w->id, user, sizeof(user));
		fprintf(f, "| %s | %s | `%s` | ", w->name,
		    scope_names[w->scope], user);
		cell(f, w->seed);
		fputs(" | ", f);
		cell(f, w->check);
		fputs(" |\n", f);
	}
	fputs("\n## Warnings of seed 001 that do not apply\n\n"
	    "They concern screen-scraping, one vendor's products or one "
	    "bank; none has a sandbox username.\n\n"
	    "| warning | seed 001 says | why bankfeed does not check it |\n"
	    "|---|---|---|\n", f);
	for (i = 0; i < WARN__COUNT; i++) {
		const struct warn_info	*w = &catalog[i];

		if (w->applies)
			continue;
		fprintf(f, "| %s | ", w->name);
		cell(f, w->seed);
		fputs(" | ", f);
		cell(f, w->check);
		fputs(" |\n", f);
	}
	return ferror(f) ? -1 : 0;
}
