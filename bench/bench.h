/*
 * bench: the tools of the benchmark harness (bench/run drives them).  One
 * binary, bfbench, with one command per role:
 *   fill        a data dir with N accounts x M transactions, written with
 *               the store's own upserts (accdata.h), for the read path
 *   bare        the bare SQLite bulk insert of a synced account's rows
 *   statements  generated camt.053, MT940, OFX, CODA and BAI2 files of a given size
 *   start       time from exec to a 200 on /health, and idle RSS
 *   slow        N concurrent syncs on a slow bank (user_slow, or XS2A
 *               sandbox-bank): completion time, errors, RSS
 *
 * gen.c is the one source of realistic transactions that fill and the
 * statement writers share: deterministic for a seed, German retail banking
 * (salary, rent, utilities, groceries, card payments, transfers).
 */
#ifndef BF_BENCH_H
#define BF_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/iban.h"

/* splitmix64: small, fast, good enough for test data. */
uint64_t	bench_rnd(uint64_t *state);
/* Uniform in [lo, hi]. */
int64_t		bench_range(uint64_t *state, int64_t lo, int64_t hi);
/* Monotonic seconds. */
double		bench_now(void);
/* VmRSS or VmHWM ("VmRSS", "VmHWM") of a process in kB; -1 if gone. */
long		bench_proc_kb(long pid, const char *field);

#define GEN_PARTIES_MAX	32	/* counterparties in gen.c's table */
#define GEN_TXT	141	/* SEPA remittance: 140 characters */

/* One generated transaction (self-contained; constant strings are static). */
struct gen_txn {
	long		 bday;		/* booking day (days since 1970-01-01) */
	long		 vday;		/* value day */
	int64_t		 amount;	/* signed minor units (EUR cents) */
	int		 pending;
	char		 cp_name[64];	/* counterparty */
	char		 cp_iban[IBAN_MAX];
	const char	*cp_bic;
	char		 desc[GEN_TXT];	/* remittance information */
	char		 e2e[36];	/* SEPA end-to-end id, or "NOTPROVIDED" */
	char		 mandate[36];	/* SEPA direct debit mandate, or "" */
	char		 creditor_id[36]; /* SEPA creditor id, or "" */
	char		 bank_id[24];	/* the bank's id of the transaction */
	char		 ref[24];	/* the bank's reference */
	const char	*iso_domain;	/* ISO 20022 bank transaction code */
	const char	*iso_family;
	const char	*iso_sub;
	const char	*gvc;		/* German business transaction code */
	const char	*posting;	/* German posting text (Buchungstext) */
	const char	*swift;		/* MT940 :61: transaction type (NTRF) */
	const char	*ofx_type;	/* OFX TRNTYPE */
};

struct gen {
	uint64_t	 s;
	long		 day;		/* the day being generated */
	long		 left;		/* transactions still due on it */
	unsigned	 per_day_x10;	/* average per day, times 10 */
	unsigned	 n;		/* transactions made */
	char		 prefix[8];	/* of bank ids */
	size_t		 due[GEN_PARTIES_MAX];	/* standing items left today */
	size_t		 ndue;
};

/* Starts at first_day with an average of per_day_x10 / 10 a day. */
void	gen_init(struct gen *, uint64_t seed, long first_day,
	    unsigned per_day_x10);
/* The next transaction, in booking order. */
void	gen_next(struct gen *, struct gen_txn *);
/* A realistic IBAN and holder for account number i (German, valid). */
void	gen_account(unsigned i, char iban[IBAN_MAX], char holder[64]);

int	cmd_fill(int, char **);
int	cmd_bare(int, char **);
int	cmd_statements(int, char **);
int	cmd_start(int, char **);
int	cmd_slow(int, char **);

#endif
