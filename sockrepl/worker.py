"""The child process of a session: runs one system call at a time on its own fds.

Started as `python -I -S worker.py PARENT_PID FD_LIMIT JOIN [UID GID]` (FD_LIMIT 0: no new limit; JOIN: the
fds of a lesson's namespaces to enter, "USERFD,NETFD" or "NETFD", or "-") with stdin/stdout as
pipes to the session, so fds 0-2 are the tool's and the first socket is fd 3,
as in a C program. Of sockrepl it imports only `protocol` (stdlib-only, found by
putting the package's parent directory last on the path): it must start fast.

Calls go through libc with ctypes, not Python's socket module, so the worker
behaves like a C program: one syscall per request, the kernel's return value
and errno as they are, no PEP 475 retry after EINTR (a SIGINT from the session
makes a blocked call return -1 EINTR), SIGPIPE at its default action.

`worker.py namespace FD` makes a lesson's private network namespace instead (see
`make_namespace`) and exits.

Protocol: protocol.py's records, framed by it; the worker waits for a request in read(0, ...)
and answers with write(1, ...), which is how the session tells it idle.
"""

import ctypes
import errno
import fcntl
import os
import resource
import signal
import socket
import struct
import sys

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # last: never before the stdlib
from sockrepl.protocol import (
    SOCKADDR_UN_SIZE,
    Address,
    Flags,
    Hello,
    Internal,
    Option,
    Outcome,
    Pair,
    Passed,
    Previous,
    Received,
    Status,
    reply_frame,
    take_requests,
)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>: not in the standard library
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000  # <linux/sched.h>: in os only from Python 3.12
NETLINK_SOCK_DIAG = 4  # <linux/netlink.h>: not in socket
READ_SIZE = 1 << 16  # a pipe's capacity: a larger buffer costs an mmap and munmap each read

libc = ctypes.CDLL(None, use_errno=True)
c_int, c_void_p, c_size_t, c_uint = ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint
libc.send.argtypes = [c_int, c_void_p, c_size_t, c_int]
libc.sendto.argtypes = [c_int, c_void_p, c_size_t, c_int, c_void_p, c_uint]
libc.write.argtypes = [c_int, c_void_p, c_size_t]
libc.read.argtypes = [c_int, c_void_p, c_size_t]
libc.recvfrom.argtypes = [c_int, c_void_p, c_size_t, c_int, c_void_p, c_void_p]
libc.send.restype = libc.sendto.restype = libc.write.restype = libc.read.restype = ctypes.c_ssize_t
libc.recvfrom.restype = ctypes.c_ssize_t


def result(ret, out=None):
    """A reply: the return value, errno when it failed, and the call's out-parameters."""
    return Outcome(ret, ctypes.get_errno() if ret == -1 else 0, out)


def sockaddr(path):
    """struct sockaddr_un for `path` (b"" = family only, for autobind)."""
    return struct.pack("=H", socket.AF_UNIX) + path.ljust(SOCKADDR_UN_SIZE - 2, b"\0")


def unpack_sockaddr(buf, length):
    """sun_path bytes as the kernel returned them, or None for no address."""
    if length <= 2:
        return None
    path = bytes(buf[2:length])
    return path if path.startswith(b"\0") else path.split(b"\0", 1)[0]


def address_in(args):
    """The request's address as a sockaddr_un buffer, and the length to pass (the user's, or the path's)."""
    path = args["addr"]
    length = args.get("addrlen")
    if length is None:
        length = 2 + len(path)
    return ctypes.create_string_buffer(sockaddr(path), SOCKADDR_UN_SIZE), length


def call_with_address(func, args):
    buf, length = address_in(args)
    return result(func(args["fd"], buf, length), Passed(length))


def op_socket(args):
    return result(libc.socket(args["domain"], args["type"], args["protocol"]))


def op_socketpair(args):
    fds = (c_int * 2)()
    ret = libc.socketpair(args["domain"], args["type"], args["protocol"], fds)
    return result(ret, Pair(tuple(fds)) if ret == 0 else None)


def op_bind(args):
    return call_with_address(libc.bind, args)


def op_connect(args):
    return call_with_address(libc.connect, args)


def op_listen(args):
    return result(libc.listen(args["fd"], args["backlog"]))


def address_out(want):
    """A sockaddr buffer and its value-result length, or NULLs."""
    if not want:
        return None, None
    return ctypes.create_string_buffer(SOCKADDR_UN_SIZE), c_uint(SOCKADDR_UN_SIZE)


def returned_address(buf, length, ret):
    """What the kernel wrote into an address buffer, if there was one and the call did not fail."""
    if buf is None or ret == -1:
        return None
    return Address(unpack_sockaddr(buf, length.value), length.value)


