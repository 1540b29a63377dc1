"""`export`: the session so far as a lesson, a Mermaid diagram or Markdown notes. Pure text.

A lesson replays the commands typed, expects what happened (`= 3`,
`<unfinished ...>`, exact `[NAME]` lines with placeholders where values vary
from run to run) and checks a few key facts the kernel reported after each
command, so that `sockrepl lesson --check` passes on it unchanged. HTML and SVG
are drawn by richtext.py from the same sections as Markdown. No I/O here.
"""

import re

from sockrepl.calllog import Record
from sockrepl.events import CallEvent, ExitEvent, UsageError, View
from sockrepl.render import event_lines, plain
from sockrepl.state import Snapshot, Typed
from sockrepl.textsafe import visible
from sockrepl.ties import ties
from sockrepl.timeline import rows_of, timeline_lines

Fragments = list[tuple[str, str]]
CHECK_WIDTH = 200  # the lesson checker draws lines this wide
NOT_REPLAYED = {"state", "ss", "ls", "ps", "help", "man", "timeline", "why", "step"}
VARYING = (
    (re.compile(r"\(pid \d+"), "(pid {pid}"),
    (re.compile(r", uid \d+\)"), ", uid {uid})"),
    (re.compile(r"pid=\d+, uid=\d+, gid=\d+"), "pid={pid}, uid={uid}, gid={gid}"),
    (re.compile(r'@"[0-9a-f]{5}"'), '@"{hex}"'),
    (re.compile(r"socket:\[\d+\]"), "socket:[{inode}]"),
)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~&])")


# ---- lesson ---------------------------------------------------------------------


def lesson_text(typed: tuple[Typed, ...]) -> str:
    """A lesson file: one step per command, or per group after a `step "title"`."""
    out = ["# A recorded session", "",
           "Recorded with sockrepl: each step replays the commands as they were typed, expects what",
           "the kernel answered then, and checks the state it reported. `sockrepl lesson --check FILE`",
           "replays it.", ""]
    for title, group in _steps(typed):
        body = [line for entry in group for line in _action(entry)]
        if not body:
            continue
        out += [f"## {markdown_escape(title)}", "", "```sockrepl", *body, "```", ""]
    return "\n".join(out)


def _steps(typed: tuple[Typed, ...]) -> list[tuple[str, list[Typed]]]:
    steps: list[tuple[str, list[Typed]]] = []
    grouping = False
    for entry in typed:
        if entry.command.name == "step":
            steps.append((entry.command.args["title"], []))
            grouping = True
        elif grouping:
            steps[-1][1].append(entry)
        else:
            steps.append((_typed_line(entry), [entry]))
    return steps


def _typed_line(entry: Typed) -> str:
    body = command_body(entry)
    return f"{entry.process}: {body}" if entry.process else body


def command_body(entry: Typed) -> str:
    """The command as typed, without its `NAME:` prefix."""
    text = entry.command.text
    if entry.command.process:
        text = text.split(":", 1)[1].strip() if ":" in text else text
    return text


def _action(entry: Typed) -> list[str]:
    """The command line, its expected output, and state checks; nothing for a command a lesson can't replay."""
    if entry.command.name in NOT_REPLAYED or any(isinstance(e, UsageError) for e in entry.events):
        return []
    lines = [f"{entry.process or ''}> {command_body(entry)}"]
    own = _own_call(entry)
    for event in entry.events:
        drawn = [plain([line]) for line in event_lines(event, CHECK_WIDTH)]
        drawn = [line for line in drawn if not line.startswith("    ↳")]
        if event is own and isinstance(event, CallEvent) and event.command.name != "fcntl":
            if event.phase == "unfinished":
                lines.append("<unfinished ...>")
                continue
            if event.outcome is not None and event.phase == "done":
                lines.append("= " + drawn[0].rsplit(" = ", 1)[1])
                continue
        for line in drawn:
            lines.append(vary(line) if line.startswith("[") else "| " + vary(line))
    return lines + _checks(entry)


def _own_call(entry: Typed):
    return next((e for e in entry.events if isinstance(e, CallEvent) and e.process == entry.process
                 and e.command is entry.command), None)


def vary(line: str) -> str:
    """Placeholders where a value changes from run to run: pids, uids, autobind names, inodes."""
    for pattern, placeholder in VARYING:
        line = pattern.sub(placeholder, line)
    return line


