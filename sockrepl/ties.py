"""Which call caused which, from the session's log and what the kernel said at each call.

A connect is tied to the accept whose new socket the kernel connected to the
caller's socket; a write to the read that received its bytes (both named by
inode, read when each call ran, so a reused fd number cannot mislead); a sendto
to the recvfrom that took that datagram; a close to the EOF or EPIPE it caused.
A connect still in a listener's queue is tied to the queue only if the kernel
lists it there now. Pure: no I/O.
"""

import errno
from collections import deque
from dataclasses import dataclass

from sockrepl import constants as C
from sockrepl.calllog import CallRecord, ExitRecord, Record
from sockrepl.commands import RECEIVES, SENDS
from sockrepl.protocol import Received
from sockrepl.state import Snapshot

STREAM = C.SOCKET_TYPES["SOCK_STREAM"]
TYPE_MASK = 0xF


@dataclass(frozen=True)
class Tie:
    """`source` (a record's seq) caused `target` (a record's seq, or None: it waits in a queue).

    `lane` is the process the arrow points to; `label` says what travelled, when
    it is worth saying ("EOF", "EPIPE", "6 B lost", "queued").
    """

    source: int
    target: int | None
    lane: str
    label: str = ""


def ties(records: tuple[Record, ...], snapshot: Snapshot | None = None) -> tuple[Tie, ...]:
    """Every tie the log and the kernel support, in the order of their targets."""
    found: list[Tie] = []
    kinds: dict[int, int] = {}  # inode -> socket type, from the calls that created it
    connects: dict[int, int] = {}  # caller's inode -> seq of its completed connect
    streams: dict[int, deque[list[int]]] = {}  # receiver inode -> [writer seq, bytes left]
    messages: dict[int, deque[int]] = {}  # receiver inode -> seqs of the datagrams queued
    hangups: dict[int, int] = {}  # inode whose peer hung up -> seq of that close/shutdown
    resets: dict[int, int] = {}  # a queued caller's inode -> seq of the close of its listener
    closed: dict[int, int] = {}  # inode -> seq of the close that ended it
    accepted: set[int] = set()
    for record in records:
        if isinstance(record, ExitRecord):
            continue
        outcome, name = record.outcome, record.command.name
        if outcome is None or record.phase in ("unfinished", "lost"):
            if record.phase == "died" and name in SENDS and record.inode in hangups:
                found.append(Tie(hangups[record.inode], record.seq, record.process, "SIGPIPE"))
            continue
        _learn_kinds(record, kinds)
        if outcome.failed:
            found += _failure(record, outcome.errno, hangups, resets, closed)
            continue
        if name == "connect" and record.inode:
            connects[record.inode] = record.seq
        elif name == "accept" and record.peer in connects:
            accepted.add(record.peer)
            found.append(Tie(connects[record.peer], record.seq, record.process))
        elif name in SENDS and record.peer and outcome.ret > 0:
            if kinds.get(record.inode or 0, STREAM) == STREAM:
                streams.setdefault(record.peer, deque()).append([record.seq, outcome.ret])
            else:
                messages.setdefault(record.peer, deque()).append(record.seq)
        elif name in RECEIVES and record.inode:
            found += _received(record, streams, messages, hangups)
        elif name in ("close", "shutdown") and record.inode:
            _hang_up(record, hangups, resets, closed)
    found += _queued(records, connects, accepted, snapshot)
    return tuple(sorted(found, key=lambda tie: (tie.target or 0, tie.source)))


def _learn_kinds(record: CallRecord, kinds: dict[int, int]) -> None:
    if record.command.name in ("socket", "socketpair"):
        for inode in record.sockets:
            kinds[inode] = record.command.args["type"] & TYPE_MASK
    elif record.command.name == "accept" and record.sockets and record.inode in kinds:
        kinds[record.sockets[0]] = kinds[record.inode]


def _hang_up(record: CallRecord, hangups, resets, closed) -> None:
    """close hangs up both ways; shutdown only when it shuts the writing side (the peer reads EOF).
    Closing a listener resets the calls in its queue (ECONNRESET, then EOF)."""
    if record.command.name == "close":
        closed[record.inode] = record.seq
        for caller in record.queued:
            resets[caller] = hangups[caller] = record.seq
    elif record.command.args.get("how") not in (C.SHUTDOWN_HOWS["SHUT_WR"], C.SHUTDOWN_HOWS["SHUT_RDWR"]):
        return
    if record.peer:
        hangups[record.peer] = record.seq


def _failure(record: CallRecord, code: int, hangups, resets, closed) -> list[Tie]:
    """An error another call caused: EPIPE after a hang-up, ECONNRESET after the listener closed,
    ECONNREFUSED ending a connect that waited for a listener that then closed."""
    inode = record.inode or 0
    if code == errno.EPIPE and inode in hangups:
        return [Tie(hangups[inode], record.seq, record.process, "EPIPE")]
    if code == errno.ECONNRESET and inode in resets:
        return [Tie(resets[inode], record.seq, record.process, "ECONNRESET")]
    if code == errno.ECONNREFUSED and record.phase == "resumed" and record.peer in closed:
        return [Tie(closed[record.peer or 0], record.seq, record.process, "refused")]
    return []


def _received(record: CallRecord, streams, messages, hangups) -> list[Tie]:
    """The writes a read took its bytes from (in the kernel's FIFO order), or the hang-up behind an EOF."""
    assert record.outcome is not None and record.inode is not None
    got = record.outcome.ret
    if messages.get(record.inode):
        source = messages[record.inode].popleft()
        out = record.outcome.out
        full = out.datagram_len if isinstance(out, Received) else None
        lost = full - got if full is not None and full > got else 0
        return [Tie(source, record.seq, record.process, f"{lost} B lost" if lost else "")]
    if got == 0:
        return [Tie(hangups[record.inode], record.seq, record.process, "EOF")] if record.inode in hangups else []
    queue, sources = streams.get(record.inode, deque()), []
    while got > 0 and queue:
        take = min(got, queue[0][1])
        got -= take
        queue[0][1] -= take
        if queue[0][0] not in sources:
            sources.append(queue[0][0])
        if queue[0][1] == 0:
            queue.popleft()
    return [Tie(seq, record.seq, record.process) for seq in sources]


def _queued(records, connects: dict[int, int], accepted: set[int], snapshot: Snapshot | None) -> list[Tie]:
    """Connects the kernel still lists in a listener's queue: tied to that listener's process."""
    if snapshot is None:
        return []
    waiting = {call.caller_inode: call.listener.process for call in snapshot.queued if call.listener}
    return [Tie(seq, None, waiting[inode], "queued")
            for inode, seq in connects.items() if inode in waiting and inode not in accepted]
