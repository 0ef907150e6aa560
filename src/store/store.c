#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Every connection opened, so that shutdown can close them all. */
struct conn {
	struct db	*db;
	struct conn	*next;
};

static char		*store_url;
static struct db_lock	*store_lock;
static pthread_mutex_t	 conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conns;
static _Thread_local struct db *thread_db;

static struct db *
open_tracked(void)
{
	struct db	*db;
	struct conn	*c;
	const char	*why;

	if (db_open(store_url, &db, &why) != DB_OK) {
		log_error("msg=\"cannot open database\" reason=\"%s\"", why);
		return NULL;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		db_close(db);
		return NULL;
	}
	c->db = db;
	pthread_mutex_lock(&conns_lock);
	c->next = conns;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	return db;
}

int
store_init(const char *url)
{
	struct db	*db;
	const char	*why;

	free(store_url);
	if ((store_url = strdup(url)) == NULL)
		return -1;
	/*
	 * A shared claim for as long as the process uses the database, so
	 * that bankfeed restore does not replace it under us (and we do not
	 * open one it is replacing).  A claim that cannot be made at all
	 * (no lock file can be written there) leaves only that unguarded.
	 */
	db_unlock(store_lock);
	switch (db_lock(url, 0, &store_lock, &why)) {
	case DB_OK:
		break;
	case DB_BUSY:
		log_error("msg=\"cannot open database\" reason=\"%s\"", why);
		return -1;
	default:
		log_warn("msg=\"database not claimed\" reason=\"%s\"", why);
	}
	if ((db = open_tracked()) == NULL)
		return -1;
	thread_db = db;
	if (schema_migrate(db) == -1)
		return -1;
	return 0;
}

struct db *
store_db(void)
{
	if (thread_db == NULL && store_url != NULL)
		thread_db = open_tracked();
	return thread_db;
}

void
store_shutdown(void)
{
	struct conn	*c, *n;

	pthread_mutex_lock(&conns_lock);
	for (c = conns; c != NULL; c = n) {
		n = c->next;
		db_close(c->db);
		free(c);
	}
	conns = NULL;
	pthread_mutex_unlock(&conns_lock);
	thread_db = NULL;
	db_unlock(store_lock);
	store_lock = NULL;
	free(store_url);
	store_url = NULL;
}
