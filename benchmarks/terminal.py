"""A program in a pseudo-terminal, timed as a user sees it: when a text first reaches the screen.

Answers the cursor-position request (ESC[6n) from the screen it keeps (pyte), as a
terminal does; without the answer prompt_toolkit holds parts of its output back.
Times are taken as each chunk is read, before the screen is updated.
"""

import codecs
import os
import re
import select
import time

import pexpect
import pyte

ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHM])")
CPR_REQUEST = "\x1b[6n"
QUIET_SECONDS = 0.03  # no output for this long: the screen has settled


def plain(text: str) -> str:
    """Text without colour and cursor codes: what `until` matches against."""
    return ESCAPES.sub("", text)


class Terminal:
    """`argv` in a pty of rows x columns; `until`, `settle` and `enter` return perf_counter times."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 24, columns: int = 80):
        self.started = time.perf_counter()
        self.child = pexpect.spawn(argv[0], argv[1:], dimensions=(rows, columns), env=env, timeout=20)
        self.fd = self.child.child_fd
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.seen = ""  # everything, for addresses printed once (the scratch directory)
        self.fresh = ""  # since the last mark()
        self.last = self.started  # when the last chunk was read

    def read(self, timeout: float) -> bool:
        """One chunk of output if any comes within `timeout`."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        now = time.perf_counter()
        if not data:
            raise EOFError(f"{self.child.args[0]!r} closed the terminal:\n{plain(self.seen)[-800:]}")
        self.last = now
        text = self.decoder.decode(data)
        self.seen += text
        self.fresh += text
        self.stream.feed(text)
        for _ in range(text.count(CPR_REQUEST)):
            os.write(self.fd, f"\x1b[{self.screen.cursor.y + 1};{self.screen.cursor.x + 1}R".encode())
        return True

    def mark(self) -> None:
        self.fresh = ""

    def until(self, pattern: str, seconds: float = 10.0) -> float:
        """When the text printed since mark() first matched `pattern` (a regex, codes stripped)."""
        deadline = time.perf_counter() + seconds
        while not re.search(pattern, plain(self.fresh)):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{pattern!r} never came; the screen:\n" + "\n".join(self.screen.display))
            self.read(deadline - time.perf_counter())
        return self.last

    def settle(self, seconds: float = 10.0) -> float:
        """When the last chunk came before QUIET_SECONDS of silence."""
        deadline = time.perf_counter() + seconds
        while self.read(QUIET_SECONDS):
            if time.perf_counter() > deadline:
                raise TimeoutError("the output never settled")
        return self.last

    def enter(self, line: str, pattern: str) -> tuple[float, float]:
        """Type `line`, wait for its echo to settle, then press Enter: ms to `pattern`, ms to settled."""
        os.write(self.fd, line.encode())
        self.settle()
        self.mark()
        start = time.perf_counter()
        os.write(self.fd, b"\r")
        shown = self.until(pattern)
        return (shown - start) * 1000, (self.settle() - start) * 1000

    def quit(self) -> int | None:
        """Ctrl-D, then the exit status (None: it had to be killed)."""
        try:
            os.write(self.fd, b"\x04")
            self.child.expect(pexpect.EOF, timeout=10)
            self.child.close()
            return self.child.exitstatus
        except (OSError, pexpect.ExceptionPexpect):
            self.child.close(force=True)
            return None
