"""What a session reports: plain data, drawn by the renderers.

The session produces these; batch mode, the REPL and the lesson checker consume
them. Nothing here does I/O or knows how it will be drawn.
"""

from typing import Any, Literal, NamedTuple

from sockrepl.commands import Command
from sockrepl.protocol import Outcome  # a call's result is the worker's reply: one record, in protocol.py

# the words a report is made of: what became of a call, of a signal; how loud a notice is; which view
Phase = Literal["done", "unfinished", "resumed", "lost", "died"]
Effect = Literal["stopped", "already", "continued", "nothing", "ignored", "caught", "discarded"]
NoticeKind = Literal["info", "warn", "error"]
ViewKind = Literal["state", "state-json", "ss", "ls", "help", "man", "timeline", "why", "export"]


class CallEvent(NamedTuple):
    """One strace line: a call done, left unfinished, resumed, or ended by its process's death.

    "lost" ends a call shown unfinished before; "died" is a call whose process died in it.
    """

    process: str
    command: Command
    phase: Phase
    outcome: Outcome | None = None


class ExitEvent(NamedTuple):
    """A process ended: `+++ killed by SIGPIPE +++` or `+++ exited with 0 +++`."""

    process: str
    pid: int
    signal: int | None = None
    code: int | None = None
    at_exit: bool = False


class SignalEvent(NamedTuple):
    """A process stopped or continued (SIGSTOP / SIGCONT), or a signal that changed nothing."""

    process: str
    signal: int
    effect: Effect


class SpawnEvent(NamedTuple):
    """New processes, and which one is now current."""

    processes: tuple[tuple[str, int, int | None], ...]  # name, pid, uid when it is not sockrepl's own
    current: str


class Notice(NamedTuple):
    """A sentence from the tool itself (not a system call)."""

    text: str
    kind: NoticeKind = "info"


class UsageError(NamedTuple):
    """A line that could not be parsed (batch mode exits 2) or was refused, e.g. its process is blocked (exits 1)."""

    message: str
    usage: str | None = None
    hint: str | None = None


class ProcessRow(NamedTuple):
    """One process in the `ps` table."""

    name: str
    pid: int
    uid: int
    status: str  # "idle" | "blocked in accept(3)" | "stopped"
    current: bool


class ProcessTable(NamedTuple):
    """`ps`: the session's processes, one row each."""

    rows: tuple[ProcessRow, ...]


class View(NamedTuple):
    """Output drawn from a snapshot or the registry: state, ss, ls, help, man."""

    kind: ViewKind
    data: Any = None


Event = CallEvent | ExitEvent | SignalEvent | SpawnEvent | Notice | UsageError | ProcessTable | View
