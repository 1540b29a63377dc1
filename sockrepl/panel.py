"""The state panel, as styled lines: what `state` prints and the REPL keeps in view.

A pure function of a Snapshot and the room available. Only the lines that fit
are built: a session with a thousand sockets draws as fast as one with ten.
"""

from typing import Literal

from sockrepl.analogy import words
from sockrepl.commands import call_on_fd
from sockrepl.fit import cells as cells_of_text
from sockrepl.fit import cut_left, fit
from sockrepl.state import Blocked, FdView, FileView, OtherFd, ProcessView, QueuedCall, Snapshot
from sockrepl.table import column_widths
from sockrepl.textsafe import visible
from sockrepl.theme import process_style

Fragments = list[tuple[str, str]]
WAITS = {  # what a blocked call waits for, in the lecture's words
    "accept": "waiting for a caller",
    "connect": "the listener's queue is full",
    "recv": "waiting for data",
    "read": "waiting for data",
    "recvfrom": "waiting for a datagram",
    "send": "the receiver's buffer is full",
    "write": "the receiver's buffer is full",
    "sendto": "the receiver's queue is full",
}
PanelMode = Literal["compact", "full", "off"]  # off: the front end draws no panel
SHORTEST_NAME = 8  # cells a socket name keeps when a row is too long: `…rv.sock`


def cells_of(line: Fragments) -> int:
    return sum(cells_of_text(text) for _, text in line)


def _where(view: FdView) -> str:
    """Where the socket is reachable and what it is connected to."""
    local = view.local or ""
    if view.state in ("LISTEN", "BOUND", "UNCONNECTED"):
        return local
    if view.state == "CONNECTING":
        return f"→ {view.peer} (queue full)" if view.peer else "→ ?"
    if view.accepted is False:
        return f"→ {view.peer} (queued)"
    if view.state == "PEER-CLOSED":
        return f"{local} ↔ (closed)".strip()
    if view.peer_owner:
        other = f"{view.peer_owner.process}:{view.peer_owner.fd}"
    else:  # no process of the session holds the other end: a program outside sockrepl does
        holder = view.peer_process  # as `ss -p` finds it: users:(("nc",pid=N,fd=F))
        if holder is None:
            other = f"{view.peer} (outside sockrepl)" if view.peer else "outside sockrepl"
        elif view.peer:
            other = f"{view.peer} ({holder.command}, pid {holder.pid})"
        else:
            other = f"{holder.command} (pid {holder.pid})"
    if view.peer and view.peer_owner and view.peer != local:
        other = f"{view.peer} ({other})"
    return f"{local} ↔ {other}".strip() if local else f"↔ {other}"


def _extras(view: FdView, queued: tuple[QueuedCall, ...] = ()) -> tuple[str, str]:
    """The queue facts, and a shorter form of them for a narrow screen."""
    parts, short = [], []
    if view.pending is not None:
        carried = "".join(_carried(call) for call in queued if call.listener_inode == view.inode)
        text = f"pending {view.pending}/{view.backlog}"
        short.append(text)
        if view.pending > (view.backlog or 0) and not carried:
            text += " (Linux: backlog+1)"
        parts.append(text + carried)
        short[-1] += carried
    if view.unread:
        unread = f"1st dgram {view.unread} B" if view.type == "DGRAM" else f"unread {view.unread} B"
        parts.append(unread)
        short.append(unread)
    if view.shutdown:
        parts.append(f"shut {view.shutdown}")
        short.append(f"shut {view.shutdown}")
    return ", ".join(parts), ", ".join(short)


def _carried(call: QueuedCall) -> str:
    """Data already sent on a call still in the queue: the kernel lists no socket that holds it."""
    if not call.sent and not call.send_q:
        return ""
    who = f"{call.caller.process}'s call" if call.caller else "a call"
    return f" · {who} carries {call.sent} B" if call.sent else f" · {who} carries data"


