#!/usr/bin/env python3
"""The README's heap picture is real: run the heapctl commands of the ```console block under
"### Drawing the heap" on a fresh daemon, and make docs/person-cycle.dot (what its last
command, `heapctl graph ... --svg FILE`, draws, as DOT) and docs/person-cycle.svg (that command's
SVG, rendered by the daemon's Graphviz).

    scripts/readme_graph.py            check that docs/person-cycle.dot is what heapctl draws now
    scripts/readme_graph.py --write    write docs/person-cycle.dot and docs/person-cycle.svg

Ids are deterministic on a fresh daemon, so the DOT text is too. `heapctl` runs as in
scripts/readme_transcript.py: the build's binaries, the session heapctl-root."""
import argparse
import difflib
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HEAPD_BIN_DIR", os.path.join(ROOT, ".build", "release"))
HEADING = "### Drawing the heap"
DOT = os.path.join(ROOT, "docs", "person-cycle.dot")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readme_transcript import fresh_daemon  # noqa: E402  (the same fresh daemon as the transcripts)
SVG = os.path.join(ROOT, "docs", "person-cycle.svg")


def commands():
    """The argv (after `heapctl`) of each command of the block under HEADING."""
    lines = open(os.path.join(ROOT, "README.md")).read().split("\n")
    start = lines.index(HEADING)
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == "```console") + 1
    out = []
    for line in lines[begin:]:
        if line.strip() == "```":
            return out
        if line.startswith("$ "):
            argv = shlex.split(line[2:].split("  #")[0])
            if argv[0] != "heapctl":
                raise SystemExit(f"the block runs heapctl only: {line}")
            out.append(argv[1:])
    raise SystemExit("the block under %r does not end" % HEADING)


def heapctl(socket, argv):
    out = subprocess.run([os.path.join(BIN, "heapctl"), "--socket", socket, *argv], capture_output=True,
                         text=True, env=dict(os.environ, USER="root"), timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"heapctl {shlex.join(argv)} failed ({out.returncode}): {out.stderr}")
    return out.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    *setup, draw = commands()
    if draw[0] != "graph" or "--svg" not in draw:
        raise SystemExit("the block's last command must be `heapctl graph ... --svg FILE`")
    i = draw.index("--svg")
    plain = draw[:i] + draw[i + 2:]
    with fresh_daemon("heapd-readme-graph-") as socket:
        for argv in setup:
            heapctl(socket, argv)
        dot = heapctl(socket, plain)
        if args.write:
            heapctl(socket, plain + ["--svg", SVG])
    if args.write:
        with open(DOT, "w") as f:
            f.write(dot)
        print(f"wrote {os.path.relpath(DOT, ROOT)} and {os.path.relpath(SVG, ROOT)}")
        return 0
    committed = open(DOT).read() if os.path.exists(DOT) else ""
    if committed != dot:
        print("\n".join(difflib.unified_diff(committed.split("\n"), dot.split("\n"), "docs/person-cycle.dot",
                                             "heapctl graph now", lineterm="")))
        print("run scripts/readme_graph.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
