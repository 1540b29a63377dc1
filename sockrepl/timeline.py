"""`timeline`: the session as a sequence diagram, one lane per process, time flowing down.

Each call sits on its process's lane in strace's short form (`accept(3) = 4`); a
blocked call is a bar (┏ ┃ ┗) from its start to its resumption; an arrow runs
from the lane of a call to the call it caused, as ties.py found them from the
kernel's inodes. Pure: records and a snapshot in, styled lines out, exact at a
given width (wcwidth columns), so it is tested to the character like the panel.
"""

from dataclasses import dataclass

from wcwidth import wcwidth

from sockrepl import constants as C
from sockrepl.calllog import ExitRecord, Record
from sockrepl.commands import CONNECTED_SENDS, RECEIVES, Command
from sockrepl.events import Outcome
from sockrepl.protocol import Pair, Received
from sockrepl.quoting import c_string, result_text, sun_path
from sockrepl.state import Snapshot
from sockrepl.textsafe import visible
from sockrepl.ties import Tie, ties

Fragments = list[tuple[str, str]]
GUTTER = 5  # "  12 ": the row's number in the session's log
MIN_LANE = 15  # 80 columns hold 5 lanes
DATA_SHOWN = 12
LEGEND = ("┏┃┗ a blocked call", "─▶ the kernel tied two calls", "# the log's numbering")  # what fits, in order


@dataclass(frozen=True)
class Row:
    """One record drawn on one lane."""

    seq: int
    lane: str
    text: str
    style: str
    bar: str  # "start" | "end" | "" : where a blocked call's bar begins and ends


def short_form(command: Command, outcome: Outcome | None, data: int = DATA_SHOWN) -> str:
    """`accept(3) = 4`: the call's name, the arguments that tell it apart, its result."""
    args = ", ".join(_short_args(command, outcome, data))
    result = "?" if outcome is None else result_text(command.name, outcome, explained=False)
    return f"{command.name}({args}) = {result}"


def _short_args(command: Command, outcome: Outcome | None, data: int) -> list[str]:
    a, name = command.args, command.name
    fd = [str(a["fd"])] if "fd" in a else []
    if name in ("socket", "socketpair"):
        fds = outcome.out.fds if outcome is not None and isinstance(outcome.out, Pair) else None
        return [C.socket_type_text(a["type"])] + ([f"[{fds[0]}, {fds[1]}]"] if fds else [])
    if name in ("bind", "connect"):
        return [*fd, sun_path(a["addr"]) if a["addr"] else '""']
    if name == "listen":
        return [*fd, str(a["backlog"])]
    if name in CONNECTED_SENDS:
        return [*fd, c_string(a["data"], data)]
    if name == "sendto":
        return [*fd, c_string(a["data"], data), sun_path(a["addr"]) if a["addr"] else '""']
    if name in RECEIVES:
        got = outcome.out.data if outcome is not None and isinstance(outcome.out, Received) else None
        return fd + ([c_string(got, data)] if got else [])
    if name == "shutdown":
        return [*fd, C.name_of(a["how"], C.SHUTDOWN_HOWS)]
    if name in ("unlink", "stat", "open", "chmod"):
        return [c_string(a["path"], data)]
    if name == "signal":
        return [C.signal_name(a["signal"]), "SIG_IGN" if a["action"] == "ignore" else "SIG_DFL"]
    if name in ("getsockopt", "setsockopt"):
        return [*fd, C.name_of(a["optname"], C.SOCKOPTS)]
    if name == "fcntl":
        switch = "on" if a.get("arg") is True else "off" if a.get("arg") is False else a.get("arg")
        return [*fd, {"getfl": "F_GETFL", "setfl": "F_SETFL"}.get(a["cmd"], f"O_NONBLOCK {switch}")]
    return fd


def rows_of(records: tuple[Record, ...]) -> list[Row]:
    rows = []
    for record in records:
        if isinstance(record, ExitRecord):
            how = f"killed by {C.signal_name(record.signal)}" if record.signal else f"exited with {record.code}"
            text = f"+++ {how} +++"
            rows.append(Row(record.seq, record.process, f"kill ▶ {text}" if record.sent_by_user else text,
                            "class:exit", ""))
            continue
        command, outcome = record.command, record.outcome
        if record.phase == "unfinished":
            head = short_form(command, None).removesuffix(" = ?")
            rows.append(Row(record.seq, record.process, f"{head} …", "class:blocked", "start"))
            continue
        style = "class:error" if outcome is not None and outcome.failed else "class:call"
        if outcome is None:
            style = "class:lost"
        bar = "end" if record.phase in ("resumed", "lost") else ""
        rows.append(Row(record.seq, record.process, short_form(command, outcome), style, bar))
    return rows


