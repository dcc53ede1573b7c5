#include "LibFuzzerDriver.h"

#include <stdint.h>

// libFuzzer's public driver entry point (compiler-rt FuzzerInterface.h); linked in by -sanitize=fuzzer.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// The fuzz target of this process, set once before the driver starts.
static int (*fuzzTarget)(const void *data, size_t size);

static int callFuzzTarget(const uint8_t *data, size_t size) { return fuzzTarget(data, size); }

int TenantGateFuzzMain(int argc, char **argv, int (*test)(const void *data, size_t size)) {
    fuzzTarget = test;
    return LLVMFuzzerRunDriver(&argc, &argv, callFuzzTarget);
}
