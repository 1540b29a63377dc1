"""The snapshot: the kernel's view of the session's sockets, joined with what the session knows.

`take_snapshot` reads the kernel (one sock_diag dump, /proc per worker, lstat
per socket file); `build` is the pure join, unit-tested on its own. Every
number comes from the kernel; the session only contributes names (which
process is `server`, which is current), which call a blocked process was asked
to make, and the bytes sent on a call still in a listener's queue (the kernel
lists no socket that holds them). Facts only: the words drawn from them are
the renderers' (analogy.py, panel.py, listings.py).
"""

import grp
import os
import pwd
import socket
import stat
from collections.abc import Mapping
from contextlib import suppress
from types import MappingProxyType
from typing import NamedTuple, overload

from sockrepl import kernel, procfs
from sockrepl.calllog import Record
from sockrepl.commands import Command
from sockrepl.events import Event
from sockrepl.holders import Holder
from sockrepl.kernel import TCP_ESTABLISHED, TCP_LISTEN
from sockrepl.textsafe import visible

TYPES: dict[int, str] = {socket.SOCK_STREAM: "STREAM", socket.SOCK_DGRAM: "DGRAM", socket.SOCK_SEQPACKET: "SEQPACKET"}
RCV_SHUTDOWN, SEND_SHUTDOWN = 1, 2


class Owner(NamedTuple):
    """The process and fd that hold a socket."""

    process: str
    fd: int


class Blocked(NamedTuple):
    """A call that has not returned: what was asked, and what the kernel says it sleeps in."""

    call: str  # what was asked (accept, recv, ...)
    fd: int | None
    target: str | None  # the address the call is about (connect, sendto), as typed
    syscall: str | None  # what the kernel says it sleeps in (accept, recvmsg, ...)
    wchan: str | None
    state: str | None = None  # /proc/PID/stat's letter when read: S asleep, T stopped


class FdView(NamedTuple):
    """One socket fd of a process, in the words of the slides, as the panel shows it."""

    fd: int
    inode: int
    type: str
    role: str  # "active" | "passive" (the slides' words)
    state: str  # UNCONNECTED BOUND LISTEN CONNECTING CONNECTED PEER-CLOSED
    local: str | None
    peer: str | None
    peer_owner: Owner | None
    pending: int | None
    backlog: int | None
    unread: int | None
    shutdown: str | None  # which directions are shut: "read" | "write" | "both"
    accepted: bool | None  # a client's connection: taken by accept() yet?
    peer_process: Holder | None = None  # the peer's holder outside the session (command escaped), if readable
    raw: kernel.UnixSocket | None = None  # the kernel's row, for `why`'s evidence


class OtherFd(NamedTuple):
    """An fd that is not a socket (a file, a pipe), shown by where it points."""

    fd: int
    target: str


class ProcessView(NamedTuple):
    """One process of the session: its state, its fds, and the call it is blocked in."""

    name: str
    pid: int
    uid: int
    alive: bool
    current: bool
    stopped: bool
    blocked: Blocked | None
    fds: tuple[FdView, ...]
    other_fds: tuple[OtherFd, ...] = ()


class FileView(NamedTuple):
    """A path a socket was bound to or asked about, and what is there now."""

    path: str
    kind: str  # "socket" | "missing" | "other"
    bound: bool
    owner: Owner | None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    mtime: float | None = None


class FileListing(NamedTuple):
    """What `ls` prints: the socket files, and the names the user and group databases give their owners."""

    files: tuple[FileView, ...]
    users: dict[int, str]
    groups: dict[int, str]


class QueuedCall(NamedTuple):
    """A connection the kernel completed in a listener's queue that no accept has taken yet.

    A sock_diag dump does not list the server-side socket of such a call at all: the listener's
    UNIX_DIAG_ICONS names the caller's socket (`caller_inode`), and the caller's Send-Q turns non-zero
    while its data waits (`send_q`: memory charged, 768 per small send here, not bytes). The bytes
    sent come from the session's record (`sent`: None if a program outside it sent, or if unknown).
    """

    listener: Owner | None
    listener_inode: int
    caller: Owner | None  # None: a socket outside the session
    caller_inode: int
    send_q: int
    sent: int | None


