"""What every mode does first and last: safe standard streams, signals that end sockrepl, exit statuses.

Done once, at the boundary, not per message: text a stream cannot encode is
escaped; a closed standard stream is reported before anything starts; a write
to stdout that fails (a full disk, a closed pipe) ends sockrepl with one line
and status 74, after the usual cleanup; a write to stderr that fails is
dropped, since there is nowhere left to report it. Signals that end sockrepl
are recorded from the first instruction and raise `Stop` only once a
`try/finally` that cleans up is in place (`armed`); a session that a `Stop`
kept from closing is closed when its `StopOnSignal` is restored.
"""

import codecs
import contextlib
import errno
import io
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Protocol

from sockrepl.events import Notice
from sockrepl.textsafe import escape_unencodable, visible

EXIT_OK = 0
EXIT_FAILED = 1          # sockrepl run: a command was refused; lesson --check: a lesson failed
EXIT_USAGE = 2           # a malformed line or argument; no terminal for the REPL
EXIT_INTERNAL = 70       # a bug of sockrepl's (EX_SOFTWARE)
EXIT_NO_RESOURCES = 71   # the system refused a process, a thread or an open file (EX_OSERR)
EXIT_IO = 74             # a standard stream cannot be read or written (EX_IOERR)
EXIT_READER_GONE = 141   # the reader of stdout went away (`| head -1`), as a SIGPIPE death would say

# Every signal that ends a process by default and can be caught ends sockrepl through its cleanup: SIGQUIT is
# Ctrl-\, SIGUSR1 a stray `kill -USR1`, SIGXCPU `ulimit -t`... (Python ignores SIGPIPE and SIGXFSZ; faults such as
# SIGSEGV are not asynchronous.)
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                  signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO, signal.SIGPWR, signal.SIGSTKFLT,
                  signal.SIGXCPU, *range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
ERRORS = "sockrepl-escape"
codecs.register_error(ERRORS, escape_unencodable)


class OutputLost(Exception):
    """Standard output cannot be written any more (ENOSPC, EPIPE, EIO...)."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.errno = error.errno


class StartFailed(Exception):
    """The system refused a process or a thread sockrepl needs to start (`ulimit -u`)."""


class Stop(Exception):
    """A signal asked sockrepl to leave; cleanup still runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _GuardedStream(io.TextIOWrapper):
    """A standard stream whose failed writes are turned into one decision, made here."""

    critical = True

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError as error:
            self._failed(error)
            return len(text)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as error:
            self._failed(error)

    def _failed(self, error: OSError) -> None:
        """Later writes, and the flush at exit, go to /dev/null; stdout's failure ends the run."""
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self.fileno())
        os.close(null)
        if self.critical:
            raise OutputLost(error)


def _guard(name: str, critical: bool) -> None:
    stream = getattr(sys, name)
    if not isinstance(stream, io.TextIOWrapper) or isinstance(stream, _GuardedStream):
        return
    stream.flush()
    line_buffering = stream.line_buffering
    guarded = _GuardedStream(stream.detach(), encoding=stream.encoding, errors=ERRORS,
                             line_buffering=line_buffering or not critical)
    guarded.critical = critical
    setattr(sys, name, guarded)
    setattr(sys, f"__{name}__", guarded)


