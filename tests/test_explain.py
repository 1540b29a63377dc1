"""The one-line explanations under failed calls, and that the kernel really says those errnos."""

import errno
import os
import socket

import pytest

from sockrepl.commands import REGISTRY
from sockrepl.explain import CALL_ERRORS, ERRORS, SYNONYMS, explain
from sockrepl.manpages import MAN_PAGES

EXAMPLES = [
    ("connect", "ENOENT",
     "no socket file at that path: nobody has that number (is the server bound? is the path right?)"),
    ("connect", "ECONNREFUSED",
     "a file is there but nobody is listening: the ringer is off (or the server is gone)"),
    ("bind", "EADDRINUSE", "that path already exists, maybe a stale socket file: unlink it first"),
    ("send", "EPIPE",
     "the other side hung up (or you did SHUT_WR); SIGPIPE ignored or MSG_NOSIGNAL, else killed"),
    ("write", "EPIPE",
     "the other side hung up (or you did SHUT_WR); SIGPIPE is ignored here, else it would kill"),
    ("accept", "EINTR", "interrupted by a signal (Ctrl-C / interrupt) before it could finish"),
    ("recvfrom", "EINTR", "interrupted by a signal (Ctrl-C / interrupt) before it could finish"),
    ("connect", "EINTR", "interrupted while waiting for a free line: not connected, call connect again"),
    ("recv", "EBADF", "no such open fd in this process (`state` lists its fds)"),
    ("listen", "EOPNOTSUPP", "a datagram socket cannot listen: mailboxes do not ring (use recvfrom)"),
    ("open", "ENXIO", "that is a socket file: you cannot open a phone number, dial it (socket + connect)"),
    ("recv", "EINVAL", "not a connected stream: on a listener, read from the fd accept returned"),
]


@pytest.mark.parametrize("call, name, text", EXAMPLES)
def test_examples(call, name, text):
    assert explain(call, name) == text


def all_lines():
    return [*CALL_ERRORS.values(), *ERRORS.values()]


@pytest.mark.parametrize("text", all_lines())
def test_one_short_line(text):
    assert 0 < len(text) <= 100
    assert "\n" not in text and text == text.strip()


def test_errno_names_are_real():
    names = {name for _, name in CALL_ERRORS} | set(ERRORS) | set(SYNONYMS) | set(SYNONYMS.values())
    for name in names:
        assert isinstance(getattr(errno, name, None), int), name


def test_calls_are_commands():
    assert {call for call, _ in CALL_ERRORS} <= set(REGISTRY)


def test_generic_fallback_and_none():
    assert explain("getsockname", "EBADF") == ERRORS["EBADF"]
    assert explain("nosuchcall", "EINTR") == ERRORS["EINTR"]
    assert explain("bind", "EXDEV") is None
    assert explain("bind", "NOT_AN_ERRNO") is None


def test_python_names_for_the_same_number():
    """constants.ERRNO_NAMES comes from errno.errorcode, which says ENOTSUP for 95."""
    assert explain("accept", "ENOTSUP") == explain("accept", "EOPNOTSUPP") == CALL_ERRORS[("accept", "EOPNOTSUPP")]
    assert explain("recv", "EWOULDBLOCK") == explain("recv", "EAGAIN")


@pytest.mark.parametrize("call", sorted(MAN_PAGES))
def test_every_error_on_a_man_page_is_explained(call):
    for name, _ in MAN_PAGES[call].errors:
        assert explain(call, name), (call, name)


# ---- the kernel agrees: each scenario makes the failure happen for real --------------


OPEN: list[socket.socket] = []  # a scenario's sockets live until its test ends


def unix(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_UNIX, kind)
    OPEN.append(s)
    return s


def pair(kind=socket.SOCK_STREAM):
    ends = socket.socketpair(socket.AF_UNIX, kind)
    OPEN.extend(ends)
    return ends


def listener(path, backlog=1):
    s = unix()
    s.bind(str(path))
    s.listen(backlog)
    return s


def _connect_enoent(tmp):
    unix().connect(str(tmp / "nobody.sock"))


def _connect_econnrefused(tmp):
    (tmp / "plain").write_text("")
    unix().connect(str(tmp / "plain"))


def _connect_eprototype(tmp):
    listener(tmp / "s.sock")
    unix(socket.SOCK_DGRAM).connect(str(tmp / "s.sock"))


def _connect_eisconn(tmp):
    listener(tmp / "s.sock")
    c = unix()
    c.connect(str(tmp / "s.sock"))
    c.connect(str(tmp / "s.sock"))


def _connect_einval(tmp):
    listener(tmp / "s.sock").connect(str(tmp / "s.sock"))


def _connect_eagain(tmp):
    listener(tmp / "s.sock", 0)
    socks = [unix(), unix()]
    for s in socks:
        s.setblocking(False)
        s.connect(str(tmp / "s.sock"))  # listen(fd, 0) queues one: the second fails


def _bind_eaddrinuse(tmp):
    listener(tmp / "s.sock")
    unix().bind(str(tmp / "s.sock"))


def _bind_einval(tmp):
    listener(tmp / "s.sock").bind(str(tmp / "t.sock"))


def _bind_enoent(tmp):
    unix().bind(str(tmp / "missing" / "s.sock"))


def _listen_einval(tmp):
    unix().listen(1)


