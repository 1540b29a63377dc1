"""Exercise and predict blocks: parsed, and checked against the kernel by --check."""

import pytest

from sockrepl.lesson_format import Answer, parse_lesson
from sockrepl.lesson_lines import LessonError
from sockrepl.lessons import check_lesson
from sockrepl.predictions import right

SETUP = """# Mini

One exercise, one prediction.

## Setup

```sockrepl
> spawn s c
s> socket AF_UNIX SOCK_STREAM
= 3
s> bind 3 m.sock
= 0
s> listen 3 0
= 0
c> socket AF_UNIX SOCK_STREAM
= 3
```
"""
EXERCISE = """
## Connect

```sockrepl exercise
goal: c is connected to s
? c fd 3: state=CONNECTED
hint: connect
solution:
SOLUTION
```
"""
PREDICT = """
## Predict

```sockrepl predict
question: What will s's accept return?
answer: ANSWER
explain: The lowest free fd: 4.
s> accept 3
```
"""


def lesson(solution: str = "c> connect 3 m.sock", goal: str = "? c fd 3: state=CONNECTED",
           answer: str = "r 4") -> str:
    return SETUP + EXERCISE.replace("SOLUTION", solution).replace("? c fd 3: state=CONNECTED", goal) \
        + PREDICT.replace("ANSWER", answer)


def test_a_right_solution_and_a_right_prediction_pass():
    result = check_lesson(parse_lesson(lesson(), "mini.md"))
    assert result.passed, result.failure
    assert result.steps_passed == 3


def test_a_solution_edited_to_be_wrong_fails():
    result = check_lesson(parse_lesson(lesson(solution="c> close 3"), "mini.md"))
    assert result.failed_step == 2
    assert result.failure == ("mini.md:21: the solution does not reach the goal: c fd 3: state=CONNECTED\n"
                              "  the kernel says: state=none")


def test_an_exercise_already_solved_before_its_solution_is_an_authoring_error():
    result = check_lesson(parse_lesson(lesson(goal="? s fd 3: state=LISTEN"), "mini.md"))
    assert (result.failed_step, result.failure) == (
        2, "mini.md:21: this exercise is already solved before its solution runs (its goal holds)")


@pytest.mark.parametrize("answer", ["r 5", "b", "e EAGAIN", "k"])
def test_a_wrong_expected_answer_fails(answer):
    result = check_lesson(parse_lesson(lesson(answer=answer), "mini.md"))
    assert result.failed_step == 3
    assert result.failure.startswith("mini.md:33: the expected answer is wrong: ")
    assert result.failure.endswith("\n  the kernel: it returns 4")


def test_seen_lines_are_about_what_happened_since_the_exercise_began():
    text = lesson(goal="seen: [c] connect({*}) = 0")
    assert check_lesson(parse_lesson(text, "mini.md")).passed
    wrong = lesson(goal="seen: [c] connect({*}) = 0", solution="c> connect 3 nowhere.sock")
    assert "the solution does not reach the goal: seen: [c] connect({*}) = 0" in \
        check_lesson(parse_lesson(wrong, "mini.md")).failure


@pytest.mark.parametrize("block,line,message", [
    ("```sockrepl exercise\n? x: alive=yes\n```", 3, "an exercise needs a line solution: with the author's "
                                                     "solution commands after it"),
    ("```sockrepl exercise\nhint: h\nsolution:\n> spawn x\n```", 3,
     "an exercise's goal needs a ? state check or a seen: line"),
    ("```sockrepl exercise\n? x: alive=yes\nsolution:\n```", 3, "an exercise needs the author's solution commands"),
    ("```sockrepl exercise\n> spawn x\nsolution:\n> ps\n```", 4,
     "an exercise's goal reads ? checks, seen:, hint: and goal: lines, then solution: and its commands: "
     "'> spawn x'"),
    ("```sockrepl exercise\nseen: whatever\nsolution:\n> spawn x\n```", 4,
     "seen: takes an expected line: = RESULT, [NAME] ... or | text"),
    ("```sockrepl exercise\n? y: alive=yes\nsolution:\n> spawn x\n```", 4,
     "this state check names 'y', a process this lesson has not spawned (spawned so far: x)"),
    ("```sockrepl predict\nanswer: b\n> spawn x\n```", 3, "a prediction needs one question: line"),
    ("```sockrepl predict\nquestion: q\nanswer: e ENOPE\n> spawn x\n```", 5,
     "'ENOPE' is not an errno name (ECONNREFUSED, EAGAIN, EPIPE...)"),
    ("```sockrepl predict\nquestion: q\nanswer: b\n> spawn x\n> ps\n```", 3,
     "a prediction is about exactly one command"),
])
def test_malformed_exercise_and_predict_blocks_name_file_and_line(block, line, message):
    with pytest.raises(LessonError) as caught:
        parse_lesson(f"# T\n\n{block}\n", "bad.md")
    assert (caught.value.line, caught.value.message) == (line, message)


def test_a_prediction_naming_no_detail_is_right_whatever_the_detail():
    assert right(Answer("e"), Answer("e", "EPIPE"))
    assert not right(Answer("e", "EAGAIN"), Answer("e", "EPIPE"))
    assert not right(Answer("r"), Answer("b"))


def test_check_under_a_missing_part_whose_last_call_went_as_asked(typed):
    """`check`: a part not met, and its process's last call succeeded plainly: no `why` "nothing to explain"."""
    from sockrepl.coach import check_lines
    from sockrepl.lessons import GoalPart

    typed("spawn c3", "socket AF_UNIX SOCK_STREAM")
    session = typed.session
    part = GoalPart("c3: blocked=connect", False, "blocked=no", "c3")
    assert check_lines([part], session.snapshot(), session.history) == [
        ("✗ c3: blocked=connect — not yet: the kernel says blocked=no", "class:warn"),
        ("    ↳ c3's last call, socket(), returned 3 as asked: what the goal needs is a call not made yet",
         "class:dim")]
