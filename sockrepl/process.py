"""The session's handle on one worker process: start it, talk to it, reap it.

Workers run `worker.py` as a script with `python -I -S` (no site, no user
paths: fast, and importable from anywhere), in their own session so a Ctrl-C
in the terminal reaches sockrepl only, with the scratch directory as cwd.
"""

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import NamedTuple

from sockrepl import procfs
from sockrepl.commands import Command, call_on_fd
from sockrepl.lifecycle import shielded
from sockrepl.protocol import NAMESPACE_READY, Hello, Internal, Outcome, Request, request_frame, take_replies

Reply = Outcome | Hello | Internal
WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))
HELLO_SECONDS = 10.0
READ_SIZE = 1 << 16  # a pipe's capacity; 1 MiB cost an mmap, mremap and munmap a read


class Namespace(NamedTuple):
    """A lesson's private network namespace, kept open by these fds for as long as the session lasts."""

    diag: socket.socket     # a NETLINK_SOCK_DIAG socket made inside: it reports this namespace's sockets
    joins: tuple[int, ...]  # /proc/PID/ns/user (not for root) and /proc/PID/ns/net, for workers to enter

    def close(self) -> None:
        self.diag.close()
        for fd in self.joins:
            with contextlib.suppress(OSError):
                os.close(fd)


def make_namespace() -> Namespace | None:
    """A private network namespace made by a short-lived worker; None where the kernel refuses one.

    The signals that end sockrepl wait the moment it takes (the helper's start, 30-100 ms):
    a `Stop` at any instant of it would leave the helper running, or unreaped.
    """
    with shielded():
        message, fds = _namespace_fds()
    if message != NAMESPACE_READY or len(fds) < 2:
        for fd in fds:
            os.close(fd)
        return None
    return Namespace(socket.socket(fileno=fds[0]), tuple(fds[1:]))


def _namespace_fds() -> tuple[bytes, list[int]]:
    """Run the helper (`worker.py namespace`) and reap it: its answer, and the fds that came with it."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", WORKER_SCRIPT, "namespace", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), start_new_session=True,
        )
        theirs.close()
        ours.settimeout(HELLO_SECONDS)
        try:
            message, fds, _flags, _address = socket.recv_fds(ours, 16, 3)
        except OSError:
            message, fds = b"", []
        finally:
            try:
                popen.wait(timeout=HELLO_SECONDS)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
    return message, fds


class WorkerGone(Exception):
    """The worker's pipe is closed: it died."""


