/*
 * connect_int.h: what the two halves of the Connect page share: the flow
 * (connect.c: tokens, sessions, the forms' actions) and its pages
 * (connect_pages.c: the HTML of each step, and errors in plain words).
 */
#ifndef BF_CONNECT_INT_H
#define BF_CONNECT_INT_H

#include <jansson.h>

#include "banks/institutions.h"
#include "core/errors.h"
#include "web/web.h"

#define CONNECT_COOKIE	"bf_connect"
#define CONNECT_PATH	"/connect"

/* What a request of the page knows. */
struct cpage {
	struct req		*r;
	struct web_session	 ws;
	enum web_lang		 lang;
	char			 redirect[2100];	/* "" when none */
	char			 origin[300];		/* of redirect, or "" */
	char			 client_name[256];
	json_t			*allowed;		/* ids, or NULL: all */
};

/* connect_pages.c */
/* The words for a catalog code; *keep_session: the bank's session
 * survives the error (the same form can be sent again). */
enum web_str	connect_plain_text(int code, int *keep_session);
/* Ends the page b and sends it (frame-ancestors: the redirect's origin). */
void	connect_send(struct cpage *, int status, struct buf *b, int err);
/* A page that only says what went wrong (no session to go on with); the
 * error object for a client that does not ask for HTML. */
void	connect_dead_end(struct req *, enum web_lang, enum err);
/* Whether the token lets the end user pick the institution. */
int	connect_allowed(const struct cpage *, const struct institution *);
/* The steps. */
void	connect_page_banks(struct cpage *, struct buf *);
void	connect_page_consent(struct cpage *, struct buf *,
	    const struct institution *);
void	connect_page_credentials(struct cpage *, struct buf *,
	    const struct institution *);
void	connect_page_challenges(struct cpage *, struct buf *, json_t *session);
void	connect_page_success(struct cpage *, struct buf *);
/* The end of every page but the last: the language switch. */
void	connect_page_foot(struct cpage *, struct buf *);

#endif
