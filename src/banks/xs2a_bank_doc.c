/*
 * sandbox-bank: its section of docs/sandbox.md.
 */
#include "banks/xs2a_bank.h"

int
xs2a_bank_markdown(FILE *f)
{
	return ferror(f) ? -1 : 0;
}
