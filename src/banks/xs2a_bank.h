/*
 * xs2a_bank: `bankfeed sandbox-bank`, the Sandbox Bank (sandbox.h) behind
 * a Berlin Group NextGenPSD2 XS2A interface (AIS: consents, embedded,
 * decoupled and redirect SCA, accounts, balances, transactions) on its
 * own HTTP port, for XS2A connectors to link to through a real socket.
 * docs/sandbox.md says what it serves (xs2a_bank_markdown()).
 */
#ifndef BF_XS2A_BANK_H
#define BF_XS2A_BANK_H

#include <stdio.h>

/*
 * The command: bankfeed sandbox-bank [--listen HOST:PORT] [--latency-ms MS]
 * and the server options (--clock-offset, --sandbox-slow-ms, ...).  Prints
 * "bankfeed sandbox-bank: listening on http://HOST:PORT" once it serves;
 * stops on SIGTERM or SIGINT.  argv[0] is "sandbox-bank".
 */
int	xs2a_bank_cmd(int argc, char **argv);

/* Appends the sandbox-bank section to docs/sandbox.md; -1 on a write
 * error. */
int	xs2a_bank_markdown(FILE *);

#endif