class Snapshot(NamedTuple):
    """The session as the kernel sees it at one instant: all that the UI reads."""

    processes: tuple[ProcessView, ...]
    files: tuple[FileView, ...]
    limited: bool = False
    scratch: str = ""
    uid: int = 0  # sockrepl's own: a process's uid is worth showing only when it differs
    queued: tuple[QueuedCall, ...] = ()  # pending calls of the session's listeners, oldest first

    @property
    def current(self) -> str | None:
        """The current process (the one a bare command runs in), if any."""
        return next((proc.name for proc in self.processes if proc.current), None)

    def find(self, process: str, fd: int) -> FdView | None:
        for view in self.processes:
            if view.name == process:
                return next((f for f in view.fds if f.fd == fd), None)
        return None

    def process(self, name: str) -> ProcessView | None:
        return next((p for p in self.processes if p.name == name), None)


class Typed(NamedTuple):
    """One command as typed, where it ran, what it printed, and the kernel's state after it.

    The exports read these: a lesson is the commands, their output and a few state checks.
    `process` is None for a session command (spawn, kill, use...); `snapshot` is None
    when the session was not asked to keep states (the lesson checker does not).
    `unasked`: what came by itself after the command, before the next one (a blocked call
    that something outside the session released): shown, but no lesson can replay it.
    """

    command: Command
    process: str | None
    events: tuple[Event, ...]
    snapshot: Snapshot | None
    unasked: tuple[Event, ...] = ()


class TimelineView(NamedTuple):
    """What `timeline` draws: the call log, the kernel's state now, and how many events (None: all)."""

    records: tuple[Record, ...]
    snapshot: Snapshot
    last: int | None


class ExportJob(NamedTuple):
    """What `export` writes: the format, the file (absolute), and the session's logs so far."""

    format: str  # lesson | mermaid | html | svg | markdown
    path: str
    force: bool
    typed: tuple[Typed, ...]
    records: tuple[Record, ...]
    snapshot: Snapshot


class ProcessFacts(NamedTuple):
    """What the session knows of one worker, plus what /proc says of it."""

    name: str
    pid: int
    uid: int
    current: bool
    pending: tuple[str, int | None, bytes | None] | None  # (call, fd, address) the session is waiting on
    fds: dict[int, procfs.FdTarget] | None
    task: procfs.TaskState | None
    sent: Mapping[int, int] = MappingProxyType({})  # session record: bytes sent per fd on its connection


@overload
def display_name(name: bytes) -> str: ...
@overload
def display_name(name: None) -> None: ...
@overload
def display_name(name: bytes | None) -> str | None: ...
def display_name(name: bytes | None) -> str | None:
    """`srv.sock`, or `@name` for an abstract address; control characters and undecodable bytes escaped."""
    if name is None:
        return None
    if name.startswith(b"\0"):
        return "@" + visible(name[1:].decode("utf-8", "surrogateescape").replace("\0", "@"))
    return visible(name.decode("utf-8", "surrogateescape"))


def take_snapshot(session, also: tuple[str, ...] = ()) -> Snapshot:
    """The kernel now, through the session; `also`: more paths to show in `files` (what `why` asks about)."""
    table = kernel.read_unix_sockets(session.net)
    sent = session.log.sent
    facts = []
    for worker in session.workers.values():
        args = worker.pending.args if worker.pending else {}
        pending = (worker.pending.name, args.get("fd"), args.get("addr")) if worker.pending else None
        task = procfs.task_state(worker.pid) if pending else _idle_task(worker.pid)
        facts.append(ProcessFacts(worker.name, worker.pid, worker.uid, worker.name == session.current, pending,
                                  procfs.fd_table(worker.pid), task,
                                  {fd: n for (name, fd), n in sent.items() if name == worker.name}))
    outside = session.holders.of(_outside_peers(facts, table), table.sockets)
    return build(facts, table, _file_stats(session, also), str(session.scratch), os.getuid(), outside)


