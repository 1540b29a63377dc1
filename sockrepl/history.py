"""Command history across sessions, in the XDG state directory, written atomically.

prompt_toolkit's FileHistory appends in place; a crash mid-write (or two
sockrepl windows) could leave a torn file. This one rewrites a temporary file
and renames it over the old one, keeping the newest entries.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from prompt_toolkit.history import History

from sockrepl.statedir import read_state_file, state_dir

KEEP = 1000


def history_path() -> str | None:
    """Beside the progress file; None without a home: the history then lives only as long as the session."""
    folder = state_dir()
    return str(folder / "history") if folder else None


class AtomicFileHistory(History):
    def __init__(self, path: str | None):
        super().__init__()
        self.path = Path(path) if path else None
        self._entries: list[str] | None = None

    def _load(self) -> list[str]:
        if self._entries is None:
            try:
                text = read_state_file(self.path, errors="replace") if self.path else ""
            except OSError:
                text = ""
            self._entries = [line for line in text.split("\n") if line.strip()]
        return self._entries

    def load_history_strings(self):
        return reversed(self._load())

    def store_string(self, string: str) -> None:
        if "\n" in string or not string.strip():
            return
        entries = self._load()
        entries.append(string)
        del entries[:-KEEP]
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".history-", dir=self.path.parent)
        except OSError:
            return  # a read-only home must not break the session
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as out:
                out.write("\n".join(entries) + "\n")
            os.replace(temp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)