def closed_standard_fds() -> list[int]:
    """Fds 0-2 that were closed at start, now /dev/null so that no pipe or socket of ours lands there."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError as error:
            if error.errno != errno.EBADF:
                raise
            closed.append(fd)
    for fd in closed:
        opened = os.open(os.devnull, os.O_RDWR)
        if opened != fd:
            os.dup2(opened, fd)
            os.close(opened)
    return closed


def prepare_streams() -> list[int]:
    """Call first thing: returns the standard fds that were closed (now /dev/null)."""
    closed = closed_standard_fds()
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if fd in closed or getattr(sys, name) is None:
            setattr(sys, name, io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), errors=ERRORS,
                                                line_buffering=True))
    if 0 in closed or sys.stdin is None:
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    _guard("stdout", critical=True)
    _guard("stderr", critical=False)
    return closed


CLEANUP_SHIELD = set(ENDING_SIGNALS)  # blocked while a session's resources are made or removed


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """The signals that end sockrepl wait (blocked) until the body is done, then are delivered.

    So a `Stop` never falls between making a resource (a scratch dir, a forked worker) and
    recording it where cleanup finds it: do both in the body, inside the `try` that cleans up.
    A signal already caught raises its `Stop` before anything is blocked.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, CLEANUP_SHIELD)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Closable(Protocol):
    closed: bool

    def close(self) -> object: ...


class StopOnSignal:
    """SIGTERM, SIGHUP, SIGINT or SIGQUIT ends sockrepl once, cleanly.

    Installed before anything is created; until `arm()` a signal is only recorded,
    so it cannot strike between creating the scratch directory and the `try` that
    removes it. Later signals (a closing terminal sends SIGHUP then SIGTERM) and any
    during cleanup are swallowed, so nothing cuts the cleanup short.

    `Stop` can be raised between any two lines, even as a `finally` starts a
    session's `close()`, before it blocks the signals: so each session made while
    this is installed registers itself (`close_on_stop`), and `restore()` closes
    what is still open.
    """

    def __init__(self, signals=ENDING_SIGNALS):
        self.received: int | None = None
        self.armed = False
        self.quiet = False
        self._open: list[Closable] = []
        self._previous = {signum: signal.signal(signum, self) for signum in signals}
        self._unraisable = sys.unraisablehook
        sys.unraisablehook = self._lost
        _GUARDS.append(self)

    def _lost(self, unraisable) -> None:
        """A Stop raised where Python drops exceptions (a GC callback) is no traceback: `raise_lost` raises it again."""
        if not isinstance(unraisable.exc_value, Stop):
            self._unraisable(unraisable)

    def restore(self) -> None:
        """Close what a signal left open, then give the signals back (to sockrepl's other modes, or a test runner)."""
        self.quiet = True
        for resource in self._open:
            resource.close()
        self._open.clear()
        if self in _GUARDS:
            _GUARDS.remove(self)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = self._unraisable

    def raise_lost(self) -> None:
        """Raise again the Stop of a signal whose first one was lost (raised in a GC callback, which Python ignores)."""
        if self.armed and self.received is not None:
            raise Stop(self.received)

    def __call__(self, signum, frame):
        if self.quiet or self.received is not None:
            return
        self.received = signum
        if self.armed:
            self.quiet = True
            raise Stop(signum)

    def arm(self) -> None:
        """From here a signal raises `Stop`; one that came earlier raises it now."""
        self.armed = True
        if self.received is not None and not self.quiet:
            self.quiet = True
            raise Stop(self.received)


_GUARDS: list[StopOnSignal] = []  # installed, innermost last


def close_on_stop(resource: Closable) -> None:
    """`resource` is closed by the innermost StopOnSignal's `restore()` if nothing else closed it."""
    if _GUARDS:
        guard = _GUARDS[-1]
        guard._open[:] = [r for r in guard._open if not r.closed] + [resource]


def end_every_guard() -> None:
    """Close what each installed StopOnSignal still holds open, and give the signals back."""
    for guard in reversed(_GUARDS):
        guard.restore()


def crash_report(error: Exception, line: str) -> Notice:
    """One line for a bug of ours met while running `line`: the session goes on after it.

    With SOCKREPL_DEBUG set, the traceback goes to stderr as well.
    """
    if os.environ.get("SOCKREPL_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    what = visible(f"{type(error).__name__}: {error}")[:200]
    return Notice(f"sockrepl failed on {visible(line.strip())[:60]!s}: {what} — a bug, please report it; "
                  "the session goes on (SOCKREPL_DEBUG=1 shows the traceback)", "error")
