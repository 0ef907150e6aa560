/* sync: the sync task kind (engine.h) and its webhook announcements. */
#ifndef BF_SYNC_H
#define BF_SYNC_H

#include "store/db.h"

/* Queues a webhook event carrying the task as the API shows it. */
void	sync_announce(struct db *, const char *client_id, const char *task_id,
	    const char *type);

#endif
