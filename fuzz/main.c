/* One libFuzzer executable per harness: built with -DSF_FUZZ_TARGET=sf_fuzz_<name>. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return SF_FUZZ_TARGET(data, size);
}
