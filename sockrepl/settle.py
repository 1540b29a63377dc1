"""Waiting for a worker's call: its reply, its death, or the kernel's word that it sleeps in the call.

Transcripts are deterministic because a call is "unfinished" only when the kernel
shows its process asleep in a syscall of the user's (or stopped), never after a
guessed timeout. Worker and kernel only: the session turns what comes back into events.
"""

import time
from typing import Literal

from sockrepl import procfs
from sockrepl.process import Reply, Worker, WorkerGone

SETTLE_SECONDS = 2.0
IDLE_SYSCALLS = {("read", 0), ("write", 1)}  # the worker waiting for, or answering, the session

Ending = Literal["replied", "died", "asleep", "busy"]  # busy: not asleep in a call, yet no reply in time


def blocked_in(task: procfs.TaskState | None) -> tuple[str, int] | None:
    """(syscall, first argument) when the process sleeps in a call of the user's."""
    if task is None or task.state != "S" or task.syscall is None:
        return None
    call = (procfs.syscall_name(task.syscall), task.args[0] if task.args else -1)
    return None if call in IDLE_SYSCALLS else call


def asleep_in_call(worker: Worker, state: str | None) -> bool:
    """Stopped, or asleep in a call of the user's: the call will not return by itself now.

    `state` comes from the worker's kept /proc/PID/stat; the syscall is read only when it says asleep.
    """
    return procfs.is_stopped(state) or (state == "S" and blocked_in(procfs.task_state(worker.pid)) is not None)


def push(worker: Worker, seconds: float) -> bool:
    """Write the rest of a request while the worker reads it: True once all is written.

    Gives up at once if the kernel shows the worker stopped, or after `seconds`. Raises WorkerGone.
    """
    deadline = time.monotonic() + seconds
    while not worker.flush():
        if procfs.is_stopped(worker.run_state()) or time.monotonic() >= deadline:
            return False
        worker.wait_writable(min(0.01, max(0.0, deadline - time.monotonic())))
    return True


def await_call(worker: Worker) -> tuple[Ending, Reply | None, str | None]:
    """A call just sent: until it replies, dies, or the kernel shows it asleep in the call.

    Returns how it ended, the reply if one came, and the state letter it was last seen in.
    """
    delay = 0.001
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        reply, gone = worker.take_reply(delay)
        if reply is not None:
            return "replied", reply, None
        if gone:
            return "died", None, None
        state = worker.run_state()
        if asleep_in_call(worker, state):
            return "asleep", None, state
        if time.monotonic() > deadline:
            return "busy", None, state
        delay = min(delay * 2, 0.002)


def released(worker: Worker) -> tuple[Ending, Reply | None]:
    """A call shown unfinished before: still asleep, or released (then wait for its result).

    "asleep" also when the rest of its request cannot be written yet, or SETTLE_SECONDS pass.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            if worker.sending and not push(worker, max(0.0, deadline - time.monotonic())):
                return "asleep", None
        except WorkerGone:
            return "died", None
        reply, gone = worker.take_reply(0)
        if reply is not None:
            return "replied", reply
        if gone:
            return "died", None
        if asleep_in_call(worker, worker.run_state()) or time.monotonic() > deadline:
            return "asleep", None
        worker.wait_readable(0.001)
