"""The child process of a session: runs one system call at a time on its own fds.

Started as `python -I -S worker.py PARENT_PID FD_LIMIT JOIN [UID GID]` (FD_LIMIT 0: no new limit; JOIN: the
fds of a lesson's namespaces to enter, "USERFD,NETFD" or "NETFD", or "-") with stdin/stdout as
pipes to the session, so fds 0-2 are the tool's and the first socket is fd 3,
as in a C program. Stdlib only, no imports from sockrepl: it must start fast.

Calls go through libc with ctypes, not Python's socket module, so the worker
behaves like a C program: one syscall per request, the kernel's return value
and errno as they are, no PEP 475 retry after EINTR (a SIGINT from the session
makes a blocked call return -1 EINTR), SIGPIPE at its default action.

`worker.py namespace FD` makes a lesson's private network namespace instead (see
`make_namespace`) and exits.

Protocol: one JSON object a line each way. Bytes travel as hex strings in the
fields named in BYTE_FIELDS.
"""

import ctypes
import errno
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys

BYTE_FIELDS = ("addr", "data", "path")
AF_UNIX = 1
SOCK_DGRAM, SOCK_SEQPACKET = 2, 5
SOL_SOCKET = 1
SO_TYPE = 3
SO_PEERCRED = 17
MSG_PEEK, MSG_TRUNC = 0x2, 0x20
PR_SET_PDEATHSIG = 1
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
NETLINK_SOCK_DIAG = 4
SOCKADDR_UN_SIZE = 110

libc = ctypes.CDLL(None, use_errno=True)
c_int, c_void_p, c_size_t, c_uint = ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint
libc.send.argtypes = [c_int, c_void_p, c_size_t, c_int]
libc.sendto.argtypes = [c_int, c_void_p, c_size_t, c_int, c_void_p, c_uint]
libc.write.argtypes = [c_int, c_void_p, c_size_t]
libc.read.argtypes = [c_int, c_void_p, c_size_t]
libc.recvfrom.argtypes = [c_int, c_void_p, c_size_t, c_int, c_void_p, c_void_p]
libc.send.restype = libc.sendto.restype = libc.write.restype = libc.read.restype = ctypes.c_ssize_t
libc.recvfrom.restype = ctypes.c_ssize_t


def result(ret, **extra):
    """A reply: the return value, errno when it failed, and out-parameters."""
    reply = {"ret": ret, "errno": ctypes.get_errno() if ret == -1 else 0}
    reply.update(extra)
    return reply


def sockaddr(path):
    """struct sockaddr_un for `path` (b"" = family only, for autobind)."""
    return struct.pack("=H", AF_UNIX) + path.ljust(SOCKADDR_UN_SIZE - 2, b"\0")


def unpack_sockaddr(buf, length):
    """sun_path bytes as the kernel returned them, or None for no address."""
    if length <= 2:
        return None
    path = bytes(buf[2:length])
    return path if path.startswith(b"\0") else path.split(b"\0", 1)[0]


def address_in(req):
    """The request's address as a sockaddr_un buffer, and the length to pass (the user's, or the path's)."""
    path = req["addr"]
    length = req.get("addrlen")
    if length is None:
        length = 2 + len(path)
    return ctypes.create_string_buffer(sockaddr(path), SOCKADDR_UN_SIZE), length


def call_with_address(func, req):
    buf, length = address_in(req)
    return result(func(req["fd"], buf, length), addrlen=length)


def op_socket(req):
    return result(libc.socket(req["domain"], req["type"], req["protocol"]))


def op_socketpair(req):
    fds = (c_int * 2)()
    ret = libc.socketpair(req["domain"], req["type"], req["protocol"], fds)
    return result(ret, fds=list(fds) if ret == 0 else None)


def op_bind(req):
    return call_with_address(libc.bind, req)


def op_connect(req):
    return call_with_address(libc.connect, req)


def op_listen(req):
    return result(libc.listen(req["fd"], req["backlog"]))


def address_out(want):
    """A sockaddr buffer and its value-result length, or NULLs."""
    if not want:
        return None, None
    return ctypes.create_string_buffer(SOCKADDR_UN_SIZE), c_uint(SOCKADDR_UN_SIZE)


def op_accept(req):
    buf, length = address_out(req.get("want_addr"))
    ret = libc.accept(req["fd"], buf, ctypes.byref(length) if length is not None else None)
    return result(ret, **addr_fields(buf, length, ret))


def addr_fields(buf, length, ret):
    if buf is None or ret == -1:
        return {}
    return {"addr": unpack_sockaddr(buf, length.value), "addrlen": length.value}


def op_send(req):
    data = req["data"]
    return result(libc.send(req["fd"], data, len(data), req["flags"]))


def op_write(req):
    data = req["data"]
    return result(libc.write(req["fd"], data, len(data)))


def op_sendto(req):
    data = req["data"]
    buf, length = address_in(req)
    return result(libc.sendto(req["fd"], data, len(data), req["flags"], buf, length), addrlen=length)


def socket_type(fd):
    """SO_TYPE, or None for an fd that is not a socket."""
    kind, size = c_int(0), c_uint(4)
    if libc.getsockopt(fd, SOL_SOCKET, SO_TYPE, ctypes.byref(kind), ctypes.byref(size)):
        return None
    return kind.value


