#ifndef TENANTGATE_LIBFUZZER_DRIVER_H
#define TENANTGATE_LIBFUZZER_DRIVER_H

#include <stddef.h>

/// Hands the process to libFuzzer's driver with `test` as the fuzz target (`LLVMFuzzerTestOneInput`).
///
/// SwiftPM links an executable target with `main` renamed to `<Target>_main` (`--defsym`, so that tests can link
/// the executable), which leaves libFuzzer's own `main` unused. Each fuzz target therefore defines
/// `<Target>_main` and calls this, which is what libFuzzer's `main` does (`LLVMFuzzerRunDriver`, libFuzzer's
/// public entry point).
int TenantGateFuzzMain(int argc, char *_Nullable *_Nonnull argv,
                       int (*_Nonnull test)(const void *_Nonnull data, size_t size));

#endif
