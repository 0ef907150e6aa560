/*
 * authflow: the authorization of a connection at its bank: login, the
 * bank's challenges, the user's answers, and what is kept afterwards.
 * Shared by POST /v1/connections, POST /v1/connections/{id}/sessions and
 * POST /v1/sessions/{id}/answers.
 */
#ifndef BF_AUTHFLOW_H
#define BF_AUTHFLOW_H

#include "core/jw.h"
#include "store/db.h"

struct req;

/* Writes a connection / a session as the API shows them.  -1 if absent. */
int	connection_write(struct jw *, struct db *, const char *id);
int	session_write(struct jw *, struct db *, const char *id);

/*
 * Logs in at the bank for an existing connection row and records the new
 * session.  Answers r: 201 with {connection, session} when with_connection,
 * else 201 with the session; or the bank's error.  A login that waits on
 * the bank suspends r (authrun.h) and answers it later from a worker:
 * username and password are used before this returns.
 */
void	authflow_login(struct req *, struct db *, const char *connection_id,
	    const char *institution_id, const char *username,
	    const char *password, int store_credentials, int with_connection);

/* The live session (challenge_required, not expired) of connections that
 * share login_hash, or of one connection: 1 found, 0 none. */
int	authflow_live_session(struct db *, const char *client_id,
	    const char *login_hash, const char *connection_id);

/*
 * Server start (after engine_start): sessions left waiting for a
 * confirmation in the bank's app are asked again in the background.
 */
void	authflow_start(void);
/*
 * Server stop (from server_stop's release): requests waiting on a bank
 * get up to half the shutdown grace, then 503 SERVICE_UNAVAILABLE.
 */
void	authflow_release(void);

#endif
