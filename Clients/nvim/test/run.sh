#!/usr/bin/env bash
# Headless tests of heapd.nvim against a real daemon.
#   HEAPD_BIN  the daemon (default: .build/release/heapd of this repository)
#   NVIM       the editor (default: nvim on PATH)
# Starts heapd on a temporary socket, runs test/test_heapd.lua in
# `nvim --headless`, stops the daemon with SIGTERM and checks it exits 0.
# Writes nothing into the repository (helptags go to a temporary copy).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PLUGIN=$(dirname "$HERE")
REPO=$(cd "$PLUGIN/../.." && pwd)
HEAPD_BIN=${HEAPD_BIN:-$REPO/.build/release/heapd}
NVIM=${NVIM:-nvim}

if [ ! -x "$HEAPD_BIN" ]; then
  echo "run.sh: heapd not found at $HEAPD_BIN (build it: swift build -c release --product heapd)" >&2
  exit 2
fi
if ! command -v "$NVIM" >/dev/null 2>&1; then
  echo "run.sh: nvim not found (apt-get install -y neovim)" >&2
  exit 2
fi
"$NVIM" --version | head -1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/heapd-nvim-test.XXXXXX")
SOCK="$TMP/run/heapd.sock"
# shellcheck source=../../test-support/with-heapd.sh
. "$HERE/../../test-support/with-heapd.sh"

heapd_start "$SOCK"

# The test prints to stdout; Neovim's own messages (the plugin's echoes) go
# to stderr, kept in a log shown on failure.
HEAPD_SOCKET="$SOCK" HEAPD_TEST_TMP="$TMP" HEAPD_NVIM_PLUGIN="$PLUGIN" \
  timeout 120 "$NVIM" --headless -u NONE -i NONE -n \
  --cmd "set rtp^=$PLUGIN" \
  -c "luafile $HERE/test_heapd.lua" </dev/null 2>"$TMP/nvim.log"
NVIM_RC=$?
echo
if [ "$NVIM_RC" -ne 0 ]; then
  echo "run.sh: nvim exited $NVIM_RC; its messages:" >&2
  tail -n 40 "$TMP/nvim.log" >&2
fi

heapd_stop
if [ "$DAEMON_RC" != 0 ]; then
  echo "run.sh: heapd exited $DAEMON_RC after SIGTERM (expected 0); its log:" >&2
  tail -n 40 "$TMP/heapd.log" >&2
  exit 1
fi
echo "run.sh: heapd stopped cleanly (exit 0)"
exit "$NVIM_RC"
