"""The daemon as a process: socket placement and modes, one daemon per socket, stale sockets,
clean shutdown on SIGTERM and on the `shutdown` method (SPEC §2.1, issue #2 §4)."""
import os
import signal
import socket
import stat
import subprocess
import tempfile
import time

from heapd_harness import Client, Daemon, binary


def wait_for_socket(path, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            Client(path).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def test_socket_is_private():
    d = Daemon()
    try:
        assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o600
    finally:
        assert d.stop() == 0


def test_default_socket_under_xdg_runtime_dir_with_private_directory():
    runtime = tempfile.mkdtemp(prefix="heapd-xdg-")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    env.pop("HEAPD_SOCKET", None)
    proc = subprocess.Popen([binary("heapd"), "--memory"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    path = os.path.join(runtime, "heapd", "heapd.sock")
    try:
        assert wait_for_socket(path, proc), proc.stdout.read().decode() if proc.poll() is not None else "no socket"
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        # heapctl finds the same default.
        out = subprocess.run([binary("heapctl"), "ping"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "pong"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert not os.path.exists(path), "the socket file is removed on shutdown"


def test_heapd_socket_environment_variable():
    path = os.path.join(tempfile.mkdtemp(prefix="heapd-env-"), "s.sock")
    env = dict(os.environ, HEAPD_SOCKET=path)
    proc = subprocess.Popen([binary("heapd"), "--memory"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_socket(path, proc)
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_second_daemon_on_the_same_socket_is_refused_and_the_first_keeps_serving():
    d = Daemon()
    try:
        out = subprocess.run([binary("heapd"), "--socket", d.socket, "--memory"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 1
        assert "already serving" in out.stderr + out.stdout
        c = d.client()
        assert c.call("ping") == {"pong": True}
        c.close()
    finally:
        assert d.stop() == 0


def test_stale_socket_file_is_replaced():
    directory = tempfile.mkdtemp(prefix="heapd-stale-")
    os.chmod(directory, 0o700)
    path = os.path.join(directory, "heapd.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)          # a socket file nobody listens on, as a crashed daemon leaves
    stale.close()
    proc = subprocess.Popen([binary("heapd"), "--socket", path, "--memory"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_socket(path, proc)
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_a_regular_file_at_the_socket_path_is_not_removed():
    directory = tempfile.mkdtemp(prefix="heapd-file-")
    os.chmod(directory, 0o700)
    path = os.path.join(directory, "heapd.sock")
    with open(path, "w") as f:
        f.write("precious")
    out = subprocess.run([binary("heapd"), "--socket", path, "--memory"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "not a socket" in out.stderr + out.stdout
    assert open(path).read() == "precious"


def test_world_writable_directory_is_refused():
    directory = tempfile.mkdtemp(prefix="heapd-open-")
    os.chmod(directory, 0o777)
    out = subprocess.run([binary("heapd"), "--socket", os.path.join(directory, "s.sock"), "--memory"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "others can write" in out.stderr + out.stdout


def test_sigterm_with_clients_connected_exits_cleanly():
    d = Daemon()
    clients = [d.client() for _ in range(5)]
    for c in clients:
        c.call("allocate", type="X")
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout=20) == 0
    for c in clients:
        c.close()
    assert not os.path.exists(d.socket)


def test_shutdown_method_replies_then_exits():
    d = Daemon()
    c = d.client()
    assert c.call("shutdown") == {"shutting_down": True}
    assert d.proc.wait(timeout=20) == 0
    c.close()


def test_list_methods_flag():
    out = subprocess.run([binary("heapd"), "--list-methods"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    methods = out.stdout.split()
    for m in ("allocate", "ref", "unref", "set", "get", "weakref", "collect", "inspect", "stats"):
        assert m in methods


def test_usage_error_exits_64():
    out = subprocess.run([binary("heapd"), "--no-such-flag"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 64
