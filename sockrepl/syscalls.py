"""The worker's system calls: one `op_NAME` per command that is a call, each one libc call.

Loaded only by worker.py, in the child (see its docstring): through libc with ctypes,
not Python's socket module, so the call is the kernel's own, once, with its return value
and errno as they are (no PEP 475 retry after EINTR). Each op takes the request's
arguments and returns an `Outcome` with the call's out-parameters as a protocol record.
"""

import ctypes
import errno
import fcntl
import os
import signal
import socket
import struct

from sockrepl.protocol import (
    SOCKADDR_UN_SIZE,
    Address,
    Flags,
    Option,
    Outcome,
    Pair,
    Passed,
    Previous,
    Received,
    Status,
)

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
    if length.value >= 2 and (family := struct.unpack_from("=H", buf)[0]) != socket.AF_UNIX:
        return Address(bytes(buf[2:length.value]), length.value, family)
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
