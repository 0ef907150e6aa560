/*
 * dashboard.c: GET /dashboard, what a logged-in client sees of its own
 * data, and nothing of another's (every query names the session's client):
 * its users and connections with the statuses of the Flinks client
 * dashboard (seed 001), its recent API requests with their errors and
 * request ids, its tasks with their warnings, its webhook deliveries (a
 * failed or given-up one can be sent again), and a chart of syncs and
 * their error rate over the last 30 days, drawn by the server as SVG.
 */
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/jw.h"
#include "http/http.h"
#include "jobs/webhooks.h"
#include "store/store.h"

#define COOKIE		"bf_dash"
#define ROWS		50
#define CHART_DAYS	30

/*
 * The Flinks dashboard status of a connection's last failure (seed 001's
 * "Errors in the Client Dashboard"); others read "Not Completed".
 */
static const struct {
	enum err	 e;
	const char	*status;
} flinks[] = {
	{ ERR_INVALID_PASSWORD, "Invalid Password" },
	{ ERR_INVALID_USERNAME, "Invalid Username" },
	{ ERR_LOGIN_CREDENTIALS_INVALID, "Invalid Login" },
	{ ERR_ONLINE_ACCESS_BLOCKED, "Disabled Login" },
	{ ERR_PIN_CHANGE_REQUIRED, "New Account" },
	{ ERR_HBCI_ACTIVATION_REQUIRED, "New Account" },
	{ ERR_ACCOUNT_NOT_ACTIVATED, "New Account" },
	{ ERR_LOGIN_NOT_POSSIBLE, "Retry Later" },
	{ ERR_BANK_PROCESSING_NOT_POSSIBLE, "Retry Later" },
	{ ERR_INVALID_SECURITY_RESPONSE, "Invalid Security Response" },
	{ ERR_INVALID_TAN, "Invalid Security Response" },
	{ ERR_INVALID_OTP, "Invalid Security Response" },
	{ ERR_UNKNOWN_CHALLENGE_KEY, "Unknown Challenge Key" },
	{ ERR_NO_ACCOUNT_AUTHORIZATION, "Unauthorized" },
	{ ERR_SESSION_NONEXISTENT, "Session Nonexistent" },
	{ ERR_SESSION_EXPIRED, "Session Expired" },
	{ ERR_CONCURRENT_SESSION, "Concurrent Session" },
	{ ERR_BANK_MAINTENANCE, "Bank Maintenance Retry Later" },
};

/*
 * A connection's status on the dashboard, from its own status, its latest
 * session and task: a sync under way is "Operation Pending", a live
 * challenge "Answering Security Challenge", an expired one "Session
 * Expired", an authorized connection "Completed", or its last failure.
 */
static const char *
flinks_status(const char *status, int error_code, const char *session,
    const char *task, const char **cls)
{
	enum err	e = err_by_code(error_code);
	size_t		i;

	*cls = "status-wait";
	if (task != NULL && (strcmp(task, "running") == 0 ||
	    strcmp(task, "queued") == 0))
		return "Operation Pending";
	if (session != NULL && strcmp(session, "challenge_required") == 0)
		return "Answering Security Challenge";
	if (session != NULL && strcmp(session, "expired") == 0 &&
	    strcmp(status, "authorized") != 0) {
		*cls = "status-bad";
		return "Session Expired";
	}
	if (strcmp(status, "authorized") == 0) {
		*cls = "status-good";
		return "Completed";
	}
	*cls = "status-bad";
	for (i = 0; error_code != 0 && i < sizeof(flinks) / sizeof(flinks[0]); i++)
		if (flinks[i].e == e)
			return flinks[i].status;
	return "Not Completed";
}

static void
cell(struct buf *b, const char *text)
{
	buf_addstr(b, "<td>");
	web_esc(b, text != NULL ? text : "");
	buf_addstr(b, "</td>");
}

