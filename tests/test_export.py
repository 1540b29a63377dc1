"""`export`: a lesson that passes --check (and fails when edited), Mermaid that parses, HTML/SVG, files kept."""

import io
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from sockrepl import callsite
from sockrepl import session as session_module
from sockrepl.batch import run_script
from sockrepl.export import carried_out
from sockrepl.lesson_format import parse_lesson
from sockrepl.lesson_lines import LessonError
from sockrepl.lessons import check_lesson
from sockrepl.render import event_lines, plain
from sockrepl.session import Session
from tests.conftest import run_sockrepl
from tests.test_timeline import BACKLOG, PHONE


def lesson_check(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sockrepl", "lesson", "--check", path], capture_output=True,
                          timeout=60)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The backlog and phone scenarios, run as scripts that export every format (files in a fresh cwd)."""
    where = tmp_path_factory.mktemp("exports")
    script = BACKLOG.replace("c3: socket", 'step "The line is busy"\nc3: socket') + (
        "server: bind 3 new.sock\nserver: listen 3 1\nserver: accept 3\ninterrupt server\n"
        "export lesson backlog.md\nexport lesson backlog.md\nexport markdown\n")
    result = run_sockrepl_in(where, script, "--export", "lesson:final.md")
    phone = run_sockrepl_in(where, PHONE + 'client: write 3 "<b>&amp;</b>"\n', "--export", "mermaid:phone.mmd")
    html = run_sockrepl_in(where, PHONE, "--export", "html:phone.html")
    svg = run_sockrepl_in(where, PHONE, "--export", "svg")
    return where, result, phone, html, svg


def run_sockrepl_in(cwd, script: str, *args):
    return subprocess.run([sys.executable, "-m", "sockrepl", "run", "-", *args], input=script.encode(),
                          capture_output=True, timeout=60, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})


def test_exported_backlog_lesson_passes_check_and_fails_when_an_expectation_is_edited(exported):
    where, result, *_ = exported
    out = result.stdout.decode()
    assert f"exported the session as lesson: {where}/backlog.md" in out
    assert f"error: {where}/backlog.md exists: export does not overwrite a file" in out
    text = (where / "backlog.md").read_text()
    first_step = text.split("\n## ")[1]  # the run started with p1, as the REPL does, but never used it
    assert first_step == ("spawn server c1 c2 c3\n\n```sockrepl\n> spawn server c1 c2 c3\n"
                          "| spawned server (pid {pid}), c1 (pid {pid}), c2 (pid {pid}), c3 (pid {pid}); "
                          "current process: server\n```\n")
    assert "p1" not in text
    assert "## The line is busy\n\n```sockrepl\nc3> socket AF_UNIX SOCK_STREAM\n= 3\n" in text
    assert "c3> connect 3 srv.sock\n<unfinished ...>\n? c3: blocked=connect\n" in text
    assert "[c3] <... connect resumed>) = 0\n" in text and "| spawned server (pid {pid}), c1 (pid {pid})" in text
    assert ("> interrupt server\n[server] <... accept resumed>) = -1 EINTR (Interrupted system call)\n"
            "? server: blocked=no\n") in text
    assert (where / "final.md").read_text() == text  # --export lesson:PATH writes the same lesson
    passed = lesson_check(str(where / "backlog.md"))
    assert passed.returncode == 0 and passed.stdout.decode().startswith("PASS"), passed.stdout.decode()
    edited = where / "edited.md"
    edited.write_text(text.replace("= -1 EAGAIN (Resource temporarily unavailable)", "= 0", 1))
    failed = lesson_check(str(edited))
    assert failed.returncode == 1 and "expected = 0" in failed.stdout.decode()


SPAWN_P1 = "spawn p1\n\n```sockrepl\n> spawn p1\n| spawned p1 (pid {pid}); current process: p1\n```\n"


@pytest.mark.parametrize("script", [
    "socket AF_UNIX SOCK_STREAM\n",  # a call in p1, the current process at the start
    "spawn server\nsignal p1 SIGPIPE ignore\n",  # p1 only named
    "",  # nothing else to replay: p1 is the state the session reached, and a lesson needs a step
], ids=["call", "named", "empty"])
def test_an_exported_lesson_spawns_p1_when_the_session_used_it(tmp_path, script):
    """The run starts with p1 as the REPL does; a lesson starts with no process, so the export spawns it."""
    run_sockrepl_in(tmp_path, script, "--export", "lesson:l.md")
    text = (tmp_path / "l.md").read_text()
    assert text.split("\n## ")[1] == SPAWN_P1 and text.count("spawn p1") == 2, text
    result = check_lesson(parse_lesson(text, str(tmp_path / "l.md")))
    assert result.passed, result.failure


def test_an_export_in_a_lesson_is_refused():
    with pytest.raises(LessonError, match="a lesson cannot run 'export'"):
        parse_lesson("# T\n\nIntro.\n\n## S\n\n```sockrepl\n> spawn a\n> export lesson x.md\n```\n", "x.md")


MERMAID_LINE = re.compile(
    r"    (participant p\d+ as [^#;<>\"%{}]+(?:#\w+;[^#;<>\"%{}]*)*"
    r"|Note over p\d+: .+"
    r"|p\d+-{1,2}>>p\d+: .+"
    r"|(?:activate|deactivate) p\d+)")


def test_mermaid_of_the_phone_follows_the_sequence_diagram_grammar(exported):
    where, _, phone, *_ = exported
    assert b"exported the session as mermaid" in phone.stdout
    lines = (where / "phone.mmd").read_text().splitlines()
    assert lines[0] == "sequenceDiagram"
    active: set[str] = set()
    for line in lines[1:]:
        assert MERMAID_LINE.fullmatch(line), line
        text = line.split(": ", 1)[1] if ": " in line else ""
        assert not re.search(r"[#;<>\"%{}]", re.sub(r"#\w+;", "", text)), line  # syntax characters as entities
        word, _, who = line.strip().partition(" ")
        if word == "activate":
            active.add(who)
        elif word == "deactivate":
            assert who in active
            active.remove(who)
    assert "    p1->>p0: connect(3, #quot;srv.sock#quot;) = 0" in lines
    assert "    p1->>p0: EOF" in lines and "    activate p0" in lines
    assert any("#lt;b#gt;#38;amp#59;#lt;/b#gt;" in line for line in lines)


def test_html_has_the_transcript_and_the_timeline_escaped_and_svg_is_xml(exported):
    where, _, _, html, svg = exported
    assert b"exported the session as html" in html.stdout
    page = (where / "phone.html").read_text()
    assert "[server] </span><span" in page and "accept</span>(3, NULL, NULL" in page
    assert ">accept(3) = 4</span> <span" in page and ">◀─────" in page
    assert "Timeline" in page and "State, from the kernel" in page
    assert "&lt;b&gt;" not in page  # the <b> was sent only in the mermaid run
    ET.fromstring((where / "sockrepl-session.svg").read_text())
    assert b"exported the session as svg" in svg.stdout


def test_user_bytes_are_escaped_in_html(tmp_path):
    session = Session()
    try:
        session.started_in = tmp_path
        for line in ["spawn a", "a: socketpair AF_UNIX SOCK_STREAM", 'a: send 3 "<script>\\x1b[2J"', "a: recv 4"]:
            session.run_line(line)
        events = carried_out(session.run_line("export html out.html"))
    finally:
        session.close()
    assert [e.text for e in events] == [f"exported the session as html: {tmp_path}/out.html"]
    page = (tmp_path / "out.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "\x1b" not in page


def test_export_paths_are_relative_to_where_sockrepl_started_and_kept_without_force(tmp_path):
    (tmp_path / "old.md").write_text("keep me")
    session = Session()
    try:
        session.started_in = tmp_path
        session.run_line("spawn a")
        kept = carried_out(session.run_line("export markdown old.md"))
        forced = carried_out(session.run_line("export markdown old.md --force"))
        missing = carried_out(session.run_line("export mermaid nodir/x.mmd"))
    finally:
        session.close()
    assert kept[0].message == f"{tmp_path}/old.md exists: export does not overwrite a file"
    assert forced[0].text == f"exported the session as markdown: {tmp_path}/old.md"
    assert (tmp_path / "old.md").read_text().startswith("# A sockrepl session\n\n## Transcript\n\n```text\n> spawn a\n")
    assert missing[0].message == f"cannot write {tmp_path}/nodir/x.mmd: No such file or directory"
    assert not list(session.scratch.parent.glob(f"{session.scratch.name}/*.md"))


def test_run_export_option_rejects_an_unknown_format():
    result = run_sockrepl("spawn a\n", "--export", "pdf:x.pdf")
    assert result.returncode == 2 and b"--export: unknown format 'pdf'" in result.stderr


def test_export_writes_only_a_regular_file_and_never_blocks_on_a_fifo(tmp_path):
    """A FIFO with no reader blocked the prompt in open() (no Ctrl-C, no SIGTERM): now refused at once."""
    os.mkfifo(tmp_path / "fifo")
    session = Session()
    try:
        session.started_in = tmp_path
        session.run_line("spawn a")
        jobs = [session.run_line(f"export markdown {path} --force") for path in ("fifo", "/dev/null", str(tmp_path))]
    finally:
        session.close()
    results: list = []
    writer = threading.Thread(target=lambda: results.extend(e for job in jobs for e in carried_out(job)), daemon=True)
    writer.start()
    writer.join(10)
    if writer.is_alive():  # before the fix: stuck until a reader came; give it one, then fail below
        os.close(os.open(tmp_path / "fifo", os.O_RDONLY | os.O_NONBLOCK))
        writer.join(10)
    assert [e.message for e in results] == [f"{path} is not a regular file: export writes only to a file"
                                           for path in (f"{tmp_path}/fifo", "/dev/null", tmp_path)]


def listening(session: Session, tmp_path) -> None:
    session.recording = session_module.EVERYTHING
    session.started_in = tmp_path
    for line in ["spawn server", "socket AF_UNIX SOCK_STREAM", "bind 3 srv.sock", "listen 3 2", "accept 3"]:
        session.run_line(line)


def unasked(session: Session) -> str:
    """What the REPL's engine does while no command runs: poll the processes until a result comes."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = session.poll_unasked()
        if events:
            return "\n".join(plain(event_lines(e, 200)) for e in events)
        select.select(session.watch_fds(), [], [], 0.05)
    raise AssertionError("nothing came")