def op_accept(args):
    buf, length = address_out(args.get("want_addr"))
    ret = libc.accept(args["fd"], buf, ctypes.byref(length) if length is not None else None)
    return result(ret, returned_address(buf, length, ret))


def op_send(args):
    data = args["data"]
    return result(libc.send(args["fd"], data, len(data), args["flags"]))


def op_write(args):
    data = args["data"]
    return result(libc.write(args["fd"], data, len(data)))


def op_sendto(args):
    data = args["data"]
    buf, length = address_in(args)
    return result(libc.sendto(args["fd"], data, len(data), args["flags"], buf, length), Passed(length))


def socket_type(fd):
    """SO_TYPE, or None for an fd that is not a socket."""
    kind, size = c_int(0), c_uint(4)
    if libc.getsockopt(fd, socket.SOL_SOCKET, socket.SO_TYPE, ctypes.byref(kind), ctypes.byref(size)):
        return None
    return kind.value


def receive(args, want_addr):
    """recv and recvfrom, as the recvfrom syscall (what glibc makes of both).

    On a datagram or seqpacket socket a peek with MSG_TRUNC comes first: it blocks
    exactly as the receive would, and returns the datagram's full length, so the
    transcript can say what a short buffer lost. The receive then finds it there.
    """
    fd, size, flags = args["fd"], args["size"], args["flags"]
    kind = socket_type(fd)
    full = None
    if kind in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET) and not flags & (socket.MSG_PEEK | socket.MSG_TRUNC):
        full = libc.recvfrom(fd, None, 0, flags | socket.MSG_PEEK | socket.MSG_TRUNC, None, None)
        if full == -1:
            return result(-1, Received(None, kind))
    data = ctypes.create_string_buffer(max(size, 1))
    name, length = address_out(want_addr)
    ret = libc.recvfrom(fd, data, size, flags, name, ctypes.byref(length) if length is not None else None)
    got = data.raw[: min(ret, size)] if ret >= 0 else None
    return result(ret, Received(got, kind, full, returned_address(name, length, ret)))


def op_recv(args):
    return receive(args, False)


def op_recvfrom(args):
    return receive(args, args.get("want_addr", True))


def op_read(args):
    size = args["size"]
    kind = socket_type(args["fd"])
    buf = ctypes.create_string_buffer(max(size, 1))
    ret = libc.read(args["fd"], buf, size)
    return result(ret, Received(buf.raw[:ret] if ret >= 0 else None, kind))


def op_close(args):
    return result(libc.close(args["fd"]))


def op_shutdown(args):
    return result(libc.shutdown(args["fd"], args["how"]))


def name_call(func, args):
    buf, length = address_out(True)
    ret = func(args["fd"], buf, ctypes.byref(length))
    return result(ret, returned_address(buf, length, ret))


def op_getsockname(args):
    return name_call(libc.getsockname, args)


def op_getpeername(args):
    return name_call(libc.getpeername, args)