static void
cell_time(struct buf *b, struct db_stmt *s, int col)
{
	char	ts[32] = "";

	if (!db_col_null(s, col))
		time_rfc3339(db_col_int(s, col), ts, sizeof(ts));
	cell(b, ts);
}

static void
cell_error(struct buf *b, int code)
{
	enum err	e = err_by_code(code);
	char		t[96] = "";

	if (code != 0)
		snprintf(t, sizeof(t), "%d %s", code, e != ERR_OK ? err_name(e) :
		    "");
	cell(b, t);
}

static void
table_head(struct buf *b, const char *caption, const char *const *cols)
{
	buf_addstr(b, "<table>\n<caption class=\"muted\">");
	web_esc(b, caption);
	buf_addstr(b, "</caption>\n<thead><tr>");
	for (; *cols != NULL; cols++)
		buf_printf(b, "<th scope=\"col\">%s</th>", *cols);
	buf_addstr(b, "</tr></thead>\n<tbody>\n");
}

static void
section_connections(struct buf *b, struct db *db, const char *client)
{
	static const char *const cols[] = { "User", "External ref",
	    "Connection", "Bank", "Status", "Error", "Last sync", "Created",
	    NULL };
	struct db_stmt	*s;
	const char	*cls, *st;

	buf_addstr(b, "<h2 id=\"connections\">Users and connections</h2>\n");
	table_head(b, "The 50 newest connections, and users without one.",
	    cols);
	s = db_q(db, "SELECT u.id, u.external_ref, c.id, c.institution_id, "
	    "c.status, c.error_code, c.last_synced_at, COALESCE(c.created_at, "
	    "u.created_at), (SELECT status FROM sessions WHERE connection_id = "
	    "c.id ORDER BY created_at DESC LIMIT 1), (SELECT status FROM tasks "
	    "WHERE connection_id = c.id ORDER BY created_at DESC LIMIT 1) FROM "
	    "users u LEFT JOIN connections c ON c.user_id = u.id WHERE "
	    "u.client_id = ? ORDER BY 8 DESC LIMIT ?", "ti", client,
	    (int64_t)ROWS);
	while (s != NULL && db_step(s) == DB_ROW) {
		buf_addstr(b, "<tr>");
		cell(b, db_col_text(s, 0));
		cell(b, db_col_text(s, 1));
		cell(b, db_col_text(s, 2));
		cell(b, db_col_text(s, 3));
		if (db_col_null(s, 2))
			cell(b, "");
		else {
			st = flinks_status(db_col_text(s, 4),
			    (int)db_col_int(s, 5), db_col_text(s, 8),
			    db_col_text(s, 9), &cls);
			buf_printf(b, "<td class=\"%s\">", cls);
			web_esc(b, st);
			buf_addstr(b, "</td>");
		}
		cell_error(b, (int)db_col_int(s, 5));
		cell_time(b, s, 6);
		cell_time(b, s, 7);
		buf_addstr(b, "</tr>\n");
	}
	db_done(s);
	buf_addstr(b, "</tbody></table>\n");
}

static void
section_requests(struct buf *b, const char *client)
{
	static const char *const cols[] = { "Time", "Request", "Status",
	    "Error", "Request id", NULL };
	struct web_request	*w;
	size_t			 n, i;
	char			 t[200];

	buf_addstr(b, "<h2 id=\"requests\">Recent requests</h2>\n");
	if ((w = calloc(ROWS, sizeof(*w))) == NULL)
		return;
	n = web_requests_recent(client, w, ROWS);
	table_head(b, "Your latest API requests to this server since it "
	    "started; errors first in red.", cols);
	for (i = 0; i < n; i++) {
		time_rfc3339(w[i].at, t, sizeof(t));
		buf_printf(b, "<tr%s>", w[i].status >= 400 ?
		    " class=\"status-bad\"" : "");
		cell(b, t);
		snprintf(t, sizeof(t), "%s %s", w[i].method, w[i].path);
		buf_addstr(b, "<td><code>");
		web_esc(b, t);
		buf_printf(b, "</code></td><td>%d</td>", w[i].status);
		cell_error(b, w[i].err_code);
		buf_addstr(b, "<td><code>");
		web_esc(b, w[i].request_id);
		buf_addstr(b, "</code></td></tr>\n");
	}
	buf_addstr(b, "</tbody></table>\n");
	free(w);
}