def receive(req, want_addr):
    """recv and recvfrom, as the recvfrom syscall (what glibc makes of both).

    On a datagram or seqpacket socket a peek with MSG_TRUNC comes first: it blocks
    exactly as the receive would, and returns the datagram's full length, so the
    transcript can say what a short buffer lost. The receive then finds it there.
    """
    fd, size, flags = req["fd"], req["size"], req["flags"]
    kind = socket_type(fd)
    full = None
    if kind in (SOCK_DGRAM, SOCK_SEQPACKET) and not flags & (MSG_PEEK | MSG_TRUNC):
        full = libc.recvfrom(fd, None, 0, flags | MSG_PEEK | MSG_TRUNC, None, None)
        if full == -1:
            return result(-1, sotype=kind)
    data = ctypes.create_string_buffer(max(size, 1))
    name, length = address_out(want_addr)
    ret = libc.recvfrom(fd, data, size, flags, name, ctypes.byref(length) if length is not None else None)
    extra = {"sotype": kind, "datagram_len": full}
    if ret >= 0:
        extra["data"] = data.raw[: min(ret, size)]
        if name is not None:
            extra["addr"] = unpack_sockaddr(name, length.value)
            extra["addrlen"] = length.value
    return result(ret, **extra)


def op_recv(req):
    return receive(req, False)


def op_recvfrom(req):
    return receive(req, req.get("want_addr", True))


def op_read(req):
    size = req["size"]
    kind = socket_type(req["fd"])
    buf = ctypes.create_string_buffer(max(size, 1))
    ret = libc.read(req["fd"], buf, size)
    return result(ret, data=buf.raw[:ret] if ret >= 0 else None, sotype=kind)


def op_close(req):
    return result(libc.close(req["fd"]))


def op_shutdown(req):
    return result(libc.shutdown(req["fd"], req["how"]))


def name_call(func, req):
    buf, length = address_out(True)
    ret = func(req["fd"], buf, ctypes.byref(length))
    return result(ret, **addr_fields(buf, length, ret))


def op_getsockname(req):
    return name_call(libc.getsockname, req)


def op_getpeername(req):
    return name_call(libc.getpeername, req)


def op_getsockopt(req):
    if req["optname"] == SO_PEERCRED:
        value, size = (c_int * 3)(), c_uint(12)
    else:
        value, size = (c_int * 1)(), c_uint(4)
    ret = libc.getsockopt(req["fd"], req["level"], req["optname"], value, ctypes.byref(size))
    return result(ret, value=list(value)[: size.value // 4] if ret == 0 else None, optlen=size.value)


def op_setsockopt(req):
    value = c_int(req["value"])
    return result(libc.setsockopt(req["fd"], req["level"], req["optname"], ctypes.byref(value), 4))


def op_fcntl(req):
    fd, op = req["fd"], req["cmd"]
    if op == "setfl":
        return result(libc.fcntl(fd, fcntl.F_SETFL, c_int(req["arg"])), newflags=req["arg"])
    flags = libc.fcntl(fd, fcntl.F_GETFL)
    if op == "getfl" or flags == -1:
        return result(flags)
    new = (flags | os.O_NONBLOCK) if req["arg"] else (flags & ~os.O_NONBLOCK)
    return result(libc.fcntl(fd, fcntl.F_SETFL, c_int(new)), getfl=flags, newflags=new)


def os_call(func, *args, **extra):
    """Calls that never block go through os: the errno comes back in OSError."""
    try:
        value = func(*args)
    except OSError as exc:
        return {"ret": -1, "errno": exc.errno or 0, **extra}
    return {"ret": 0 if value is None else value, "errno": 0, **extra}


def op_unlink(req):
    return os_call(os.unlink, req["path"])


def op_chmod(req):
    return os_call(os.chmod, req["path"], req["mode"])


def op_open(req):
    return os_call(os.open, req["path"], req["flags"], 0o644)


def op_stat(req):
    try:
        st = os.stat(req["path"])
    except OSError as exc:
        return {"ret": -1, "errno": exc.errno or 0}
    return {"ret": 0, "errno": 0, "mode": st.st_mode, "size": st.st_size, "uid": st.st_uid,
            "gid": st.st_gid, "ino": st.st_ino}


def op_signal(req):
    action = signal.SIG_IGN if req["action"] == "ignore" else signal.SIG_DFL
    try:
        previous = signal.signal(req["signal"], action)
    except (OSError, ValueError):
        return {"ret": -1, "errno": errno.EINVAL}
    if previous == signal.SIG_IGN:
        name = "SIG_IGN"
    elif previous == signal.SIG_DFL:
        name = "SIG_DFL"
    else:
        name = "handler"
    return {"ret": 0, "errno": 0, "previous": name}


OPS = {name[3:]: func for name, func in globals().items() if name.startswith("op_")}


def decode_request(line):
    req = json.loads(line)
    for key in BYTE_FIELDS:
        if isinstance(req.get(key), str):
            req[key] = bytes.fromhex(req[key])
    return req


def encode_reply(reply):
    for key in BYTE_FIELDS:
        if isinstance(reply.get(key), bytes):
            reply[key] = reply[key].hex()
    return (json.dumps(reply, separators=(",", ":")) + "\n").encode()


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
    write_all(encode_reply({"hello": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}))
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        try:
            req = decode_request(line)
            reply = OPS[req["op"]](req)
        except Exception as exc:  # a bug of ours must not kill the process and its fds
            reply = {"internal": f"{type(exc).__name__}: {exc}"}
        write_all(encode_reply(reply))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
