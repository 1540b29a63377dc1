"""`man CALL` pages: one per system call command, real errno names, one screen each."""

import errno

import pytest

from sockrepl.commands import REGISTRY
from sockrepl.manpages import ALIASES, MAN_PAGES, ManPage, lookup
from sockrepl.render import plain
from sockrepl.views import man_lines

SYSCALLS = sorted(name for name, spec in REGISTRY.items() if spec.syscall)
PAGES = sorted(MAN_PAGES)


def real_errno(name: str) -> bool:
    """A Linux errno name. Not `name in errno.errorcode.values()`: that dict keeps one name
    per number, so EOPNOTSUPP (strace's name for 95) would be missing in favour of ENOTSUP."""
    number = getattr(errno, name, None)
    return isinstance(number, int) and number in errno.errorcode


def test_the_brief_list_is_covered():
    wanted = {
        "socket", "socketpair", "bind", "listen", "accept", "connect", "send", "write", "recv", "read",
        "sendto", "recvfrom", "close", "shutdown", "getsockname", "getpeername", "getsockopt",
        "setsockopt", "fcntl", "unlink", "stat", "open", "chmod",
    }
    assert wanted <= set(MAN_PAGES)


@pytest.mark.parametrize("name", SYSCALLS)
def test_every_syscall_command_has_a_page(name):
    page = lookup(name)
    assert isinstance(page, ManPage)
    assert page.name == name


@pytest.mark.parametrize("name", PAGES)
def test_page_shape(name):
    page = MAN_PAGES[name]
    assert page.name == name
    assert f"{name}(" in page.synopsis
    assert page.synopsis.startswith("#include <")
    assert page.summary and page.returns
    assert len(page.errors) <= 8
    assert len(page.notes) <= 4
    names = [e for e, _ in page.errors]
    assert len(names) == len(set(names)), "an errno listed twice"
    for errno_name, meaning in page.errors:
        assert real_errno(errno_name), errno_name
        assert meaning and "\n" not in meaning
    for other in page.see_also:
        assert other in MAN_PAGES and other != name


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_one_screen(name):
    """As `man NAME` draws it (views.man_lines, what the REPL and `sockrepl run` print)."""
    page = MAN_PAGES[name]
    fields = [page.summary, page.returns, *(m for _, m in page.errors), *page.notes]
    assert all(len(text) <= 300 for text in fields)
    assert sum(map(len, fields)) + sum(len(e) for e, _ in page.errors) < 1800
    lines = plain(man_lines(name, 80)).splitlines()
    assert max(map(len, lines)) <= 80
    assert len(lines) <= 24


@pytest.mark.parametrize(
    "topic, name",
    [("accept", "accept"), ("accept(2)", "accept"), (" ACCEPT ", "accept"), ("recv(2)", "recv"),
     ("accept4", "accept"), ("recvmsg", "recvfrom"), ("openat(2)", "open")],
)
def test_lookup(topic, name):
    assert lookup(topic) is MAN_PAGES[name]


@pytest.mark.parametrize("topic", ["nope", "", "(2)", "ls", "spawn", "accept(2"])
def test_lookup_unknown(topic):
    assert lookup(topic) is None


def test_aliases_point_at_pages():
    assert all(target in MAN_PAGES for target in ALIASES.values())


def errors_of(name):
    return {e for e, _ in MAN_PAGES[name].errors}


def text_of(name):
    return plain(man_lines(name, 80))


def test_linux_truths_are_stated():
    """The places where Linux differs from the lecture or a textbook (docs/kernel-notes.md)."""
    assert "backlog + 1" in text_of("listen")
    assert "ENXIO" in errors_of("open")
    assert "S_IFSOCK" in text_of("stat")
    assert "MSG_TRUNC" in text_of("recvfrom") and "MSG_TRUNC" in text_of("recv")
    assert "SIGPIPE" in text_of("send") and "SIGPIPE" in text_of("write")
    assert {"ENOENT", "ECONNREFUSED", "EPROTOTYPE", "EACCES", "EAGAIN"} <= errors_of("connect")
    assert {"ENOENT", "ECONNREFUSED", "EPROTOTYPE", "EMSGSIZE", "EAGAIN"} <= errors_of("sendto")
    assert {"EADDRINUSE", "EINVAL", "ENOENT"} <= errors_of("bind")
    assert {"EINVAL", "EOPNOTSUPP", "EAGAIN", "EINTR", "EMFILE"} <= errors_of("accept")
    assert {"ECONNRESET", "EINVAL", "EAGAIN"} <= errors_of("recv")
    assert "ENAMETOOLONG" in text_of("bind")  # said in a note: it cannot happen
    assert "ENOTCONN" not in errors_of("shutdown")  # Linux AF_UNIX returns 0 instead


def test_analogies():
    words = {"socket": "phone", "bind": "number", "listen": "ringer", "connect": "dial",
             "accept": "pick up", "sendto": "letter", "recvfrom": "mailbox", "close": "hang up"}
    for name, word in words.items():
        assert word in MAN_PAGES[name].summary, name
