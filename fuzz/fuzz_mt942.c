/* libFuzzer target: MT942 interim reports (the MT940 parser). */
#include "fuzz_common.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one(STMT_MT942, data, size);
}
