#!/usr/bin/env bash
# Builds the libFuzzer target (Sources/heapd-fuzz) with ASan and fuzzes framing + decoding +
# dispatch against an in-memory heap for a bounded time (SPEC §8; Tests/fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS]        default 60; extra libFuzzer flags in FUZZ_FLAGS
#
# Runs over a copy of Tests/fuzz/corpus in a temp dir (the repo is never written). Exits 0 when
# no input failed; otherwise 1, printing the crashing input's path (copy it into
# Tests/fuzz/regressions/). Builds in .build-fuzz, never touching .build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
case "$seconds" in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 64 ;; esac

work="$(mktemp -d "${TMPDIR:-/tmp}/heapd-fuzz.XXXXXX")"
mkdir -p "$work/corpus" "$work/artifacts"

echo "fuzz: building heapd-fuzz (release, -sanitize=fuzzer,address) in .build-fuzz" >&2
start=$(date +%s)
if ! swift build -c release --scratch-path .build-fuzz --product heapd-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DHEAPD_LIBFUZZER \
        -Xswiftc -enable-experimental-feature -Xswiftc Extern >"$work/build.log" 2>&1; then
    grep -E 'error' "$work/build.log" | head -n 30 >&2 || true
    tail -n 20 "$work/build.log" >&2
    echo "fuzz: build failed (log: $work/build.log)" >&2
    exit 2
fi
echo "fuzz: build took $(( $(date +%s) - start )) s" >&2

cp Tests/fuzz/corpus/* "$work/corpus/"
if compgen -G "Tests/fuzz/regressions/*" >/dev/null; then cp Tests/fuzz/regressions/* "$work/corpus/"; fi
log="$work/fuzz.log"
echo "fuzz: ${seconds} s over a copy of the corpus in $work" >&2

set +e
# -rss_limit_mb: the heap is kept across inputs (reset past 50,000 objects), ASan doubles memory.
.build-fuzz/release/heapd-fuzz "$work/corpus" \
    -max_total_time="$seconds" -max_len=12288 -timeout=20 -rss_limit_mb=4096 \
    -dict=Tests/fuzz/heapd.dict -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" ${FUZZ_FLAGS:-} >"$log" 2>&1
status=$?
set -e

grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | sed 's/^/fuzz: /' || true
grep -E '^stat::' "$log" || true
if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    for f in "$work"/artifacts/*; do
        [ -e "$f" ] && echo "fuzz: FAILED: crashing input: $f (reproduce: .build-fuzz/release/heapd-fuzz $f)" >&2
    done
    echo "fuzz: FAILED (libFuzzer exit $status); log: $log" >&2
    exit 1
fi
echo "fuzz: no failure in ${seconds} s (log: $log)"
