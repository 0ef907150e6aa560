/*
 * webhooks: events sent to the one URL each client sets with PUT /v1/webhook.
 *
 * An event is written to the webhook_outbox table by webhooks_enqueue(), on
 * the caller's thread and inside the caller's transaction when it has one,
 * so an event exists exactly when the change that caused it was committed.
 * One delivery thread (webhooks_start) POSTs due events, signed:
 *
 *   Bankfeed-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *   Bankfeed-Event-Id: evt_...      Bankfeed-Event-Type: task.completed
 *
 * A 2xx answer delivers an event.  Anything else (refused, timed out, 3xx,
 * 4xx, 5xx) is tried again after webhook_retry_base_ms, doubling each time
 * up to webhook_retry_max_ms, for webhook_max_age seconds after the event
 * was created; then it is given up (kept in the outbox, marked).  Delivery is
 * at least once, in order of creation per client: an event waits until the
 * ones before it of the same client are delivered or given up.  Clients are
 * served side by side, so a slow receiver holds up no one but its own
 * client.  The outbox is in the database: deliveries survive a restart.
 *
 * The secret is sealed with the vault (bound to the client id), opened only
 * to sign, and never logged or returned.
 */
#ifndef BF_WEBHOOKS_H
#define BF_WEBHOOKS_H

#include <stddef.h>

#include "core/buf.h"
#include "core/ids.h"
#include "store/db.h"

/* The event types of docs/openapi.yaml. */
#define WEBHOOK_SESSION_CHALLENGE_REQUIRED	"session.challenge_required"
#define WEBHOOK_CONNECTION_AUTHORIZED		"connection.authorized"
#define WEBHOOK_TASK_COMPLETED			"task.completed"
#define WEBHOOK_TASK_FAILED			"task.failed"

#define WEBHOOK_URL_MAX		2048	/* characters, as the API accepts */
#define WEBHOOK_SECRET_MIN	16
#define WEBHOOK_SECRET_MAX	256
#define WEBHOOK_PAYLOAD_MAX	(1u << 20)	/* one event's JSON body */

/*
 * Queues an event for a client: when the client has a webhook, inserts one
 * outbox row with a new evt_ id and the body
 *   {"id":"evt_...","type":TYPE,"created_at":"<RFC 3339>","data":DATA_JSON}
 * and wakes the delivery thread; when it has none, does nothing.
 * data_json is the resource as the API shows it (a JSON object's text,
 * checked here; NULL sends {}).  Never touches the network.  Runs inside
 * the caller's open transaction if there is one (the event then commits or
 * rolls back with it); call webhooks_wake() after the commit for delivery
 * at once, else the thread finds it within a second.
 * Returns 0 (queued, or no webhook), or -1 (bad arguments, database error).
 */
int	webhooks_enqueue(struct db *db, const char *client_id, const char *type,
	    const char *data_json);

/* Makes the delivery thread look for due events now.  Safe from any thread,
 * at any time (a no-op while the thread is not running). */
void	webhooks_wake(void);

/*
 * Starts the delivery thread with the settings in cfg (read once here).
 * Returns 0, or -1 after logging why (bad settings, no thread).
 */
int	webhooks_start(void);
/*
 * Stops it: takes no new deliveries, lets those in flight finish for at
 * most the webhook timeout, and abandons the rest unrecorded (they are
 * sent again after the next start: at least once).  Safe when not started.
 */
void	webhooks_stop(void);

/*
 * The webhook configuration (what api/webhook.c serves).
 *
 * webhooks_url_ok: whether url is an absolute http:// or https:// URL with a
 * host (1) or not (0); -1 when it is, but names a private address (or
 * localhost) and BANKFEED_WEBHOOK_PRIVATE is 0.
 * webhooks_set: creates or replaces the client's webhook; the secret is
 * sealed.  Events waiting for a retry are tried again at once, at the new
 * URL.  *created_at receives when the webhook was first set (unix seconds).
 * 0 or -1.
 * webhooks_get: url (NUL-terminated, urln >= WEBHOOK_URL_MAX + 1) and
 * created_at; 0, 1 when the client has no webhook, -1 on error.
 * webhooks_delete: removes it and drops the client's undelivered events
 * (they stay in the outbox, marked given up); 0, 1 when there was none, -1.
 */
int	webhooks_url_ok(const char *url);
int	webhooks_set(struct db *db, const char *client_id, const char *url,
	    const char *secret, size_t secretlen, long long *created_at);
int	webhooks_get(struct db *db, const char *client_id, char *url,
	    size_t urln, long long *created_at);
int	webhooks_delete(struct db *db, const char *client_id);

/*
 * GET /metrics: appends the gauge bankfeed_webhook_backlog, the events in
 * the outbox neither delivered nor given up (every client's, every node's).
 * 0, or -1 when the database fails or out is full.
 */
int	webhooks_write_metrics(struct db *db, struct buf *out);

#endif