def _checks(entry: Typed) -> list[str]:
    """Key facts from the kernel after the command: who is blocked, the state of the fds it used or made."""
    snapshot = entry.snapshot
    if snapshot is None:
        return []
    checks = []
    released = [e.process for e in entry.events if isinstance(e, CallEvent) and e.phase == "resumed"]
    died = [e.process for e in entry.events if isinstance(e, ExitEvent)]
    for name in dict.fromkeys([*([entry.process] if entry.process else []), *released]):
        proc = snapshot.process(name)
        if proc is not None and name not in died and (proc.blocked or name in released):
            checks.append(f"? {name}: blocked={proc.blocked.call if proc.blocked else 'no'}")
    checks += [f"? {name}: alive=no" for name in dict.fromkeys(died)]
    if entry.process and entry.process not in died:
        checks += _fd_checks(entry, snapshot)
    return checks


def _fd_checks(entry: Typed, snapshot: Snapshot) -> list[str]:
    fds = [entry.command.args.get("fd")]
    own = _own_call(entry)
    if own and own.outcome and not own.outcome.failed and own.command.name in ("socket", "accept"):
        fds.append(own.outcome.ret)
    checks = []
    for fd in dict.fromkeys(fd for fd in fds if isinstance(fd, int)):
        view = snapshot.find(entry.process or "", fd)
        if view is None:
            checks.append(f"? {entry.process} fd {fd}: exists=no")
            continue
        facts = f"type={view.type} state={view.state}"
        if view.state == "LISTEN":
            facts += f" pending={view.pending} backlog={view.backlog}"
        checks.append(f"? {entry.process} fd {fd}: {facts}")
    return checks


def markdown_escape(text: str) -> str:
    """User text in Markdown prose: every punctuation mark that could start markup, backslash-escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


# ---- mermaid --------------------------------------------------------------------


def mermaid_text(records: tuple[Record, ...], snapshot: Snapshot | None) -> str:
    """A Mermaid sequenceDiagram: participants are processes, a note per call, an arrow per tie."""
    rows = rows_of(records)
    lanes = list(dict.fromkeys(row.lane for row in rows))
    ids = {lane: f"p{index}" for index, lane in enumerate(lanes)}
    lane_of = {row.seq: row.lane for row in rows}
    links = ties(records, snapshot)
    out = ["sequenceDiagram"]
    out += [f"    participant {ids[lane]} as {mermaid_escape(lane)}" for lane in lanes]
    active: set[str] = set()
    for row in rows:
        for tie in links:
            if tie.target == row.seq and lane_of.get(tie.source) in ids and lane_of[tie.source] != row.lane:
                label = mermaid_escape(tie.label or _text_of(rows, tie.source))
                out.append(f"    {ids[lane_of[tie.source]]}->>{ids[row.lane]}: {label}")
        out.append(f"    Note over {ids[row.lane]}: {mermaid_escape(row.text)}")
        for tie in links:
            if tie.target is None and tie.source == row.seq and tie.lane in ids:
                out.append(f"    {ids[row.lane]}-->>{ids[tie.lane]}: {mermaid_escape(tie.label)}")
        if row.bar == "start":
            out.append(f"    activate {ids[row.lane]}")
            active.add(row.lane)
        elif (row.bar == "end" or row.style == "class:exit") and row.lane in active:
            out.append(f"    deactivate {ids[row.lane]}")
            active.discard(row.lane)
    return "\n".join(out) + "\n"


def _text_of(rows, seq: int) -> str:
    return next((row.text for row in rows if row.seq == seq), "")


_MERMAID_ENTITIES = {"#": "#35;", "&": "#38;", ";": "#59;", "<": "#lt;", ">": "#gt;", '"': "#quot;", "%": "#37;",
                     "{": "#123;", "}": "#125;"}


def mermaid_escape(text: str) -> str:
    """Text in a Mermaid message or note: its syntax characters as Mermaid entity codes."""
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in " ".join(text.split()))


# ---- transcript, markdown ---------------------------------------------------------


def transcript_lines(typed: tuple[Typed, ...], width: int) -> list[Fragments]:
    """What the terminal showed: each command after its prompt, then its output."""
    lines: list[Fragments] = []
    for entry in typed:
        lines.append([("class:dim", f"{entry.process or ''}> "), ("", visible(command_body(entry)))])
        for event in entry.events:
            lines += event_lines(event, width)
    return lines


def sections(typed: tuple[Typed, ...], records: tuple[Record, ...], snapshot: Snapshot,
             width: int) -> list[tuple[str, list[Fragments]]]:
    """The parts of a handout: the transcript, the timeline, the final panel."""
    return [("Transcript", transcript_lines(typed, width)),
            ("Timeline", timeline_lines(records, snapshot, width)),
            ("State, from the kernel", event_lines(View("state", snapshot), width))]


def markdown_text(parts: list[tuple[str, list[Fragments]]]) -> str:
    out = ["# A sockrepl session", ""]
    for title, lines in parts:
        text = plain(lines)
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
        out += [f"## {markdown_escape(title)}", "", f"{fence}text", text, fence, ""]
    return "\n".join(out)