def caller(session: Session) -> socket.socket:
    """A program outside sockrepl dials the server."""
    outside = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    outside.connect(str(session.scratch / "srv.sock"))
    return outside


def test_a_sigint_from_outside_exports_as_interrupt_and_the_lesson_passes_check(tmp_path):
    """`kill -INT` from a shell ended accept with EINTR while sockrepl was idle: the lesson had no such step."""
    session = Session()
    try:
        listening(session, tmp_path)
        os.kill(session.workers["server"].pid, signal.SIGINT)
        assert unasked(session).startswith("[server] <... accept resumed>) = -1 EINTR")
        session.run_line("accept 3")
        events = carried_out(session.run_line("export lesson l.md"))
    finally:
        session.close()
    assert [(e.text, e.kind) for e in events] == [(f"exported the session as lesson: {tmp_path}/l.md", "info")]
    text = (tmp_path / "l.md").read_text()
    assert ("## interrupt server\n\n```sockrepl\n> interrupt server\n"
            "[server] <... accept resumed>) = -1 EINTR (Interrupted system call)\n```\n") in text
    result = check_lesson(parse_lesson(text, str(tmp_path / "l.md")))
    assert result.passed, result.failure


def test_what_came_from_outside_is_said_at_export_and_marked_where_it_happened(tmp_path):
    """A lesson cannot replay an outside program's connect: the export warns, naming it, and a comment marks it."""
    session = Session()
    try:
        listening(session, tmp_path)
        first = caller(session)
        assert unasked(session) == "[server] <... accept resumed>) = 4"
        session.run_line("accept 3")
        second = caller(session)
        session.run_line("wait server 5")  # the connect released it during the wait, which did nothing itself
        lesson = carried_out(session.run_line("export lesson l.md"))
        notes = carried_out(session.run_line("export markdown notes.md"))
        first.close()
        second.close()
    finally:
        session.close()
    assert lesson[0].kind == "warn" and lesson[0].text.split("\n") == [
        f"exported the session as lesson: {tmp_path}/l.md",
        "it will not pass --check as it is: a lesson replays only what its own processes do, and this came from "
        "outside the session (a program, a shell):",
        "  [server] <... accept resumed>) = 4   (after server: accept 3)",
        "  [server] <... accept resumed>) = 5   (during wait server 5)",
        "a comment marks each place in the file: let one of the lesson's processes do it instead "
        "(e.g. a client that connects)"]
    text = (tmp_path / "l.md").read_text()
    marked = ("? server fd 3: type=STREAM state=LISTEN pending=0 backlog=2\n"
              "# not replayed: this came from outside the session, and a lesson cannot do that\n"
              "# [server] <... accept resumed>) = {fd}\n```\n")
    assert marked.format(fd=4) in text and marked.format(fd=5) in text and "wait server" not in text
    result = check_lesson(parse_lesson(text, str(tmp_path / "l.md")))
    assert "server is blocked in accept(3)" in (result.failure or "")  # as the warning said
    assert notes[0].kind == "info" and "[server] <... accept resumed>) = 4" in (tmp_path / "notes.md").read_text()


