/*
 * sandbox-bank: the redirect approach's page, the bank's own: a form a
 * browser submits (user ID and PIN, then every challenge at once), and
 * at the end a 302 back to the TPP's redirect URI.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "banks/xs2a_bank_int.h"
#include "http/http.h"

/* ---- the redirect page ---- */

static void
html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '&': buf_addstr(b, "&amp;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
}

static void
html_begin(struct buf *b, const char *title)
{
	buf_addstr(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>Sandbox Bank: ");
	html(b, title);
	buf_addstr(b, "</title></head>\n<body>\n<h1>Sandbox Bank</h1>\n");
}

static void
html_send(struct req *r, int status, struct buf *b)
{
	buf_addstr(b, "</body></html>\n");
	resp_text(r, status, "text/html; charset=utf-8", buf_str(b), b->len);
	buf_free(b);
}

static void
html_message(struct req *r, int status, const char *msg)
{
	struct buf	b;

	buf_init(&b, 1u << 16);
	html_begin(&b, "authorisation");
	buf_addstr(&b, "<p>");
	html(&b, msg);
	buf_addstr(&b, "</p>\n");
	html_send(r, status, &b);
}

/* The form of where the authorisation stands: login, then challenges. */
static void
page_form(struct req *r, struct xb_consent *c, struct xb_auth *a)
{
	struct buf	 b;
	size_t		 i, j;

	buf_init(&b, 1u << 16);
	html_begin(&b, "authorise access");
	buf_addstr(&b, "<p>A third party asks to read your accounts "
	    "(consent <code>");
	html(&b, c->id);
	buf_addstr(&b, "</code>).</p>\n<form method=\"post\" "
	    "action=\"/sandbox/authorise\">\n<input type=\"hidden\" "
	    "name=\"id\" value=\"");
	html(&b, a->id);
	buf_addstr(&b, "\">\n");
	if (a->state == NULL) {
		buf_addstr(&b, "<p><label>User ID <input name=\"username\" "
		    "autocomplete=\"username\" value=\"");
		html(&b, c->psu_id);
		buf_addstr(&b, "\"></label></p>\n<p><label>PIN <input "
		    "type=\"password\" name=\"password\" "
		    "autocomplete=\"current-password\"></label></p>\n");
	}
	for (i = 0; i < a->nchal; i++) {
		buf_addstr(&b, "<p><label>");
		html(&b, a->chal[i].prompt);
		if (a->chal[i].kind == BANK_CHAL_CHOICE) {
			buf_addstr(&b, " <select name=\"");
			html(&b, a->chal[i].key);
			buf_addstr(&b, "\">");
			for (j = 0; j < a->chal[i].noptions; j++) {
				buf_addstr(&b, "<option value=\"");
				html(&b, a->chal[i].options[j]);
				buf_addstr(&b, "\">");
				html(&b, xb_method_name(a->chal[i].options[j]));
				buf_addstr(&b, "</option>");
			}
			buf_addstr(&b, "</select>");
		} else {
			buf_addstr(&b, " <input name=\"");
			html(&b, a->chal[i].key);
			buf_addstr(&b, a->chal[i].kind == BANK_CHAL_TAN ?
			    "\" inputmode=\"numeric\" autocomplete="
			    "\"one-time-code\">" : "\">");
		}
		buf_addstr(&b, "</label></p>\n");
	}
	buf_addstr(&b, "<p><button name=\"action\" value=\"approve\">"
	    "Authorise</button> <button name=\"action\" value=\"cancel\">"
	    "Cancel</button></p>\n</form>\n");
	html_send(r, 200, &b);
}

/* Back to the TPP: 302 to its redirect URI (the NOK one on failure). */
static void
page_back(struct req *r, struct xb_consent *c, struct xb_auth *a)
{
	const char	*to = a->sca == SCA_FAILED && c->nok_uri[0] != '\0' ?
			    c->nok_uri : c->redirect_uri;

	resp_empty(r, 302);
	resp_header(r, "Location", to);
}

/* Locked on success: the authorisation of a redirect, not finished. */
static int
page_auth(struct req *r, const char *id, struct xb_consent **c,
    struct xb_auth **a)
{
	xb_lock();
	*a = id != NULL ? xb_auth_find(NULL, id, c) : NULL;
	if (*a == NULL || (*c)->approach != XB_REDIRECT) {
		xb_unlock();
		html_message(r, 404, "This authorisation is not known.");
		return -1;
	}
	if ((*a)->sca == SCA_FINALISED || (*a)->sca == SCA_FAILED) {
		xb_unlock();
		html_message(r, 409, "This authorisation is finished.");
		return -1;
	}
	return 0;
}

void
xb_h_page_get(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;

	if (page_auth(r, req_query(r, "id"), &c, &a) == -1)
		return;
	page_form(r, c, a);
	xb_unlock();
}

/* A form field into a secret buffer; 0, or -1 when absent. */
static int
field(struct req *r, const char *key, char *out, size_t n)
{
	return form_get(r->body.p != NULL ? r->body.p : "", r->body.len, key,
	    out, n);
}

void
xb_h_page_post(struct req *r)
{
	struct xb_consent	*c;
	struct xb_auth		*a;
	struct bank_auth	 ba;
	char			 id[ID_MAX], action[16], user[XB_PSU_MAX];
	char			*secret;
	size_t			 i, room = 512;

	if (field(r, "id", id, sizeof(id)) == -1)
		id[0] = '\0';
	if (page_auth(r, id, &c, &a) == -1)
		return;
	if ((secret = sodium_malloc(room)) == NULL) {
		xb_unlock();
		html_message(r, 500, "Please try again later.");
		return;
	}
	bank_auth_init(&ba);
	if (field(r, "action", action, sizeof(action)) == -1 ||
	    strcmp(action, "approve") != 0) {
		ba.outcome = BANK_FAILED;
		bank_error_set(&ba.error, ERR_INVALID_REQUEST,
		    "The authorisation was cancelled.");
	} else if (a->state == NULL) {
		if (field(r, "username", user, sizeof(user)) == -1)
			user[0] = '\0';
		if (field(r, "password", secret, room) == -1)
			secret[0] = '\0';
		xb_run_login(user, secret, &ba);
		if (ba.outcome != BANK_FAILED)
			memcpy(c->psu_id, user, sizeof(user));
	} else {
		for (i = a->nans; i < a->nchal; i++) {
			if (field(r, a->chal[i].key, secret, room) == -1)
				secret[0] = '\0';
			if (a->chal[i].kind == BANK_CHAL_CHOICE)
				snprintf(a->method, sizeof(a->method), "%s",
				    secret);
			if (xb_add_answer(a, secret) == -1)
				break;
		}
		xb_run_answer(a, &ba);
	}
	sodium_free(secret);
	xb_apply(c, a, &ba);
	bank_auth_free(&ba);
	if (a->sca == SCA_PSU_AUTHENTICATED || a->sca == SCA_METHOD_SELECTED) {
		/* Challenges: the page asks them all at once. */
		a->sca = SCA_PSU_AUTHENTICATED;
		page_form(r, c, a);
	} else
		page_back(r, c, a);
	xb_unlock();
}
