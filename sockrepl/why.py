"""`why`: the reasons for a call's outcome, in the lecture's words, each with its evidence.

Pure: (the call's record, a snapshot of the kernel now, the session's history)
-> reasons. Every reason says where its evidence comes from: "kernel" (read now:
sock_diag, /proc, lstat) or "session" (the session's own record of what was
typed and what the kernel returned then), so a student can check each claim.
For a call printed with `↳` notes, the first reason starts with the first note
(explain.notes) and every note is said: the notes, `why` and an exercise's check
speak with one voice. The facts it cites are found by evidence.py; what a blocked
call waits for is told by waits.py.
"""

from sockrepl import constants as C
from sockrepl.calllog import CallRecord, ExitRecord, Record, created_fds
from sockrepl.commands import CONNECTED_SENDS, RECEIVES, SENDS
from sockrepl.evidence import (
    ENDS_READING,
    ENDS_WRITING,
    Reason,
    address_of,
    call_text,
    diag_text,
    file_at,
    holder_of,
    hung_up_by,
    last_call,
    own_shutdown,
    typed_line,
    who_bound,
)
from sockrepl.explain import notes
from sockrepl.protocol import Received
from sockrepl.state import FdView, ProcessView, Snapshot
from sockrepl.waits import RELEASED, waiting

SIGPIPE = C.SIGNALS["SIGPIPE"]


def target(history: tuple[Record, ...], process: str, fd: int | None = None) -> CallRecord | None:
    """The call `why` explains: the process's last call (on `fd`, when given: the call that made the fd
    counts, socket, socketpair or accept, so a new fd's origin is explained)."""
    for record in reversed(history):
        if isinstance(record, CallRecord) and record.process == process and (
                fd is None or record.fd == fd or fd in created_fds(record.command, record.outcome)):
            return record
    return None


def explain_call(record: CallRecord, snapshot: Snapshot, history: tuple[Record, ...]) -> list[Reason]:
    """Why the call did what it did, and what would change it; the first reason is the headline."""
    proc = snapshot.process(record.process)
    if record.phase == "unfinished" and proc is not None and proc.blocked is not None:
        return _blocked(record, proc, snapshot, history)
    if record.phase in ("lost", "died") or record.outcome is None:
        return _ended(record, history)
    if record.outcome.failed:
        return _failed(record, snapshot, history)
    return _returned(record, snapshot, history)


def _asleep(proc: ProcessView) -> str:
    """What /proc says of the blocked process: the syscall it sleeps in, or that it is stopped."""
    blocked = proc.blocked
    assert blocked is not None
    if proc.stopped:
        return f"/proc/{proc.pid}/stat: state T (stopped), in {blocked.syscall or '?'}"
    wchan = f", sleeping in {blocked.wchan}" if blocked.wchan else ""
    return f"/proc/{proc.pid}/syscall: in {blocked.syscall or '?'}, state {blocked.state or '?'}{wchan}"


def _nonblocking(record: CallRecord, history: tuple[Record, ...]) -> Reason:
    """Where O_NONBLOCK came from, from the session's record."""
    flags = record.command.args.get("flags", 0) or 0
    if flags & C.MSG_FLAGS["MSG_DONTWAIT"]:
        return Reason("MSG_DONTWAIT asked this one call not to wait.", f"{typed_line(record)}", "session")
    switch = last_call(history, record.seq, lambda r: r.process == record.process and r.fd == record.fd
                   and r.command.name == "fcntl" and r.ok)
    if switch is not None:
        return Reason("O_NONBLOCK is on for this fd: the call returns at once instead of waiting.",
                      typed_line(switch), "session")
    made = last_call(history, record.seq, lambda r: r.process == record.process
                 and record.fd in created_fds(r.command, r.outcome))
    if made is not None and made.command.args.get("type", 0) & C.SOCKET_TYPE_FLAGS["SOCK_NONBLOCK"]:
        return Reason("The socket was made non-blocking: the call returns at once instead of waiting.",
                      typed_line(made), "session")
    return Reason("The socket is non-blocking (O_NONBLOCK): the call returns at once instead of waiting.")


