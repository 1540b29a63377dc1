"""The words a student reads in an exercise or a prediction: pure, verdicts in, (text, style) lines out.

`check`'s reasons come from the `why` explainer (the same reasons `why` gives,
with the same evidence), so `why`, `check` and the ↳ notes never disagree.
"""

from dataclasses import dataclass, field

from sockrepl.evidence import call_text
from sockrepl.lesson_format import Exercise, Prediction
from sockrepl.lessons import GoalPart
from sockrepl.predictions import choices_line, said
from sockrepl.textsafe import visible
from sockrepl.why import as_asked, explain_call, target

Line = tuple[str, str]


@dataclass
class Attempt:
    """The exercise the student is on: what printed since it began, and how many hints they saw."""

    exercise: Exercise
    lines: list[str] = field(default_factory=list)
    hints_shown: int = 0


def goal_lines(exercise: Exercise) -> list[Line]:
    """The goal as the exercise opens: its words, then each part as the author wrote it."""
    lines: list[Line] = [(f"goal: {visible(exercise.goal)}", "class:heading")] if exercise.goal else []
    lines += [(f"  · {visible(c.text[1:].strip())}", "") for c in exercise.checks]
    lines += [(f"  · an output line like: {visible(s.text)}", "") for s in exercise.seen]
    lines.append(("your commands: the goal is checked after each · check · hint · solution · skip",
                  "class:hint"))
    return lines


def check_lines(parts: list[GoalPart], snapshot, history) -> list[Line]:
    """Which parts hold and which do not, each failing one with why's first reason for its process."""
    lines: list[Line] = []
    for part in parts:
        if part.holds:
            lines.append((f"✓ {visible(part.text)}", ""))
            continue
        lines.append((f"✗ {visible(part.text)} — not yet: the kernel says {visible(part.kernel_says)}", "class:warn"))
        record = target(history, part.process) if part.process else None
        reasons = explain_call(record, snapshot, history) if record else []
        if record and record.outcome and reasons == [as_asked(record)]:  # fine: the goal lacks a call not made yet
            lines.append((f"    ↳ {visible(part.process or '')}'s last call, {call_text(record)}, returned "
                          f"{record.outcome.ret} as asked: what the goal needs is a call not made yet", "class:dim"))
        elif reasons:
            evidence = f" ({reasons[0].evidence})" if reasons[0].evidence else ""
            lines.append((f"    ↳ {visible(part.process or '')}: {visible(reasons[0].claim)}{visible(evidence)}",
                          "class:dim"))
    return lines


def hint_line(attempt: Attempt) -> Line:
    hints = attempt.exercise.hints
    if not hints:
        return "this exercise has no hints: solution shows the author's commands", "class:hint"
    if attempt.hints_shown >= len(hints):
        return "no more hints: solution shows the author's commands", "class:hint"
    attempt.hints_shown += 1
    return f"hint {attempt.hints_shown}/{len(hints)}: {visible(hints[attempt.hints_shown - 1])}", "class:hint"


def question_lines(prediction: Prediction) -> list[Line]:
    asks = bool(prediction.answer.detail)
    how = "a letter and what it names (r 0, e EAGAIN, k SIGPIPE)" if asks else "a letter"
    return [(f"predict: {visible(prediction.question)}", "class:heading"), (choices_line(asks), ""),
            (f"answer with {how} · skip runs it unpredicted", "class:hint")]


def verdict_lines(actual, guess, right_answer: bool) -> list[Line]:
    """Right or wrong, against what the kernel did (the step's explanation follows a wrong answer)."""
    if actual is None:
        return [("the command ran no call: no verdict", "class:warn")]
    if right_answer:
        return [(f"✓ right: {said(actual)}", "")]
    return [(f"✗ you said {said(guess)}; the kernel: {said(actual)}", "class:warn")]
