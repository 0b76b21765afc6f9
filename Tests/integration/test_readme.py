"""Every heapctl transcript in README.md is what heapctl prints now (scripts/readme_transcript.py;
`--write` regenerates them), so the README cannot drift from the real commands."""
import os
import subprocess
import sys

import heapd_harness


def test_readme_transcripts_are_real():
    env = dict(os.environ, HEAPD_BIN_DIR=os.path.dirname(os.path.abspath(heapd_harness.binary("heapd"))))
    out = subprocess.run([sys.executable, os.path.join(heapd_harness.ROOT, "scripts", "readme_transcript.py")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, "README.md differs from what heapctl prints:\n" + out.stdout + out.stderr


def test_readme_heap_picture_is_real():
    """docs/person-cycle.dot (drawn in README.md) is what heapctl graph draws now
    (scripts/readme_graph.py; `--write` regenerates it and its SVG)."""
    env = dict(os.environ, HEAPD_BIN_DIR=os.path.dirname(os.path.abspath(heapd_harness.binary("heapd"))))
    out = subprocess.run([sys.executable, os.path.join(heapd_harness.ROOT, "scripts", "readme_graph.py")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, "docs/person-cycle.dot differs from what heapctl draws:\n" + out.stdout + out.stderr
