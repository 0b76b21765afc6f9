"""Named sessions with leases (SPEC §3, as Java RMI's DGC): any request renews the lease; when
it runs out the daemon closes the session, drops its references and sends `session.closed`."""
import time

from heapd_harness import Daemon


def wait_for(predicate, timeout=10, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def named(c, name):
    return [s for s in c.call("session.list")["sessions"] if s["name"] == name]


def test_lease_expires_after_the_client_goes_away(daemon, client):
    client.call("subscribe", events=["session.closed", "freed"])
    owner = daemon.client()
    opened = owner.call("session.open", name="leased", lease_s=0.5)
    assert opened["lease_s"] == 0.5
    obj = owner.call("allocate", type="Leased")["id"]
    info = named(client, "leased")[0]
    assert info["lease_s"] == 0.5 and 0 < info["lease_left_s"] <= 0.5
    owner.close()
    started = time.time()
    assert wait_for(lambda: not named(client, "leased")), "the lease never expired"
    elapsed = time.time() - started
    assert 0.3 <= elapsed < 3, elapsed   # on time: half a second, plus the 100 ms timer
    assert client.request("get", {"id": obj})["error"]["data"]["state"] == "freed"
    client.call("ping")
    methods = [n["method"] for n in client.take_notifications()]
    assert "session.closed" in methods and "freed" in methods


def test_any_request_renews_the_lease(daemon, client):
    client.call("session.open", name="busy", lease_s=0.4)
    obj = client.call("allocate", type="Busy")["id"]
    for _ in range(10):          # 1.5 s of activity, longer than the lease
        time.sleep(0.15)
        client.call("ping")
    assert named(client, "busy"), "a session in use must not expire"
    assert client.call("get", id=obj)["refcount"] == 1


def test_an_idle_attached_connection_loses_its_session_and_is_told(daemon, client):
    client.call("session.open", name="idle", lease_s=0.3)
    obj = client.call("allocate", type="Idle")["id"]
    time.sleep(1.0)
    # The notification was written while we slept; the next reply comes after it.
    client.call("ping")
    closed = client.take_notifications("session.closed")
    assert closed and closed[0]["params"]["name"] == "idle"
    assert client.request("get", {"id": obj})["error"]["data"]["state"] == "freed"
    # The connection goes on in a fresh anonymous session.
    assert client.call("allocate", type="After")["id"] > obj


def test_lease_survives_a_restart_and_restarts_from_full():
    d = Daemon()
    c = d.client()
    c.call("session.open", name="durable", lease_s=1.5)
    obj = c.call("allocate", type="Durable")["id"]
    c.close()
    assert d.stop() == 0
    d2 = Daemon(directory=d.dir)
    try:
        c2 = d2.client()
        info = named(c2, "durable")
        assert info and info[0]["lease_s"] == 1.5
        assert c2.call("get", id=obj)["refcount"] == 1
        assert wait_for(lambda: not named(c2, "durable"), timeout=10)
        assert c2.request("get", {"id": obj})["error"]["data"]["state"] == "freed"
        c2.close()
    finally:
        assert d2.stop() == 0


def test_bad_lease_is_refused(client):
    for bad in (0, -1, "10", True):
        reply = client.request("session.open", {"name": "bad", "lease_s": bad})
        assert reply["error"]["code"] == -32602 and "params.lease_s" in reply["error"]["message"]
    assert not named(client, "bad")
