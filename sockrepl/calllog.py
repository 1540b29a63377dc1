"""The session's own record of what happened: one append-only log of calls and exits.

The kernel tells what *is* (queues, peers, who sleeps where); only this log tells
what *was done*: "c3 sent 2 bytes on fd 3", "server closed fd 4 at #12". `why`
reads it to name the cause of a state, a timeline can replay it. Entries are
frozen and numbered by a sequence that only grows; nothing is ever removed or
changed, and readers get a tuple, never the list itself. No I/O here.
"""

from typing import NamedTuple

from sockrepl.commands import SENDS, Command
from sockrepl.events import CallEvent, ExitEvent, Outcome, Phase
from sockrepl.protocol import Pair


class CallRecord(NamedTuple):
    """One strace line as data: a call done, left unfinished, resumed, or ended by its process's death.

    `phase` is CallEvent's: "done" | "unfinished" | "resumed" | "lost" | "died".
    `sockets` are the inodes of the sockets the call created (socket, socketpair,
    accept), as /proc/PID/fd showed them when it returned: the kernel's names
    for them, which outlive the fd numbers (those are reused).
    `inode` is the socket the call's fd named when the call started; `peer` the socket
    at the other end, as the kernel said then: for connect and sendto the socket the
    address led to, for accept the caller's socket the new one is connected to, else
    the peer of `inode`. `queued`: a listener's pending callers when the call started
    (a close of the listener resets them). A timeline ties calls by these, never by order.
    """

    seq: int
    process: str
    pid: int
    fd: int | None
    command: Command
    phase: Phase
    outcome: Outcome | None
    sockets: tuple[int, ...] = ()
    inode: int | None = None
    peer: int | None = None
    queued: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """Returned, and not -1."""
        return self.outcome is not None and not self.outcome.failed


class ExitRecord(NamedTuple):
    """A process ended (every fd it held closed with it)."""

    seq: int
    process: str
    pid: int
    signal: int | None
    code: int | None
    sent_by_user: bool = False  # the death followed the user's `kill NAME SIGNAL`


Record = CallRecord | ExitRecord


class CallLog:
    """Append-only; `records` is a snapshot of it (a tuple), safe to keep and to share."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._sent: dict[tuple[str, int], int] = {}  # `sent`

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(self._records)

    def add_call(self, event: CallEvent, pid: int, sockets: tuple[int, ...] = (),
                 inode: int | None = None, peer: int | None = None, queued: tuple[int, ...] = ()) -> CallRecord:
        record = CallRecord(len(self._records) + 1, event.process, pid, event.command.args.get("fd"),
                            event.command, event.phase, event.outcome, sockets, inode, peer, queued)
        self._add(record)
        return record

    def add_exit(self, event: ExitEvent, sent_by_user: bool = False) -> ExitRecord:
        record = ExitRecord(len(self._records) + 1, event.process, event.pid, event.signal, event.code,
                            sent_by_user)
        self._add(record)
        return record

    def _add(self, record: Record) -> None:
        self._records.append(record)
        _count_sent(self._sent, record)

    @property
    def sent(self) -> dict[tuple[str, int], int]:
        """What the session sent on each (process, fd) since that fd last got a new connection.

        Counted from the calls' return values (what the kernel took); an fd the session
        knows nothing about (a program outside sockrepl sent) has no entry. Kept up to date
        as each record comes: a snapshot, taken after every command, asks (reading the whole
        log each time made every line of a long session slower than the last).
        """
        return dict(self._sent)


def _count_sent(sent: dict[tuple[str, int], int], record: Record) -> None:
    """One record's part in `CallLog.sent`: what it changes there."""
    if isinstance(record, ExitRecord):
        for key in [key for key in sent if key[0] == record.process]:
            del sent[key]
        return
    if not record.ok or record.outcome is None:
        return
    name, key = record.command.name, (record.process, record.fd or 0)
    if name == "connect":
        sent[key] = 0
    elif name == "close":
        sent.pop(key, None)
    elif name in SENDS:
        sent[key] = sent.get(key, 0) + record.outcome.ret
    for fd in created_fds(record.command, record.outcome):
        sent[(record.process, fd)] = 0


def created_fds(command: Command, outcome: Outcome | None) -> tuple[int, ...]:
    """The fds a successful call opened: socket and accept return one, socketpair fills two."""
    if outcome is None or outcome.failed:
        return ()
    if command.name == "socketpair":
        return outcome.out.fds if isinstance(outcome.out, Pair) else ()
    if command.name in ("socket", "accept"):
        return (outcome.ret,)
    return ()