def _cells(view: FdView) -> list[str]:
    return [f"fd {view.fd}", view.type, view.role, view.state]


def _header(proc: ProcessView, own_uid: int) -> Fragments:
    marker = "▸ " if proc.current else "  "
    line: Fragments = [("class:dim", marker), (process_style(proc.name), visible(proc.name)),
                       ("class:dim", f"  pid {proc.pid}" + (f"  uid {proc.uid}" if proc.uid != own_uid else ""))]
    if proc.stopped:
        line.append(("class:blocked", "  STOPPED (SIGSTOP)"))
    elif proc.blocked:
        b = proc.blocked
        line.append(("class:blocked", f"  BLOCKED in {call_on_fd(b.call, b.fd)}"))
        if b.call in WAITS:
            line.append(("class:dim", f": {WAITS[b.call]}"))
    else:
        line.append(("class:ok", "  idle"))
    if not proc.fds and not proc.other_fds:
        line.append(("class:dim", "  (no sockets)"))
    return line


def _idle_without_sockets(proc: ProcessView) -> bool:
    return not (proc.current or proc.blocked or proc.stopped or proc.fds or proc.other_fds)


def _listener_of(snapshot: Snapshot, view: FdView) -> list[tuple[str, int]]:
    """(process, fd) of the listener a connecting or not-yet-accepted socket is queued on."""
    return [(p.name, f.fd) for p in snapshot.processes for f in p.fds
            if f.state == "LISTEN" and f.local is not None and f.local == view.peer]


def _waited_on(snapshot: Snapshot, proc: ProcessView) -> list[tuple[str, int]]:
    """(process, fd) of the sockets a blocked call waits on: the full listener, the silent peer."""
    blocked = proc.blocked
    if blocked is None:
        return []
    view = next((f for f in proc.fds if f.fd == blocked.fd), None)
    if view is None:
        return []
    if view.state == "CONNECTING":
        return _listener_of(snapshot, view)
    if view.peer_owner is not None:
        return [(view.peer_owner.process, view.peer_owner.fd)]
    return []


def _queued_on(snapshot: Snapshot, proc: ProcessView) -> list[tuple[str, int]]:
    """The listeners whose queue holds the current process's calls: its `pending N/B` explains them."""
    return [pair for view in proc.fds if view.accepted is False for pair in _listener_of(snapshot, view)]


Row = FdView | OtherFd


class _Layout:
    """Which headers and rows are shown, chosen by priority within a budget of lines."""

    def __init__(self, blocks: list[tuple[ProcessView, list[Row]]], budget: int):
        self.blocks = {proc.name: rows for proc, rows in blocks}
        self.budget = budget
        self.headers: set[str] = set()
        self.rows: dict[str, set[int]] = {proc.name: set() for proc, _ in blocks}
        self.folded = False  # the one line of idle processes without sockets (compact) is shown

    def header(self, name: str) -> bool:
        if name in self.headers:
            return True
        if self.budget < 1:
            return False
        self.headers.add(name)
        self.budget -= 1
        return True

    def row(self, name: str, index: int) -> None:
        if index in self.rows[name] or self.budget < 1 or name not in self.headers:
            return
        self.rows[name].add(index)
        self.budget -= 1

    def whole(self, name: str) -> None:
        if self.header(name):
            for index in range(len(self.blocks[name])):
                self.row(name, index)

    def fd_row(self, name: str, fd: int) -> None:
        if self.header(name):
            for index, row in enumerate(self.blocks[name]):
                if row.fd == fd:
                    self.row(name, index)


