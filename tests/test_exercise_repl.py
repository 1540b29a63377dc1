"""A student in a real terminal (80 by 24): an exercise, a hint, predictions, progress kept across sessions."""

from test_repl import Terminal


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
    finally:
        student.close()
