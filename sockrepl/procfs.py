"""Read processes as the kernel shows them in /proc/PID: open fds, run state, the syscall a
process sleeps in, its signal dispositions.

How sockrepl knows, without guessing, that a worker is blocked (asleep in its call's
syscall) or stopped. Stdlib only, no printing; a process that vanishes while it is read
is an ordinary event: the readers return None instead of raising.
"""

from __future__ import annotations

import os
from typing import NamedTuple

_GONE = (FileNotFoundError, ProcessLookupError)


class FdTarget(NamedTuple):
    """Where one of a process's fds points, from /proc/PID/fd."""

    fd: int
    inode: int | None     # socket inode when the link is socket:[N]
    path: str | None      # the link text otherwise ("/dev/null", "pipe:[123]")


def fd_table(pid: int) -> dict[int, FdTarget] | None:
    """The process's open fds from /proc/PID/fd; None if it is gone (or unreadable).
    An fd closed between listing and readlink is simply left out."""
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except (*_GONE, PermissionError, NotADirectoryError):
        return None
    table: dict[int, FdTarget] = {}
    for entry in names:
        try:
            link = os.readlink(f"{base}/{entry}")
        except OSError:
            continue
        fd = int(entry)
        inode = inode_of(link)
        table[fd] = FdTarget(fd, inode, None if inode is not None else link)
    return dict(sorted(table.items()))


def socket_inode(pid: int, fd: int) -> int | None:
    """The inode of the socket behind one fd, None if not a socket."""
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    return inode_of(link)


def socket_link(inode: int) -> str:
    """What /proc/PID/fd/FD links to for a socket: `socket:[INODE]`."""
    return f"socket:[{inode}]"


def inode_of(link: str) -> int | None:
    """The socket inode of a /proc/PID/fd link; None for anything else ("/dev/null", "pipe:[123]")."""
    return int(link[8:-1]) if link.startswith("socket:[") and link.endswith("]") else None


class TaskState(NamedTuple):
    """What the kernel says a process is doing: its state letter and the call it sleeps in."""

    state: str                # /proc/PID/stat field 3: 'R', 'S', 'D', 'T', 't', 'Z', ...
    syscall: int | None       # /proc/PID/syscall number; None if running or unreadable
    args: tuple[int, ...]     # its six arguments; () when none
    wchan: str | None         # where it sleeps; None if unreadable or "0"


