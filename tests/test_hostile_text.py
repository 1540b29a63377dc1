"""Bytes from a lesson file or from what a user types reach the terminal only as visible text.

Payloads a terminal would obey: OSC 52 (write the clipboard), a window title,
clear-screen, and the \\x01..\\x02 markers prompt_toolkit's ANSI() passes through raw.
"""

import re
import subprocess
import sys

from test_repl import Terminal

CLIPBOARD = "\x01\x1b]52;c;UFdORUQ=\x1b\\\x02"
CLEAR_AND_FAKE = "\x1b[2J\x1b]0;TITLE\x07 All lessons PASS"
CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n"] + ["\x7f", "\x9b", "\u202e"]


def no_control(text: str) -> bool:
    return not any(c in text for c in CONTROL if c not in "\r\t")


HOSTILE_LESSON = f"""\
# Hostile {CLEAR_AND_FAKE}

A summary {CLIPBOARD} sentence.

## Step {CLEAR_AND_FAKE}

Narration {CLIPBOARD} and a [link](http://x/{CLIPBOARD}).

```sockrepl
> spawn a
a> socket AF_UNIX SOCK_STREAM
| {CLEAR_AND_FAKE}
```
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_prints_lesson_text_escaped(tmp_path):
    expectation = write(tmp_path, f"expect{CLEAR_AND_FAKE[:4]}.md", HOSTILE_LESSON)
    unknown = write(tmp_path, "unknown.md", f"# T\n\n```sockrepl\n> x{CLIPBOARD}y 3\n```\n")
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", str(expectation), str(unknown)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert no_control(run.stdout + run.stderr), repr(run.stdout)
    assert "expected \\e[2J\\e]0;TITLE\\x07 All lessons PASS" in run.stdout
    assert "unknown command 'x\\x01\\e]52;c;UFdORUQ=\\e\\\\x02y'" in run.stdout
    assert f"FAIL {tmp_path}/expect\\e[2J.md" in run.stdout


def test_run_prints_typed_text_and_file_names_escaped(tmp_path):
    script = (f"x{CLIPBOARD}\nspawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 {CLEAR_AND_FAKE[:4]}\n"
              f"open {CLEAR_AND_FAKE[:4]}f O_RDONLY|O_CREAT\nls\nss\nstate\nstate --json\n")
    run = subprocess.run([sys.executable, "-m", "sockrepl", "run", "-"], input=script, capture_output=True,
                         text=True, timeout=30)
    assert no_control(run.stdout + run.stderr), repr(run.stdout)
    assert "error: unknown command 'x\\x01\\e]52;c;UFdORUQ=\\e\\\\x02'" in run.stdout
    assert "socket files:  \\e[2J (bound: a fd 3)" in run.stdout
    assert re.search(r"^srwx.* \\e\[2J \(bound: a fd 3\)$", run.stdout, re.M)  # ls
    assert "/\\e[2Jf" in run.stdout  # the other fd's path in the panel


def test_run_names_a_script_it_cannot_read_escaped(tmp_path):
    """`sockrepl run ~/Downloads/*`: a file's name is anyone's bytes (it was printed raw)."""
    missing = tmp_path / f"gone{CLEAR_AND_FAKE}"
    run = subprocess.run([sys.executable, "-m", "sockrepl", "run", str(missing)], capture_output=True, text=True,
                         timeout=30)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (f"sockrepl: cannot read {tmp_path}/gone\\e[2J\\e]0;TITLE\\x07 All lessons PASS: "
                          "No such file or directory\n")


def test_a_bug_of_sockrepls_is_reported_escaped():
    """The one line of an internal error carries its exception's text, which can hold a lesson's bytes."""
    code = ("import sys\nimport sockrepl.lessons_cli as lessons\n"
            "def bug(args):\n    raise ValueError(" + repr(CLEAR_AND_FAKE) + ")\n"
            "lessons.main = bug\nfrom sockrepl import cli\nsys.exit(cli.main(['lesson']))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.returncode == 70 and no_control(run.stderr), repr(run.stderr)
    assert run.stderr.splitlines()[0] == "sockrepl: internal error: ValueError: \\e[2J\\e]0;TITLE\\x07 All lessons PASS"


def test_interactive_lesson_shows_narration_titles_and_mismatches_escaped(tmp_path):
    """The escaping happens before layout, so one terminal size shows it."""
    lesson = write(tmp_path, "hostile.md", HOSTILE_LESSON)
    term = Terminal(tmp_path, args=("lesson", str(lesson)))
    try:
        term.wait_for(r"Narration \\x01\\e\]52;c;UFdORUQ=")
        term.child.send("\r")
        term.wait_for(r"⚠ the kernel did not do what the lesson expects")
        term.wait_for(r"end of the lesson hostile")
        seen = term.seen
        assert "\x1b]" not in seen and "\x01" not in seen and "\x02" not in seen and "\x07" not in seen
        assert "\x1b[2J" not in seen
        assert "Hostile \\e[2J\\e]0;TITLE\\x07 All lessons PASS" in term.transcript().replace("\n", "")
    finally:
        term.close()


def test_narration_reaches_rich_escaped_and_a_title_is_not_markup():
    from sockrepl.richtext import markdown_ansi

    for present in (False, True):
        out = markdown_ansi(f"text {CLIPBOARD} [a link](http://x/)", 60, f"[red]T[/red]{CLEAR_AND_FAKE}", present)
        assert "\x1b]" not in out and "\x01" not in out and "\x07" not in out and "\x1b[2J" not in out
        assert "[red]T[/red]\\e[2J" in out and "\\x01\\e]52;c;UFdORUQ=" in out
