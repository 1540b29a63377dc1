"""Completion and colouring of the command line: pure functions, table-driven."""

import pytest

from sockrepl.complete import Context, highlight, suggest

CTX = Context(processes=("server", "client"), current="server",
              fds={"server": ((3, "STREAM LISTEN srv.sock"), (4, "STREAM CONNECTED")),
                   "client": ((3, "STREAM CONNECTED"),)},
              files=("srv.sock",), lessons=("phone", "mail"))

CASES = [
    ("b", ["bind", "back"]),
    ("se", ["setsockopt", "send", "sendto", "server:"]),
    ("close ", ["3", "4"]),
    ("client: close ", ["3"]),
    ("client> read ", ["3"]),
    ("client: w", ["wait", "write", "why"]),
    ("client: e", []),  # export, exit: sockrepl's own, refused after a prefix
    ("client: p", []),  # ps, panel
    ("bind 3 ", ["srv.sock"]),
    ("connect(3, ", ["srv.sock"]),
    ("socket AF", ["AF_UNIX", "AF_LOCAL", "AF_INET", "AF_INET6"]),
    ("socket AF_UNIX SOCK_S", ["SOCK_STREAM", "SOCK_SEQPACKET"]),
    ("socket AF_UNIX SOCK_STREAM|SOCK_N", ["SOCK_NONBLOCK"]),
    ("shutdown 4 ", ["SHUT_RD", "SHUT_WR", "SHUT_RDWR"]),
    ("recv 4 10 MSG_P", ["MSG_PEEK"]),
    ("getsockopt 4 SO_P", ["SO_PEERCRED"]),
    ("kill ", ["server", "client"]),
    ("kill client SIGK", ["SIGKILL"]),
    ("spawn ", []),
    ("man acc", ["accept"]),
    ("help sendt", ["sendto"]),
    ("lesson p", ["phone"]),
    ("fcntl 3 O_", ["O_NONBLOCK"]),
    ("nosuchcommand ", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_suggest(text, expected):
    assert [s.text for s in suggest(text, CTX)] == expected


def test_suggestions_replace_the_word_being_typed_and_carry_a_description():
    found = suggest("close ", CTX)
    assert [(s.start, s.meta) for s in found] == [(0, "STREAM LISTEN srv.sock"), (0, "STREAM CONNECTED")]
    assert suggest("socket AF_UN", CTX)[0].start == -5


def test_highlight_marks_commands_constants_strings_numbers():
    assert highlight('client: bind(3, "a b") SOCK_STREAM bogus') == [
        ("class:prefix", "client: "), ("class:call", "bind"), ("", "("), ("class:number", "3"), ("", ","),
        ("", " "), ("class:string", '"a b"'), ("", ")"), ("", " "), ("class:constant", "SOCK_STREAM"), ("", " "),
        ("", "bogus")]
    assert highlight("bnd 3")[0] == ("class:error", "bnd")
