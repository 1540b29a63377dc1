"""Courses: the manifest orders the lessons, numbers them and links each to the next; instructors' folders."""

import os
import subprocess
import sys
import tomllib

from sockrepl.course import read_course
from sockrepl.lesson_driver import LessonDriver
from sockrepl.lesson_list import what_follows
from sockrepl.lessons import courses, lesson_files, lesson_folder, load

LESSON = ("# {title}\n\n{title} says hello.\n\n## One\n\n```sockrepl\n> spawn {name}-p\n"
          "{name}-p> socket AF_UNIX SOCK_DGRAM\n= 3\n```\n")


def sockrepl(*args, env=None):
    return subprocess.run([sys.executable, "-m", "sockrepl", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def folder(path, names, manifest=None):
    path.mkdir()
    for name in names:
        (path / f"{name}.md").write_text(LESSON.format(title=name.title(), name=name))
    if manifest is not None:
        (path / "course.toml").write_text(manifest)
    return path


def test_the_built_in_course_lists_every_lesson_once_in_the_manifests_order():
    manifest = tomllib.loads(lesson_folder().joinpath("course.toml").read_text())
    (course,) = courses()
    assert course.problems == ()
    assert [e.name for e in course.entries] == [item["name"] for item in manifest["lesson"]]
    assert [e.number for e in course.entries] == list(range(1, len(course.entries) + 1))
    assert list(lesson_files()) == [e.name for e in course.entries]
    listing = sockrepl("lesson").stdout.splitlines()
    assert listing[0] == "UNIX domain sockets" and listing[1].startswith("   1  addresses ")
    assert all(len(line) <= 80 for line in listing), "the listing fits an 80-column terminal"


def test_next_follows_the_manifest_never_loops_and_the_last_lesson_ends_the_course():
    (course,) = courses()
    seen, entry = [], course.entries[0]
    while entry is not None:
        seen.append(entry.name)
        entry = course.after(entry.path)
    assert seen == [e.name for e in course.entries]
    last, before = course.entries[-1], course.entries[-2]
    assert what_follows(last.path) == "that was the last lesson of the course UNIX domain sockets"
    assert what_follows(before.path) == f"next, lesson {last.name} ({len(seen)}/{len(seen)})"
    for entry in course.entries:  # links are the manifest's business: no lesson says "Next:" itself
        assert "Next:" not in load(entry.name).outro, entry.name


def test_an_instructors_folders_list_and_run_with_the_built_in_lessons(tmp_path):
    ordered = folder(tmp_path / "ordered", ["zeta", "alpha"], 'title = "Prof. X"\n[[lesson]]\nname = "zeta"\n'
                     'summary = "zeta first"\n[[lesson]]\nname = "alpha"\nsummary = "then alpha"\n')
    plain = folder(tmp_path / "plain", ["pear", "apple"])
    listing = sockrepl("lesson", "--dir", str(ordered), env={"SOCKREPL_LESSONS": f"{plain}:"}).stdout
    assert "\nProf. X\n   1  zeta             zeta first\n   2  alpha            then alpha\n" in listing
    assert f"\n{plain}\n   1  apple            Apple says hello.\n   2  pear             Pear says hello.\n" in listing
    assert listing.index("   2  phone ") < listing.index("Prof. X") < listing.index(str(plain))
    run = sockrepl("lesson", "--check", "--dir", str(ordered), "zeta", "alpha", "phone")
    assert run.returncode == 0 and [line.split()[:2] for line in run.stdout.splitlines()] == [
        ["PASS", "zeta"], ["PASS", "alpha"], ["PASS", "phone"]]
    assert what_follows(ordered / "zeta.md", [str(ordered)]) == "next, lesson alpha (2/2)"
    assert "pear" in LessonDriver(folders=[str(plain)]).names()


def test_a_manifests_mistakes_fail_the_check(tmp_path):
    bad = folder(tmp_path / "bad", ["one", "two", "three"], '[[lesson]]\nname = "one"\nsummary = "1"\n'
                 '[[lesson]]\nname = "one"\nsummary = "again"\n[[lesson]]\nname = "ghost"\nsummary = "?"\n'
                 '[[lesson]]\nname = "two"\n')
    course = read_course(bad, "bad")
    assert [e.name for e in course.entries] == ["one", "two", "three"]
    manifest = bad / "course.toml"
    assert course.problems == (
        f"{manifest}: lesson 2: 'one' is listed twice",
        f"{manifest}: lesson 3: the course lists 'ghost', and there is no ghost.md in {bad}",
        f"{manifest}: three.md is not in the course (add a [[lesson]] with name = 'three')",
    )
    broken = folder(tmp_path / "broken", ["one"], 'title = "x"\ntitle = "y"\n')
    assert read_course(broken, "broken").problems == (
        f"{broken / 'course.toml'}: Cannot overwrite a value (at line 2, column 12)",)
    run = sockrepl("lesson", "--check", "--dir", str(bad), "--dir", str(broken), "--dir", str(tmp_path / "none"))
    assert run.returncode == 1
    fails = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert fails == [f"FAIL {p}" for p in (*course.problems, *read_course(broken, "broken").problems,
                                           f"{tmp_path / 'none'}: cannot list the lessons: No such file or directory")]


def test_the_coverage_table_names_every_slide_and_only_steps_that_exist():
    """lessons/README.md maps slides 1-48 of the lecture to lessons and steps: no gap, no empty row."""
    import re

    readme = lesson_folder().joinpath("README.md").read_text()
    rows = re.findall(r"^\| (\d+)(?:–(\d+))? \| [^|]+ \| ([^|]+) \|$", readme, re.M)
    covered = [n for first, last, _ in rows for n in range(int(first), int(last or first) + 1)]
    assert covered == list(range(1, 49))
    steps = {name: len(load(name).steps) for name in lesson_files()}
    for first, _, where in rows:
        named = re.findall(r"`([a-z-]+)`(?: → ([\d, –]+))?", where)
        assert named, f"slide {first}: no lesson"
        for lesson, numbers in named:
            assert lesson in steps, f"slide {first}: no lesson {lesson}"
            for number in re.findall(r"\d+", numbers):
                assert 1 <= int(number) <= steps[lesson], f"slide {first}: {lesson} has no step {number}"
