"""Where sockrepl keeps a user's files (progress, history): the XDG state directory.

Its own module so that the REPL's history finds it without loading the lessons' progress (json).
"""

import errno
import os
import stat
from pathlib import Path

NO_HOME = ("there is no home directory to keep it in (HOME is unset and this user has none): "
           "set XDG_STATE_HOME to a directory")


def state_dir() -> Path | None:
    """$XDG_STATE_HOME/sockrepl, else ~/.local/state/sockrepl; None where neither names a place.

    A relative XDG_STATE_HOME is ignored, as the XDG spec says; without HOME and a passwd entry,
    `~` stays `~`, and writing there would put a `~` folder in the current directory.
    """
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".local", "state")
    return Path(base) / "sockrepl"


def read_state_file(path: Path, errors: str = "strict") -> str:
    """A state file's text, opened without blocking and read only if it is a regular file: a FIFO put in
    its place would hold sockrepl before its first prompt, deaf to Ctrl-C and SIGTERM. OSError if not."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return file.read().decode("utf-8", errors)
