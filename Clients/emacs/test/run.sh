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

TMP="$(mktemp -d "${TMPDIR:-/tmp}/heapd-emacs-test.XXXXXX")"
SOCK="$TMP/heapd.sock"
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

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
"$HEAPD_BIN" --socket "$SOCK" --memory >"$TMP/heapd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do
  [ -S "$SOCK" ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.05
done
if [ ! -S "$SOCK" ]; then
  echo "run.sh: heapd did not create $SOCK" >&2
  cat "$TMP/heapd.log" >&2
  exit 1
fi
echo "== heapd $DAEMON_PID on $SOCK"

# 3. The tests.
HEAPD_SOCKET="$SOCK" "$EMACS" --batch -Q -L Clients/emacs \
  -l Clients/emacs/test/heapd-test.el -f ert-run-tests-batch-and-exit
test_rc=$?

# 4. Stop the daemon: SIGTERM must end it with status 0.
kill -TERM "$DAEMON_PID"
daemon_rc=""
for _ in $(seq 1 100); do
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
  sleep 0.05
done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
  echo "run.sh: heapd did not exit within 5 s of SIGTERM" >&2
  daemon_rc=timeout
else
  wait "$DAEMON_PID"
  daemon_rc=$?
fi
DAEMON_PID=""
echo "== heapd exit status after SIGTERM: $daemon_rc"
if [ "$daemon_rc" != "0" ]; then
  echo "--- heapd log ---" >&2
  cat "$TMP/heapd.log" >&2
fi

[ $test_rc -eq 0 ] && [ "$daemon_rc" = "0" ]
