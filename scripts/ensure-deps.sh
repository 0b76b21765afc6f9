#!/usr/bin/env bash
# Installs what a fresh machine lacks. `build`: what building and running heapd needs (Jansson;
# libedit for heapctl's shell); `test`: also what the tests need (socat, tmux for the shell's
# terminal tests, Neovim, Emacs, redis-server for the benchmark
# client's RESP test, graphviz's dot and nodejs for the graph and export tests, pytest,
# jsonschema, networkx for the inspection tests); `bench`: redis-server and redis-benchmark. Idempotent and
# quiet when everything is there; runs apt-get only when a package is missing.
set -euo pipefail
what="${1:-build}"

need_apt=()
pkg-config --exists jansson 2>/dev/null || need_apt+=(libjansson-dev pkg-config)
pkg-config --exists libedit 2>/dev/null || need_apt+=(libedit-dev)
if [ "$what" = test ]; then
    command -v socat >/dev/null 2>&1 || need_apt+=(socat)
    command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
    command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
    command -v emacs >/dev/null 2>&1 || need_apt+=(emacs-nox)
    command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
    command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
fi
if [ "$what" = test ] || [ "$what" = bench ]; then
    command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "ensure-deps: installing ${need_apt[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "$what" = test ] && ! python3 -c 'import pytest, jsonschema, networkx' 2>/dev/null; then
    echo "ensure-deps: installing pytest, jsonschema and networkx" >&2
    python3 -m pip install -q pytest jsonschema networkx
fi
