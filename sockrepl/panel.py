"""The state panel and the other snapshot views (`state --json`, `ss`, `ls`), as styled lines.

A pure function of a Snapshot and the room available. Only the lines that fit
are built: a session with a thousand sockets draws as fast as one with ten.
"""

import stat
import time

from sockrepl.events import View
from sockrepl.render import process_style
from sockrepl.state import FdView, FileView, ProcessView, QueuedCall, Snapshot

Fragments = list[tuple[str, str]]
SS_STATES = {1: "ESTAB", 7: "UNCONN", 10: "LISTEN"}
SS_NETIDS = {1: "u_str", 2: "u_dgr", 5: "u_seq"}


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
    other = f"{view.peer_owner.process}:{view.peer_owner.fd}" if view.peer_owner else (view.peer or "?")
    if view.peer and view.peer_owner and view.peer != local:
        other = f"{view.peer} ({other})"
    return f"{local} ↔ {other}".strip() if local else f"↔ {other}"


def _extra(view: FdView, queued: tuple[QueuedCall, ...] = ()) -> str:
    parts = []
    if view.pending is not None:
        carried = "".join(_carried(call) for call in queued if call.listener_inode == view.inode)
        text = f"pending {view.pending}/{view.backlog}"
        if view.pending > (view.backlog or 0) and not carried:
            text += " (Linux: backlog+1)"
        parts.append(text + carried)
    if view.unread:
        parts.append(f"1st dgram {view.unread} B" if view.type == "DGRAM" else f"unread {view.unread} B")
    if view.shutdown:
        parts.append(f"shut {view.shutdown}")
    return ", ".join(parts)


def _carried(call: QueuedCall) -> str:
    """Data already sent on a call still in the queue: the kernel lists no socket that holds it."""
    if not call.sent and not call.send_q:
        return ""
    who = f"{call.caller.process}'s call" if call.caller else "a call"
    return f" · {who} carries {call.sent} B" if call.sent else f" · {who} carries data"


def _fd_row(view: FdView, queued: tuple[QueuedCall, ...] = ()) -> list[str]:
    return [f"fd {view.fd}", view.type, view.role, view.state, _where(view), _extra(view, queued)]


def _header(proc: ProcessView, own_uid: int) -> Fragments:
    marker = "▸ " if proc.current else "  "
    line: Fragments = [("class:dim", marker), (process_style(proc.name), proc.name),
                       ("class:dim", f"  pid {proc.pid}" + (f"  uid {proc.uid}" if proc.uid != own_uid else ""))]
    if proc.stopped:
        line.append(("class:blocked", "  STOPPED (SIGSTOP)"))
    elif proc.blocked:
        b = proc.blocked
        fd = "" if b.fd is None else str(b.fd)
        line.append(("class:blocked", f"  BLOCKED in {b.call}({fd})"))
        if b.why:
            line.append(("class:dim", f": {b.why}"))
    else:
        line.append(("class:ok", "  idle"))
    if not proc.fds and not proc.other_fds:
        line.append(("class:dim", "  (no sockets)"))
    return line


def panel_lines(snapshot: Snapshot, width: int = 80, height: int | None = None) -> list[Fragments]:
    """The panel: one block per process (header, one row per fd), then the socket files.

    When `height` is short, the current process keeps its rows and the others fold
    to their header line; what still does not fit is counted on one line. Only the
    rows that are shown are laid out.
    """
    tail = 1 + (1 if snapshot.limited else 0)
    room = (height if height is not None else 10**9) - tail
    blocks = [(proc, len(proc.fds) + len(proc.other_fds)) for proc in snapshot.processes]
    total = sum(1 + size for _, size in blocks)
    folded = total > room
    spare = room - len(blocks) - 1  # every header stays, and one line counts what is hidden
    shown_rows = {proc.name: size if not folded else min(size, max(spare, 0)) if proc.current else 0
                  for proc, size in blocks}
    views = [f for proc, _ in blocks for f in proc.fds[: shown_rows[proc.name]]]
    rows = [_fd_row(f, snapshot.queued) for f in views]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(6)]
    lines: list[Fragments] = []
    for proc, size in blocks:
        header = _header(proc, snapshot.uid)
        if size and not shown_rows[proc.name]:
            header.append(("class:dim", f"  ({size} fd{'s' if size > 1 else ''} not shown)"))
        lines.append(header)
        shown = proc.fds[: shown_rows[proc.name]]
        lines += [_socket_line(_fd_row(f, snapshot.queued), f, widths, width) for f in shown]
        lines += [[("class:dim", f"    fd {o.fd}  {o.target}")] for o in proc.other_fds[: shown_rows[proc.name]]]
    if folded:
        hidden = sum(size - shown_rows[proc.name] for proc, size in blocks)
        limit = max(room - 1, 0)
        hidden += max(len(lines) - limit, 0)
        lines = lines[:limit]
        lines.append([("class:dim", f"  … {hidden} more lines: state prints them all")])
    if not snapshot.processes:
        lines.append([("class:dim", "no processes yet: spawn server client")])
    lines.append(_files_line(snapshot.files))
    if snapshot.limited:
        lines.append([("class:warn", "(limited: no sock_diag, read from /proc/net/unix: no queues, no peers)")])
    return lines


