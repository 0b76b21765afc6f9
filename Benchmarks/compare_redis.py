#!/usr/bin/env python3
"""heapd against Redis over Unix sockets on this machine, in one run (SPEC §7, issue 7).

Starts a private redis-server and a private heapd on temp sockets, then alternates, round by
round, the same loads on both:

  single     50 clients, one request at a time: heapd `refunref` against Redis `INCR`
  bulk       50 clients: heapd `apply` with 16 ops per request against `INCR` pipelined 16 deep
             (compared in operations per second)
  latency    1 client, one request at a time: p50

Reported (SPEC §7): server CPU per operation (from /proc) side by side and as ratios, heapd's
time holding the heap's lock per request (`stats.serial`, which alone bounds heapd on a machine
with more cores), and requests/s beside.

Redis is driven twice: by redis-benchmark (what users quote) and by `heapctl bench --redis`,
the same lean epoll generator that drives heapd, so both servers face the same client. The
goals are against the stronger (higher) Redis figure. For every run the CPU that the load
generator and the server spent per request is printed, so a slow client or a busy server on
either side is visible. Medians over the rounds; ratios are heapd / Redis.

Usage: Benchmarks/compare_redis.py [--rounds 3] [--requests 300000] [--persistence]
                                  [--baseline BIN_DIR]
       (build first: `make build`; installs redis-server with apt-get if it is missing)
       --baseline runs a second heapd (and its heapctl) from another build alongside, in the
       same rounds: before and after a change, on the same machine in the same run.
"""
import argparse
import csv
import io
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HEAPD_BIN_DIR", os.path.join(ROOT, ".build", "release"))
HEAPD = os.path.join(BIN, "heapd")
HEAPCTL = os.path.join(BIN, "heapctl")


def ensure_redis():
    if shutil.which("redis-server") and shutil.which("redis-benchmark"):
        return
    if os.geteuid() != 0:
        sys.exit("redis-server and redis-benchmark are missing: apt-get install redis-server")
    subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], check=True,
                   stdout=subprocess.DEVNULL)


def cpu_seconds(pid):
    """User + system CPU time of a running process (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_socket(path, proc, what):
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            sys.exit(f"{what} exited at start (status {proc.returncode})")
        time.sleep(0.05)
    sys.exit(f"{what} did not create {path}")


class Servers:
    def __init__(self, tmp, persistence, heapd=HEAPD, name="heapd", with_redis=True):
        self.redis_sock = os.path.join(tmp, "redis.sock")
        self.heapd_sock = os.path.join(tmp, name, "heapd.sock")
        redis_args = ["redis-server", "--port", "0", "--unixsocket", self.redis_sock,
                      "--unixsocketperm", "700", "--save", "", "--dir", tmp,
                      "--logfile", os.path.join(tmp, "redis.log")]
        heapd_args = [heapd, "--socket", self.heapd_sock, "--log-level", "warning"]
        if persistence:
            # Both append every change to a log and fsync it once a second.
            redis_args += ["--appendonly", "yes", "--appendfsync", "everysec"]
            heapd_args += ["--data", os.path.join(tmp, name + "-data"), "--fsync", "everysec"]
        else:
            redis_args += ["--appendonly", "no"]
            heapd_args += ["--memory"]
        self.redis = subprocess.Popen(redis_args, stdout=subprocess.DEVNULL) if with_redis else None
        self.heapd = subprocess.Popen(heapd_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.redis:
            wait_for_socket(self.redis_sock, self.redis, "redis-server")
        wait_for_socket(self.heapd_sock, self.heapd, "heapd")

    def stop(self):
        running = [p for p in (self.redis, self.heapd) if p]
        for p in running:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in running:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def run_measured(cmd, server_pid):
    """Runs a load generator; returns (stdout, generator CPU s, server CPU s)."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_seconds(server_pid)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    server_after = cpu_seconds(server_pid)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator = (after_children.ru_utime - before_children.ru_utime) + (after_children.ru_stime - before_children.ru_stime)
    return out, generator, server_after - server_before


