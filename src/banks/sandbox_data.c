/*
 * The Sandbox Bank's data: accounts, balances and transactions generated
 * from (username, account, calendar day) with a PRNG of our own
 * (splitmix64), so that every fetch of the same days gives the same records.
 *
 * Money model.  Every transaction is an event authorized on day t and
 * booked on day b = t + lag (card payments: lag 1-3 days, pending until
 * then; transfers and direct debits: lag 0).  On the last day of a month
 * the card is settled from the checking account, and the checking account
 * sweeps what is left of the month to (or from) the holder's savings, so
 * every account closes each month at its base balance.  The balance at the
 * end of day d is therefore base + the events booked from the 1st of d's
 * month to d: a real running balance, the same whatever the fetched window,
 * computed from at most one month of events.  A fetch reports
 * opening_booked at the window's first day (before its transactions) and
 * booked at its last; the closing one is the opening one plus exactly the
 * booked transactions delivered, so opening + transactions = closing.
 *
 * Pre-authorizations.  Every third day the card also carries a hotel,
 * fuel-station or car-rental pre-authorization that never books: pending
 * from its day t until t + PREAUTH_HOLD, when the merchant releases it and
 * the bank simply stops delivering it (a sync then reports it removed).
 * It lowers the card's available balance while pending, like any pending
 * payment, and never touches the booked one or the month's settlement.
 *
 * The daily card payment.  Every day the card also pays a few euros for a
 * transit ticket, a coffee or a newspaper that books DAILY_LAG days
 * later: whatever the day, a sync shows at least one pending card payment
 * that books under its pending id (a pre-authorization never does), so a
 * client can always see pending turn into booked.  It is an ordinary
 * event: booked, it counts in the balances and the month's settlement.
 */
#include "banks/sandbox_int.h"

#include <stdio.h>
#include <string.h>

#include "banks/sandbox.h"
#include "core/day.h"

/* ---- PRNG ---- */

