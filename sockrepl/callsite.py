"""Which sockets a call touched, read from the kernel at the moment of the call.

A timeline ties a write to the read that got its bytes, a close to the EOF it
caused, a connect to the accept that took it. fd numbers are reused, so the ties
are made with the kernel's names for sockets (inodes), read when the call starts
(the fd may be gone after a close) and, for accept, when it returns. One sock_diag
lookup of that one socket per call that can be tied (a dump for connect and sendto,
to find the socket an address leads to); none for the others.
"""

import os
from pathlib import Path
from typing import NamedTuple

from sockrepl import kernel, procfs
from sockrepl.commands import SENDS, Command

TIED_AT_START = ("connect", *SENDS, "close", "shutdown")


class Site(NamedTuple):
    """The socket the call's fd named, and the one at its other end (or that its address led to)."""

    inode: int | None
    peer: int | None
    queued: tuple[int, ...] = ()  # a listener's pending callers (their inodes): a close resets them


def at_start(pid: int, command: Command, scratch: Path, net: kernel.NetView = kernel.HOST) -> Site:
    """Read before the call runs: after a close, the fd says nothing any more."""
    fd = command.args.get("fd")
    inode = procfs.socket_inode(pid, fd) if isinstance(fd, int) else None
    if command.name not in TIED_AT_START or inode is None:
        return Site(inode, None)
    address = command.args.get("addr")
    if command.name in ("connect", "sendto") and isinstance(address, bytes):
        try:
            table = kernel.read_unix_sockets(net)  # which socket an address leads to: only a dump says
        except OSError:
            return Site(inode, None)
        return Site(inode, None if table.limited else _bound_to(address, table, scratch))
    sock = kernel.read_unix_socket(inode, net)
    if sock is None:
        return Site(inode, None)
    return Site(inode, sock.peer or None, sock.icons)


def at_return(pid: int, command: Command, fds: tuple[int, ...], net: kernel.NetView = kernel.HOST
              ) -> tuple[tuple[int, ...], int | None]:
    """Read as the call returns: the sockets its new `fds` name (0: not a socket), and for accept the
    caller's socket the accepted one is connected to (the kernel's UNIX_DIAG_PEER)."""
    sockets = tuple(procfs.socket_inode(pid, fd) or 0 for fd in fds)
    if command.name != "accept" or not sockets or not sockets[0]:
        return sockets, None
    sock = kernel.read_unix_socket(sockets[0], net)
    return sockets, sock.peer or None if sock else None


def _bound_to(address: bytes, table: kernel.SocketTable, scratch: Path) -> int | None:
    """The socket an address leads to: by name for an abstract one, by the file's inode for a path."""
    if address.startswith(b"\0"):
        return next((s.inode for s in table.sockets.values() if s.name == address), None)
    path = address.split(b"\0", 1)[0]
    if not path:
        return None
    try:
        file_inode = os.stat(os.path.join(os.fsencode(scratch), path)).st_ino
    except OSError:
        return None
    binders = [s for s in table.sockets.values()
               if s.vfs and s.vfs[1] == file_inode and s.binds_its_file]
    return binders[0].inode if binders else None
