"""The command language: both forms, constants, C strings, and every error a user can make."""

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sockrepl
from sockrepl.commands import REGISTRY, Command
from sockrepl.parser import ParseError, parse
from sockrepl.syntax import _join_pipes, _lex, split_shell

STREAM, DGRAM, NONBLOCK = 1, 2, 0o4000

PARSES = [
    ("bind 3 srv.sock", "bind", {"fd": 3, "addr": b"srv.sock"}, None),
    ('bind(3, "srv.sock")', "bind", {"fd": 3, "addr": b"srv.sock", "addrlen": None}, None),
    ('bind(3, "srv.sock", 110);', "bind", {"fd": 3, "addr": b"srv.sock", "addrlen": 110}, None),
    ("bind 3 @abstract", "bind", {"fd": 3, "addr": b"\0abstract"}, None),
    ('bind 3 ""', "bind", {"fd": 3, "addr": b""}, None),
    ("bind 3 /tmp/x.sock", "bind", {"fd": 3, "addr": b"/tmp/x.sock"}, None),
    ("server: accept 3", "accept", {"fd": 3}, "server"),
    ("server> accept 3", "accept", {"fd": 3}, "server"),
    ("accept(3, NULL, NULL)", "accept", {"fd": 3, "want_addr": False}, None),
    ("accept(3, &addr, &len)", "accept", {"fd": 3, "want_addr": True}, None),
    ("socket AF_UNIX SOCK_STREAM", "socket", {"domain": 1, "type": STREAM, "protocol": 0}, None),
    ("socket(AF_UNIX, SOCK_DGRAM, 0)", "socket", {"domain": 1, "type": DGRAM, "protocol": 0}, None),
    ("socket AF_LOCAL SOCK_STREAM | SOCK_NONBLOCK", "socket", {"domain": 1, "type": STREAM | NONBLOCK,
                                                             "protocol": 0}, None),
    ("socket AF_UNIX SOCK_STREAM|SOCK_NONBLOCK", "socket", {"domain": 1, "type": STREAM | NONBLOCK,
                                                           "protocol": 0}, None),
    ("socketpair AF_UNIX SOCK_SEQPACKET", "socketpair", {"domain": 1, "type": 5, "protocol": 0}, None),
    ("listen 3 0x10", "listen", {"fd": 3, "backlog": 16}, None),
    ("listen(3, -1)", "listen", {"fd": 3, "backlog": -1}, None),
    ('send 4 "hi\\n" MSG_DONTWAIT|MSG_NOSIGNAL', "send", {"fd": 4, "data": b"hi\n", "flags": 0x4040}, None),
    ('send(4, "hello", 3, 0)', "send", {"fd": 4, "data": b"hel", "flags": 0}, None),
    ('write 4 "\\x00\\x01\\377\\0"', "write", {"fd": 4, "data": b"\x00\x01\xff\x00"}, None),
    ("write 4 hello", "write", {"fd": 4, "data": b"hello"}, None),
    ('write 4 "ab"*3', "write", {"fd": 4, "data": b"ababab"}, None),
    ("write 4 'single quoted'", "write", {"fd": 4, "data": b"single quoted"}, None),
    ('write(4, "a,b", 3)', "write", {"fd": 4, "data": b"a,b"}, None),
    ('sendto 3 "hi" srv.sock', "sendto", {"fd": 3, "data": b"hi", "addr": b"srv.sock", "flags": 0}, None),
    ('sendto(3, "hello", 5, 0, "srv.sock", 110)', "sendto",
     {"fd": 3, "data": b"hello", "flags": 0, "addr": b"srv.sock", "addrlen": 110}, None),
    ("recv 4", "recv", {"fd": 4, "size": 1024, "flags": 0}, None),
    ("recv 4 10 MSG_PEEK", "recv", {"fd": 4, "size": 10, "flags": 2}, None),
    ("recv(4, buf, 10, 0)", "recv", {"fd": 4, "size": 10, "flags": 0}, None),
    ("read(4, buf, 1024)", "read", {"fd": 4, "size": 1024}, None),
    ("recvfrom 3 10", "recvfrom", {"fd": 3, "size": 10, "flags": 0}, None),
    ("recvfrom(3, buf, 10, 0, NULL, NULL)", "recvfrom", {"fd": 3, "size": 10, "flags": 0, "want_addr": False},
     None),
    ("shutdown 4 SHUT_WR", "shutdown", {"fd": 4, "how": 1}, None),
    ("getsockopt 4 SO_PEERCRED", "getsockopt", {"fd": 4, "level": 1, "optname": 17}, None),
    ("getsockopt 4 SOL_SOCKET SO_TYPE", "getsockopt", {"fd": 4, "level": 1, "optname": 3}, None),
    ("setsockopt 3 SO_SNDBUF 4096", "setsockopt", {"fd": 3, "level": 1, "optname": 7, "value": 4096}, None),
    ("fcntl 3 O_NONBLOCK", "fcntl", {"fd": 3, "cmd": "nonblock", "arg": True}, None),
    ("fcntl 3 O_NONBLOCK off", "fcntl", {"fd": 3, "cmd": "nonblock", "arg": False}, None),
    ("fcntl(3, F_GETFL)", "fcntl", {"fd": 3, "cmd": "getfl", "arg": None}, None),
    ("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK)", "fcntl", {"fd": 3, "cmd": "setfl", "arg": 0o4002}, None),
    ("chmod srv.sock 0500", "chmod", {"path": b"srv.sock", "mode": 0o500}, None),
    ("open srv.sock", "open", {"path": b"srv.sock", "flags": 2}, None),
    ("spawn server client", "spawn", {"names": ["server", "client"], "user": None, "unprivileged": False}, None),
    ("spawn --unprivileged guest", "spawn", {"names": ["guest"], "user": None, "unprivileged": True}, None),
    ("kill client", "kill", {"name": "client", "signal": 15}, None),
    ("kill client -9", "kill", {"name": "client", "signal": 9}, None),
    ("kill client STOP", "kill", {"name": "client", "signal": 19}, None),
    ("wait", "wait", {"name": None, "seconds": 5.0}, None),
    ("wait 2", "wait", {"name": None, "seconds": 2.0}, None),
    ("wait server 0.5", "wait", {"name": "server", "seconds": 0.5}, None),
    ("signal SIGPIPE ignore", "signal", {"name": None, "signal": 13, "action": "ignore"}, None),
    ("signal client SIGPIPE default", "signal", {"name": "client", "signal": 13, "action": "default"}, None),
    ("state --json", "state", {"json": True}, None),
    ("quit", "exit", {}, None),
    ("client:", "use", {"name": "client"}, None),
]