static uint64_t
sm64(uint64_t *s)
{
	uint64_t	z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
seed_of(const struct sb_gen *g, unsigned kind, long day, uint64_t extra)
{
	uint64_t	s = g->user ^ ((uint64_t)kind << 56) ^
	    ((uint64_t)day * 0x2545f4914f6cdd1dULL) ^ (extra * 0x9e37ULL);

	(void)sm64(&s);
	return s;
}

/* Uniform in [lo, hi]. */
static int64_t
rnd(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(sm64(s) % (uint64_t)(hi - lo + 1));
}

/* 1 with probability pct / 100. */
static int
chance(uint64_t *s, unsigned pct)
{
	return sm64(s) % 100 < pct;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A German IBAN for a name (deterministic): bank code + 10 digits. */
static void
iban_for(uint64_t h, const char *blz, char out[IBAN_MAX])
{
	char	bban[24];

	snprintf(bban, sizeof(bban), "%s%010llu", blz,
	    (unsigned long long)(h % 10000000000ULL));
	if (iban_make("DE", bban, out) == -1)
		out[0] = '\0';
}

/* An uppercase reference of letters and digits, never a long digit run. */
static void
reference(uint64_t h, const char *prefix, char *out, size_t n)
{
	static const char	 alpha[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
	char			 r[13];
	int			 i;

	for (i = 0; i < 12; i++) {
		/* Every third character a letter. */
		if (i % 3 == 0)
			r[i] = alpha[h % 24];
		else
			r[i] = (char)('0' + h % 10);
		h = h / 24 + (h % 7) * 0x1000000000000ULL;
	}
	r[12] = '\0';
	snprintf(out, n, "%s%s", prefix, r);
}

/* ---- tables ---- */

static const struct holder {
	const char	*name, *street, *town, *local;
} holders[] = {
	{ "Anna Schmidt", "Lindenstraße 12", "10969 Berlin", "anna.schmidt" },
	{ "Jonas Weber", "Hafenstraße 7", "20359 Hamburg", "jonas.weber" },
	{ "Lea Fischer", "Sendlinger Straße 33", "80331 München", "lea.fischer" },
	{ "Paul Becker", "Domstraße 2", "50668 Köln", "paul.becker" },
};

struct merchant {
	const char	*name, *city;
	int		 lo, hi;	/* cents */
};

/* girocard payments from the checking account. */
static const struct merchant shops[] = {
	{ "REWE Markt GmbH", "Berlin", 850, 9600 },
	{ "EDEKA Center", "Berlin", 620, 8400 },
	{ "ALDI SUED", "Berlin", 480, 6200 },
	{ "LIDL Dienstleistung", "Berlin", 390, 5800 },
	{ "dm-drogerie markt", "Berlin", 295, 3800 },
	{ "Rossmann", "Berlin", 199, 2900 },
	{ "Baeckerei Kamps", "Berlin", 245, 1150 },
	{ "Apotheke am Markt", "Berlin", 590, 4200 },
};

/* Visa card payments. */
static const struct merchant cardshops[] = {
	{ "AMAZON EU S.A R.L.", "Luxembourg", 899, 12999 },
	{ "ZALANDO SE", "Berlin", 1995, 15990 },
	{ "BOOKING.COM", "Amsterdam", 7900, 45000 },
	{ "LUFTHANSA", "Frankfurt", 9900, 64900 },
	{ "UBER *TRIP", "Amsterdam", 780, 4600 },
	{ "SHELL 4711", "Berlin", 3500, 9800 },
	{ "DB VERTRIEB GMBH", "Frankfurt", 1790, 13990 },
	{ "RISTORANTE DA MARIO", "Berlin", 2350, 11800 },
	{ "IKEA DEUTSCHLAND", "Berlin", 1299, 34900 },
};

/*
 * Visa pre-authorizations, released instead of booked.  Amounts are held
 * in whole tens of euros (a fuel pump's is a fixed sum), so lo and hi are
 * multiples of 1000 cents.
 */
static const struct merchant preauths[] = {
	{ "HOTEL ADLON KEMPINSKI", "Berlin", 20000, 60000 },
	{ "HOTEL BAYERISCHER HOF", "Muenchen", 15000, 45000 },
	{ "HOTEL ATLANTIC", "Hamburg", 10000, 35000 },
	{ "ARAL TANKSTELLE 281", "Berlin", 15000, 15000 },
	{ "SHELL TANKAUTOMAT 4711", "Hamburg", 10000, 10000 },
	{ "SIXT AUTOVERMIETUNG", "Frankfurt", 30000, 80000 },
};

/*
 * The card's daily small payments: a ticket machine's fixed fares, a
 * coffee, a newspaper, an e-scooter ride.
 */
static const struct merchant dailies[] = {
	{ "BVG FAHRSCHEINAUTOMAT", "Berlin", 380, 380 },
	{ "BVG TAGESKARTE", "Berlin", 1060, 1060 },
	{ "Einstein Kaffee", "Berlin", 290, 740 },
	{ "BACKWERK", "Berlin", 195, 890 },
	{ "PRESSE + BUCH HBF", "Berlin", 250, 1290 },
	{ "LIME*RIDE", "Berlin", 150, 690 },
};

static const struct friend {
	const char	*name;
	const char	*why_out, *why_in;
} friends[] = {
	{ "Max Mustermann", "Pizza Freitag", "Anteil Tankfuellung" },
	{ "Sophie Wagner", "Konzertkarten", "Geld zurueck Kino" },
	{ "Lukas Hoffmann", "Geburtstagsgeschenk Lisa", "Anteil Ferienwohnung" },
	{ "Marie Schulz", "WG Einkauf", "Rueckzahlung Auslage" },
};

static const struct plan_def {
	struct sb_plan_acct	accts[SB_PLAN_MAX];
	size_t			n;
} plans[PLAN__COUNT] = {
	[PLAN_NONE] = { { { KIND_CHECKING, "", 0 } }, 0 },
	[PLAN_GOOD] = { { { KIND_CHECKING, "chk", 0 },
	    { KIND_CARD, "cc", 0 } }, 2 },
	[PLAN_CARD_ONLY] = { { { KIND_CARD, "cc", 0 } }, 1 },
	[PLAN_EMPTY_SAVINGS] = { { { KIND_CHECKING, "chk", 0 },
	    { KIND_CARD, "cc", 0 }, { KIND_SAVINGS_EMPTY, "sav", 0 } }, 3 },
	[PLAN_IDLE_SAVINGS] = { { { KIND_CHECKING, "chk", 0 },
	    { KIND_CARD, "cc", 0 }, { KIND_SAVINGS_IDLE, "sav", 0 } }, 3 },
	[PLAN_DUP_CHECKING] = { { { KIND_CHECKING, "chk", 0 },
	    { KIND_CARD, "cc", 0 }, { KIND_CHECKING, "chk2", 0 } }, 3 },
	[PLAN_DISAPPEARS] = { { { KIND_CHECKING, "chk", 0 },
	    { KIND_CARD, "cc", 1 } }, 2 },
	[PLAN_LARGE] = { { { KIND_LARGE, "biz", 0 } }, 1 },
};

size_t
sb_plan_accounts(enum sb_plan p, const struct sb_plan_acct **out)
{
	*out = plans[p].accts;
	return plans[p].n;
}

/* Per kind: its code in ids, its base balance and its history. */
static const struct kind_def {
	const char	*code;
	int		 history;
} kinds[KIND__COUNT] = {
	[KIND_CHECKING] = { "CHK", SANDBOX_HISTORY_DAYS },
	[KIND_CARD] = { "CC", SANDBOX_HISTORY_DAYS },
	[KIND_SAVINGS_EMPTY] = { "SAV", SANDBOX_HISTORY_DAYS },
	[KIND_SAVINGS_IDLE] = { "SAV", SANDBOX_HISTORY_DAYS },
	[KIND_LARGE] = { "LG", SANDBOX_LARGE_DAYS },
};

int
sb_history_days(enum sb_kind k)
{
	return kinds[k].history;
}

#define SB_BLZ		"99012345"	/* the Sandbox Bank's bank code */
#define SB_BIC		"SBXBDEB1XXX"
#define CARD_LIMIT	1000000
/*
 * A pre-authorization is made every PREAUTH_EVERY days and held for
 * PREAUTH_HOLD: with the two equal, exactly one is pending on any day, so
 * every sync shows one (among the last 3 days' pending payments), and 4
 * days later it is gone.
 */
#define PREAUTH_EVERY	3
#define PREAUTH_HOLD	3
/* A fetch delivers the pending ones of the last 3 days and today. */
_Static_assert(PREAUTH_EVERY <= PREAUTH_HOLD && PREAUTH_HOLD <= 4,
    "a pre-authorization pending on every day, each within the fetch's "
    "pending window and gone 4 days later");
/* Its own PRNG stream, so that the card's other events stay as they were. */
#define PREAUTH_SALT	0x7a7a
/*
 * The daily card payment books DAILY_LAG days after it is made: pending on
 * its own day, so on every day at least one card payment is pending, and
 * booked within the 3 days a booking day looks back over (sb_day_booked,
 * own_sum), so 4 days later it has booked.
 */
#define DAILY_LAG	1
_Static_assert(DAILY_LAG >= 1 && DAILY_LAG <= 3,
    "the daily card payment pending on its day and booked within 3 days");
/* Its own PRNG stream too. */
#define DAILY_SALT	0x6b6b
/* The holder's Tagesgeld, where the monthly sweep goes (not listed). */
#define SAVINGS_SALT	0x5a5a

void
sb_gen_init(struct sb_gen *g, const char *username, long today, unsigned mut)
{
	int	y, m, d;

	memset(g, 0, sizeof(*g));
	g->user = hash_str(username);
	g->today = today;
	g->mut = mut;
	day_to_civil(today, &y, &m, &d);
	g->lm_last = today - d;
	day_to_civil(g->lm_last, &y, &m, &d);
	g->lm_first = g->lm_last - d + 1;
}

static const struct holder *
holder_of(const struct sb_gen *g)
{
	return &holders[g->user % (sizeof(holders) / sizeof(holders[0]))];
}

static int64_t
base_balance(const struct sb_gen *g, enum sb_kind k)
{
	static const int64_t	fixed[KIND__COUNT] = {
		[KIND_SAVINGS_IDLE] = 500000,
		[KIND_LARGE] = 125000000,
	};

	if (k == KIND_CHECKING)
		return 250000 + (int64_t)(g->user % 200000);
	return fixed[k];
}

/* ---- events ---- */

static void
ev_init(struct sb_ev *e, const struct sb_gen *g, enum sb_kind k, long t,
    int lag, size_t idx)
{
	char	ds[DAY_STRLEN];

	memset(e, 0, sizeof(*e));
	e->tday = t;
	e->bday = t + lag;
	e->lag = lag;
	day_format(t, ds);
	snprintf(e->id, sizeof(e->id), "TX-%s-%.4s%.2s%.2s-%02zu",
	    kinds[k].code, ds, ds + 5, ds + 8, idx);
	if (lag > 0)
		snprintf(e->pid, sizeof(e->pid), "PD-%s-%.4s%.2s%.2s-%02zu",
		    kinds[k].code, ds, ds + 5, ds + 8, idx);
	reference(seed_of(g, k, t, idx + 101), "", e->ref, sizeof(e->ref));
}

static int
weekday(long day)
{
	return (int)(((day % 7) + 7 + 3) % 7);	/* Monday = 0 */
}

/* Salary day: the 27th, or the Friday before when it falls on a weekend. */
static int
salary_day(int y, int m)
{
	long	d = day_from_civil(y, m, 27);
	int	w = weekday(d);

	return 27 - (w >= 5 ? w - 4 : 0);
}

/* Appends a SEPA / direct debit event; returns the new count. */
static size_t
ev_transfer(struct sb_ev *out, size_t n, const struct sb_gen *g,
    enum sb_kind k, long t, int64_t amount, const char *cp, const char *btc,
    const char *desc)
{
	struct sb_ev	*e = &out[n];

	ev_init(e, g, k, t, 0, n);
	e->amount = amount;
	snprintf(e->cp, sizeof(e->cp), "%s", cp);
	iban_for(hash_str(cp) ^ (g->user & 0xffff), "10020500", e->cp_iban);
	snprintf(e->btc, sizeof(e->btc), "%s", btc);
	snprintf(e->desc, sizeof(e->desc), "%s", desc);
	snprintf(e->e2e, sizeof(e->e2e), "E2E-%s", e->ref);
	return n + 1;
}

static size_t
ev_card(struct sb_ev *out, size_t n, const struct sb_gen *g, enum sb_kind k,
    long t, int lag, const struct merchant *mc, int64_t cents,
    const char *scheme, uint64_t *s)
{
	struct sb_ev	*e = &out[n];
	char		 ds[DAY_STRLEN];

	ev_init(e, g, k, t, lag, n);
	day_format(t, ds);
	e->amount = -cents;
	snprintf(e->cp, sizeof(e->cp), "%s", mc->name);
	snprintf(e->btc, sizeof(e->btc), "PMNT-CCRD-POSD");
	snprintf(e->desc, sizeof(e->desc), "%s %s %s %s %02d:%02d", scheme,
	    mc->name, mc->city, ds, (int)rnd(s, 7, 21), (int)rnd(s, 0, 59));
	return n + 1;
}

/* The checking account's own events authorized on day t. */
static size_t
gen_checking(const struct sb_gen *g, long t, struct sb_ev *out)
{
	uint64_t	 s = seed_of(g, KIND_CHECKING, t, 0);
	int		 y, m, d;
	size_t		 n = 0;
	char		 txt[SB_TXT];
	const struct holder *h = holder_of(g);

	day_to_civil(t, &y, &m, &d);
	if (d == 1) {
		snprintf(txt, sizeof(txt), "Miete %04d-%02d Wohnung 3. OG links "
		    "%s", y, m, h->street);
		n = ev_transfer(out, n, g, KIND_CHECKING, t,
		    -(int64_t)(78000 + (g->user >> 8) % 5 * 5000),
		    "Hausverwaltung Becker KG", "PMNT-ICDT-STDO", txt);
		if ((g->mut & MUT_TXN_DUP) && t == g->lm_first) {
			size_t	l;

			out[n] = out[n - 1];
			l = strnlen(out[n].id, sizeof(out[n].id) - 3);
			memcpy(out[n].id + l, "-D", 3);
			n++;
		}
	}
	if (d == 3) {
		snprintf(txt, sizeof(txt), "Rechnung %04d-%02d Kundenkonto "
		    "K-%06llu Mandat TDG-%05llu", y, m,
		    (unsigned long long)(g->user % 1000000),
		    (unsigned long long)(g->user >> 20) % 100000);
		n = ev_transfer(out, n, g, KIND_CHECKING, t, -2999,
		    "Telekom Deutschland GmbH", "PMNT-IDDT-ESDD", txt);
		if ((g->mut & MUT_TXN_INCOMPLETE) && t == g->lm_first + 2) {
			out[n - 1].cp[0] = '\0';
			out[n - 1].desc[0] = '\0';
		}
	}
	if (d == 5)
		n = ev_transfer(out, n, g, KIND_CHECKING, t, -2990,
		    "FitX Deutschland GmbH", "PMNT-IDDT-ESDD",
		    "Mitgliedsbeitrag Studio Berlin-Mitte");
	if (d == 15) {
		snprintf(txt, sizeof(txt), "Abschlag Strom %02d/%04d "
		    "Vertrag 40%05llu", m, y,
		    (unsigned long long)(g->user >> 24) % 100000);
		n = ev_transfer(out, n, g, KIND_CHECKING, t, -6200,
		    "Stadtwerke Berlin GmbH", "PMNT-IDDT-ESDD", txt);
	}
	if (d == salary_day(y, m)) {
		snprintf(txt, sizeof(txt), "LOHN/GEHALT %02d/%04d", m, y);
		n = ev_transfer(out, n, g, KIND_CHECKING, t,
		    320000 + (int64_t)((g->user >> 16) % 90000),
		    "Muster Software GmbH", "PMNT-RCDT-SALA", txt);
	}
	if (chance(&s, 55)) {
		const struct merchant *mc = &shops[sm64(&s) %
		    (sizeof(shops) / sizeof(shops[0]))];

		n = ev_card(out, n, g, KIND_CHECKING, t, (int)rnd(&s, 1, 2), mc,
		    rnd(&s, mc->lo, mc->hi), "girocard", &s);
	}
	if (chance(&s, 7)) {
		n = ev_transfer(out, n, g, KIND_CHECKING, t,
		    -rnd(&s, 1, 6) * 5000, "Geldautomat Sandbox Bank",
		    "PMNT-CCRD-CWDL", "Bargeldauszahlung Alexanderplatz");
		out[n - 1].cp_iban[0] = '\0';
		out[n - 1].e2e[0] = '\0';
	}
	if (chance(&s, 6)) {
		const struct friend *f = &friends[sm64(&s) %
		    (sizeof(friends) / sizeof(friends[0]))];

		n = ev_transfer(out, n, g, KIND_CHECKING, t,
		    -rnd(&s, 10, 80) * 100 - rnd(&s, 0, 1) * 50, f->name,
		    "PMNT-ICDT-ESCT", f->why_out);
	}
	if (chance(&s, 4)) {
		const struct friend *f = &friends[sm64(&s) %
		    (sizeof(friends) / sizeof(friends[0]))];

		n = ev_transfer(out, n, g, KIND_CHECKING, t,
		    rnd(&s, 10, 120) * 100, f->name, "PMNT-RCDT-ESCT",
		    f->why_in);
	}
	return n;
}

/* The card's own events authorized on day t. */
static size_t
gen_card(const struct sb_gen *g, long t, struct sb_ev *out)
{
	static const struct merchant subs[] = {
		{ "NETFLIX.COM", "Los Gatos", 1799, 1799 },
		{ "Spotify AB", "Stockholm", 1099, 1099 },
		{ "Audible GmbH", "Berlin", 995, 995 },
	};
	static const int sub_day[] = { 1, 12, 22 };
	uint64_t	s = seed_of(g, KIND_CARD, t, 0);
	uint64_t	ds = seed_of(g, KIND_CARD, t, DAILY_SALT);
	int		y, m, d;
	size_t		n = 0, i;
	const struct merchant *dm;

	day_to_civil(t, &y, &m, &d);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (d == sub_day[i]) {
			n = ev_card(out, n, g, KIND_CARD, t, (int)i % 2 + 1,
			    &subs[i], subs[i].lo, "VISA", &s);
			if (i == 0 && (g->mut & MUT_PAN) && t == g->lm_first) {
				size_t	l = strlen(out[n - 1].desc);

				snprintf(out[n - 1].desc + l,
				    sizeof(out[n - 1].desc) - l,
				    " KARTE 4111 1111 1111 1111");
			}
		}
	if (chance(&s, 45)) {
		const struct merchant *mc = &cardshops[sm64(&s) %
		    (sizeof(cardshops) / sizeof(cardshops[0]))];

		n = ev_card(out, n, g, KIND_CARD, t, (int)rnd(&s, 1, 3), mc,
		    rnd(&s, mc->lo, mc->hi), "VISA", &s);
	}
	if (chance(&s, 15)) {
		const struct merchant *mc = &cardshops[sm64(&s) %
		    (sizeof(cardshops) / sizeof(cardshops[0]))];

		n = ev_card(out, n, g, KIND_CARD, t, (int)rnd(&s, 1, 3), mc,
		    rnd(&s, mc->lo, mc->hi), "VISA", &s);
	}
	/* Each user on its own phase of the cycle (t may be < 0). */
	if ((t % PREAUTH_EVERY + PREAUTH_EVERY +
	    (long)(g->user % PREAUTH_EVERY)) % PREAUTH_EVERY == 0) {
		uint64_t	 ps = seed_of(g, KIND_CARD, t, PREAUTH_SALT);
		const struct merchant *mc = &preauths[sm64(&ps) %
		    (sizeof(preauths) / sizeof(preauths[0]))];

		n = ev_card(out, n, g, KIND_CARD, t, PREAUTH_HOLD, mc,
		    rnd(&ps, mc->lo / 1000, mc->hi / 1000) * 1000,
		    "VISA VORAUTORISIERUNG", &ps);
		out[n - 1].released = 1;
		out[n - 1].id[0] = '\0';
	}
	/* Last, so that the other events keep their index (and id). */
	dm = &dailies[sm64(&ds) % (sizeof(dailies) / sizeof(dailies[0]))];
	n = ev_card(out, n, g, KIND_CARD, t, DAILY_LAG, dm,
	    rnd(&ds, dm->lo, dm->hi), "VISA", &ds);
	return n;
}

#define GEN_MAX 16	/* events authorized on one day, at most */

static size_t
gen_day(const struct sb_gen *g, enum sb_kind k, long t, struct sb_ev *out)
{
	if (k == KIND_CHECKING)
		return gen_checking(g, t, out);
	if (k == KIND_CARD)
		return gen_card(g, t, out);
	return 0;
}

/*
 * Whether an event survives the scenario's drops, which hit the checking
 * account only (one account shows the warning, once).
 */
static int
keep(const struct sb_gen *g, enum sb_kind k, long tday, long bday)
{
	if (k != KIND_CHECKING)
		return 1;
	if ((g->mut & MUT_DROP_LAST_MONTH) &&
	    ((tday >= g->lm_first && tday <= g->lm_last) ||
	    (bday >= g->lm_first && bday <= g->lm_last)))
		return 0;
	if ((g->mut & MUT_DROP_LAST15) &&
	    (tday >= g->today - 14 || bday >= g->today - 14))
		return 0;
	return 1;
}

/*
 * Whether e books on a day of [lo, hi]: the one test that the delivered
 * booked transactions and the balances (through the month's sums) share,
 * so that a released pre-authorization is missing from both alike.
 */
static int
books_in(const struct sb_gen *g, enum sb_kind k, const struct sb_ev *e,
    long lo, long hi)
{
	return !e->released && e->bday >= lo && e->bday <= hi &&
	    keep(g, k, e->tday, e->bday);
}

static long
month_first(long d)
{
	int	y, m, dd;

	day_to_civil(d, &y, &m, &dd);
	return d - dd + 1;
}

static long
month_last(long d)
{
	int	y, m, dd;

	day_to_civil(d, &y, &m, &dd);
	return d - dd + day_month_length(y, m);
}

/* The kind's own (not settlement or sweep) events booked in [lo, hi]. */
static int64_t
own_sum(struct sb_gen *g, enum sb_kind k, long lo, long hi)
{
	struct sb_ev	ev[GEN_MAX];
	int64_t		sum = 0;
	long		t;
	size_t		n, i;

	for (t = lo - 3; t <= hi; t++) {
		n = gen_day(g, k, t, ev);
		for (i = 0; i < n; i++)
			if (books_in(g, k, &ev[i], lo, hi))
				sum += ev[i].amount;
	}
	return sum;
}

/* own_sum over the month that starts on first, cached. */
static int64_t
month_own_sum(struct sb_gen *g, enum sb_kind k, long first)
{
	size_t	i;
	int64_t	sum;

	for (i = 0; i < g->ncache; i++)
		if (g->cache[i].kind == (int)k && g->cache[i].first == first)
			return g->cache[i].sum;
	sum = own_sum(g, k, first, month_last(first));
	i = g->ncache < SB_MONTH_CACHE ? g->ncache++ :
	    (size_t)(first % SB_MONTH_CACHE);
	g->cache[i].kind = (int)k;
	g->cache[i].first = first;
	g->cache[i].sum = sum;
	return sum;
}

/* The month-end events of kind k on day d (its month's last day). */
static size_t
month_end(struct sb_gen *g, enum sb_kind k, long d, struct sb_ev *out,
    size_t n, size_t max)
{
	long		 first = month_first(d);
	int64_t		 card = month_own_sum(g, KIND_CARD, first);
	int64_t		 sweep;
	char		 ds[DAY_STRLEN];
	const struct holder *h = holder_of(g);

	if (!keep(g, k, d, d) || n + 2 > max)
		return n;
	day_format(d, ds);
	if (k == KIND_CARD && card != 0) {
		ev_init(&out[n], g, k, d, 0, 90);
		out[n].amount = -card;
		snprintf(out[n].cp, sizeof(out[n].cp), "Sandbox Bank");
		snprintf(out[n].btc, sizeof(out[n].btc), "PMNT-RCDT-BOOK");
		snprintf(out[n].desc, sizeof(out[n].desc),
		    "Ausgleich Kreditkartenabrechnung %.7s", ds);
		n++;
	}
	if (k != KIND_CHECKING)
		return n;
	if (card != 0) {
		ev_init(&out[n], g, k, d, 0, 90);
		out[n].amount = card;
		snprintf(out[n].cp, sizeof(out[n].cp), "Sandbox Bank Visa");
		snprintf(out[n].btc, sizeof(out[n].btc), "PMNT-ICDT-BOOK");
		snprintf(out[n].desc, sizeof(out[n].desc),
		    "Kreditkartenabrechnung %.7s VISA **** %04llu", ds,
		    (unsigned long long)(g->user % 10000));
		n++;
	}
	sweep = -(month_own_sum(g, KIND_CHECKING, first) + card);
	if (sweep != 0) {
		ev_init(&out[n], g, k, d, 0, 91);
		out[n].amount = sweep;
		snprintf(out[n].cp, sizeof(out[n].cp), "%s", h->name);
		iban_for(g->user ^ SAVINGS_SALT, SB_BLZ, out[n].cp_iban);
		snprintf(out[n].btc, sizeof(out[n].btc), "PMNT-ICDT-BOOK");
		snprintf(out[n].desc, sizeof(out[n].desc), "Monatsabschluss "
		    "%.7s: Uebertrag %s Tagesgeld", ds, sweep < 0 ? "auf" :
		    "vom");
		snprintf(out[n].e2e, sizeof(out[n].e2e), "SWEEP-%.4s%.2s", ds,
		    ds + 5);
		n++;
	}
	return n;
}

size_t
sb_day_booked(struct sb_gen *g, enum sb_kind k, long d, struct sb_ev *out,
    size_t max)
{
	struct sb_ev	ev[GEN_MAX];
	size_t		n = 0, m, i;
	long		t;

	for (t = d - 3; t <= d; t++) {
		m = gen_day(g, k, t, ev);
		for (i = 0; i < m && n < max; i++)
			if (books_in(g, k, &ev[i], d, d))
				out[n++] = ev[i];
	}
	if (d == month_last(d))
		n = month_end(g, k, d, out, n, max);
	return n;
}

size_t
sb_day_pending(struct sb_gen *g, enum sb_kind k, long t, struct sb_ev *out,
    size_t max)
{
	struct sb_ev	ev[GEN_MAX];
	size_t		n = 0, m, i;

	/* A pre-authorization is pending until its release day as a payment
	 * is until its booking day. */
	m = gen_day(g, k, t, ev);
	for (i = 0; i < m && n < max; i++)
		if (ev[i].bday > g->today && keep(g, k, ev[i].tday, ev[i].bday))
			out[n++] = ev[i];
	return n;
}

/* Sum of the booked events of [lo, hi], month-end ones included. */
static int64_t
booked_sum(struct sb_gen *g, enum sb_kind k, long lo, long hi)
{
	struct sb_ev	ev[SB_DAY_MAX];
	int64_t		sum = 0;
	long		d;
	size_t		n, i;

	for (d = lo; d <= hi; d++) {
		n = sb_day_booked(g, k, d, ev, SB_DAY_MAX);
		for (i = 0; i < n; i++)
			sum += ev[i].amount;
	}
	return sum;
}

static int64_t
pending_sum(struct sb_gen *g, enum sb_kind k, long s, long e)
{
	struct sb_ev	ev[GEN_MAX];
	int64_t		sum = 0;
	long		t;
	size_t		n, i;

	for (t = s > g->today - 3 ? s : g->today - 3; t <= e; t++) {
		n = sb_day_pending(g, k, t, ev, GEN_MAX);
		for (i = 0; i < n; i++)
			sum += ev[i].amount;
	}
	return sum;
}

static void
balance(struct rec_balance *b, enum bal_type t, int64_t amount,
    const char *cur, long day)
{
	b->type = t;
	b->amount = amount;
	snprintf(b->currency, sizeof(b->currency), "%s", cur);
	if (day == 0)
		b->date[0] = '\0';
	else
		day_format(day, b->date);
}

void
sb_account_make(struct sb_gen *g, enum sb_kind k, const char *suffix, long s,
    long e, struct sb_account *a)
{
	static const char *const names[KIND__COUNT] = {
		[KIND_CHECKING] = "Girokonto",
		[KIND_CARD] = "Visa Classic",
		[KIND_SAVINGS_EMPTY] = "Sparkonto",
		[KIND_SAVINGS_IDLE] = "Sparkonto",
		[KIND_LARGE] = "Geschaeftskonto",
	};
	static const enum acct_type types[KIND__COUNT] = {
		[KIND_CHECKING] = ACCT_CHECKING,
		[KIND_CARD] = ACCT_CREDIT_CARD,
		[KIND_SAVINGS_EMPTY] = ACCT_SAVINGS,
		[KIND_SAVINGS_IDLE] = ACCT_SAVINGS,
		[KIND_LARGE] = ACCT_CHECKING,
	};
	static const uint64_t	 iban_salt[KIND__COUNT] = {
		[KIND_SAVINGS_EMPTY] = 0x7777,
		[KIND_SAVINGS_IDLE] = 0x7777,
		[KIND_LARGE] = 0x1234,
	};
	const struct holder	*h = holder_of(g);
	struct rec_account	*r = &a->rec;
	int64_t			 open, close, pend = 0;
	unsigned		 mut;

	memset(a, 0, sizeof(*a));
	snprintf(a->bank_id, sizeof(a->bank_id), "sbx-%08llx-%s",
	    (unsigned long long)(g->user & 0xffffffffULL), suffix);
	snprintf(a->name, sizeof(a->name), "%s", names[k]);
	snprintf(a->holder, sizeof(a->holder), "%s", h->name);
	snprintf(a->address, sizeof(a->address), "%s, %s, Germany", h->street,
	    h->town);
	snprintf(a->email, sizeof(a->email), "%s@example.de", h->local);
	/* The holder mutations change the checking account only, so that
	 * a warning user shows its warning once. */
	mut = k == KIND_CHECKING ? g->mut : 0;
	if (mut & MUT_ADDRESS_INCOMPLETE)
		snprintf(a->address, sizeof(a->address), "%s", h->street);
	if (mut & MUT_BAD_EMAIL)
		snprintf(a->email, sizeof(a->email), "%s@example", h->local);

	r->bank_id = a->bank_id;
	r->name = a->name;
	r->type = types[k];
	memcpy(r->currency, "EUR", 4);
	r->holder_name = (mut & MUT_NO_HOLDER) ? NULL : a->holder;
	r->holder_address = (mut & MUT_NO_ADDRESS) ? NULL : a->address;
	r->holder_email = (mut & MUT_NO_EMAIL) ? NULL : a->email;
	if (k == KIND_CARD) {
		snprintf(a->number, sizeof(a->number), "**** **** **** %04llu",
		    (unsigned long long)(g->user % 10000));
		r->number = a->number;
	} else {
		/* The number depends on the kind only, so that a listed
		 * twice checking account (PLAN_DUP_CHECKING) keeps it. */
		iban_for(g->user ^ iban_salt[k], SB_BLZ, a->iban);
		snprintf(a->bic, sizeof(a->bic), SB_BIC);
		r->bic = a->bic;
		if (k == KIND_CHECKING && (g->mut & MUT_NO_IBAN)) {
			snprintf(a->number, sizeof(a->number), "******%.4s",
			    a->iban + strlen(a->iban) - 4);
			r->number = a->number;
		} else
			r->iban = a->iban;
	}

	/* The balance before the window: base + this month's events so far. */
	open = base_balance(g, k);
	if (k == KIND_CHECKING || k == KIND_CARD) {
		open += booked_sum(g, k, month_first(s), s - 1);
		close = open + (e >= s ? booked_sum(g, k, s, e) : 0);
		if (e >= s && e >= g->today - 3)
			pend = pending_sum(g, k, s, e);
	} else
		close = open;
	if (k == KIND_CHECKING && (g->mut & MUT_BALANCE_OFF))
		close -= 4990;
	balance(&a->bal[0], BAL_OPENING_BOOKED, open, "EUR", s);
	balance(&a->bal[1], BAL_BOOKED, close, "EUR", e);
	r->nbalances = 3;
	if (k == KIND_CARD) {
		balance(&a->bal[2], BAL_AVAILABLE, CARD_LIMIT + close + pend,
		    "EUR", e);
		balance(&a->bal[3], BAL_CREDIT_LIMIT, CARD_LIMIT, "EUR", 0);
		r->nbalances = 4;
	} else
		balance(&a->bal[2], BAL_AVAILABLE, close + pend,
		    (k == KIND_CHECKING && (g->mut & MUT_BAD_CURRENCY)) ?
		    "XEU" : "EUR", e);
	r->balances = a->bal;
}

void
sb_out_of_period(struct sb_gen *g, long day, struct sb_ev *e)
{
	uint64_t	s = seed_of(g, KIND_CHECKING, day, 77);

	(void)ev_card(e, 0, g, KIND_CHECKING, day, 0, &shops[0], 1234,
	    "girocard", &s);
	snprintf(e->id, sizeof(e->id), "TX-CHK-OOP-%ld", day);
}

/* ---- user_large ---- */

size_t
sb_large_count(long d)
{
	long	r = ((d % SANDBOX_LARGE_DAYS) + SANDBOX_LARGE_DAYS) %
	    SANDBOX_LARGE_DAYS;

	/* 1,111 a day, 1,112 on 10 days of every 90: 100,000 per 90 days. */
	return 1111 + (r < 10);
}

/* Appends s at p (room checked by the caller's sizes); returns the end. */
static char *
put(char *p, const char *s)
{
	size_t	n = strlen(s);

	memcpy(p, s, n);
	p[n] = '\0';
	return p + n;
}

/* Appends i (< 10000) as 4 digits. */
static char *
put4(char *p, size_t i)
{
	p[0] = (char)('0' + i / 1000 % 10);
	p[1] = (char)('0' + i / 100 % 10);
	p[2] = (char)('0' + i / 10 % 10);
	p[3] = (char)('0' + i % 10);
	p[4] = '\0';
	return p + 4;
}

/* Appends YYYYMMDD of a formatted day. */
static char *
put_ymd(char *p, const char *ds)
{
	memcpy(p, ds, 4);
	memcpy(p + 4, ds + 5, 2);
	memcpy(p + 6, ds + 8, 2);
	p[8] = '\0';
	return p + 8;
}

/*
 * user_large's transactions, built by hand rather than with snprintf: its
 * 100,000 of them are the sync benchmark's load, and the bank's side of it
 * should not cost more than bankfeed's.
 */
void
sb_large_txn(struct sb_gen *g, long d, size_t i, int64_t *daysum,
    struct sb_ev *e)
{
	static const char *const cps[] = { "Kunde Online-Shop", "Marktplatz "
	    "Auszahlung", "Lieferant Grosshandel", "Versanddienst", "Kasse "
	    "Filiale" };
	uint64_t	s = seed_of(g, KIND_LARGE, d, i);
	char		ds[DAY_STRLEN];
	size_t		n = sb_large_count(d);

	memset(e, 0, sizeof(*e));
	day_format(d, ds);
	e->tday = e->bday = d;
	put4(put(put_ymd(put(e->id, "LG-"), ds), "-"), i);
	if (i + 1 < n) {
		e->amount = rnd(&s, -50000, 50000);
		if (e->amount == 0)
			e->amount = 1;
		*daysum += e->amount;
		put(e->cp, cps[i % 5]);
		put4(put(put(put(e->desc, "Beleg "), ds), "/"), i);
		put(e->btc, e->amount > 0 ? "PMNT-RCDT-ESCT" : "PMNT-ICDT-ESCT");
	} else {
		/* The day's last one nets the day to zero. */
		e->amount = -*daysum;
		put(e->cp, "Tagesabschluss");
		put(put(e->desc, "Tagesausgleich "), ds);
		put(e->btc, "PMNT-ICDT-BOOK");
	}
	put4(put(put_ymd(put(e->ref, "LG"), ds), "N"), i);
}

void
sb_ev_record(const struct sb_ev *e, int pending, struct rec_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->status = pending ? TXN_PENDING : TXN_BOOKED;
	t->bank_id = pending ? e->pid : e->id;
	t->pending_bank_id = !pending && e->pid[0] != '\0' ? e->pid : NULL;
	day_format(pending ? e->tday : e->bday, t->booking_date);
	day_format(e->tday, t->value_date);
	t->amount = e->amount;
	memcpy(t->currency, "EUR", 4);
	t->cp_name = e->cp[0] != '\0' ? e->cp : NULL;
	t->cp_iban = e->cp_iban[0] != '\0' ? e->cp_iban : NULL;
	t->description = e->desc[0] != '\0' ? e->desc : NULL;
	t->bank_transaction_code = e->btc[0] != '\0' ? e->btc : NULL;
	t->bank_reference = e->ref[0] != '\0' ? e->ref : NULL;
	t->end_to_end_id = e->e2e[0] != '\0' ? e->e2e : NULL;
}
