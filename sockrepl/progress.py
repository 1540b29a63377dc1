"""A student's progress through the lessons, kept per user in $XDG_STATE_HOME/sockrepl/progress.json.

Written atomically (a temporary file renamed over the old one), so a crash or
a second sockrepl never leaves half a file. A file that is corrupt, unreadable
or of another shape never stops a lesson: it is said once and progress starts fresh.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sockrepl.statedir import NO_HOME, read_state_file, state_dir

FILE_NAME = "progress.json"


@dataclass
class LessonProgress:
    steps: int  # how many steps the lesson had when last seen
    position: int = 0  # steps done
    solved: list[int] = field(default_factory=list)  # exercise steps reached by the student (1-based)
    skipped: list[int] = field(default_factory=list)
    hints: int = 0
    predicted: int = 0
    predicted_right: int = 0

    @property
    def done(self) -> bool:
        return self.position >= self.steps

    def words(self) -> str:
        """`done`, or `step k of n`, then what the student did: for `sockrepl lesson`."""
        said = ["done" if self.done else f"step {self.position + 1} of {self.steps}"]
        if self.solved:
            said.append(f"{len(self.solved)} exercise{'s' * (len(self.solved) != 1)} solved")
        if self.skipped:
            said.append(f"{len(self.skipped)} skipped")
        if self.hints:
            said.append(f"{self.hints} hint{'s' * (self.hints != 1)}")
        if self.predicted:
            said.append(f"predictions {self.predicted_right}/{self.predicted} right")
        return " · ".join(said)


class Progress:
    """Every lesson's progress; `problem` says why what was on disk could not be used."""

    def __init__(self, folder: Path | None = None):
        folder = folder or state_dir()
        self.path = folder / FILE_NAME if folder else None
        self.lessons: dict[str, LessonProgress] = {}
        self.problem = "" if self.path else f"your progress is not kept: {NO_HOME}"
        self._unsaved = ""  # the last save's problem, already said
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            raw = json.loads(read_state_file(self.path))
            self.lessons = {str(name): LessonProgress(**fields) for name, fields in raw["lessons"].items()}
            if not all(isinstance(p.steps, int) and isinstance(p.position, int) for p in self.lessons.values()):
                raise TypeError("a lesson's steps or position is not a number")
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            self.lessons = {}
            self.problem = (f"your progress file {self.path} could not be used "
                            f"({getattr(error, 'strerror', None) or error}): starting fresh")

    def of(self, name: str, steps: int) -> LessonProgress:
        progress = self.lessons.setdefault(name, LessonProgress(steps))
        progress.steps = steps
        progress.position = min(max(progress.position, 0), steps)
        return progress

    def save(self) -> str:
        """Write it atomically; what went wrong, or "" (a lesson goes on without saving). Each problem is said
        once: a read-only home would repeat it after every step."""
        if self.path is None:
            return ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".progress-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"lessons": {n: asdict(p) for n, p in self.lessons.items()}}, out, indent=1)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            problem = f"your progress could not be saved in {self.path}: {error.strerror or error}"
            said, self._unsaved = self._unsaved, problem
            return "" if problem == said else problem
        self._unsaved = ""
        return ""

    def reset(self) -> str:
        """Forget all progress; what went wrong, or ""."""
        self.lessons = {}
        if self.path is None:
            return f"no progress to forget: {NO_HOME}"
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            return f"{self.path} could not be removed: {error.strerror or error}"
        return ""
