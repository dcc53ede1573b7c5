#!/usr/bin/env bash
# libFuzzer runs of the parsers that face hostile input (Fuzz/README.md; HARDENING-FACTS 5).
#
#   scripts/fuzz.sh [--smoke] [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the Fuzz package with -sanitize=fuzzer,address, replays the kept crash inputs of Fuzz/Crashes/<Target>/,
# then fuzzes each target for SECONDS_PER_TARGET (default 60; --smoke: 5) on a copy of Fuzz/Corpus/<Target>/, so
# the checked-in corpus never changes. Prints `TARGET executions N crashes C` per target and a total line. A crash
# input (crash-, timeout- or oom- file, with the fuzzer's log beside it as .log) is copied to Fuzz/Crashes/<Target>/;
# any crash makes the exit status 1, and so does a target that ran fewer inputs than FUZZ_MIN_EXECUTIONS (default
# 200 a second of the run, 1000 for --smoke: the slowest target, FuzzPolicyFiles, runs 5,000 to 10,000 in 5 s),
# so that a target that barely starts or turns slow does not pass.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ALL_TARGETS=(FuzzRequestTarget FuzzTokenResponse FuzzJWTClaims FuzzFormBody FuzzPolicyFiles FuzzClientHello
    FuzzResourceCredentials FuzzProxyProtocolHeader FuzzHostNames)
if [[ -n "${FUZZ_MIN_EXECUTIONS:-}" && "$FUZZ_MIN_EXECUTIONS" == *[!0-9]* ]]; then
    echo "fuzz.sh: FUZZ_MIN_EXECUTIONS must be a number, not '$FUZZ_MIN_EXECUTIONS'" >&2
    exit 2
fi

seconds=60
targets=()
for argument in "$@"; do
    case "$argument" in
        --smoke) seconds=5 ;;
        -h | --help)
            sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *[!0-9]*)
            if [[ " ${ALL_TARGETS[*]} " != *" $argument "* ]]; then
                echo "fuzz.sh: unknown target '$argument' (known: ${ALL_TARGETS[*]})" >&2
                exit 2
            fi
            targets+=("$argument")
            ;;
        *) seconds="$argument" ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
# The fewest executions a target's run may report (see the header).
min_executions="${FUZZ_MIN_EXECUTIONS:-$((200 * seconds))}"

# Targets define LLVMFuzzerTestOneInput and no top-level code (hence -parse-as-library); libFuzzer's driver is
# started from the entry point SwiftPM links as main (Fuzz/Sources/LibFuzzerDriver). Release by default: optimised
# code keeps Swift's bounds and overflow checks and runs 3 to 6 times as many inputs a second as debug here;
# FUZZ_CONFIGURATION=debug builds the other.
configuration="${FUZZ_CONFIGURATION:-release}"
build=(
    swift build --package-path "$ROOT/Fuzz" --scratch-path "$ROOT/.build-fuzz" -c "$configuration"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
)
echo "fuzz.sh: ${build[*]}" >&2
# gold warns once per ASan helper that it cannot export a local symbol: noise. (pipefail: the build's status.)
if ! "${build[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; } >&2; then
    echo "fuzz.sh: the build failed" >&2
    exit 1
fi
bin="$("${build[@]}" --show-bin-path)"

work="$(mktemp -d "${TMPDIR:-/tmp}/tenantgate-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Swift's own crash backtracer reads the dying process's memory, which ASan reports as a use-after-free on top of
# the real failure; libFuzzer's handler prints the stack (symbolised by ASan) instead.
export SWIFT_BACKTRACE=enable=no
# Leak checking is off: the Swift runtime keeps metadata caches for the life of the process, which LeakSanitizer
# reports as leaks; memory errors (ASan) and traps are what these targets look for.
fuzz_flags=(-rss_limit_mb=2048 -timeout=10 -detect_leaks=0)

total_executions=0
total_crashes=0
too_few=()
for target in "${targets[@]}"; do
    corpus="$work/$target/corpus"
    artifacts="$work/$target/artifacts"
    mkdir -p "$corpus" "$artifacts"
    cp -R "$ROOT/Fuzz/Corpus/$target/." "$corpus/"
    crashes=0

    # Kept crash inputs first: once fixed, each is a regression check.
    kept=()
    if [ -d "$ROOT/Fuzz/Crashes/$target" ]; then
        while IFS= read -r -d '' file; do kept+=("$file"); done \
            < <(find "$ROOT/Fuzz/Crashes/$target" -type f ! -name '*.log' -print0 | sort -z)
    fi
    for input in "${kept[@]+"${kept[@]}"}"; do
        if ! "$bin/$target" "${fuzz_flags[@]}" "$input" >"$work/$target/replay.log" 2>&1; then
            echo "fuzz.sh: $target still fails on $input" >&2
            tail -n 40 "$work/$target/replay.log" >&2
            crashes=$((crashes + 1))
        fi
    done

    status=0
    "$bin/$target" "${fuzz_flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$work/$target/fuzz.log" 2>&1 || status=$?
    executions="$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$work/$target/fuzz.log" | tail -n 1)"
    executions="${executions:-0}"

    found=0
    while IFS= read -r -d '' file; do
        found=$((found + 1))
        mkdir -p "$ROOT/Fuzz/Crashes/$target"
        cp "$file" "$ROOT/Fuzz/Crashes/$target/"
        cp "$work/$target/fuzz.log" "$ROOT/Fuzz/Crashes/$target/$(basename "$file").log"
        echo "fuzz.sh: $target crash input kept as Fuzz/Crashes/$target/$(basename "$file")" >&2
    done < <(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) -print0)
    # A failure that left no input (the target died before fuzzing) still counts.
    if [ "$status" -ne 0 ] && [ "$found" -eq 0 ]; then found=1; fi
    if [ "$found" -gt 0 ]; then tail -n 60 "$work/$target/fuzz.log" >&2; fi
    crashes=$((crashes + found))

    echo "$target executions $executions crashes $crashes"
    # A crashed run stops early and is already a failure; a clean one must have run enough inputs.
    if [ "$found" -eq 0 ] && [ "$executions" -lt "$min_executions" ]; then
        echo "fuzz.sh: $target ran only $executions executions in $seconds s, fewer than the minimum" \
            "$min_executions (FUZZ_MIN_EXECUTIONS)" >&2
        { grep -E '^(#[0-9]+|stat::)' "$work/$target/fuzz.log" || true; } | tail -n 8 >&2
        too_few+=("$target")
    fi
    total_executions=$((total_executions + executions))
    total_crashes=$((total_crashes + crashes))
done

echo "total executions $total_executions crashes $total_crashes"
if [ ${#too_few[@]} -gt 0 ]; then
    echo "fuzz.sh: too few executions (under $min_executions): ${too_few[*]}" >&2
    exit 1
fi
[ "$total_crashes" -eq 0 ]