def _choose(snapshot: Snapshot, blocks: list[tuple[ProcessView, list[Row]]], budget: int,
            idle_line: bool = False) -> _Layout:
    """The current process whole and the socket its call waits for, then blocked processes with the
    fd they wait on, then the sockets those calls wait for (a full listener) or hold the current
    process's queued calls, then the `idle_line` of idle processes, then every other header (those
    with sockets first), then more rows."""
    layout = _Layout(blocks, budget)
    procs = [proc for proc, _ in blocks]
    for proc in procs:
        if proc.current:
            layout.whole(proc.name)
            for name, fd in _waited_on(snapshot, proc):  # why it waits, before the others that wait too
                layout.fd_row(name, fd)
    blocked = [proc for proc in procs if proc.blocked or proc.stopped]
    for proc in blocked:
        if proc.blocked and proc.blocked.fd is not None:
            layout.fd_row(proc.name, proc.blocked.fd)
        else:
            layout.header(proc.name)
    waited = [pair for proc in blocked for pair in _waited_on(snapshot, proc)]
    waited += [pair for proc in procs if proc.current for pair in _queued_on(snapshot, proc)]
    for name, fd in waited:
        if name in layout.blocks:
            layout.fd_row(name, fd)
    if idle_line and layout.budget >= 1:
        layout.folded = True
        layout.budget -= 1
    for proc in sorted(procs, key=_idle_without_sockets):  # a process with sockets before one without
        layout.header(proc.name)
    for name in [proc.name for proc in blocked] + [name for name, _ in waited] + [proc.name for proc in procs]:
        if name in layout.headers:
            layout.whole(name)
    return layout


def panel_lines(snapshot: Snapshot, width: int = 80, height: int | None = None,
                mode: PanelMode = "full") -> list[Fragments]:
    """The panel: one block per process (header, one row per fd), then the socket files.

    When `height` is short, what matters stays: the current process whole and what it waits on,
    then blocked processes, then what their calls wait on (the listener whose queue is full), then the
    other processes folded to their header; what still does not fit is counted on one line.
    `compact` also folds idle processes without sockets into one line. Every line is cut
    to `width` at a word, with `…`. Only the rows that are shown are laid out.
    """
    tail = 1 + (1 if snapshot.limited else 0)
    room = (height if height is not None else 10**9) - tail
    blocks: list[tuple[ProcessView, list[Row]]] = [(proc, [*proc.fds, *proc.other_fds])
                                                    for proc in snapshot.processes]
    idle = [proc for proc, _ in blocks if _idle_without_sockets(proc)] if mode == "compact" else []
    if len(idle) < 2:
        idle = []
    grouped = {proc.name for proc in idle}
    units = [(proc, rows) for proc, rows in blocks if proc.name not in grouped]
    total = sum(1 + len(rows) for _, rows in units) + (1 if idle else 0)
    if total <= room:
        layout = _Layout(units, 10**9)
        for proc, _ in units:
            layout.whole(proc.name)
        idle_shown = bool(idle)
    else:
        layout = _choose(snapshot, units, max(room - 1, 0), idle_line=bool(idle))
        idle_shown = layout.folded
    shown_views = [row for proc, rows in units for i, row in enumerate(rows)
                   if i in layout.rows[proc.name] and isinstance(row, FdView)]
    widths = column_widths([_cells(view) for view in shown_views], 4)
    lines: list[Fragments] = []
    hidden = 0
    unseen: list[str] = []
    for proc, rows in blocks:
        if proc.name in grouped:
            if proc is idle[0] and idle_shown:
                lines.append(_idle_line(idle))
            elif proc is idle[0]:
                hidden += 1
                unseen += [visible(p.name) for p in idle]
            continue
        if proc.name not in layout.headers:
            hidden += 1 + len(rows)
            unseen.append(visible(proc.name))
            continue
        header = _header(proc, snapshot.uid)
        missing = len(rows) - len(layout.rows[proc.name])
        if missing:
            header.append(("class:dim", f"  ({missing} fd{'s' if missing > 1 else ''} not shown)"))
            hidden += missing
        lines.append(header)
        for index, row in enumerate(rows):
            if index not in layout.rows[proc.name]:
                continue
            if isinstance(row, FdView):
                lines.append(_socket_line(row, proc.blocked, widths, width, snapshot.queued))
            else:
                lines.append([("class:dim", f"    fd {row.fd}  {visible(row.target)}")])
    if hidden:
        names = f" ({', '.join(unseen)})" if unseen else ""
        lines.append([("class:dim", f"  … {hidden} more lines{names}: state prints them all")])
    if not snapshot.processes:
        lines.append([("class:dim", "no processes yet: spawn NAME starts one")])
    lines.append(_files_line(snapshot.files))
    if snapshot.limited:
        lines.append([("class:warn", "(limited: no sock_diag, read from /proc/net/unix: no queues, no peers)")])
    return [fit(line, width) for line in lines]


