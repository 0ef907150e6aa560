/*
 * libFuzzer target: the logfmt -> JSON conversion of --log-format json.
 * Whatever the text, the output is one JSON object without duplicate keys
 * and without a newline (a log line stays one line).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 b;
	json_t		*j;
	json_error_t	 e;

	buf_init(&b, 8 * size + 1024);
	if (log_json((const char *)data, size, &b) != 0)
		abort();
	if (strchr(buf_str(&b), '\n') != NULL ||
	    (j = json_loads(buf_str(&b), JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(j))
		abort();
	json_decref(j);
	buf_free(&b);
	return 0;
}
