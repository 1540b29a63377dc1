"""The worker process: it behaves like a C program, and speaks the same protocol as the session."""

import os
import signal

from conftest import wait_until

from sockrepl.render import event_lines, plain


def test_a_fresh_worker_holds_nothing_of_ours_above_fd_2(typed):
    typed("spawn a")
    pid = typed.session.workers["a"].pid
    assert sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd")) == [0, 1, 2]
    assert typed("socket AF_UNIX SOCK_STREAM") == "[a] socket(AF_UNIX, SOCK_STREAM, 0) = 3"


def test_a_worker_has_sigpipe_at_default_and_catches_sigint(typed):
    typed("spawn a")
    with open(f"/proc/{typed.session.workers['a'].pid}/status") as status:
        fields = dict(line.split(":\t") for line in status.read().splitlines() if ":\t" in line)
    ignored, caught = int(fields["SigIgn"], 16), int(fields["SigCgt"], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert caught & (1 << (signal.SIGINT - 1))


def test_a_blocked_recvfrom_sleeps_in_recvfrom(typed):
    """What /proc shows is the call the student typed, as strace would show it."""
    from sockrepl import procfs

    typed("spawn a", "socket AF_UNIX SOCK_DGRAM", "bind 3 @box", "recvfrom 3 10")
    task = procfs.task_state(typed.session.workers["a"].pid)
    assert (task.state, procfs.syscall_name(task.syscall), task.args[0]) == ("S", "recvfrom", 3)


def test_blocked_means_asleep_in_a_call_of_the_user():
    from sockrepl.procfs import TaskState, syscall_number
    from sockrepl.settle import blocked_in

    accept, read, write = syscall_number("accept"), syscall_number("read"), syscall_number("write")
    assert blocked_in(TaskState("S", accept, (3, 0, 0), "x")) == ("accept", 3)
    assert blocked_in(TaskState("S", read, (4, 0, 0), None)) == ("read", 4)
    assert blocked_in(TaskState("S", read, (0, 0, 0), None)) is None  # waiting for its next command
    assert blocked_in(TaskState("S", write, (1, 0, 0), None)) is None  # answering the session
    assert blocked_in(TaskState("R", accept, (3,), None)) is None  # woken: its result is coming
    assert blocked_in(TaskState("S", None, (), None)) is None
    assert blocked_in(None) is None


def test_the_kept_stat_file_follows_its_process_until_it_is_reaped(typed):
    """run_state reads a /proc/PID/stat kept open: stopped shows, and once reaped it says gone (never a new pid)."""
    typed("spawn a")
    worker = typed.session.workers["a"]
    os.kill(worker.pid, signal.SIGSTOP)
    wait_until(lambda: worker.run_state() == "T", 5, "the worker to stop")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait_exit(5)
    assert worker.run_state() is None


def test_an_idle_worker_killed_from_outside_is_found_by_one_select(typed):
    typed("spawn a b")
    os.kill(typed.session.workers["b"].pid, signal.SIGKILL)
    seen = []
    wait_until(lambda: seen.extend(typed.session.poll()) or seen, 5, "the death to be reported")
    assert [plain(event_lines(event)) for event in seen] == ["[b] +++ killed by SIGKILL +++"]
    assert list(typed.session.workers) == ["a"]
