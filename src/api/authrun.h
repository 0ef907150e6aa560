/*
 * authrun: an authorization's bank operation (a login, the user's answers,
 * a look at the bank for a decoupled SCA) run without an HTTP thread
 * waiting on the bank.  Internal to authflow.c and authrun.c.
 *
 * The request's handler starts the connector's operation and hands it to
 * authrun_go(), which takes one step at once.  An operation the bank
 * answers in that step (the built-in sandbox always does) is answered on
 * the spot, as before.  One that waits on the bank suspends the request
 * and goes to the engine (engine_run()): a worker steps it when the
 * connector's network thread says the bank answered (ctx.wake), and the
 * operation's done function records the outcome and answers the request,
 * which is then resumed.  So 16 logins waiting on a slow bank hold 16
 * structs and 16 sockets, and the HTTP threads go on serving others.
 *
 * One operation at a time per session (authrun_claim()): a read of the
 * session while one runs shows the session as it stands, answers get 423
 * RESOURCE_BUSY.  A session waiting for a decoupled confirmation is asked
 * in the background at the bank's own wait (authrun_poll()), until it ends
 * or expires, so the login finishes, with its webhook, though nobody reads
 * the session.
 */
#ifndef BF_AUTHRUN_H
#define BF_AUTHRUN_H

#include <jansson.h>
#include <stdint.h>

#include "banks/connector.h"
#include "core/ids.h"
#include "core/vault.h"
#include "jobs/engine.h"
#include "store/db.h"

struct req;
struct authrun;

/*
 * The state parameter of bankfeed's callback URL for a session: the
 * session id sealed under the master key (vault tokens, this AAD), so it
 * cannot be guessed or made for another session, and opens only here.
 */
#define CALLBACK_AAD		"xs2a-callback"
#define CALLBACK_STATE_MAX	VAULT_TOKEN_LEN(ID_MAX)

/*
 * Records the outcome of ar's operation (ar->a) and answers r with it; r
 * is NULL for a background poll.  Runs on the thread that saw the
 * operation end, with that thread's database.
 */
typedef void (*authrun_done_fn)(struct authrun *, struct req *r,
	    struct db *);
/*
 * A background poll at its time: starts ar->op (0); -1: nothing to ask;
 * 1: not now, again at ar->due_ms.
 */
typedef int (*authrun_begin_fn)(struct authrun *, struct db *);

struct authrun {
	struct task_run		 run;		/* first: the engine's job */
	const struct connector	*c;
	struct bank_op		*op;
	struct bank_ctx		 ctx;		/* wakes run; points into this */
	struct bank_auth	 a;
	authrun_done_fn		 done;
	authrun_begin_fn	 begin;		/* polls only */
	long long		 due_ms;	/* polls: when to begin */
	int			 background;	/* a poll: nobody waits */
	/* the session (and connection) the operation is for */
	char			 sid[ID_MAX], cid[ID_MAX], client_id[ID_MAX];
	char			 inst_id[64];
	char			 psu_ip[64];
	char			 cb[CALLBACK_STATE_MAX];
	int			 with_connection;	/* login: 201 shape */
	/* JSON to keep for unattended refreshes (credentials, answers), or
	 * NULL; wiped when freed. */
	char			*secret;
	/* authrun.c's bookkeeping */
	struct req		*r;
	int			 suspended;
	int			 holds_session, holds_poll;
	struct authrun		*next;
};

/*
 * A new operation for institution inst_id (c set when it has a
 * connector), its ctx ready but for callback_state; NULL without memory.
 */
struct authrun	*authrun_new(const char *inst_id, const char *psu_ip,
		    authrun_done_fn);
void		 authrun_free(struct authrun *);

/*
 * Takes ar, whose op the caller started (ar->op set): steps it, and
 * either calls done at once or suspends r until done has run on a
 * worker.  The handler returns after this either way.
 */
void		 authrun_go(struct authrun *, struct req *r);

/*
 * Makes ar the one operation of session sid: 0, or -1 when another one
 * runs (or is handed over to the engine).  Held until authrun_free().
 */
int		 authrun_claim(struct authrun *, const char *sid);

/*
 * Schedules ar (begin and done set, no op) as the background poll of
 * session sid at due_ms, given up at deadline_ms (CLOCK_MONOTONIC ms):
 * 0, or -1 (ar freed) when one is scheduled already or the engine does
 * not run.
 */
int		 authrun_poll(struct authrun *, const char *sid, long long due_ms,
		    long long deadline_ms);

/*
 * Shutdown (before the HTTP server's threads end): waits up to
 * wait_seconds for the operations requests wait on, then answers the
 * rest 503 SERVICE_UNAVAILABLE (Retry-After) and drops their outcome.
 * From then on a request's operation runs on its own thread (within the
 * stop's grace), never suspended.
 */
void		 authrun_release(int wait_seconds);

/* ---- authflow.c, for the session handlers (sessions.c) ---- */

/* A session with what the bank's connector needs to go on with it. */
struct sess {
	char	 sid[ID_MAX], cid[ID_MAX], client_id[ID_MAX];
	char	 inst_id[64], status[32];
	json_t	*asked;			/* its challenges */
	int64_t	 expires;
	char	*state, *secret;	/* vault memory, or NULL */
	size_t	 statelen, secretlen;
	int	 store;			/* the connection keeps credentials */
};

/* Loads a session of client_id (NULL: of any client).  1, or 0 if none. */
int		 sess_load(struct db *, const char *sid, const char *client_id,
		    struct sess *);
void		 sess_free(struct sess *);
/* Whether the session waits for a challenge of this kind. */
int		 sess_asks(const struct sess *, enum bank_chal_kind);
/*
 * Passes answers (none for a poll or a return from the bank) to the
 * bank's connector; done records the outcome, with the answers kept for
 * unattended refreshes when the connection stores credentials, and
 * answers r.  0 (r is answered, now or later), -1 (r answered with an
 * internal error), 1 when another operation of the session runs (r not
 * answered).
 */
int		 sess_advance(struct req *, struct sess *, const char *psu_ip,
		    const struct bank_answer *, size_t, authrun_done_fn done);
/* done's common part: records and logs (event=NAME); -1 after answering
 * r with an internal error. */
int		 authflow_recorded(struct authrun *, struct req *, struct db *,
		    const char *event);
void		 authflow_respond_failure(struct req *, const struct authrun *);
/* A login whose request was answered 503 before the bank answered: the
 * connection it made (still pending) goes. */
void		 authflow_dropped(const char *connection_id);

#endif