@pytest.mark.parametrize("line,name,args,process", PARSES)
def test_parses(line, name, args, process):
    c_form = re.match(r"^\w+\s*\(", line) is not None
    assert parse(line) == Command(name, args, process, line.strip(), c_form)


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "  # indented comment"])
def test_blank_and_comments(line):
    assert parse(line) is None


ERRORS = [
    ("bnd 3 x", "unknown command 'bnd'", None, "did you mean 'bind'? (help lists the commands)"),
    ("frobnicate", "unknown command 'frobnicate'", None, "help lists the commands"),
    ("bind 3", "bind: missing PATH", "bind FD PATH", None),
    ("bind x srv.sock", "bind: a file descriptor must be a number, not 'x'", "bind FD PATH", None),
    ("close 1", "close: fd 1 is the process's stdout, which sockrepl uses to talk to it", "close FD",
     "sockets start at fd 3; `state` lists each process's fds"),
    ("close 99999999999", "close: a file descriptor 99999999999 is out of range (-2147483648..2147483647)",
     "close FD", None),
    ("listen 3 1 2", "listen: too many arguments (unexpected '2')", "listen FD BACKLOG", None),
    # a quoted word is named as typed, not with the line before it (it was 'bind 3 "a" "b"', 'spawn "x"')
    ('bind 3 "a" "b"', "bind: too many arguments (unexpected '\"b\"')", "bind FD PATH", None),
    ('spawn "x"', "spawn: '\"x\"' is not a process name", "spawn [--user USER] [--unprivileged] NAMES...",
     "a name is a letter then letters, digits, '_', '.' or '-', e.g. server, c1"),
    ('listen 3 "1"', "listen: backlog must be a number, not '\"1\"'", "listen FD BACKLOG", None),
    ('write 4 "abc', "unterminated string: missing closing \"", None, 'close the string with "'),
    ('write 4 "\\q"', "unknown escape \\q in a string", None, r'known escapes: \n \t \r \\ \" \0 \xHH'),
    ("socket AF_UNIX SOCK_STRAEM", "socket: unknown socket type 'SOCK_STRAEM'", "socket DOMAIN TYPE [PROTOCOL]",
     "known: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC"),
    ("bind 3 " + "x" * 109, "bind: sun_path holds 108 bytes; a path of 109 bytes does not fit"
     " (a C program would cut it with strncpy, or fail)", "bind FD PATH",
     "use a shorter relative path: relative paths live in the scratch directory"),
    ('write(4, "hello", 9)', "write: length 9 is longer than the 5-byte string", "write(fd, data, [len])",
     "a C program would send whatever memory follows the string; give a length <= the string's"),
    ("spawn", "spawn: give at least one name", "spawn [--user USER] [--unprivileged] NAMES...", None),
    ("spawn a a", "spawn: a name appears twice", "spawn [--user USER] [--unprivileged] NAMES...", None),
    ("spawn bind", "spawn: 'bind' is a command or constant name, not a process name",
     "spawn [--user USER] [--unprivileged] NAMES...", "try server, client, c1"),
    ("spawn --force a", "spawn: unknown option --force", "spawn [--user USER] [--unprivileged] NAMES...",
     "options of spawn: --user, --unprivileged"),
    ("recv 4 99999999", "recv: the buffer size 99999999 is out of range (0..1048576)", "recv FD [LEN] [FLAGS]",
     None),
    ("setsockopt 3 SO_TYPE 1", "setsockopt: sockrepl sets only SO_SNDBUF and SO_RCVBUF",
     "setsockopt FD [LEVEL] OPTNAME VALUE", "e.g. setsockopt 3 SO_SNDBUF 4096"),
    ("ps(1)", "ps: ps is a sockrepl command, not a system call", "ps", "type it as: ps"),
    ("bind 3 @", "bind: an abstract name needs at least one character after @", "bind FD PATH",
     'for autobind use ""'),
    ('write 4 "x"*5000000', "that string would be 5000000 bytes; sockrepl sends at most 4194304", None,
     'try a smaller repeat, e.g. "x"*1000000'),
    ("a: exit", "exit is sockrepl's own command: it does not run in a process", "exit",
     "type exit alone, without the `a` prefix (to end a: kill a)"),
    ("a: quit", "exit is sockrepl's own command: it does not run in a process", "exit",
     "type exit alone, without the `a` prefix (to end a: kill a)"),
    ("p1: next", "next is sockrepl's own command: it does not run in a process", "next",
     "type next alone, without the `p1` prefix"),
    ("p1> panel off", "panel is sockrepl's own command: it does not run in a process", "panel [compact|full|off]",
     "type panel alone, without the `p1` prefix"),
]