def op_getsockopt(args):
    if args["optname"] == socket.SO_PEERCRED:
        value, size = (c_int * 3)(), c_uint(12)
    else:
        value, size = (c_int * 1)(), c_uint(4)
    ret = libc.getsockopt(args["fd"], args["level"], args["optname"], value, ctypes.byref(size))
    return result(ret, Option(tuple(value)[: size.value // 4] if ret == 0 else None, size.value))


def op_setsockopt(args):
    value = c_int(args["value"])
    return result(libc.setsockopt(args["fd"], args["level"], args["optname"], ctypes.byref(value), 4))


def op_fcntl(args):
    fd, cmd = args["fd"], args["cmd"]
    if cmd == "setfl":
        return result(libc.fcntl(fd, fcntl.F_SETFL, c_int(args["arg"])), Flags(None, args["arg"]))
    flags = libc.fcntl(fd, fcntl.F_GETFL)
    if cmd == "getfl" or flags == -1:
        return result(flags)
    new = (flags | os.O_NONBLOCK) if args["arg"] else (flags & ~os.O_NONBLOCK)
    return result(libc.fcntl(fd, fcntl.F_SETFL, c_int(new)), Flags(flags, new))


def os_call(func, *args):
    """Calls that never block go through os: the errno comes back in OSError."""
    try:
        value = func(*args)
    except OSError as exc:
        return Outcome(-1, exc.errno or 0)
    return Outcome(0 if value is None else value)


def op_unlink(args):
    return os_call(os.unlink, args["path"])


def op_chmod(args):
    return os_call(os.chmod, args["path"], args["mode"])


def op_open(args):
    return os_call(os.open, args["path"], args["flags"], 0o644)


def op_stat(args):
    try:
        st = os.stat(args["path"])
    except OSError as exc:
        return Outcome(-1, exc.errno or 0)
    return Outcome(0, 0, Status(st.st_mode, st.st_size, st.st_uid, st.st_gid, st.st_ino))


def op_signal(args):
    action = signal.SIG_IGN if args["action"] == "ignore" else signal.SIG_DFL
    try:
        previous = signal.signal(args["signal"], action)
    except (OSError, ValueError):
        return Outcome(-1, errno.EINVAL)
    if previous == signal.SIG_IGN:
        return Outcome(0, 0, Previous("SIG_IGN"))
    return Outcome(0, 0, Previous("SIG_DFL" if previous == signal.SIG_DFL else "handler"))


OPS = {name[3:]: func for name, func in globals().items() if name.startswith("op_")}


def write_all(data):

    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def become(uid, gid):
    """Drop root for `spawn --user`: done here because the interpreter may sit in a private home."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def make_namespace(channel_fd):
    """A private network namespace for a lesson, handed to the session over `channel_fd`.

    Abstract names live per network namespace, so a lesson's @names stay its own. Root
    needs only a new network namespace (uids and SO_PEERCRED stay as they are); anyone
    else (and root without CAP_SYS_ADMIN) first gets a user namespace that maps their own
    uid and gid to themselves.
    The session gets a sock_diag socket made inside (it reports this namespace's sockets)
    and the namespaces' fds for its workers to enter; "refused" if the kernel says no.
    """
    with socket.socket(fileno=channel_fd) as channel:
        tries = (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET) if os.geteuid() == 0 else (CLONE_NEWUSER | CLONE_NEWNET,)
        made = next((flags for flags in tries if libc.unshare(flags) == 0), None)
        if made is None:
            channel.send(b"refused")
            return 0
        private_user = bool(made & CLONE_NEWUSER)
        if private_user and not map_own_ids():
            channel.send(b"refused")
            return 0
        kinds = ("user", "net") if private_user else ("net",)
        joins = [os.open(f"/proc/self/ns/{kind}", os.O_RDONLY) for kind in kinds]
        diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        socket.send_fds(channel, [b"ok"], [diag.fileno(), *joins])
    return 0


def map_own_ids():
    """In a new user namespace, map our own uid and gid to themselves; False if the kernel says no.

    A process may map only its own effective ids, gids only once setgroups is off, and
    uid 0 only with CAP_SETFCAP (root without CAP_SYS_ADMIN usually lacks it too).
    """
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{os.geteuid()} {os.geteuid()} 1"),
                           ("gid_map", f"{os.getegid()} {os.getegid()} 1")):
            with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
                f.write(text)
    except OSError:
        return False
    return True


def join(fds):
    """Enter the lesson's namespaces: the user one first, which grants the right to enter its network one."""
    kinds = (CLONE_NEWUSER, CLONE_NEWNET)[-len(fds):] if fds else ()
    for fd, kind in zip(fds, kinds, strict=True):
        if libc.setns(fd, kind) != 0:
            return False
        os.close(fd)
    return True


def on_sigint(signum, frame):
    """Caught, so a blocked syscall returns EINTR; the caller reports it."""


def die_with(parent):
    """SIGKILL when sockrepl dies, even by SIGKILL; False if it is already gone.

    The kernel clears PR_SET_PDEATHSIG on a change of uid, so `become` is followed by
    another call; the getppid check closes the window in which the parent died first.
    """
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent


def main(argv):
    if argv[1] == "namespace":
        return make_namespace(int(argv[2]))
    parent, fd_limit = int(argv[1]), int(argv[2])
    joins = [int(fd) for fd in argv[3].split(",")] if argv[3] != "-" else []
    if not die_with(parent) or not join(joins):
        return 1
    os.umask(0o022)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, on_sigint)
    if fd_limit:
        resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
    if len(argv) > 5:
        become(int(argv[4]), int(argv[5]))
    if (joins or len(argv) > 5) and not die_with(parent):  # a new user namespace or uid cleared it
        return 1
    write_all(reply_frame(Hello(os.getpid(), os.getuid(), os.getgid())))
    buffer = bytearray()
    while True:
        chunk = os.read(0, READ_SIZE)
        if not chunk:
            return 0
        buffer += chunk
        for request in take_requests(buffer):
            try:
                reply = OPS[request.op](request.args)
            except Exception as exc:  # a bug of ours must not kill the process and its fds
                reply = Internal(f"{type(exc).__name__}: {exc}")
            write_all(reply_frame(reply))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
