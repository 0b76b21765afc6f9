"""heapctl against the real daemon: the README's session, exit codes, --json, script, watch,
tour, and a reader that goes away (SPEC §6)."""
import json
import os
import re
import shutil
import subprocess

from heapd_harness import ROOT, Daemon, binary


def run_heapctl(*args):
    return subprocess.run([binary("heapctl"), *args], capture_output=True, text=True, timeout=60)


def heapctl(daemon, *args, input=None, session="test"):
    return subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", session],
                          capture_output=True, text=True, input=input, timeout=60)


def ok(daemon, *args, **kw):
    out = heapctl(daemon, *args, **kw)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_readme_person_cycle(daemon):
    alice = ok(daemon, "allocate", "Person", "--data", '{"name":"Alice"}').strip()
    bob = ok(daemon, "allocate", "Person", "--data", '{"name":"Bob"}', "--finalizer").strip()
    ok(daemon, "set", alice, f"partner={bob}")
    ok(daemon, "set", bob, f"partner={alice}")
    inspect = ok(daemon, "inspect", bob)
    assert "refcount 2" in inspect
    assert f"field partner of object {alice}" in inspect
    assert "session test" in inspect
    ok(daemon, "unref", alice)
    ok(daemon, "unref", bob)
    collect = ok(daemon, "collect")
    assert "2 unreachable" in collect
    assert heapctl(daemon, "get", alice).returncode == 1


def test_consecutive_commands_share_the_named_session(daemon):
    a = ok(daemon, "allocate", "X").strip()
    assert "refcount 2" in ok(daemon, "ref", a)
    assert "refcount 1" in ok(daemon, "unref", a)
    # Another session cannot drop what this one holds.
    other = heapctl(daemon, "unref", a, session="someone-else")
    assert other.returncode == 1
    assert "-32002" in other.stderr
    closed = ok(daemon, "session", "close", "test")
    assert "released 1" in closed
    assert heapctl(daemon, "get", a).returncode == 1


def test_json_output_is_the_raw_result(daemon):
    out = ok(daemon, "allocate", "X", "--json")
    obj_id = json.loads(out)["id"]
    got = json.loads(ok(daemon, "get", str(obj_id), "--json"))
    assert got["type"] == "X" and got["refcount"] == 1


