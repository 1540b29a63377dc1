"""A session: a learner's processes (processes.py), and what it records and shows of them.

`run_line` turns a line into events. Transcripts are deterministic: a call
is "unfinished" only when the kernel shows its process asleep in a syscall,
and after every command each blocked process is checked — if the kernel made
it runnable, its result is awaited and printed before the next command.

Everything here is synchronous and bounded in time: `sockrepl run` and the lesson
checker call it directly; the REPL's engine (engine.py) drives it from one thread
and watches `watch_fds()` for results that arrive on their own.
"""

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from sockrepl import callsite
from sockrepl.calllog import CallLog, Record, created_fds
from sockrepl.commands import (
    FRONT_END_COMMANDS,
    IN_A_PROCESS,
    LESSON_COMMANDS,
    REGISTRY,
    SCREEN_COMMANDS,
    Command,
)
from sockrepl.events import (
    CallEvent,
    Event,
    ExitEvent,
    Notice,
    UsageError,
    View,
)
from sockrepl.holders import Holders
from sockrepl.limits import Limits
from sockrepl.parser import ParseError, parse
from sockrepl.process import Worker, with_replies
from sockrepl.processes import Processes
from sockrepl.state import ExportJob, Snapshot, TimelineView, Typed, file_listing, take_snapshot
from sockrepl.why import explain_call, target

DEFAULT_EXPORT = {"lesson": "sockrepl-lesson.md", "mermaid": "sockrepl-session.mmd", "html": "sockrepl-session.html",
                  "svg": "sockrepl-session.svg", "markdown": "sockrepl-session.md"}
UNTYPED = FRONT_END_COMMANDS | {"export"}  # not part of what an export replays
NO_SITE = callsite.Site(None, None)


class Recording(NamedTuple):
    """What the session reads from the kernel at each command only for a later command to use (#16:
    `sockrepl run` reads only what its script can ask for)."""

    ties: bool = True  # the sockets each call touched (callsite.py): how timeline, export and why tie calls
    states: bool = False  # a snapshot after each command: the `?` checks of `export lesson`


RECALLS = {"timeline": Recording(ties=True), "why": Recording(ties=True),
           "export": Recording(ties=True, states=True)}  # the commands that read them: one place says which
EVERYTHING = Recording(ties=True, states=True)


def recording_for(names: Iterable[str]) -> Recording:
    """What a run of these commands can ask for: the union of what each one reads."""
    asked = [RECALLS[name] for name in names if name in RECALLS]
    return Recording(any(r.ties for r in asked), any(r.states for r in asked))


class Session(Processes):
    """One learner's processes and files: everything it starts, it also ends (`close`)."""

    def __init__(self, interactive: bool = False, limits: Limits | None = None,
                 private_network: bool = False) -> None:
        """`interactive`: a terminal's Ctrl-C can interrupt the current process (hints say so).

        `limits`: what a lesson's session may pin in kernel memory (limits.LESSON); None for a plain one.
        `private_network`: a lesson's processes get a network namespace of their own where the
        kernel allows it (`namespace` None where it does not), so that its abstract @names are its own.
        """
        super().__init__(interactive, limits, private_network)
        self.log = CallLog()  # what the session did: `history` reads it
        self.started_in = Path.cwd()  # exports write relative paths here, not in the scratch dir
        self.recording = Recording()  # a front end that knows what will be asked keeps less (batch.py)
        self._sites: dict[str, callsite.Site] = {}  # a process's call in flight: the sockets it named
        self._awaiting_state = False  # the next snapshot is the state right after the last typed command
        self.typed: list[Typed] = []
        self.holders = Holders()  # who outside the session holds a peer: read from /proc once per socket

    def run_line(self, line: str) -> list[Event]:
        try:
            command = parse(line)
        except ParseError as error:
            return [refusal(error)]
        if command is None:
            return []
        return self.execute(command)

    def execute(self, command: Command) -> list[Event]:
        """Carry out a command as the registry says it runs: a call in its worker, else its handler."""
        runs = REGISTRY[command.name].runs
        events: list[Event]
        process = self._runs_in(command)
        if runs == "call":
            events = self._syscall(command)
        elif runs in ("session", "process"):
            events = HANDLERS[command.name](self, command)
        else:
            events = _front_end_only(command)
        self._record(events, by_user=command.name == "kill")
        events += self.poll()
        if command.name not in UNTYPED:
            self.typed.append(Typed(command, process, tuple(events), None))
            self._awaiting_state = True
            if self.recording.states:
                self.snapshot()
        return events

    def _runs_in(self, command: Command) -> str | None:
        """The process a command acts in when it is a call (or waits for one); None for session commands."""
        if REGISTRY[command.name].runs not in IN_A_PROCESS:
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
            self.typed[-1] = last._replace(unasked=last.unasked + tuple(events))
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
            site = self._sites.get(event.process, NO_SITE)
            if event.phase != "unfinished":
                self._sites.pop(event.process, None)
            sockets: tuple[int, ...] = ()
            accepted = None
            if self.recording.ties and worker:
                sockets, accepted = callsite.at_return(pid, event.command, created_fds(event.command, event.outcome),
                                                       self.net)
            self.log.add_call(event, pid, sockets, site.inode, accepted or site.peer, site.queued)

    def _run_call(self, worker: Worker, command: Command) -> list[Event]:
        """The call's sockets are read before it runs (after a close its fd names none), when a timeline may tie it."""
        if self.recording.ties:
            self._sites[worker.name] = callsite.at_start(worker.pid, command, self.scratch, self.net)
        return super()._run_call(worker, command)

    def snapshot(self, also: tuple[str, ...] = ()) -> Snapshot:
        """The kernel's state now; the first one after a typed command is kept with it (exports check it)."""
        snapshot = take_snapshot(self, also)
        if self._awaiting_state:
            self.typed[-1] = self.typed[-1]._replace(snapshot=snapshot)
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


HANDLERS: dict[str, Callable[[Session, Command], list[Event]]] = {
    "spawn": Session._do_spawn, "use": Session._do_use, "ps": Session._do_ps, "kill": Session._do_kill,
    "interrupt": Session._do_interrupt, "wait": Session._do_wait, "state": Session._do_state,
    "ss": Session._do_ss, "ls": Session._do_ls, "timeline": Session._do_timeline, "export": Session._do_export,
    "step": Session._do_step, "why": Session._do_why, "help": Session._do_help, "man": Session._do_man,
}  # the session's and process commands' handlers (tests/test_dispatch.py: one for each, and no other)


def refusal(error: ParseError) -> UsageError:
    """A malformed line, as the event that shows it."""
    return UsageError(error.message, error.usage, error.hint)


def _front_end_only(command: Command) -> list[Event]:
    """A lesson or screen command that reached a session with no interactive front end (a script)."""
    if command.name in LESSON_COMMANDS:
        return [Notice("lesson commands work in the interactive mode: sockrepl lesson NAME", "warn")]
    if command.name in SCREEN_COMMANDS:
        return [Notice(f"{command.name}: there is no screen here (it works in the interactive mode)", "warn")]
    return []  # exit: the front end that read it leaves