def _listen_eopnotsupp(tmp):
    s = unix(socket.SOCK_DGRAM)
    s.bind(str(tmp / "d.sock"))
    s.listen(1)


def _accept_einval(tmp):
    unix().accept()


def _accept_eopnotsupp(tmp):
    unix(socket.SOCK_DGRAM).accept()


def _accept_eagain(tmp):
    s = listener(tmp / "s.sock")
    s.setblocking(False)
    s.accept()


def _send_enotconn(tmp):
    unix().send(b"x")


def _send_epipe(tmp):
    a, b = pair()
    b.close()
    a.send(b"x")  # Python ignores SIGPIPE, so EPIPE comes back


def _recv_einval(tmp):
    listener(tmp / "s.sock").recv(10)


def _recv_econnreset(tmp):
    a, b = pair()
    a.send(b"never read")
    b.close()
    a.recv(10)


def _recv_eagain(tmp):
    a, _b = pair()
    a.setblocking(False)
    a.recv(10)


def _sendto_enoent(tmp):
    unix(socket.SOCK_DGRAM).sendto(b"x", str(tmp / "nobody.sock"))


def _sendto_econnrefused(tmp):
    d = unix(socket.SOCK_DGRAM)
    d.bind(str(tmp / "d.sock"))
    d.close()  # the file stays: a stale address
    unix(socket.SOCK_DGRAM).sendto(b"x", str(tmp / "d.sock"))


def _sendto_eprototype(tmp):
    listener(tmp / "s.sock")
    unix(socket.SOCK_DGRAM).sendto(b"x", str(tmp / "s.sock"))


def _sendto_emsgsize(tmp):
    d = unix(socket.SOCK_DGRAM)
    d.bind(str(tmp / "d.sock"))
    s = unix(socket.SOCK_DGRAM)
    largest = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - 32
    assert s.sendto(b"x" * largest, str(tmp / "d.sock")) == largest
    s.sendto(b"x" * (largest + 1), str(tmp / "d.sock"))


def _sendto_eperm(tmp):
    d, other = unix(socket.SOCK_DGRAM), unix(socket.SOCK_DGRAM)
    d.bind(str(tmp / "d.sock"))
    other.bind(str(tmp / "o.sock"))
    d.connect(str(tmp / "o.sock"))
    unix(socket.SOCK_DGRAM).sendto(b"x", str(tmp / "d.sock"))


def _sendto_eisconn(tmp):
    a, _b = pair()
    listener(tmp / "s.sock")
    a.sendto(b"x", str(tmp / "s.sock"))


def _getpeername_enotconn(tmp):
    unix().getpeername()


def _open_enxio(tmp):
    listener(tmp / "s.sock")
    os.open(tmp / "s.sock", os.O_RDWR)


def _shutdown_einval(tmp):
    pair()[0].shutdown(7)


def _getsockopt_enoprotoopt(tmp):
    unix().getsockopt(socket.SOL_SOCKET, 999)


SCENARIOS = [
    ("connect", "ENOENT", _connect_enoent),
    ("connect", "ECONNREFUSED", _connect_econnrefused),
    ("connect", "EPROTOTYPE", _connect_eprototype),
    ("connect", "EISCONN", _connect_eisconn),
    ("connect", "EINVAL", _connect_einval),
    ("connect", "EAGAIN", _connect_eagain),
    ("bind", "EADDRINUSE", _bind_eaddrinuse),
    ("bind", "EINVAL", _bind_einval),
    ("bind", "ENOENT", _bind_enoent),
    ("listen", "EINVAL", _listen_einval),
    ("listen", "EOPNOTSUPP", _listen_eopnotsupp),
    ("accept", "EINVAL", _accept_einval),
    ("accept", "EOPNOTSUPP", _accept_eopnotsupp),
    ("accept", "EAGAIN", _accept_eagain),
    ("send", "ENOTCONN", _send_enotconn),
    ("send", "EPIPE", _send_epipe),
    ("recv", "EINVAL", _recv_einval),
    ("recv", "ECONNRESET", _recv_econnreset),
    ("recv", "EAGAIN", _recv_eagain),
    ("sendto", "ENOENT", _sendto_enoent),
    ("sendto", "ECONNREFUSED", _sendto_econnrefused),
    ("sendto", "EPROTOTYPE", _sendto_eprototype),
    ("sendto", "EMSGSIZE", _sendto_emsgsize),
    ("sendto", "EPERM", _sendto_eperm),
    ("sendto", "EISCONN", _sendto_eisconn),
    ("getpeername", "ENOTCONN", _getpeername_enotconn),
    ("open", "ENXIO", _open_enxio),
    ("shutdown", "EINVAL", _shutdown_einval),
    ("getsockopt", "ENOPROTOOPT", _getsockopt_enoprotoopt),
]


@pytest.mark.parametrize("call, name, scenario", SCENARIOS, ids=[f"{c}-{n}" for c, n, _ in SCENARIOS])
def test_kernel_agrees(call, name, scenario, tmp_path):
    """The errno the tables explain is the one this kernel gives; both modules list it."""
    try:
        with pytest.raises(OSError) as info:
            scenario(tmp_path)
    finally:
        while OPEN:
            OPEN.pop().close()
    got = errno.errorcode[info.value.errno]
    assert SYNONYMS.get(got, got) == name
    assert (call, name) in CALL_ERRORS
    assert name in {e for e, _ in MAN_PAGES[call].errors}
