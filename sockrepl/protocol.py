"""What the session and a worker say to each other: typed records, and their binary framing.

Both sides import this one file: the session as part of the package, the worker
(`python -I -S worker.py`, no site, no user paths) by putting the package's own
parent directory at the end of its path. So it imports only the standard library,
and little of it: every process start waits for it.

A request is `Request(op, args)`, the command's name and its parsed arguments. A
reply is one `Outcome`: the call's return value, its errno, and its out-parameters
as one record per kind of call (`Out`); or `Hello` once at start, or `Internal` for
a bug of the worker's. Each message is a 4-byte length, then its body: a request
in `marshal`'s form, a reply as struct-packed tagged fields (bytes as they are: no
hex, no JSON).
"""

from __future__ import annotations

import marshal
import struct
from collections import namedtuple

TYPE_CHECKING = False  # mypy reads `typing`; at run time importing it would cost the worker more than the rest
if TYPE_CHECKING:
    from typing import Literal, NamedTuple

    Disposition = Literal["SIG_IGN", "SIG_DFL", "handler"]  # what signal() returns: the action it replaced
else:
    class _RecordType(type):
        """typing.NamedTuple's class syntax, as collections.namedtuple: fields from the annotations."""

        def __new__(cls, name, bases, namespace):
            fields = list(namespace.get("__annotations__", {}))
            record = namedtuple(name, fields, defaults=[namespace[f] for f in fields if f in namespace],
                                module=namespace["__module__"])
            for key, value in namespace.items():
                if key not in fields and key not in ("__annotations__", "__module__", "__qualname__"):
                    setattr(record, key, value)
            return record

    def NamedTuple():  # a base class by name only, as typing's is
        raise TypeError("NamedTuple is a base class")

    _RECORD = type.__new__(_RecordType, "NamedTuple", (), {})
    NamedTuple.__mro_entries__ = lambda bases: (_RECORD,)

SOCKADDR_UN_SIZE = 110  # sizeof(struct sockaddr_un): the buffer a call that returns an address is given
NETLINK_SOCK_DIAG = 4  # <linux/netlink.h>, not in socket: the session reads sockets through one

# `worker.py namespace FD` says one of these on FD; "ready" comes with the namespace's fds (SCM_RIGHTS):
# a NETLINK_SOCK_DIAG socket made inside it, then /proc/self/ns/user (not for root) and /proc/self/ns/net
NAMESPACE_READY, NAMESPACE_REFUSED = b"ok", b"refused"

Value = int | bool | bytes | str | None  # a request argument


class Request(NamedTuple):
    op: str  # the command's name: syscalls.py has one `op_NAME` per system call
    args: dict[str, Value]


class Pair(NamedTuple):
    """socketpair: the two fds it filled in."""

    fds: tuple[int, ...]


class Passed(NamedTuple):
    """bind, connect, sendto: the address length the call was given (the user's, or the path's)."""

    addrlen: int


class Address(NamedTuple):
    """An address the kernel returned (accept, getsockname, getpeername, recvfrom's sender)."""

    addr: bytes | None  # AF_UNIX: sun_path as returned, None when the kernel filled in the family only;
    addrlen: int        # another family (an AF_INET socket's): the bytes after sa_family
    family: int = 1     # sa_family as the kernel wrote it (AF_UNIX = 1)


class Received(NamedTuple):
    """recv, recvfrom, read."""

    data: bytes | None  # None when the call failed
    sotype: int | None  # the fd's SO_TYPE; None for an fd that is not a socket
    datagram_len: int | None = None  # a datagram's full length, from a MSG_PEEK|MSG_TRUNC peek first
    source: Address | None = None  # recvfrom's src_addr, when asked for and the call returned

    @property
    def from_unbound(self) -> bool:
        """recvfrom's sender has no address (it never called bind): the kernel said addrlen 0."""
        return self.source is not None and self.source.addrlen == 0


class Option(NamedTuple):
    """getsockopt: the value's ints (three for SO_PEERCRED), and optlen as the kernel set it."""

    value: tuple[int, ...] | None
    optlen: int


class Flags(NamedTuple):
    """fcntl: the flags F_GETFL read (for O_NONBLOCK on/off), and those given to F_SETFL."""

    getfl: int | None
    newflags: int


class Status(NamedTuple):
    """stat: the fields of struct stat that sockrepl shows."""

    mode: int
    size: int
    uid: int
    gid: int
    ino: int


class Previous(NamedTuple):
    """signal: the action it replaced."""

    action: Disposition


Out = Pair | Passed | Address | Received | Option | Flags | Status | Previous


class Outcome(NamedTuple):
    """A system call's result as the kernel gave it, with its out-parameters."""

    ret: int
    errno: int = 0
    out: Out | None = None

    @property
    def failed(self) -> bool:
        return self.ret == -1


class Hello(NamedTuple):
    """A worker's first message: it is ready, as this user."""

    pid: int
    uid: int
    gid: int