# ---- a call that sleeps --------------------------------------------------------------


def _blocked(record: CallRecord, proc: ProcessView, snapshot: Snapshot, history) -> list[Reason]:
    head, *rest = waiting(record, snapshot, history)
    reasons = [Reason(f"{record.process} is blocked in {call_text(record)}: {head.claim}", _asleep(proc), "kernel"),
               *rest]
    if proc.stopped:
        reasons.append(Reason(f"{record.process} is also stopped: even released, it goes on only after "
                              f"`kill {record.process} SIGCONT`."))
    return reasons


# ---- a process that died in a call ------------------------------------------------------


def _ended(record: CallRecord, history) -> list[Reason]:
    end = next((r for r in history if isinstance(r, ExitRecord) and r.seq > record.seq
                and r.process == record.process), None)
    how = f"killed by {C.signal_name(end.signal)}" if end and end.signal else "ended"
    evidence = f"#{end.seq}: +++ {how} +++ (the kernel's wait status)" if end else ""
    reasons = [Reason(f"{record.process} was {how} in {call_text(record)}.", evidence, "session" if end else None)]
    if end is not None and end.signal == SIGPIPE:
        reasons.append(Reason("It wrote to a connection whose other side had hung up: SIGPIPE's default action "
                              "kills."))
        reasons += hung_up_by(record, history, ENDS_WRITING)
        reasons.append(Reason(f"`signal {record.process} SIGPIPE ignore` makes such a write return -1 EPIPE."))
    return reasons


# ---- a call that failed -----------------------------------------------------------------


def _failed(record: CallRecord, snapshot: Snapshot, history) -> list[Reason]:
    outcome = record.outcome
    assert outcome is not None
    errno = C.ERRNO_NAMES.get(outcome.errno, str(outcome.errno))
    errno = {"ENOTSUP": "EOPNOTSUPP", "EWOULDBLOCK": "EAGAIN"}.get(errno, errno)
    said = (notes(record.command, outcome) or [C.errno_text(outcome.errno)])[0]
    reasons = [Reason(f"{call_text(record)} failed with {errno}: {said}.", f"#{record.seq}: = -1 {errno}", "session")]
    name = record.command.name
    addr = address_of(record)
    view = snapshot.find(record.process, record.fd) if record.fd is not None else None
    if errno == "EAGAIN":
        waits = waiting(record, snapshot, history)
        return [*reasons, Reason(f"Blocking, it would have waited: {waits[0].claim}"),
                *(_as_retry(reason) for reason in waits[1:]), _nonblocking(record, history)]
    if name in ("connect", "sendto") and errno in ("ENOENT", "ECONNREFUSED", "EACCES"):
        return reasons + _at_address(record, errno, addr, snapshot, history)
    if name == "bind" and errno == "EADDRINUSE":
        return reasons + _in_use(addr, snapshot, history)
    if view is not None and (name, errno) in (("accept", "EINVAL"), ("listen", "EOPNOTSUPP"), ("listen", "EINVAL")):
        return [*reasons, _wrong_socket(name, view)]
    if name in CONNECTED_SENDS and errno == "EPIPE":
        return reasons + own_shutdown(record, history) + hung_up_by(record, history, ENDS_WRITING)
    if errno == "ENOTCONN" and name in SENDS:
        return reasons + _no_return_address(record, history)
    return reasons


def _as_retry(reason: Reason) -> Reason:
    """What releases a blocked call is what makes a non-blocking retry succeed."""
    if not reason.claim.startswith(RELEASED):
        return reason
    return Reason("A retry succeeds once" + reason.claim[len(RELEASED):], reason.evidence, reason.evidence_source)