/* ["BalanceMismatch", ...] of a task's warnings JSON. */
static void
cell_warnings(struct buf *b, const char *json)
{
	json_t	*a = json != NULL ? json_loads(json, 0, NULL) : NULL, *e;
	size_t	 i;

	buf_addstr(b, "<td>");
	json_array_foreach(a, i, e) {
		if (i > 0)
			buf_addstr(b, ", ");
		web_esc(b, json_string_value(json_object_get(e, "name")));
	}
	buf_addstr(b, "</td>");
	json_decref(a);
}

static void
section_tasks(struct buf *b, struct db *db, const char *client)
{
	static const char *const cols[] = { "Task", "Kind", "Connection",
	    "Status", "Error", "Warnings", "Created", NULL };
	struct db_stmt	*s;

	buf_addstr(b, "<h2 id=\"tasks\">Tasks</h2>\n");
	table_head(b, "The 50 newest syncs and imports, with the data-quality "
	    "warnings they found.", cols);
	s = db_q(db, "SELECT id, kind, connection_id, status, error_code, "
	    "warnings, created_at FROM tasks WHERE client_id = ? ORDER BY "
	    "created_at DESC LIMIT ?", "ti", client, (int64_t)ROWS);
	while (s != NULL && db_step(s) == DB_ROW) {
		buf_addstr(b, "<tr>");
		cell(b, db_col_text(s, 0));
		cell(b, db_col_text(s, 1));
		cell(b, db_col_text(s, 2));
		cell(b, db_col_text(s, 3));
		cell_error(b, (int)db_col_int(s, 4));
		cell_warnings(b, db_col_text(s, 5));
		cell_time(b, s, 6);
		buf_addstr(b, "</tr>\n");
	}
	db_done(s);
	buf_addstr(b, "</tbody></table>\n");
}

static void
section_webhooks(struct buf *b, struct db *db, const struct web_session *ws)
{
	static const char *const cols[] = { "Event", "Type", "Created",
	    "Attempts", "Delivered", "Last error", "Action", NULL };
	struct db_stmt	*s;

	buf_addstr(b, "<h2 id=\"webhooks\">Webhook deliveries</h2>\n");
	table_head(b, "The 50 newest events. Send again: the same data as a "
	    "new event.", cols);
	s = db_q(db, "SELECT id, type, created_at, attempts, delivered_at, "
	    "last_error FROM webhook_outbox WHERE client_id = ? ORDER BY "
	    "created_at DESC, id DESC LIMIT ?", "ti", ws->client_id,
	    (int64_t)ROWS);
	while (s != NULL && db_step(s) == DB_ROW) {
		const char *id = db_col_text(s, 0);

		buf_printf(b, "<tr%s>", db_col_text(s, 5) != NULL ?
		    " class=\"status-bad\"" : "");
		cell(b, id);
		cell(b, db_col_text(s, 1));
		cell_time(b, s, 2);
		buf_printf(b, "<td>%lld</td>", (long long)db_col_int(s, 3));
		cell_time(b, s, 4);
		cell(b, db_col_text(s, 5));
		buf_addstr(b, "<td><form method=\"post\" action=\"/dashboard/"
		    "webhooks/resend\">");
		web_csrf_field(b, ws);
		buf_addstr(b, "<input type=\"hidden\" name=\"event_id\" value=\"");
		web_esc(b, id);
		buf_addstr(b, "\"><button type=\"submit\" aria-label=\"Send again: ");
		web_esc(b, id);
		buf_addstr(b, "\">Send again</button></form></td></tr>\n");
	}
	db_done(s);
	buf_addstr(b, "</tbody></table>\n");
}

