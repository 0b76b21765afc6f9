"""heapctl's shell (`heapctl repl`) on a real terminal (tmux) and in a pipe, and `heapctl script`
in the shell's language, against the real daemon (issue 16)."""
import itertools
import json
import os
import shutil
import subprocess
import time

import pytest

from heapd_harness import binary

_counter = itertools.count()


class Terminal:
    """`heapctl repl` in a detached tmux session of a private tmux server: keys in, screen out."""

    def __init__(self, daemon, state, tmp_path, session="shell", subcommand="repl"):
        if not shutil.which("tmux"):
            pytest.skip("tmux is not installed (scripts/ensure-deps.sh test)")
        n = next(_counter)
        self.server = f"heapctl-test-{os.getpid()}-{n}"
        self.status_file = tmp_path / f"status-{n}"
        command = (f"XDG_STATE_HOME={state} {binary('heapctl')} --socket {daemon.socket} --session {session} {subcommand};"
                   f" echo $? > {self.status_file}")
        self.tmux("new-session", "-d", "-x", "200", "-y", "50", "-s", "t", command)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, timeout=20)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def line(self, text):
        """Types a line (literally) and Enter."""
        self.tmux("send-keys", "-t", "t", "-l", text)
        self.keys("Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def wait_for(self, predicate, timeout=15):
        """Polls the screen until `predicate` (a string it must contain, or a function) holds."""
        check = predicate if callable(predicate) else (lambda s: predicate in s)
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if check(s):
                return s
            time.sleep(0.05)
        raise AssertionError(f"waited for {predicate!r}; the screen:\n{self.screen()}")

    def wait_for_exit(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.status_file.exists() and self.status_file.read_text().strip():
                return int(self.status_file.read_text())
            time.sleep(0.05)
        raise AssertionError("the shell did not exit; the screen:\n" + self.screen())

    def close(self):
        self.tmux("kill-server")


@pytest.fixture
def terminal(daemon, tmp_path):
    opened = []

    def open_terminal(state=None, session="shell", subcommand="repl"):
        t = Terminal(daemon, state or tmp_path / "state", tmp_path, session, subcommand)
        opened.append(t)  # first, so that its tmux server goes even if the shell never starts
        t.wait_for("heapd>")
        return t

    yield open_terminal
    for t in opened:
        t.close()


def prompt_lines(screen):
    return [l for l in screen.splitlines() if l.startswith("heapd>")]


def test_shell_runs_commands_binds_variables_and_survives_errors(daemon, terminal):
    t = terminal()
    t.line("""p = allocate Person --data '{"name":"Ada"}'""")
    screen = t.wait_for(lambda s: len(prompt_lines(s)) >= 2)
    p = screen.split("""--data '{"name":"Ada"}'\n""")[1].splitlines()[0].strip()
    c = daemon.client()
    assert c.call("get", id=int(p))["data"] == {"name": "Ada"}
    c.close()
    t.line("get $p")
    t.wait_for(f"object {p}: Person")
    t.line("get $nobody")
    t.wait_for("undefined variable $nobody")
    t.line("get 999999")
    t.wait_for("object 999999 does not exist")
    t.line("get")
    t.wait_for("Usage: heapctl get")
    t.line("help allocate")
    t.wait_for("USAGE: heapctl allocate")
    t.line("q = allocate Person")
    t.line("set $p partner=$q")
    t.wait_for("partner -> ")
    t.keys("C-d")
    assert t.wait_for_exit() == 0


def test_tab_completes_commands_methods_ids_fields_and_variables(daemon, terminal):
    t = terminal()
    t.keys("allo", "Tab")
    # The command completes, and its usage (from the argument parser) shows above the line.
    t.wait_for(lambda s: "heapd> allocate" in s and "allocate <type> [<fields> ...]" in s)
    t.keys("C-u")
    t.keys("call snapshot.li", "Tab")
    t.wait_for("heapd> call snapshot.list")
    t.keys("C-u")
    t.line("a = allocate Node")
    t.line("b = allocate Node")
    t.line("set $a partner=$b")
    t.wait_for("partner -> ")
    # Field names of the object being set.
    t.keys("set $a par", "Tab")
    t.wait_for("heapd> set $a partner=")
    t.keys("C-u")
    # Live ids (and variables) after a command taking an id: a second Tab lists them.
    c = daemon.client()
    ids = [o["id"] for o in c.call("objects", limit=100)["objects"]]
    c.close()
    assert len(ids) == 2, ids
    t.keys("inspect ", "Tab")
    t.wait_for("inspect <id>")
    t.keys("Tab")
    expected = sorted([str(i) for i in ids] + ["$a", "$b"])
    t.wait_for(lambda s: any(sorted(l.split()) == expected for l in s.splitlines()))
    t.keys("C-u")
    t.keys("get $", "Tab", "Tab")
    t.wait_for(lambda s: any(l.split() == ["$a", "$b"] for l in s.splitlines()))


def test_history_is_kept_across_two_shells(daemon, terminal, tmp_path):
    state = tmp_path / "xdg-state"
    first = terminal(state)
    first.line("allocate Remembered --size 7")
    first.wait_for(lambda s: len(prompt_lines(s)) >= 2)
    first.keys("C-d")
    assert first.wait_for_exit() == 0
    assert "Remembered" in (state / "heapd" / "heapctl_history").read_text()
    second = terminal(state)
    second.keys("Up")
    second.wait_for("heapd> allocate Remembered --size 7")


def test_ctrl_c_drops_the_line_and_the_shell_goes_on(daemon, terminal):
    t = terminal()
    t.keys("allocate Dropped")
    t.wait_for("heapd> allocate Dropped")
    t.keys("C-c")
    t.wait_for(lambda s: prompt_lines(s)[-1].strip() == "heapd>")
    t.line("ping")
    t.wait_for("pong")
    c = daemon.client()
    assert c.call("objects", type="Dropped")["objects"] == []
    c.close()
    t.line("exit")
    assert t.wait_for_exit() == 0


def test_ctrl_c_stops_watch_and_the_shell_goes_on(daemon, terminal):
    """`watch` runs until ctrl-C: in the shell it runs in the foreground, as a shell's job."""
    t = terminal()
    t.line("watch")
    t.wait_for("watching ")
    c = daemon.client()
    c.call("allocate", type="Seen", finalizer=True)
    c.close()  # the anonymous connection's object dies: finalize, then freed
    t.wait_for("finalize  Seen")
    t.keys("C-c")
    t.wait_for(lambda s: prompt_lines(s)[-1].strip() == "heapd>" and len(prompt_lines(s)) >= 2)
    t.line("ping")
    t.wait_for("pong")
    t.keys("C-d")
    assert t.wait_for_exit() == 0


def test_bare_heapctl_on_a_terminal_opens_the_shell(daemon, terminal):
    t = terminal(session="bare", subcommand="")
    t.line("x = allocate Bare")
    t.line("get $x")
    t.wait_for(": Bare  size 0")
    t.line("quit")
    assert t.wait_for_exit() == 0
    # In a pipe, bare heapctl is not a shell: it prints the help.
    out = subprocess.run([binary("heapctl")], capture_output=True, text=True, input="ping\n", timeout=60)
    assert "SUBCOMMANDS:" in out.stdout and "pong" not in out.stdout, out


def heapctl(daemon, *args, input=None, session="test"):
    return subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", session],
                          capture_output=True, text=True, input=input, timeout=60)


def test_the_shell_in_a_pipe_prints_exactly_the_outputs(daemon):
    out = heapctl(daemon, "repl", input="allocate T\nget 1\n")
    assert out.returncode == 0, out.stderr
    get = heapctl(daemon, "get", "1").stdout
    assert out.stdout == "1\n" + get, out.stdout
    # A failing line is reported on stderr; the others run; the status is the failure's.
    out = heapctl(daemon, "repl", input="get 424242\nx = allocate U\nget $x\n")
    assert out.returncode == 1 and "does not exist" in out.stderr, out
    assert out.stdout.splitlines()[1].startswith("object 2: U"), out.stdout
    # `shell` is the same command; `exit` ends the input early.
    out = heapctl(daemon, "shell", input="# a comment\nping\nexit\nping\n")
    assert out.returncode == 0 and out.stdout == "pong\n", out


def test_lines_are_split_like_a_posix_shell(daemon):
    """Quotes and backslashes as sh has them; `$x` expands in single quotes too (JSON goes
    there), `\\$` is a literal `$`."""
    lines = [
        "x = allocate 'Two Words'",
        """y = allocate Quoted --data "{\\"of\\": $x, \\"s\\": \\"a  b\\", \\"t\\": \\"\\$x\\"}" --size 3""",
        """z = allocate Plain --data '{"of": $x, "apply": "$0"}'""",
        r"w = allocate Back\ slash",
        "get $y",
    ]
    out = heapctl(daemon, "repl", input="\n".join(lines) + "\n")
    assert out.returncode == 0, out
    x, y, z, w = (int(v) for v in out.stdout.splitlines()[:4])
    c = daemon.client()
    assert c.call("get", id=x)["type"] == "Two Words"
    assert c.call("get", id=y)["data"] == {"of": x, "s": "a  b", "t": "$x"}
    assert c.call("get", id=z)["data"] == {"of": x, "apply": "$0"}
    assert c.call("get", id=w)["type"] == "Back slash"
    c.close()
    out = heapctl(daemon, "repl", input="allocate 'unterminated\n")
    assert out.returncode == 64 and "unterminated ' quote" in out.stderr, out
    out = heapctl(daemon, "repl", input="""allocate T --data '{"of": $nobody}'\n""")
    assert out.returncode == 64 and "undefined variable $nobody" in out.stderr, out


def test_script_speaks_heapctl_with_variables_and_names_the_failing_line(daemon):
    script = "\n".join([
        "# two people",
        """a = allocate Person --data '{"name":"A"}'""",
        "b = allocate Person",
        "set $a partner=$b",
        "get $a",
        "unref 999999",
        "ping",
    ])
    out = heapctl(daemon, "script", input=script)
    assert out.returncode == 1, out
    lines = out.stdout.splitlines()
    a, b = int(lines[0]), int(lines[1])
    assert f"partner -> {b}" in out.stdout and "pong" not in out.stdout, out.stdout
    assert "line 6:" in out.stderr and "999999" in out.stderr, out.stderr
    # The objects of the lines before the failure stay in the session.
    c = daemon.client()
    assert c.call("get", id=a)["fields"] == {"partner": b}
    c.close()
    # A usage error exits 64 and names its line; --keep-going runs the rest.
    out = heapctl(daemon, "script", "--keep-going", input="allocate\nget $nope\nping\n")
    assert out.returncode == 64 and out.stdout == "pong\n", out
    assert "line 1:" in out.stderr and "line 2: undefined variable $nope" in out.stderr, out.stderr


def test_script_json_prints_every_result_as_json(daemon):
    out = heapctl(daemon, "--json", "script", input="v = allocate J\nget $v\n")
    assert out.returncode == 0, out
    first, second = out.stdout.split("\n}\n")[:2]
    assert json.loads(first + "}")["id"] == json.loads(second + "}")["id"], out.stdout
    # A group's subcommand and a bare group: --json was once appended to each line, which `gc`
    # does not take.
    out = heapctl(daemon, "--json", "script", input="gc get\n")
    assert out.returncode == 0 and json.loads(out.stdout)["threshold"] == [700, 10, 10], out
    out = heapctl(daemon, "--json", "script", input="gc\n")
    assert out.returncode == 0 and "SUBCOMMANDS:" in out.stdout, out


def test_script_still_takes_raw_calls(daemon):
    out = heapctl(daemon, "script", input='n = allocate {"type":"Node"}\nget {"id":$n}\nstats\n')
    assert out.returncode == 0, out
    lines = out.stdout.splitlines()
    assert lines[0].startswith("n = allocate: {") and '"type":"Node"' in lines[1], lines
    assert any(l.startswith("objects:") for l in lines[2:]), lines


def test_script_atomic_is_all_or_nothing(daemon, tmp_path):
    def count():
        c = daemon.client()
        n = c.call("stats")["objects"]
        c.close()
        return n

    before = count()
    # The session's reference to $a goes at line 3 (b's field keeps it alive): line 4 fails.
    failing = "a = allocate Node\nb = allocate Node next=$a\nunref $a\nunref $a\nping\n"
    out = heapctl(daemon, "script", "--atomic", input=failing.replace("ping\n", ""))
    assert out.returncode == 1 and "line 4:" in out.stderr, out
    assert count() == before
    path = tmp_path / "ok.heapctl"
    path.write_text("a = allocate Node\nb = allocate Node next=$a\nunref $a\nset $a back=$b\n")
    out = heapctl(daemon, "script", "--atomic", str(path))
    assert out.returncode == 0 and "0 failed" in out.stdout, out
    assert count() == before + 2
    a = int(out.stdout.splitlines()[0].split(": ")[1])
    c = daemon.client()
    node = c.call("get", id=a)
    c.close()
    assert set(node["fields"]) == {"back"} and node["refcount"] == 1, node
    # A line apply cannot express is a usage error naming it; nothing ran.
    out = heapctl(daemon, "script", "--atomic", input="allocate Node\ncollect\n")
    assert out.returncode == 64 and "line 2:" in out.stderr, out
    assert count() == before + 2


def test_json_shell_prints_json_and_group_commands_still_parse(daemon, terminal):
    """`heapctl --json repl`: every line prints JSON without saying --json; a bare group command
    (`gc`) shows its help instead of failing on a --json it does not take (issue 16)."""
    t = terminal(session="json", subcommand="--json repl")
    t.line("x = allocate JSONShell")
    screen = t.wait_for(lambda s: len(prompt_lines(s)) >= 2)
    reply = screen.split("x = allocate JSONShell\n")[1].split("heapd>")[0]
    x = json.loads(reply)["id"]  # the result as --json prints it
    t.line("get $x")
    t.wait_for('"type": "JSONShell"')
    t.line("gc")
    t.wait_for("SUBCOMMANDS:")
    assert "Unknown option" not in t.screen()
    t.line("gc get")
    t.wait_for('"threshold"')
    t.keys("C-d")
    assert t.wait_for_exit() == 0


def test_argument_hints_show_live_as_you_type(daemon, terminal):
    """As redis-cli: after a command and a space, the arguments still to come appear after the
    cursor (dimmed) without pressing Tab, and go once typed over."""
    t = terminal()
    t.keys("-l", "inspect ")
    t.wait_for(lambda s: prompt_lines(s)[-1].rstrip() == "heapd> inspect <id>")
    t.keys("-l", "1")
    t.wait_for(lambda s: prompt_lines(s)[-1].rstrip() == "heapd> inspect 1")
    t.keys("C-u")
    t.keys("-l", "allocate Person ")
    t.wait_for(lambda s: prompt_lines(s)[-1].rstrip()
               == "heapd> allocate Person [<fields> ...] [--data <data>] [--size <size>] [--finalizer] "
               "[--site <site>]")
    t.keys("-l", "--", "--finalizer ")  # `--`: tmux would read the text as its own option
    t.wait_for(lambda s: prompt_lines(s)[-1].rstrip()
               == "heapd> allocate Person --finalizer [<fields> ...] [--data <data>] [--size <size>] "
               "[--site <site>]")
    t.keys("C-u")
    t.keys("-l", "gc ")
    t.wait_for(lambda s: prompt_lines(s)[-1].startswith("heapd> gc get|set|"))
    # The line runs as typed: the hint was never part of it.
    t.keys("C-u")
    t.keys("-l", "ping ")
    t.keys("Enter")
    t.wait_for("pong")
    t.keys("C-d")
    assert t.wait_for_exit() == 0
