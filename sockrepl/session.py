"""A session: named worker processes, the scratch directory, and what happens to calls.

`run_line` turns a line into events. Transcripts are deterministic: a call
is "unfinished" only when the kernel shows its process asleep in a syscall,
and after every command each blocked process is checked — if the kernel made
it runnable, its result is awaited and printed before the next command.

Everything here is synchronous and bounded in time; the REPL drives it from one
thread and watches `watch_fds()` for results that arrive on their own.
"""

import errno
import os
import pwd
import shutil
import signal
import stat
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from sockrepl import callsite, kernel, procfs
from sockrepl import constants as C
from sockrepl.calllog import CallLog, Record, created_fds
from sockrepl.commands import LESSON_COMMANDS, MAX_PROCESSES, Command, ParseError, parse
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
    View,
)
from sockrepl.holders import Holders
from sockrepl.lifecycle import ENDING_SIGNALS
from sockrepl.limits import SENDING, Limits
from sockrepl.process import Namespace, Reply, Worker, WorkerGone, make_namespace, start_workers, with_replies
from sockrepl.protocol import Internal, Request
from sockrepl.state import ExportJob, Snapshot, TimelineView, Typed, file_listing, take_snapshot
from sockrepl.why import explain_call, target

SETTLE_SECONDS = 2.0
IDLE_SYSCALLS = {("read", 0), ("write", 1)}  # the worker waiting for, or answering, the session
STOPS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
HARMLESS = {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH}  # ignored by default; every other default kills
CLEANUP_SHIELD = set(ENDING_SIGNALS)
SCREEN_COMMANDS = {"panel", "clear"}  # the interactive front end's; a script has no screen
SESSION_COMMANDS = {"spawn", "use", "ps", "kill", "state", "ss", "ls", "help", "man", "exit", "step",
                    "timeline", "export", *LESSON_COMMANDS, *SCREEN_COMMANDS}
DEFAULT_EXPORT = {"lesson": "sockrepl-lesson.md", "mermaid": "sockrepl-session.mmd", "html": "sockrepl-session.html",
                  "svg": "sockrepl-session.svg", "markdown": "sockrepl-session.md"}
UNTYPED = {"export", "exit", *LESSON_COMMANDS, *SCREEN_COMMANDS}  # not part of what an export replays


def blocked_in(task: procfs.TaskState | None) -> tuple[str, int] | None:
    """(syscall, first argument) when the process sleeps in a call of the user's."""
    if task is None or task.state != "S" or task.syscall is None:
        return None
    call = (procfs.syscall_name(task.syscall), task.args[0] if task.args else -1)
    return None if call in IDLE_SYSCALLS else call


