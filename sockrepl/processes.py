"""A session's processes: start them by name, signal them, run a call in one and wait for it.

The base of `Session` (session.py), which adds what a session records and shows. A call
is sent to its worker and awaited until it returns or the kernel shows it asleep in the
call (settle.py); a signal's effect is read back from the kernel (delivery.py). Each
method returns the events it caused; none prints or reads the terminal.
"""

import errno
import os
import pwd
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from sockrepl import constants as C
from sockrepl import kernel, procfs
from sockrepl.commands import MAX_PROCESSES, SENDS, Command
from sockrepl.delivery import deliver
from sockrepl.events import (
    CallEvent,
    Event,
    ExitEvent,
    Notice,
    Outcome,
    Phase,
    ProcessRow,
    ProcessTable,
    SignalEvent,
    SpawnEvent,
    UsageError,
)
from sockrepl.lifecycle import close_on_stop, shielded
from sockrepl.limits import Limits
from sockrepl.process import Namespace, Reply, Worker, WorkerGone, make_namespace, start_workers
from sockrepl.protocol import Internal, Request
from sockrepl.settle import SETTLE_SECONDS, await_call, push, released
from sockrepl.socket_files import Created, remember_bound, remove_created


class Processes:
    """Named worker processes in a scratch directory (their cwd), and the calls they make."""

    def __init__(self, interactive: bool, limits: Limits | None, private_network: bool) -> None:
        self.interactive = interactive
        self.limits = limits
        self.sent = 0  # bytes handed to send/write/sendto, counted against limits.bytes_sent
        self.waited = 0.0  # seconds `wait` lines asked for, counted against limits.wait_seconds
        self.workers: dict[str, Worker] = {}
        self.departed: dict[str, str] = {}
        self.current: str | None = None
        self.created_files: Created = {}  # the socket files its binds made (socket_files.py)
        self.cancel_wait = threading.Event()  # set by an interactive front end's Ctrl-C during `wait`
        self.closed = False
        # A signal's Stop may come between any two lines: the namespace (fds that die with sockrepl) is
        # made first; the scratch dir is made and registered for a signal's last cleanup with signals blocked.
        self.namespace: Namespace | None = make_namespace() if private_network else None
        with shielded():
            self.scratch = Path(tempfile.mkdtemp(prefix="sockrepl-"))
            close_on_stop(self)

    def close(self) -> list[Event]:
        """Kill and reap every worker, remove the session's socket files and scratch dir.

        The signals that end sockrepl wait until it is done (they are blocked, then delivered):
        one that came now would cut the cleanup short, e.g. between two lessons of `--check`.
        """
        if self.closed:
            return []
        with shielded():
            self.closed = True
            return self._end_all()

    def _end_all(self) -> list[Event]:
        """Kill and reap every worker (a blocked call ends `= ?`), remove the socket files and the scratch dir."""
        events: list[Event] = []
        for worker in self.workers.values():
            if worker.pending:
                events.append(CallEvent(worker.name, worker.pending, "lost"))
                events.append(ExitEvent(worker.name, worker.pid, signal.SIGKILL, at_exit=True))
            worker.kill(signal.SIGKILL)
        for worker in self.workers.values():
            worker.reap()
        self.workers.clear()
        if self.namespace:
            self.namespace.close()
        remove_created(self.created_files)
        shutil.rmtree(self.scratch, ignore_errors=True)
        return events

    def _unblock_hint(self, name: str) -> str:
        """Ctrl-C reaches only the current process, and only at a terminal; a script can wait."""
        if self.interactive and name == self.current:
            return f"Ctrl-C (or interrupt {name}) ends it with EINTR, or run the command in another process"
        if self.interactive:
            return f"interrupt {name} ends it with EINTR, or run the command in another process"
        return f"wait {name} waits for it, interrupt {name} ends it with EINTR"

    def watch_fds(self) -> list[int]:
        return [w.reply_fd for w in self.workers.values()]

    def sending_fds(self) -> list[int]:
        """Request pipes with a request still to write (its worker was stopped while reading it)."""
        return [w.request_fd for w in self.workers.values() if w.sending]

    def _do_spawn(self, command: Command) -> list[Event]:
        names = command.args["names"]
        taken = [n for n in names if n in self.workers]
        if taken:
            return [UsageError(f"{taken[0]} already exists (pid {self.workers[taken[0]].pid})",
                               hint="kill it first, or pick another name")]
        if len(self.workers) + len(names) > MAX_PROCESSES:
            return [UsageError(f"a session holds at most {MAX_PROCESSES} processes "
                               f"({len(self.workers)} running)", hint="kill some first")]
        try:
            uid, gid, note = self._spawn_identity(command.args)
        except ValueError as error:
            return [UsageError(str(error), "spawn [--user USER] [--unprivileged] NAME...")]
        events: list[Event] = [Notice(note)] if note else []
        try:
            started = start_workers(names, self.scratch, self.workers, uid, gid,
                                    self.limits.fds_per_process if self.limits else 0, self.namespace)
        except OSError as error:
            reason = C.errno_text(error.errno) if error.errno else str(error)
            hint = ("the system refuses this user more processes (ulimit -u): kill some, or raise the limit"
                    if error.errno == errno.EAGAIN else "close some fds or kill some processes first")
            return [*events, UsageError(f"could not start a process: {reason}", hint=hint)]
        for worker in started:
            self.departed.pop(worker.name, None)
        self.current = names[0]
        rows = tuple((w.name, w.pid, None if w.uid == os.getuid() else w.uid) for w in started)
        return [*events, SpawnEvent(rows, self.current)]

    def _spawn_identity(self, args: dict) -> tuple[int | None, int | None, str | None]:
        user = args.get("user")
        if args.get("unprivileged") and not user:
            if os.geteuid() != 0:
                return None, None, None
            user = "nobody"
        if not user:
            return None, None, None
        if os.geteuid() != 0:
            raise ValueError("--user needs sockrepl to run as root (it switches the new process's user)")
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise ValueError(f"no user named {user!r}") from None
        if entry.pw_uid == 0:
            return None, None, None
        os.chmod(self.scratch, 0o711)
        return entry.pw_uid, entry.pw_gid, (
            f"the scratch directory is now searchable by others (0711), so user {user!r} can reach its socket files")

    def _do_use(self, command: Command) -> list[Event]:
        name = command.args["name"]
        problem = self._missing(name)
        if problem:
            return [problem]
        self.current = name
        return []

    def _do_ps(self, command: Command) -> list[Event]:
        rows = tuple(ProcessRow(w.name, w.pid, w.uid, self._status(w), w.name == self.current)
                     for w in self.workers.values())
        return [ProcessTable(rows)]

    def _status(self, worker: Worker) -> str:
        if procfs.is_stopped(worker.run_state()):
            return "stopped"
        if worker.pending:
            return f"blocked in {worker.waiting_in()}"
        return "idle"

    def _do_kill(self, command: Command) -> list[Event]:
        worker = self._worker(command.args["name"])
        if isinstance(worker, UsageError):
            return [worker]
        return self._signal(worker, command.args["signal"])

    def _blocked_worker(self, command: Command, otherwise: str) -> Worker | list[Event]:
        """The process a command names (or the current one), which must be blocked in a call."""
        worker = self._worker(command.args["name"] or command.process or self.current)
        if isinstance(worker, UsageError):
            return [worker]
        if not worker.pending:
            return [Notice(f"{worker.name} is not blocked{otherwise}", "info")]
        return worker

    def _do_interrupt(self, command: Command) -> list[Event]:
        worker = self._blocked_worker(command, ": there is no call to interrupt")
        return worker if isinstance(worker, list) else self._signal(worker, signal.SIGINT)

    def _do_wait(self, command: Command) -> list[Event]:
        worker = self._blocked_worker(command, " (its last call has returned)")
        if isinstance(worker, list):
            return worker
        bounded = self.limits.refusal(command, self.sent, self.waited) if self.limits else None
        if bounded:
            return [UsageError(bounded[0], hint=bounded[1])]
        self.waited += command.args["seconds"]
        deadline = time.monotonic() + command.args["seconds"]
        while time.monotonic() < deadline and not self.cancel_wait.is_set():
            if worker.sending:  # stopped while it read its request: the rest first, once it runs
                try:
                    if not push(worker, min(0.05, max(0.0, deadline - time.monotonic()))):
                        self.cancel_wait.wait(0.05)
                except WorkerGone:
                    return self._reap(worker)
                continue
            if worker.wait_readable(min(0.05, max(0.0, deadline - time.monotonic()))):
                return self._settle(worker)
        if self.cancel_wait.is_set():
            return [Notice(f"wait interrupted: {worker.name} is still blocked in {worker.waiting_in()}", "warn")]
        return [Notice(f"{worker.name} is still blocked in {worker.waiting_in()} "
                       f"after {command.args['seconds']:g} s", "warn")]

    def _signal(self, worker: Worker, signum: int) -> list[Event]:
        """Send a signal and report what the kernel made of it (delivery.py), so the transcript is deterministic."""
        effect = deliver(worker, signum)
        if effect is None:
            return self._check_alive(worker)
        if effect == "caught" and worker.pending:
            return []  # the call it interrupted returns EINTR: that is the line to show
        return [SignalEvent(worker.name, signum, effect)]

    def _syscall(self, command: Command) -> list[Event]:
        worker = self._worker(command.args.get("name") or command.process or self.current)
        if isinstance(worker, UsageError):
            return [worker]
        if worker.pending:
            return [UsageError(
                f"{worker.name} is blocked in {worker.waiting_in()}: "
                "it cannot run another call until that one returns",
                hint=self._unblock_hint(worker.name))]
        if procfs.is_stopped(worker.run_state()):
            return [UsageError(f"{worker.name} is stopped", hint=f"kill {worker.name} SIGCONT resumes it")]
        bounded = self.limits.refusal(command, self.sent, self.waited) if self.limits else None
        if bounded:
            return [UsageError(bounded[0], hint=bounded[1])]
        if command.name in SENDS:
            self.sent += len(command.args["data"])
        if command.name == "chmod" and _is_dir(command.args["path"], self.scratch):
            return [UsageError("chmod on the scratch directory itself is refused: it stays private (0700), "
                               "and sockrepl must be able to remove it when you leave",
                               hint="chmod a socket file in it instead, e.g. chmod srv.sock 0500")]
        return self._run_call(worker, command)

    def _run_call(self, worker: Worker, command: Command) -> list[Event]:
        """Send the request, never blocking on the pipe, then wait for the call as usual.

        A worker stopped from outside while it reads a large request keeps the rest
        for later: the call is unfinished, and the rest goes when it continues.
        """
        try:
            if not worker.send(_request(command)) and not push(worker, SETTLE_SECONDS):
                worker.pending = command
                return [CallEvent(worker.name, command, "unfinished"),
                        Notice(f"{worker.name} was stopped while it read this request: the rest is sent when it "
                               f"continues (kill {worker.name} SIGCONT)", "warn")]
        except WorkerGone:
            return self._check_alive(worker)
        return self._await(worker, command)

    def _await(self, worker: Worker, command: Command) -> list[Event]:
        """Until the call replies, dies, or the kernel shows it asleep in the call (settle.py)."""
        ending, reply, state = await_call(worker)
        if reply is not None:
            return self._done(worker, command, reply, "done")
        if ending == "died":
            return [CallEvent(worker.name, command, "died"), *self._reap(worker)]
        worker.pending = command
        if ending == "asleep":
            return [CallEvent(worker.name, command, "unfinished")]
        return [CallEvent(worker.name, command, "unfinished"),
                Notice(f"{worker.name} has not returned after {SETTLE_SECONDS:g} s, yet the kernel does not "
                       f"show it asleep in a call (state {state or '?'}): it may be busy", "warn")]

    def _settle(self, worker: Worker) -> list[Event]:
        """A blocked call: still asleep, or released (then its result)."""
        command = worker.pending
        if command is None:
            return []
        ending, reply = released(worker)
        if reply is not None:
            worker.pending = None
            return self._done(worker, command, reply, "resumed")
        return self._reap(worker) if ending == "died" else []

    def _done(self, worker: Worker, command: Command, reply: Reply, phase: Phase) -> list[Event]:
        if not isinstance(reply, Outcome):
            error = reply.error if isinstance(reply, Internal) else f"a second hello {reply}"
            return [Notice(f"internal error in {worker.name}: {error}", "error")]
        if command.name == "bind" and not reply.failed:
            remember_bound(self.created_files, self.scratch, command.args["addr"])
        return [CallEvent(worker.name, command, phase, reply)]

    def _check_alive(self, worker: Worker) -> list[Event]:
        _, gone = worker.take_reply(0)
        return self._reap(worker) if gone or not worker.running() else []

    def _reap(self, worker: Worker) -> list[Event]:
        """The process is gone: its blocked call ends with it (`= ?`), then its exit status."""
        status = worker.reap()
        self.workers.pop(worker.name, None)
        sig = -status if status is not None and status < 0 else None
        how = f"killed by {C.signal_name(sig)}" if sig else f"exited with {status}"
        self.departed[worker.name] = how
        events: list[Event] = []
        if worker.pending:
            events.append(CallEvent(worker.name, worker.pending, "lost"))
            worker.pending = None
        return [*events, ExitEvent(worker.name, worker.pid, sig, None if sig else status)]

    def _worker(self, name: str | None) -> Worker | UsageError:
        if name is None:
            return UsageError("no process yet", hint="spawn NAME starts one, e.g. spawn server client")
        return self._missing(name) or self.workers[name]

    def _missing(self, name: str) -> UsageError | None:
        if name in self.workers:
            return None
        if name in self.departed:
            return UsageError(f"{name} is gone ({self.departed[name]})", hint=f"spawn {name} starts a new one")
        known = ", ".join(self.workers) or "none yet"
        return UsageError(f"no process named {name!r} (processes: {known})", hint=f"spawn {name}")

    @property
    def net(self) -> kernel.NetView:
        """Where this session's sockets are read: the host's namespace, or the lesson's own."""
        if self.namespace is None:
            return kernel.HOST
        inside = next((w.pid for w in self.workers.values()), None)
        return kernel.NetView(self.namespace.diag, f"/proc/{inside}/net/unix" if inside else None)

def _is_dir(path: bytes, directory: Path) -> bool:
    """True when `path`, relative to `directory` as a worker's cwd is, names that directory itself."""
    return os.path.realpath(os.path.join(os.fsencode(directory), path)) == os.path.realpath(os.fsencode(directory))


def _request(command: Command) -> Request:
    return Request(command.name, command.args)