def timeline_lines(records: tuple[Record, ...], snapshot: Snapshot | None, width: int = 80,
                   last: int | None = None) -> list[Fragments]:
    """The diagram of the last `last` records (all when None), fitted to `width` columns."""
    rows = rows_of(records)
    if not rows:
        return [[("class:note", "no calls yet: the timeline draws the calls the session makes")]]
    shown = rows[-last:] if last else rows
    first_seq = shown[0].seq
    links = [t for t in ties(records, snapshot) if (t.target or t.source) >= first_seq]
    lanes, folded = _lanes(rows, shown, links, width)
    lane_width = max(MIN_LANE, (width - GUTTER) // max(1, len(lanes)))
    columns = {lane: GUTTER + index * lane_width for index, lane in enumerate(lanes)}
    lines = [_header(lanes, columns, lane_width, width)]
    open_bars = _bars_open_before(rows, first_seq)
    lane_of = {row.seq: row.lane for row in rows}
    for row in shown:
        if row.lane not in columns:
            continue
        lines.append(_row_line(row, columns, lane_width, width, open_bars, links, lane_of))
    if folded:
        hidden = sum(1 for row in shown if row.lane in folded)
        calls = "1 call" if hidden == 1 else f"{hidden} calls"
        lines.append([("class:note", _fit(f"folded: {', '.join(visible(f) for f in folded)} "
                                          f"({calls} not shown: a wider screen shows more lanes)", width))])
    lines.append([("class:dim", _legend(width))])
    return lines


def _legend(width: int) -> str:
    """The legend's whole items that fit the width (on a projector's 60 columns, not the numbering's)."""
    shown = list(LEGEND[:1])
    for item in LEGEND[1:]:
        if text_width("   ".join([*shown, item])) > width:
            break
        shown.append(item)
    return _fit("   ".join(shown), width)


def _lanes(rows: list[Row], shown: list[Row], links: list[Tie], width: int) -> tuple[list[str], list[str]]:
    """Processes in order of their first call; beyond what fits, the ones least involved fold."""
    order = list(dict.fromkeys(row.lane for row in rows))
    present = {row.lane for row in shown}
    by_seq = {row.seq: row.lane for row in rows}
    tied = {lane for tie in links for lane in (tie.lane, by_seq.get(tie.source))}
    present |= {lane for lane in tied if lane}
    lanes = [lane for lane in order if lane in present]
    room = max(1, (width - GUTTER) // MIN_LANE)
    if len(lanes) <= room:
        return lanes, []
    activity = {lane: sum(1 for row in shown if row.lane == lane) for lane in lanes}
    keep = set(sorted(lanes, key=lambda lane: (lane not in tied, -activity[lane], order.index(lane)))[:room])
    return [lane for lane in lanes if lane in keep], [lane for lane in lanes if lane not in keep]


def _bars_open_before(rows: list[Row], first_seq: int) -> set[str]:
    """Lanes whose blocked call started before the window."""
    open_bars: set[str] = set()
    for row in rows:
        if row.seq >= first_seq:
            break
        if row.bar == "start":
            open_bars.add(row.lane)
        elif row.bar == "end" or row.style == "class:exit":
            open_bars.discard(row.lane)
    return open_bars


class Canvas:
    """One line as terminal cells: a wide character takes two, a combining one none."""

    def __init__(self, width: int):
        self.cells: list[tuple[str, str]] = [(" ", "")] * width

    def put(self, column: int, text: str, style: str) -> int:
        for char in text:
            size = wcwidth(char)
            if size == 0 and column > 0:
                previous, kept = self.cells[column - 1]
                self.cells[column - 1] = (previous + char, kept)
                continue
            size = 2 if size == 2 else 1
            if column + size > len(self.cells):
                break
            self.cells[column] = (char, style)
            if size == 2:
                self.cells[column + 1] = ("", style)
            column += size
        return column

    def fragments(self) -> Fragments:
        cells = self.cells[:]
        while cells and cells[-1] == (" ", ""):
            cells.pop()
        out: Fragments = []
        for char, style in cells:
            if out and out[-1][0] == style:
                out[-1] = (style, out[-1][1] + char)
            else:
                out.append((style, char))
        return out


def text_width(text: str) -> int:
    return sum(0 if wcwidth(c) == 0 else 2 if wcwidth(c) == 2 else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Cut to `width` columns, with … at the cut."""
    if text_width(text) <= width:
        return text
    out, used = "", 0
    for char in text:
        size = text_width(char)
        if used + size > width - 1:
            break
        out, used = out + char, used + size
    return out + "…"


def _fit_call(text: str, width: int) -> str:
    """A call too long for its lane keeps its name and result: `write(4, …) = 14`, `connect(…) = -1 ECONN…`."""
    if text_width(text) <= width or "(" not in text:
        return _fit(text, width)
    head, rest = text.split("(", 1)
    args, _, result = rest.rpartition(") = ") if ") = " in rest else (rest.removesuffix(")"), "", "")
    tail = f" = {result}" if result else ""
    first = args.split(", ", 1)[0]
    for candidate in (f"{head}({first}, …){tail}", f"{head}(…){tail}"):
        if text_width(candidate) <= width and candidate != text:
            return candidate
    if result and width - text_width(f"{head} = ") >= 3:
        return f"{head} = " + _fit(result, width - text_width(f"{head} = "))
    return _fit(text, width)


def _header(lanes: list[str], columns: dict[str, int], lane_width: int, width: int) -> Fragments:
    canvas = Canvas(width)
    canvas.put(0, "   #", "class:dim")
    for lane in lanes:
        canvas.put(columns[lane], _fit(visible(lane), lane_width - 1), "class:heading")
    return canvas.fragments()


def _row_line(row: Row, columns: dict[str, int], lane_width: int, width: int,
              open_bars: set[str], links: list[Tie], lane_of: dict[int, str]) -> Fragments:
    canvas = Canvas(width)
    canvas.put(0, f"{row.seq:>4}", "class:dim")
    for lane in open_bars:
        if lane != row.lane and lane in columns:
            canvas.put(columns[lane], "┃", "class:blocked")
    incoming = [t for t in links if t.target == row.seq]
    outgoing = [t for t in links if t.target is None and t.source == row.seq]
    start = columns[row.lane]
    others = [columns.get(lane_of.get(t.source, "") if t.target is not None else t.lane, 0)
              for t in incoming + outgoing]
    bars = [columns[lane] for lane in open_bars if lane in columns and lane != row.lane]
    limit = min([width + 1] + [c for c in bars if c > start] + [c - 3 for c in others if c > start])
    room = max(lane_width, limit - start) - 1  # a call may run over the empty lanes on its right
    if row.bar:
        canvas.put(start, "┏ " if row.bar == "start" else "┗ ", "class:blocked")
        text = _fit_call(row.text.removesuffix(" …"), room - 4) + " …" if row.bar == "start" else \
            _fit_call(row.text, room - 2)
        end = canvas.put(start + 2, text, row.style)
    else:
        end = canvas.put(start, _fit_call(row.text, room), row.style)
    for tie in incoming + outgoing:
        source_lane = lane_of.get(tie.source) if tie.target is not None else tie.lane
        if source_lane not in columns or source_lane == row.lane:
            continue
        _arrow(canvas, columns[source_lane], start, end, tie, towards_row=tie.target is not None)
    if row.bar == "start":
        open_bars.add(row.lane)
    elif row.bar == "end" or row.style == "class:exit":
        open_bars.discard(row.lane)
    return canvas.fragments()


def _arrow(canvas: Canvas, other: int, start: int, end: int, tie: Tie, towards_row: bool) -> None:
    """A horizontal arrow between the row's text and another lane's column, its label inside when it fits."""
    if other < start:  # the other lane is on the left
        left, right = other, start - 2
        body = ["└" if towards_row else "◀"] + ["─"] * (right - left - 1) + ["▶" if towards_row else "─"]
    else:
        left, right = end + 1, other
        body = ["◀" if towards_row else "─"] + ["─"] * (right - left - 1) + ["┘" if towards_row else "▶"]
    if right - left < 2:
        return
    label = f" {tie.label} " if tie.label else ""
    if label and text_width(label) <= len(body) - 4:
        middle = (len(body) - len(label)) // 2
        body[middle:middle + len(label)] = list(label)
    for offset, char in enumerate(body):
        column = left + offset
        crossing = canvas.cells[column][0] == "┃" and char == "─"
        canvas.put(column, "╂" if crossing else char, "class:hint")
