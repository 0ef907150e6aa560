/*
 * gen: realistic retail-banking transactions for the benchmarks, the same
 * for the read-path database and the statement files.
 *
 * A day has its standing items (rent on the 1st, salary on the 27th...)
 * and a random number of everyday ones (groceries, fuel, online shops,
 * cash, transfers between people), each with the counterparty's name,
 * IBAN and BIC, remittance text, SEPA references and the bank transaction
 * codes of each format.  Everything follows from the seed.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/day.h"

/* How a party's transactions are booked, in every format's codes. */
struct kind {
	const char	*iso_domain, *iso_family, *iso_sub;
	const char	*gvc, *posting, *swift, *ofx_type;
	int		 sepa;		/* has SEPA references */
	int		 debit;		/* a direct debit: mandate, creditor id */
};

enum kind_id { K_SALARY, K_STANDING, K_DDEBIT, K_CARD, K_ATM, K_CREDIT,
    K_TRANSFER, K__COUNT };

static const struct kind kinds[K__COUNT] = {
	[K_SALARY] = { "PMNT", "RCDT", "ESCT", "153", "LOHN GEHALT", "NTRF",
	    "DIRECTDEP", 1, 0 },
	[K_STANDING] = { "PMNT", "ICDT", "STDO", "152", "DAUERAUFTRAG", "NSTO",
	    "REPEATPMT", 1, 0 },
	[K_DDEBIT] = { "PMNT", "IDDT", "ESDD", "105", "FOLGELASTSCHRIFT", "NDDT",
	    "DIRECTDEBIT", 1, 1 },
	[K_CARD] = { "PMNT", "CCRD", "POSD", "106", "KARTENZAHLUNG", "NMSC",
	    "POS", 0, 0 },
	[K_ATM] = { "PMNT", "CCRD", "CWDL", "083", "BARGELDAUSZAHLUNG", "NMSC",
	    "ATM", 0, 0 },
	[K_CREDIT] = { "PMNT", "RCDT", "ESCT", "166", "GUTSCHRIFT", "NTRF",
	    "CREDIT", 1, 0 },
	[K_TRANSFER] = { "PMNT", "ICDT", "ESCT", "116", "SEPA-UEBERWEISUNG",
	    "NTRF", "XFER", 1, 0 },
};

/*
 * A counterparty.  dom > 0: a standing item on that day of the month,
 * else an everyday one drawn with weight.  In text: {M} month, {Y} year,
 * {N} a 6-digit number, {R} a 10-digit one, {P} a person's name.
 */
struct party {
	const char	*name;		/* NULL: a person, drawn per transaction */
	const char	*blz, *bic;
	enum kind_id	 kind;
	int		 dom;
	unsigned	 weight;
	int64_t		 lo, hi;	/* amount range in cents, signed */
	const char	*text;
};

