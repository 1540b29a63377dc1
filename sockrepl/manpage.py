"""The shape of a `man` page, and the words several pages share (written once).

The pages are in man_sockets.py and man_data.py; manpages.py finds them by name.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ManPage:
    name: str
    synopsis: str
    summary: str
    returns: str
    errors: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()


SYS_SOCKET = "#include <sys/socket.h>\n"
SYS_UN = "#include <sys/socket.h>\n#include <sys/un.h>\n"
UNISTD = "#include <unistd.h>\n"

# Errors that most calls on an fd share.
ERR_EBADF = ("EBADF", "no open fd with that number in this process")
ERR_ENOTSOCK = ("ENOTSOCK", "the fd is open but is not a socket")
ERR_EINTR_WAIT = ("EINTR", "a signal (Ctrl-C, `interrupt`) came while it waited")