def _outside_peers(facts: list[ProcessFacts], table: kernel.SocketTable) -> set[int]:
    """Peers of the session's sockets that no process of the session holds: only these are looked for in /proc."""
    held = {target.inode for proc in facts for target in (proc.fds or {}).values() if target.inode is not None}
    peers = {sock.peer for inode in held if (sock := table.sockets.get(inode)) is not None and sock.peer}
    return {peer for peer in peers - held if peer in table.sockets}


def file_listing(snapshot: Snapshot) -> FileListing:
    """The snapshot's files with their owners' names, looked up now (a uid with no name is left out)."""
    users, groups = {}, {}
    for file in snapshot.files:
        if file.uid is not None and file.uid not in users:
            with suppress(KeyError):
                users[file.uid] = pwd.getpwuid(file.uid).pw_name
        if file.gid is not None and file.gid not in groups:
            with suppress(KeyError):
                groups[file.gid] = grp.getgrgid(file.gid).gr_name
    return FileListing(snapshot.files, users, groups)


def _idle_task(pid: int) -> procfs.TaskState | None:
    """An idle worker's syscall is its read of the next command: only its state letter matters."""
    state = procfs.run_state(pid)
    return procfs.TaskState(state, None, (), None) if state else None


def _file_stats(session, also: tuple[str, ...] = ()) -> list[tuple[str, os.stat_result | None]]:
    """The session's socket files: those it bound, and any socket file in the scratch directory."""
    paths = dict.fromkeys([*session.created_files, *also])
    with suppress(OSError):  # the scratch directory is gone: only the files the session bound
        for entry in os.scandir(session.scratch):
            if stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
                paths[entry.path] = None
    stats: list[tuple[str, os.stat_result | None]] = []
    for path in paths:
        try:
            stats.append((path, os.lstat(path)))
        except OSError:
            stats.append((path, None))
    return stats


def build(facts: list[ProcessFacts], table: kernel.SocketTable, files, scratch: str = "", uid: int = 0,
          outside: dict[int, Holder] | None = None) -> Snapshot:
    """Join, without I/O: the kernel's sockets seen through the session's processes;
    `outside`: the holders of peers outside the session, by inode."""
    owners: dict[int, Owner] = {}
    for proc in facts:
        for fd, target in (proc.fds or {}).items():
            if target.inode is not None and fd > 2:
                owners.setdefault(target.inode, Owner(proc.name, fd))
    queued_on = {icon: sock for sock in table.sockets.values() if sock.state == TCP_LISTEN for icon in sock.icons}
    outsiders = {inode: holder._replace(command=visible(holder.command)) for inode, holder in (outside or {}).items()}
    processes = tuple(_process_view(proc, table, owners, queued_on, outsiders) for proc in facts)
    by_vfs = {sock.vfs[1]: sock for sock in table.sockets.values() if sock.vfs and sock.binds_its_file}
    file_views = tuple(_file_view(path, st, by_vfs, owners, scratch) for path, st in files)
    return Snapshot(processes, file_views, table.limited, scratch, uid, _queued(facts, table, owners))


def _queued(facts: list[ProcessFacts], table: kernel.SocketTable, owners: dict[int, Owner]) -> tuple[QueuedCall, ...]:
    """The pending calls on the session's listeners, with what the session sent on each."""
    sent = {(proc.name, fd): n for proc in facts for fd, n in proc.sent.items()}
    calls = []
    for sock in table.sockets.values():
        listener = owners.get(sock.inode)
        if sock.state != TCP_LISTEN or listener is None:
            continue
        for icon in sock.icons:
            caller = owners.get(icon)
            caller_sock = table.sockets.get(icon)
            calls.append(QueuedCall(listener, sock.inode, caller, icon, caller_sock.wqueue if caller_sock else 0,
                                    sent.get((caller.process, caller.fd)) if caller else None))
    return tuple(calls)


