"""The REPL driven in-process through a pipe (prompt_toolkit's create_pipe_input), as ptpython's tests do.

Fast checks of the wiring; what the screen looks like is tested in a real pty in test_repl.py.
"""

import asyncio
import inspect
import sys
import threading
import time

import pytest
from conftest import gone, wait_until
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from sockrepl.engine import Engine
from sockrepl.repl import Repl


async def until(condition, seconds=10.0, what=None):
    """Poll `condition` until it holds; the failure names what it waited for (by default, the line that waits)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what or _source(condition)}")
        await asyncio.sleep(0.01)


def _source(condition) -> str:
    try:
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


def drive(tmp_path, script, history_file: str | None = "history"):
    """Run the REPL with `script(repl, type)` typing into it; return the REPL and its exit status.

    `history_file`: under tmp_path; None for the default place (under $XDG_STATE_HOME).
    """

    async def main():
        with create_pipe_input() as keyboard:
            engine = Engine()
            running = None
            try:
                repl = Repl(engine, engine.run_line("spawn p1"), input=keyboard, output=DummyOutput(),
                            history_file=history_file and str(tmp_path / history_file))
                running = asyncio.ensure_future(repl.run())
                await until(lambda: repl.snapshot is not None and repl.prompt.app.is_running, what="the first prompt")
                await script(repl, keyboard.send_text)
                try:
                    return repl, await asyncio.wait_for(asyncio.shield(running), 10)
                except TimeoutError:
                    raise AssertionError("timed out after 10 s waiting for the REPL to leave after the script"
                                         ) from None
            finally:
                await _closed(engine, running)

    return asyncio.run(main())


async def _closed(engine, running) -> None:
    """However the drive ended (a timeout, a failed assertion): the REPL stopped, its workers and scratch dir gone."""
    if running is not None and not running.done():
        engine.interrupt_wait()  # a `wait` on the engine thread would hold the close up to its seconds, as _stop knows
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)  # its own cleanup runs as it is cancelled
    engine.close()  # also if it never got that far; a second close does nothing


def snapshot_says(repl, process, fd=None, **wanted):
    snap = repl.snapshot
    if snap is None or snap.process(process) is None:
        return False
    view = snap.process(process) if fd is None else snap.find(process, fd)
    return view is not None and all(getattr(view, key) == value for key, value in wanted.items())


def test_typed_lines_reach_the_kernel_and_ctrl_d_cleans_up(tmp_path):
    async def script(repl, type):
        type("socket AF_UNIX SOCK_STREAM\r")
        await until(lambda: snapshot_says(repl, "p1", 3, type="STREAM", state="UNCONNECTED"))
        type("bind 3 srv.sock\r")
        await until(lambda: snapshot_says(repl, "p1", 3, state="BOUND", local="srv.sock"))
        type("\x04")

    repl, status = drive(tmp_path, script)
    assert status == 0
    assert repl.engine.session.closed and not repl.engine.session.scratch.exists()
    assert (tmp_path / "history").read_text() == "socket AF_UNIX SOCK_STREAM\nbind 3 srv.sock\n"


def test_a_drive_that_times_out_leaves_no_worker_nor_scratch_dir(tmp_path, monkeypatch):
    """It timed out while the engine thread ran a `wait`: the drive still ends the REPL and its session,
    and says what it waited for."""
    from sockrepl.session import HANDLERS

    waiting = threading.Event()
    wait = HANDLERS["wait"]

    def announced(session, command):
        waiting.set()
        return wait(session, command)

    monkeypatch.setitem(HANDLERS, "wait", announced)
    seen = []

    async def script(repl, type):
        for line in ("socket AF_UNIX SOCK_STREAM", "bind 3 s.sock", "listen 3 1", "accept 3"):
            type(line + "\r")
        await until(lambda: repl.snapshot.process("p1").blocked is not None)
        seen.append((repl.engine.session, repl.snapshot.process("p1").pid))
        type("wait p1 60\r")
        await until(waiting.is_set, what="the wait to start")
        await until(lambda: False, 0.1, what="what never comes")

    with pytest.raises(AssertionError, match=r"^timed out after 0.1 s waiting for what never comes$"):
        drive(tmp_path, script)
    session, pid = seen[0]
    assert session.closed and not session.scratch.exists() and gone(pid)


def test_ctrl_c_interrupts_the_current_process_blocked_call(tmp_path):
    pids = []

    async def script(repl, type):
        for line in ("socket AF_UNIX SOCK_STREAM", "bind 3 s.sock", "listen 3 1", "accept 3"):
            type(line + "\r")
        await until(lambda: repl.snapshot.process("p1").blocked is not None)
        pids.append(repl.snapshot.process("p1").pid)
        type("\x03")
        await until(lambda: snapshot_says(repl, "p1", blocked=None))
        type("exit\r")

    _repl, status = drive(tmp_path, script)
    assert status == 0 and gone(pids[0])


def test_a_signal_between_prompts_still_leaves(tmp_path):
    """SIGTERM handled while no prompt is running: the next prompt must not wait for input."""

    async def script(repl, type):
        repl.stopping = True  # as _stop does when no prompt is running
        type("socket AF_UNIX SOCK_STREAM\r")  # ends the current prompt; the loop must not start another

    repl, status = drive(tmp_path, script)
    assert status == 0 and repl.engine.session.closed


@pytest.mark.parametrize("line", ["lesson list", "lesson nope", "next", "help", "man accept", "bnd 3 x"])
def test_lines_that_are_not_calls_keep_the_repl_alive(tmp_path, line):
    async def script(repl, type):
        type(line + "\r")
        type("socket AF_UNIX SOCK_DGRAM\r")
        await until(lambda: snapshot_says(repl, "p1", 3, type="DGRAM"))
        type("\x04")

    assert drive(tmp_path, script)[1] == 0


def _a_bug_in_ps(monkeypatch):
    """A bug of ours inside one command (injected: every known one is fixed)."""
    from sockrepl.session import HANDLERS

    def broken(self, command):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(HANDLERS, "ps", broken)


BUG_REPORT = ("sockrepl failed on ps: ZeroDivisionError: division by zero — a bug, please report it; "
              "the session goes on (SOCKREPL_DEBUG=1 shows the traceback)")


def test_a_crash_in_one_command_does_not_end_the_repl(tmp_path, monkeypatch):
    _a_bug_in_ps(monkeypatch)
    shown = []
    monkeypatch.setattr(Repl, "print_events", lambda self, events, pageable=False: shown.extend(events))

    async def script(repl, type):
        type("ps\r")
        type("socket AF_UNIX SOCK_DGRAM\r")
        await until(lambda: snapshot_says(repl, "p1", 3, type="DGRAM"))
        type("\x04")

    repl, status = drive(tmp_path, script)
    assert status == 0 and repl.engine.session.closed
    assert [e.text for e in shown if getattr(e, "kind", "") == "error"] == [BUG_REPORT]


def test_a_crash_in_one_command_does_not_end_a_script(monkeypatch):
    import io

    from sockrepl.batch import run_script

    _a_bug_in_ps(monkeypatch)
    out = io.StringIO()
    status = run_script(io.BytesIO(b"spawn a\nps\na: socket AF_UNIX SOCK_DGRAM\n"), out)
    lines = out.getvalue().splitlines()
    assert status == 0 and lines[2:] == [BUG_REPORT, "[a] socket(AF_UNIX, SOCK_DGRAM, 0) = 3"]  # after p1's, a's


def test_a_lines_events_arrive_before_its_snapshot_is_read():
    """The result is printed while the kernel is still read for the panel, not after."""
    engine = Engine()
    reading = threading.Event()
    release = threading.Event()
    take_snapshot = engine.session.snapshot

    def slow_snapshot():
        reading.set()
        assert release.wait(10)
        return take_snapshot()

    try:
        engine.session.snapshot = slow_snapshot  # type: ignore[method-assign]
        run = engine.run_line("spawn p1")
        events = run.events.result(timeout=10)
        assert reading.wait(10) and not run.snapshot.done()
        assert [type(event).__name__ for event in events] == ["SpawnEvent"]
        release.set()
        assert run.snapshot.result(timeout=10).process("p1") is not None
    finally:
        release.set()
        engine.close()


def test_history_is_kept_across_sessions_and_up_recalls_it(tmp_path, monkeypatch):
    """In its default place under $XDG_STATE_HOME; the up arrow's bytes are what a terminal sends (was two ptys)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    async def first(repl, type):
        type("socket AF_UNIX SOCK_SEQPACKET\r")
        await until(lambda: snapshot_says(repl, "p1", 3, type="SEQPACKET"))
        type("\x04")

    async def second(repl, type):
        type("\x1b[A")  # up arrow
        await until(lambda: repl.prompt.app.current_buffer.text == "socket AF_UNIX SOCK_SEQPACKET")
        type("\x03\x04")

    assert drive(tmp_path, first, history_file=None)[1] == 0
    assert (tmp_path / "sockrepl" / "history").read_text() == "socket AF_UNIX SOCK_SEQPACKET\n"
    assert drive(tmp_path, second, history_file=None)[1] == 0


def test_closing_the_engine_during_a_wait_ends_the_wait_and_cleans_up():
    """close() is the end: a `wait` running on the engine's thread returns at once, not after close()'s
    10 s join gives up on the thread and the cleanup races it (the scratch directory was left)."""
    engine = Engine()
    engine.run_line("spawn p1").snapshot.result(timeout=10)
    for line in ("socket AF_UNIX SOCK_STREAM", "bind 3 s.sock", "listen 3 1", "accept 3"):
        engine.run_line(line).snapshot.result(timeout=10)
    pid = engine.session.workers["p1"].pid
    waiting = engine.run_line("wait p1 600")
    wait_until(lambda: _running(engine._thread, "_do_wait"), what="the wait to begin")
    started = time.monotonic()
    engine.close()
    assert time.monotonic() - started < 5  # the thread was not given up on after 10 s
    assert waiting.events.done() and gone(pid) and not engine.session.scratch.exists()


def _running(thread: threading.Thread, function: str) -> bool:
    """Whether `function` is on `thread`'s stack now."""
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False
