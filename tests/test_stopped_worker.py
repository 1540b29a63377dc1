"""sockrepl never blocks on a worker's request pipe: a worker stopped from outside while it reads a
multi-MB request is reported, and gets the rest of the request when it continues."""

import os
import signal
import threading

from conftest import wait_until

from sockrepl import procfs
from sockrepl.parser import parse
from sockrepl.protocol import Request
from sockrepl.render import event_lines, plain
from sockrepl.session import Session

BIG_SEND = 'a: send 3 "x"*4000000'  # 4 MB: far more than a pipe holds


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: procfs.is_stopped(procfs.run_state(pid)), 5, "the worker to stop")


def test_writing_a_big_request_to_a_stopped_worker_returns_at_once():
    session = Session()
    try:
        session.run_line("spawn a")
        worker = session.workers["a"]
        stop(worker.pid)
        request = Request("send", {"fd": 3, "data": b"x" * 4_000_000, "flags": 0})
        sender = threading.Thread(target=worker.send, args=(request,), daemon=True)
        sender.start()
        sender.join(3)
        blocked = sender.is_alive()
        os.kill(worker.pid, signal.SIGCONT)  # let a blocked write finish, so the session can close
        assert not blocked, "sockrepl blocked writing to a stopped worker's pipe"
        assert worker.sending
    finally:
        session.close()


def test_a_worker_stopped_during_its_request_is_reported_and_finishes_when_continued():
    session = Session()
    try:
        session.run_line("spawn a")
        session.run_line("socketpair AF_UNIX SOCK_DGRAM")
        worker = session.workers["a"]
        stop(worker.pid)  # as if it had stopped between the check and the write
        command = parse(BIG_SEND)
        events = session._run_call(worker, command)
        lines = [plain([line]) for e in events for line in event_lines(e)]
        assert lines[0] == '[a] send(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 4000000, 0 <unfinished ...>'
        assert "a was stopped while it read this request" in lines[1]
        events = session.run_line("kill a SIGCONT")
        lines = [plain([line]) for e in events for line in event_lines(e)]
        assert any(line.startswith("[a] <... send resumed>) = -1 EMSGSIZE") for line in lines), lines
        assert not worker.sending and worker.pending is None
    finally:
        session.close()


def test_a_second_stop_says_the_process_was_already_stopped(typed):
    """The kernel does nothing new for a stop signal to a stopped process: the transcript says so."""
    typed("spawn a")
    said = typed("kill a SIGSTOP", "kill a SIGSTOP", "kill a SIGTSTP", "kill a SIGCONT", "kill a SIGCONT")
    assert said == "\n".join([
        "[a] --- stopped by SIGSTOP ---",
        "[a] --- SIGSTOP: it was already stopped, nothing changes ---",
        "[a] --- SIGTSTP: it was already stopped, nothing changes ---",
        "[a] --- SIGCONT: continued ---",
        "[a] --- SIGCONT: it was not stopped, nothing changes ---"])
