"""`man` pages of the calls that make, name, set and close sockets, and of socket files.

The rules every page follows are in manpages.py's docstring.
"""

from sockrepl.manpage import ERR_EBADF, ERR_ENOTSOCK, SYS_SOCKET, SYS_UN, UNISTD, ManPage

PAGES = (
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
            ERR_EBADF,
            ERR_ENOTSOCK,
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
        "getsockname",
        SYS_SOCKET + "int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);",
        "Fills addr with the socket's own address: what is my number?",
        "0; an unbound socket gets an empty address (addrlen 2). -1 and errno on error.",
        (ERR_EBADF, ERR_ENOTSOCK),
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
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EBADF,
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
