"""A lesson runs in a private network namespace: its abstract @names are its own; a plain session's are shared."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sockrepl.limits import LESSON
from sockrepl.session import Session

NAME = f"sockrepl-netns-test-{os.getpid()}"

LESSON_TEXT = f"""\
# Private names

A lesson's abstract names are its own.

## Another program's name

```sockrepl
> spawn a
a> socket AF_UNIX SOCK_STREAM
= 3
a> connect 3 @{NAME}
= -1 ECONNREFUSED
a> bind 3 @{NAME}
= 0
a> listen 3 1
= 0
> ss
| Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process
| u_str LISTEN 0 1 @{NAME} {{inode}} * 0 users:(("a",pid={{pid}},fd=3))
```
"""


@pytest.fixture
def outside():
    """A program outside sockrepl listening on @NAME in the machine's namespace."""
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(b"\0" + NAME.encode())
        listener.listen()
        yield listener


def test_a_lesson_cannot_reach_an_outside_abstract_name_a_plain_session_can(outside, tmp_path):
    lesson = tmp_path / "private.md"
    lesson.write_text(LESSON_TEXT)
    checked = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", str(lesson)],
                             capture_output=True, text=True, timeout=60)
    assert checked.stdout.startswith(f"PASS {lesson}"), checked.stdout
    plain = subprocess.run([sys.executable, "-m", "sockrepl", "run", "-"], capture_output=True, text=True, timeout=60,
                           input=f"spawn a\nsocket AF_UNIX SOCK_STREAM\nconnect 3 @{NAME}\n")
    assert plain.stdout.splitlines()[-1].endswith(f'sun_path=@"{NAME}"}}, {3 + len(NAME)}) = 0')


def test_two_lessons_bind_the_same_abstract_name_at_once():
    sessions = [Session(limits=LESSON, private_network=True) for _ in range(2)]
    try:
        for session in sessions:
            for line in ("spawn a b", "socket AF_UNIX SOCK_STREAM"):
                session.run_line(line)
            (bound,) = session.run_line(f"bind 3 @{NAME}")
            assert (bound.outcome.ret, bound.outcome.errno) == (0, 0)
        for session in sessions:  # and each one's kernel view shows its own socket under that name
            assert [f.local for p in session.snapshot().processes for f in p.fds] == [f"@{NAME}"]
    finally:
        for session in sessions:
            session.close()


PROBE = f"""\
import sys
from sockrepl.limits import LESSON
from sockrepl.session import Session
session = Session(limits=LESSON, private_network=True)
try:
    said = [session.namespace is not None]
    for line in ("spawn a b", "socket AF_UNIX SOCK_STREAM", "connect 3 @{NAME}", "b: socket AF_UNIX SOCK_STREAM",
                 "b: bind 3 @{NAME}"):
        said += [(e.outcome.ret, e.outcome.errno) for e in session.run_line(line) if hasattr(e, "outcome")]
    said.append([(p.uid, f.local) for p in session.snapshot().processes for f in p.fds])
    print(said)
finally:
    session.close()
"""


def test_an_unprivileged_lesson_gets_a_user_and_network_namespace(outside):
    system_python = shutil.which("python3.11", path="/usr/bin:/bin")
    if os.geteuid() != 0 or not shutil.which("setpriv") or not system_python:
        pytest.skip("needs root (to become nobody), setpriv, and a Python 3.11 nobody can run")
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system_python, "-c", PROBE],
                         capture_output=True, text=True, timeout=60, cwd="/",
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])})
    # a's connect finds nothing at the name (ECONNREFUSED), so b can bind it; both keep uid 65534
    held = [(65534, None), (65534, f"@{NAME}")]
    assert run.stdout.strip() == repr([True, (3, 0), (-1, 111), (3, 0), (0, 0), held]), run.stderr
