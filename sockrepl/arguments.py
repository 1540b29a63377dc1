"""Argument values: one converter per kind of parameter, and the checks across arguments.

Pure functions from a typed Token to a value, or a SyntaxProblem whose message a
student can act on; the command table in commands.py names a kind per parameter.
"""

import difflib
import re
from collections.abc import Callable
from typing import Any

from sockrepl import constants as C
from sockrepl.syntax import DATA_MAX, SUN_PATH_MAX, SyntaxProblem, Token, encode, parse_flags, parse_int, shown

RECV_MAX = 1024 * 1024
EXPORT_FORMATS = ("lesson", "mermaid", "html", "svg", "markdown")


def _word(tok: Token) -> str:
    if tok.data is not None:
        return tok.data.decode("utf-8", "surrogateescape")
    return tok.text


def _path_bytes(tok: Token) -> bytes:
    return tok.data if tok.data is not None else encode(tok.text)


def _address(tok: Token) -> bytes:
    """sun_path bytes: `@name` is abstract (leading NUL); "" asks for autobind."""
    raw = _path_bytes(tok)
    if raw.startswith(b"@"):
        raw = b"\0" + raw[1:]
    limit = SUN_PATH_MAX
    if len(raw) > limit:
        kind = "an abstract name" if raw.startswith(b"\0") else "a path"
        raise SyntaxProblem(
            f"sun_path holds {limit} bytes; {kind} of {len(raw)} bytes does not fit"
            " (a C program would cut it with strncpy, or fail)",
            "use a shorter relative path: relative paths live in the scratch directory",
        )
    return raw


def _data(tok: Token) -> bytes:
    data = _path_bytes(tok)
    if len(data) > DATA_MAX:
        raise SyntaxProblem(f"data of {len(data)} bytes is over the {DATA_MAX}-byte limit")
    return data


def _fd(tok: Token) -> int:
    fd = parse_int(tok.text, "a file descriptor")
    if 0 <= fd <= 2:
        raise SyntaxProblem(
            f"fd {fd} is the process's std{['in', 'out', 'err'][fd]}, which sockrepl uses to talk to it",
            "sockets start at fd 3; `state` lists each process's fds",
        )
    return fd


def name(tok: Token) -> str:
    text = tok.text
    if tok.quoted or not re.fullmatch(r"[A-Za-z_][\w.-]{0,31}", text):
        raise SyntaxProblem(
            f"{text!r} is not a process name",
            "a name is a letter then letters, digits, '_', '.' or '-', e.g. server, c1",
        )
    if text in C.ALL_CONSTANTS:
        raise SyntaxProblem(f"{text!r} is a command or constant name, not a process name", "try server, client, c1")
    return text


def _signal(tok: Token) -> int:
    text = tok.text.lstrip("-") if not tok.quoted else ""
    name = text if text.startswith("SIG") else "SIG" + text
    if name in C.SIGNALS:
        return C.SIGNALS[name]
    if re.fullmatch(r"[0-9]{1,2}", text) and 1 <= int(text) <= 64:
        return int(text)
    if re.fullmatch(r"[0-9]+", text):
        raise SyntaxProblem(f"signal number {shown(text)} is out of range", "signal numbers go from 1 to 64")
    raise SyntaxProblem(f"unknown signal {tok.text!r}", "known: " + ", ".join(C.SIGNALS))


def _seconds(tok: Token) -> float:
    try:
        value = float(tok.text)
    except ValueError:
        raise SyntaxProblem(f"seconds must be a number, not {tok.text!r}") from None
    if not 0 <= value <= 600:
        raise SyntaxProblem("seconds must be between 0 and 600")
    return value


def _choice(options: tuple[str, ...]):
    def convert(tok: Token) -> str:
        if tok.text in options:
            return tok.text
        raise SyntaxProblem(f"expected one of {', '.join(options)}, not {tok.text!r}")

    return convert


def _one_of(table: dict[str, int], what: str):
    def convert(tok: Token) -> int:
        if tok.text in table:
            return table[tok.text]
        if re.fullmatch(r"\d+", tok.text):
            return parse_int(tok.text, what)
        return _unknown(tok, table, what)

    return convert


def _unknown(tok: Token, table: dict[str, int], what: str):
    close = difflib.get_close_matches(tok.text, list(table), n=1)
    hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(table)
    raise SyntaxProblem(f"unknown {what} {tok.text!r}", hint)


def _socket_type(tok: Token) -> int:
    return parse_flags(tok.text, {**C.SOCKET_TYPES, **C.SOCKET_TYPE_FLAGS}, "socket type")


def _mode(tok: Token) -> int:
    if not re.fullmatch(r"0?[0-7]{1,4}|0o[0-7]{1,4}", tok.text):
        raise SyntaxProblem(f"mode must be octal like 0755, not {tok.text!r}")
    return int(tok.text.removeprefix("0o"), 8)


def _sockopt_value(tok: Token) -> int:
    return parse_int(tok.text.lstrip("&"), "option value", 0)


def _out_address(tok: Token) -> bool:
    return tok.text != "NULL" and tok.text != "0"


def _fcntl_op(tok: Token) -> str:
    if tok.text in ("F_GETFL", "F_SETFL", "O_NONBLOCK"):
        return tok.text
    raise SyntaxProblem(f"fcntl knows F_GETFL, F_SETFL and O_NONBLOCK, not {tok.text!r}", "e.g. fcntl 3 O_NONBLOCK on")


