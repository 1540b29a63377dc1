"""Read the kernel's AF_UNIX sockets: NETLINK_SOCK_DIAG, or /proc/net/unix where it is refused.

With procfs.py (processes) and holders.py (who holds a peer outside the session),
these are the modules that ask the kernel what is true, so that the panel never
shows a simulation. Stdlib only (no pyroute2: ~180 ms to import), no printing, and
only plain records (NamedTuples) come out. A socket that is gone when asked for is an
ordinary event here: the readers return None instead of raising.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import socket
import struct
from typing import NamedTuple

from sockrepl.protocol import NETLINK_SOCK_DIAG

# sock_diag reports AF_UNIX states in TCP's numbering (docs/kernel-notes.md, fact 5)
TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN = 1, 7, 10


class UnixSocket(NamedTuple):
    """One AF_UNIX socket as sock_diag (or /proc/net/unix) describes it."""

    inode: int
    type: int                       # 1 SOCK_STREAM, 2 SOCK_DGRAM, 5 SOCK_SEQPACKET
    state: int                      # TCP numbering: 1 ESTAB, 7 UNCONN, 10 LISTEN
    name: bytes | None              # sun_path; abstract names start with b"\0"
    vfs: tuple[int, int] | None     # (st_dev, st_ino) of the socket file
    peer: int                       # peer inode, 0 if none
    icons: tuple[int, ...]          # listener: client inodes of pending connections
    rqueue: int                     # UNIX_DIAG_RQLEN, first half
    wqueue: int                     # listener: backlog; others: memory charged
    shutdown: int | None            # 1 = RCV_SHUTDOWN, 2 = SEND_SHUTDOWN
    uid: int | None                 # UNIX_DIAG_UID

    @property
    def binds_its_file(self) -> bool:
        """An accepted connection shares its listener's socket file: only the socket that bound it counts."""
        return self.type == socket.SOCK_DGRAM or self.state != TCP_ESTABLISHED


class SocketTable(NamedTuple):
    """Every AF_UNIX socket the kernel reported, read once per snapshot."""

    sockets: dict[int, UnixSocket]  # by inode
    limited: bool                   # read from /proc/net/unix: no queues, no peers


class NetView(NamedTuple):
    """Which network namespace's AF_UNIX sockets to read (abstract names live per namespace).

    The host's by default; a lesson's private one through a sock_diag socket made inside
    it (a netlink socket answers for the namespace it was made in) and the /proc/net/unix
    of a process inside it.
    """

    diag: socket.socket | None = None  # None: a fresh one, in sockrepl's own namespace
    proc_net_unix: str | None = "/proc/net/unix"  # None: no process is inside, so no socket either


HOST = NetView()


# --- NETLINK_SOCK_DIAG --------------------------------------------------------

# <linux/netlink.h>, <linux/sock_diag.h>, <linux/unix_diag.h>: none of these is in the standard library
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
SOCK_DIAG_BY_FAMILY = 20
UDIAG_SHOW_NAME, UDIAG_SHOW_VFS, UDIAG_SHOW_PEER, UDIAG_SHOW_ICONS, UDIAG_SHOW_RQLEN, UDIAG_SHOW_UID = (
    1, 2, 4, 8, 16, 64)
UNIX_DIAG_NAME, UNIX_DIAG_VFS, UNIX_DIAG_PEER, UNIX_DIAG_ICONS, UNIX_DIAG_RQLEN, UNIX_DIAG_SHUTDOWN, UNIX_DIAG_UID = (
    0, 1, 2, 3, 4, 6, 7)  # 5, MEMINFO, is not asked for

_SHOW = (UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN
         | UDIAG_SHOW_UID)
_NLMSG = struct.Struct("=IHHII")     # len, type, flags, seq, pid
_DIAG_MSG = struct.Struct("=BBBBI")  # family, type, state, pad, ino (cookie unused)
_RTA = struct.Struct("=HH")
_U32, _U32X2 = struct.Struct("=I"), struct.Struct("=II")
_BUFSIZE = 65536                     # the kernel caps dump batches at 32 KiB


