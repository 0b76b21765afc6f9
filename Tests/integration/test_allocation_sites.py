"""Allocation sites (issue 16 item 6, SPEC §6): `allocate {site}` and apply's
`["alloc", type, size, site]` record where, by which session and in which second an object was
allocated; `inspect` shows it, `histogram {by: "site"}` groups by it, `objects {session}`
filters by the allocating session; all of it survives a restart (journal and snapshot)."""
import time

import pytest

from heapd_harness import Daemon, RPCError


def test_inspect_shows_site_session_and_time(client):
    client.call("session.open", name="sites-a")
    before = int(time.time())
    x = client.call("allocate", type="Sited", site="app.py:12")["id"]
    after = int(time.time())
    a = client.call("inspect", id=x)["allocated"]
    assert a["site"] == "app.py:12" and a["session_name"] == "sites-a"
    assert before <= a["time"] <= after
    y = client.call("allocate", type="Sited")["id"]
    assert client.call("inspect", id=y)["allocated"]["site"] is None
    client.call("session.close", name="sites-a")


def test_apply_alloc_takes_a_site(client):
    r = client.call("apply", ops=[["alloc", "Batch", None, "batch.py:3"], ["alloc", "Batch", 16, "batch.py:4"],
                                  ["alloc", "Batch"]])["results"]
    sites = [client.call("inspect", id=i)["allocated"]["site"] for i in r]
    assert sites == ["batch.py:3", "batch.py:4", None]
    assert client.call("get", id=r[1])["size"] == 16


def test_histogram_by_site_groups_and_orders_by_bytes(daemon):
    c = daemon.client()
    try:
        for _ in range(3):
            c.call("allocate", type="A", site="small.py:1", size=10)
        c.call("allocate", type="B", site="big.py:2", size=1000)
        c.call("allocate", type="B", size=5)
        rows = c.call("histogram", by="site")["sites"]
        mine = [r for r in rows if r["site"] in ("small.py:1", "big.py:2")]
        assert mine == [{"site": "big.py:2", "count": 1, "bytes": 1000},
                        {"site": "small.py:1", "count": 3, "bytes": 30}]
        assert any(r["site"] is None for r in rows)
        assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
    finally:
        c.close()


def test_objects_filters_by_allocating_session(daemon):
    a, b = daemon.client(), daemon.client()
    try:
        a.call("session.open", name="maker")
        made = [a.call("allocate", type="Made")["id"] for _ in range(3)]
        other = b.call("allocate", type="Made")["id"]
        by_name = [o["id"] for o in b.call("objects", session="maker", type="Made")["objects"]]
        assert sorted(by_name) == sorted(made)  # table order: reused slots come last-freed first
        sid = b.call("inspect", id=made[0])["allocated"]["session"]
        assert sorted(o["id"] for o in b.call("objects", session=sid)["objects"]) == sorted(made)
        assert other not in by_name
        a.call("session.close", name="maker")
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("params,needle", [
    ({"by": "size"}, "params.by"),
    ({"by": "site", "generation": 0}, "params.by"),
    ({"by": 3}, "params.by"),
])
def test_histogram_by_refuses_bad_input(client, params, needle):
    with pytest.raises(RPCError) as e:
        client.call("histogram", **params)
    assert e.value.code == -32602 and needle in e.value.message


@pytest.mark.parametrize("site", ["", "x" * 1025, 7])
def test_bad_site_is_refused_and_changes_nothing(client, site):
    before = client.call("stats")["objects"]
    with pytest.raises(RPCError) as e:
        client.call("allocate", type="Bad", site=site)
    assert e.value.code == -32602 and "params.site" in e.value.message
    assert client.call("stats")["objects"] == before


def test_sites_survive_restart_and_compaction():
    d = Daemon("--compact-after", "4000")
    c = d.client()
    c.call("session.open", name="keeps")
    ids = [c.call("allocate", type="Kept", site="kept.py:%d" % (i % 5), data={"pad": "z" * 100})["id"]
           for i in range(200)]
    want = {i: c.call("inspect", id=i)["allocated"] for i in ids}
    c.close()
    assert d.stop() == 0
    d2 = Daemon(directory=d.dir)
    try:
        c2 = d2.client()
        assert {i: c2.call("inspect", id=i)["allocated"] for i in ids} == want
        rows = {r["site"]: r["count"] for r in c2.call("histogram", by="site")["sites"]}
        assert all(rows["kept.py:%d" % k] == 40 for k in range(5))
        c2.close()
    finally:
        assert d2.stop() == 0


def test_heapctl_shows_and_groups_sites(daemon):
    import subprocess
    from heapd_harness import binary

    def ok(*args):
        out = subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", "ctl-sites"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    x = ok("allocate", "Widget", "--site", "widgets.py:7", "--size", "2048").strip()
    ok("allocate", "Widget", "--site", "widgets.py:7", "--size", "2048")
    line = [l for l in ok("inspect", x).splitlines() if "allocated:" in l]
    assert len(line) == 1 and "widgets.py:7 by session ctl-sites" in line[0] and line[0].endswith(" s ago")
    table = ok("histogram", "--by", "site").splitlines()
    assert table[0].split() == ["COUNT", "SIZE", "SITE"]
    row = [l for l in table if l.endswith("widgets.py:7")]
    assert len(row) == 1 and row[0].split()[:3] == ["2", "4.0", "KiB"]
    listed = ok("objects", "--allocated-by", "ctl-sites").splitlines()
    assert len([l for l in listed if "Widget" in l]) == 2
    bad = subprocess.run([binary("heapctl"), "histogram", "--by", "size", "--socket", daemon.socket],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 64 and "--by" in bad.stderr
