"""The lesson driver's answers and the lesson footer, in-process: no terminal needed for the words."""

import asyncio

import pytest

from sockrepl.lesson_driver import LessonDriver
from sockrepl.lessons import load
from sockrepl.parser import parse
from sockrepl.prompt_parts import footer_keys, key_line


class Said:
    """A LessonHost that only records what the driver says (enough for answers that run nothing)."""

    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def say(self, text: str, style: str = "class:info") -> None:
        self.lines.append((text, style))


@pytest.mark.parametrize("step", ["0", "12", "99", "999999999999", "-3", "9" * 5000],
                         ids=["0", "12", "99", "12 digits", "-3", "5000 digits"])
def test_every_step_out_of_range_gets_the_same_answer(step):
    driver = LessonDriver(load("phone"))
    host = Said()
    asyncio.run(driver.run(host, parse(f"goto {step}")))
    steps = len(driver.lesson.steps)
    assert host.lines == [(f"error: goto: no such step: this lesson's steps go from 1 to {steps}", "class:error"),
                          ("usage: goto STEP", "class:usage")]
    assert driver.position == 0


@pytest.mark.parametrize("present", [False, True])
def test_the_lesson_footer_keeps_ctrl_c_while_the_current_process_is_blocked(typed, present):
    status = LessonDriver(load("phone")).status()

    def footer(width: int) -> str:
        return "".join(text for _, text in key_line(footer_keys(present, True, status, typed.snapshot()), width))

    typed("spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock", "listen 3 1")
    assert "Ctrl-C" not in footer(60)  # idle: the lesson's keys come first
    typed("accept 3")
    assert typed.snapshot().process("server").blocked is not None
    if present:
        assert footer(60) == " PgDn  next   Ctrl-C  interrupt  phone: step 1/9  "
    else:
        assert footer(80) == " Ctrl-C  interrupt   Ctrl-D  quit   Enter  next step (phone: step 1/9)  "