def test_an_option_value_in_quotes_is_its_string():
    """`spawn --user "nobody"` looked up a user named '"nobody"', quotes included."""
    assert parse('spawn --user "nobody" a').args["user"] == "nobody"
    assert parse("spawn --user nobody a").args["user"] == "nobody"


@pytest.mark.parametrize("line,message,usage,hint", ERRORS)
def test_errors(line, message, usage, hint):
    with pytest.raises(ParseError) as caught:
        parse(line)
    assert (caught.value.message, caught.value.usage, caught.value.hint) == (message, usage, hint)


def test_the_groups_of_calls_are_spelled_out_once():
    """Which calls send (to the connected peer, or to an address) and which receive: commands.py says it, the
    modules that ask name its tuples (four of them had `("send", "write")` written out)."""
    spelled = re.compile(r'\(\s*"send",\s*"write"|\(\s*"recv",\s*"read"')
    package = Path(sockrepl.__file__).parent
    assert [path.name for path in sorted(package.glob("*.py"))
            if path.name != "commands.py" and spelled.search(path.read_text(encoding="utf-8"))] == []


def test_every_command_has_help_and_an_example_that_parses():
    for spec in REGISTRY.values():
        assert spec.summary and spec.example, spec.name
        assert parse(spec.example).name == spec.name


def test_undecodable_bytes_are_escaped_in_messages():
    line = b"\xff\xfe garbage".decode("utf-8", "surrogateescape")
    with pytest.raises(ParseError) as caught:
        parse(line)
    assert caught.value.message == "unknown command '\\xff\\xfe'"


def test_undecodable_bytes_round_trip_into_data():
    line = b'write 4 "\xff\xfe"'.decode("utf-8", "surrogateescape")
    assert parse(line).args["data"] == b"\xff\xfe"


@given(st.text(alphabet=st.characters(blacklist_characters="\"'"), max_size=40))
def test_lines_without_quotes_split_as_the_general_lexer_splits_them(line):
    """split_shell's shortcut for quote-free lines (str.split) must cut where the lexer cuts."""
    assert split_shell(line) == _join_pipes(_lex(line))