def _socket_line(row: list[str], view: FdView, widths: list[int], width: int) -> Fragments:
    styles = ["class:dim", "", f"class:{view.role}", "class:call", "", "class:blocked"]
    line: Fragments = [("", "    ")]
    used = 4
    for index, (cell, style) in enumerate(zip(row, styles, strict=True)):
        if index >= 4 and not cell:
            continue
        text = cell.ljust(widths[index]) if index < 4 else cell
        if used + len(text) + 1 > width:
            text = text[: max(width - used - 2, 0)] + "…"
        line.append((style, text + " "))
        used += len(text) + 1
        if used >= width:
            return line
    room = width - used - 1
    for words in (view.analogy, view.analogy_short):
        if len(words) <= room:
            line.append(("class:analogy", " " + words))
            break
    return line


def _files_line(files: tuple[FileView, ...]) -> Fragments:
    if not files:
        return [("class:dim", "socket files: none")]
    line: Fragments = [("class:dim", "socket files:")]
    for file in (f for f in files if f.kind != "missing"):
        line.append(("", f"  {file.path}"))
        line.append(_file_status(file))
    return line


def _file_status(file: FileView) -> tuple[str, str]:
    if file.kind == "missing":
        return ("class:dim", " (removed)")
    if file.kind == "other":
        return ("class:dim", " (not a socket)")
    if file.bound and file.owner:
        return ("class:ok", f" (bound: {file.owner.process} fd {file.owner.fd})")
    if file.bound:
        return ("class:ok", " (bound)")
    return ("class:stale", " (STALE: no socket bound; bind gets EADDRINUSE)")


def ss_lines(snapshot: Snapshot) -> list[Fragments]:
    """The kernel's view in `ss -xap` columns, restricted to the session's sockets."""
    header = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process"]
    rows = [header]
    for proc in snapshot.processes:
        for view in proc.fds:
            k = view.raw
            if k is None:
                continue
            rows.append([
                SS_NETIDS.get(k.type, "u_???"), SS_STATES.get(k.state, str(k.state)), str(k.rqueue), str(k.wqueue),
                f"{view.local or '*'} {k.inode}", f"* {k.peer}",
                f'users:(("{proc.name}",pid={proc.pid},fd={view.fd}))',
            ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        text = " ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        lines.append([("class:heading" if index == 0 else "", text)])
    if len(rows) == 1:
        lines.append([("class:dim", "(no sockets in this session)")])
    if snapshot.limited:
        lines.append([("class:warn", "(limited: no sock_diag: queues and peers unknown)")])
    return lines


def ls_lines(snapshot: Snapshot) -> list[Fragments]:
    """`ls -l` of the session's socket files, with who is bound to each."""
    files = [f for f in snapshot.files if f.kind != "missing"]
    if not files:
        return [[("class:dim", "no socket files (bind a socket to a path to make one)")]]
    lines = []
    for file in files:
        if file.mode is None or file.uid is None or file.gid is None:
            continue  # only a missing file has no mode, and those were left out
        when = time.strftime("%b %d %H:%M", time.localtime(file.mtime))
        text = f"{stat.filemode(file.mode)} 1 {_user(file.uid)} {_group(file.gid)} 0 {when} {file.path}"
        lines.append([("", text), _file_status(file)])
    return lines


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def view_lines(view: View, width: int = 80) -> list[Fragments]:
    if view.kind == "state":
        return panel_lines(view.data, width)
    if view.kind == "state-json":
        return [[("", view.data.to_json())]]
    if view.kind == "ss":
        return ss_lines(view.data)
    if view.kind == "ls":
        return ls_lines(view.data)
    raise ValueError(f"unknown view {view.kind}")