/*
 * Syncs a day over the last 30 days (bars) and the share that failed
 * (a line, right axis 0-100 %), as SVG with a text alternative.
 */
static void
section_chart(struct buf *b, struct db *db, const char *client)
{
	int64_t		 today = clock_now() / 86400;
	int		 total[CHART_DAYS] = { 0 }, failed[CHART_DAYS] = { 0 };
	int		 i, max = 1, sum = 0, fsum = 0;
	struct db_stmt	*s;
	const int	 W = 720, H = 220, L = 40, R = 40, T = 10, B = 30;
	double		 bw = (double)(W - L - R) / CHART_DAYS;

	/* CASE, not SUM of a comparison: PostgreSQL sums no booleans. */
	s = db_q(db, "SELECT created_at / 86400, COUNT(*), SUM(CASE WHEN status "
	    "IN ('failed', 'expired') THEN 1 ELSE 0 END) FROM tasks WHERE "
	    "client_id = ? AND kind = "
	    "'sync' AND created_at >= ? GROUP BY 1", "ti", client,
	    (today - CHART_DAYS + 1) * 86400);
	while (s != NULL && db_step(s) == DB_ROW) {
		int d = (int)(db_col_int(s, 0) - (today - CHART_DAYS + 1));

		if (d >= 0 && d < CHART_DAYS) {
			total[d] = (int)db_col_int(s, 1);
			failed[d] = (int)db_col_int(s, 2);
		}
	}
	db_done(s);
	for (i = 0; i < CHART_DAYS; i++) {
		max = total[i] > max ? total[i] : max;
		sum += total[i];
		fsum += failed[i];
	}
	buf_addstr(b, "<h2 id=\"chart\">Syncs and errors, last 30 days</h2>\n");
	buf_printf(b, "<figure>\n<svg role=\"img\" aria-labelledby=\"chart-desc\""
	    " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n", W, H, W, H);
	buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#6b7280\"/>\n", L, H - B, W - R, H - B);
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\""
	    " fill=\"#374151\">%d</text>\n", L - 4, T + 10, max);
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#b91c1c\">"
	    "100%%</text>\n", W - R + 4, T + 10);
	for (i = 0; i < CHART_DAYS; i++) {
		double h = (double)(H - T - B) * total[i] / max;

		if (total[i] > 0)
			buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"#1d4ed8\"><title>%d syncs, %d "
			    "failed</title></rect>\n", L + i * bw + 1,
			    (double)(H - B) - h, bw - 2, h, total[i], failed[i]);
	}
	buf_addstr(b, "<polyline fill=\"none\" stroke=\"#b91c1c\" "
	    "stroke-width=\"2\" points=\"");
	for (i = 0; i < CHART_DAYS; i++)
		buf_printf(b, "%.1f,%.1f ", L + (i + 0.5) * bw, (double)(H - B) -
		    (total[i] > 0 ? (double)(H - T - B) * failed[i] / total[i] :
		    0));
	buf_addstr(b, "\"/>\n");
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#374151\">"
	    "30 days ago</text>\n<text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "text-anchor=\"end\" fill=\"#374151\">today</text>\n</svg>\n", L,
	    H - 8, W - R, H - 8);
	buf_printf(b, "<figcaption id=\"chart-desc\">Syncs a day (blue bars) and "
	    "the share that failed (red line): %d syncs in 30 days, %d failed "
	    "(%d%%).</figcaption>\n</figure>\n", sum, fsum,
	    sum > 0 ? fsum * 100 / sum : 0);
}

/* The session of the request's cookie, if its dashboard user still is. */
static int
session(struct req *r, struct web_session *ws)
{
	if (!web_session_load(r, "dashboard", COOKIE, ws))
		return 0;
	if (strchr(ws->login, '@') != NULL && db_exists(store_db(), "SELECT 1 "
	    "FROM dashboard_users WHERE email = ? AND client_id = ?", "tt",
	    ws->login, ws->client_id) != 1) {
		web_session_end(ws);
		return 0;
	}
	return 1;
}

