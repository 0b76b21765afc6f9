"""heapctl's leak-hunting commands against the real daemon: `why`, `cycles`, `retained`,
`histogram`, human tables and --json (SPEC §5, §6)."""
import json
import subprocess

from heapd_harness import binary


def ok(daemon, *args, session="test"):
    out = subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", session],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def person_cycle(daemon):
    alice = ok(daemon, "allocate", "Person", "--data", '{"name":"Alice"}').strip()
    bob = ok(daemon, "allocate", "Person", "--data", '{"name":"Bob"}', "--finalizer").strip()
    ok(daemon, "set", alice, f"partner={bob}")
    ok(daemon, "set", bob, f"partner={alice}")
    return alice, bob


def test_why_names_the_holder_and_the_fields(daemon):
    alice, bob = person_cycle(daemon)
    ok(daemon, "root", "set", "couple", alice)
    ok(daemon, "unref", bob)
    lines = ok(daemon, "why", bob).splitlines()
    assert lines[0].split() == ["DISTANCE", "HELD", "BY", "PATH"]
    assert lines[1].split() == ["1", "session", "test", alice, ".partner", "→", bob]
    assert lines[2].split() == ["1", "root", "couple", alice, ".partner", "→", bob]
    assert lines[1].index("session") == lines[2].index("root"), "columns are aligned"
    got = json.loads(ok(daemon, "why", bob, "--limit", "1", "--json"))
    assert got == {"id": int(bob), "reachable": True, "paths": [
        {"root": {"kind": "session", "name": "test", "session": got["paths"][0]["root"]["session"]},
         "ids": [int(alice), int(bob)], "fields": ["partner"]}]}
    ok(daemon, "unref", alice)
    ok(daemon, "root", "set", "couple", "null")
    assert "not reachable from any root" in ok(daemon, "why", bob)


def test_cycles_retained_and_histogram_tables(daemon):
    alice, bob = person_cycle(daemon)
    lst = ok(daemon, "allocate", "list", f"0={alice}", "--size", "2048").strip()
    ok(daemon, "unref", alice)
    ok(daemon, "unref", bob)
    cycles = ok(daemon, "cycles").splitlines()
    assert cycles[0].split() == ["OBJECTS", "SIZE", "IDS"]
    assert cycles[1].split() == ["2", "30", "B", f"{alice},", bob]
    assert ok(daemon, "cycles", lst).strip() == f"object {lst} is in no cycle"
    top = ok(daemon, "retained").splitlines()
    assert top[0].split() == ["ID", "TYPE", "RETAINED", "OBJECTS", "IDOM"]
    assert top[1].split() == [lst, "list", "2.0", "KiB", "3", "(roots)"]
    assert top[2].split() == [alice, "Person", "30", "B", "2", lst]
    assert "retains 2 objects, 30 B; immediate dominator: object " + lst in ok(daemon, "retained", alice)
    assert json.loads(ok(daemon, "retained", bob, "--json"))["idom"] == int(alice)
    hist = ok(daemon, "histogram").splitlines()
    assert [line.split() for line in hist] == [["COUNT", "SIZE", "TYPE"], ["1", "2.0", "KiB", "list"],
                                               ["2", "30", "B", "Person"], ["3", "2.0", "KiB", "(total)"]]
    assert json.loads(ok(daemon, "histogram", "--held-by", "test", "--json")) == {
        "types": [{"type": "list", "count": 1, "bytes": 2048}]}
    assert json.loads(ok(daemon, "histogram", "--generation", "permanent", "--json")) == {"types": []}


def test_leaks_reports_retainers_garbage_cycles_and_growth(daemon):
    """`heapctl leaks`: MAT's leak suspects in one report (issue 12)."""
    cache = ok(daemon, "allocate", "Cache", "--size", "64").strip()
    ok(daemon, "snapshot", "save", "base")
    entry = ok(daemon, "allocate", "Entry", "--data", '"xyz"').strip()
    ok(daemon, "set", cache, f"a={entry}")
    ok(daemon, "unref", entry)
    alice, bob = person_cycle(daemon)
    ok(daemon, "unref", alice)
    ok(daemon, "unref", bob)                        # the pair is now garbage, kept by its cycle
    sections = ok(daemon, "leaks", "--since", "base").split("\n\n")
    retainers = sections[0].splitlines()
    assert retainers[0] == "Biggest retainers (what each alone keeps alive):"
    assert retainers[2].split() == [cache, "Cache", "69", "B", "2"], retainers
    assert sections[1].splitlines()[0] == \
        "Unreachable: 2 objects (30 B), kept only by cycles until the next collection:"
    assert sections[1].splitlines()[2].split() == ["2", "30", "B", f"{min(alice, bob, key=int)},",
                                                   max(alice, bob, key=int)]
    growth = sections[2].splitlines()
    assert growth[0] == "Growing since base:"
    assert [line.split()[:2] for line in growth[2:]] == [["Person", "+2"], ["Entry", "+1"]], growth
    got = json.loads(ok(daemon, "leaks", "--json"))
    assert set(got) == {"retainers", "unreachable"} and got["unreachable"]["count"] == 2
    ok(daemon, "collect")
    assert "Unreachable: nothing" in ok(daemon, "leaks")
