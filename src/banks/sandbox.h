/*
 * sandbox: the Sandbox Bank, bankfeed's built-in test bank (protocol
 * "sandbox", struct connector sandbox_connector).  Its behaviour is fixed by
 * the username, so every error of the catalog and every data-quality warning
 * can be reproduced by anyone; docs/sandbox.md lists the usernames (made by
 * sandbox_markdown()).
 *
 * Data is generated, deterministic from (username, account, calendar day):
 * two fetches give the same records, whenever they run, except that the
 * sync's time (bank_ctx.now) decides which recent card payments are still
 * pending and where "today" is.
 */
#ifndef BF_SANDBOX_H
#define BF_SANDBOX_H

#include <stddef.h>
#include <stdio.h>

#include "banks/connector.h"

#define SANDBOX_PASSWORD	"pass_good"
#define SANDBOX_ANSWER		"blue"		/* every security question */
#define SANDBOX_TAN		"123456"	/* every TAN */
#define SANDBOX_HISTORY_DAYS	120		/* days of history served */
#define SANDBOX_LARGE_COUNT	100000		/* user_large's transactions */
#define SANDBOX_LARGE_DAYS	90		/* user_large's history */

extern const struct connector sandbox_connector;

/*
 * How long user_slow's fetch waits at the bank (default 5000 ms), and how
 * many transactions a fetch step delivers at most before it returns
 * BANK_WAIT to let the caller interleave other work (default 5000).
 * Process-wide; for configuration at start and for tests.
 */
void		 sandbox_set_slow_ms(long long ms);
long long	 sandbox_slow_ms(void);
void		 sandbox_set_batch(size_t n);

/* 1 when the Sandbox Bank knows the username. */
int		 sandbox_username_known(const char *username);
/*
 * 1 when the username's syncs wait at the bank (user_slow): for a front
 * that makes the wait itself (sandbox-bank holds its answer) while its
 * connector runs with sandbox_set_slow_ms(0).
 */
int		 sandbox_username_slow(const char *username);

/*
 * Writes docs/sandbox.md (the whole file: every username and what it does)
 * to f; -1 on a write error.  tests/test_sandbox.c compares it with the
 * committed file.
 */
int		 sandbox_markdown(FILE *f);

#endif
