"""The one line printed under a call: what probably happened, what to try.

The kernel answers (the errno, as strace prints it); this module only explains,
in the lecture's words (phone for stream sockets, mail for datagrams). Every
line matches what Linux does on AF_UNIX (docs/kernel-notes.md), e.g. the backlog
holds backlog + 1, and recv on an unconnected stream socket is EINVAL, not
ENOTCONN. Pure data: a call-specific table, then one line per errno.
"""

from sockrepl import constants as C
from sockrepl.commands import RECEIVES, Command
from sockrepl.events import Outcome
from sockrepl.protocol import Received

MSG_TRUNC = C.MSG_FLAGS["MSG_TRUNC"]
SOCK_STREAM = C.SOCKET_TYPES["SOCK_STREAM"]

# Python's errno.errorcode names a few numbers differently from strace; the
# table uses strace's names (95 is EOPNOTSUPP there, ENOTSUP in Python).
SYNONYMS = {
    "ENOTSUP": "EOPNOTSUPP",
    "EWOULDBLOCK": "EAGAIN",
    "EDEADLOCK": "EDEADLK",
}

_EPIPE_SIGNAL = "the other side hung up (or you did SHUT_WR); SIGPIPE is ignored here, else it would kill"
_ENOTCONN_SEND = "not connected: connect (dial) or accept first; a datagram socket can use sendto"
_EAGAIN_SEND = "non-blocking and no room: the peer is not reading (recv there, then retry)"
_EMSGSIZE = "datagram too big: the limit is SO_SNDBUF - 32 bytes (212960 by default)"
_ECONNREFUSED_DGRAM = "the datagram peer you connected to has closed; the next send says ENOTCONN"
_EPERM_DGRAM = "the receiver is connected to another socket and takes mail only from that one"
_ECONNRESET_RECV = "line cut: the peer closed with your data unread (or was never accepted); next read: 0"
_EINVAL_RECV = "not a connected stream: on a listener, read from the fd accept returned"
_EAGAIN_RECV = "non-blocking and nothing has arrived yet: try again later (or O_NONBLOCK off)"
_EMFILE = "this process has no free fd left: close some first"

