"""The session on its own thread, so an interactive front end never waits on the kernel.

Commands and the results that blocked calls deliver on their own are handled
one at a time on this thread; the front end submits lines and receives events,
then a fresh snapshot, through futures and callbacks. The events come first so
the user sees a call's result while the kernel is still being read for the panel.
No prompt_toolkit here.
"""

import concurrent.futures
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import NamedTuple

from sockrepl.events import Event
from sockrepl.lifecycle import StartFailed
from sockrepl.limits import Limits
from sockrepl.session import Session
from sockrepl.state import Snapshot

IDLE_TICK = 0.5
# The UI thread and this one hand each keystroke's work to each other. With Python's default
# 5 ms switch interval a woken thread may wait that long for the GIL while the other runs;
# a shorter interval lets a hand-off take what the work takes (measured: Enter -> result
# 17-20 ms -> 12-14 ms on a loaded machine). Neither thread computes for long.
SWITCH_INTERVAL = 0.0005


class LineRun(NamedTuple):
    """A line under way on the engine thread: its events, then the snapshot taken after it."""

    events: concurrent.futures.Future[list[Event]]
    snapshot: concurrent.futures.Future[Snapshot]


class Engine:
    """Owns a Session; `submit` runs a function of it on the engine thread."""

    def __init__(self):
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.session = Session(interactive=True)
        self._on_async: Callable[[list[Event], concurrent.futures.Future[Snapshot]], None] | None = None
        self._jobs: list[tuple[Callable, concurrent.futures.Future]] = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="sockrepl-engine", daemon=True)
        try:
            self._thread.start()
        except RuntimeError as error:  # "can't start new thread": ulimit -u, or threads-max
            self._stopped = True
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            self.session.close()
            raise StartFailed(f"cannot start the session's thread ({error}): the system refuses new threads "
                              "or processes to this user (see ulimit -u); nothing was left behind") from None

    def listen(self, on_async: Callable[[list[Event], concurrent.futures.Future[Snapshot]], None]) -> None:
        """`on_async(events, snapshot)` is called on the engine thread for results nobody asked for;
        `snapshot` is a future, resolved once the kernel has been read after them.

        Until a listener is set, such results wait in the workers' pipes.
        """
        self._on_async = on_async
        os.write(self._wake_w, b"x")

    def submit(self, job: Callable[[Session], object]) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._jobs.append((job, future))
        os.write(self._wake_w, b"x")
        return future

    def run_line(self, line: str) -> LineRun:
        """Events of the line as soon as it has run, and the snapshot after it."""
        events: concurrent.futures.Future[list[Event]] = concurrent.futures.Future()

        def job(session: Session) -> Snapshot:
            try:
                events.set_result(session.run_line(line))
            except BaseException as error:
                events.set_exception(error)
                raise
            return session.snapshot()

        return LineRun(events, self.submit(job))

    def reset(self, limits: Limits | None = None, private_network: bool = False) -> Session:
        """A fresh session in place of the current one (a lesson's: with its limits and network); call it
        from a job. The old one is closed (what its cleanup reports is not shown: the lesson starts over)."""
        self.session.close()
        self.session = Session(interactive=True, limits=limits, private_network=private_network)
        return self.session

    def interrupt_wait(self) -> None:
        """Ctrl-C or a signal to leave: a `wait` running now (or later, until `arm_wait`) returns at once."""
        self.session.cancel_wait.set()

    def arm_wait(self) -> None:
        """A new line starts: an interruption meant for the previous one no longer counts."""
        self.session.cancel_wait.clear()

    def close(self) -> list:
        """Stop the thread, then clean the session up (from the caller's thread).

        A `wait` under way is cut short first: the thread must end before the cleanup begins."""
        if not self._stopped:
            self._stopped = True
            self.interrupt_wait()
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=10)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
        return self.session.close()

    def _loop(self) -> None:
        while not self._stopped:
            try:
                watched = self.session.watch_fds() if self._on_async is not None else []
                sending = self.session.sending_fds() if self._on_async is not None else []
                readable, writable, _ = select.select([self._wake_r, *watched], sending, [], IDLE_TICK)
            except (OSError, ValueError):
                readable, writable = [], []
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            self._run_jobs()
            if self._stopped:
                break
            if self._on_async is not None and (writable or any(fd != self._wake_r for fd in readable)):
                events = self.session.poll_unasked()
                if events:
                    snapshot: concurrent.futures.Future[Snapshot] = concurrent.futures.Future()
                    self._on_async(events, snapshot)
                    snapshot.set_result(self.session.snapshot())

    def _run_jobs(self) -> None:
        with self._lock:
            jobs, self._jobs = self._jobs, []
        for job, future in jobs:
            if self._stopped:
                future.cancel()
                continue
            try:
                future.set_result(job(self.session))
            except BaseException as error:  # delivered to the caller, which decides
                future.set_exception(error)
