"""`export`: the session so far as a lesson, a Mermaid diagram or Markdown notes. Pure text.

A lesson replays the commands typed, expects what happened (`= 3`,
`<unfinished ...>`, exact `[NAME]` lines with placeholders where values vary
from run to run) and checks a few key facts the kernel reported after each
command, so that `sockrepl lesson --check` passes on it unchanged. Only what
came from outside the session (a program that connected) cannot be replayed: it
is marked by a comment, and the export says so. HTML and SVG are drawn by
richtext.py from the same sections as Markdown. No I/O here.
"""

import errno
import re
from dataclasses import dataclass

from sockrepl.calllog import Record
from sockrepl.commands import FIRST_PROCESS
from sockrepl.events import CallEvent, Event, ExitEvent, SignalEvent, UsageError, View
from sockrepl.parser import parse
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
    """A lesson file: one step per command, or per group after a `step "title"`.

    The REPL and a run start with `spawn p1`, a lesson with no process: that first line is
    left out when nothing after it uses p1, unless it is all there is to replay (a lesson
    needs a step, and p1 is then the whole state the session reached)."""
    steps = _replayed(typed[1:]) if typed and _unused_start(typed) else []
    out = ["# A recorded session", "",
           "Recorded with sockrepl: each step replays the commands as they were typed, expects what",
           "the kernel answered then, and checks the state it reported. `sockrepl lesson --check FILE`",
           "replays it.", ""]
    for title, body in steps or _replayed(typed):
        out += [f"## {markdown_escape(title)}", "", "```sockrepl", *body, "```", ""]
    return "\n".join(out)


def _replayed(typed: tuple[Typed, ...]) -> list[tuple[str, list[str]]]:
    """Each step's title and lines; a step with nothing a lesson can replay is left out."""
    steps = [(title, [line for item in group for line in _action(item)]) for title, group in _steps(typed)]
    return [(title, body) for title, body in steps if body]


def _unused_start(typed: tuple[Typed, ...]) -> bool:
    """The session began with the front end's `spawn p1`, and nothing after it uses p1 (nor came by itself)."""
    first, *rest = typed
    return first.command.text == f"spawn {FIRST_PROCESS}" and not first.unasked and not any(
        _uses(entry, FIRST_PROCESS) for entry in rest)


def _uses(entry: Typed, name: str) -> bool:
    """The command runs in `name` or names it, or something of `name`'s came with it (a call, a signal, its end)."""
    named = any(value == name or (isinstance(value, list) and name in value) for value in entry.command.args.values())
    came = (*entry.events, *entry.unasked)
    return entry.process == name or named or any(
        isinstance(e, CallEvent | ExitEvent | SignalEvent) and e.process == name for e in came)


@dataclass(frozen=True)
class FromOutside:
    """What something outside the session did (a program connected, a shell sent a signal), and when:
    `after server: accept 3`, `during wait server 5`."""

    when: str
    events: tuple[Event, ...]


Item = Typed | FromOutside


def from_outside(typed: tuple[Typed, ...]) -> list[FromOutside]:
    """What the exported lesson cannot replay: said when it is exported, marked by a comment in it."""
    return [item for _, group in _steps(typed) for item in group if isinstance(item, FromOutside)]


def _steps(typed: tuple[Typed, ...]) -> list[tuple[str, list[Item]]]:
    steps: list[tuple[str, list[Item]]] = []
    grouping = False
    for entry in typed:
        if entry.command.name == "step":
            steps.append((entry.command.args["title"], []))
            grouping = True
            continue
        if entry.command.name in (*NOT_REPLAYED, "wait") and _calls_in(entry.events):
            # `wait` and `ps` release nothing themselves: this came from outside
            items = _replays(f"during {typed_line(entry)}", entry.events)
        else:
            _add(steps, entry, grouping)
            items = []
        for item in items + _replays(f"after {typed_line(entry)}", entry.unasked):
            _add(steps, item, grouping)
    return steps


def _add(steps: list[tuple[str, list[Item]]], item: Item, grouping: bool) -> None:
    if steps and (grouping or isinstance(item, FromOutside)):
        steps[-1][1].append(item)
    else:
        steps.append((typed_line(item) if isinstance(item, Typed) else "From outside the session", [item]))


def _calls_in(events: tuple[Event, ...]) -> bool:
    return any(isinstance(e, CallEvent | ExitEvent) for e in events)


def _replays(when: str, came: tuple[Event, ...]) -> list[Item]:
    """What came from outside: EINTR (SIGINT, the only signal a process catches) replays as `interrupt NAME`,
    which sends it; nothing else can be replayed."""
    items: list[Item] = []
    for event in came:
        name = _interrupted(event)
        interrupt = parse(f"interrupt {name}") if name else None
        if interrupt is not None:
            items.append(Typed(interrupt, None, (event,), None))
        elif items and isinstance(items[-1], FromOutside):
            items[-1] = FromOutside(when, (*items[-1].events, event))
        else:
            items.append(FromOutside(when, (event,)))
    return items


def _interrupted(event: Event) -> str | None:
    """The process whose blocked call a signal ended with EINTR."""
    if (isinstance(event, CallEvent) and event.phase == "resumed" and event.outcome is not None
            and event.outcome.failed and event.outcome.errno == errno.EINTR):
        return event.process
    return None


def typed_line(entry: Typed) -> str:
    body = command_body(entry)
    prefix = _prefix(entry)
    return f"{prefix}: {body}" if prefix else body


def _prefix(entry: Typed) -> str:
    """The process a lesson line runs in: none when the command names it (`interrupt server`, `wait server`)."""
    return "" if entry.command.args.get("name") else entry.process or ""


def command_body(entry: Typed) -> str:
    """The command as typed, without its `NAME:` prefix."""
    text = entry.command.text
    if entry.command.process:
        text = text.split(":", 1)[1].strip() if ":" in text else text
    return text


def outside_lines(item: FromOutside) -> list[str]:
    """The transcript lines of what came from outside, without the `↳` explanations."""
    drawn = [plain([line]) for event in item.events for line in event_lines(event, CHECK_WIDTH)]
    return [line for line in drawn if not line.startswith("    ↳")]


def _action(item: Item) -> list[str]:
    """The command line, its expected output, and state checks; nothing for a command a lesson can't replay."""
    if isinstance(item, FromOutside):
        return ["# not replayed: this came from outside the session, and a lesson cannot do that",
                *(f"# {line}" for line in outside_lines(item))]
    entry = item
    if entry.command.name in NOT_REPLAYED or any(isinstance(e, UsageError) for e in entry.events):
        return []
    lines = [f"{_prefix(entry)}> {command_body(entry)}"]
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
        for event in (*entry.events, *entry.unasked):
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