def heapd_serial(sock):
    """heapd's `stats.serial`: requests run and nanoseconds spent holding the heap's lock."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"stats"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    serial = json.loads(data)["result"].get("serial")
    return (serial["requests"], serial["ns"]) if serial else None


def heapctl_bench(socket_args, server_pid, clients, requests, pipeline, workload, extra=(), heapctl=HEAPCTL):
    cmd = [heapctl, "bench", *socket_args, "-c", str(clients), "-n", str(requests),
           "-P", str(pipeline), "-t", workload, "--json", *extra]
    heapd_sock = socket_args[1] if socket_args[0] == "--socket" else None
    serial_before = heapd_serial(heapd_sock) if heapd_sock else None
    out, gen_cpu, server_cpu = run_measured(cmd, server_pid)
    serial_after = heapd_serial(heapd_sock) if heapd_sock else None
    r = json.loads(out.strip().splitlines()[-1])
    if r["errors"]:
        sys.exit(f"{' '.join(cmd)}: {r['errors']} error replies")
    ops = r["operations_per_s"]
    ops_per_request = ops / r["requests_per_s"]
    serial = None
    if serial_before and serial_after and serial_after[0] > serial_before[0]:
        # ns per request under the lock; the two stats requests are a rounding error here.
        serial = (serial_after[1] - serial_before[1]) / (serial_after[0] - serial_before[0])
    return {"rps": r["requests_per_s"], "ops": ops, "p50": r["p50_ms"], "p99": r["p99_ms"],
            "gen_us": gen_cpu / r["requests"] * 1e6, "server_us": server_cpu / r["requests"] * 1e6,
            "server_us_per_op": server_cpu / (r["requests"] * ops_per_request) * 1e6,
            "serial_ns": serial, "serial_ns_per_op": serial / ops_per_request if serial else None}


def redis_benchmark(sock, server_pid, clients, requests, pipeline):
    cmd = ["redis-benchmark", "-s", sock, "-c", str(clients), "-n", str(requests),
           "-P", str(pipeline), "-t", "incr", "--csv"]
    out, gen_cpu, server_cpu = run_measured(cmd, server_pid)
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["test"] == "INCR")
    rps = float(row["rps"])
    return {"rps": rps, "ops": rps, "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"]),
            "gen_us": gen_cpu / requests * 1e6, "server_us": server_cpu / requests * 1e6,
            "server_us_per_op": server_cpu / requests * 1e6, "serial_ns": None, "serial_ns_per_op": None}


def jansson_floor():
    """Jansson's own cost per request (Benchmarks/jansson_cost.c), or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    exe = os.path.join(tempfile.mkdtemp(prefix="heapd-jansson-"), "jansson_cost")
    try:
        allocator = os.path.join(ROOT, "Sources", "CJanssonAllocator")
        subprocess.run([cc, "-O2", "-I", os.path.join(allocator, "include"), os.path.join(ROOT, "Benchmarks", "jansson_cost.c"),
                        os.path.join(allocator, "allocator.c"), "-ljansson", "-o", exe],
                       check=True, capture_output=True)
        return json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)
    except (subprocess.CalledProcessError, ValueError):
        return None
    finally:
        shutil.rmtree(os.path.dirname(exe), ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300_000, help="requests per single-request run")
    parser.add_argument("--persistence", action="store_true",
                        help="heapd --fsync everysec against Redis appendonly + appendfsync everysec")
    parser.add_argument("--baseline", metavar="BIN_DIR",
                        help="also run heapd and heapctl from this directory (another build), same rounds")
    args = parser.parse_args()
    for b in (HEAPD, HEAPCTL):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} is missing: run `make build` first")
    ensure_redis()
    n = args.requests
    tmp = tempfile.mkdtemp(prefix="heapd-vs-redis-")
    servers = Servers(tmp, args.persistence)
    baseline = None
    if args.baseline:
        baseline = Servers(tmp, args.persistence, heapd=os.path.join(args.baseline, "heapd"),
                           name="baseline", with_redis=False)
    heapd = ["--socket", servers.heapd_sock]
    redis = ["--redis", servers.redis_sock]
    rp, hp = servers.redis.pid, servers.heapd.pid
    # (row, side, what, thunk): the rows are run in this order every round, so both servers
    # see the same machine conditions.
    plan = [
        ("single: 50 clients", "redis-benchmark", "INCR", lambda: redis_benchmark(servers.redis_sock, rp, 50, n, 1)),
        ("single: 50 clients", "redis (heapctl bench)", "INCR", lambda: heapctl_bench(redis, rp, 50, n, 1, "incr")),
        ("single: 50 clients", "heapd", "refunref", lambda: heapctl_bench(heapd, hp, 50, n, 1, "refunref")),
        ("bulk: 50 clients x 16", "redis-benchmark", "INCR -P 16", lambda: redis_benchmark(servers.redis_sock, rp, 50, 8 * n, 16)),
        ("bulk: 50 clients x 16", "redis (heapctl bench)", "INCR -P 16", lambda: heapctl_bench(redis, rp, 50, 8 * n, 16, "incr")),
        ("bulk: 50 clients x 16", "heapd", "apply 16 ops", lambda: heapctl_bench(heapd, hp, 50, n // 2, 1, "apply", ("--ops", "16"))),
        ("bulk: 50 clients x 16", "heapd", "refunref -P 16", lambda: heapctl_bench(heapd, hp, 50, 4 * n, 16, "refunref")),
        ("latency: 1 client", "redis (heapctl bench)", "INCR", lambda: heapctl_bench(redis, rp, 1, n // 4, 1, "incr")),
        ("latency: 1 client", "heapd", "refunref", lambda: heapctl_bench(heapd, hp, 1, n // 4, 1, "refunref")),
    ]
    if baseline:
        bp, bctl = baseline.heapd.pid, os.path.join(args.baseline, "heapctl")
        bs = ["--socket", baseline.heapd_sock]
        plan += [
            ("single: 50 clients", "heapd (baseline)", "refunref",
             lambda: heapctl_bench(bs, bp, 50, n, 1, "refunref", heapctl=bctl)),
            ("bulk: 50 clients x 16", "heapd (baseline)", "apply 16 ops",
             lambda: heapctl_bench(bs, bp, 50, n // 2, 1, "apply", ("--ops", "16"), heapctl=bctl)),
            ("latency: 1 client", "heapd (baseline)", "refunref",
             lambda: heapctl_bench(bs, bp, 1, n // 4, 1, "refunref", heapctl=bctl)),
        ]
    results = {}
    try:
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
            for row, side, what, thunk in plan:
                results.setdefault((row, side, what), []).append(thunk())
    finally:
        servers.stop()
        if baseline:
            baseline.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def median(key, field):
        return statistics.median(x[field] for x in results[key])

    mode = "heapd --fsync everysec vs Redis appendfsync everysec" if args.persistence else "heapd --memory vs Redis without persistence"
    print(f"heapd vs Redis, Unix sockets, {os.cpu_count()} cores, {mode}; median of {args.rounds} rounds")
    print(f"{'load':24} {'server':22} {'workload':16} {'req/s':>10} {'ops/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'gen µs/req':>10} {'srv µs/op':>10} {'lock ns/op':>10}")
    rows = []
    for row, side, what, _ in plan:
        key = (row, side, what)
        if key in rows:
            continue
        rows.append(key)
        serial = [x["serial_ns_per_op"] for x in results[key] if x["serial_ns_per_op"] is not None]
        lock = f"{statistics.median(serial):10.0f}" if serial else f"{'-':>10}"
        print(f"{row:24} {side:22} {what:16} {median(key, 'rps'):10.0f} {median(key, 'ops'):10.0f} "
              f"{median(key, 'p50'):8.3f} {median(key, 'p99'):8.3f} {median(key, 'gen_us'):10.2f} "
              f"{median(key, 'server_us_per_op'):10.2f} {lock}")

    def best_redis(row, what):
        """The Redis figure that is hardest to match: least server CPU per operation."""
        keys = [k for k in rows if k[0] == row and k[1].startswith("redis") and k[2] == what]
        return min(keys, key=lambda k: median(k, "server_us_per_op"))

    print()
    single_r = best_redis("single: 50 clients", "INCR")
    single_h = ("single: 50 clients", "heapd", "refunref")
    bulk_r = best_redis("bulk: 50 clients x 16", "INCR -P 16")
    bulk_h = ("bulk: 50 clients x 16", "heapd", "apply 16 ops")
    lat_r = ("latency: 1 client", "redis (heapctl bench)", "INCR")
    lat_h = ("latency: 1 client", "heapd", "refunref")
    cpu = lambda k: median(k, "server_us_per_op")
    print(f"server CPU per op, single requests: heapd {cpu(single_h):.2f} µs, Redis {cpu(single_r):.2f} µs "
          f"({single_r[1]}): {cpu(single_h) / cpu(single_r):.2f}x   (goal <= 2.5x)")
    print(f"server CPU per op, apply 16 vs INCR -P 16: heapd {cpu(bulk_h):.2f} µs, Redis {cpu(bulk_r):.2f} µs "
          f"({bulk_r[1]}): {cpu(bulk_h) / cpu(bulk_r):.2f}x   (goal <= 1.5x)")
    print(f"latency p50, 1 client: heapd {median(lat_h, 'p50'):.3f} ms, Redis {median(lat_r, 'p50'):.3f} ms: "
          f"{median(lat_h, 'p50') / median(lat_r, 'p50'):.2f}x   (goal <= 1.5x)")
    for label, key, goal in (("single request", single_h, 1500), ("apply op", bulk_h, 300)):
        serial = [x["serial_ns_per_op"] for x in results[key] if x["serial_ns_per_op"] is not None]
        if serial:
            print(f"time holding the heap's lock per {label}: {statistics.median(serial):.0f} ns   (goal <= {goal} ns)")
    if baseline:
        for label, new, old in (("single", single_h, ("single: 50 clients", "heapd (baseline)", "refunref")),
                                ("apply 16", bulk_h, ("bulk: 50 clients x 16", "heapd (baseline)", "apply 16 ops"))):
            print(f"against the baseline build, server CPU per op, {label}: {cpu(old):.2f} -> {cpu(new):.2f} µs "
                  f"({cpu(new) / cpu(old):.2f}x)")
        old_lat = ("latency: 1 client", "heapd (baseline)", "refunref")
        print(f"against the baseline build, 1-client p50: {median(old_lat, 'p50'):.3f} -> {median(lat_h, 'p50'):.3f} ms")
    print(f"throughput beside: single {median(single_h, 'ops') / median(single_r, 'ops'):.2f}x Redis's requests/s, "
          f"apply {median(bulk_h, 'ops') / median(bulk_r, 'ops'):.2f}x Redis's pipelined operations/s")
    floor = jansson_floor()
    if floor:
        # Every request is parsed, and every reply written, by Jansson: its cost alone, per
        # request, next to what heapd spent in all and what Redis spent per operation.
        print()
        print(f"Jansson alone (Benchmarks/jansson_cost.c): {floor['single_us']:.2f} µs per single request, "
              f"{floor['apply16_us']:.2f} µs per 16-op apply ({floor['apply16_us'] / 16:.2f} µs per op); "
              f"heapd spent {median(single_h, 'server_us'):.2f} and {median(bulk_h, 'server_us'):.2f}; "
              f"Redis {median(single_r, 'server_us_per_op'):.2f} per INCR, {median(bulk_r, 'server_us_per_op'):.2f} per pipelined INCR")


if __name__ == "__main__":
    main()
