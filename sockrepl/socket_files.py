"""The socket files a session's binds made: remembered by (dev, inode), removed at the end.

Only those: never a file someone put there since, nor one a live socket is still bound to.
"""

import os
import stat
from pathlib import Path

from sockrepl import kernel

Created = dict[str, tuple[int, int]]  # absolute path -> (dev, inode) of the file a bind made


def remember_bound(created: Created, scratch: Path, address: bytes) -> None:
    """The socket file a successful bind made: the kernel reads sun_path up to its first NUL."""
    path = address.split(b"\0", 1)[0] if not address.startswith(b"\0") else b""
    if not path:
        return
    full = os.path.join(scratch, os.fsdecode(path))
    try:
        st = os.lstat(full)
    except OSError:
        return
    created[full] = (st.st_dev, st.st_ino)


def remove_created(created: Created) -> None:
    """Unlink the files in `created` that are still the socket files the binds made.

    Inode numbers get reused, so a file counts as ours only if it is a socket file with
    the same (dev, inode) and, our processes being gone, no live socket is bound to it.
    """
    if not created:
        return
    try:
        in_use = {sock.vfs for sock in kernel.read_unix_sockets().sockets.values() if sock.vfs}
    except OSError:
        return
    for path, identity in created.items():
        try:
            st = os.lstat(path)
            if (st.st_dev, st.st_ino) == identity and stat.S_ISSOCK(st.st_mode) and identity not in in_use:
                os.unlink(path)
        except OSError:
            pass
