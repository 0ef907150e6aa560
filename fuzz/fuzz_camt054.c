/* libFuzzer target: camt.054 notifications (the camt parser). */
#include "fuzz_common.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one(STMT_CAMT054, data, size);
}
