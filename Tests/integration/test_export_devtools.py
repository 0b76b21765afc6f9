"""`export` opened in Chrome DevTools' own heap snapshot code (SPEC §5).

Headless Chromium serves DevTools' bundled front end; Tests/integration/devtools drives its heap
snapshot worker module over the DevTools protocol and reports what the Summary, Containment,
Retainers, Dominators and Comparison views would show for two heapd exports. Skipped where
Chromium is not installed (CI does not install it; `apt-get install chromium` does).
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from heapd_harness import ROOT

SCRIPT = os.path.join(ROOT, "Tests", "integration", "devtools", "load_heapsnapshots.mjs")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium_port():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="heapd-devtools-")
    proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    active = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not (os.path.exists(active) and open(active).read().strip()):
        assert time.time() < deadline and proc.poll() is None, "chromium did not start"
        time.sleep(0.1)
    try:
        yield int(open(active).read().split()[0])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def test_devtools_views_of_two_exports(daemon, chromium_port, tmp_path):
    c = daemon.client()
    c.call("gc.set", enabled=False)
    alice = c.call("allocate", type="Person", size=100)["id"]
    bob = c.call("allocate", type="Person", size=200)["id"]
    blob = c.call("allocate", type="Blob", size=5000)["id"]
    c.call("set", id=alice, fields={"partner": bob})
    c.call("set", id=bob, fields={"partner": alice, "blob": blob})
    c.call("unref", id=blob)
    c.call("unref", id=bob)
    c.call("root.set", name="couple", id=alice)
    orphans = [c.call("allocate", type="Orphan", size=8)["id"] for _ in range(2)]
    c.call("set", id=orphans[0], fields={"x": orphans[1]})
    c.call("set", id=orphans[1], fields={"x": orphans[0]})
    for o in orphans:
        c.call("unref", id=o)
    a, b = str(tmp_path / "a.heapsnapshot"), str(tmp_path / "b.heapsnapshot")
    c.call("export", format="heapsnapshot", path=a)
    newcomer = c.call("allocate", type="Newcomer", size=42)["id"]
    c.call("root.set", name="couple", id=None)
    c.call("export", format="heapsnapshot", path=b)
    node = lambda i: 2 * i + 1  # noqa: E731
    ids = {"alice": node(alice), "blob": node(blob)}
    out = subprocess.run(["node", "--experimental-websocket", SCRIPT, str(chromium_port), a, b, json.dumps(ids)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    views = json.loads(out.stdout)
    # Summary: one row per type; the orphan cycle is there, unreachable (negative distance).
    s = views["summary"]
    assert {k: (v["count"], v["self"]) for k, v in s.items()} == \
        {"Person": (2, 300), "Blob": (1, 5000), "Orphan": (2, 16)}
    assert s["Person"]["maxRet"] == 5300 and s["Orphan"]["distance"] < 0 <= s["Blob"]["distance"]
    # Containment and retainers of alice; the root's containment: one element per holder.
    alice_view = views["nodes"]["alice"]
    assert alice_view["containment"] == [{"edge": "partner", "type": "property", "node": "Person", "id": node(bob)}]
    session = next(r["node"] for r in views["root"] if r["node"].startswith("(session #"))
    retainers = {(r["edge"], r["type"], r["node"]) for r in alice_view["retainers"]}
    assert retainers == {("partner", "property", "Person"), ("couple", "property", "(root couple)"),
                         ("0", "element", session)}
    assert [(r["edge"], r["node"]) for r in views["root"]] == [("1", session), ("2", "(root couple)")]
    # Dominators: blob ← bob ← alice ← the root, with retained sizes.
    assert [(d["id"], d["retained"]) for d in views["nodes"]["blob"]["dominators"]] == \
        [(node(blob), 5000), (node(bob), 5200), (node(alice), 5300), (2, 5316)]
    # Comparison: the new object matched by id; nothing else changed identity.
    assert views["comparison"] == {"Newcomer": {"added": [node(newcomer)], "deleted": []}}
    c.close()