def _step(tok: Token) -> int:
    """A lesson step: any whole number parses (one far too big as STEP_FAR), so that the lesson, which knows
    how many steps it has, answers every step out of range the same way."""
    if not re.fullmatch(r"[-+]?[0-9]+", tok.text):
        raise SyntaxProblem(f"the step must be a number, not {shown(tok.text)}")
    digits = tok.text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(STEP_FAR)):
        return -STEP_FAR if tok.text.startswith("-") else STEP_FAR
    return int(tok.text, 10)


STEP_FAR = 10**18

CONVERTERS: dict[str, Callable[[Token], Any]] = {
    "fd": _fd,
    "int": lambda t: parse_int(t.text, "the number"),
    "backlog": lambda t: parse_int(t.text, "backlog"),
    "size": lambda t: parse_int(t.text, "the buffer size", 0, RECV_MAX),
    "len": lambda t: parse_int(t.text, "the length", 0, DATA_MAX),
    "addrlen": lambda t: 110 if re.fullmatch(r"sizeof\s*\(.*\)", t.text) else parse_int(t.text, "addrlen", 0, 110),
    "protocol": lambda t: parse_int(t.text, "protocol"),
    "domain": _one_of(C.DOMAINS, "domain"),
    "socktype": _socket_type,
    "msgflags": lambda t: parse_flags(t.text, C.MSG_FLAGS, "flag"),
    "how": _one_of(C.SHUTDOWN_HOWS, "shutdown mode"),
    "level": _one_of(C.SOCKOPT_LEVELS, "option level"),
    "optname": _one_of(C.SOCKOPTS, "socket option"),
    "optvalue": _sockopt_value,
    "fcntlop": _fcntl_op,
    "fcntlarg": lambda t: t.text,
    "openflags": lambda t: parse_flags(t.text, C.OPEN_FLAGS, "open flag"),
    "addr": _address,
    "path": lambda t: _path_bytes(t).split(b"\0", 1)[0],  # a C string ends at its NUL
    "data": _data,
    "mode": _mode,
    "name": name,
    "names": name,
    "signal": _signal,
    "disposition": _choice(("ignore", "default")),
    "seconds": _seconds,
    "word": _word,
    "format": _choice(EXPORT_FORMATS),
    "count": lambda t: parse_int(t.text, "the number of events", 1),
    "step": _step,
    "ignore": lambda t: None,
    "outaddr": _out_address,
}

FITS: dict[str, Callable[[Token], bool]] = {
    "level": lambda t: t.text.startswith("SOL_"),
    "name": lambda t: bool(re.fullmatch(r"[A-Za-z_][\w.-]*", t.text))
    and t.text not in C.ALL_CONSTANTS
    and not t.text.lstrip("-").isdigit()
    and "SIG" + t.text not in C.SIGNALS,
}


# ---- cross-argument checks ------------------------------------------------


def check_len(args: dict) -> None:
    """C form: the length argument may shorten the string, never lengthen it."""
    length = args.pop("len", None)
    if length is None:
        return
    if length > len(args["data"]):
        raise SyntaxProblem(
            f"length {length} is longer than the {len(args['data'])}-byte string",
            "a C program would send whatever memory follows the string; give a length <= the string's",
        )
    args["data"] = args["data"][:length]


def check_setsockopt(args: dict) -> None:
    if C.name_of(args["optname"], C.SOCKOPTS) not in C.SETTABLE_SOCKOPTS:
        raise SyntaxProblem("sockrepl sets only SO_SNDBUF and SO_RCVBUF", "e.g. setsockopt 3 SO_SNDBUF 4096")


def check_fcntl(args: dict) -> None:
    op, arg = args["cmd"], args.get("arg")
    if op == "O_NONBLOCK":
        if arg not in (None, "on", "off"):
            raise SyntaxProblem("fcntl FD O_NONBLOCK takes on or off", "e.g. fcntl 3 O_NONBLOCK off")
        args["cmd"], args["arg"] = "nonblock", arg != "off"
    elif op == "F_GETFL":
        if arg is not None:
            raise SyntaxProblem("F_GETFL takes no argument", "e.g. fcntl 3 F_GETFL")
        args["cmd"] = "getfl"
    else:
        if arg is None:
            raise SyntaxProblem("F_SETFL needs the new flags", "e.g. fcntl 3 F_SETFL O_RDWR|O_NONBLOCK")
        args["cmd"], args["arg"] = "setfl", parse_flags(arg, C.OPEN_FLAGS, "open flag")


def check_bind_address(args: dict) -> None:
    if args["addr"] == b"\0":
        raise SyntaxProblem("an abstract name needs at least one character after @", 'for autobind use ""')


def check_why(args: dict) -> None:
    """`why`, `why NAME`, `why NAME fd N`, `why fd N`: the word fd, then a number."""
    if args["name"] == "fd" and args["keyword"] is not None and args["fd"] is None:
        args["name"], args["fd"], args["keyword"] = None, parse_int(args["keyword"], "the fd"), "fd"
    if (args["keyword"] is None) != (args["fd"] is None) or args["keyword"] not in (None, "fd"):
        raise SyntaxProblem("after the process name, say which fd as: fd N", "e.g. why server fd 4")
    del args["keyword"]
