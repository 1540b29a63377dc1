"""The lecture's C echo server and client talk to sockets held by sockrepl processes, both ways."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until

SOURCES = Path(__file__).with_name("c")
pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")


def compile_listing(name: str, tmp_path: Path, path: str) -> str:
    binary = tmp_path / name
    subprocess.run(["cc", "-O1", "-o", str(binary), str(SOURCES / f"{name}.c"), f'-DSRV_SOCK_PATH="{path}"'],
                   check=True, capture_output=True)
    return str(binary)


class Script:
    """`sockrepl run -` fed one line at a time, reading the transcript as it comes."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "sockrepl", "run", "-"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started = self.proc.stdout.readline()  # a run starts as the REPL does
        assert started.startswith("spawned p1 (pid ")
        self.p1 = re.search(r"pid (\d+)", started).group(1)

    def send(self, line: str, answers: int = 1) -> list[str]:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return [self.proc.stdout.readline().rstrip("\n") for _ in range(answers)]

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(10)


def test_sockrepl_client_talks_to_the_c_echo_server(tmp_path):
    path = str(tmp_path / "ux_socket")
    server = subprocess.Popen([compile_listing("stream-server", tmp_path, path)], stdout=subprocess.PIPE)
    try:
        wait_until(lambda: os.path.exists(path), what="the C server to bind")
        script = Script()
        script.send("spawn client")
        script.send("socket AF_UNIX SOCK_STREAM")
        assert script.send(f"connect 3 {path}") == [
            f'[client] connect(3, {{sa_family=AF_UNIX, sun_path="{path}"}}, {2 + len(path)}) = 0']
        assert script.send('write 3 "hello from sockrepl\\n"') == [
            '[client] write(3, "hello from sockrepl\\n", 20) = 20']
        assert server.stdout.readline() == b"hello from sockrepl\n"
        assert script.send("close 3") == ["[client] close(3) = 0"]
        assert script.close() == 0
    finally:
        server.kill()
        server.wait()


def test_c_client_talks_to_a_sockrepl_server(tmp_path):
    path = str(tmp_path / "srv.sock")
    script = Script()
    script.send("spawn server")
    script.send("socket AF_UNIX SOCK_STREAM")
    script.send(f"bind 3 {path}")
    script.send("listen 3 5")
    assert script.send("accept 3") == ["[server] accept(3, NULL, NULL <unfinished ...>"]
    client = subprocess.run([compile_listing("stream-client", tmp_path, path)], input=b"hello from C\n",
                            capture_output=True, timeout=10)
    assert client.returncode == 0, client.stderr
    # the kernel released accept while the C client ran: it is reported before the next command
    assert script.send("wait server", 2) == ["[server] <... accept resumed>) = 4",
                                             "server is not blocked (its last call has returned)"]
    assert script.send("read 4") == ['[server] read(4, "hello from C\\n", 1024) = 13']
    assert script.send("read 4", 2) == ['[server] read(4, "", 1024) = 0',
                                        "    ↳ 0 bytes = end of file: the other side hung up (or shut down its "
                                        "writing side)"]
    assert script.close() == 0
    assert not os.path.exists(path)



def test_the_panel_names_the_c_server_as_ss_p_does(tmp_path):
    """A peer held by no sockrepl process: its command and pid, read from /proc/PID/fd as `ss -p` reads them."""
    path = str(tmp_path / "ux_socket")
    server = subprocess.Popen([compile_listing("stream-server", tmp_path, "ux_socket")], stdout=subprocess.PIPE,
                              cwd=tmp_path)  # bound as "ux_socket": the kernel keeps the name as given
    try:
        wait_until(lambda: os.path.exists(path), what="the C server to bind")
        script = Script()
        (spawned,) = script.send("spawn client")
        script.send("socket AF_UNIX SOCK_STREAM")
        script.send(f"connect 3 {path}")
        script.send('write 3 "x"')
        assert server.stdout.read(1) == b"x"  # it has accepted: it holds its end of the call
        pid = re.search(r"pid (\d+)", spawned).group(1)
        assert script.send("state", 4) == [
            f"  p1  pid {script.p1}  idle  (no sockets)",
            f"▸ client  pid {pid}  idle",
            f"    fd 3 STREAM active CONNECTED ↔ ux_socket (stream-server, pid {server.pid})  ☎ in a call",
            "socket files: none"]
        assert script.close() == 0
    finally:
        server.kill()
        server.wait()