class Worker:
    def __init__(self, name: str, popen: subprocess.Popen[bytes]):
        requests, replies = popen.stdin, popen.stdout
        if requests is None or replies is None:
            raise ValueError("a worker is started with pipes for its stdin and stdout")
        self.name = name
        self.popen = popen
        self.pid = popen.pid
        self.uid = os.getuid()
        self.pending: Command | None = None
        self.reply_fd = replies.fileno()
        self._request_fd = requests.fileno()
        self._pipes = (requests, replies)
        self._buffer = bytearray()
        self._replies: deque[Reply] = deque()
        self._eof = False
        self._unsent = memoryview(b"")  # the rest of a request the pipe did not take yet
        self._stat_fd = procfs.open_stat(self.pid)
        os.set_blocking(self.reply_fd, False)
        os.set_blocking(self._request_fd, False)  # a stopped worker must never block sockrepl

    def send(self, request: Request) -> bool:
        """Write the request as far as the pipe takes it now; True if all of it went.

        Never blocks: a worker stopped from outside (SIGSTOP) stops reading, and a
        multi-MB request fills the pipe. `flush` writes the rest when it can.
        """
        self._unsent = memoryview(request_frame(request))
        return self.flush()

    def flush(self) -> bool:
        """Write what the pipe takes of the request's rest without blocking; True once none is left."""
        try:
            while self._unsent:
                self._unsent = self._unsent[os.write(self._request_fd, self._unsent):]
        except BlockingIOError:
            return False
        except OSError as error:  # EPIPE: it died
            self._unsent = memoryview(b"")
            raise WorkerGone(str(error)) from None
        return True

    @property
    def sending(self) -> bool:
        """Part of a request is still to be written."""
        return bool(self._unsent)

    @property
    def request_fd(self) -> int:
        return self._request_fd

    def wait_writable(self, timeout: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            select.select([], [self._request_fd], [], timeout)

    def wait_readable(self, timeout: float) -> bool:
        if self._replies or self._eof:
            return True
        try:
            readable, _, _ = select.select([self.reply_fd], [], [], timeout)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def take_reply(self, timeout: float) -> tuple[Reply | None, bool]:
        """The next reply if one comes within `timeout`, and whether the worker is gone."""
        if not self._replies and not self._eof and self.wait_readable(timeout):
            self._fill()
        if self._replies:
            return self._replies.popleft(), False
        return None, self._eof

    def _fill(self) -> None:
        while True:
            try:
                chunk = os.read(self.reply_fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
                break
            self._buffer += chunk
            if len(chunk) < READ_SIZE:
                break  # drained for now: anything later makes the pipe readable again
        try:
            replies = take_replies(self._buffer)
        except ValueError as error:  # not a reply: what is left of the stream cannot be trusted
            replies = [Internal(f"unreadable reply ({error})")]
            self._buffer.clear()
        for reply in replies:
            self._replies.append(reply if isinstance(reply, Reply) else Internal(f"unexpected {type(reply).__name__}"))

    @property
    def ready(self) -> bool:
        """A reply or the end of the pipe is waiting to be taken (as `readable` found it)."""
        return bool(self._replies) or self._eof

    def run_state(self) -> str | None:
        """The scheduler's state letter (procfs.run_state), None once it is gone."""
        if self._stat_fd is None:
            return procfs.run_state(self.pid)
        return procfs.run_state_at(self._stat_fd)

    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self, signum: int) -> None:
        if self.popen.returncode is None:
            os.kill(self.pid, signum)

    def wait_exit(self, seconds: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=seconds)

    def waiting_in(self) -> str | None:
        """`accept(3)`: the call this worker was sent and has not answered, as messages name it."""
        if self.pending is None:
            return None
        return call_on_fd(self.pending.name, self.pending.args.get("fd"))

    def reap(self) -> int | None:
        """Collect the exit status (negative: killed by that signal); kill if it lingers."""
        for stream in self._pipes:
            with contextlib.suppress(OSError):
                stream.close()
        if self._stat_fd is not None:
            os.close(self._stat_fd)
            self._stat_fd = None
        try:
            return self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def with_replies(workers: list[Worker]) -> list[Worker]:
    """The workers with a reply or an end of pipe to take: one select for all of them, no wait.

    A worker that dies closes its pipe, so this also finds the dead.
    """
    waiting = [w for w in workers if not w.ready]
    try:
        readable, _, _ = select.select([w.reply_fd for w in waiting], [], [], 0) if waiting else ([], [], [])
    except (OSError, ValueError):
        return list(workers)
    return [w for w in workers if w.ready or w.reply_fd in readable]


def start_workers(names: list[str], cwd: Path, into: dict[str, Worker], uid: int | None = None,
                  gid: int | None = None, fd_limit: int = 0, namespace: Namespace | None = None) -> list[Worker]:
    """Start all at once, then wait for each one's hello (which says it is ready).

    Each is put in `into` (the session's) as it is forked, with the signals that end sockrepl
    blocked: a `Stop` never finds a worker the session's close() does not know. They are
    forked with those signals blocked, so a worker unblocks them first (worker.py).
    If one fails to start, all are killed, reaped, and taken out of `into` again.
    `fd_limit`: the workers' RLIMIT_NOFILE (0: sockrepl's own). `namespace`: the lesson's, which they enter.
    """
    joins = namespace.joins if namespace else ()
    argv = [sys.executable, "-I", "-S", WORKER_SCRIPT, str(os.getpid()), str(fd_limit),
            ",".join(map(str, joins)) or "-"]
    if uid is not None:
        argv += [str(uid), str(gid)]
    workers: list[Worker] = []
    try:
        for name in names:
            with shielded():
                popen = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    cwd=cwd, start_new_session=True, close_fds=True, bufsize=0, pass_fds=joins,
                )
                workers.append(Worker(name, popen))
                into[name] = workers[-1]
        deadline = time.monotonic() + HELLO_SECONDS
        for worker in workers:
            hello, gone = None, False
            while hello is None and not gone and time.monotonic() < deadline:
                hello, gone = worker.take_reply(max(0.0, deadline - time.monotonic()))
            if not isinstance(hello, Hello):
                raise OSError(f"{worker.name} did not start")
            worker.uid = hello.uid
    except BaseException:
        for worker in workers:  # one taken out of `into` only once reaped: a Stop meanwhile leaves it to close()
            if worker.running():
                worker.kill(signal.SIGKILL)
            worker.reap()
            into.pop(worker.name, None)
        raise
    return workers