def _at_address(record: CallRecord, errno: str, addr: str | None, snapshot: Snapshot, history) -> list[Reason]:
    """connect / sendto: what is at the address now, and what the session did there."""
    file = file_at(snapshot, addr)
    holder = holder_of(snapshot, addr)
    if errno == "EACCES" and file is not None and file.mode is not None:
        proc = snapshot.process(record.process)
        uid, pid = (proc.uid, proc.pid) if proc else ("?", "PID")
        return [Reason(f"{record.process} runs as uid {uid}; {addr} is mode {file.mode & 0o777:04o} owned by uid "
                       f"{file.uid}: connecting needs write permission on the socket file.",
                       f"lstat {addr}: mode {file.mode & 0o7777:04o}, uid {file.uid}; /proc/{pid}/status uid {uid}",
                       "kernel")]
    if holder is not None:
        proc, view = holder
        if view.state == "LISTEN" or view.type == "DGRAM":
            return [Reason(f"Now {proc.name} fd {view.fd} is there: the same call would work now.", diag_text(view),
                           "kernel")]
        listen = f"`{proc.name}: listen {view.fd} 5`"
        return [Reason(f"Not listening yet: {proc.name} fd {view.fd} is bound to {addr} but has not called listen "
                       f"({listen} turns the ringer on).", diag_text(view), "kernel")]
    if file is not None and file.kind == "socket" and not file.bound:
        reasons = [Reason(f"{addr} is a stale socket file: no socket is bound to it any more (a socket file stays "
                          "when its socket closes).", f"lstat {addr}: a socket file; sock_diag: no socket has it",
                          "kernel")]
        reasons += who_bound(addr, history)
        return [*reasons, Reason(f"The server must `unlink {addr}`, then bind and listen again.")]
    if file is not None and file.kind == "other":
        return [Reason(f"{addr} is not a socket file.", f"lstat {addr}: not S_IFSOCK", "kernel")]
    if addr and addr.startswith("@"):
        return [Reason(f"No socket of the session is bound to {addr} (abstract names have no file).")]
    return [Reason(f"There is no file at {addr}: nobody has bound that path.", f"lstat {addr}: no such file",
                   "kernel"), *who_bound(addr, history)]


def _in_use(addr: str | None, snapshot: Snapshot, history) -> list[Reason]:
    holder = holder_of(snapshot, addr)
    if holder is not None:
        proc, view = holder
        return [Reason(f"{proc.name} fd {view.fd} holds {addr}: one address, one socket.", diag_text(view), "kernel")]
    file = file_at(snapshot, addr)
    if file is not None and file.kind == "socket" and file.bound:
        return [Reason(f"A socket outside this session holds {addr}.", f"sock_diag: {addr} is bound", "kernel")]
    if file is not None and file.kind == "socket":
        return [Reason(f"{addr} is a stale socket file: nobody holds it, but bind will not reuse a path that exists.",
                       f"lstat {addr}: a socket file; sock_diag: no socket has it", "kernel"),
                *who_bound(addr, history), Reason(f"`unlink {addr}`, then bind again.")]
    if file is not None:
        return [Reason(f"A file that is not a socket is at {addr}.", f"lstat {addr}: not S_IFSOCK", "kernel")]
    if addr and addr.startswith("@"):
        return [Reason(f"A socket outside this session holds {addr} (abstract names are per network namespace).")]
    return [Reason(f"Nothing is at {addr} now: it has been removed since.", f"lstat {addr}: no such file", "kernel")]


def _wrong_socket(name: str, view: FdView) -> Reason:
    if name == "accept":
        what = f"fd {view.fd} is not listening (it is {view.state}): `listen {view.fd} 5` first"
    elif view.type == "DGRAM":
        what = f"fd {view.fd} is a datagram socket: mailboxes do not ring; recvfrom takes its letters"
    else:
        what = f"fd {view.fd} has no address (or is connected): bind it to a path first"
    return Reason(what + ".", diag_text(view), "kernel")


def _no_return_address(record: CallRecord, history) -> list[Reason]:
    got = last_call(history, record.seq, lambda r: r.process == record.process and r.fd == record.fd
                and r.command.name == "recvfrom" and r.ok and r.outcome is not None
                and isinstance(r.outcome.out, Received) and r.outcome.out.from_unbound)
    if got is None:
        return [Reason(f"fd {record.fd} has no fixed peer: give sendto an address (or connect first).")]
    return [Reason("The letter you answer had no return address: its sender never called bind, so there is "
                   "nowhere to reply. The sender must bind first.", f"{typed_line(got)} returned addrlen 0", "session")]