class Internal(NamedTuple):
    """A bug of the worker's in one request: it answers this and keeps its fds."""

    error: str


REPLIES: tuple[type, ...] = (Outcome, Hello, Internal, Pair, Passed, Address, Received, Option, Flags, Status,
                             Previous)
_TAG = {kind: bytes((i,)) for i, kind in enumerate(REPLIES)}
_LEN = struct.Struct("<I")
_INT = struct.Struct("<q")
_OUTCOME = struct.Struct("<Bqi")  # Outcome's tag, ret and errno: most replies are these and an empty `out`


def request_frame(request: Request) -> bytes:
    """A request as it goes down the pipe: its length, then marshal's bytes (the worker trusts its session)."""
    body = marshal.dumps((request.op, request.args))
    return _LEN.pack(len(body)) + body


def take_requests(buffer: bytearray) -> list[Request]:
    """Every whole request at the front of `buffer`, taken off it; a part of one stays for the next read."""
    return [Request(*marshal.loads(body)) for body in _bodies(buffer)]


def reply_frame(reply: Outcome | Hello | Internal) -> bytes:
    """A reply as it goes up the pipe: its length, then its tagged fields (struct, no hex)."""
    if type(reply) is Outcome:
        parts = [_OUTCOME.pack(0, reply.ret, reply.errno)]
        _encode(reply.out, parts)
    else:
        parts = []
        _encode(reply, parts)
    body = b"".join(parts)
    return _LEN.pack(len(body)) + body


def take_replies(buffer: bytearray) -> list[object]:
    """Every whole reply at the front of `buffer`, taken off it; a part of one stays for the next read.

    Replies are read without trusting them (the worker may run as another user): any bytes
    that are not a reply raise ValueError, never more than that.
    """
    replies: list[object] = []
    for body in _bodies(buffer):
        try:
            if body[0] == 0:
                ret, errno = _OUTCOME.unpack_from(body)[1:]
                out, used = _decode(body, _OUTCOME.size)
                if out is not None and not isinstance(out, Out):
                    raise TypeError(f"{type(out).__name__} is no call's out-parameters")
                reply: object = Outcome(ret, errno, out)
            else:
                reply, used = _decode(body, 0)
        except (IndexError, struct.error, TypeError, UnicodeDecodeError) as error:
            raise ValueError(f"a reply cut short or malformed: {error}") from None
        if used != len(body):
            raise ValueError(f"{len(body) - used} bytes left over in a reply")
        replies.append(reply)
    return replies


def _bodies(buffer: bytearray) -> list[bytes]:
    bodies = []
    start = 0
    while len(buffer) - start >= _LEN.size:
        (length,) = _LEN.unpack_from(buffer, start)
        end = start + _LEN.size + length
        if len(buffer) < end:
            break
        bodies.append(bytes(buffer[start + _LEN.size:end]))
        start = end
    del buffer[:start]
    return bodies


def _encode(value: object, parts: list[bytes]) -> None:
    tag = _TAG.get(type(value))
    if tag is not None:
        parts.append(b"r" + tag)
        for item in value:  # type: ignore[attr-defined]  # a NamedTuple of REPLIES
            _encode(item, parts)
    elif value is None:
        parts.append(b"N")
    elif isinstance(value, int):
        parts.append(b"i" + _INT.pack(value))
    elif isinstance(value, bytes):
        parts += (b"b" + _LEN.pack(len(value)), value)
    elif isinstance(value, str):
        raw = value.encode("utf-8", "surrogateescape")
        parts += (b"s" + _LEN.pack(len(raw)), raw)
    elif isinstance(value, tuple):
        parts.append(b"t" + _LEN.pack(len(value)))
        for item in value:
            _encode(item, parts)
    else:
        raise TypeError(f"a reply carries no {type(value).__name__}")


def _decode(body: bytes, at: int) -> tuple[object, int]:
    """One tagged value from `at`: (the value, where the next begins)."""
    tag = body[at]
    at += 1
    if tag == 0x4E:  # N
        return None, at
    if tag == 0x69:  # i
        return _INT.unpack_from(body, at)[0], at + _INT.size
    if tag in (0x62, 0x73):  # b, s
        (length,) = _LEN.unpack_from(body, at)
        at += _LEN.size
        raw = body[at:at + length]
        if len(raw) != length:
            raise IndexError("a reply ends inside a string")
        return (raw if tag == 0x62 else raw.decode("utf-8", "surrogateescape")), at + length
    if tag == 0x74:  # t
        (count,) = _LEN.unpack_from(body, at)
        at += _LEN.size
        items = []
        for _ in range(count):
            item, at = _decode(body, at)
            items.append(item)
        return tuple(items), at
    if tag == 0x72:  # r
        kind = REPLIES[body[at]]
        at += 1
        fields = []
        for _ in kind._fields:  # type: ignore[attr-defined]  # a NamedTuple of REPLIES
            item, at = _decode(body, at)
            fields.append(item)
        return kind(*fields), at
    raise TypeError(f"unknown tag {tag:#x}")
