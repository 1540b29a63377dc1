"""C constants by name, grouped by the argument they belong to.

Values are Linux's (x86-64 and aarch64 agree on all of these). Kept as plain
tables so the parser, the completer, `help` and the renderer read one source.
"""

import errno as _errno
import os as _os
import signal as _signal

DOMAINS = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10}

SOCKET_TYPES = {"SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_SEQPACKET": 5}
SOCKET_TYPE_FLAGS = {"SOCK_NONBLOCK": 0o4000, "SOCK_CLOEXEC": 0o2000000}

MSG_FLAGS = {
    "MSG_OOB": 0x1,
    "MSG_PEEK": 0x2,
    "MSG_DONTROUTE": 0x4,
    "MSG_TRUNC": 0x20,
    "MSG_DONTWAIT": 0x40,
    "MSG_EOR": 0x80,
    "MSG_WAITALL": 0x100,
    "MSG_NOSIGNAL": 0x4000,
    "MSG_CMSG_CLOEXEC": 0x40000000,
}

SHUTDOWN_HOWS = {"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2}

SOCKOPT_LEVELS = {"SOL_SOCKET": 1}
SOCKOPTS = {
    "SO_TYPE": 3,
    "SO_ERROR": 4,
    "SO_SNDBUF": 7,
    "SO_RCVBUF": 8,
    "SO_PEERCRED": 17,
}
SETTABLE_SOCKOPTS = ("SO_SNDBUF", "SO_RCVBUF")

FCNTL_COMMANDS = {"F_GETFL": 3, "F_SETFL": 4}
OPEN_FLAGS = {
    "O_RDONLY": 0,
    "O_WRONLY": 1,
    "O_RDWR": 2,
    "O_CREAT": 0o100,
    "O_EXCL": 0o200,
    "O_TRUNC": 0o1000,
    "O_NONBLOCK": 0o4000,
    "O_CLOEXEC": 0o2000000,
}

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
