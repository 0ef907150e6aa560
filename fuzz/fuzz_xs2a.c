/*
 * libFuzzer target: what an XS2A bank answers, the connector's first
 * reading of a bank's bytes (xs2a_map.c, xs2a_records.c).  The input is
 * one answer body, with a status taken from its first byte: read as an
 * error answer at every stage, then as an account list, balances and a
 * transaction page, whose next link is checked against a base URL.  Every
 * string the readers give is read to its end (ASan sees a dangling or
 * unterminated one); an error must name a catalog entry and carry a
 * terminated message.  Any crash, overread or broken rule is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banks/xs2a_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	seen;

static void
touch(const char *s)
{
	if (s != NULL)
		seen += strlen(s);
}

static void
check(const struct bank_error *e)
{
	if ((int)e->code <= 0 || e->code >= ERR__COUNT ||
	    memchr(e->message, '\0', sizeof(e->message)) == NULL)
		abort();
}

static void
accounts(json_t *j)
{
	struct xs2a_account	*acc = NULL, one;
	struct rec_account	 rec;
	struct bank_error	 e;
	size_t			 n = 0, i;

	if (xs2a_parse_accounts(j, &acc, &n, &e) == 0)
		for (i = 0; i < n; i++) {
			xs2a_account_record(&acc[i], &rec);
			touch(rec.bank_id);
			touch(rec.iban);
			touch(rec.number);
			touch(rec.name);
			touch(rec.holder_name);
			if (rec.nbalances > XS2A_MAX_BALANCES + 1)
				abort();
		}
	else
		check(&e);
	xs2a_accounts_free(acc, n);
	memset(&one, 0, sizeof(one));
	if (xs2a_parse_balances(j, &one, &e) == -1)
		check(&e);
	else if (one.nbal > XS2A_MAX_BALANCES)
		abort();
	free(one.name);
	free(one.owner);
}

/* Takes j (the page owns it). */
static void
transactions(json_t *j)
{
	struct xs2a_page	 p;
	struct bank_error	 e;
	char			 url[XS2A_URL_MAX];
	size_t			 i;

	memset(&p, 0, sizeof(p));
	if (xs2a_parse_transactions(j, "2026-01-01", &p, &e) == 0) {
		for (i = 0; i < p.n; i++) {
			touch(p.txns[i].bank_id);
			touch(p.txns[i].pending_bank_id);
			touch(p.txns[i].cp_name);
			touch(p.txns[i].cp_iban);
			touch(p.txns[i].description);
			touch(p.txns[i].bank_transaction_code);
			touch(p.txns[i].bank_reference);
			touch(p.txns[i].end_to_end_id);
		}
		if (p.next[0] != '\0' && xs2a_link("https://bank.example/psd2",
		    p.next, url, sizeof(url), &e) == -1)
			check(&e);
	} else
		check(&e);
	xs2a_page_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs2a_resp	 r;
	struct bank_error	 e;
	json_t			*j;
	char			*body;
	int			 st, pa;

	if ((body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	memset(&r, 0, sizeof(r));
	r.status = size > 0 ? 200 + data[0] % 400 : 400;
	r.body = body;
	r.len = size;
	r.retry_after = -1;
	memcpy(r.ctype, "application/json", sizeof("application/json"));
	for (st = 0; st < XS2A_NSTAGES; st++) {
		pa = -1;
		xs2a_map_error(&r, (enum xs2a_stage)st, &e, &pa);
		check(&e);
		if (pa != 0 && pa != 1)
			abort();
	}
	if ((j = xs2a_json_body(&r, &e)) != NULL) {
		accounts(j);
		transactions(j);
	} else
		check(&e);
	free(body);
	return 0;
}