def _process_view(proc: ProcessFacts, table, owners, queued_on, outsiders) -> ProcessView:
    task = proc.task
    blocked = None
    if proc.pending:
        call, fd, address = proc.pending
        syscall = procfs.syscall_name(task.syscall) if task and task.syscall is not None else None
        blocked = Blocked(call, fd, display_name(address), syscall, task.wchan if task else None,
                          task.state if task else None)
    fds, others = [], []
    for fd, target in (proc.fds or {}).items():
        if fd <= 2:
            continue
        sock = table.sockets.get(target.inode) if target.inode is not None else None
        if sock is not None:
            fds.append(_fd_view(fd, sock, table, owners, queued_on, blocked, outsiders.get(sock.peer)))
        else:
            shown = visible(target.path) if target.path else f"socket:[{target.inode}] (not AF_UNIX)"
            others.append(OtherFd(fd, shown))
    stopped = task is not None and procfs.is_stopped(task.state)
    return ProcessView(proc.name, proc.pid, proc.uid, proc.fds is not None, proc.current, stopped, blocked,
                       tuple(fds), tuple(others))


def _fd_view(fd: int, sock: kernel.UnixSocket, table, owners, queued_on, blocked: Blocked | None,
             outsider: Holder | None) -> FdView:
    kind = TYPES.get(sock.type, str(sock.type))
    blocked_here = blocked.call if blocked and blocked.fd == fd else None
    listener = queued_on.get(sock.inode)
    peer_sock = table.sockets.get(sock.peer) if sock.peer else None
    state, accepted = _state(kind, sock, blocked_here, listener, peer_sock)
    shutdown = _shutdown(sock.shutdown) if state == "CONNECTED" else None
    peer = display_name(peer_sock.name) if peer_sock else None
    if listener is not None:
        peer = display_name(listener.name)
    elif state == "CONNECTING" and blocked is not None:  # CONNECTING: this fd's connect() is the blocked call
        peer = blocked.target
    listening = sock.state == TCP_LISTEN
    return FdView(
        fd=fd, inode=sock.inode, type=kind, role="passive" if listening else "active", state=state,
        local=display_name(sock.name), peer=peer, peer_owner=owners.get(sock.peer) if sock.peer else None,
        pending=sock.rqueue if listening else None, backlog=sock.wqueue if listening else None,
        unread=None if listening or table.limited else sock.rqueue, shutdown=shutdown, accepted=accepted,
        peer_process=outsider if state == "CONNECTED" else None, raw=sock,
    )


def _state(kind: str, sock, blocked_here, listener, peer_sock) -> tuple[str, bool | None]:
    if sock.state == TCP_LISTEN:
        return "LISTEN", None
    if blocked_here == "connect":
        return "CONNECTING", None
    if kind != "DGRAM" and sock.state == TCP_ESTABLISHED:
        if listener is not None:
            return "CONNECTED", False
        if peer_sock is None:
            return "PEER-CLOSED", None
        return "CONNECTED", True
    if kind == "DGRAM" and sock.state == TCP_ESTABLISHED and sock.peer:
        return "CONNECTED", None
    return ("BOUND" if sock.name is not None else "UNCONNECTED"), None


def _shutdown(bits: int | None) -> str | None:
    return {RCV_SHUTDOWN: "read", SEND_SHUTDOWN: "write", RCV_SHUTDOWN | SEND_SHUTDOWN: "both"}.get(bits or 0)


def _file_view(path: str, st, by_vfs, owners, scratch: str) -> FileView:
    relative = os.path.relpath(path, scratch) if scratch and path.startswith(scratch + os.sep) else path
    shown = display_name(os.fsencode(relative))
    if st is None:
        return FileView(shown, "missing", False, None)
    if not stat.S_ISSOCK(st.st_mode):
        return FileView(shown, "other", False, None, st.st_mode, st.st_uid, st.st_gid, st.st_mtime)
    sock = by_vfs.get(st.st_ino)
    owner = owners.get(sock.inode) if sock else None
    return FileView(shown, "socket", sock is not None, owner, st.st_mode, st.st_uid, st.st_gid, st.st_mtime)
