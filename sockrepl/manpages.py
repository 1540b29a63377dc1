"""`man CALL`: each system call in short, in our own words, for AF_UNIX on Linux.

The pages by name; they are written in man_sockets.py and man_data.py (pure
data, drawn by views.man_lines). Every error and note states what this
kernel does (see docs/kernel-notes.md), not what a textbook or POSIX allows,
because a student tries it next and the kernel must agree. Each page fits an
80x24 screen: a summary, the return value, at most 8 errors and 4 notes.

Errno names are the ones strace prints: EOPNOTSUPP (Python's errno.errorcode
calls 95 ENOTSUP), EAGAIN (not EWOULDBLOCK).
"""

from sockrepl import man_data, man_sockets
from sockrepl.manpage import ManPage

MAN_PAGES: dict[str, ManPage] = {page.name: page for page in (*man_sockets.PAGES, *man_data.PAGES)}

# What strace shows for our calls on x86-64 glibc, and close cousins: `man accept4`
# should not draw a blank when a student copies a name from strace.
ALIASES = {
    "accept4": "accept",
    "recvmsg": "recvfrom",
    "sendmsg": "sendto",
    "openat": "open",
    "unlinkat": "unlink",
    "lstat": "stat",
    "fstat": "stat",
    "newfstatat": "stat",
    "statx": "stat",
    "fchmod": "chmod",
    "fchmodat": "chmod",
}


def lookup(topic: str) -> ManPage | None:
    """The page for `accept`, `accept(2)` or an strace name like `accept4`; else None."""
    name = topic.strip().lower()
    if name.endswith(")") and "(" in name:
        name = name[: name.index("(")]
    name = ALIASES.get(name, name)
    return MAN_PAGES.get(name)

