/*
 * api: one file per resource.  Handlers take a struct req (http.h) and
 * answer it; they reach the database through store.h.
 */
#ifndef BF_API_H
#define BF_API_H

#include <stdio.h>

#include "core/ids.h"

struct req;

/* clients.c: API clients (fintech apps) and their access tokens */
#define CLIENT_SECRET_MAX 64
#define TOKEN_MAX 64

/* Creates a client; secret_out receives the secret (shown once). */
int	clients_create(const char *name, char id_out[ID_MAX],
	    char secret_out[CLIENT_SECRET_MAX]);
/* Deletes a client with its users and their data.  0, or -1 if unknown. */
int	clients_delete(const char *id);
void	clients_list(FILE *);
/* What a check of a client's id and secret found. */
enum client_verdict {
	CLIENT_OK,		/* the secret of a client that exists */
	CLIENT_BAD,		/* no such client, or another secret */
	CLIENT_BUSY,		/* oauth-max-hashes checks are running */
	CLIENT_UNCHECKED,	/* clients_check_begin: not known yet */
	CLIENT_QUEUED		/* clients_check_end: the pool answers */
};

/*
 * A check of a client's id and secret, in two steps so that the caller
 * can apply its limits between the cheap one and the costly one.
 * clients_check_begin() reads the client and answers CLIENT_OK when this
 * id and secret passed a check within oauth-cache-seconds, else
 * CLIENT_UNCHECKED; then clients_check_end() (see there) queues the
 * argon2id check on a thread of its own, or, for an id that does not
 * exist, sets *hold_ms: the caller should send its answer that much
 * later.  clients_check_free() wipes the struct.
 */
struct client_check {
	char		id[ID_MAX];	/* the client's id; "" unknown */
	char		hash[128];	/* the stored argon2id string; "" unknown */
	unsigned char	tag[32];	/* keyed hash of id, secret and hash */
	int		tagged;
};

/*
 * How the check pool answers a request it checked: on its own thread,
 * with the verdict (CLIENT_OK or CLIENT_BAD) and its copy of the check,
 * before it resumes the request.
 */
typedef void (*client_answer_fn)(struct req *, const struct client_check *,
	    enum client_verdict);

enum client_verdict clients_check_begin(struct client_check *, const char *id,
	    const char *secret);
enum client_verdict clients_check_end(struct client_check *,
	    const char *secret, long long *hold_ms, struct req *,
	    client_answer_fn);
void	clients_check_free(struct client_check *);
/*
 * The check pool: oauth-max-hashes threads that run argon2id.  serve
 * starts it before the HTTP server; stopping it (when the server stops)
 * lets the checks under way end and their requests be answered.
 */
int	clients_pool_start(void);
void	clients_pool_stop(void);
/* Issues an access token; its hash alone is stored. */
int	clients_token_issue(const char *client_id, char token_out[TOKEN_MAX],
	    long long *expires_in);
/* The client of a live token, or -1. */
int	clients_token_lookup(const char *token, char client_id_out[ID_MAX]);
/* The CLI: bankfeed clients create|list|delete. */
int	clients_cmd(int argc, char **argv);

/*
 * accounts.c: a transaction as the API shows it, from a row of TXN_COLS
 * (t a row of transactions, a its account): the object stored with the row
 * (txn_json.h), its id and its account's, then sort_date, first_seq,
 * removed and seq.  accounts_write_txn needs only the object in the
 * statement's first column; -1 for a row without one (none is: schema 7
 * gave every row one).
 */
#define TXN_COLS "t.doc, t.id, a.id, t.sort_date, t.first_seq, t.removed, " \
	"t.seq"
enum { TXN_DOC, TXN_ID, TXN_ACCOUNT_ID, TXN_SORT_DATE, TXN_FIRST_SEQ,
	TXN_REMOVED, TXN_SEQ };
struct jw;
struct db_stmt;
int	accounts_write_txn(struct jw *, struct db_stmt *);

/* handlers */
void	h_health(struct req *);
void	h_errors_list(struct req *);
void	h_metrics(struct req *);
void	h_oauth_token(struct req *);
void	h_institutions_list(struct req *);
void	h_institutions_get(struct req *);
/*
 * users.c: whether user_id is a user of r's client: 1, else 0 with r
 * answered 404 (naming field, when not NULL, as the body's member).
 */
struct db;
int	users_of_client(struct req *, struct db *, const char *user_id,
	    const char *field);
void	h_users_create(struct req *);
void	h_users_list(struct req *);
void	h_users_get(struct req *);
void	h_users_delete(struct req *);
void	h_connections_create(struct req *);
void	h_connections_list(struct req *);
void	h_connections_get(struct req *);
void	h_connections_delete(struct req *);
void	h_connections_new_session(struct req *);
void	h_connections_sync(struct req *);
void	h_sessions_get(struct req *);
void	h_sessions_answer(struct req *);
void	h_callback_xs2a(struct req *);
void	h_tasks_get(struct req *);
void	h_accounts_list(struct req *);
void	h_accounts_get(struct req *);
void	h_accounts_transactions(struct req *);
void	h_transactions_sync(struct req *);
void	h_users_statements(struct req *);
void	h_webhook_put(struct req *);
void	h_webhook_get(struct req *);
void	h_webhook_delete(struct req *);
void	h_connect_tokens_create(struct req *);

#endif
