"""A folder of lessons as a course: the order, numbers and summaries from its manifest.

`course.toml` next to the lessons lists them in teaching order, each with a
one-line summary; the number is the position. A folder without a manifest is a
course in alphabetical order. What is wrong with a manifest is collected as
problems (shown by the listing, failed by `--check`), never raised: one bad
folder must not hide the others. "Next" is derived from the order, so it cannot
loop, and the last lesson ends the course.
"""

import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

MANIFEST = "course.toml"


@dataclass(frozen=True)
class Entry:
    number: int
    name: str
    path: Path
    summary: str  # from the manifest; "" when the folder has none


@dataclass(frozen=True)
class Course:
    title: str
    folder: Traversable
    entries: tuple[Entry, ...]
    problems: tuple[str, ...] = ()

    def after(self, path: Path) -> Entry | None:
        """The entry that follows the lesson at `path`; None after the last one."""
        index = next((i for i, e in enumerate(self.entries) if _same(e.path, path)), None)
        return self.entries[index + 1] if index is not None and index + 1 < len(self.entries) else None

    def holds(self, path: Path) -> bool:
        return any(_same(e.path, path) for e in self.entries)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def read_course(folder: Traversable, title: str) -> Course:
    """The course in `folder`: its manifest's order, then any lesson it does not list (a problem)."""
    try:
        found = sorted(Path(str(entry)) for entry in folder.iterdir())
    except OSError as error:
        return Course(title, folder, (), (f"{folder}: cannot list the lessons: {error.strerror or error}",))
    files = {p.stem: p for p in found if p.suffix == ".md" and p.name != "README.md"}
    manifest = Path(str(folder.joinpath(MANIFEST)))
    if not manifest.is_file():
        return Course(title, folder, _numbered([(n, p, "") for n, p in files.items()]))
    problems: list[str] = []
    listed = _read_manifest(manifest, problems)
    if listed is None:  # unreadable: alphabetical, and that one problem
        return Course(title, folder, _numbered([(n, p, "") for n, p in files.items()]), tuple(problems))
    course_title = listed.pop("", ("", ""))[1] or title
    chosen = []
    for name, (where, summary) in listed.items():
        if name in files:
            chosen.append((name, files.pop(name), summary))
        else:
            problems.append(f"{where}: the course lists {name!r}, and there is no {name}.md in {folder}")
    problems += [f"{manifest}: {path.name} is not in the course (add a [[lesson]] with name = {name!r})"
                 for name, path in files.items()]
    chosen += [(name, path, "") for name, path in files.items()]
    return Course(course_title, folder, _numbered(chosen), tuple(problems))


def _numbered(entries: list[tuple[str, Path, str]]) -> tuple[Entry, ...]:
    return tuple(Entry(number, name, path, summary) for number, (name, path, summary) in enumerate(entries, 1))


def _read_manifest(manifest: Path, problems: list[str]) -> dict[str, tuple[str, str]] | None:
    """name -> (where it is listed, summary), in order; the course title under the key ""; None if unreadable."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{manifest}: {getattr(error, 'strerror', None) or error}")
        return None
    listed: dict[str, tuple[str, str]] = {"": (str(manifest), str(data.get("title", "")))}
    lessons = data.get("lesson", [])
    if not isinstance(lessons, list):
        problems.append(f"{manifest}: lessons are listed as [[lesson]] tables")
        return listed
    for number, item in enumerate(lessons, 1):
        where = f"{manifest}: lesson {number}"
        name = item.get("name") if isinstance(item, dict) else None
        summary = item.get("summary", "") if isinstance(item, dict) else ""
        if not isinstance(name, str) or not name or not isinstance(summary, str):
            problems.append(f"{where}: each [[lesson]] needs name = \"NAME\" and summary = \"one line\"")
        elif name in listed:
            problems.append(f"{where}: {name!r} is listed twice")
        else:
            listed[name] = (where, summary)
    return listed