class Session:
    """One learner's processes and files: everything it starts, it also ends (`close`)."""

    def __init__(self, interactive: bool = False, limits: Limits | None = None,
                 private_network: bool = False) -> None:
        """`interactive`: a terminal's Ctrl-C can interrupt the current process (hints say so).

        `limits`: what a lesson's session may pin in kernel memory (limits.LESSON); None for a plain one.
        `private_network`: a lesson's processes get a network namespace of their own where the
        kernel allows it (`namespace` None where it does not), so that its abstract @names are its own.
        """
        self.interactive = interactive
        self.limits = limits
        self.namespace: Namespace | None = make_namespace() if private_network else None
        self.sent = 0  # bytes handed to send/write/sendto, counted against limits.bytes_sent
        self.scratch = Path(tempfile.mkdtemp(prefix="sockrepl-"))
        self.workers: dict[str, Worker] = {}
        self.departed: dict[str, str] = {}
        self.current: str | None = None
        self.created_files: dict[str, tuple[int, int]] = {}  # absolute path -> (dev, inode) of the file bound
        self.log = CallLog()  # what the session did: `history` reads it
        self.started_in = Path.cwd()  # exports write relative paths here, not in the scratch dir
        self.keep_states = False  # batch mode: a snapshot after each command, for `export lesson`'s checks
        self._awaiting_state = False  # the next snapshot is the state right after the last typed command
        self.typed: list[Typed] = []
        self._sites: dict[str, callsite.Site] = {}  # a process's call in flight: the sockets it named
        self.holders = Holders()  # who outside the session holds a peer: read from /proc once per socket
        self.cancel_wait = threading.Event()  # set by an interactive front end's Ctrl-C during `wait`
        self.closed = False

    # ---- entry points ---------------------------------------------------

    def _unblock_hint(self, name: str) -> str:
        """Ctrl-C reaches only the current process, and only at a terminal; a script can wait."""
        if self.interactive and name == self.current:
            return f"Ctrl-C (or interrupt {name}) ends it with EINTR, or run the command in another process"
        if self.interactive:
            return f"interrupt {name} ends it with EINTR, or run the command in another process"
        return f"wait {name} waits for it, interrupt {name} ends it with EINTR"

    def run_line(self, line: str) -> list[Event]:
        try:
            command = parse(line)
        except ParseError as error:
            return [UsageError(error.message, error.usage, error.hint)]
        if command is None:
            return []
        return self.execute(command)

    def execute(self, command: Command) -> list[Event]:
        handler = getattr(self, f"_do_{command.name}", None)
        events: list[Event]
        process = self._runs_in(command)
        if command.name in LESSON_COMMANDS:
            events = [Notice("lesson commands work in the interactive mode: sockrepl lesson NAME", "warn")]
        elif command.name in SCREEN_COMMANDS:
            events = [Notice(f"{command.name}: there is no screen here (it works in the interactive mode)", "warn")]
        elif handler:
            events = handler(command)
        else:
            events = self._syscall(command)
        self._record(events, by_user=command.name == "kill")
        events += self.poll()
        if command.name not in UNTYPED:
            self.typed.append(Typed(command, process, tuple(events), None))
            self._awaiting_state = True
            if self.keep_states:
                self.snapshot()
        return events

    def _runs_in(self, command: Command) -> str | None:
        """The process a command acts in when it is a call (or waits for one); None for session commands."""
        if command.name in SESSION_COMMANDS:
            return None
        return command.args.get("name") or command.process or self.current

    def poll(self) -> list[Event]:
        """Results of blocked calls that the kernel released, and processes that died.

        Several calls released by one command are printed in process order, so the
        transcript is the same run after run (their queue order shows in the panel).
        """
        events: list[Event] = []
        ready = with_replies(list(self.workers.values()))
        for worker in list(self.workers.values()):
            if worker.pending:
                events += self._settle(worker)
            elif worker in ready:  # a reply no call waits for, or the end of the pipe: it died
                events += self._check_alive(worker)
        if events:
            self._awaiting_state = False
        self._record(events)
        return events

    def poll_unasked(self) -> list[Event]:
        """`poll` while no command runs: what comes is kept with the last command typed, for the exports."""
        events = self.poll()
        if events and self.typed:
            last = self.typed[-1]
            self.typed[-1] = replace(last, unasked=last.unasked + tuple(events))
        return events

    @property
    def history(self) -> tuple[Record, ...]:
        """The session's own record of its calls and exits, oldest first (calllog.py)."""
        return self.log.records

    def _record(self, events: list[Event], by_user: bool = False) -> None:
        """Log the calls and exits of one command or poll, with the sockets each call touched."""
        for event in events:
            if isinstance(event, ExitEvent):
                if not event.at_exit:
                    self.log.add_exit(event, by_user)
                continue
            if not isinstance(event, CallEvent):
                continue
            worker = self.workers.get(event.process)
            pid = worker.pid if worker else next(
                (e.pid for e in events if isinstance(e, ExitEvent) and e.process == event.process), 0)
            fds = created_fds(event.command, event.outcome) if worker else ()
            sockets = tuple(procfs.socket_inode(pid, fd) or 0 for fd in fds)
            site = self._sites.get(event.process, callsite.Site(None, None))
            if event.phase != "unfinished":
                self._sites.pop(event.process, None)
            peer = site.peer
            if event.command.name == "accept" and sockets and sockets[0]:
                peer = callsite.accepted_peer(sockets[0], self.net)
            self.log.add_call(event, pid, sockets, site.inode, peer, site.queued)

    def watch_fds(self) -> list[int]:
        return [w.reply_fd for w in self.workers.values()]

    def sending_fds(self) -> list[int]:
        """Request pipes with a request still to write (its worker was stopped while reading it)."""
        return [w.request_fd for w in self.workers.values() if w.sending]

    def close(self) -> list[Event]:
        """Kill and reap every worker, remove the session's socket files and scratch dir.

        The signals that end sockrepl wait until it is done (they are blocked, then delivered):
        one that came now would cut the cleanup short, e.g. between two lessons of `--check`.
        """
        if self.closed:
            return []
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, CLEANUP_SHIELD)
        try:
            return self._close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _close(self) -> list[Event]:
        self.closed = True
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
        _remove_socket_files(self.created_files)
        shutil.rmtree(self.scratch, ignore_errors=True)
        return events

    # ---- processes -------------------------------------------------------

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
            started = start_workers(names, self.scratch, uid, gid, self.limits.fds_per_process if self.limits else 0,
                                    self.namespace)
        except OSError as error:
            reason = C.errno_text(error.errno) if error.errno else str(error)
            hint = ("the system refuses this user more processes (ulimit -u): kill some, or raise the limit"
                    if error.errno == errno.EAGAIN else "close some fds or kill some processes first")
            return [*events, UsageError(f"could not start a process: {reason}", hint=hint)]
        for worker in started:
            self.workers[worker.name] = worker
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
        deadline = time.monotonic() + command.args["seconds"]
        while time.monotonic() < deadline and not self.cancel_wait.is_set():
            if worker.sending:  # stopped while it read its request: the rest first, once it runs
                try:
                    if not self._push(worker, min(0.05, max(0.0, deadline - time.monotonic()))):
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
        """Send a signal and wait for what the kernel makes of it, so the transcript is deterministic."""
        masks = procfs.signal_masks(worker.pid)
        bit = 1 << (signum - 1)
        ignored = masks is not None and masks.ignored & bit
        caught = masks is not None and masks.caught & bit
        was_stopped = procfs.is_stopped(worker.run_state())
        try:
            worker.kill(signum)
        except ProcessLookupError:
            return self._check_alive(worker)
        if ignored or (signum in HARMLESS and not caught):
            return [SignalEvent(worker.name, signum, "ignored")]
        if caught:
            return [] if worker.pending else [SignalEvent(worker.name, signum, "caught")]
        if signum in STOPS:
            self._wait_task(worker, lambda state: procfs.is_stopped(state) or (
                state in ("S", "D") and not self._pending_signal(worker, bit)))
            stopped = procfs.is_stopped(worker.run_state())
            return [SignalEvent(worker.name, signum, "stopped" if stopped else "discarded")]
        if signum == signal.SIGCONT:
            self._wait_task(worker, lambda state: not procfs.is_stopped(state))
            return [SignalEvent(worker.name, signum, "continued" if was_stopped else "nothing")]
        worker.wait_exit(SETTLE_SECONDS)
        return self._check_alive(worker)

    @staticmethod
    def _pending_signal(worker: Worker, bit: int) -> bool:
        masks = procfs.signal_masks(worker.pid)
        return masks is not None and bool(masks.pending & bit)

    def _wait_task(self, worker: Worker, condition) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            state = worker.run_state()
            if state is None or condition(state):
                return
            time.sleep(0.0005)

    # ---- system calls ----------------------------------------------------

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
        bounded = self.limits.refusal(command, self.sent) if self.limits else None
        if bounded:
            return [UsageError(bounded[0], hint=bounded[1])]
        if command.name in SENDING:
            self.sent += len(command.args["data"])
        if command.name == "chmod" and _is_dir(command.args["path"], self.scratch):
            return [UsageError("chmod on the scratch directory itself is refused: it stays private (0700), "
                               "and sockrepl must be able to remove it when you leave",
                               hint="chmod a socket file in it instead, e.g. chmod srv.sock 0500")]
        self._sites[worker.name] = callsite.at_start(worker.pid, command, self.scratch, self.net)
        return self._run_call(worker, command)

    def _run_call(self, worker: Worker, command: Command) -> list[Event]:
        """Send the request, never blocking on the pipe, then wait for the call as usual.

        A worker stopped from outside while it reads a large request keeps the rest
        for later: the call is unfinished, and the rest goes when it continues.
        """
        try:
            if not worker.send(_request(command)) and not self._push(worker, SETTLE_SECONDS):
                worker.pending = command
                return [CallEvent(worker.name, command, "unfinished"),
                        Notice(f"{worker.name} was stopped while it read this request: the rest is sent when it "
                               f"continues (kill {worker.name} SIGCONT)", "warn")]
        except WorkerGone:
            return self._check_alive(worker)
        return self._await(worker, command)

    def _push(self, worker: Worker, seconds: float) -> bool:
        """Write the rest of a request while the worker reads it: True once all is written.

        Gives up at once if the kernel shows the worker stopped, or after `seconds`.
        """
        deadline = time.monotonic() + seconds
        while not worker.flush():
            if procfs.is_stopped(worker.run_state()) or time.monotonic() >= deadline:
                return False
            worker.wait_writable(min(0.01, max(0.0, deadline - time.monotonic())))
        return True

    def _await(self, worker: Worker, command: Command) -> list[Event]:
        """Until the call replies, dies, or the kernel shows it asleep in the call."""
        delay = 0.001
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            reply, gone = worker.take_reply(delay)
            if reply is not None:
                return self._done(worker, command, reply, "done")
            if gone:
                return [CallEvent(worker.name, command, "died"), *self._reap(worker)]
            state = worker.run_state()
            if self._asleep_in_call(worker, state):
                worker.pending = command
                return [CallEvent(worker.name, command, "unfinished")]
            if time.monotonic() > deadline:
                worker.pending = command
                return [CallEvent(worker.name, command, "unfinished"),
                        Notice(f"{worker.name} has not returned after {SETTLE_SECONDS:g} s, yet the kernel does not "
                               f"show it asleep in a call (state {state or '?'}): it may be busy", "warn")]
            delay = min(delay * 2, 0.002)

    def _settle(self, worker: Worker) -> list[Event]:
        """A blocked call: still asleep, or released (then wait for its result)."""
        command = worker.pending
        if command is None:
            return []
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                if worker.sending and not self._push(worker, max(0.0, deadline - time.monotonic())):
                    return []
            except WorkerGone:
                return self._reap(worker)
            reply, gone = worker.take_reply(0)
            if reply is not None:
                worker.pending = None
                return self._done(worker, command, reply, "resumed")
            if gone:
                return self._reap(worker)
            if self._asleep_in_call(worker, worker.run_state()) or time.monotonic() > deadline:
                return []
            worker.wait_readable(0.001)

    @staticmethod
    def _asleep_in_call(worker: Worker, state: str | None) -> bool:
        """Stopped, or asleep in a call of the user's: the call will not return by itself now.

        The state letter comes from a kept /proc/PID/stat; the syscall is read only when it says asleep.
        """
        return procfs.is_stopped(state) or (state == "S" and blocked_in(procfs.task_state(worker.pid)) is not None)

    def _done(self, worker: Worker, command: Command, reply: Reply, phase: Phase) -> list[Event]:
        if not isinstance(reply, Outcome):
            error = reply.error if isinstance(reply, Internal) else f"a second hello {reply}"
            return [Notice(f"internal error in {worker.name}: {error}", "error")]
        if command.name == "bind" and not reply.failed:
            self._remember_file(command.args["addr"])
        return [CallEvent(worker.name, command, phase, reply)]

    def _remember_file(self, path: bytes) -> None:
        """The socket file a bind made: the kernel reads sun_path up to its first NUL."""
        path = path.split(b"\0", 1)[0] if not path.startswith(b"\0") else b""
        if not path:
            return
        full = os.path.join(self.scratch, os.fsdecode(path))
        try:
            st = os.lstat(full)
        except OSError:
            return
        self.created_files[full] = (st.st_dev, st.st_ino)

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

    # ---- inspection ------------------------------------------------------

    @property
    def net(self) -> kernel.NetView:
        """Where this session's sockets are read: the host's namespace, or the lesson's own."""
        if self.namespace is None:
            return kernel.HOST
        inside = next((w.pid for w in self.workers.values()), None)
        return kernel.NetView(self.namespace.diag, f"/proc/{inside}/net/unix" if inside else None)

    def snapshot(self, also: tuple[str, ...] = ()) -> Snapshot:
        """The kernel's state now; the first one after a typed command is kept with it (exports check it)."""
        snapshot = take_snapshot(self, also)
        if self._awaiting_state:
            self.typed[-1] = replace(self.typed[-1], snapshot=snapshot)
            self._awaiting_state = False
        return snapshot

    def _do_state(self, command: Command) -> list[Event]:
        return [View("state-json" if command.args.get("json") else "state", self.snapshot())]

    def _do_ss(self, command: Command) -> list[Event]:
        return [View("ss", self.snapshot())]

    def _do_ls(self, command: Command) -> list[Event]:
        return [View("ls", file_listing(self.snapshot()))]

    def _do_timeline(self, command: Command) -> list[Event]:
        return [View("timeline", TimelineView(self.history, self.snapshot(), command.args.get("count")))]

    def _do_export(self, command: Command) -> list[Event]:
        """The file is written by the front end (renderers draw it); here, only what to write and where."""
        path = command.args["path"] or DEFAULT_EXPORT[command.args["format"]]
        target = self.started_in / path
        return [View("export", ExportJob(command.args["format"], str(target), bool(command.args["force"]),
                                         tuple(self.typed), self.history, self.snapshot()))]

    def _do_step(self, command: Command) -> list[Event]:
        return []  # a mark in the typed log: `export lesson` starts a step here

    def _do_why(self, command: Command) -> list[Event]:
        """Read-only: the reasons for a process's last call, from its record and the kernel now."""
        name = command.args["name"] or command.process or self.current
        if name is None:
            return [Notice("no process yet, so no call to explain: spawn NAME starts one")]
        if name not in self.workers and not any(r.process == name for r in self.history):
            problem = self._missing(name)
            return [problem] if problem else []
        fd = command.args["fd"]
        record = target(self.history, name, fd)
        if record is None:
            on = "" if fd is None else f" on fd {fd}"
            return [Notice(f"{name} has made no call{on} yet: nothing to explain")]
        address = record.command.args.get("addr")
        also: tuple[str, ...] = ()
        if isinstance(address, bytes) and address and not address.startswith(b"\0"):
            also = (os.path.join(self.scratch, os.fsdecode(address.split(b"\0", 1)[0])),)
        snapshot = self.snapshot(also)
        return [View("why", explain_call(record, snapshot, self.history))]

    def _do_help(self, command: Command) -> list[Event]:
        return [View("help", command.args.get("topic"))]

    def _do_man(self, command: Command) -> list[Event]:
        return [View("man", command.args["topic"])]

    def _do_exit(self, command: Command) -> list[Event]:
        return []


def _is_dir(path: bytes, directory: Path) -> bool:
    """True when `path`, relative to `directory` as a worker's cwd is, names that directory itself."""
    return os.path.realpath(os.path.join(os.fsencode(directory), path)) == os.path.realpath(os.fsencode(directory))


def _request(command: Command) -> Request:
    return Request(command.name, command.args)


def _remove_socket_files(created: dict[str, tuple[int, int]]) -> None:
    """Only the socket files this session bound, never one someone put there since.

    Inode numbers get reused, so a file counts as ours only if it is a socket file with
    the same (dev, inode) and, our processes being gone, no live socket is bound to it.
    """
    if not created:
        return
    try:
        in_use = {sock.vfs for sock in kernel.read_unix_sockets().sockets.values() if sock.vfs}
    except OSError:
        return
    for path, identity in created.items():
        try:
            st = os.lstat(path)
            if (st.st_dev, st.st_ino) == identity and stat.S_ISSOCK(st.st_mode) and identity not in in_use:
                os.unlink(path)
        except OSError:
            pass
