"""What a call did, as a prediction names it, and whether a prediction was right.

Pure: a command's events in, an `Answer` out. A prediction is judged against
what the kernel did (never against the author's text): the author's answer is
itself checked against the kernel by `sockrepl lesson --check`.
"""

import errno
import signal

from sockrepl.events import CallEvent, ExitEvent
from sockrepl.lesson_format import CHOICES, Answer


def outcome_of(events: list) -> Answer | None:
    """What the command's call did: returned, blocked, failed, or its process was killed; None if no call ran."""
    call = next((e for e in events if isinstance(e, CallEvent)), None)
    if call is None:
        return None
    killed = next((e for e in events if isinstance(e, ExitEvent) and e.process == call.process and e.signal), None)
    if killed is not None and killed.signal is not None:
        return Answer("k", signal.Signals(killed.signal).name)
    if call.phase == "unfinished":
        return Answer("b")
    if call.outcome is None:
        return None
    if call.outcome.failed:
        return Answer("e", errno.errorcode.get(call.outcome.errno, str(call.outcome.errno)))
    return Answer("r", str(call.outcome.ret))


def right(predicted: Answer, actual: Answer) -> bool:
    """The same outcome; and the same value, errno or signal where the prediction names one."""
    return predicted.kind == actual.kind and (not predicted.detail or predicted.detail == actual.detail)


def said(answer: Answer) -> str:
    """An answer in words: `it fails with ECONNREFUSED`."""
    if answer.kind == "r":
        return f"it returns {answer.detail}" if answer.detail else "it returns"
    if answer.kind == "b":
        return "it blocks"
    if answer.kind == "e":
        return f"it fails with {answer.detail}" if answer.detail else "it fails"
    return f"its process is killed by {answer.detail}" if answer.detail else "its process is killed"


def choices_line(asks_detail: bool) -> str:
    """The choices as the student sees them: `(r) it returns  (b) it blocks ...`."""
    details = {"r": " N", "e": ": ERRNO", "k": ": SIGNAL"} if asks_detail else {}
    return "  ".join(f"({key}) {text}{details.get(key, '')}" for key, text in CHOICES.items())