def _request(seq: int, inode: int = 0) -> bytes:
    """A dump of every socket, or (`inode`) the one socket with that inode (cookie ~0: not checked)."""
    req = struct.pack("=BBHIII2I", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, inode, _SHOW,
                      0xFFFFFFFF, 0xFFFFFFFF)
    flags = NLM_F_REQUEST if inode else NLM_F_REQUEST | NLM_F_DUMP
    return _NLMSG.pack(_NLMSG.size + len(req), SOCK_DIAG_BY_FAMILY, flags, seq, 0) + req


def _parse_attrs(buf: memoryview, a: int, end: int):
    """The rtattr walk: (name, vfs, peer, icons, rq, wq, shutdown, uid)."""
    name = vfs = shut = uid = None
    peer = rq = wq = 0
    icons: tuple[int, ...] = ()
    while a + 4 <= end:
        alen, atype = _RTA.unpack_from(buf, a)
        if alen < 4:
            break
        if atype == UNIX_DIAG_NAME:                  # a path keeps its NUL
            name = bytes(buf[a + 4:a + alen])
            if name[:1] != b"\0":
                name = name.split(b"\0", 1)[0]
        elif atype == UNIX_DIAG_VFS:                 # ino, kernel dev_t
            ino, kdev = _U32X2.unpack_from(buf, a + 4)
            vfs = (os.makedev(kdev >> 20, kdev & 0xFFFFF), ino)   # as os.stat() has it
        elif atype == UNIX_DIAG_PEER:
            peer = _U32.unpack_from(buf, a + 4)[0]
        elif atype == UNIX_DIAG_ICONS:
            icons = struct.unpack_from(f"={(alen - 4) // 4}I", buf, a + 4)
        elif atype == UNIX_DIAG_RQLEN:
            rq, wq = _U32X2.unpack_from(buf, a + 4)
        elif atype == UNIX_DIAG_SHUTDOWN:
            shut = buf[a + 4]
        elif atype == UNIX_DIAG_UID:
            uid = _U32.unpack_from(buf, a + 4)[0]
        a += (alen + 3) & ~3
    return name, vfs, peer, icons, rq, wq, shut, uid


def _parse_batch(buf: memoryview, size: int, seq: int, out: dict) -> bool:
    """Parse one datagram of the dump into `out`; True once NLMSG_DONE is seen."""
    unpack_hdr, unpack_msg = _NLMSG.unpack_from, _DIAG_MSG.unpack_from
    off = 0
    while off + 16 <= size:
        length, kind, _flags, mseq, _pid = unpack_hdr(buf, off)
        if length < 16 or off + length > size:
            raise OSError(errno.EPROTO, "malformed netlink message")
        if mseq != seq:
            pass                                     # not ours
        elif kind == NLMSG_DONE:
            return True
        elif kind == NLMSG_ERROR:
            code = -struct.unpack_from("=i", buf, off + 16)[0]
            raise OSError(code, os.strerror(code))
        elif kind == SOCK_DIAG_BY_FAMILY:
            _fam, type_, state, _pad, inode = unpack_msg(buf, off + 16)
            name, vfs, peer, icons, rq, wq, shut, uid = _parse_attrs(buf, off + 32, off + length)
            out[inode] = UnixSocket(inode, type_, state, name, vfs, peer, icons, rq, wq, shut, uid)
        off += (length + 3) & ~3
    return False


_sequence = itertools.count(1)


def _diag_socket(net: NetView) -> socket.socket:
    """A NETLINK_SOCK_DIAG socket for `net`: a fresh one for the host, the namespace's own otherwise."""
    if net.diag is not None:
        return socket.socket(fileno=os.dup(net.diag.fileno()))  # closing it leaves the namespace's open
    return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)


def _next_seq() -> int:
    """A new sequence number each time: a kept socket may still hold the rest of an earlier, cut-short dump."""
    return (os.getpid() + next(_sequence)) & 0x7FFFFFFF or 1


