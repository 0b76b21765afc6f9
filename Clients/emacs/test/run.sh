#!/usr/bin/env bash
# Byte-compile heapd.el, then run its ERT tests against a real heapd on a
# temporary socket, and check that the daemon exits 0 on SIGTERM.
#   HEAPD_BIN  the daemon (default /work/main/.build/release/heapd)
#   EMACS      the Emacs to use (default emacs)
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
HEAPD_BIN="${HEAPD_BIN:-/work/main/.build/release/heapd}"
EMACS="${EMACS:-emacs}"

if [ ! -x "$HEAPD_BIN" ]; then
  echo "run.sh: heapd binary not found at $HEAPD_BIN (set HEAPD_BIN)" >&2
  exit 2
fi
command -v "$EMACS" >/dev/null || { echo "run.sh: $EMACS not found" >&2; exit 2; }
# Absolute: the tests start private daemons from another directory.
HEAPD_BIN="$(cd "$(dirname "$HEAPD_BIN")" && pwd)/$(basename "$HEAPD_BIN")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/heapd-emacs-test.XXXXXX")"
SOCK="$TMP/heapd.sock"
# shellcheck source=../../test-support/with-heapd.sh
. "$HERE/../../test-support/with-heapd.sh"

cd "$ROOT" || exit 2
"$EMACS" --version | head -n 1

# 1. Byte-compile (into the temp dir), warnings shown and fatal.
echo "== byte-compile Clients/emacs/heapd.el"
"$EMACS" --batch -Q -L Clients/emacs \
  --eval "(setq byte-compile-error-on-warn t)" \
  --eval "(setq byte-compile-dest-file-function (lambda (_) \"$TMP/heapd.elc\"))" \
  --eval "(unless (byte-compile-file \"Clients/emacs/heapd.el\") (kill-emacs 1))"
compile_rc=$?
if [ $compile_rc -ne 0 ]; then
  echo "run.sh: byte-compilation failed" >&2
  exit 1
fi
echo "byte-compile: ok (no warnings)"

# 2. Start the daemon on a private socket.
heapd_start "$SOCK"
echo "== heapd $DAEMON_PID on $SOCK"

# 3. The tests.
HEAPD_SOCKET="$SOCK" HEAPD_BIN="$HEAPD_BIN" "$EMACS" --batch -Q -L Clients/emacs \
  -l Clients/emacs/test/heapd-test.el -f ert-run-tests-batch-and-exit
test_rc=$?

# 4. Stop the daemon: SIGTERM must end it with status 0.
heapd_stop
echo "== heapd exit status after SIGTERM: $DAEMON_RC"
if [ "$DAEMON_RC" != "0" ]; then
  echo "--- heapd log ---" >&2
  cat "$TMP/heapd.log" >&2
fi

[ $test_rc -eq 0 ] && [ "$DAEMON_RC" = "0" ]