def test_global_options_before_the_subcommand(daemon):
    out = subprocess.run([binary("heapctl"), "--socket", daemon.socket, "--json", "ping"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"pong": True}


def test_exit_codes(daemon):
    assert heapctl(daemon, "get", "424242").returncode == 1
    unreachable = subprocess.run([binary("heapctl"), "ping", "--socket", "/nonexistent/heapd.sock"],
                                 capture_output=True, text=True, timeout=30)
    assert unreachable.returncode == 3
    assert "hint" in unreachable.stderr
    assert heapctl(daemon, "no-such-command").returncode == 64
    assert heapctl(daemon, "set", "1", "partner=banana").returncode == 64


def test_call_any_method(daemon):
    out = json.loads(ok(daemon, "call", "allocate", '{"type":"Y","data":[1,2]}'))
    got = json.loads(ok(daemon, "call", "get", json.dumps({"id": out["id"]})))
    assert got["data"] == [1, 2]


def test_script_binds_ids_and_stops_at_the_first_error(daemon):
    script = "\n".join([
        "# a tiny linked structure",
        'a = allocate {"type":"Node"}',
        'b = allocate {"type":"Node","fields":{"next":$a}}',
        'unref {"id":$a}',
        'get {"id":$b}',
        'get {"id":999999}',
        'ping',
    ])
    out = heapctl(daemon, "script", input=script)
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4, lines
    assert '"next"' in lines[3]
    assert "line 6" in out.stderr


def test_watch_prints_events_as_they_happen(daemon):
    watcher = subprocess.Popen([binary("heapctl"), "watch", "--count", "3", "--json", "--socket", daemon.socket],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until the watcher has subscribed (stats counts subscribers).
    import time
    c = daemon.client()
    deadline = time.time() + 20
    while c.call("stats")["subscribers"] < 1 and time.time() < deadline:
        time.sleep(0.02)
    a = c.call("allocate", type="Watched", finalizer=True)["id"]
    c.call("unref", id=a)           # finalize, freed
    c.call("collect", generation=0)  # gc.start
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    methods = [json.loads(line)["method"] for line in out.strip().splitlines()]
    assert methods == ["finalize", "freed", "gc.start"]
    c.close()


def test_tour_runs(daemon):
    out = ok(daemon, "tour")
    assert "gc.collect()" in out
    assert "event: finalize" in out
    assert "event: callback" in out


def test_stats_and_check(daemon):
    ok(daemon, "allocate", "T")
    ok(daemon, "allocate", "Data", "--data", json.dumps("x" * 3000))
    ok(daemon, "collect")
    stats = ok(daemon, "stats")
    assert "objects: 2" in stats
    assert re.search(r"^T +1 +0 B$", stats, re.M), stats          # an aligned table row
    assert re.search(r"^Data +1 +2\.93 KiB$", stats, re.M), stats  # sizes with units
    assert re.search(r"^uptime: [0-9.]+ (s|min)", stats, re.M), stats
    assert "# persistence" in stats and "fsync: always" in stats and "compacting: false" in stats
    assert ok(daemon, "check").startswith("ok")
    # No float printed with a binary tail (0.0068359375): at most 3 decimals anywhere.
    for out in (stats, ok(daemon, "collect"), ok(daemon, "session", "list")):
        assert not re.search(r"\d\.\d{4,}", out), out


def test_a_reader_that_goes_away_ends_heapctl_quietly(daemon):
    for _ in range(5):
        ok(daemon, "allocate", "Many")
    p = subprocess.Popen(f"{binary('heapctl')} objects --socket {daemon.socket} | head -1",
                         shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0
    assert len(out.strip().splitlines()) == 1
    assert "Error" not in err


def test_gc_subcommands(daemon):
    assert "threshold: (100, 5, 5)" in ok(daemon, "gc", "set", "--threshold", "100", "5", "5")
    assert "debug: SAVEALL" in ok(daemon, "gc", "set", "--debug", "SAVEALL")
    cleared = [l for l in ok(daemon, "gc", "set", "--no-debug").splitlines() if l.startswith("debug:")]
    assert cleared == ["debug: "]
    assert "freeze_count:" in ok(daemon, "gc", "freeze")
    assert "freeze_count: 0" in ok(daemon, "gc", "unfreeze")


def test_roots(daemon):
    a = ok(daemon, "allocate", "Global").strip()
    ok(daemon, "root", "set", "config", a)
    ok(daemon, "unref", a)
    assert ok(daemon, "root", "get", "config").strip() == a
    assert f"config = {a}" in ok(daemon, "root", "list")
    assert "freed 1" in ok(daemon, "root", "set", "config", "null")


def test_apply_subcommand(daemon):
    partly = heapctl(daemon, "apply", '[["alloc","Node"],["alloc","Node"],["set","$0","next","$1"],["unref",424242],["unref","$1"]]')
    assert partly.returncode == 1   # an op failed (the others ran)
    out = partly.stdout
    assert out.splitlines() == ["0 alloc: 1", "1 alloc: 2", "2 set: 1",
                                "3 unref: error -32001: object 424242 does not exist", "4 unref: 1",
                                "5 ops, 1 failed"]
    raw = json.loads(ok(daemon, "apply", "--atomic", '[["alloc","T"],["unref","$0"]]', "--json"))
    assert raw == {"results": [3, 0], "errors": 0, "freed": 1}
    refused = heapctl(daemon, "apply", "--atomic", '[["alloc","T"],["unref",424242]]')
    assert refused.returncode == 1 and "ops[1] (unref): object 424242 does not exist" in refused.stderr
    assert heapctl(daemon, "apply", "not json").returncode == 64


def test_unreachable_hints_say_what_is_wrong(tmp_path):
    """Exit 3 with a hint that fits: start a daemon only when no socket is there; a file that is
    not a socket, or a socket this user may not use, gets no "start heapd" advice (issue 15)."""
    missing = run_heapctl("--socket", str(tmp_path / "none.sock"), "ping")
    assert missing.returncode == 3 and "start the daemon with `heapd --socket" in missing.stderr
    plain = tmp_path / "file"
    plain.write_text("")
    not_socket = run_heapctl("--socket", str(plain), "ping")
    assert not_socket.returncode == 3 and "is not a socket" in not_socket.stderr
    assert "start the daemon" not in not_socket.stderr
    if os.geteuid() == 0 and shutil.which("setpriv"):
        d = Daemon("--memory")
        try:
            out = subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                                  binary("heapctl"), "--socket", d.socket, "ping"],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 3, out
            assert "heapd serves its own user, root and the members of its --allow-group" in out.stderr
            assert "start the daemon" not in out.stderr
        finally:
            assert d.stop() == 0


def test_monitor_shows_another_clients_requests(daemon):
    """`heapctl monitor` prints every request as it runs, with the client's session and time,
    as Redis's MONITOR does (issue 16)."""
    mon = subprocess.Popen([binary("heapctl"), "monitor", "--count", "2", "--socket", daemon.socket],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert mon.stdout.readline().startswith("monitoring ")
    ok(daemon, "allocate", "Person", "--data", '{"name":"Ann"}', session="alice")
    out, err = mon.communicate(timeout=30)
    assert mon.returncode == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2, lines
    # heapctl opens its session (still anonymous when it runs), then allocates in it.
    assert re.match(r'^\d\d:\d\d:\d\d\.\d{3} \[#\d+ anonymous\] session\.open \{"name":"alice"\}$', lines[0]), lines
    assert re.match(r'^\d\d:\d\d:\d\d\.\d{3} \[#\d+ alice\] allocate '
                    r'\{"type":"Person","data":\{"name":"Ann"\}\}$', lines[1]), lines


def test_top_once_prints_one_frame(daemon):
    """`heapctl top --once`: one frame of the live view, for scripts (issue 16)."""
    ok(daemon, "allocate", "Widget", "--data", json.dumps("w" * 2000))
    out = heapctl(daemon, "top", "--once", "--interval", "0.2")
    assert out.returncode == 0, out.stderr
    frame = out.stdout
    assert "\x1b[" not in frame                                   # no screen control in a pipe
    assert re.search(r"requests/s +[0-9.]+ collections/s|[0-9.]+ requests/s", frame), frame
    assert re.search(r"^Widget +1 +1\.96 KiB$", frame, re.M), frame
    assert re.search(r"^test +no +1 +1 +1\.96 KiB$", frame, re.M), frame   # its session, detached now
    assert not re.search(r"\d\.\d{4,}", frame), frame


def test_a_mistyped_command_gets_did_you_mean_and_usage_exit(tmp_path):
    out = run_heapctl("alocate", "Person")
    assert out.returncode == 64 and "did you mean 'allocate'?" in out.stderr, out
    out = run_heapctl("--socket", str(tmp_path / "s.sock"), "stast")
    assert out.returncode == 64 and "did you mean 'stats'?" in out.stderr, out
    out = run_heapctl("help", "nosuch")
    assert out.returncode == 64 and "unknown command 'nosuch'" in out.stderr, out


def test_json_covers_errors_and_a_partly_failed_apply_exits_1(daemon):
    out = heapctl(daemon, "--json", "get", "999")
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"]["code"] == -32001, out
    out = heapctl(daemon, "apply", '[["alloc","T"],["ref",999]]')
    assert out.returncode == 1 and "1 failed" in out.stdout, out
    out = run_heapctl("--json", "--socket", "/nonexistent/heapd.sock", "ping")
    assert out.returncode == 3 and "unreachable" in json.loads(out.stdout)["error"], out


def test_the_man_page_covers_every_command():
    """docs/man/heapctl.1 (`make man`) is generated from the argument parser: every command of
    `heapctl --help` must be in it, so a new command means regenerating it."""
    text = run_heapctl("--help").stdout
    commands = re.findall(r"^  ([a-z][a-z-]*)\s", text.split("SUBCOMMANDS:")[1], re.M)
    assert "allocate" in commands and "monitor" in commands, commands
    with open(os.path.join(ROOT, "docs", "man", "heapctl.1")) as f:
        page = f.read()
    missing = [c for c in commands if f"heapctl {c}" not in page and f"\\fB{c}\\fR" not in page
               and f".It Em {c}" not in page]
    assert not missing, f"regenerate docs/man with `make man`: {missing}"


def test_the_man_pages_cover_every_option():
    """Every long option of every heapctl command and of heapd is in its man page (heapctl.1 once
    went without `--site`, `--allocated-by` and `histogram --by` for a session)."""
    def options(*command):
        text = subprocess.run(list(command) + ["--help"], capture_output=True, text=True).stdout
        return set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", text, re.M)) - {"--help", "--version"}

    heapctl_commands = re.findall(r"^  ([a-z][a-z-]*)\s", run_heapctl("--help").stdout.split("SUBCOMMANDS:")[1], re.M)
    pages = {
        "heapctl.1": set().union(*(options(binary("heapctl"), c) for c in heapctl_commands)),
        "heapd.1": options(binary("heapd"), "serve"),
    }
    assert "--site" in pages["heapctl.1"] and "--compact-after" in pages["heapd.1"], pages
    for page, wanted in pages.items():
        with open(os.path.join(ROOT, "docs", "man", page)) as f:
            text = f.read()
        missing = sorted(o for o in wanted if f"Fl -{o[2:]}" not in text)
        assert not missing, f"regenerate docs/man with `make man`: {page} lacks {missing}"


def test_monitor_lines_cut_big_params(daemon):
    mon = subprocess.Popen([binary("heapctl"), "monitor", "--json", "--count", "2", "--socket", daemon.socket],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert mon.stderr.readline().startswith("monitoring ")        # subscribed: nothing is missed
    ok(daemon, "allocate", "Big", "--data", json.dumps("b" * 100_000), session="big")
    out, err = mon.communicate(timeout=30)
    lines = [json.loads(l) for l in out.strip().splitlines()]
    assert len(lines) == 2 and lines[0]["method"] == "session.open", lines
    assert lines[-1]["method"] == "allocate" and lines[-1]["params"]["truncated_bytes"] > 100_000, lines


def test_negative_or_zero_ids_are_usage_errors_that_say_so(daemon):
    """`inspect -5`: the parser alone reads -5 as an option and says "Missing expected
    argument"; heapctl says what is wrong, with the command's usage, exit 64 (issue 16)."""
    for args in (["inspect", "-5"], ["get", "-1"], ["set", "-2", "a=1"], ["why", "-7"], ["graph", "-3"],
                 ["unref", "--json", "-5"], ["referrers", "0"], ["ref", "abc"]):
        out = heapctl(daemon, *args)
        assert out.returncode == 64, out
        assert "object ids are positive integers" in out.stderr, out
        assert f"Usage: heapctl {args[0]} " in out.stderr, out
        assert "Missing expected argument" not in out.stderr, out
        if args[-1].startswith("-"):
            assert f"object ids are positive integers; got {args[-1]}" in out.stderr, out
    # A negative option value is not an id: the parser's own message stands.
    out = heapctl(daemon, "graph", "--depth", "-1")
    assert out.returncode == 64 and "object ids" not in out.stderr, out
    # The shell and scripts say the same, naming the line.
    out = heapctl(daemon, "script", input="ping\ninspect -5\n")
    assert out.returncode == 64 and "line 2: Error: object ids are positive integers; got -5" in out.stderr, out


def test_tour_json_is_one_object_per_step(daemon):
    """`tour --json`: each step as a JSON line with the request, its result, its events and the
    explanation, the same steps as the narrated tour (issue 16)."""
    steps = [json.loads(line) for line in ok(daemon, "tour", "--json").splitlines()]
    human = ok(daemon, "tour")
    assert [s["python"] for s in steps] == [l[4:] for l in human.splitlines() if l.startswith(">>> ")]
    first = steps[0]
    assert first["section"] == "1. A list and sys.getrefcount" and first["python"] == "x = []"
    assert first["request"] == {"method": "allocate", "params": {"type": "list"}}
    assert first["result"] == {"id": first["result"]["id"]} and first["events"] == []
    assert first["explanation"] == "refcount 1 (sys.getrefcount(x) would print 2)"
    collect = next(s for s in steps if s["python"] == "gc.collect()")
    assert collect["request"] == {"method": "collect", "params": {"generation": 2}}
    assert collect["result"]["unreachable"] == 2
    assert [e["method"] for e in collect["events"]] == ["finalize", "freed", "gc.stop"]
    assert collect["explanation"] == "2 unreachable objects found and freed; Bob's __del__ ran first"
    assert steps[-1]["section"] == "3. A weak reference with a callback"
    assert [e["method"] for e in steps[-1]["events"]] == ["weakref.callback", "freed"]
    assert not re.search(r"\d\.\d{4,}", human), human
