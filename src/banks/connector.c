#include "banks/connector.h"

#include "core/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

extern const struct connector sandbox_connector;
extern const struct connector xs2a_connector;

static const struct connector *const connectors[] = {
	&sandbox_connector,
	&xs2a_connector,
};

static const struct {
	const char	*name;
	int		 answered;
} kinds[] = {
#define K(e, name, answered) [e] = { name, answered },
	BANK_CHAL_KINDS(K)
#undef K
};

/*
 * bank_run_blocking() sleeps on notify_cond; bank_notify() moves
 * notify_gen and wakes them all.  Only tools, tests and sandbox-bank's
 * in-process steps run blocking (the server's logins are engine jobs, see
 * api/authrun.c), so waking all of them for any bank's answer costs little.
 */
static pthread_mutex_t	notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	notify_cond;
static pthread_once_t	notify_once = PTHREAD_ONCE_INIT;
static unsigned long	notify_gen;

const char *
bank_chal_kind_name(enum bank_chal_kind k)
{
	return (unsigned)k < BANK_CHAL__COUNT ? kinds[k].name : "question";
}

int
bank_chal_kind_parse(const char *s, enum bank_chal_kind *out)
{
	size_t	i;

	for (i = 0; s != NULL && i < BANK_CHAL__COUNT; i++)
		if (strcmp(kinds[i].name, s) == 0) {
			*out = (enum bank_chal_kind)i;
			return 0;
		}
	return -1;
}

int
bank_chal_answered(enum bank_chal_kind k)
{
	return (unsigned)k < BANK_CHAL__COUNT ? kinds[k].answered : 1;
}

const struct connector *
connector_for(const char *protocol)
{
	size_t	i;

	for (i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
		if (strcmp(connectors[i]->protocol, protocol) == 0)
			return connectors[i];
	return NULL;
}

const char *
bank_answer_get(const struct bank_answer *ans, size_t n, const char *key)
{
	size_t	i;

	for (i = 0; ans != NULL && i < n; i++)
		if (ans[i].key != NULL && strcmp(ans[i].key, key) == 0)
			return ans[i].value;
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
	return clock_mono_ns() / 1000000;
}

static void
notify_init(void)
{
	pthread_condattr_t	ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&notify_cond, &ca);
	pthread_condattr_destroy(&ca);
}

void
bank_notify(const struct bank_ctx *ctx)
{
	if (ctx != NULL && ctx->wake != NULL)
		ctx->wake(ctx->wake_arg);
	pthread_once(&notify_once, notify_init);
	pthread_mutex_lock(&notify_lock);
	notify_gen++;
	pthread_cond_broadcast(&notify_cond);
	pthread_mutex_unlock(&notify_lock);
}

/*
 * Steps until done, sleeping until the wake-up time each BANK_WAIT gives
 * or until bank_notify() says a bank answered.  The generation is read
 * before each step, so an answer that comes while the step runs is not
 * slept through.
 */
void
bank_run_blocking(const struct connector *c, struct bank_op *op)
{
	long long	until;
	unsigned long	gen;

	pthread_once(&notify_once, notify_init);
	for (;;) {
		pthread_mutex_lock(&notify_lock);
		gen = notify_gen;
		pthread_mutex_unlock(&notify_lock);
		if (c->step(op, &until) != BANK_WAIT)
			break;
		pthread_mutex_lock(&notify_lock);
		while (notify_gen == gen && bank_monotonic_ms() < until) {
			struct timespec	ts;

			ts.tv_sec = until / 1000;
			ts.tv_nsec = (until % 1000) * 1000000;
			if (pthread_cond_timedwait(&notify_cond, &notify_lock,
			    &ts) != 0)
				break;
		}
		pthread_mutex_unlock(&notify_lock);
	}
}
