"""A signal sent to a worker, and what the kernel made of it: read back, not assumed.

The dispositions come from /proc/PID/status before the kill, the effect from the
process's state after it, so a transcript says what happened ("stopped", "ignored",
...) the same way run after run. Worker and kernel only: the session draws the event.
"""

import signal
import time

from sockrepl import procfs
from sockrepl.events import Effect
from sockrepl.process import Worker
from sockrepl.settle import SETTLE_SECONDS

STOPS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
HARMLESS = {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH}  # ignored by default; every other default kills


def deliver(worker: Worker, signum: int) -> Effect | None:
    """Send `signum` and wait until its effect shows; None when it may have ended the process (check it)."""
    masks = procfs.signal_masks(worker.pid)
    bit = 1 << (signum - 1)
    ignored = masks is not None and masks.ignored & bit
    caught = masks is not None and masks.caught & bit
    was_stopped = procfs.is_stopped(worker.run_state())
    try:
        worker.kill(signum)
    except ProcessLookupError:
        return None
    if ignored or (signum in HARMLESS and not caught):
        return "ignored"
    if caught:
        return "caught"
    if signum in STOPS and was_stopped:  # the kernel has nothing more to do: it stays stopped
        return "already"
    if signum in STOPS:
        _wait_state(worker, lambda state: procfs.is_stopped(state) or (
            state in ("S", "D") and not _pending(worker, bit)))
        return "stopped" if procfs.is_stopped(worker.run_state()) else "discarded"
    if signum == signal.SIGCONT:
        _wait_state(worker, lambda state: not procfs.is_stopped(state))
        return "continued" if was_stopped else "nothing"
    worker.wait_exit(SETTLE_SECONDS)
    return None


def _pending(worker: Worker, bit: int) -> bool:
    masks = procfs.signal_masks(worker.pid)
    return masks is not None and bool(masks.pending & bit)


def _wait_state(worker: Worker, condition) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        state = worker.run_state()
        if state is None or condition(state):
            return
        time.sleep(0.0005)
