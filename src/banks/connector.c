#include "banks/connector.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

extern const struct connector sandbox_connector;

static const struct connector *const connectors[] = {
	&sandbox_connector,
};

const struct connector *
connector_for(const char *protocol)
{
	size_t	i;

	for (i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
		if (strcmp(connectors[i]->protocol, protocol) == 0)
			return connectors[i];
	return NULL;
}

void
bank_auth_init(struct bank_auth *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->state, BANK_STATE_MAX);
}

void
bank_auth_free(struct bank_auth *a)
{
	buf_free(&a->state);
}

void
bank_fetch_result_init(struct bank_fetch_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->state, BANK_STATE_MAX);
}

void
bank_fetch_result_free(struct bank_fetch_result *r)
{
	buf_free(&r->state);
}

void
bank_error_set(struct bank_error *e, enum err code, const char *fmt, ...)
{
	va_list	ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

long long
bank_monotonic_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
bank_run_blocking(const struct connector *c, struct bank_op *op)
{
	long long	until;

	while (c->step(op, &until) == BANK_WAIT) {
		long long	ms = until - bank_monotonic_ms();
		struct timespec	ts;

		if (ms <= 0)
			continue;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
}
