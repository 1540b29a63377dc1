"""`ss`, `ls` and `state --json`: the snapshot as the system's tools and a program read it.

Pure: the user and group names `ls` prints come in the FileListing, looked up
when the command ran.
"""

import json
import socket
import stat
import time
from typing import Any

from sockrepl.analogy import words
from sockrepl.kernel import TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN
from sockrepl.panel import WAITS, Fragments, file_status
from sockrepl.state import Blocked, FdView, FileListing, Snapshot
from sockrepl.table import table_lines

SS_STATES = {TCP_ESTABLISHED: "ESTAB", TCP_CLOSE: "UNCONN", TCP_LISTEN: "LISTEN"}
SS_NETIDS: dict[int, str] = {socket.SOCK_STREAM: "u_str", socket.SOCK_DGRAM: "u_dgr", socket.SOCK_SEQPACKET: "u_seq"}


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
    lines = table_lines(rows)
    if len(rows) == 1:
        lines.append([("class:dim", "(no sockets in this session)")])
    if snapshot.limited:
        lines.append([("class:warn", "(limited: no sock_diag: queues and peers unknown)")])
    return lines


def ls_lines(listing: FileListing) -> list[Fragments]:
    """`ls -l` of the session's socket files, with who is bound to each."""
    files = [f for f in listing.files if f.kind != "missing"]
    if not files:
        return [[("class:dim", "no socket files (bind a socket to a path to make one)")]]
    lines = []
    for file in files:
        if file.mode is None or file.uid is None or file.gid is None:
            continue  # only a missing file has no mode, and those were left out
        when = time.strftime("%b %d %H:%M", time.localtime(file.mtime))
        user, group = listing.users.get(file.uid, str(file.uid)), listing.groups.get(file.gid, str(file.gid))
        text = f"{stat.filemode(file.mode)} 1 {user} {group} 0 {when} {file.path}"
        lines.append([("", text), file_status(file)])
    return lines


def state_json(snapshot: Snapshot) -> str:
    """One line of JSON: the snapshot's facts, with the panel's words beside them (`why`, `analogy`)."""
    processes = []
    for proc in snapshot.processes:
        item = _as_json(proc)
        item["blocked"] = _blocked_json(proc.blocked) if proc.blocked else None
        item["fds"] = [_fd_json(view, proc.blocked) for view in proc.fds]
        processes.append(item)
    document = {"processes": processes, "files": [_as_json(f) for f in snapshot.files], "limited": snapshot.limited,
                "scratch": snapshot.scratch, "uid": snapshot.uid, "queued": [_as_json(q) for q in snapshot.queued]}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _as_json(value: Any) -> Any:
    """A record as an object by its field names, its records too (json.dumps would write a list)."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: _as_json(field) for key, field in value._asdict().items()}
    if isinstance(value, tuple | list):
        return [_as_json(item) for item in value]
    return value


def _blocked_json(blocked: Blocked) -> dict:
    item = {key: value for key, value in _as_json(blocked).items() if key != "state"}
    return {**item, "why": WAITS.get(blocked.call), "state": blocked.state}


def _fd_json(view: FdView, blocked: Blocked | None) -> dict:
    """The fd's facts, its analogy words where they have always stood: after `accepted`."""
    facts = [(key, value) for key, value in _as_json(view).items() if key != "raw"]
    at = [key for key, _ in facts].index("accepted") + 1
    said = dict(zip(("analogy", "analogy_short"), words(view, blocked), strict=True))
    return {**dict(facts[:at]), **said, **dict(facts[at:])}
