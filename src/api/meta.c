/*
 * GET /health and GET /v1/errors: the two routes that need no token.
 */
#include "api/api.h"

#include <string.h>

#include "core/errors_doc.h"
#include "http/http.h"
#include "store/store.h"

void
h_health(struct req *r)
{
	struct db	*db = store_db();
	struct db_stmt	*s = NULL;
	struct jw	 w;
	int		 ok;

	ok = db != NULL && (s = db_q(db, "SELECT 1", "")) != NULL &&
	    db_step(s) == DB_ROW;
	db_done(s);
	if (!ok) {
		resp_error_field(r, ERR_SERVICE_UNAVAILABLE, "database",
		    "The database cannot be reached.");
		return;
	}
	resp_begin(r, 200, &w);
	jw_obj(&w);
	jw_kstr(&w, "status", "ok");
	jw_kstr(&w, "version", BANKFEED_VERSION);
	jw_obj_end(&w);
}

void
h_errors_list(struct req *r)
{
	struct jw	w;

	resp_begin(r, 200, &w);
	errors_write_list(&w);
}
