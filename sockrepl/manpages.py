"""`man CALL`: each system call in short, in our own words, for AF_UNIX on Linux.

Pure data, drawn by views.man_lines. Every error and note states what this
kernel does (see docs/kernel-notes.md), not what a textbook or POSIX allows,
because a student tries it next and the kernel must agree. Each page fits an
80x24 screen: a summary, the return value, at most 8 errors and 4 notes.

Errno names are the ones strace prints: EOPNOTSUPP (Python's errno.errorcode
calls 95 ENOTSUP), EAGAIN (not EWOULDBLOCK).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ManPage:
    name: str
    synopsis: str
    summary: str
    returns: str
    errors: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()


SYS_SOCKET = "#include <sys/socket.h>\n"
SYS_UN = "#include <sys/socket.h>\n#include <sys/un.h>\n"
UNISTD = "#include <unistd.h>\n"

# Errors that most calls on an fd share, worded once.
_EBADF = ("EBADF", "no open fd with that number in this process")
_ENOTSOCK = ("ENOTSOCK", "the fd is open but is not a socket")
_EINTR_WAIT = ("EINTR", "a signal (Ctrl-C, `interrupt`) came while it waited")

_PAGES = (
    ManPage(
        "socket",
        SYS_SOCKET + "int socket(int domain, int type, int protocol);",
        "Creates a socket, with no address and no peer yet, and returns an fd for it: "
        "install a phone (SOCK_STREAM) or put up a mailbox (SOCK_DGRAM).",
        "The new fd, the lowest free one (3 in a fresh process); -1 and errno on error.",
        (
            ("EAFNOSUPPORT", "unknown domain: for these sockets use AF_UNIX"),
            ("ESOCKTNOSUPPORT", "AF_UNIX has SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET"),
            ("EPROTONOSUPPORT", "AF_UNIX has one protocol: pass 0"),
            ("EINVAL", "unknown flag bits OR-ed into type"),
            ("EMFILE", "no free fd left in this process: close some"),
        ),
        (
            "SOCK_NONBLOCK OR-ed into type makes it non-blocking from the start: "
            "try `socket AF_UNIX SOCK_STREAM|SOCK_NONBLOCK`.",
            "SOCK_SEQPACKET is connection-oriented like a stream but keeps message "
            "boundaries like a datagram.",
            "A stream socket is born active (it can call); listen() makes it passive.",
        ),
        ("socketpair", "bind", "close"),
    ),
    ManPage(
        "socketpair",
        SYS_SOCKET + "int socketpair(int domain, int type, int protocol, int sv[2]);",
        "Creates two sockets already connected to each other, fds in sv[0] and sv[1]: "
        "a private line with a phone at each end and no number to dial.",
        "0, with the two fds in sv; -1 and errno on error.",
        (
            ("EOPNOTSUPP", "this domain makes no pairs (AF_INET cannot): use AF_UNIX"),
            ("EAFNOSUPPORT", "unknown domain"),
            ("ESOCKTNOSUPPORT", "AF_UNIX has SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET"),
            ("EPROTONOSUPPORT", "AF_UNIX has one protocol: pass 0"),
            ("EMFILE", "a pair needs two free fds in this process"),
        ),
        (
            "Both ends are unnamed: getsockname and getpeername give an empty address.",
            "In C, fork() next and each process closes one end. sockrepl gives both "
            "ends to the current process.",
            "With SOCK_DGRAM each send() on one end is one message on the other.",
        ),
        ("socket", "send", "recv"),
    ),
    ManPage(
        "bind",
        SYS_UN + "int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);",
        "Gives a socket its address: a phone number, or a mailbox's postal address. "
        "A path creates the socket file on disk; an abstract @name creates no file.",
        "0; -1 and errno on error.",
        (
            ("EADDRINUSE", "a file exists at that path (a stale socket?) or @name taken"),
            ("EINVAL", "this socket already has an address"),
            ("ENOENT", "a directory on the path does not exist"),
            ("ENOTDIR", "a part of the path is a file, not a directory"),
            ("EACCES", "no write permission on the directory (root never gets it)"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "close() never removes the file: a server that exits leaves it behind. "
            "`unlink` it before binding again, as the lecture's server does.",
            "sun_path holds 108 bytes and Linux accepts all 108 without a final NUL; "
            "longer cannot be expressed, so bind never says ENAMETOOLONG.",
            "The file's mode is 0777 minus the umask (srwxr-xr-x with umask 022).",
            '`bind 3 ""` asks for autobind: the kernel picks a name like @e246f.',
        ),
        ("listen", "connect", "unlink", "getsockname"),
    ),
    ManPage(
        "listen",
        SYS_SOCKET + "int listen(int sockfd, int backlog);",
        "Makes a bound stream socket passive, ready to be called: turn the ringer on. "
        "backlog bounds the calls that may wait, connected but not yet accepted.",
        "0; -1 and errno on error.",
        (
            ("EINVAL", "not bound yet (bind first), or already connected"),
            ("EOPNOTSUPP", "a datagram socket cannot listen: mailboxes do not ring"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "Linux queues backlog + 1 calls: after `listen 3 1` two connects succeed at "
            "once and the third blocks. listen(fd, 0) still queues one.",
            "The lecture says 'pending >= backlog blocks': on Linux it is pending > backlog.",
            "backlog is capped by /proc/sys/net/core/somaxconn; a negative one means the cap.",
            "Calling listen again changes the backlog; a larger one lets waiting callers in.",
        ),
        ("bind", "accept", "connect"),
    ),
    ManPage(
        "accept",
        SYS_SOCKET + "int accept(int sockfd, struct sockaddr *addr, socklen_t *addrlen);",
        "Takes the oldest pending call off a listening socket and returns a NEW fd "
        "connected to the caller: pick up the phone. If none is pending, it waits "
        "by the phone. The listening fd stays, ready for the next call.",
        "The new connected fd; -1 and errno on error. addr gets the caller's address, "
        "often empty: clients rarely bind.",
        (
            ("EINVAL", "this socket is not listening: call listen first"),
            ("EOPNOTSUPP", "a datagram socket gets letters, not calls: use recvfrom"),
            ("EAGAIN", "non-blocking and no call is pending"),
            _EINTR_WAIT,
            ("EMFILE", "no free fd for the new socket; the call stays queued"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "Talk on the new fd: the listening fd has no peer (recv on it is EINVAL).",
            "Each accept frees a queue slot, letting one blocked connect in.",
            "Try: `accept 3` before anyone calls: it stays <unfinished ...> until a connect.",
        ),
        ("listen", "connect", "getpeername", "getsockopt"),
    ),
    ManPage(
        "connect",
        SYS_UN + "int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);",
        "Stream: call the listening socket bound at addr, i.e. dial its number. It "
        "returns as soon as the call is queued, before accept. Datagram: sets the "
        "default destination of send() and the only sender recv() will take.",
        "0; -1 and errno on error.",
        (
            ("ENOENT", "no file at that path: nobody has that number"),
            ("ECONNREFUSED", "a file, but nobody listens (stale, or not listening yet)"),
            ("EACCES", "no write permission on the socket file (root is exempt)"),
            ("EPROTOTYPE", "the socket there has another type (stream vs datagram)"),
            ("EISCONN", "this stream socket is already connected"),
            ("EAGAIN", "non-blocking, and backlog + 1 calls already wait"),
            ("EINTR", "a signal came while it waited; not connected, call again"),
            ("EINVAL", "the socket is listening, or addrlen is wrong"),
        ),
        (
            "It blocks only while the listener's queue is full. AF_UNIX has no "
            "EINPROGRESS: non-blocking, it succeeds at once or fails with EAGAIN.",
            "A datagram socket may connect again, to change its peer.",
        ),
        ("listen", "accept", "socket", "send"),
    ),
    ManPage(
        "send",
        SYS_SOCKET + "ssize_t send(int sockfd, const void *buf, size_t len, int flags);",
        "Sends bytes to the connected peer: talk into the phone. A stream keeps no "
        "boundaries; on a datagram socket one send is one message. Waits while the "
        "peer's queue is full.",
        "The number of bytes sent (a non-blocking stream may take fewer than len); "
        "-1 and errno on error.",
        (
            ("EPIPE", "peer closed, or you did SHUT_WR; SIGPIPE comes with it"),
            ("ENOTCONN", "not connected (datagram: use sendto, or connect first)"),
            ("ECONNREFUSED", "datagram: the connected peer is closed"),
            ("EPERM", "datagram: the peer is connected to some other socket"),
            ("EAGAIN", "non-blocking (or MSG_DONTWAIT) and no room: peer not reading"),
            ("EMSGSIZE", "datagram over SO_SNDBUF - 32 bytes (212960 by default)"),
            ("EINTR", "a signal came while it waited for room"),
            _EBADF,
        ),
        (
            "SIGPIPE kills by default, as in C: workers keep that, so the process dies "
            "instead of seeing EPIPE. MSG_NOSIGNAL or `signal NAME SIGPIPE ignore` avoid it.",
            "A stream send after the peer closed gets EPIPE on Linux, not ECONNRESET.",
            "send(fd, buf, len, 0) is write(fd, buf, len).",
        ),
        ("recv", "write", "sendto", "shutdown"),
    ),
    ManPage(
        "write",
        UNISTD + "ssize_t write(int fd, const void *buf, size_t count);",
        "The call for any fd: on a connected socket it is send() with no flags. That "
        "a socket is an fd is why read and write, and close, work on it.",
        "The number of bytes written; -1 and errno on error.",
        (
            ("EPIPE", "peer closed, or you did SHUT_WR; SIGPIPE comes with it"),
            ("ENOTCONN", "the socket is not connected"),
            ("ECONNREFUSED", "datagram: the connected peer is closed"),
            ("EAGAIN", "non-blocking and no room: the peer is not reading"),
            ("EMSGSIZE", "datagram over SO_SNDBUF - 32 bytes"),
            ("EINTR", "a signal came while it waited for room"),
            ("EBADF", "no open fd with that number, or not open for writing"),
        ),
        (
            "write has no flags, so no MSG_NOSIGNAL: to see EPIPE instead of dying, "
            "`signal NAME SIGPIPE ignore` first.",
        ),
        ("send", "read", "close"),
    ),
    ManPage(
        "recv",
        SYS_SOCKET + "ssize_t recv(int sockfd, void *buf, size_t len, int flags);",
        "Takes up to len bytes that arrived from the peer: listen on the phone. Waits "
        "until something arrives. A stream gives any amount up to len; a datagram "
        "socket gives exactly one message.",
        "The number of bytes; 0 on a stream means end of file (the peer closed or "
        "did SHUT_WR); -1 and errno on error.",
        (
            ("ECONNRESET", "peer closed with your data unread, or never accepted you"),
            ("EINVAL", "a listener or unconnected stream: use the fd from accept"),
            ("EAGAIN", "non-blocking (or MSG_DONTWAIT) and nothing has arrived"),
            _EINTR_WAIT,
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "EOF is not an error: data sent before the close comes first, then every "
            "recv returns 0. After ECONNRESET, the next recv returns 0 too.",
            "Datagrams have no EOF: 0 is an empty datagram.",
            "A datagram longer than len is cut and the rest lost; with MSG_TRUNC in "
            "flags the return value is the full length.",
            "MSG_PEEK looks without taking; MSG_WAITALL waits for len bytes (or EOF).",
        ),
        ("send", "read", "recvfrom", "shutdown"),
    ),
    ManPage(
        "read",
        UNISTD + "ssize_t read(int fd, void *buf, size_t count);",
        "The call for any fd: on a connected socket it is recv() with no flags. It "
        "waits until something arrives.",
        "The number of bytes; 0 on a stream is end of file (the peer hung up); "
        "-1 and errno on error.",
        (
            ("ECONNRESET", "peer closed with your data unread, or never accepted you"),
            ("EINVAL", "a listener or unconnected stream: use the fd from accept"),
            ("EAGAIN", "non-blocking and nothing has arrived"),
            _EINTR_WAIT,
            ("EBADF", "no open fd with that number, or not open for reading"),
        ),
        (
            "A datagram longer than count is cut and the rest lost, silently: read has "
            "no flags to tell you (recvmsg does).",
        ),
        ("recv", "write", "close"),
    ),
    ManPage(
        "sendto",
        SYS_UN + "ssize_t sendto(int sockfd, const void *buf, size_t len, int flags,\n"
        "               const struct sockaddr *dest_addr, socklen_t addrlen);",
        "Posts one datagram to the socket bound at dest_addr: send a letter. The "
        "sender needs no address of its own, but then nobody can write back.",
        "len (a datagram goes whole or not at all); -1 and errno on error.",
        (
            ("ENOENT", "no file at that path: no such postal address"),
            ("ECONNREFUSED", "no socket owns that file (stale, regular) or that @name"),
            ("EPROTOTYPE", "a stream socket lives there: phones take no letters"),
            ("EACCES", "no write permission on the socket file (root is exempt)"),
            ("EPERM", "the receiver is connected to some other socket"),
            ("EMSGSIZE", "over SO_SNDBUF - 32 bytes (212960 by default)"),
            ("EAGAIN", "non-blocking and the receiver's queue is full"),
            ("EISCONN", "a connected stream socket takes no address: use send"),
        ),
        (
            "Unix datagrams are reliable and in order: a full mailbox makes the sender "
            "wait (11 letters here: max_dgram_qlen 10, plus one), none is lost.",
            "On an unconnected stream socket an address gives EOPNOTSUPP.",
            "A connected datagram socket may still sendto another address.",
            'Try `sendto 3 "hi" box.sock` unbound: recvfrom shows no sender.',
        ),
        ("recvfrom", "bind", "connect", "send"),
    ),
    ManPage(
        "recvfrom",
        SYS_SOCKET + "ssize_t recvfrom(int sockfd, void *buf, size_t len, int flags,\n"
        "                 struct sockaddr *src_addr, socklen_t *addrlen);",
        "Takes the oldest datagram, with its sender's address: check the mailbox. "
        "Waits while the box is empty. One call takes one whole datagram, whatever len.",
        "The number of bytes copied; 0 is an empty datagram (on a stream: EOF); "
        "-1 and errno on error.",
        (
            ("EAGAIN", "non-blocking (or MSG_DONTWAIT) and the mailbox is empty"),
            _EINTR_WAIT,
            ("EINVAL", "a listener or unconnected stream socket"),
            ("ECONNRESET", "stream: peer closed with your data unread"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "len smaller than the datagram: you get len bytes, the rest is gone and "
            "msg_flags has MSG_TRUNC. MSG_TRUNC in flags returns the full length.",
            "Sender address: none if it is unbound (no reply possible), its path if "
            "bound, an abstract @name like @e246f if autobound.",
            "A socket connected to a peer receives only from that peer.",
            "Try: `sendto 3 \"0123456789\" box.sock`, then `recvfrom 3 4`.",
        ),
        ("sendto", "recv", "bind"),
    ),
    ManPage(
        "close",
        UNISTD + "int close(int fd);",
        "Releases the fd. When the last fd of a socket closes, the socket goes: hang "
        "up. A stream peer then reads EOF and its sends fail with EPIPE.",
        "0; -1 and errno on error.",
        (("EBADF", "no open fd with that number (closed twice?)"),),
        (
            "close never removes the socket file: unlink it, or the next bind to that "
            "path fails with EADDRINUSE.",
            "Closing a listener: queued callers get ECONNRESET on recv, then EOF; "
            "waiting ones get ECONNREFUSED; so does every later connect.",
            "Killing a process closes all its fds: `kill client` hangs up its calls.",
        ),
        ("shutdown", "unlink", "socket"),
    ),
    ManPage(
        "shutdown",
        SYS_SOCKET + "int shutdown(int sockfd, int how);",
        "Ends one direction of a connection and keeps the fd: SHUT_WR says 'I am done "
        "talking' (the peer reads EOF, you can still listen), SHUT_RD stops reading, "
        "SHUT_RDWR both.",
        "0; -1 and errno on error.",
        (
            ("EINVAL", "how is not SHUT_RD, SHUT_WR or SHUT_RDWR"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "After SHUT_WR your send gets EPIPE; after SHUT_RD your recv returns 0 and "
            "the peer's send gets EPIPE.",
            "Linux AF_UNIX returns 0 even on an unconnected socket, where POSIX and "
            "most books say ENOTCONN.",
            "On a listener, SHUT_RDWR refuses new calls (ECONNREFUSED); accept still "
            "returns those already queued.",
        ),
        ("close", "send", "recv"),
    ),
    ManPage(
        "getsockname",
        SYS_SOCKET + "int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);",
        "Fills addr with the socket's own address: what is my number?",
        "0; an unbound socket gets an empty address (addrlen 2). -1 and errno on error.",
        (_EBADF, _ENOTSOCK),
        (
            "A socket from accept has the listener's address; a client that never "
            "bound has an empty one.",
            "After autobind it shows the name the kernel chose, like @e246f.",
        ),
        ("getpeername", "bind"),
    ),
    ManPage(
        "getpeername",
        SYS_SOCKET + "int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen);",
        "Fills addr with the address of the socket at the other end: who is on the "
        "line? A peer that never bound has an empty address.",
        "0; -1 and errno on error.",
        (
            ("ENOTCONN", "no peer: a listener, a fresh socket, an interrupted connect"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "It still answers after the peer has hung up.",
            "To know who the peer is (pid, uid, gid), use `getsockopt FD SO_PEERCRED`.",
        ),
        ("getsockname", "getsockopt", "accept"),
    ),
    ManPage(
        "getsockopt",
        SYS_SOCKET + "int getsockopt(int sockfd, int level, int optname,\n"
        "               void *optval, socklen_t *optlen);",
        "Reads a socket option at level SOL_SOCKET: SO_TYPE, SO_ERROR, SO_SNDBUF, "
        "SO_RCVBUF, or SO_PEERCRED, the caller ID of a connected peer (pid, uid, gid).",
        "0, with optval and optlen filled (cut to optlen if too small); -1 and errno.",
        (
            ("ENOPROTOOPT", "no such option at that level"),
            ("EOPNOTSUPP", "a level other than SOL_SOCKET: AF_UNIX has no other"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "SO_PEERCRED is recorded when the connection is made: the accepted fd sees "
            "the client, the client sees the process that called listen.",
            "Not connected, SO_PEERCRED gives pid 0, uid -1, gid -1; a listener, itself.",
            "SO_SNDBUF reads back twice what setsockopt set. SO_TYPE: 1 stream, 2 "
            "datagram, 5 seqpacket.",
        ),
        ("setsockopt", "getpeername"),
    ),
    ManPage(
        "setsockopt",
        SYS_SOCKET + "int setsockopt(int sockfd, int level, int optname,\n"
        "               const void *optval, socklen_t optlen);",
        "Sets a socket option; sockrepl sets SO_SNDBUF and SO_RCVBUF, the buffer sizes.",
        "0; -1 and errno on error.",
        (
            ("ENOPROTOOPT", "unknown or read-only (SO_TYPE, SO_ERROR, SO_PEERCRED)"),
            ("EOPNOTSUPP", "a level other than SOL_SOCKET"),
            ("EINVAL", "optlen smaller than an int"),
            _EBADF,
            _ENOTSOCK,
        ),
        (
            "The kernel doubles the value for its bookkeeping and clamps it (SO_SNDBUF: "
            "4608 up to 2 x wmem_max) without an error: read it back with getsockopt.",
            "SO_SNDBUF bounds the largest datagram: SO_SNDBUF - 32 bytes.",
            "On AF_UNIX SO_RCVBUF limits nothing: the sender's SO_SNDBUF and "
            "max_dgram_qlen decide when a sender waits.",
        ),
        ("getsockopt", "sendto"),
    ),
    ManPage(
        "fcntl",
        "#include <fcntl.h>\nint fcntl(int fd, int cmd, ... /* int arg */);",
        "Reads or changes an fd's flags. For sockets it switches O_NONBLOCK: a call "
        "that would wait then fails with EAGAIN instead.",
        "F_GETFL: the flags (O_RDWR for a socket, | O_NONBLOCK if set); F_SETFL: 0; "
        "-1 and errno on error.",
        (
            _EBADF,
            ("EINVAL", "unknown command"),
        ),
        (
            "`fcntl 3 O_NONBLOCK on` does F_GETFL then F_SETFL with the bit added: "
            "read the flags first, as C code should.",
            "F_SETFL ignores the access mode (O_RDONLY, O_RDWR...): it changes "
            "O_NONBLOCK and a few others.",
            "Non-blocking accept, connect, send, sendto, recv and recvfrom say EAGAIN "
            "where they would wait.",
        ),
        ("socket", "accept", "recv"),
    ),
    ManPage(
        "unlink",
        UNISTD + "int unlink(const char *pathname);",
        "Removes a name from its directory. For sockets: removes the file bind made, "
        "e.g. a stale one left by a server that is gone, so the path can be bound again.",
        "0; -1 and errno on error.",
        (
            ("ENOENT", "no such file"),
            ("EACCES", "no write permission on the directory"),
            ("EPERM", "sticky directory (like /tmp): the file is someone else's"),
            ("EISDIR", "a directory: Linux says EISDIR, use rmdir"),
            ("ENOTDIR", "a part of the path is a file, not a directory"),
        ),
        (
            "Removing a live listener's file does not stop it: its calls go on, but "
            "nobody can dial that path (ENOENT), and another socket may bind it.",
            "Only the directory's permissions count, not the file's.",
            "Abstract @names have no file: they go with their last socket.",
        ),
        ("bind", "close", "stat"),
    ),
    ManPage(
        "stat",
        "#include <sys/stat.h>\nint stat(const char *pathname, struct stat *statbuf);",
        "Reads a file's type, mode, owner and size. A socket file has type S_IFSOCK "
        "(ls -l shows 's') and size 0: it holds no data, it is only a name to dial.",
        "0, with statbuf filled; -1 and errno on error.",
        (
            ("ENOENT", "no such file (abstract @names have none)"),
            ("EACCES", "no search permission on a directory on the path"),
            ("ENOTDIR", "a part of the path is a file, not a directory"),
        ),
        (
            "stat cannot tell whether anyone listens: a stale file looks the same. "
            "connect tells (ECONNREFUSED), or `ss`.",
            "The mode is 0777 minus the umask at bind: srwxr-xr-x with umask 022.",
            "In C: S_ISSOCK(st.st_mode).",
        ),
        ("bind", "unlink", "chmod"),
    ),
    ManPage(
        "open",
        "#include <fcntl.h>\nint open(const char *pathname, int flags, ... /* mode_t mode */);",
        "Opens a file and returns an fd, but not a socket file: you do not open a "
        "phone number, you dial it, with socket() then connect().",
        "The new fd; -1 and errno on error.",
        (
            ("ENXIO", "a socket file: use socket and connect instead"),
            ("ENOENT", "no such file"),
            ("EACCES", "the file's mode (or a directory's) forbids it"),
            ("EISDIR", "a directory cannot be opened for writing"),
            ("EMFILE", "no free fd left in this process"),
        ),
        (
            "ENXIO comes whatever the flags, even for root.",
            "So shell redirection (echo hi > srv.sock) fails too; socat and nc -U do "
            "the socket and connect for you.",
        ),
        ("connect", "stat"),
    ),
    ManPage(
        "chmod",
        "#include <sys/stat.h>\nint chmod(const char *pathname, mode_t mode);",
        "Changes a file's permission bits. On a socket file, write permission decides "
        "who may connect or send to it.",
        "0; -1 and errno on error.",
        (
            ("EPERM", "only the file's owner (or root) may change its mode"),
            ("ENOENT", "no such file"),
            ("EACCES", "no search permission on a directory on the path"),
        ),
        (
            "connect and sendto need write permission, the owner included: after "
            "`chmod srv.sock 0500` the owner gets EACCES too.",
            "root skips permission checks: `spawn --unprivileged NAME` to see EACCES.",
            "It counts at the next connect; calls already made go on.",
        ),
        ("connect", "sendto", "stat"),
    ),
)

MAN_PAGES: dict[str, ManPage] = {page.name: page for page in _PAGES}

# What strace shows for our calls on x86-64 glibc, and close cousins: `man accept4`
# should not draw a blank when a student copies a name from strace.
ALIASES = {
    "accept4": "accept",
    "recvmsg": "recvfrom",
    "sendmsg": "sendto",
    "openat": "open",
    "unlinkat": "unlink",
    "lstat": "stat",
    "fstat": "stat",
    "newfstatat": "stat",
    "statx": "stat",
    "fchmod": "chmod",
    "fchmodat": "chmod",
}


def lookup(topic: str) -> ManPage | None:
    """The page for `accept`, `accept(2)` or an strace name like `accept4`; else None."""
    name = topic.strip().lower()
    if name.endswith(")") and "(" in name:
        name = name[: name.index("(")]
    name = ALIASES.get(name, name)
    return MAN_PAGES.get(name)

