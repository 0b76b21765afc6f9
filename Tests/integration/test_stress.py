"""500 concurrent clients on shared objects, some vanishing mid-request (socket closed with a
request in flight, whole processes SIGKILLed): afterwards every reference is accounted for and
the invariant checker passes (SPEC §3, §8)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))

WORKER = textwrap.dedent("""
    import json, random, socket, sys, threading
    path, seed, threads, shared = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])

    def client(n):
        rng = random.Random(seed * 1000 + n)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        f = s.makefile("rb")
        rid = 0
        held = []
        def call(method, **params):
            nonlocal rid
            rid += 1
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\\n")
            while True:
                msg = json.loads(f.readline())
                if "id" in msg:
                    return msg
        try:
            for step in range(rng.randint(5, 40)):
                op = rng.random()
                if op < 0.35 or not held:
                    r = call("allocate", type="S", fields={"s": rng.choice(shared)} if rng.random() < 0.5 else {})
                    held.append(r["result"]["id"])
                elif op < 0.55:
                    t = rng.choice(shared + held)
                    if "result" in call("ref", id=t):
                        held.append(t)
                elif op < 0.7:
                    t = held.pop(rng.randrange(len(held)))
                    call("unref", id=t)
                elif op < 0.85:
                    a, b = rng.choice(held), rng.choice(shared + held)
                    call("set", id=a, fields={"x": b})
                else:
                    call("subscribe", events=["freed"])
                if rng.random() < 0.03:
                    # Vanish mid-request: send and close without reading the reply.
                    s.sendall(b'{"jsonrpc":"2.0","id":999,"method":"allocate","params":{"type":"Gone"}}\\n')
                    s.close()
                    return
        except (OSError, ValueError):
            return
        s.close()

    ts = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()
""")


def test_500_clients_some_vanishing(daemon, client):
    shared = []
    for i in range(10):
        obj = client.call("allocate", type="Shared", data=i)["id"]
        client.call("root.set", name="s%d" % i, id=obj)
        client.call("unref", id=obj)
        shared.append(obj)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, daemon.socket, str(p), "50", str(shared)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for p in range(10)]
    time.sleep(1.0)
    for p in procs[:3]:           # whole processes die mid-run: their sockets close under them
        p.send_signal(signal.SIGKILL)
    for p in procs[3:]:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    for p in procs[:3]:
        p.wait()
    # Every other connection is gone; the daemon notices hang-ups asynchronously.
    deadline = time.time() + 30
    while client.call("stats")["connections"] > 1 and time.time() < deadline:
        time.sleep(0.05)
    stats = client.call("stats")
    assert stats["connections"] == 1, stats
    sessions = client.call("session.list")["sessions"]
    assert [s for s in sessions if s["references"]] == [], "a vanished client left references behind"
    client.call("collect")        # the cycles they made through fields
    check = client.call("check")
    assert check["ok"], check["problems"]
    alive = []
    after = None
    while True:
        page = client.call("objects", **({"after": after} if after else {}))
        alive += [o["id"] for o in page["objects"]]
        if page["next"] is None:
            break
        after = page["next"]
    # Exactly what the roots reach survives (clients may have stored objects in shared ones).
    reachable, todo = set(), list(shared)
    while todo:
        obj = todo.pop()
        if obj not in reachable:
            reachable.add(obj)
            todo += client.call("referents", id=obj)["referents"]
    assert sorted(alive) == sorted(reachable), "only what the roots reach survives"


def test_a_client_that_stalls_mid_message_blocks_no_one(daemon, client):
    """Half a message, then silence: the daemon serves everyone else meanwhile, and later
    completes the stalled message when its bytes arrive."""
    stalled_nd = daemon.client()
    stalled_nd.send_raw(b'{"jsonrpc":"2.0","id":1,"meth')
    stalled_lsp = daemon.client("lsp")
    stalled_lsp.send_raw(b'Content-Length: 40\r\n\r\n{"jsonrpc":"2.0",')
    others = [daemon.client() for _ in range(20)]
    for c in others:
        assert c.call("ping") == {"pong": True}
        c.call("allocate", type="Fine")
    stalled_nd.send_raw(b'od":"ping"}\n')
    assert stalled_nd.read_message()["result"] == {"pong": True}
    stalled_lsp.send_raw(b'"id":1,"method":"ping"}')
    assert stalled_lsp.read_message()["result"] == {"pong": True}
    for c in others + [stalled_nd, stalled_lsp]:
        c.close()
