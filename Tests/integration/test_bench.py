"""`heapctl bench` against the real daemon (issue 7): every workload, both framings, and Redis's
RESP when a redis-server is at hand. The numbers are not checked (never timing thresholds in
tests); what is checked is that the load generator sends what it says it sends: the daemon's
own request counter must grow by exactly the requests bench reports, with no error replies."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from heapd_harness import binary, daemon_with


def bench(socket_args, *args):
    out = subprocess.run([binary("heapctl"), "bench", *socket_args, "--json", *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def requests_served(client):
    return client.call("stats")["requests"]


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
@pytest.mark.parametrize("pipeline", [1, 3])
def test_every_workload_is_counted_by_the_daemon(daemon, client, framing, pipeline):
    for workload in ["ping", "refunref", "allocate", "set"]:
        before = requests_served(client)
        [r] = bench(["--socket", daemon.socket], "-c", "4", "-n", "600", "-P", str(pipeline),
                    "-t", workload, "--framing", framing)
        after = requests_served(client)
        assert r["workload"] == workload and r["errors"] == 0
        # 600 requests over 4 clients in rounds of `pipeline`: what bench reports it sent.
        assert r["requests"] == 4 * (600 // (4 * pipeline)) * pipeline
        # The daemon saw those, plus bench's setup (allocations: one per client for refunref,
        # two for set) and this test's own stats call.
        setup = {"refunref": 4, "set": 8}.get(workload, 0)
        assert after - before == r["requests"] + setup + 1
        assert r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
        assert r["client_cpu_us_per_request"] > 0


def test_bench_leaves_no_references_behind(daemon, client):
    before = client.call("stats")["objects"]
    bench(["--socket", daemon.socket], "-c", "3", "-n", "300", "-t", "refunref,allocate,set")
    # bench's connections are anonymous sessions: closing them drops what they held. The
    # daemon notices the hang-ups asynchronously.
    deadline = time.time() + 10
    while client.call("stats")["objects"] != before and time.time() < deadline:
        time.sleep(0.05)
    assert client.call("stats")["objects"] == before


def test_error_replies_are_counted():
    """With --max-objects 10, 40 allocations by 2 clients give 30 quota errors: bench must
    count error replies, not just replies."""
    with daemon_with("--max-objects", "10") as d:
        [r] = bench(["--socket", d.socket], "-c", "2", "-n", "40", "-t", "allocate")
        assert r["requests"] == 40
        assert r["errors"] == 30


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_bench_drives_redis_over_resp():
    tmp = tempfile.mkdtemp(prefix="heapd-bench-redis-")
    sock = os.path.join(tmp, "redis.sock")
    redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                              "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        results = bench(["--redis", sock], "-c", "5", "-n", "1000", "-P", "4", "-t", "ping,incr")
        assert [r["workload"] for r in results] == ["ping", "incr"]
        for r in results:
            assert r["errors"] == 0 and r["requests"] == 1000 and r["target"] == "redis"
        got = subprocess.run(["redis-cli", "-s", sock, "get", "key:__rand_int__"], capture_output=True, text=True)
        if got.returncode == 0:
            assert got.stdout.strip() == "1000"
    finally:
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