static const struct party parties[] = {
	{ "ACME Industries GmbH", "37040044", "ACMEDEFFXXX", K_SALARY, 27, 0,
	  245000, 412000, "LOHN/GEHALT {M}/{Y} PERS.NR. {N}" },
	{ "Hausverwaltung Berger und Partner", "10010010", "PBNKDEFFXXX",
	  K_STANDING, 1, 0, -125000, -85000, "MIETE {M}/{Y} WHG 3.OG LINKS "
	  "INKL. NEBENKOSTEN" },
	{ "Nordwest Versicherung AG", "29050101", "SBREDE22XXX", K_DDEBIT, 1,
	  0, -12000, -4500, "BEITRAG KFZ-VERSICHERUNG VERS.-NR. {R} "
	  "ZEITRAUM {M}/{Y}" },
	{ "Telefonica Germany GmbH und Co. OHG", "70020270", "HYVEDEMMXXX",
	  K_DDEBIT, 10, 0, -4999, -1999, "KUNDENNR {R} RECHNUNG {N} VOM "
	  "{M}.{Y} MOBILFUNK" },
	{ "Stadtwerke Neustadt GmbH", "25050180", "SPKHDE2HXXX", K_DDEBIT, 15,
	  0, -16000, -7000, "ABSCHLAG STROM/GAS {M}/{Y} VERTRAGSKONTO {R}" },
	{ "Streamflix International B.V.", "50070010", "DEUTDEFFXXX",
	  K_DDEBIT, 18, 0, -1799, -999, "Streamflix Abo {M}/{Y} Mitglied {N}" },
	{ "REWE Markt GmbH", "30060601", "DAAEDEDDXXX", K_CARD, 0, 22, -12000,
	  -450, "REWE SAGT DANKE. {N}//NEUSTADT/DE {Y}-{M} KFN 1 VJ 2912" },
	{ "EDEKA Center Neustadt", "60050101", "SOLADEST600", K_CARD, 0, 12,
	  -9500, -320, "EDEKA CENTER NEUSTADT//NEUSTADT/DE {N} Karte 1 " },
	{ "ALDI SUED", "66050101", "KARSDE66XXX", K_CARD, 0, 12, -7800, -210,
	  "ALDI SUED SAGT DANKE {N}//NEUSTADT/DE" },
	{ "dm-drogerie markt", "66020020", "BBKRDE6KXXX", K_CARD, 0, 8, -6000,
	  -195, "DM FIL. 1234 H:{N}//NEUSTADT/DE" },
	{ "ARAL Station 28041", "36010043", "PBNKDEFFXXX", K_CARD, 0, 6, -9500,
	  -3500, "ARAL STATION 28041//NEUSTADT/DE {N} Karte 1 Kraftstoff" },
	{ "Amazon EU S.a r.l.", "30070010", "DEUTDEDDXXX", K_DDEBIT, 0, 9,
	  -25000, -800, "{N}-{R} AMZN Mktp DE {R}" },
	{ "PayPal Europe S.a.r.l. et Cie S.C.A", "50070010", "DEUTDEFFXXX",
	  K_DDEBIT, 0, 8, -15000, -500, "PP.{N}.PP . Ihr Einkauf bei "
	  "Elektronik Versand, Artikel-{R}" },
	{ "DB Fernverkehr AG", "50070010", "DEUTDEFFXXX", K_CARD, 0, 3,
	  -13900, -1990, "DB Fernverkehr AG Fahrkarte {R} Reise {Y}-{M}" },
	{ "Sparkasse Neustadt", "25050180", "SPKHDE2HXXX", K_ATM, 0, 4,
	  -30000, -5000, "GA NR{N} BLZ25050180 0 {Y}-{M} 18.42 ME0" },
	{ "Apotheke am Markt", "25090500", "GENODEF1S09", K_CARD, 0, 3,
	  -4500, -395, "APOTHEKE AM MARKT//NEUSTADT/DE {N}" },
	{ NULL, "12030000", "BYLADEM1001", K_CREDIT, 0, 5, 1000, 20000,
	  "Danke fuers Essen, Gruss {P}" },
	{ NULL, "43060967", "GENODEM1GLS", K_TRANSFER, 0, 4, -50000, -1000,
	  "Anteil Urlaub {Y} - {P}" },
};

#define NPARTIES	(sizeof(parties) / sizeof(parties[0]))
_Static_assert(NPARTIES <= GEN_PARTIES_MAX, "raise GEN_PARTIES_MAX");

static const char *const first_names[] = { "Anna", "Lukas", "Julia", "Jonas",
    "Lea", "Finn", "Marie", "Paul", "Sophie", "Felix", "Laura", "Leon",
    "Hannah", "Elias", "Emma", "Noah" };
static const char *const last_names[] = { "Mueller", "Schmidt", "Schneider",
    "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Koch", "Richter", "Klein", "Wolf", "Schroeder", "Neumann" };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