def test_run_takes_a_snapshot_per_command_only_when_the_script_can_export(tmp_path, monkeypatch):
    """A snapshot costs more than most commands (#16): only a script with an export line, or --export,
    or a pipe (it cannot be read ahead) keeps one per command for the lesson's state checks."""
    taken: list[int] = []
    take = session_module.take_snapshot
    monkeypatch.setattr(session_module, "take_snapshot", lambda *args: taken.append(1) or take(*args))
    script = b"spawn a\na: socket AF_UNIX SOCK_STREAM\n"

    def snapshots(source, export=None) -> int:
        taken.clear()
        assert run_script(source, io.StringIO(), export=export) == 0
        return len(taken)

    assert snapshots(io.BytesIO(script)) == 0
    # p1's spawn (the run starts with it, and the lesson replays it), the script's two commands, and the export's
    assert snapshots(io.BytesIO(script + f"export lesson {tmp_path}/l.md\n".encode())) == 4
    assert "? a fd 3: type=STREAM state=UNCONNECTED" in (tmp_path / "l.md").read_text()
    reading, writing = os.pipe()
    os.write(writing, script)
    os.close(writing)
    with open(reading, "rb") as pipe:
        assert snapshots(pipe) == 3


def test_run_reads_the_sockets_of_each_call_only_when_the_script_can_ask_for_them(tmp_path, monkeypatch):
    """The ties of timeline, why and export cost kernel reads at every call (#16): a script with none of
    those lines makes none, one with any of them (or a pipe) makes them all; what it prints is the same."""
    reads: list[str] = []

    def counted(name: str):
        read = getattr(callsite, name)
        return lambda *args: reads.append(name) or read(*args)

    for name in ("at_start", "at_return"):
        monkeypatch.setattr(callsite, name, counted(name))
    script = (b'spawn a b\na: socket AF_UNIX SOCK_STREAM\nbind 3 s.sock\nlisten 3 1\nb: socket AF_UNIX SOCK_STREAM\n'
              b'b: connect 3 s.sock\na: accept 3\nb: send 3 "hi"\na: recv 4 10\nb: close 3\na: recv 4 10\n')
    exported = tmp_path / "s.mmd"

    def run(source) -> tuple[int, str, str]:
        reads.clear()
        out = io.StringIO()
        assert run_script(source, out) == 0
        written = exported.read_text() if exported.exists() else ""
        exported.unlink(missing_ok=True)
        return len(reads), re.sub(r"pid \d+", "pid N", out.getvalue()), written

    def piped(text: bytes) -> tuple[int, str, str]:
        reading, writing = os.pipe()
        os.write(writing, text)
        os.close(writing)
        with open(reading, "rb") as pipe:
            return run(pipe)

    everything, transcript, _ = piped(script)
    assert everything == 2 * 10  # each of the 10 calls: at its start and as it returns
    assert run(io.BytesIO(script)) == (0, transcript, "")
    for line in (b"timeline\n", b"a: why\n", f"export mermaid {exported}\n".encode()):
        with_line = run(io.BytesIO(script + line))
        assert with_line == piped(script + line)
        assert with_line[0] == everything and with_line[1].startswith(transcript)
    assert "p1->>p0: EOF" in with_line[2]  # a tie the export drew: b's close, a's end of file
