"""The child process of a session: runs one system call at a time on its own fds.

Started as `python -I -S worker.py PARENT_PID FD_LIMIT JOIN [UID GID]` (FD_LIMIT 0: no new limit; JOIN: the
fds of a lesson's namespaces to enter, "USERFD,NETFD" or "NETFD", or "-") with stdin/stdout as
pipes to the session, so fds 0-2 are the tool's and the first socket is fd 3,
as in a C program. Of sockrepl it imports only `protocol` and `syscalls` (stdlib-only,
found by putting the package's parent directory last on the path): it must start fast.

It behaves like a C program: one syscall per request, through libc (syscalls.py), the
kernel's return value and errno as they are, no PEP 475 retry after EINTR (a SIGINT from
the session makes a blocked call return -1 EINTR), SIGPIPE at its default action, no signal
blocked (it is forked with sockrepl's ending signals blocked, see process.start_workers).

`worker.py namespace FD` makes a lesson's private network namespace instead (see
`make_namespace`) and exits.

Protocol: protocol.py's records, framed by it; the worker waits for a request in read(0, ...)
and answers with write(1, ...), which is how the session tells it idle.
"""

import os
import resource
import signal
import socket
import sys

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # last: never before the stdlib
from sockrepl.protocol import (
    NAMESPACE_READY,
    NAMESPACE_REFUSED,
    NETLINK_SOCK_DIAG,
    Hello,
    Internal,
    reply_frame,
    take_requests,
)
from sockrepl.syscalls import OPS, libc

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>: not in the standard library
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000  # <linux/sched.h>: in os only from Python 3.12
READ_SIZE = 1 << 16  # a pipe's capacity: a larger buffer costs an mmap and munmap each read


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
            channel.send(NAMESPACE_REFUSED)
            return 0
        private_user = bool(made & CLONE_NEWUSER)
        if private_user and not map_own_ids():
            channel.send(NAMESPACE_REFUSED)
            return 0
        kinds = ("user", "net") if private_user else ("net",)
        joins = [os.open(f"/proc/self/ns/{kind}", os.O_RDONLY) for kind in kinds]
        diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        socket.send_fds(channel, [NAMESPACE_READY], [diag.fileno(), *joins])
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
    signal.pthread_sigmask(signal.SIG_SETMASK, ())  # first: it came with sockrepl's ending signals blocked
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
    write_all(reply_frame(Hello(os.getpid(), os.getuid(), os.getgid())))
    buffer = bytearray()
    while True:
        chunk = os.read(0, READ_SIZE)
        if not chunk:
            return 0
        buffer += chunk
        for request in take_requests(buffer):
            try:
                reply = OPS[request.op](request.args)
            except Exception as exc:  # a bug of ours must not kill the process and its fds
                reply = Internal(f"{type(exc).__name__}: {exc}")
            write_all(reply_frame(reply))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