# ---- a call that returned, perhaps surprisingly ---------------------------------------------


def _returned(record: CallRecord, snapshot: Snapshot, history) -> list[Reason]:
    outcome = record.outcome
    assert outcome is not None
    name = record.command.name
    view = snapshot.find(record.process, record.fd) if record.fd is not None else None
    said = notes(record.command, outcome)
    if name == "connect":
        return _connected(record, view)
    if name in RECEIVES and said:
        reasons = [Reason(f"{call_text(record)} returned {outcome.ret}: {said[0]}.", f"#{record.seq}: = {outcome.ret}",
                          "session")]
        full = outcome.out.datagram_len if isinstance(outcome.out, Received) else None
        if full is not None and full > record.command.args["size"]:
            reasons.append(Reason("A datagram is read whole or cut: what does not fit the buffer is dropped.",
                                  f"#{record.seq}: the kernel's MSG_TRUNC peek said {full} bytes", "session"))
        elif outcome.ret == 0 and view is not None:
            reasons += _eof(record, view, history)
        reasons += [Reason(f"Also: {more}.", f"#{record.seq}: addrlen 0 (no sender address)", "session")
                    for more in said[1:]]
        return reasons
    wanted = len(record.command.args.get("data") or b"")
    if name in CONNECTED_SENDS and 0 <= outcome.ret < wanted:
        took = f"the kernel took {outcome.ret} of the {wanted} bytes"
        return [Reason(f"{call_text(record)} returned {outcome.ret}: {took}.",
                       f"#{record.seq}: = {outcome.ret}", "session"),
                Reason("A blocked send returns what it has sent when its wait ends early: the other side "
                       "closed, or a signal came. The rest was never sent."),
                *hung_up_by(record, history, ENDS_WRITING)]
    return [as_asked(record)]


def as_asked(record: CallRecord) -> Reason:
    """The answer for a call that did what it was asked, with nothing more to say (`check` words it its own way)."""
    ret = record.outcome.ret if record.outcome else None
    made = created_fds(record.command, record.outcome)
    pair = f", fds [{made[0]}, {made[1]}]" if len(made) == 2 else ""  # socketpair returns 0: its fds are its answer
    return Reason(f"{call_text(record)} returned {ret}, as asked: nothing to explain.",
                  f"#{record.seq}: = {ret}{pair}", "session")


def _connected(record: CallRecord, view: FdView | None) -> list[Reason]:
    head = Reason(f"{call_text(record)} returned 0: connected.", f"#{record.seq}: = 0", "session")
    if view is None:
        return [head]
    if view.accepted is False:
        return [head, Reason("Nobody has accepted it yet: Linux completes the call in the listener's queue, and "
                             "accept only hands it to the server.",
                             f"sock_diag: the listener's UNIX_DIAG_ICONS lists this socket ({view.inode})", "kernel"),
                Reason("What you send now waits in that queue until the server accepts.")]
    if view.peer_owner is not None:
        owner = view.peer_owner
        return [head, Reason(f"{owner.process} fd {owner.fd} took the call.", diag_text(view) + f", peer "
                             f"{owner.process}:{owner.fd}", "kernel")]
    return [head]


def _eof(record: CallRecord, view: FdView, history) -> list[Reason]:
    if view.state == "PEER-CLOSED":
        reasons = [Reason("The other end is closed: its socket is gone.",
                          f"sock_diag: fd {view.fd} has no peer socket any more", "kernel")]
    elif view.shutdown in ("read", "both"):
        reasons = [Reason("The other side shut its writing side (SHUT_WR): no more data will come.",
                          diag_text(view) + f", shutdown {view.shutdown}", "kernel")]
    else:
        return []
    return reasons + hung_up_by(record, history, ENDS_READING)
