"""A student in a real terminal (80 by 24): an exercise, a hint, predictions, progress kept across sessions."""

import subprocess
import sys

from conftest import wait_until
from test_repl import Terminal


def lessons_listing(state) -> str:
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson"], capture_output=True, text=True, timeout=30,
                         env={"XDG_STATE_HOME": str(state), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return run.stdout


def test_a_student_solves_an_exercise_and_answers_predictions(tmp_path):
    student = Terminal(tmp_path, args=("lesson", "exercises"))
    try:
        student.wait_for(r"step 1/17 · A server that never picks up")
        student.child.send("\r")
        student.wait_for(r"^predict: The backlog is 0")
        student.type("b", r"^✗ you said it blocks; the kernel: it returns 0")
        student.wait_for(r"Linux queues backlog \+ 1 calls")
        student.wait_for(r"step 3/17 · Exercise: a caller on hold")
        student.type("c2: connect 3 q.sock", r"\[c2\] connect\(3, .*<unfinished \.\.\.>")
        student.type("check", r"^✗ c3: blocked=connect — not yet: the kernel says blocked=no")
        student.wait_for(r"^✓ server fd 3: pending=1")
        student.type("hint", r"^hint 1/2: The queue holds backlog \+ 1 = 1 call")
        student.type("c3: connect 3 q.sock", r"^✓ goal reached")
        student.wait_for(r"step 4/17 · Exercise: free the caller")
        for step in (5, 6):
            student.type("skip", rf"step {step}/17 ·")
        student.child.send("\r")
        student.wait_for(r"step 7/17 · Exercise: a stale socket file")
        student.type("solution", r"^  server> unlink q.sock")
        student.type("solution", r"step 8/17 ·")
        student.child.send("\r")
        student.wait_for(r"^predict: The server hung up")
        student.type("k", r"^which one\? add it after the letter: k SIGPIPE")
        student.type("k SIGPIPE", r"^✓ right: its process is killed by SIGPIPE")
        student.wait_for(r"step 10/17 · Exercise: EPIPE instead of death")
        assert "Traceback" not in student.transcript()
        student.child.sendeof()
        wait_until(lambda: (student.pump(), not student.child.isalive())[1], 10)
    finally:
        student.close()
    listing = lessons_listing(tmp_path)
    assert "  exercises        step 10 of 17 · 1 exercise solved · 2 skipped · 1 hint · predictions 1/2 right\n" \
        in listing
    assert "  phone            not started\n" in listing
    again = Terminal(tmp_path, args=("lesson", "exercises"))
    try:
        again.wait_for(r"^resuming exercises at step 10 of 17")
        again.wait_for(r"step 10/17 · Exercise: EPIPE instead of death")
        again.wait_for(r"w2\s+pid \d+")
    finally:
        again.close()


def test_a_corrupt_progress_file_is_said_and_progress_starts_fresh(tmp_path):
    (tmp_path / "sockrepl").mkdir()
    (tmp_path / "sockrepl" / "progress.json").write_bytes(b'{"lessons": {"phone": [1, 2]}}')
    listing = lessons_listing(tmp_path)
    assert f"  your progress file {tmp_path}/sockrepl/progress.json could not be used" in listing
    assert "  phone            not started\n" in listing
    run = subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--reset-progress"], capture_output=True,
                         text=True, timeout=30, env={"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and not (tmp_path / "sockrepl" / "progress.json").exists()
    assert "could not be used" not in lessons_listing(tmp_path)


def test_progress_that_cannot_be_saved_is_said_once_not_at_every_step(tmp_path):
    """A read-only home (a lab's NFS, a container): two more lines of warning came after every step."""
    (tmp_path / "sockrepl").write_text("a file where the state folder should be")
    student = Terminal(tmp_path, columns=120, rows=50, args=("lesson", "phone"))  # XDG_STATE_HOME=tmp_path
    try:
        student.wait_for(r"step 1/9")
        for step in (2, 3, 4):
            student.child.send("\r")
            student.wait_for(rf"next step \(phone: step {step}/9\)")
        said = student.transcript().count("your progress could not be saved in")
    finally:
        student.close()
    assert said == 1
