"""The evidence `why` cites: where a fact is found in a snapshot of the kernel and in the session's record.

Pure helpers shared by the explainer (why.py): each returns text or Reasons, and
every Reason says whether its evidence was read from the kernel now or taken
from the session's own record of what was typed and returned then.
"""

from typing import Literal, NamedTuple

from sockrepl import constants as C
from sockrepl.calllog import CallRecord, ExitRecord, Record, created_fds
from sockrepl.commands import call_on_fd
from sockrepl.state import FdView, FileView, ProcessView, Snapshot, display_name
from sockrepl.textsafe import visible

Source = Literal["kernel", "session"]
# A peer's shutdown that ends what this side reads (EOF), or what it may write (EPIPE).
ENDS_READING = (C.SHUTDOWN_HOWS["SHUT_WR"], C.SHUTDOWN_HOWS["SHUT_RDWR"])
ENDS_WRITING = (C.SHUTDOWN_HOWS["SHUT_RD"], C.SHUTDOWN_HOWS["SHUT_RDWR"])


class Reason(NamedTuple):
    """One claim, and the evidence that backs it ("" when the claim is advice, not a fact)."""

    claim: str
    evidence: str = ""
    evidence_source: Source | None = None


def address_of(record: CallRecord) -> str | None:
    address = record.command.args.get("addr")
    return visible(display_name(address) or "") if isinstance(address, bytes) and address else None


def call_text(record: CallRecord) -> str:
    addr = address_of(record)
    return call_on_fd(record.command.name, record.fd) + (f" → {addr}" if addr else "")


def typed_line(record: CallRecord) -> str:
    """The line as typed, with the process it ran in, and its number in the session's record."""
    text = record.command.text if record.command.process else f"{record.process}: {record.command.text}"
    return f"`{visible(text)}` (#{record.seq})"


def diag_text(view: FdView) -> str:
    raw = view.raw
    queues = f", Recv-Q {raw.rqueue}, Send-Q {raw.wqueue}" if raw is not None else ""
    where = f" {visible(view.local)}" if view.local else ""
    return f"sock_diag: {view.type}{where} {view.state}{queues}"


def listener_at(snapshot: Snapshot, name: str | None) -> tuple[ProcessView, FdView] | None:
    for proc in snapshot.processes:
        for view in proc.fds:
            if view.state == "LISTEN" and view.local == name:
                return proc, view
    return None


def holder_of(snapshot: Snapshot, name: str | None) -> tuple[ProcessView, FdView] | None:
    """The session's socket bound to `name` (an accepted connection only shares the name)."""
    for proc in snapshot.processes:
        for view in proc.fds:
            if view.local == name and (view.role == "passive" or view.type == "DGRAM" or view.state == "BOUND"):
                return proc, view
    return None


def file_at(snapshot: Snapshot, name: str | None) -> FileView | None:
    return next((f for f in snapshot.files if f.path == name), None)


def last_call(history: tuple[Record, ...], before: int, test) -> CallRecord | None:
    return next((r for r in reversed(history) if isinstance(r, CallRecord) and r.seq < before and test(r)), None)


def who_bound(addr: str | None, history) -> list[Reason]:
    bound = next((r for r in reversed(history) if isinstance(r, CallRecord) and r.command.name == "bind" and r.ok
                  and address_of(r) == addr), None)
    if bound is None:
        return []
    after = [r for r in history if r.seq > bound.seq and r.process == bound.process and (
        isinstance(r, ExitRecord) or (r.command.name == "close" and r.fd == bound.fd and r.ok))]
    gone = f"; then {end_text(after[0])}" if after else ""
    return [Reason(f"{bound.process} fd {bound.fd} bound it{gone}.", typed_line(bound) + gone, "session")]


def end_text(record: Record) -> str:
    if isinstance(record, ExitRecord):
        how = f"killed by {C.signal_name(record.signal)}" if record.signal else f"exited with {record.code}"
        return f"{record.process} was {how} (#{record.seq})"
    return typed_line(record)


def own_shutdown(record: CallRecord, history) -> list[Reason]:
    done = last_call(history, record.seq, lambda r: r.process == record.process and r.fd == record.fd and r.ok
                 and r.command.name == "shutdown" and r.command.args.get("how") in ENDS_READING)
    return [Reason("You shut your own writing side first.", typed_line(done), "session")] if done else []


def hung_up_by(record: CallRecord, history, hows: tuple[int, ...]) -> list[Reason]:
    """Who ended the other end, from the session's record (the kernel no longer names a closed peer)."""
    peer = other_end(history, record.process, record.fd, record.seq)
    if peer is None:
        return []
    process, fd, since = peer
    for later in history:
        if later.seq <= since or later.process != process:
            continue
        if isinstance(later, ExitRecord):
            return [Reason(f"{process}, which held the other end (fd {fd}), ended.", end_text(later), "session")]
        hung = later.ok and later.fd == fd and (later.command.name == "close" or (
            later.command.name == "shutdown" and later.command.args.get("how") in hows))
        if hung:
            return [Reason(f"{process} fd {fd}, the other end, hung up.", typed_line(later), "session")]
    return []


def other_end(history, process: str, fd: int | None, before: int) -> tuple[str, int, int] | None:
    """(process, fd, seq) of the other end of `process`'s fd, paired by the sockets the log recorded."""
    made = last_call(history, before + 1, lambda r: r.process == process and fd in created_fds(r.command, r.outcome))
    connected = last_call(history, before + 1, lambda r: r.process == process and r.fd == fd and r.ok
                      and r.command.name == "connect")
    if made is None:
        return None
    index = created_fds(made.command, made.outcome).index(fd)
    inode = made.sockets[index] if index < len(made.sockets) else None
    if made.command.name == "socketpair":
        other = created_fds(made.command, made.outcome)[1 - index]
        return process, other, made.seq
    if made.command.name == "accept" and made.peer:
        owner = next((r for r in history if isinstance(r, CallRecord) and made.peer in r.sockets), None)
        if owner is not None:
            fds = created_fds(owner.command, owner.outcome)
            return owner.process, fds[owner.sockets.index(made.peer)], made.seq
    if connected is not None and inode:
        accepted = next((r for r in history if isinstance(r, CallRecord) and r.command.name == "accept"
                         and r.peer == inode), None)
        if accepted is not None and accepted.outcome is not None:
            return accepted.process, accepted.outcome.ret, accepted.seq
    return None
