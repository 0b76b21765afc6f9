#!/bin/sh
# Shows that the persistence tests notice when any one kind of operation is not journaled
# (issue 15 item 10). For each KIND given (a HeapOperation case: exitScope, unfreeze, batch, ...),
# patches HeapStore.record to drop that kind from the journal, builds, runs the restart and
# kill -9 tests of every kind, and says which failed; the source is restored (and rebuilt) at
# the end, whatever happens. Exits 1 if some mutant survived.
#   scripts/mutate-journal.sh exitScope unfreeze clearGarbage
set -u
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 KIND [KIND...]  (HeapOperation cases, e.g. exitScope)" >&2; exit 2; }
FILE=Sources/HeapStore/HeapStore.swift
ANCHOR='    public func record(_ op: HeapOperation) -> UInt64 {'
grep -qF "$ANCHOR" "$FILE" || { echo "$FILE: cannot find HeapStore.record" >&2; exit 2; }
BACKUP=$(mktemp)
cp "$FILE" "$BACKUP"
build() { swift build -c release -Xswiftc -enable-testing >"/tmp/mutate-journal-build${1:-}.log" 2>&1; }
restore() { cp "$BACKUP" "$FILE"; rm -f "$BACKUP"; build; }
trap restore EXIT
TESTS='restart_is_invisible or every_kind_of_operation'
survived=0
for kind in "$@"; do
    cp "$BACKUP" "$FILE"
    sed -i "s|^$ANCHOR\$|&\n        if case .$kind = op { return writer.position }   // mutant: $kind is not journaled|" "$FILE"
    if ! build "-$kind"; then echo "$kind: the mutant does not build (see /tmp/mutate-journal-build-$kind.log)"; survived=1; continue; fi
    out=$(HEAPD_BIN=.build/release/heapd HEAPCTL_BIN=.build/release/heapctl \
          python3 -m pytest -q -p no:cacheprovider Tests/integration/test_persistence.py -k "$TESTS" 2>&1)
    failed=$(printf '%s\n' "$out" | sed -n 's/^FAILED [^:]*::\([^ ]*\).*/\1/p' | tr '\n' ' ')
    if [ -n "$failed" ]; then echo "$kind: caught by $failed"; else echo "$kind: NOT CAUGHT"; survived=1; fi
done
exit $survived