uint64_t
bench_rnd(uint64_t *s)
{
	uint64_t	z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t
bench_range(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(bench_rnd(s) % (uint64_t)(hi - lo + 1));
}

double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long
bench_proc_kb(long pid, const char *field)
{
	char	 path[64], line[256];
	size_t	 n = strlen(field);
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* A BBAN of a bank code and a 10-digit account number made from h. */
static void
iban_of(const char *blz, uint64_t h, char out[IBAN_MAX])
{
	char	bban[32];

	snprintf(bban, sizeof(bban), "%s%010llu", blz,
	    (unsigned long long)(h % 10000000000ULL));
	if (iban_make("DE", bban, out) == -1)
		out[0] = '\0';
}

void
gen_account(unsigned i, char iban[IBAN_MAX], char holder[64])
{
	uint64_t	s = 0x5eed0000ULL + i;

	iban_of("25050180", bench_rnd(&s), iban);
	snprintf(holder, 64, "%s %s", first_names[bench_rnd(&s) %
	    NELEM(first_names)], last_names[bench_rnd(&s) % NELEM(last_names)]);
}

void
gen_init(struct gen *g, uint64_t seed, long first_day, unsigned per_day_x10)
{
	memset(g, 0, sizeof(*g));
	g->s = seed;
	g->day = first_day - 1;
	g->per_day_x10 = per_day_x10 ? per_day_x10 : 10;
	snprintf(g->prefix, sizeof(g->prefix), "%04X",
	    (unsigned)(seed & 0xffff));
}

/* Expands a text template into out. */
static void
expand(struct gen *g, const char *t, int month, int year, const char *person,
    char *out, size_t n)
{
	size_t	len = 0;
	int	w;

	for (; *t != '\0' && len + 1 < n; t++) {
		w = 0;
		if (t[0] == '{' && t[1] != '\0' && t[2] == '}') {
			switch (t[1]) {
			case 'M':
				w = snprintf(out + len, n - len, "%02d", month);
				break;
			case 'Y':
				w = snprintf(out + len, n - len, "%04d", year);
				break;
			case 'N':
				w = snprintf(out + len, n - len, "%06u",
				    (unsigned)(bench_rnd(&g->s) % 1000000));
				break;
			case 'R':
				w = snprintf(out + len, n - len, "%010llu",
				    (unsigned long long)(bench_rnd(&g->s) %
				    10000000000ULL));
				break;
			case 'P':
				w = snprintf(out + len, n - len, "%s", person);
				break;
			default:
				break;
			}
			if (w > 0) {
				len += (size_t)w < n - len ? (size_t)w : n - len - 1;
				t += 2;
				continue;
			}
		}
		out[len++] = *t;
	}
	out[len] = '\0';
}

/* The standing items due on day d (their party indexes); returns count. */
static size_t
standing_due(long d, size_t out[GEN_PARTIES_MAX])
{
	int	y, m, dom;
	size_t	i, n = 0;

	day_to_civil(d, &y, &m, &dom);
	for (i = 0; i < NPARTIES; i++)
		if (parties[i].dom == dom)
			out[n++] = i;
	return n;
}

static size_t
draw_everyday(struct gen *g)
{
	unsigned	total = 0, r;
	size_t		i;

	for (i = 0; i < NPARTIES; i++)
		total += parties[i].weight;
	r = (unsigned)(bench_rnd(&g->s) % total);
	for (i = 0; i < NPARTIES; i++) {
		if (r < parties[i].weight)
			return i;
		r -= parties[i].weight;
	}
	return NPARTIES - 1;
}

void
gen_next(struct gen *g, struct gen_txn *t)
{
	const struct party	*p;
	const struct kind	*k;
	size_t			 due[GEN_PARTIES_MAX], ndue = 0, pi;
	int			 y, m, dom;

	while (g->left == 0) {
		g->day++;
		ndue = standing_due(g->day, due);
		/* 0 to twice the average, so the mean is per_day_x10 / 10. */
		g->left = (long)ndue + (long)(bench_rnd(&g->s) %
		    (2 * g->per_day_x10 / 10 + 1));
		g->ndue = ndue;
		memcpy(g->due, due, sizeof(due));
	}
	if (g->ndue > 0)
		pi = g->due[--g->ndue];
	else
		pi = draw_everyday(g);
	g->left--;
	p = &parties[pi];
	k = &kinds[p->kind];
	memset(t, 0, sizeof(*t));
	day_to_civil(g->day, &y, &m, &dom);
	t->bday = g->day;
	t->vday = p->kind == K_CARD ? g->day - bench_range(&g->s, 0, 2) : g->day;
	t->amount = bench_range(&g->s, p->lo, p->hi);
	if (p->kind == K_ATM)
		t->amount -= t->amount % 1000;
	if (p->name != NULL)
		snprintf(t->cp_name, sizeof(t->cp_name), "%s", p->name);
	else
		snprintf(t->cp_name, sizeof(t->cp_name), "%s %s",
		    first_names[bench_rnd(&g->s) % NELEM(first_names)],
		    last_names[bench_rnd(&g->s) % NELEM(last_names)]);
	iban_of(p->blz, p->name != NULL ? (uint64_t)pi * 7919 + 11 :
	    bench_rnd(&g->s), t->cp_iban);
	t->cp_bic = p->bic;
	expand(g, p->text, m, y, t->cp_name, t->desc, sizeof(t->desc));
	if (k->sepa)
		snprintf(t->e2e, sizeof(t->e2e), "E2E%04d%02d%02d%010llu", y, m,
		    dom, (unsigned long long)(bench_rnd(&g->s) % 10000000000ULL));
	else
		snprintf(t->e2e, sizeof(t->e2e), "NOTPROVIDED");
	if (k->debit) {
		snprintf(t->mandate, sizeof(t->mandate), "MND-%06u-%zu",
		    (unsigned)(g->s % 1000000), pi);
		snprintf(t->creditor_id, sizeof(t->creditor_id),
		    "DE%02zuZZZ0000%07zu", 10 + pi, 1000000 + pi * 37);
	}
	snprintf(t->bank_id, sizeof(t->bank_id), "%s%05ld%07u", g->prefix,
	    g->day % 100000, g->n);
	snprintf(t->ref, sizeof(t->ref), "%016llX",
	    (unsigned long long)bench_rnd(&g->s));
	t->iso_domain = k->iso_domain;
	t->iso_family = k->iso_family;
	t->iso_sub = k->iso_sub;
	t->gvc = k->gvc;
	t->posting = k->posting;
	t->swift = k->swift;
	t->ofx_type = k->ofx_type;
	g->n++;
}
