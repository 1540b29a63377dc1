"""The REPL's history file: written atomically, bounded, never half-written."""

import os
import subprocess
import sys


def test_history_store_is_atomic_and_keeps_the_newest(tmp_path):
    from sockrepl.history import KEEP, AtomicFileHistory

    path = tmp_path / "state" / "sockrepl" / "history"
    history = AtomicFileHistory(str(path))
    entries = [f"socket AF_UNIX SOCK_STREAM # {i}" for i in range(KEEP + 25)]
    for i, entry in enumerate(entries):
        history.store_string(entry)
        if i % 97 == 0 or i == len(entries) - 1:
            assert os.listdir(path.parent) == ["history"]  # no temporary file left beside it
    history.store_string("")          # blank: not stored
    history.store_string("a\nb")      # a newline would split an entry in two: not stored
    assert path.read_text().splitlines() == entries[-KEEP:]
    assert os.listdir(path.parent) == ["history"]
    # a new session reads it back, newest first
    assert list(AtomicFileHistory(str(path)).load_history_strings()) == entries[-KEEP:][::-1]


def test_history_replaces_the_file_never_writes_in_place(tmp_path):
    from sockrepl.history import AtomicFileHistory

    path = tmp_path / "history"
    history = AtomicFileHistory(str(path))
    history.store_string("first")
    with open(path) as reader:  # a reader holding the old file sees the old, whole content
        history.store_string("second")
        assert reader.read() == "first\n"
    assert path.read_text() == "first\nsecond\n"


def test_history_failed_write_leaves_no_temporary_file(tmp_path):
    # a real failed write: RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ ignored), in a child process
    code = f"""
import os, resource, signal, sys
sys.path.insert(0, {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))!r})
from sockrepl.history import AtomicFileHistory
history = AtomicFileHistory({str(tmp_path / "history")!r})
history.store_string("old entry")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
history.store_string("x" * 10000)
history.store_string("y" * 10000)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert (tmp_path / "history").read_text() == "old entry\n"  # the old file is whole
    assert sorted(os.listdir(tmp_path)) == ["history"]