void
h_dashboard_get(struct req *r)
{
	struct db		*db = store_db();
	struct web_session	 ws;
	struct db_stmt		*s;
	struct buf		 b;
	const char		*resent = req_query(r, "resent");

	if (db == NULL) {
		resp_internal(r, "no database");
		return;
	}
	if (!session(r, &ws)) {
		dashboard_login_page(r, ERR_OK);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", ws.client_id);
	buf_init(&b, 16 << 20);
	web_page_begin(&b, LANG_EN, "bankfeed dashboard", NULL);
	/* The page frame's <main> is narrow; the tables want room. */
	buf_addstr(&b, "<div class=\"wide\">\n<nav class=\"top\" "
	    "aria-label=\"Account\"><h1>");
	s = db_q(db, "SELECT name FROM clients WHERE id = ?", "t", ws.client_id);
	web_esc(&b, s != NULL && db_step(s) == DB_ROW ? db_col_text(s, 0) :
	    ws.client_id);
	db_done(s);
	buf_addstr(&b, "</h1><form method=\"post\" action=\"/dashboard/logout\">");
	web_csrf_field(&b, &ws);
	buf_addstr(&b, "<button type=\"submit\" class=\"secondary\">Log out"
	    "</button></form></nav>\n<p class=\"muted\" id=\"who\">");
	if (strcmp(ws.login, ws.client_id) != 0) {
		web_esc(&b, ws.login);
		buf_addstr(&b, " &middot; ");
	}
	web_esc(&b, ws.client_id);
	buf_addstr(&b, "</p>\n");
	if (resent != NULL) {
		buf_addstr(&b, "<p class=\"ok\" role=\"status\">Sent again as ");
		web_esc(&b, resent);
		buf_addstr(&b, ".</p>\n");
	}
	section_chart(&b, db, ws.client_id);
	section_connections(&b, db, ws.client_id);
	section_requests(&b, ws.client_id);
	section_tasks(&b, db, ws.client_id);
	section_webhooks(&b, db, &ws);
	buf_addstr(&b, "</div>\n");
	web_page_end(&b);
	web_send(r, 200, &b, NULL, 0);
	buf_free(&b);
}

/* POST /dashboard/webhooks/resend: event_id, the client's own. */
void
h_dashboard_resend(struct req *r)
{
	struct db		*db = store_db();
	struct web_session	 ws;
	struct db_stmt		*s;
	char			 id[ID_MAX + 8], loc[128], *data = NULL;
	char			 type[64] = "";
	json_t			*p = NULL;

	if (db == NULL || !session(r, &ws)) {
		dashboard_login_page(r, ERR_CONNECT_SESSION_INVALID);
		return;
	}
	snprintf(r->client_id, sizeof(r->client_id), "%s", ws.client_id);
	if (!web_csrf_ok(r, &ws)) {
		dashboard_login_page(r, ERR_CSRF_REJECTED);
		return;
	}
	web_form(r, "event_id", id, sizeof(id));
	s = db_q(db, "SELECT type, payload FROM webhook_outbox WHERE id = ? AND "
	    "client_id = ?", "tt", id, ws.client_id);
	if (s != NULL && db_step(s) == DB_ROW) {
		snprintf(type, sizeof(type), "%s", db_col_text(s, 0));
		p = json_loads(db_col_text(s, 1), 0, NULL);
	}
	db_done(s);
	if (p == NULL) {
		resp_error_field(r, ERR_ENTITY_NOT_FOUND, "event_id",
		    "No event %.40s.", id);
		return;
	}
	data = json_dumps(json_object_get(p, "data"), JSON_COMPACT);
	if (data == NULL || webhooks_enqueue(db, ws.client_id, type, data) ==
	    -1) {
		resp_internal(r, "cannot queue the event again");
		goto out;
	}
	webhooks_wake();
	snprintf(loc, sizeof(loc), "/dashboard?resent=%s", id);
	web_redirect(r, loc);
out:
	free(data);
	json_decref(p);
}