CALL_ERRORS: dict[tuple[str, str], str] = {
    # socket / socketpair: install a phone, put up a mailbox
    ("socket", "EAFNOSUPPORT"): "unknown address family: for these sockets use AF_UNIX",
    ("socket", "ESOCKTNOSUPPORT"): "AF_UNIX has SOCK_STREAM (phone), SOCK_DGRAM (mail) and SOCK_SEQPACKET",
    ("socket", "EPROTONOSUPPORT"): "AF_UNIX has one protocol: pass 0",
    ("socket", "EINVAL"): "unknown flag in the type: only SOCK_NONBLOCK and SOCK_CLOEXEC may be OR-ed in",
    ("socket", "EMFILE"): _EMFILE,
    ("socketpair", "EOPNOTSUPP"): "only AF_UNIX makes connected pairs: use AF_UNIX",
    ("socketpair", "EAFNOSUPPORT"): "unknown address family: use AF_UNIX",
    ("socketpair", "ESOCKTNOSUPPORT"): "AF_UNIX has SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET",
    ("socketpair", "EPROTONOSUPPORT"): "AF_UNIX has one protocol: pass 0",
    ("socketpair", "EMFILE"): "a pair needs two free fds and this process has fewer: close some",
    # bind: get a number / a postal address
    ("bind", "EADDRINUSE"): "that path already exists, maybe a stale socket file: unlink it first",
    ("bind", "EINVAL"): "the socket already has an address (one each), or is not AF_UNIX: make a new one",
    ("bind", "ENOENT"): "a directory on that path does not exist: bind creates only the socket file",
    ("bind", "ENOTDIR"): "a part of that path is a file, not a directory",
    ("bind", "EACCES"): "no write permission on the directory, so the socket file cannot be created",
    ("bind", "EROFS"): "read-only file system: use a relative path (it lives in the scratch directory)",
    # listen: turn the ringer on
    ("listen", "EINVAL"): "listen needs a bound, unconnected stream socket: no number, no ringer (bind it)",
    ("listen", "EOPNOTSUPP"): "a datagram socket cannot listen: mailboxes do not ring (use recvfrom)",
    # accept: pick up the phone
    ("accept", "EINVAL"): "this socket is not listening: turn the ringer on first (listen)",
    ("accept", "EOPNOTSUPP"): "a datagram socket gets letters, not calls: use recvfrom",
    ("accept", "EAGAIN"): "non-blocking and nobody is calling yet: no connection pending",
    ("accept", "EMFILE"): "no free fd for the new connection; the call stays queued: close an fd, retry",
    # connect: dial
    ("connect", "ENOENT"):
        "no socket file at that path: nobody has that number (is the server bound? is the path right?)",
    ("connect", "ECONNREFUSED"): "a file is there but nobody is listening: the ringer is off (or the server is gone)",
    ("connect", "EACCES"): "no write permission on the socket file: you may not dial it (root may)",
    ("connect", "EPROTOTYPE"): "the socket there has another type: stream calls stream, datagram mails datagram",
    ("connect", "EISCONN"): "this socket is already in a call: use a new socket to call again",
    ("connect", "EAGAIN"): "non-blocking and the line is busy: backlog + 1 calls wait (accept there, retry)",
    ("connect", "EINTR"): "interrupted while waiting for a free line: not connected, call connect again",
    ("connect", "EINVAL"): "a listening socket cannot dial out (or addrlen is wrong): use a new socket",
    ("connect", "ENOTDIR"): "a part of that path is a file, not a directory",
    # send / write: talk
    ("send", "EPIPE"): "the other side hung up (or you did SHUT_WR); SIGPIPE ignored or MSG_NOSIGNAL, else killed",
    ("send", "ENOTCONN"): _ENOTCONN_SEND,
    ("send", "EAGAIN"): _EAGAIN_SEND,
    ("send", "EMSGSIZE"): _EMSGSIZE,
    ("send", "ECONNREFUSED"): _ECONNREFUSED_DGRAM,
    ("send", "EPERM"): _EPERM_DGRAM,
    ("send", "EOPNOTSUPP"): "MSG_OOB needs a stream socket",
    ("write", "EPIPE"): _EPIPE_SIGNAL,
    ("write", "ENOTCONN"): _ENOTCONN_SEND,
    ("write", "EAGAIN"): _EAGAIN_SEND,
    ("write", "EMSGSIZE"): _EMSGSIZE,
    ("write", "ECONNREFUSED"): _ECONNREFUSED_DGRAM,
    ("write", "EPERM"): _EPERM_DGRAM,
    # sendto: post a letter
    ("sendto", "ENOENT"): "no socket file at that path: no such postal address (is the receiver bound?)",
    ("sendto", "ECONNREFUSED"): "no mailbox behind that address: a stale socket file, a non-socket, or a free @name",
    ("sendto", "EINVAL"): "an empty address is nowhere to post to (\"\" means autobind only in bind)",
    ("sendto", "EPROTOTYPE"): "a stream socket lives at that address: phones take no letters",
    ("sendto", "EACCES"): "no write permission on the socket file: you may not post there (root may)",
    ("sendto", "EPERM"): _EPERM_DGRAM,
    ("sendto", "EMSGSIZE"): _EMSGSIZE,
    ("sendto", "EAGAIN"): "non-blocking and the mailbox is full (11 letters): wait for recvfrom, retry",
    ("sendto", "EISCONN"): "a connected stream socket takes no address: use send",
    ("sendto", "EOPNOTSUPP"): "a stream socket takes no address: connect, then send",
    ("sendto", "ENOTCONN"): "no address given and not connected: sendto needs a destination",
    # recv / read / recvfrom: listen, check the mailbox
    ("recv", "ECONNRESET"): _ECONNRESET_RECV,
    ("recv", "EINVAL"): _EINVAL_RECV,
    ("recv", "EAGAIN"): _EAGAIN_RECV,
    ("read", "ECONNRESET"): _ECONNRESET_RECV,
    ("read", "EINVAL"): _EINVAL_RECV,
    ("read", "EAGAIN"): _EAGAIN_RECV,
    ("recvfrom", "ECONNRESET"): _ECONNRESET_RECV,
    ("recvfrom", "EINVAL"): _EINVAL_RECV,
    ("recvfrom", "EAGAIN"): "non-blocking and the mailbox is empty: no letter yet",
    # close / shutdown: hang up
    ("close", "EBADF"): "that fd is not open in this process: closed already? (`state` lists its fds)",
    ("shutdown", "EINVAL"): "how must be SHUT_RD, SHUT_WR or SHUT_RDWR",
    # names and options
    ("getpeername", "ENOTCONN"): "no peer: a listener, a new socket or an unconnected datagram socket has none",
    ("getsockopt", "ENOPROTOOPT"): "no such option: try SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF or SO_PEERCRED",
    ("getsockopt", "EOPNOTSUPP"): "AF_UNIX sockets have options at level SOL_SOCKET only",
    ("setsockopt", "ENOPROTOOPT"): "that option cannot be set here: SO_SNDBUF and SO_RCVBUF can",
    ("setsockopt", "EOPNOTSUPP"): "AF_UNIX sockets have options at level SOL_SOCKET only",
    ("setsockopt", "EINVAL"): "optlen is too small: the value is an int (4 bytes)",
    ("fcntl", "EINVAL"): "unknown fcntl command",
    # files
    ("unlink", "ENOENT"): "no such file: removed already, or the path is wrong (`ls` lists socket files)",
    ("unlink", "EACCES"): "no write permission on the directory (the file's own mode does not count)",
    ("unlink", "EPERM"): "sticky directory (like /tmp): only the file's owner may remove it",
    ("unlink", "EISDIR"): "that is a directory: unlink removes files",
    ("stat", "ENOENT"): "no such file: not bound yet, removed, or an abstract @name (those have no file)",
    ("open", "ENXIO"): "that is a socket file: you cannot open a phone number, dial it (socket + connect)",
    ("open", "EISDIR"): "a directory cannot be opened for writing",
    ("chmod", "EPERM"): "only the file's owner (or root) may change its mode",
    ("signal", "EINVAL"): "SIGKILL and SIGSTOP cannot be ignored or caught: they always act",
}

