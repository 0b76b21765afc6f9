"""Only the daemon's own user (and root) may connect; `--allow-group` admits one group
(SPEC §3). Checked with SO_PEERCRED on every accept, besides the socket's mode."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from heapd_harness import Daemon

HERE = os.path.dirname(os.path.abspath(__file__))

CONNECT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-failed", e.errno); sys.exit(0)
try:
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\\n')
except OSError:
    pass   # a refused peer may find the connection already closed: its error line is waiting
data = b""
while not data.endswith(b"\\n"):
    try:
        chunk = s.recv(4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(data.decode().strip() or "closed")
"""

needs_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="needs root and setpriv to act as another user")


def run_as(args, path):
    out = subprocess.run(["setpriv", *args, sys.executable, "-c", CONNECT, path],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def world_reachable_daemon(*args):
    base = tempfile.mkdtemp(prefix="heapd-access-")
    os.chmod(base, 0o755)   # other users may traverse to the socket's directory
    return Daemon(*args, directory=base)


@needs_root
def test_another_user_is_refused():
    d = world_reachable_daemon()
    try:
        out = run_as(["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"], d.socket)
        # The socket's mode (0600) already keeps `nobody` out; either way no reply is a result.
        assert out.startswith("connect-failed") or '"code":-32011' in out, out
        assert '"result"' not in out
    finally:
        assert d.stop() == 0


@needs_root
def test_allowed_group_is_admitted_and_peer_credentials_are_checked():
    d = world_reachable_daemon("--allow-group", "nogroup")
    try:
        assert oct(os.stat(d.socket).st_mode & 0o777) == "0o660"
        # nobody, primary group nogroup: admitted.
        ok = run_as(["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"], d.socket)
        assert '"result":{"pong":true}' in ok, ok
        # nogroup only as a supplementary group (what `usermod -aG` gives): the file mode lets
        # it connect, SO_PEERCRED reports primary gid `daemon`, and the daemon finds nogroup
        # among the peer's supplementary groups (/proc/PID/status): admitted.
        supplementary = run_as(["--reuid", "nobody", "--regid", "daemon", "--groups", "nogroup"], d.socket)
        assert '"result":{"pong":true}' in supplementary, supplementary
        # In neither group: the socket's mode keeps it out, or the daemon refuses it.
        outsider = run_as(["--reuid", "nobody", "--regid", "daemon", "--clear-groups"], d.socket)
        assert outsider.startswith("connect-failed") or '"code":-32011' in outsider, outsider
        assert '"result"' not in outsider
        # The daemon's own user is still served.
        c = d.client()
        assert c.call("ping") == {"pong": True}
        c.close()
    finally:
        assert d.stop() == 0
