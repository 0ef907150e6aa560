/*
 * The Berlin Group NextGenPSD2 (XS2A) connector: operations and what all
 * of them share — the institution's settings, the state string, request
 * headers, the step loop with its retries, and failures.  The consent and
 * its SCA are in xs2a_auth.c, the fetch in xs2a_fetch.c, the exchanges in
 * xs2a_net.c, the mapping of the bank's JSON in xs2a_map.c.
 *
 * An operation is a chain of phases (xs2a_int.h); each phase sends one
 * request and reads its answer.  step() sends, returns BANK_WAIT while the
 * network thread waits for the bank (it wakes the caller when the answer
 * is in), and reads the answer on the caller's thread, so records reach
 * the sink there.  A GET that meets a network fault, a 5xx, 408 or a 429
 * with a short Retry-After is sent again after a growing wait, up to three
 * times in all; a POST or PUT only when nothing reached the bank (the name
 * did not resolve, the connection was refused): it may have acted.
 */
#include "banks/institutions.h"
#include "banks/xs2a_int.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/day.h"
#include "core/jw.h"
#include "core/log.h"

#define TRIES_MAX		3
#define RETRY_AFTER_MAX_S	30	/* longer waits fail the operation */
#define HEADERS_MAX		16

static _Atomic long	timeout_ms = 30000;
static _Atomic long	backoff_ms = 1000;
static _Atomic long	poll_ms = 2000;

void
xs2a_set_timing(long t, long b, long p)
{
	timeout_ms = t > 0 ? t : 30000;
	backoff_ms = b >= 0 ? b : 1000;
	poll_ms = p >= 0 ? p : 2000;
}

long
xs2a_poll_ms(void)
{
	return poll_ms;
}

/* ---- the institution ---- */

static const char *const approach_names[] = {
#define A(e, s) [e] = s,
	XS2A_APPROACHES(A)
#undef A
};

const char *
xs2a_approach_name(enum xs2a_approach a)
{
	return (unsigned)a < XA__COUNT ? approach_names[a] : "";
}

int
xs2a_approach_parse(const char *s, enum xs2a_approach *out)
{
	int	i;

	for (i = 0; i < XA__COUNT; i++)
		if (strcmp(approach_names[i], s) == 0) {
			*out = (enum xs2a_approach)i;
			return 0;
		}
	return -1;
}

/*
 * The XS2A settings of an institution, from the institutions file (or the
 * built-in sandbox_xs2a): -1 when it is not an XS2A bank bankfeed can
 * reach now (no such id, or no base URL: sandbox_xs2a without
 * --sandbox-xs2a-url).
 */
int
xs2a_inst_get(const char *institution_id, struct xs2a_inst *in)
{
	const struct institution *i = institution_find(institution_id);
	enum xs2a_approach	 a;
	size_t			 k;

	memset(in, 0, sizeof(*in));
	if (i == NULL || i->base_url == NULL || strcmp(i->protocol, "xs2a") != 0)
		return -1;
	snprintf(in->base_url, sizeof(in->base_url), "%s", i->base_url);
	snprintf(in->tpp_redirect_uri, sizeof(in->tpp_redirect_uri), "%s",
	    institution_redirect_uri(i) != NULL ? institution_redirect_uri(i) :
	    "");
	snprintf(in->tls_cert, sizeof(in->tls_cert), "%s",
	    i->tls_client_cert != NULL ? i->tls_client_cert : "");
	snprintf(in->tls_key, sizeof(in->tls_key), "%s",
	    i->tls_client_key != NULL ? i->tls_client_key : "");
	for (k = 0; k < i->nsca_approaches && in->napproaches < XA__COUNT; k++)
		if (xs2a_approach_parse(sca_approach_name(i->sca_approaches[k]),
		    &a) == 0)
			in->approaches[in->napproaches++] = a;
	return 0;
}

/* ---- the state string ---- */

static const char *const pend_names[] = {
#define P(e, s) [e] = s,
	XS2A_PENDING(P)
#undef P
};