def _dump_netlink(net: NetView) -> dict[int, UnixSocket]:
    out: dict[int, UnixSocket] = {}
    seq = _next_seq()
    buf = bytearray(_BUFSIZE)
    view = memoryview(buf)
    with _diag_socket(net) as nl:
        nl.settimeout(2.0)                           # never hang the REPL on a dump
        nl.send(_request(seq))
        while True:
            size = nl.recv_into(buf, 0, socket.MSG_TRUNC)
            if size > _BUFSIZE:
                raise OSError(errno.EMSGSIZE, "netlink message truncated")
            if _parse_batch(view, size, seq, out):
                return out


def read_unix_socket(inode: int, net: NetView = HOST) -> UnixSocket | None:
    """One socket by its inode (sock_diag's exact lookup: no dump); None if it is gone or unreadable."""
    out: dict[int, UnixSocket] = {}
    seq = _next_seq()
    buf = bytearray(_BUFSIZE)
    try:
        with _diag_socket(net) as nl:
            nl.settimeout(2.0)
            nl.send(_request(seq, inode))
            while inode not in out:
                size = nl.recv_into(buf, 0, socket.MSG_TRUNC)
                if size > _BUFSIZE or _parse_batch(memoryview(buf), size, seq, out):
                    break
    except (OSError, struct.error):
        return None
    return out.get(inode)


def read_unix_sockets(net: NetView = HOST) -> SocketTable:
    """One NETLINK_SOCK_DIAG dump of every AF_UNIX socket in `net` (what `ss -xa` shows there).

    Falls back to /proc/net/unix (limited=True: no queues, peers, uid, vfs) when
    the netlink socket cannot be opened or the dump fails, e.g. in a sandbox.
    """
    try:
        return SocketTable(_dump_netlink(net), False)
    except (OSError, struct.error):
        if net.proc_net_unix is None:
            return SocketTable({}, True)
        with open(net.proc_net_unix, encoding="utf-8", errors="surrogateescape") as f:
            return SocketTable(parse_proc_net_unix(f.read()), True)


# "%pK: %08X %08X %08X %04X %02X %5lu" then optionally " " + path (net/unix/af_unix.c)
_PROC_LINE = re.compile(r"^[0-9a-fA-F]+: \S+ \S+ ([0-9A-Fa-f]+) ([0-9A-Fa-f]+) "
                        r"([0-9A-Fa-f]+) +(\d+)(?: (.*))?$")


def parse_proc_net_unix(text: str) -> dict[int, UnixSocket]:
    """Parse /proc/net/unix into UnixSockets (pure, for the no-netlink fallback).

    The St column is the socket's SS_* state, mapped here to the TCP numbering of
    sock_diag: flag 00010000 -> 10 LISTEN, connected -> 1 ESTAB, else 7 UNCONN.
    Lines with inode 0 (the server half of a pending connection) are skipped, as
    sock_diag does. The kernel prints abstract names with '@' for every NUL, so an
    abstract name comes back as b"\\0" + the rest (inner NULs cannot be recovered).
    """
    out: dict[int, UnixSocket] = {}
    for line in text.splitlines():
        m = _PROC_LINE.match(line)
        if not m:
            continue                                 # header or garbage
        flags, type_, st, inode_s, path = m.groups()
        inode = int(inode_s)
        if inode == 0:
            continue
        if int(flags, 16) & 0x10000:                 # __SO_ACCEPTCON  # noqa: SIM108 (one comment a case)
            state = 10
        else:                                        # SS_CONNECTING, SS_CONNECTED
            state = 1 if int(st, 16) in (2, 3) else 7
        name = None
        if path is not None:
            raw = path.encode("utf-8", "surrogateescape")
            name = b"\0" + raw[1:] if raw[:1] == b"@" else raw
        out[inode] = UnixSocket(inode, int(type_, 16), state, name, None, 0, (), 0, 0, None, None)
    return out
