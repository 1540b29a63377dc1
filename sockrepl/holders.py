"""Which process holds a socket that no process of the session holds: the /proc/*/fd scan `ss -p` does.

A socket's other end may belong to a program outside sockrepl (the lecture's C
client, `nc -U`, a test). sock_diag names only the peer's inode; the holder is
found, as `ss -p` finds it, by reading every process's /proc/PID/fd links for
`socket:[INODE]`. That costs one readlink per open fd on the machine, so it is
done only for such peers, once per socket: an answer is kept while its inode
lives, and a kept holder is checked with one readlink before it is shown again.
Another user's processes cannot be read without privilege: no holder, then.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import NamedTuple

from sockrepl.procfs import socket_link


class Holder(NamedTuple):
    """A process outside the session holding a socket, as `ss -p` would name it."""

    command: str  # /proc/PID/comm, as the kernel keeps it: any bytes a process named itself (not escaped)
    pid: int
    fd: int


def _still(holder: Holder, inode: int) -> Holder | None:
    """`holder` with its command read again (it may have exec'd) if it still holds the socket, else None."""
    try:
        if os.readlink(f"/proc/{holder.pid}/fd/{holder.fd}") != socket_link(inode):
            return None
    except OSError:
        return None
    command = _command(holder.pid)
    return Holder(command, holder.pid, holder.fd) if command is not None else None


def _command(pid: int) -> str | None:
    """/proc/PID/comm without its newline; None if the process is gone (os.read: a third of open()'s cost)."""
    try:
        fd = os.open(f"/proc/{pid}/comm", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        raw = os.read(fd, 64)  # at most 15 bytes and a newline
    except OSError:
        return None
    finally:
        os.close(fd)
    return raw.removesuffix(b"\n").decode("utf-8", "surrogateescape")


def _scan(wanted: set[int]) -> dict[int, Holder]:
    """The first holder (lowest pid, lowest fd) of each wanted inode; stops once all are found."""
    links = {socket_link(inode): inode for inode in wanted}
    found: dict[int, Holder] = {}
    pids = sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    for pid in pids:
        base = f"/proc/{pid}/fd"
        try:
            entries = os.listdir(base)
        except OSError:  # another user's process (without privilege), or gone
            continue
        for entry in sorted(entries, key=int):
            try:
                inode = links.get(os.readlink(f"{base}/{entry}"))
            except OSError:
                continue
            if inode is not None and inode not in found:
                command = _command(pid)
                if command is not None:
                    found[inode] = Holder(command, pid, int(entry))
        if len(found) == len(links):
            break
    return found


class Holders:
    """The holders found so far, by inode, for a session's snapshots (None: no readable process holds it)."""

    def __init__(self) -> None:
        self._known: dict[int, Holder | None] = {}

    def of(self, inodes: Collection[int], alive: Collection[int]) -> dict[int, Holder]:
        """The holder of each of `inodes` that one can be found for; `alive`: every inode the kernel lists now."""
        self._known = {inode: holder for inode, holder in self._known.items() if inode in alive}
        for inode in inodes:
            holder = self._known.get(inode)
            if holder is not None:  # it may have closed the fd or exited: another process may still hold it
                if (now := _still(holder, inode)) is None:
                    del self._known[inode]
                else:
                    self._known[inode] = now
        missing = {inode for inode in inodes if inode not in self._known}
        if missing:
            found = _scan(missing)
            self._known.update({inode: found.get(inode) for inode in missing})
        return {inode: holder for inode in inodes if (holder := self._known.get(inode)) is not None}