int
xs2a_state_write(const struct xs2a_state *st, struct buf *b)
{
	struct jw	w;
	size_t		i;

	buf_reset(b);
	jw_init(&w, b);
	jw_obj(&w);
	jw_kint(&w, "v", 1);
	jw_kstr(&w, "consent", st->consent);
	if (st->auth[0] != '\0')
		jw_kstr(&w, "auth", st->auth);
	if (st->psu_id[0] != '\0')
		jw_kstr(&w, "psu", st->psu_id);
	jw_kbool(&w, "authorized", st->authorized);
	if (st->pending != PEND_NONE) {
		jw_kstr(&w, "pending", pend_names[st->pending]);
		jw_kstr(&w, "prompt", st->prompt);
	}
	if (st->pending == PEND_REDIRECT)
		jw_kstr(&w, "url", st->url);
	if (st->pending == PEND_DECOUPLED)
		jw_kint(&w, "poll_at", st->poll_at);
	if (st->pending == PEND_METHOD) {
		jw_key(&w, "methods");
		jw_arr(&w);
		for (i = 0; i < st->nmethods; i++) {
			jw_arr(&w);
			jw_str(&w, st->methods[i].opt);
			jw_str(&w, st->methods[i].id);
			jw_arr_end(&w);
		}
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	return jw_finish(&w);
}

int
xs2a_state_read(const char *s, struct xs2a_state *st)
{
	json_t		*j, *m;
	const char	*consent, *auth = NULL, *psu = NULL, *pend = NULL;
	const char	*prompt = NULL, *url = NULL;
	json_int_t	 ver = 0, poll = 0;
	int		 authorized = 0, rc = -1, i;
	size_t		 k;

	memset(st, 0, sizeof(*st));
	if (s == NULL || (j = json_loads(s, 0, NULL)) == NULL)
		return -1;
	if (json_unpack(j, "{s:I, s:s, s?:s, s?:s, s:b, s?:s, s?:s, s?:s, "
	    "s?:I}", "v", &ver, "consent", &consent, "auth", &auth, "psu", &psu,
	    "authorized", &authorized, "pending", &pend, "prompt", &prompt,
	    "url", &url, "poll_at", &poll) != 0 || ver != 1 ||
	    strlen(consent) >= sizeof(st->consent) ||
	    (auth != NULL && strlen(auth) >= sizeof(st->auth)))
		goto out;
	snprintf(st->consent, sizeof(st->consent), "%s", consent);
	snprintf(st->auth, sizeof(st->auth), "%s", auth ? auth : "");
	snprintf(st->psu_id, sizeof(st->psu_id), "%s", psu ? psu : "");
	snprintf(st->prompt, sizeof(st->prompt), "%s", prompt ? prompt : "");
	snprintf(st->url, sizeof(st->url), "%s", url ? url : "");
	st->authorized = authorized;
	st->poll_at = poll;
	for (i = 0; pend != NULL && i < PEND__COUNT; i++)
		if (strcmp(pend, pend_names[i]) == 0)
			st->pending = (enum xs2a_pending)i;
	json_array_foreach(json_object_get(j, "methods"), k, m) {
		const char	*opt = json_string_value(json_array_get(m, 0));
		const char	*id = json_string_value(json_array_get(m, 1));

		if (opt == NULL || id == NULL || st->nmethods == BANK_MAX_OPTIONS)
			continue;
		snprintf(st->methods[st->nmethods].opt, BANK_OPTION_MAX, "%s",
		    opt);
		snprintf(st->methods[st->nmethods].id, XS2A_ID_MAX, "%s", id);
		st->nmethods++;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* ---- failures ---- */

static struct bank_error *
op_error(struct bank_op *op)
{
	return op->kind == OP_FETCH ? &op->res->error : &op->auth->error;
}

void
xs2a_fail_with(struct bank_op *op, const struct bank_error *e)
{
	struct bank_error	*to = op_error(op);

	if (to != e)
		*to = *e;
	if (op->kind != OP_FETCH) {
		op->auth->outcome = BANK_FAILED;
		op->auth->nchallenges = 0;
		op->auth->poll_at = 0;
		buf_reset(&op->auth->state);
	}
	op->phase = PH_DONE;
}

void
xs2a_fail(struct bank_op *op, enum err code, const char *fmt, ...)
{
	struct bank_error	e;
	va_list			ap;

	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	xs2a_fail_with(op, &e);
}

int
xs2a_answer_error(struct bank_op *op, const struct xs2a_resp *r,
    int per_account_ok, struct bank_error *e)
{
	int	per_account = 0;

	xs2a_map_error(r, op->stage, e, &per_account);
	if (per_account && per_account_ok)
		return 1;
	xs2a_fail_with(op, e);
	return 0;
}

/* ---- requests ---- */

int
xs2a_url(struct bank_op *op, char *out, const char *fmt, ...)
{
	va_list	ap;
	size_t	n = strlen(op->inst.base_url);
	int	m;

	if (n >= XS2A_URL_MAX)
		return -1;
	memcpy(out, op->inst.base_url, n);
	va_start(ap, fmt);
	m = vsnprintf(out + n, XS2A_URL_MAX - n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= XS2A_URL_MAX - n ? -1 : 0;
}

/* A UUID version 4 (RFC 4122) for X-Request-ID. */
static void
uuid4(char out[37])
{
	unsigned char	b[16];
	static const char hex[] = "0123456789abcdef";
	size_t		i, o = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/*
 * The IP address bankfeed itself uses, for a PSU-IP-Address that POST
 * /v1/consents must carry when the end user's is not known ("the TPP
 * shall use the IP Address used by the TPP when submitting this
 * request"): the first IPv4 address of an interface that is up and not a
 * loopback, else 127.0.0.1.
 */
static char		own_ip[INET_ADDRSTRLEN] = "127.0.0.1";
static pthread_once_t	own_once = PTHREAD_ONCE_INIT;

static void
own_ip_find(void)
{
	struct ifaddrs	*ifa, *i;

	if (getifaddrs(&ifa) == -1)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)
		    i->ifa_addr;

		if (sin == NULL || sin->sin_family != AF_INET ||
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, own_ip, sizeof(own_ip));
		break;
	}
	freeifaddrs(ifa);
}

/* Headers are built into one buffer, then pointed at. */
struct hdrs {
	struct buf	 b;
	size_t		 off[HEADERS_MAX];
	const char	*p[HEADERS_MAX + 1];
	size_t		 n;
};

static void
hdr(struct hdrs *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
hdr(struct hdrs *h, const char *fmt, ...)
{
	va_list	ap;

	if (h->n == HEADERS_MAX)
		return;
	h->off[h->n++] = h->b.len;
	va_start(ap, fmt);
	buf_vprintf(&h->b, fmt, ap);
	va_end(ap);
	buf_addc(&h->b, '\0');
}

static int
preferred(const struct bank_op *op, enum xs2a_approach a)
{
	return op->inst.napproaches > 0 && op->inst.approaches[0] == a;
}

static int
offers(const struct bank_op *op, enum xs2a_approach a)
{
	size_t	i;

	for (i = 0; i < op->inst.napproaches; i++)
		if (op->inst.approaches[i] == a)
			return 1;
	return 0;
}

/*
 * The SCA preference and the callback URL that brings the end user back,
 * with our state.  TPP-Redirect-Preferred is true when the bank prefers
 * redirect, false when bankfeed cannot redirect there (not offered, or no
 * redirect URI), and absent when redirect is one of the bank's approaches
 * but not its first: the spec leaves the choice to the bank then, which
 * may pick it per PSU (sandbox-bank's user_sca_redirect does).
 */
static void
redirect_headers(struct bank_op *op, struct hdrs *h)
{
	const char	*u = op->inst.tpp_redirect_uri;
	const char	*sep = strchr(u, '?') != NULL ? "&" : "?";
	int		 can = offers(op, XA_REDIRECT) && *u != '\0';

	if (preferred(op, XA_REDIRECT) || !can)
		hdr(h, "TPP-Redirect-Preferred: %s", preferred(op,
		    XA_REDIRECT) ? "true" : "false");
	if (preferred(op, XA_DECOUPLED))
		hdr(h, "TPP-Decoupled-Preferred: true");
	if (!can)
		return;
	if (op->cb_state[0] != '\0') {
		hdr(h, "TPP-Redirect-URI: %s%sstate=%s", u, sep, op->cb_state);
		hdr(h, "TPP-Nok-Redirect-URI: %s%sstate=%s&nok=1", u, sep,
		    op->cb_state);
	} else
		hdr(h, "TPP-Redirect-URI: %s", u);
}

struct xs2a_xfer *
xs2a_start(struct bank_op *op, const char *method, const char *url,
    enum xs2a_hdrs set, const char *accept, const char *body, size_t n,
    long long *deadline_ms)
{
	struct hdrs	 h;
	struct xs2a_req	 rq;
	struct xs2a_xfer *x;
	char		 id[37];
	size_t		 i;

	memset(&h, 0, sizeof(h));
	buf_init(&h.b, 16384);
	uuid4(id);
	hdr(&h, "X-Request-ID: %s", id);
	hdr(&h, "Accept: %s", accept != NULL ? accept : "application/json");
	if (body != NULL)
		hdr(&h, "Content-Type: application/json");
	if (set == H_GET_CONSENT)
		hdr(&h, "Consent-ID: %s", op->st.consent);
	if ((set == H_CONSENT || set == H_AUTH) && op->st.psu_id[0] != '\0')
		hdr(&h, "PSU-ID: %s", op->st.psu_id);
	if (op->psu_ip[0] != '\0')
		hdr(&h, "PSU-IP-Address: %s", op->psu_ip);
	else if (set == H_CONSENT) {
		pthread_once(&own_once, own_ip_find);
		hdr(&h, "PSU-IP-Address: %s", own_ip);
	}
	if (set == H_CONSENT || (set == H_AUTH && op->phase == PH_START_AUTH))
		redirect_headers(op, &h);
	for (i = 0; i < h.n; i++)
		h.p[i] = h.b.p + h.off[i];
	h.p[h.n] = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.headers = h.p;
	rq.body = body;
	rq.bodylen = n;
	rq.tls_cert = op->inst.tls_cert;
	rq.tls_key = op->inst.tls_key;
	rq.timeout_ms = timeout_ms;
	x = xs2a_xfer_start(&rq, &op->waker);
	*deadline_ms = bank_monotonic_ms() + timeout_ms + 2000;
	buf_free(&h.b);
	if (x == NULL) {
		xs2a_fail(op, ERR_INTERNAL_ERROR, "cannot start an HTTP exchange "
		    "(libcurl missing or out of memory)");
		return NULL;
	}
	log_debug("msg=\"xs2a request\" method=%s request_id=%s", method, id);
	return x;
}

int
xs2a_send(struct bank_op *op, const char *method, const char *url,
    enum xs2a_hdrs set, const char *accept, const char *body, size_t n)
{
	op->method = method;
	op->x = xs2a_start(op, method, url, set, accept, body, n,
	    &op->x_deadline_ms);
	return op->x != NULL ? 0 : -1;
}

int
xs2a_retry_wait(const char *method, int tries, const struct xs2a_resp *r,
    long long *wait_ms)
{
	int		get = strcmp(method, "GET") == 0;
	long long	wait;

	if (tries + 1 >= TRIES_MAX)
		return 0;
	if (r->status == 0) {
		if (r->too_big || xs2a_cc_tls(r->cc) ||
		    !(get || xs2a_cc_unsent(r->cc)))
			return 0;
	} else if (!get || !(r->status >= 500 || r->status == 408 ||
	    r->status == 429))
		return 0;
	if (r->status == 429 && (r->retry_after < 0 ||
	    r->retry_after > RETRY_AFTER_MAX_S))
		return 0;
	wait = (long long)backoff_ms << tries;
	if (r->retry_after >= 0 && r->retry_after <= RETRY_AFTER_MAX_S)
		wait = r->retry_after * 1000;
	*wait_ms = wait;
	log_info("msg=\"xs2a retry\" method=%s status=%ld try=%d wait_ms=%lld",
	    method, r->status, tries + 2, wait);
	return 1;
}

static int
retry(struct bank_op *op, const struct xs2a_resp *r)
{
	long long	wait;

	if (!xs2a_retry_wait(op->method, op->tries, r, &wait))
		return 0;
	op->tries++;
	op->retry_ms = bank_monotonic_ms() + wait;
	return 1;
}

static int
phase_send(struct bank_op *op)
{
	return op->phase >= PH_ACCOUNTS ? xs2a_fetch_send(op) :
	    xs2a_auth_send(op);
}

static void
phase_recv(struct bank_op *op, const struct xs2a_resp *r)
{
	if (op->phase >= PH_ACCOUNTS)
		xs2a_fetch_recv(op, r);
	else
		xs2a_auth_recv(op, r);
}

static enum bank_rc
xs_step(struct bank_op *op, long long *until)
{
	const struct xs2a_resp	*r;
	struct bank_error	 e;

	for (;;) {
		if (op->phase == PH_DONE)
			return BANK_DONE;
		/* The accounts' requests, several at once (xs2a_fetch.c). */
		if (op->phase == PH_LANES)
			return xs2a_fetch_step(op, until);
		if (op->x == NULL) {
			if (op->retry_ms > bank_monotonic_ms()) {
				*until = op->retry_ms;
				return BANK_WAIT;
			}
			if (phase_send(op) == -1)
				continue;
		}
		if (!xs2a_xfer_done(op->x)) {
			*until = op->x_deadline_ms;
			return BANK_WAIT;
		}
		r = xs2a_xfer_resp(op->x);
		if (retry(op, r)) {
			xs2a_xfer_free(op->x);
			op->x = NULL;
			continue;
		}
		op->tries = 0;
		if (r->status == 0) {
			xs2a_map_fault(r, op->stage, &e);
			xs2a_fail_with(op, &e);
		} else
			phase_recv(op, r);
		xs2a_xfer_free(op->x);
		op->x = NULL;
	}
}

/* ---- operations ---- */

static struct bank_op *
op_new(enum xs2a_op_kind kind, const struct bank_ctx *ctx)
{
	struct bank_op	*op;

	/* sodium memory and random ids: set up once (the server did). */
	if (sodium_init() < 0 || (op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->kind = kind;
	op->waker.wake = ctx->wake;
	op->waker.wake_arg = ctx->wake_arg;
	op->now = ctx->now;
	day_format(day_from_unix(ctx->now), op->today);
	if (ctx->psu_ip != NULL)
		snprintf(op->psu_ip, sizeof(op->psu_ip), "%s", ctx->psu_ip);
	if (ctx->callback_state != NULL)
		snprintf(op->cb_state, sizeof(op->cb_state), "%s",
		    ctx->callback_state);
	return op;
}

static void
auth_init(struct bank_auth *a)
{
	a->outcome = BANK_FAILED;
	a->nchallenges = 0;
	a->error.code = ERR_OK;
	a->error.message[0] = '\0';
	a->poll_at = 0;
	buf_reset(&a->state);
}

/* Keeps a secret (password, TAN, method id) in sodium memory. */
static int
keep_secret(struct bank_op *op, const char *s)
{
	size_t	n = s != NULL ? strlen(s) : 0;

	if ((op->secret = sodium_malloc(n + 1)) == NULL)
		return -1;
	memcpy(op->secret, s != NULL ? s : "", n);
	op->secret[n] = '\0';
	op->secretn = n + 1;
	return 0;
}

static int
no_institution(struct bank_op *op, const struct bank_ctx *ctx)
{
	if (xs2a_inst_get(ctx->institution_id, &op->inst) == 0)
		return 0;
	xs2a_fail(op, ERR_INTERNAL_ERROR, "institution %s has no XS2A base URL",
	    ctx->institution_id);
	return 1;
}

static struct bank_op *
xs_login(const struct bank_ctx *ctx, const struct bank_secret *sec,
    struct bank_auth *a)
{
	struct bank_op	*op = op_new(OP_LOGIN, ctx);

	if (op == NULL)
		return NULL;
	op->auth = a;
	auth_init(a);
	op->phase = PH_CONSENT;
	if (no_institution(op, ctx))
		return op;
	if (sec->username != NULL && strlen(sec->username) >=
	    sizeof(op->st.psu_id)) {
		xs2a_fail(op, ERR_LOGIN_CREDENTIALS_INVALID, "The user ID is "
		    "longer than the bank takes.");
		return op;
	}
	snprintf(op->st.psu_id, sizeof(op->st.psu_id), "%s",
	    sec->username != NULL ? sec->username : "");
	if (keep_secret(op, sec->password) == -1) {
		free(op);
		return NULL;
	}
	return op;
}

static struct bank_op *
xs_answer(const struct bank_ctx *ctx, const char *state,
    const struct bank_answer *ans, size_t n, struct bank_auth *a)
{
	struct bank_op	*op = op_new(OP_ANSWER, ctx);

	if (op == NULL)
		return NULL;
	op->auth = a;
	auth_init(a);
	if (no_institution(op, ctx))
		return op;
	if (xs2a_state_read(state, &op->st) == -1) {
		xs2a_fail(op, ERR_INTERNAL_ERROR, "xs2a state unreadable");
		return op;
	}
	if (op->st.authorized || op->st.pending == PEND_NONE) {
		xs2a_fail(op, ERR_ALREADY_AUTHORIZED, "%s", "");
		return op;
	}
	xs2a_auth_answer(op, ans, n);
	/* The answer's value, when the phase sends one, is in op->secret. */
	return op;
}

int
xs2a_keep_secret(struct bank_op *op, const char *s)
{
	return keep_secret(op, s);
}

static struct bank_op *
xs_fetch(const struct bank_ctx *ctx, const char *state,
    const struct bank_fetch_req *req, const struct bank_sink *sink,
    struct bank_fetch_result *res)
{
	struct bank_op	*op = op_new(OP_FETCH, ctx);
	long		 d;

	if (op == NULL)
		return NULL;
	op->res = res;
	op->sink = *sink;
	res->error.code = ERR_OK;
	res->error.message[0] = '\0';
	res->mfa_after_authorization = 0;
	buf_reset(&res->state);
	op->phase = PH_ACCOUNTS;
	op->stage = XS_FETCH;
	if (no_institution(op, ctx))
		return op;
	if (xs2a_state_read(state, &op->st) == -1 || !op->st.authorized ||
	    op->st.consent[0] == '\0') {
		xs2a_fail(op, ERR_CONNECTION_NOT_AUTHORIZED, "%s", "");
		return op;
	}
	if ((req->from != NULL && *req->from != '\0' &&
	    day_parse(req->from, &d) == -1) || (req->to != NULL &&
	    *req->to != '\0' && day_parse(req->to, &d) == -1)) {
		xs2a_fail(op, ERR_INVALID_REQUEST, "The requested period is not "
		    "valid.");
		return op;
	}
	if (req->to != NULL && *req->to != '\0')
		snprintf(op->to, sizeof(op->to), "%s", req->to);
	else
		snprintf(op->to, sizeof(op->to), "%s", op->today);
	if (req->from != NULL && *req->from != '\0')
		snprintf(op->from, sizeof(op->from), "%s", req->from);
	else
		day_format(day_from_unix(ctx->now) - 89, op->from);
	return op;
}

static void
xs_op_free(struct bank_op *op)
{
	if (op == NULL)
		return;
	xs2a_xfer_free(op->x);
	xs2a_fetch_free(op);
	if (op->secret != NULL)
		sodium_free(op->secret);
	xs2a_accounts_free(op->acc, op->nacc);
	free(op);
}

const struct connector xs2a_connector = {
	.protocol = "xs2a",
	.login = xs_login,
	.answer = xs_answer,
	.fetch = xs_fetch,
	.step = xs_step,
	.op_free = xs_op_free,
};
