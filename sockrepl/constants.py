"""C constants by name, grouped by the argument they belong to.

Values come from the standard library's `socket`, `os`, `fcntl`, `signal` and
`errno` (the values of the platform Python runs on). Kept as tables by name so
the parser, the completer, `help` and the renderer read one source.
"""

import errno as _errno
import fcntl as _fcntl
import os as _os
import signal as _signal
import socket as _socket


def _named(module, *names: str) -> dict[str, int]:
    return {name: int(getattr(module, name)) for name in names}


DOMAINS = {**_named(_socket, "AF_UNIX"), "AF_LOCAL": int(_socket.AF_UNIX), **_named(_socket, "AF_INET", "AF_INET6")}

SOCKET_TYPES = _named(_socket, "SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET")
SOCKET_TYPE_FLAGS = _named(_socket, "SOCK_NONBLOCK", "SOCK_CLOEXEC")

MSG_FLAGS = _named(_socket, "MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE", "MSG_TRUNC", "MSG_DONTWAIT", "MSG_EOR",
                   "MSG_WAITALL", "MSG_NOSIGNAL", "MSG_CMSG_CLOEXEC")

SHUTDOWN_HOWS = _named(_socket, "SHUT_RD", "SHUT_WR", "SHUT_RDWR")

SOCKOPT_LEVELS = _named(_socket, "SOL_SOCKET")
SOCKOPTS = _named(_socket, "SO_TYPE", "SO_ERROR", "SO_SNDBUF", "SO_RCVBUF", "SO_PEERCRED")
SETTABLE_SOCKOPTS = ("SO_SNDBUF", "SO_RCVBUF")

FCNTL_COMMANDS = _named(_fcntl, "F_GETFL", "F_SETFL")
OPEN_FLAGS = _named(_os, "O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_NONBLOCK", "O_CLOEXEC")

SIGNALS = {
    name: int(getattr(_signal, name))
    for name in (
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGPIPE",
        "SIGALRM", "SIGTERM", "SIGCONT", "SIGSTOP", "SIGTSTP",
    )
}

ERRNO_NAMES = {**_errno.errorcode, _errno.EOPNOTSUPP: "EOPNOTSUPP"}  # strace's name for 95, not ENOTSUP


def errno_text(code: int) -> str:
    """`ENOENT (No such file or directory)`, as strace prints an error."""
    return f"{ERRNO_NAMES.get(code, str(code))} ({_os.strerror(code)})"


def signal_name(number: int) -> str:
    for name, value in SIGNALS.items():
        if value == number:
            return name
    try:
        return _signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def flag_names(value: int, table: dict[str, int], zero: str = "0") -> str:
    """`MSG_PEEK|MSG_DONTWAIT` for 0x42, with unknown bits left as hex."""
    if value == 0:
        return zero
    names = []
    rest = value
    for name, bit in table.items():
        if bit and value & bit == bit and rest & bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return "|".join(names)


def socket_type_text(value: int) -> str:
    """`SOCK_STREAM|SOCK_NONBLOCK` for a socket() type argument."""
    base = value & 0xF
    base_name = next((n for n, v in SOCKET_TYPES.items() if v == base), str(base))
    flags = flag_names(value & ~0xF, SOCKET_TYPE_FLAGS, zero="")
    return base_name + ("|" + flags if flags else "")


def name_of(value: int, table: dict[str, int]) -> str:
    return next((n for n, v in table.items() if v == value), str(value))


ALL_CONSTANTS = {
    **DOMAINS, **SOCKET_TYPES, **SOCKET_TYPE_FLAGS, **MSG_FLAGS, **SHUTDOWN_HOWS,
    **SOCKOPT_LEVELS, **SOCKOPTS, **FCNTL_COMMANDS, **OPEN_FLAGS, **SIGNALS,
}
