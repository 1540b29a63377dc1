"""Stepping through a lesson inside the REPL: narration, then its commands as if typed.

`next` runs a step and checks it against the kernel as it goes (an instructor
sees at once if the machine disagrees with the lesson); `back` and `goto`
replay the lesson in a fresh session, since the kernel cannot undo; the
student may type their own commands between steps, and is warned before
`next` if that changed the state the lesson relies on.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from sockrepl.coach import Attempt, check_lines, goal_lines, hint_line, question_lines, verdict_lines
from sockrepl.commands import Command
from sockrepl.drift import changes, fingerprint
from sockrepl.engine import Engine
from sockrepl.lesson_format import Prediction, parse_answer
from sockrepl.lesson_list import listing, what_follows
from sockrepl.lessons import LessonError, action_mismatch, goal_parts, lesson_files, load, plain_lines, run_action
from sockrepl.limits import LESSON, SHARED_NAMES, uses_abstract_names
from sockrepl.predictions import outcome_of, right
from sockrepl.progress import LessonProgress, Progress
from sockrepl.state import Snapshot
from sockrepl.textsafe import visible, visible_lines


class LessonHost(Protocol):
    """What the driver needs of the REPL it runs in (repl.Repl is one): its engine, its last
    snapshot, whether Ctrl-C or leaving cut a step short, and ways to show text and events."""

    engine: Engine
    snapshot: Snapshot | None
    interrupted: bool
    stopping: bool

    def say(self, text: str, style: str = ...) -> None: ...
    def echo(self, source: str) -> None: ...
    def show_markdown(self, text: str, title: str | None = ...) -> None: ...
    def print_events(self, events) -> None: ...
    def show_lines(self, lines: list) -> None: ...
    def width(self) -> int: ...
    def clear_screen(self) -> None: ...
    async def refresh(self) -> Snapshot: ...


class LessonDriver:
    def __init__(self, lesson=None, present: bool = False, folders: Sequence[str] = ()):
        self.lesson = lesson
        self.present = present
        self.folders = folders  # instructors' lesson folders given with --dir
        self.position = 0  # steps done
        self.expected: Snapshot | None = None  # the snapshot the next step was written for
        self.warned = False
        self.confirm: str | None = None  # `lesson NAME` typed once over a live session
        self.attempt: Attempt | None = None  # the exercise the student is on
        self.offered = False  # `solution` shown: typed again, it runs
        self.progress: Progress | None = None  # the student's, read when a lesson begins

    def names(self) -> tuple[str, ...]:
        """For completion, which must never fail: no shipped lessons found is no names to offer."""
        try:
            return tuple(lesson_files(self.folders))
        except LessonError:
            return ()

    @property
    def active(self) -> bool:
        return self.lesson is not None

    def status(self) -> str:
        if not self.lesson:
            return ""
        steps = len(self.lesson.steps)
        return f"{visible(self.lesson.name)}: step {min(self.position + 1, steps)}/{steps}"

    async def start(self, repl: LessonHost) -> None:
        """Begin the lesson given on the command line."""
        await self._begin(repl, self.lesson)

    async def run(self, repl: LessonHost, command: Command) -> None:
        """A lesson command (the registry's `runs="lesson"`), by its handler in VERBS."""
        if command.name != "lesson" and not self.active:
            repl.say("no lesson running: lesson NAME starts one (lesson lists them)", "class:warn")
            return
        await VERBS[command.name](self, repl, command)

    async def enter(self, repl: LessonHost) -> bool:
        """An empty line: between steps, the next one; in a step that waits for the student, what it waits for.
        False outside a lesson (the REPL runs it: a fresh panel)."""
        if (self.attempt or self._prediction()) and not self.present:
            repl.say("this step waits for you: " + ("check · hint · solution · skip" if self.attempt else
                                                    "answer r, b, e or k · skip"), "class:hint")
        elif self.active:
            await self.next(repl)
        return self.active

    async def student_line(self, repl: LessonHost, line: str) -> bool:
        """Any other line: a prediction's answer, or a try at an exercise (True: taken); else the REPL runs it."""
        prediction = self._prediction()
        if prediction:
            await self._answer(repl, prediction, line)
            return True
        self.warned = False  # the student's own command: the state may change again
        if self.attempt:
            await self._try(repl, line)
            return True
        return False

    async def _next_verb(self, repl: LessonHost, command: Command) -> None:
        if (self.attempt or self._prediction()) and not self.present:
            repl.say("this step waits for you: skip moves on without it", "class:hint")
        else:
            await self.next(repl)

    async def _back(self, repl: LessonHost, command: Command) -> None:
        await self.replay(repl, max(self.position - 1, 0))

    async def _reset(self, repl: LessonHost, command: Command) -> None:
        await self.replay(repl, 0)

    async def _lesson_command(self, repl: LessonHost, command: Command) -> None:
        topic = command.args.get("topic")
        if topic in (None, "list"):
            try:
                lines = listing(self.folders, repl.width())
            except LessonError as error:
                repl.say(f"error: {visible(error.message)}", "class:error")
                return
            repl.show_lines([[(style, line)] for line, style in lines] + [[("class:hint", "lesson NAME starts one")]])
            return
        try:
            lesson = load(topic, self.folders)
        except LessonError as error:
            repl.say(f"error: {visible(error.message)}", "class:error")
            return
        snapshot = repl.snapshot
        in_use = snapshot is not None and (any(p.fds or p.blocked for p in snapshot.processes) or snapshot.files
                                           or len(snapshot.processes) > 1)
        if in_use and self.confirm != topic:
            self.confirm = topic
            repl.say(f"lesson {visible(topic)} starts a fresh session: your processes, their sockets and the "
                     "scratch directory will go. Type the same command again to start it.", "class:warn")
            return
        self.confirm = None
        await self._begin(repl, lesson)

    async def _goto(self, repl: LessonHost, command: Command) -> None:
        step, steps = command.args["step"], len(self.lesson.steps)
        if not 1 <= step <= steps:
            repl.say(f"error: goto: no such step: this lesson's steps go from 1 to {steps}", "class:error")
            repl.say("usage: goto STEP", "class:usage")
            return
        await self.replay(repl, step - 1)

    async def _begin(self, repl: LessonHost, lesson) -> None:
        """Start a lesson, or resume it where the student stopped (replayed in a fresh session)."""
        self.lesson = lesson
        self.progress = Progress()
        if self.progress.problem:
            repl.say(visible(self.progress.problem), "class:warn")
        resume = self._mine().position
        if 0 < resume < len(lesson.steps):
            repl.say(f"resuming {visible(lesson.name)} at step {resume + 1} of {len(lesson.steps)} (reset starts "
                     "again; sockrepl lesson --reset-progress forgets all progress)", "class:hint")
        await self.replay(repl, resume if resume < len(lesson.steps) else 0, intro=True)

    def _mine(self) -> LessonProgress:
        """This lesson's progress record (a throwaway one when there is no lesson)."""
        if self.progress is None:
            self.progress = Progress()
        return self.progress.of(self.lesson.name, len(self.lesson.steps))

    def _save(self, repl: LessonHost) -> None:
        if self.progress is not None:
            problem = self.progress.save()
            if problem:
                repl.say(visible(problem), "class:warn")

    async def replay(self, repl: LessonHost, upto: int, intro: bool = False) -> None:
        """A fresh session with steps [0, upto) replayed quietly, then the narration of step `upto`."""
        if self.present:  # the old transcript does not belong to the new screen
            repl.clear_screen()

        def fresh_session(_old) -> tuple[str, bool]:
            """On the engine thread: a new session, its scratch directory, and whether its network is private."""
            fresh = repl.engine.reset(LESSON, private_network=True)
            return str(fresh.scratch), fresh.namespace is not None

        where, private = await asyncio.wrap_future(repl.engine.submit(fresh_session))
        scratch = visible(where)
        repl.say(f"sockrepl: scratch directory {scratch} (a fresh session; relative paths live here)")
        if intro:
            repl.show_markdown(f"# {self.lesson.title}\n\n{self.lesson.intro}")
            if not private and uses_abstract_names(a.command for step in self.lesson.steps for a in step.actions):
                repl.say(SHARED_NAMES, "class:warn")
        if upto:
            repl.say(f"replaying steps 1–{upto} in a fresh session (the kernel cannot undo)…", "class:dim")
        self.position, self.attempt = 0, None
        for _ in range(upto):
            if not await self._run_step(repl, quiet=True):
                break
        self.expected = await repl.refresh()
        self.warned = False
        self._narrate(repl)

    async def next(self, repl: LessonHost) -> None:
        """Run the next step; first, once, warn if the student changed what it relies on."""
        if self.position >= len(self.lesson.steps):
            repl.say("that was the last step: reset starts again, lesson lists the others", "class:hint")
            return
        current = await repl.refresh()
        if fingerprint(current) != fingerprint(self.expected) and not self.warned:
            self.warned = True
            said = changes(self.expected, current) or ["the state changed"]
            more = f" (and {len(said) - 3} more)" if len(said) > 3 else ""
            repl.say(f"⚠ since the last step, {'; '.join(said[:3])}{more}: the next step was written for the "
                     "state before, and may not go as it says.", "class:warn")
            repl.say(f"next (or Enter) runs it anyway · goto {self.position + 1} replays the lesson up to here · "
                     "back · reset", "class:hint")
            return
        if self.present:  # one step, one screen: its narration, its transcript, the panel
            repl.clear_screen()
            self._show_step(repl)
        self.attempt = None  # on a projector, an exercise's step runs its solution
        completed = await self._run_step(repl, quiet=False)
        self.expected = await repl.refresh()
        self.warned = False
        if completed and self.present and self.position < len(self.lesson.steps):
            step = self.lesson.steps[self.position]
            repl.say(f"PgDn: step {self.position + 1}/{len(self.lesson.steps)} · {visible(step.title)}  ·  PgUp: back",
                     "class:hint")
        elif completed:
            self._narrate(repl)

    async def _run_step(self, repl: LessonHost, quiet: bool) -> bool:
        """Run the current step's commands; False if Ctrl-C (or a signal to leave) stopped it part way."""
        step = self.lesson.steps[self.position]
        for action in step.actions:
            if repl.interrupted or repl.stopping:
                repl.say(f"step interrupted: the rest of step {self.position + 1} did not run; goto "
                         f"{self.position + 1} replays the lesson up to it, reset starts again", "class:warn")
                return False
            if not quiet:
                repl.echo(action.source)
            events, mismatch = await asyncio.wrap_future(repl.engine.submit(partial(self._act, action=action)))
            if not quiet:
                repl.print_events(events)
            if mismatch:
                repl.say(f"⚠ the kernel did not do what the lesson expects — {visible_lines(mismatch)}",
                         "class:warn")
        self.position += 1
        return True

    def _prediction(self) -> Prediction | None:
        steps = self.lesson.steps if self.lesson else ()
        return steps[self.position].prediction if self.position < len(steps) else None

    async def _exercise_command(self, repl: LessonHost, command: Command) -> None:
        """check, hint, solution (twice: it runs), skip."""
        verb, prediction, attempt = command.name, self._prediction(), self.attempt
        if verb == "skip" and (attempt or prediction):
            repl.say(f"skipped step {self.position + 1}: its commands run", "class:hint")
            self._mine().skipped.append(self.position + 1)
            await self._finish_step(repl)
            self._narrate(repl)
        elif attempt is None:
            repl.say(f"{verb}: this step is not an exercise", "class:warn")
        elif verb == "check":
            parts, snapshot, history = await self._judge(repl, attempt)
            for text, style in check_lines(parts, snapshot, history):
                repl.say(text, style)
        elif verb == "hint":
            self._mine().hints += attempt.hints_shown < len(attempt.exercise.hints)
            repl.say(*hint_line(attempt))
            self._save(repl)
        elif self.offered:
            self.offered = False
            repl.say("running the author's solution…", "class:dim")
            await self._finish_step(repl)
            self._narrate(repl)
        else:
            self.offered = True
            for action in self.lesson.steps[self.position].actions:
                repl.say(f"  {visible(action.source)}")
            repl.say("solution again runs it (in this session, from where you are)", "class:hint")

    async def _judge(self, repl: LessonHost, attempt: Attempt):
        """The goal's parts against the kernel now, with the snapshot and the call log `check` explains them by."""
        def read(session):
            snapshot = session.snapshot()
            return goal_parts(attempt.exercise, snapshot, attempt.lines), snapshot, session.history

        return await asyncio.wrap_future(repl.engine.submit(read))

    async def _try(self, repl: LessonHost, line: str) -> None:
        """The student's own command during an exercise; then the goal, against the kernel."""
        attempt = self.attempt
        assert attempt is not None
        run = repl.engine.run_line(line)
        events = await asyncio.wrap_future(run.events)
        repl.print_events(events)
        await asyncio.wrap_future(run.snapshot)
        attempt.lines += plain_lines(events)
        parts, _, _ = await self._judge(repl, attempt)
        if all(part.holds for part in parts):
            repl.say("✓ goal reached", "class:heading")
            self._mine().solved.append(self.position + 1)
            self.attempt = None
            self.position += 1
            self.expected = await repl.refresh()
            self._narrate(repl)
        else:
            await repl.refresh()

    async def _answer(self, repl: LessonHost, prediction: Prediction, line: str) -> None:
        guess = parse_answer(line)
        if isinstance(guess, str):
            repl.say(visible(guess), "class:warn")
            return
        if prediction.answer.detail and not guess.detail and guess.kind == prediction.answer.kind != "b":
            repl.say("which one? add it after the letter: " + ("e EAGAIN" if guess.kind == "e" else
                                                               "k SIGPIPE" if guess.kind == "k" else "r 0"),
                     "class:warn")
            return
        events = await self._finish_step(repl)
        actual = outcome_of(events)
        mine = self._mine()
        mine.predicted += actual is not None
        mine.predicted_right += actual is not None and right(guess, actual)
        for text, style in verdict_lines(actual, guess, actual is not None and right(guess, actual)):
            repl.say(text, style)
        if actual is not None and not right(guess, actual) and prediction.explanation:
            repl.show_markdown(prediction.explanation)
        self._narrate(repl)

    async def _finish_step(self, repl: LessonHost) -> list:
        """Run the current step's commands as `next` does (a solution, a skipped step, a prediction); its events."""
        self.attempt, self.offered = None, False
        step = self.lesson.steps[self.position]
        events: list = []
        for action in step.actions:
            repl.echo(action.source)
            done, _ = await asyncio.wrap_future(repl.engine.submit(partial(self._act, action=action)))
            repl.print_events(done)
            events += done
        self.position += 1
        self.expected = await repl.refresh()
        return events

    def _act(self, session, action):
        events, lines = run_action(session, action)
        return events, action_mismatch(session, action, events, lines, self.lesson.path)

    def _show_step(self, repl: LessonHost) -> None:
        """The narration of the step about to run, framed, with its number and title."""
        steps = self.lesson.steps
        step = steps[self.position]
        repl.show_markdown(step.narration or step.title, f"step {self.position + 1}/{len(steps)} · {step.title}")

    def _narrate(self, repl: LessonHost) -> None:
        steps = self.lesson.steps
        self._mine().position = self.position
        self._save(repl)
        if self.position >= len(steps):
            if self.lesson.outro:
                repl.show_markdown(self.lesson.outro)
            after = what_follows(Path(self.lesson.path), self.folders)
            repl.say(f"end of the lesson {visible(self.lesson.name)}: {after}; reset starts it again, "
                     "lesson lists them all", "class:hint")
            return
        self._show_step(repl)
        step = steps[self.position]
        if step.exercise or step.prediction:
            if step.exercise:
                self.attempt = Attempt(step.exercise)
            lines = goal_lines(step.exercise) if step.exercise else question_lines(step.prediction)
            for text, style in lines:
                repl.say(text, style)
            return
        hint = "PgDn, → or Enter: run this step · PgUp or ←: back" if self.present else \
            "Enter (or next) runs this step · back · reset · goto N"
        repl.say(hint, "class:hint")


VERBS: dict[str, Callable[[LessonDriver, LessonHost, Command], Awaitable[None]]] = {
    "lesson": LessonDriver._lesson_command, "next": LessonDriver._next_verb, "back": LessonDriver._back,
    "reset": LessonDriver._reset, "goto": LessonDriver._goto, "check": LessonDriver._exercise_command,
    "hint": LessonDriver._exercise_command, "solution": LessonDriver._exercise_command,
    "skip": LessonDriver._exercise_command,
}  # the lesson commands' handlers (tests/test_dispatch.py: one for each, and no other)