def _read(path: str) -> str | None:
    """File text; None if unreadable; raises the _GONE errors (process vanished).

    Plain os.open/os.read: a /proc file is read before every call and for every
    snapshot, and a text-mode open() costs three times as much."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except _GONE:
        raise
    except OSError:
        return None
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except _GONE:
        raise
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode("ascii", "replace")


def is_stopped(state: str | None) -> bool:
    """The one test for "this process is stopped": /proc/PID/stat says T (by a signal) or t (by a tracer)."""
    return state in ("t", "T")


def run_state(pid: int) -> str | None:
    """Only the scheduler state letter (one file): enough to tell stopped or gone."""
    try:
        stat = _read(f"/proc/{pid}/stat")
    except _GONE:
        return None
    return _state_letter(stat)


def _state_letter(stat: str | None) -> str | None:
    return stat[stat.rindex(")") + 2] if stat else None      # comm may contain ') '


def open_stat(pid: int) -> int | None:
    """/proc/PID/stat kept open, for `run_state_at`: one pread a look instead of open, read, read, close."""
    try:
        return os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def run_state_at(stat_fd: int) -> str | None:
    """`run_state` through a kept /proc/PID/stat: read again from offset 0, the kernel writes it anew.

    None once the process is gone (reaped: ESRCH)."""
    try:
        return _state_letter(os.pread(stat_fd, 4096, 0).decode("ascii", "replace"))
    except OSError:
        return None


def task_state(pid: int) -> TaskState | None:
    """Scheduler state and current syscall of a (single-threaded) process.

    This is how the tool knows, without guessing, that a worker is blocked: state
    'S' inside the call's syscall number with the call's fd as first argument.
    None if the process is gone.
    """
    try:
        state = run_state(pid)
        if state is None:
            return None
        sysc = _read(f"/proc/{pid}/syscall")
        wchan = _read(f"/proc/{pid}/wchan")
    except _GONE:
        return None
    number: int | None = None
    args: tuple[int, ...] = ()
    fields = sysc.split() if sysc else []
    if fields and fields[0].lstrip("-").isdigit() and int(fields[0]) >= 0:
        number = int(fields[0])                      # "-1 sp pc": not in a syscall
        args = tuple(int(x, 16) for x in fields[1:7])
    wchan = wchan.strip() if wchan else None
    return TaskState(state, number, args, wchan if wchan and wchan != "0" else None)


_SYSCALLS = {
    "x86_64": {
        "read": 0, "write": 1, "open": 2, "close": 3, "poll": 7, "ioctl": 16,
        "readv": 19, "writev": 20, "select": 23, "dup": 32, "dup2": 33, "pause": 34,
        "nanosleep": 35, "socket": 41, "connect": 42, "accept": 43, "sendto": 44,
        "recvfrom": 45, "sendmsg": 46, "recvmsg": 47, "shutdown": 48, "bind": 49,
        "listen": 50, "getsockname": 51, "getpeername": 52, "socketpair": 53,
        "setsockopt": 54, "getsockopt": 55, "exit": 60, "wait4": 61, "kill": 62,
        "fcntl": 72, "rt_sigsuspend": 130, "futex": 202, "clock_nanosleep": 230,
        "exit_group": 231, "epoll_wait": 232, "waitid": 247, "openat": 257,
        "pselect6": 270, "ppoll": 271, "epoll_pwait": 281, "accept4": 288,
        "dup3": 292, "pipe2": 293, "recvmmsg": 299, "sendmmsg": 307,
    },
    "aarch64": {   # asm-generic numbering: no open, poll, select, pause, dup2
        "epoll_pwait": 22, "dup": 23, "dup3": 24, "fcntl": 25, "ioctl": 29,
        "openat": 56, "close": 57, "pipe2": 59, "read": 63, "write": 64, "readv": 65,
        "writev": 66, "pselect6": 72, "ppoll": 73, "exit": 93, "exit_group": 94,
        "waitid": 95, "futex": 98, "nanosleep": 101, "clock_nanosleep": 115,
        "kill": 129, "rt_sigsuspend": 133, "socket": 198, "socketpair": 199,
        "bind": 200, "listen": 201, "accept": 202, "connect": 203, "getsockname": 204,
        "getpeername": 205, "sendto": 206, "recvfrom": 207, "setsockopt": 208,
        "getsockopt": 209, "shutdown": 210, "sendmsg": 211, "recvmsg": 212,
        "accept4": 242, "recvmmsg": 243, "wait4": 260, "sendmmsg": 269,
    },
}
_MACHINE = os.uname().machine.lower()    # what platform.machine() returns, 4 ms cheaper
# An unknown architecture gets no table: "syscall_N" is honest, a guess is not.
_BY_NAME = _SYSCALLS.get({"amd64": "x86_64", "arm64": "aarch64"}.get(_MACHINE, _MACHINE), {})
_BY_NUMBER = {v: k for k, v in _BY_NAME.items()}


def syscall_name(number: int) -> str:
    """Name of a syscall number on this machine's architecture."""
    return _BY_NUMBER.get(number, f"syscall_{number}")


def syscall_number(name: str) -> int | None:
    """Number of a syscall on this machine's architecture; None if unknown/absent."""
    return _BY_NAME.get(name)


class SignalMasks(NamedTuple):
    """A process's signal sets, from /proc/PID/status."""

    pending: int     # SigPnd | ShdPnd
    blocked: int     # SigBlk
    ignored: int     # SigIgn
    caught: int      # SigCgt


def signal_masks(pid: int) -> SignalMasks | None:
    """Signal dispositions from /proc/PID/status (bit n-1 is signal n); None if gone."""
    try:
        text = _read(f"/proc/{pid}/status") or ""
    except _GONE:
        return None
    masks = {k: int(v, 16) for k, _, v in (line.partition(":\t") for line in text.splitlines())
             if k in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")}
    if len(masks) < 5:
        return None
    return SignalMasks(masks["SigPnd"] | masks["ShdPnd"], masks["SigBlk"],
                       masks["SigIgn"], masks["SigCgt"])
