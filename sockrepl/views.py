"""Views that are not system calls: help, man and why drawn here; the snapshot views
handed to panel.py (state), listings.py (state --json, ss, ls) and timeline.py.

Pure: a View event in, lines of styled fragments out.
"""

from sockrepl.commands import ALIASES, GROUPS, REGISTRY, commands_in_group
from sockrepl.events import View
from sockrepl.fit import columns, wrap
from sockrepl.listings import ls_lines, ss_lines, state_json
from sockrepl.panel import panel_lines

SYNTAX_HELP = """\
Commands run in the current process (the prompt names it); NAME: COMMAND runs one in another.
Two forms, same meaning:   bind 3 srv.sock        bind(3, "srv.sock")
Strings are C strings:     "hello\\n"  "\\x00\\x01"  and "x"*1000 repeats (up to 4 MiB)
Constants are C's:         AF_UNIX  SOCK_STREAM|SOCK_NONBLOCK  MSG_PEEK|MSG_DONTWAIT  SHUT_WR
Addresses:                 srv.sock (in the scratch directory), /tmp/x.sock, @abstract, "" (autobind)
Lines starting with # are comments."""


OVERVIEW_LABELS = {"stream": "stream (phone)", "datagram": "datagram (mail)", "files": "socket files"}
OVERVIEW_HINT = ("help COMMAND: one command · help GROUP (e.g. help stream): its commands with their usage · "
                 "help all · help syntax · man CALL: a call")
LISTING_HINT = "help COMMAND: one command · help syntax: strings, constants · man CALL: a call"


def help_lines(topic: str | None, width: int = 80) -> list:
    if topic in (None, ""):
        return _overview(width)
    if topic == "all":
        return _listing(GROUPS, width)
    if topic in GROUPS:
        return _listing([topic], width)
    if topic == "syntax":
        return [[("", line)] for line in SYNTAX_HELP.splitlines()]
    name = ALIASES.get(topic, topic)
    spec = REGISTRY.get(name)
    if spec is None:
        return [[("class:error", f"no command {topic!r}")], [("class:hint", "hint: help lists the commands")]]
    lines = [[("class:usage", spec.usage)]]
    if spec.c_usage:
        lines.append([("class:dim", f"  C form: {spec.c_usage}")])
    lines.append([("", f"  {spec.summary}")])
    for paragraph in spec.details:
        lines += _wrapped("", paragraph, width, "  ", "  ")
    if spec.example:
        lines.append([("class:hint", f"  example: {spec.example}")])
    if spec.aliases:
        lines.append([("class:dim", f"  also: {', '.join(spec.aliases)}")])
    if spec.syscall:
        lines.append([("class:dim", f"  more: man {spec.name}")])
    return lines


def _overview(width: int) -> list:
    """One screen (the panel below it): each group's command names, wrapped at words under the names."""
    column = max(len(label) for label in (OVERVIEW_LABELS.get(group, group) for group in GROUPS)) + 2
    lines = []
    for group in GROUPS:
        names = " ".join(spec.name for spec in commands_in_group(group))
        label = OVERVIEW_LABELS.get(group, group).ljust(column - 1)  # wrap() puts a space after it
        for index, line in enumerate(wrap(names, width, label, " " * column)):
            lines.append([("class:heading", line[:column]), ("", line[column:])] if index == 0 else [("", line)])
    lines += [[("class:hint", line)] for line in wrap(OVERVIEW_HINT, width, "", "  ")]
    return lines


def _listing(groups, width: int) -> list:
    """Commands by group with usage and summary; a summary that does not fit beside its usage goes under it."""
    lines = []
    usages = [spec.usage for group in groups for spec in commands_in_group(group)]
    column = min(max(map(len, usages)) + 4, 34, max(width // 2, 16))
    for group in groups:
        lines.append([("class:heading", GROUPS[group])])
        for spec in commands_in_group(group):
            lines += [[("class:usage", usage), ("", summary)]
                      for usage, summary in columns(f"  {spec.usage}", spec.summary, width, column)]
    return lines + [[("class:hint", line)] for line in wrap(LISTING_HINT, width, "", "  ")]


def _wrapped(style: str, text: str, width: int, first: str, rest: str) -> list:
    """Text wrapped to the screen, the first line after `first`, the others indented by `rest`."""
    return [[(style, chunk)] for chunk in wrap(text, max(width, 30), first, rest)]


def man_lines(topic: str, width: int = 80) -> list:
    from sockrepl.manpages import lookup

    page = lookup(topic)
    spec = REGISTRY.get(ALIASES.get(topic, topic))
    if page is None and spec is not None and spec.details:
        return help_lines(spec.name, width)  # a command with a manual of its own (why)
    if page is None:
        return [[("class:error", f"no manual for {topic!r}")],
                [("class:hint", "hint: man works for the system calls, e.g. man accept")]]
    lines = [[("class:heading", f"{page.name}(2)")]]
    lines += [[("class:call", f"  {line}")] for line in page.synopsis.splitlines()]
    lines += _wrapped("", page.summary, width, "  ", "  ")
    lines += _wrapped("", page.returns, width, "RETURNS ", "  ")
    if page.errors:
        lines.append([("class:usage", "ERRORS")])
        column = max(len(name) for name, _ in page.errors) + 4
        for name, text in page.errors:
            lines += [[("class:error", left), ("", right)] for left, right in columns(f"  {name}", text, width, column)]
    for note in page.notes:
        lines += _wrapped("class:note", note, width, "  •", "    ")
    if page.see_also:
        lines.append([("class:dim", "SEE ALSO " + ", ".join(page.see_also))])
    return lines


def why_lines(reasons: list, width: int = 80) -> list:
    """The headline, then each reason with its evidence under it, saying where the evidence comes from."""
    lines: list = []
    for index, reason in enumerate(reasons):
        if reason.claim:
            indent = "" if index == 0 else "  "
            lines += _wrapped("class:heading" if index == 0 else "", reason.claim, width, indent, indent + "  ")
        if reason.evidence:
            where = "kernel, now" if reason.evidence_source == "kernel" else "session record"
            lines += _wrapped("class:dim", f"evidence ({where}): {reason.evidence}", width, "      ", "        ")
    return lines


def view_lines(view: View, width: int = 80) -> list:
    if view.kind == "help":
        return help_lines(view.data, width)
    if view.kind == "man":
        return man_lines(view.data, width)
    if view.kind == "timeline":
        from sockrepl.timeline import timeline_lines

        return timeline_lines(view.data.records, view.data.snapshot, width, view.data.last)
    if view.kind == "why":
        return why_lines(view.data, width)
    if view.kind == "state":
        return panel_lines(view.data, width)
    if view.kind == "state-json":
        return [[("", state_json(view.data))]]
    if view.kind == "ss":
        return ss_lines(view.data)
    if view.kind == "ls":
        return ls_lines(view.data)
    raise ValueError(f"unknown view {view.kind}")
