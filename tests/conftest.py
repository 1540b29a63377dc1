"""Shared helpers: run sockrepl as a user would, and read transcripts without run-to-run noise."""

import os
import re
import subprocess
import sys
import time

import pytest

from sockrepl.render import event_lines, plain
from sockrepl.session import Session

SCRATCH = re.compile(r"scratch directory (\S+)")
PIDS = re.compile(r"pid (\d+)")


def run_sockrepl(script, *args, timeout=60, env=None):
    """`sockrepl run -` fed `script` on stdin."""
    data = script.encode("utf-8", "surrogateescape") if isinstance(script, str) else script
    return subprocess.run([sys.executable, "-m", "sockrepl", "run", "-", *args], input=data,
                          capture_output=True, timeout=timeout, env=env)


def normalize(text: str) -> str:
    """Replace what varies run to run (pids, inodes) by placeholders."""
    text = re.sub(r"pid[ =]\d+", lambda m: m.group()[:4] + "N", text)
    text = re.sub(r"uid=\d+, gid=\d+", "uid=U, gid=G", text)
    return text


def scratch_of(stderr: bytes) -> str:
    return SCRATCH.search(stderr.decode()).group(1)


def pids_of(stdout: bytes) -> list[int]:
    return [int(p) for p in PIDS.findall(stdout.decode())]


def gone(pid: int) -> bool:
    """True once the pid is no process, or a zombie of someone else's."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] in "ZX"
    except FileNotFoundError:
        return True


def wait_until(condition, seconds=5.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Transcript:
    """An in-process session: type lines, get the transcript text they produced."""

    def __init__(self):
        self.session = Session()

    def __call__(self, *lines: str) -> str:
        out = []
        for line in lines:
            for event in self.session.run_line(line):
                out.append(plain(event_lines(event, 200)))
        return "\n".join(out)

    def snapshot(self):
        return self.session.snapshot()

    def close(self) -> str:
        return "\n".join(plain(event_lines(e)) for e in self.session.close())


@pytest.fixture
def typed():
    transcript = Transcript()
    cwd = os.getcwd()
    yield transcript
    transcript.close()
    os.chdir(cwd)
