"""`man` pages of the calls that connect and move data: listen, accept, connect, the sends and
receives, shutdown.

The rules every page follows are in manpages.py's docstring.
"""

from sockrepl.manpage import ERR_EBADF, ERR_EINTR_WAIT, ERR_ENOTSOCK, SYS_SOCKET, SYS_UN, UNISTD, ManPage

PAGES = (
    ManPage(
        "listen",
        SYS_SOCKET + "int listen(int sockfd, int backlog);",
        "Makes a bound stream socket passive, ready to be called: turn the ringer on. "
        "backlog bounds the calls that may wait, connected but not yet accepted.",
        "0; -1 and errno on error.",
        (
            ("EINVAL", "not bound yet (bind first), or already connected"),
            ("EOPNOTSUPP", "a datagram socket cannot listen: mailboxes do not ring"),
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EINTR_WAIT,
            ("EMFILE", "no free fd for the new socket; the call stays queued"),
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EBADF,
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
            ERR_EINTR_WAIT,
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EINTR_WAIT,
            ("EBADF", "no open fd with that number, or not open for reading"),
        ),
        (
            "A datagram longer than count is cut and the rest lost, silently: read has "
            "no flags to tell you (recvmsg does).",
        ),
        ("recv", "write", "close"),
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
            ERR_EBADF,
            ERR_ENOTSOCK,
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
            ERR_EINTR_WAIT,
            ("EINVAL", "a listener or unconnected stream socket"),
            ("ECONNRESET", "stream: peer closed with your data unread"),
            ERR_EBADF,
            ERR_ENOTSOCK,
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
)