ERRORS: dict[str, str] = {
    "EBADF": "no such open fd in this process (`state` lists its fds)",
    "ENOTSOCK": "that fd is open but is not a socket (`state` lists the process's fds)",
    "EINTR": "interrupted by a signal (Ctrl-C / interrupt) before it could finish",
    "EAGAIN": "non-blocking and the call would have to wait: try again later (or O_NONBLOCK off)",
    "EMFILE": _EMFILE,
    "ENFILE": "the whole system is out of open files",
    "EINVAL": "an argument does not fit this socket in its current state (`man CALL` lists cases)",
    "EFAULT": "a pointer argument points outside the process's memory (in C: a bad buffer)",
    "ENOENT": "no such file or directory at that path",
    "ENOTDIR": "a part of that path is a file, not a directory",
    "EACCES": "permission denied (root is exempt: try from a process spawned with --unprivileged)",
    "EPERM": "operation not permitted for this user",
    "EISDIR": "that is a directory",
    "ELOOP": "too many symbolic links on that path",
    "ENAMETOOLONG": "that path is too long",
    "EROFS": "read-only file system",
    "ENXIO": "a socket file cannot be opened: connect to it instead",
    "EOPNOTSUPP": "this socket type cannot do that (stream vs datagram?)",
    "ENOTCONN": "not connected: connect or accept first",
    "EISCONN": "already connected",
    "ECONNREFUSED": "nobody is listening at that address (a stale file, or not listening yet)",
    "ECONNRESET": "the peer closed with data still unread: the line was cut",
    "EPIPE": "the other side is closed: nobody is on the line any more",
    "EADDRINUSE": "that address is taken: a file exists there, or the @name is in use",
    "EPROTOTYPE": "the socket at that address has another type (stream vs datagram)",
    "EMSGSIZE": "too large for one datagram",
    "EAFNOSUPPORT": "address family not supported: use AF_UNIX",
    "ESOCKTNOSUPPORT": "socket type not supported in this domain",
    "EPROTONOSUPPORT": "protocol not supported: pass 0",
    "ENOPROTOOPT": "no such socket option",
    "ENOBUFS": "the kernel is short of memory for socket buffers",
    "ENOMEM": "the kernel is short of memory",
}


# An abstract name (@name) has no file: the path-based advice would mislead.
ABSTRACT_ERRORS: dict[tuple[str, str], str] = {
    ("bind", "EADDRINUSE"): "another socket holds that name (abstract: per network namespace, no file to unlink)",
    ("connect", "ECONNREFUSED"): "no socket listens under that abstract name (nobody has that number)",
    ("sendto", "ECONNREFUSED"): "no socket is bound to that abstract name: nobody at that address",
}


def explain(call: str, errno_name: str, abstract: bool = False) -> str | None:
    """The explanation for `call` failing with `errno_name`, or None if we have none."""
    name = SYNONYMS.get(errno_name, errno_name)
    if abstract and (call, name) in ABSTRACT_ERRORS:
        return ABSTRACT_ERRORS[(call, name)]
    return CALL_ERRORS.get((call, name)) or ERRORS.get(name)


def notes(command: Command, outcome: Outcome) -> list[str]:
    """The `↳` lines under a call: why it failed, or each surprise in its result.

    `why` starts from the same lines (why.py), so the two never disagree.
    """
    if outcome.failed:
        abstract = command.args.get("addr", b"").startswith(b"\0")
        text = explain(command.name, C.ERRNO_NAMES.get(outcome.errno, ""), abstract)
        return [text] if text else []
    if command.name in RECEIVES:
        return _receive_notes(command, outcome)
    return []


def _receive_notes(command: Command, outcome: Outcome) -> list[str]:
    """Every note that applies: a datagram can be both truncated and from a sender with no address."""
    out, found = outcome.out if isinstance(outcome.out, Received) else Received(None, SOCK_STREAM), []
    full, size = out.datagram_len, command.args["size"]
    if full is not None and full > size and not command.args.get("flags", 0) & MSG_TRUNC:
        found.append(f"truncated: the datagram had {full} bytes, the buffer {size}; the other {full - size} are lost")
    if outcome.ret == 0 and out.sotype == SOCK_STREAM:
        found.append("0 bytes = end of file: the other side hung up (or shut down its writing side)")
    if command.name == "recvfrom" and command.args.get("want_addr", True) and out.from_unbound:
        found.append("the sender has no address (it never called bind), so there is no way to reply")
    return found
