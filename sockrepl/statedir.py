"""Where sockrepl keeps a user's files (progress, history): the XDG state directory.

Its own module so that the REPL's history finds it without loading the lessons' progress (json).
"""

import os
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
