"""The floors: the same work without sockrepl, to measure sockrepl against.

- `FloorWorker`: a plain `python -I -S` child answering JSON lines over a pipe,
  each call done with the socket module (the syscall + IPC floor of a worker).
- `PipeChild`: a forked child doing the same socket calls, driven by one byte
  each way over pipes (the least a command sent to another process can cost).
"""

import contextlib
import fcntl
import json
import os
import socket
import subprocess

from benchmarks.common import CYCLE, PYTHON

FLOOR_WORKER = r"""
import fcntl, json, os, socket, sys
socks = {}
def keep(s):
    socks[s.fileno()] = s
    return s.fileno()
def call(r):
    op = r["op"]
    if op == "socket":
        return keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    if op == "socketpair":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        return [keep(a), keep(b)]
    fd = r["fd"]
    s = socks[fd]
    if op == "getsockname":
        return s.getsockname()
    if op == "getsockopt":
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
    if op == "fcntl":
        return fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    if op == "close":
        socks.pop(fd).close()
        return 0
    if op == "bind":
        s.bind(r["addr"])
        return 0
    if op == "listen":
        s.listen(r["backlog"])
        return 0
    if op == "accept":
        return keep(s.accept()[0])
    if op == "connect":
        s.connect(r["addr"])
        return 0
    raise ValueError(op)
stdin = sys.stdin.buffer
os.write(1, b'{"hello":1}\n')
while True:
    line = stdin.readline()
    if not line:
        break
    try:
        reply = {"ret": call(json.loads(line))}
    except OSError as e:
        reply = {"ret": -1, "errno": e.errno}
    os.write(1, (json.dumps(reply, separators=(",", ":")) + "\n").encode())
"""


class FloorWorker:
    """The floor's worker process: blocking pipe I/O, no polling, no /proc."""

    def __init__(self, cwd: str):
        self.proc = subprocess.Popen([PYTHON, "-I", "-S", "-c", FLOOR_WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=cwd, bufsize=0)
        self.out = self.proc.stdout
        self.fd = self.proc.stdin.fileno()
        if b"hello" not in self.out.readline():
            raise RuntimeError("floor worker did not start")

    def send(self, request: dict) -> None:
        os.write(self.fd, (json.dumps(request, separators=(",", ":")) + "\n").encode())

    def reply(self) -> dict:
        return json.loads(self.out.readline())

    def call(self, request: dict) -> dict:
        self.send(request)
        reply = self.reply()
        if reply["ret"] == -1:
            raise RuntimeError(f"floor worker: {request} failed with errno {reply.get('errno')}")
        return reply

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=5)
        self.out.close()


def _serve_cycle(requests: int, replies: int) -> None:
    """In the forked child: byte i means "do CYCLE[i]"; one byte back when done."""
    socks: dict[int, socket.socket] = {}

    def keep(s: socket.socket) -> None:
        socks[s.fileno()] = s

    while True:
        byte = os.read(requests, 1)
        if not byte:
            return
        op = CYCLE[byte[0]][1]
        name, fd = op["op"], op.get("fd")
        if name == "socket":
            keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        elif name == "socketpair":
            for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM):
                keep(s)
        elif name == "getsockname":
            socks[fd].getsockname()
        elif name == "getsockopt":
            socks[fd].getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        elif name == "fcntl":
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        elif name == "close":
            socks.pop(fd).close()
        os.write(replies, b"k")


class PipeChild:
    """A forked child that runs CYCLE's calls on request: one byte there, one byte back."""

    def __init__(self):
        requests_r, self.requests = os.pipe()
        self.replies, replies_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: close what is not its own so fd 3 is its first socket's
            code = 0
            try:
                for fd in range(3, 1024):
                    if fd not in (requests_r, replies_w):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                requests = fcntl.fcntl(requests_r, fcntl.F_DUPFD, 900)
                replies = fcntl.fcntl(replies_w, fcntl.F_DUPFD, 901)
                os.close(requests_r)
                os.close(replies_w)
                _serve_cycle(requests, replies)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(requests_r)
        os.close(replies_w)

    def call(self, index: int) -> None:
        os.write(self.requests, bytes((index,)))
        if os.read(self.replies, 1) != b"k":
            raise RuntimeError(f"pipe floor: {CYCLE[index][0]!r} failed in the child")

    def close(self) -> None:
        os.close(self.requests)
        os.close(self.replies)
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            raise RuntimeError(f"pipe floor child exited with status {status}")