def _idle_line(procs: list[ProcessView]) -> Fragments:
    """Idle processes without sockets, on one line: they have nothing else to show."""
    names: Fragments = [("class:dim", "  ")]
    for index, proc in enumerate(procs):
        if index:
            names.append(("class:dim", ", "))
        names.append((process_style(proc.name), visible(proc.name)))
    return [*names, ("class:ok", "  idle"), ("class:dim", "  (no sockets)")]


def _socket_line(view: FdView, blocked: Blocked | None, widths: list[int], width: int,
                 queued: tuple[QueuedCall, ...]) -> Fragments:
    """One fd's row; the longer words give way first: the analogy, then the parenthesis."""
    analogy, analogy_short = words(view, blocked)
    cells = _cells(view)
    head: Fragments = [("", "    ")]
    for text, column, style in zip(cells, widths, ["class:dim", "", f"class:{view.role}", "class:call"], strict=False):
        head.append((style, text.ljust(column) + " "))
    where = visible(_where(view))
    extra, extra_short = _extras(view, queued)
    used = cells_of(head) + cells_of([("", where)])
    for queue, said in ((extra, analogy), (extra, analogy_short), (extra, ""),
                        (extra_short, analogy_short), (extra_short, "")):
        if used + _tail_cells(queue, said) <= width:
            break
    else:  # the names give way, not the queue or "(queue full)": they are what the row is for
        where = visible(_where(_names_shortened(view, used + _tail_cells(queue, said) - width)))
    line = [*head, ("", where)] if where else [*head[:-1], (head[-1][0], head[-1][1].rstrip())]
    if queue:
        line.append(("class:blocked", " " + queue))
    if said:
        line.append(("class:analogy", "  " + said))
    return line


def _tail_cells(queue: str, words: str) -> int:
    return cells_of_text((" " + queue if queue else "") + ("  " + words if words else ""))


def _names_shortened(view: FdView, over: int) -> FdView:
    """`view` with its socket names cut from the left (`…server.sock`) by `over` cells, the longest first."""
    names = {"local": visible(view.local or ""), "peer": visible(view.peer or "")}
    for key in sorted(names, key=lambda key: -cells_of_text(names[key])):
        size = cells_of_text(names[key])
        if over > 0 and size > SHORTEST_NAME:
            names[key] = cut_left(names[key], max(SHORTEST_NAME, size - over))
            over -= size - cells_of_text(names[key])
    return view._replace(local=names["local"] or view.local, peer=names["peer"] or view.peer)


def _files_line(files: tuple[FileView, ...]) -> Fragments:
    """The files on disk now: one the session made and that was unlinked since is left out, as in `ls`."""
    present = [f for f in files if f.kind != "missing"]
    if not present:
        return [("class:dim", "socket files: none")]
    line: Fragments = [("class:dim", "socket files:")]
    for file in present:
        line.append(("", f"  {file.path}"))
        line.append(file_status(file))
    return line


def file_status(file: FileView) -> tuple[str, str]:
    if file.kind == "other":
        return ("class:dim", " (not a socket)")
    if file.bound and file.owner:
        return ("class:ok", f" (bound: {file.owner.process} fd {file.owner.fd})")
    if file.bound:
        return ("class:ok", " (bound)")
    return ("class:stale", " (STALE: no socket bound; bind gets EADDRINUSE)")
