# Sourced by Clients/emacs/test/run.sh and Clients/nvim/test/run.sh: run one
# heapd on a private socket for an editor's tests, and stop it.
#   needs  HEAPD_BIN (the daemon), TMP (a private temporary directory)
#   sets   DAEMON_PID (while it runs), DAEMON_RC (after heapd_stop)
# On exit the daemon, if still running, is killed and TMP is removed.
# The daemon's output goes to $TMP/heapd.log.

DAEMON_PID=
DAEMON_RC=
heapd_cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap heapd_cleanup EXIT

# heapd_start SOCK: start heapd (--memory) on SOCK and wait up to 10 s for
# the socket; if heapd exits first or no socket appears, show its log and
# exit 1.
heapd_start() {
  local sock=$1
  "$HEAPD_BIN" --socket "$sock" --memory >"$TMP/heapd.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    [ -S "$sock" ] && return 0
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      echo "run.sh: heapd exited early:" >&2
      cat "$TMP/heapd.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "run.sh: heapd did not create $sock" >&2
  cat "$TMP/heapd.log" >&2
  exit 1
}

# heapd_stop: send SIGTERM and wait up to 5 s; DAEMON_RC becomes the
# daemon's exit status, or "timeout" (the EXIT trap then kills it).
heapd_stop() {
  kill -TERM "$DAEMON_PID"
  for _ in $(seq 1 100); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    echo "run.sh: heapd did not exit within 5 s of SIGTERM" >&2
    DAEMON_RC=timeout
    return
  fi
  wait "$DAEMON_PID"
  DAEMON_RC=$?
  DAEMON_PID=
}
