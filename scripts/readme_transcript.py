#!/usr/bin/env python3
"""The README's heapctl transcripts are real: run every ```console block of README.md against a
fresh daemon and compare what each command prints with what the README shows.

    scripts/readme_transcript.py            check (exit 1 with a diff when they differ)
    scripts/readme_transcript.py --write    rewrite the blocks with the real output

Durations (`0.07 ms`) vary from run to run and are compared as a pattern; everything else must
match exactly. `heapctl` in a block means the build's heapctl on the fresh daemon's socket, in
the session `heapctl-root` (the README was captured as root)."""
import argparse
import contextlib
import difflib
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HEAPD_BIN_DIR", os.path.join(ROOT, ".build", "release"))
DURATION = re.compile(r"\b\d+(\.\d+)? (ms|s)\b")


def blocks(text):
    """(start, end) line indexes of each ```console block's body."""
    lines = text.split("\n")
    out, start = [], None
    for i, line in enumerate(lines):
        if line.strip() == "```console":
            start = i + 1
        elif line.strip() == "```" and start is not None:
            out.append((start, i))
            start = None
    return lines, out


@contextlib.contextmanager
def fresh_daemon(prefix="heapd-readme-"):
    """A private `heapd --memory`, yielding its socket once it accepts connections (the socket
    file appears at bind, a moment before the daemon listens)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        path = os.path.join(tmp, "heapd.sock")
        daemon = subprocess.Popen([os.path.join(BIN, "heapd"), "--memory", "--socket", path],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(400):
                try:
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                        probe.connect(path)
                    break
                except OSError:
                    time.sleep(0.05)
            yield path
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)


def run_block(body, socket):
    """The block with every command's output replaced by what it prints now."""
    result = []
    for line in body:
        if not line.startswith("$ "):
            continue
        result.append(line)
        command = line[2:].split("  #")[0].strip()
        argv = shlex.split(command)
        if argv[0] != "heapctl":
            raise SystemExit(f"README console blocks run heapctl only: {line}")
        env = dict(os.environ, USER="root")
        out = subprocess.run([os.path.join(BIN, "heapctl"), "--socket", socket, *argv[1:]],
                             capture_output=True, text=True, env=env, timeout=60)
        result += [l for l in (out.stdout + out.stderr).rstrip("\n").split("\n") if l]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()
    lines, found = blocks(text)
    problems = []
    for start, end in reversed(found):
        with fresh_daemon() as socket_path:
            real = run_block(lines[start:end], socket_path)
        shown = lines[start:end]
        if args.write:
            lines[start:end] = real
        elif [DURATION.sub("<duration>", l) for l in shown] != [DURATION.sub("<duration>", l) for l in real]:
            problems.append("\n".join(difflib.unified_diff(shown, real, "README.md", "heapctl now", lineterm="")))
    if args.write:
        open(path, "w").write("\n".join(lines))
        return 0
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
