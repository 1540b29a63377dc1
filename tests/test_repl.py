"""The interactive REPL in a real pseudo-terminal, read back as the screen a user sees (pexpect + pyte)."""

import os
import re
import shutil
import signal
import socket
import sys
import time

import pexpect
import pyte
import pytest
from conftest import SCRATCH, gone, normalize, run_sockrepl, wait_until
from wcwidth import wcswidth

from sockrepl.lesson_format import parse_lesson
from sockrepl.lessons import check_lesson, load
from sockrepl.limits import uses_abstract_names

QUIET = 0.01  # output paused this long: the screen is looked at
PROMPT_STARTS, PROMPT_ENDS = "\x1b[?2004h", "\x1b[?2004l"
SEND_DELAY = 0.05  # pexpect's default delay before a send, kept for keys sent other than by `type`


class Terminal:
    """sockrepl in a pty of the given size; `screen()` is what the user sees."""

    def __init__(self, tmp_path, columns=80, rows=24, args=(), pager="cat", prefix=()):
        """`pager`: $PAGER; `cat` by default, so that long output lands on the screen as it did unpaged.

        `prefix`: a command that runs sockrepl (e.g. setpriv with fewer capabilities).
        """
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color", "COLUMNS": str(columns),
               "LINES": str(rows), "NO_COLOR": "", "PAGER": pager}
        argv = [*prefix, sys.executable, "-m", "sockrepl", *args]
        self.child = pexpect.spawn(argv[0], argv[1:], dimensions=(rows, columns), env=env,
                                   encoding="utf-8", codec_errors="replace")
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)
        self.seen = ""
        self.typed_at = 0  # len(seen) when a line was last typed: a prompt started after it reads the next one

    def pump(self, seconds=0.05, quiet=None):
        """Read the output for `seconds`; with `quiet`, only until it pauses that long."""
        deadline = time.monotonic() + seconds
        while True:
            wait = max(0.0, deadline - time.monotonic())
            try:
                chunk = self.child.read_nonblocking(65536, timeout=wait if quiet is None else min(quiet, wait))
            except pexpect.TIMEOUT:
                return
            except pexpect.EOF:
                return
            self.seen += chunk
            self.stream.feed(chunk)
            if "\x1b[6n" in chunk:  # answer cursor position requests, as a real terminal does
                self.send_now(f"\x1b[{self.screen.cursor.y + 1};{self.screen.cursor.x + 1}R")
            if time.monotonic() >= deadline:
                return

    def transcript(self, since: int = 0) -> str:
        """Everything printed so far (from len(seen) at `since`), without colour and cursor codes."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.seen[since:])

    def rows(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.rows())

    def wait_for(self, pattern, seconds=10.0):
        """Until the screen shows `pattern`: looked for each time the output pauses (QUIET), and at least
        every 50 ms (it was only every 50 ms, so each wait took 50 ms or more even when drawn at once)."""
        deadline = time.monotonic() + seconds
        looked_at = -1
        while time.monotonic() < deadline:
            self.pump(0.05, quiet=QUIET)
            if looked_at != len(self.seen) and re.search(pattern, self.text(), re.M):
                return
            looked_at = len(self.seen)
        raise AssertionError(f"{pattern!r} never appeared on the screen:\n{self.text()}")

    def reading(self) -> bool:
        """A prompt reads the keyboard: prompt_toolkit turns bracketed paste on as a prompt starts, off as it ends."""
        return self.seen.rfind(PROMPT_STARTS) > max(self.seen.rfind(PROMPT_ENDS), self.typed_at)

    def await_prompt(self, what: str, seconds=10.0) -> None:
        """Until a prompt reads the keyboard. A key sent before, while a line runs, meets the terminal's
        cooked mode: it echoes, and Ctrl-D there is an end of file that reaches no one."""
        deadline = time.monotonic() + seconds
        while not self.reading():
            if time.monotonic() > deadline:
                raise AssertionError(f"no prompt to {what} at:\n{self.text()}")
            self.pump(0.05, quiet=QUIET)

    def type(self, line, wait_for=None):
        """Sent once a prompt reads the keyboard, as a user types at the prompt they see: between two prompts
        the terminal itself would echo it. No fixed delay (pexpect's 50 ms before each send)."""
        self.await_prompt(f"type {line!r}")
        self.typed_at = len(self.seen)
        self.send_now(line + "\r")
        if wait_for:
            self.wait_for(wait_for)

    def send_now(self, text):
        """Without pexpect's delay before a send (50 ms), which `child.send` keeps for the keys tests send."""
        self.child.delaybeforesend = None
        try:
            self.child.send(text)
        finally:
            self.child.delaybeforesend = SEND_DELAY

    def printed(self, since: int) -> list[str]:
        """The lines a typed line printed (from len(seen) at `since`: its prompt's end to the next prompt), as
        sent, before the terminal wraps them: a screen row is never wider than the screen, a sent line can be."""
        end_of_prompt = self.seen.index(PROMPT_ENDS, since) + len(PROMPT_ENDS)
        next_prompt = self.seen.find(PROMPT_STARTS, end_of_prompt)
        sent = self.seen[end_of_prompt:next_prompt if next_prompt >= 0 else len(self.seen)]
        return [line.rstrip("\r") for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", sent).split("\n")]

    def pids(self) -> list[int]:
        return sorted({int(p) for p in re.findall(r"pid (\d+)", self.seen)})

    def scratch(self) -> str:
        return re.search(r"scratch directory (\S+)", self.seen).group(1)

    def close(self, seconds=15.0):
        """SIGTERM, then sockrepl's own cleanup, read to the end: pexpect's terminate() sends SIGKILL
        after 0.1 s, which on a loaded machine cut that cleanup short and left a scratch directory."""
        if not self.child.isalive():
            return
        self.child.kill(signal.SIGTERM)
        try:
            self.child.expect(pexpect.EOF, timeout=seconds)  # the terminal closes as sockrepl exits
            self.child.wait()
        except pexpect.TIMEOUT:
            self.child.terminate(force=True)


@pytest.fixture
def term(tmp_path):
    terminal = Terminal(tmp_path)
    terminal.wait_for(r"^p1>")
    yield terminal
    terminal.close()


def test_a_fresh_repl_starts_as_run_does_clears_completes_explains_and_helps(term):
    """Five checks on one fresh terminal (each was a sockrepl of its own; the start is most of their cost).

    Each keeps its own assertion and message; an earlier one failing stops the later ones.
    """
    run = run_sockrepl("")  # the start: with p1, in the same words, so a copied session runs as it ran there
    run_start = run.stderr.decode().splitlines() + run.stdout.decode().splitlines()
    repl_start = term.transcript().replace("\r", "").splitlines()[:len(run_start)]

    def same(lines):
        return [SCRATCH.sub("scratch directory DIR", normalize(line)) for line in lines]

    assert same(repl_start) == same(run_start) == [
        "sockrepl: scratch directory DIR (relative paths live here)", "spawned p1 (pid N); current process: p1"]
    assert run.returncode == 0

    term.child.send("socket AF_UNIX")  # Ctrl-C at an idle prompt clears the line
    term.wait_for(r"p1> socket AF_UNIX")
    term.child.sendcontrol("c")
    term.wait_for(r"^p1>$")
    assert "socket AF_UNIX" not in term.text().splitlines()[-12:][0], f"Ctrl-C left the line:\n{term.text()}"

    term.type("bnd 3 x", r"did you mean 'bind'")  # errors are explained, never a traceback
    term.type("connect 3 nowhere.sock", r"EBADF")
    term.type('write 3 "unterminated', r"unterminated string")
    assert "Traceback" not in term.seen

    term.child.send("socket AF_UNIX SOCK_")  # completion offers constants, then fds
    term.child.send("\t")
    term.wait_for(r"SOCK_DGRAM")
    assert "SOCK_SEQPACKET" in term.text() and "SOCK_NONBLOCK" in term.text(), f"constants:\n{term.text()}"
    term.child.sendcontrol("c")
    term.type("socketpair AF_UNIX SOCK_STREAM", r"\[3, 4\]\) = 0")
    term.child.send("close \t")
    term.wait_for(r"STREAM CONNECTED|\b3\s+4\b")
    assert re.search(r"^\s+3\s+4\s*$|3\s+4", term.text(), re.M), f"fds:\n{term.text()}"
    term.child.sendcontrol("c")

    since = len(term.seen)
    term.type("help", r"man CALL: a call")  # help and man, at the terminal's width
    assert "stream (phone)" in term.transcript() and "datagram (mail)" in term.transcript()
    term.type("man accept", r"EINVAL  ")
    assert "accept(2)" in term.transcript()  # its first line: on the screen only until the panel is redrawn
    term.await_prompt("type after man accept")
    printed = term.printed(since) + term.printed(term.seen.index(PROMPT_STARTS, since))  # help's, then man's
    assert printed[0].startswith("processes ") and "accept(2)" in printed, printed  # both, whole
    too_wide = [line for line in printed if not 0 <= wcswidth(line) <= 80]
    assert not too_wide, "wider than 80 (the terminal wraps them):\n" + "\n".join(too_wide)


def phone_setup(term):
    term.type("spawn server client", r"^server>$")
    term.type("socket AF_UNIX SOCK_STREAM", r"\[server\] socket\(AF_UNIX, SOCK_STREAM, 0\) = 3")
    term.type("bind 3 srv.sock", r"= 0")
    term.type("listen 3 1", r"listen\(3, 1\) = 0")


def test_panel_follows_the_kernel_and_keeps_apart_from_the_input_line_at_80x24(term):
    """One terminal for both (each was a sockrepl of its own): the panel's rows, then a panel too tall for 80x24."""
    phone_setup(term)
    term.wait_for(r"fd 3 STREAM passive LISTEN")
    term.type("client: socket AF_UNIX SOCK_STREAM", r"\[client\] socket")
    term.type("client: connect 3 srv.sock", r"\[client\] connect\(3, .*\) = 0")
    term.wait_for(r"pending 1/1")
    screen = term.rows()
    assert screen[-1].startswith(" F1  help   F2  panel   Ctrl-C  interrupt   Ctrl-D  quit")
    assert any(re.match(r"\s+fd 3 STREAM active\s+CONNECTED\s+→ srv.sock \(queued\)", row) for row in screen), \
        f"the client's queued connection:\n{term.text()}"
    assert "socket files:  srv.sock (bound: server fd 3)" in screen

    term.type("client: socketpair AF_UNIX SOCK_STREAM", r"\[4, 5\]\) = 0")
    for index in range(12):
        term.type("socket AF_UNIX SOCK_DGRAM", rf"= {4 + index}$")
    term.pump(0.3)
    rows = term.rows()
    assert len(rows) == 24
    prompt = max(i for i, row in enumerate(rows) if row.startswith("server> "))
    rule = next(i for i, row in enumerate(rows) if row.startswith("── state, from the kernel"))
    assert prompt < rule, f"the input line under the panel's rule:\n{term.text()}"
    assert rows[-1].startswith(" F1  help")
    assert any(re.match(r"▸ server  pid \d+  idle", row) for row in rows[rule:])
    assert any(re.match(r"  … \d+ more lines \(p1, client\): state prints them all", row) for row in rows[rule:]), \
        f"the panel says what it left out:\n{term.text()}"
    # (no width check here: a screen row is never wider than the screen, prompt_toolkit clips the toolbar;
    # the panel's lines are measured where they are made, in test_render)


def test_a_blocked_call_ends_by_ctrl_c_or_resumes_on_screen_without_a_keypress(term, tmp_path):
    """One terminal for both (each was a sockrepl of its own). Ctrl-C: EINTR, and the session exports as a
    lesson whose `interrupt server` step passes --check. A caller from outside: the accept resumes with no key
    pressed, and `export lesson` says that a lesson cannot replay what came from outside."""
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    term.wait_for(r"BLOCKED in accept")
    term.child.sendcontrol("c")
    term.wait_for(r"\[server\] <\.\.\. accept resumed>\) = -1 EINTR \(Interrupted system call\)")
    term.wait_for(r"server  pid \d+  idle")
    term.type("getsockname 3", r'getsockname\(3, \{sa_family=AF_UNIX, sun_path="srv.sock"\}')
    term.type(f"export lesson {tmp_path}/ctrl-c.md", r"exported the session as lesson")
    text = (tmp_path / "ctrl-c.md").read_text()
    assert "> interrupt server\n[server] <... accept resumed>) = -1 EINTR (Interrupted system call)\n" in text
    assert check_lesson(parse_lesson(text, "ctrl-c.md")).passed

    term.type("accept 3")
    term.wait_for(r"BLOCKED in accept\(3\)")  # the panel said idle after the Ctrl-C
    caller = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    caller.connect(os.path.join(term.scratch(), "srv.sock"))  # from outside sockrepl: nobody presses a key
    term.wait_for(r"\[server\] <\.\.\. accept resumed>\) = 4")
    term.wait_for(r"server  pid \d+  idle")
    with open("/proc/self/comm") as comm:  # the caller is this test's process: named as `ss -p` names it
        caller_name = comm.read().strip()
    assert re.search(rf"fd 4 STREAM active\s+CONNECTED\s+srv\.sock ↔ {re.escape(caller_name)} \(pid {os.getpid()}\)",
                     term.text()), f"the outside caller in the panel:\n{term.text()}"
    caller.close()
    term.type(f"export lesson {tmp_path}/outside.md",
              r"^  \[server\] <\.\.\. accept resumed>\) = 4   \(after server: accept 3\)$")
    assert "it will not pass --check as it is" in term.transcript()


def test_ctrl_d_while_blocked_leaves_nothing_behind(term):
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    pids, scratch = term.pids(), term.scratch()
    assert len(pids) == 3 and os.path.isdir(scratch)
    term.await_prompt("press Ctrl-D")  # the accept's line has ended: its prompt reads the keyboard
    term.child.sendcontrol("d")
    term.child.expect(pexpect.EOF, timeout=30)  # a deadline, not a wait: generous for a loaded machine
    term.child.wait()  # close() would give sockrepl 0.1 s to exit after its terminal closed, then signal it
    assert (term.child.exitstatus, term.child.signalstatus) == (0, None)
    assert all(gone(pid) for pid in pids)
    assert not os.path.exists(scratch)


def test_a_large_terminal_shows_the_analogies(tmp_path):
    big = Terminal(tmp_path, columns=200, rows=50)
    try:
        big.wait_for(r"^p1>")
        phone_setup(big)
        big.type("client: socket AF_UNIX SOCK_STREAM", r"\[client\] socket")
        big.type("client: connect 3 srv.sock", r"\[client\] connect")
        big.wait_for(r"☎ ringer on, 1 caller waiting")
        big.wait_for(r"☎ ringing: not picked up yet")
    finally:
        big.close()


def test_lesson_steps_forward_and_back(tmp_path):
    lesson = Terminal(tmp_path, columns=100, rows=40, args=("lesson", "phone"))
    try:
        lesson.wait_for(r"step 1/9 · Two processes, two phones")
        for step in range(2, 7):
            lesson.child.send("\r")
            lesson.wait_for(rf"next step \(phone: step {step}/9\)")
        assert "[server] <... accept resumed>) = 4" in lesson.transcript()
        assert "⚠" not in lesson.transcript()
        lesson.type("back", r"replaying steps 1–4 in a fresh session")
        lesson.wait_for(r"next step \(phone: step 5/9\)")
        lesson.wait_for(r"BLOCKED in accept\(3\)")
        lesson.child.send("\r")
        lesson.wait_for(r"next step \(phone: step 6/9\)")
        lesson.wait_for(r"fd 4 STREAM active\s+CONNECTED")
    finally:
        lesson.close()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGUSR1"])
def test_a_signal_to_the_repl_cleans_up_like_ctrl_d(term, how):
    """SIGUSR1 stands for every signal that ends a process by default: it left the scratch directory."""
    phone_setup(term)
    term.type("accept 3", r"<unfinished \.\.\.>")
    pids, scratch = term.pids(), term.scratch()
    if how == "SIGHUP":
        term.child.close(force=False)  # the terminal goes away: the kernel sends SIGHUP
    else:
        term.child.kill(getattr(signal, how))
    wait_until(lambda: all(gone(pid) for pid in pids) and not os.path.exists(scratch), 10, "the cleanup")
    if how != "SIGHUP":  # the README's exit statuses: 128+N after the full cleanup (it was 0)
        term.child.expect(pexpect.EOF, timeout=30)  # a deadline, not a wait: generous for a loaded machine
        term.child.close()
        assert (term.child.exitstatus, term.child.signalstatus) == (128 + getattr(signal, how), None)


def test_a_lesson_with_abstract_names_says_they_are_shared_only_where_its_network_cannot_be_private(tmp_path):
    """Root without CAP_SYS_ADMIN (a container's): the kernel refuses a network namespace and a user one mapping 0."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run sockrepl without CAP_SYS_ADMIN")
    drop = "-sys_admin,-setfcap"
    refused = Terminal(tmp_path, columns=120, rows=40, args=("lesson", "netstat"),
                       prefix=("setpriv", "--ruid=65534", f"--bounding-set={drop}", f"--inh-caps={drop}"))
    try:
        refused.wait_for(r"step 1/")
        assert ("this lesson uses abstract @names: they are shared with every program on this machine "
                "(the kernel refused sockrepl a private network namespace here)"
                in " ".join(refused.transcript().split()))  # wrapped at words to the screen
    finally:
        refused.close()
    lesson = Terminal(tmp_path, columns=120, rows=40, args=("lesson", "netstat"))  # a private namespace
    try:
        lesson.wait_for(r"step 1/")
        assert "abstract @names" not in lesson.transcript()
    finally:
        lesson.close()
    # and a lesson with no @names at all says nothing even without a private network (it was a third sockrepl)
    assert not uses_abstract_names(a.command for step in load("phone").steps for a in step.actions)
    assert uses_abstract_names(a.command for step in load("netstat").steps for a in step.actions)
