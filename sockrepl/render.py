"""The transcript: events drawn as strace-style lines of styled fragments.

A line is a list of (style, text) pairs, the format prompt_toolkit prints
natively; `plain()` joins the text for batch mode. Pure: no I/O, no rich.
"""

import stat

from sockrepl import constants as C
from sockrepl.commands import CONNECTED_SENDS, RECEIVES, Command
from sockrepl.events import (
    CallEvent,
    ExitEvent,
    Notice,
    Outcome,
    ProcessTable,
    SignalEvent,
    SpawnEvent,
    UsageError,
    View,
)
from sockrepl.explain import notes
from sockrepl.protocol import SOCKADDR_UN_SIZE, Address, Flags, Option, Pair, Passed, Received, Status
from sockrepl.quoting import c_string, result_text, sockaddr
from sockrepl.table import table_lines
from sockrepl.textsafe import visible
from sockrepl.theme import process_style

Fragments = list[tuple[str, str]]
FILE_TYPES = {stat.S_IFSOCK: "S_IFSOCK", stat.S_IFREG: "S_IFREG", stat.S_IFDIR: "S_IFDIR", stat.S_IFIFO: "S_IFIFO",
              stat.S_IFCHR: "S_IFCHR", stat.S_IFLNK: "S_IFLNK", stat.S_IFBLK: "S_IFBLK"}


def _addr_in(command: Command, outcome: Outcome | None) -> str:
    path = command.args["addr"]
    if outcome is not None and isinstance(outcome.out, Passed):
        length = outcome.out.addrlen
    else:
        length = command.args.get("addrlen") or 2 + len(path)
    return f"{sockaddr(path if path else None)}, {length}"


def _addr_out(outcome: Outcome | None) -> str:
    """The address a call returned; `recvfrom`'s is its sender's."""
    out = outcome.out if outcome is not None and not outcome.failed else None
    address = out.source if isinstance(out, Received) else out
    if not isinstance(address, Address):
        return "addr, addrlen"
    shown = "{}" if address.addrlen == 0 else sockaddr(address.addr, address.family)
    return f"{shown}, [{SOCKADDR_UN_SIZE} => {address.addrlen}]"


def _received(outcome: Outcome | None) -> str:
    if outcome is None or outcome.failed:
        return "buf"
    data = outcome.out.data if isinstance(outcome.out, Received) else None
    return c_string(data or b"")


def call_parts(command: Command, outcome: Outcome | None) -> tuple[str, str]:
    """The arguments strace prints when the call starts, and those it prints when it returns."""
    a = command.args
    name = command.name
    if name in ("socket", "socketpair"):
        head = f"{C.name_of(a['domain'], C.DOMAINS)}, {C.socket_type_text(a['type'])}, {a['protocol']}"
        if name == "socket":
            return head, ""
        fds = outcome.out.fds if outcome is not None and isinstance(outcome.out, Pair) else None
        return head + ", ", f"[{fds[0]}, {fds[1]}]" if fds else "sv"
    if name in ("bind", "connect"):
        return f"{a['fd']}, {_addr_in(command, outcome)}", ""
    if name == "listen":
        return f"{a['fd']}, {a['backlog']}", ""
    if name == "accept":
        if not a.get("want_addr"):
            return f"{a['fd']}, NULL, NULL", ""
        return f"{a['fd']}, ", _addr_out(outcome)
    if name in CONNECTED_SENDS:
        flags = f", {C.flag_names(a['flags'], C.MSG_FLAGS)}" if name == "send" else ""
        return f"{a['fd']}, {c_string(a['data'])}, {len(a['data'])}{flags}", ""
    if name == "sendto":
        flags = C.flag_names(a["flags"], C.MSG_FLAGS)
        return f"{a['fd']}, {c_string(a['data'])}, {len(a['data'])}, {flags}, {_addr_in(command, outcome)}", ""
    if name in RECEIVES:
        tail = f"{_received(outcome)}, {a['size']}"
        if name != "read":
            tail += f", {C.flag_names(a['flags'], C.MSG_FLAGS)}"
        if name == "recvfrom":
            tail += ", " + (_addr_out(outcome) if a.get("want_addr", True) else "NULL, NULL")
        return f"{a['fd']}, ", tail
    if name in ("close",):
        return f"{a['fd']}", ""
    if name == "shutdown":
        return f"{a['fd']}, {C.name_of(a['how'], C.SHUTDOWN_HOWS)}", ""
    if name in ("getsockname", "getpeername"):
        return f"{a['fd']}, ", _addr_out(outcome)
    if name == "getsockopt":
        head = f"{a['fd']}, {C.name_of(a['level'], C.SOCKOPT_LEVELS)}, {C.name_of(a['optname'], C.SOCKOPTS)}, "
        return head, _sockopt_value(a["optname"], outcome)
    if name == "setsockopt":
        opt = C.name_of(a["optname"], C.SOCKOPTS)
        return f"{a['fd']}, {C.name_of(a['level'], C.SOCKOPT_LEVELS)}, {opt}, [{a['value']}], 4", ""
    if name in ("unlink",):
        return c_string(a["path"], None), ""
    if name == "stat":
        return c_string(a["path"], None) + ", ", _stat_struct(outcome)
    if name == "open":
        return f"{c_string(a['path'], None)}, {C.flag_names(a['flags'], C.OPEN_FLAGS, zero='O_RDONLY')}", ""
    if name == "chmod":
        return f"{c_string(a['path'], None)}, {a['mode']:04o}", ""
    if name == "signal":
        return f"{C.signal_name(a['signal'])}, {'SIG_IGN' if a['action'] == 'ignore' else 'SIG_DFL'}", ""
    raise ValueError(f"no strace form for {name}")


def _sockopt_value(optname: int, outcome: Outcome | None) -> str:
    out = outcome.out if outcome is not None and not outcome.failed else None
    if not isinstance(out, Option) or out.value is None:
        return "optval, optlen"
    value, size = out.value, out.optlen
    if optname == C.SOCKOPTS["SO_PEERCRED"] and len(value) == 3:
        return f"{{pid={value[0]}, uid={value[1]}, gid={value[2]}}}, [{size}]"
    if optname == C.SOCKOPTS["SO_TYPE"]:
        return f"[{C.name_of(value[0], C.SOCKET_TYPES)}], [{size}]"
    return f"[{value[0]}], [{size}]"


def _stat_struct(outcome: Outcome | None) -> str:
    if outcome is None or outcome.failed or not isinstance(outcome.out, Status):
        return "statbuf"
    mode = outcome.out.mode
    kind = FILE_TYPES.get(stat.S_IFMT(mode), oct(stat.S_IFMT(mode)))
    return f"{{st_mode={kind}|{stat.S_IMODE(mode):04o}, st_size={outcome.out.size}, ...}}"


def _tag(process: str) -> tuple[str, str]:
    return (process_style(process), f"[{process}] ")


def _result_fragments(command: Command, outcome: Outcome) -> Fragments:
    style = "class:error" if outcome.failed else "class:ok"
    return [("", " = "), (style, result_text(command.name, outcome))]


def call_lines(event: CallEvent) -> list[Fragments]:
    command, outcome = event.command, event.outcome
    if command.name == "fcntl":
        return _fcntl_lines(event)
    before, after = call_parts(command, outcome)
    tag = _tag(event.process)
    if event.phase == "unfinished":
        return [[tag, ("class:call", command.name), ("", f"({before} "), ("class:blocked", "<unfinished ...>")]]
    if event.phase == "lost":
        return [[tag, ("class:resumed", f"<... {command.name} resumed>"), ("", " "),
                 ("class:blocked", "<unfinished ...>"), ("", ") = "), ("class:lost", "?")]]
    if event.phase == "resumed":
        line = [tag, ("class:resumed", f"<... {command.name} resumed>"), ("", f"{after})")]
    else:
        line = [tag, ("class:call", command.name), ("", f"({before}{after})")]
    if event.phase == "died" or outcome is None:
        return [[*line, ("", " = "), ("class:lost", "?")]]
    return [line + _result_fragments(command, outcome), *_notes(command, outcome)]


def _fcntl_lines(event: CallEvent) -> list[Fragments]:
    """`fcntl FD O_NONBLOCK on` is two calls in C: F_GETFL, then F_SETFL with the bit changed."""
    a, outcome, tag = event.command.args, event.outcome, _tag(event.process)
    if outcome is None:  # the process died in it (fcntl never blocks)
        first = f"F_SETFL, {C.flag_names(a['arg'], C.OPEN_FLAGS, zero='O_RDONLY')}" if a["cmd"] == "setfl" \
            else "F_GETFL"
        return [[tag, ("class:call", "fcntl"), ("", f"({a['fd']}, {first}) = "), ("class:lost", "?")]]
    lines = []
    if a["cmd"] in ("getfl", "nonblock"):
        read = outcome.out.getfl if isinstance(outcome.out, Flags) else None
        getfl = outcome.ret if a["cmd"] == "getfl" or read is None else read
        res = (f"-1 {C.errno_text(outcome.errno)}" if getfl == -1 else
               f"{getfl:#x} (flags {C.flag_names(getfl, C.OPEN_FLAGS, zero='O_RDONLY')})")
        lines.append([tag, ("class:call", "fcntl"), ("", f"({a['fd']}, F_GETFL) = "),
                      ("class:error" if getfl == -1 else "class:ok", res)])
        if getfl == -1:
            return lines + _notes(event.command, outcome)
    if a["cmd"] in ("setfl", "nonblock"):
        new = C.flag_names(outcome.out.newflags if isinstance(outcome.out, Flags) else 0, C.OPEN_FLAGS, zero="O_RDONLY")
        lines.append([tag, ("class:call", "fcntl"), ("", f"({a['fd']}, F_SETFL, {new})"),
                      *_result_fragments(event.command, outcome)])
        lines += _notes(event.command, outcome)
    return lines


def _notes(command: Command, outcome: Outcome) -> list[Fragments]:
    """An explanation line under a call for each thing there is to learn from it."""
    texts = notes(command, outcome)
    if command.assigned and not outcome.failed:  # `fd = socket(...)`: name what the variable holds
        texts = [f"{command.assigned} = {outcome.ret}: sockrepl keeps no variables, so type {outcome.ret} where "
                 f"C says {command.assigned}", *texts]
    return [[("class:note", f"    ↳ {text}")] for text in texts]


def exit_lines(event: ExitEvent) -> list[Fragments]:
    tag = _tag(event.process)
    if event.signal is not None:
        text = f"+++ killed by {C.signal_name(event.signal)} +++"
    else:
        text = f"+++ exited with {event.code} +++"
    lines = [[tag, ("class:exit", text)]]
    if event.at_exit:
        lines[0].append(("class:note", " (sockrepl is leaving)"))
    elif event.signal == C.SIGNALS["SIGPIPE"]:
        lines.append([("class:note", "    ↳ it wrote to a socket whose peer hung up: SIGPIPE's default action "
                                     "kills (signal NAME SIGPIPE ignore gives -1 EPIPE instead)")])
    return lines


def signal_lines(event: SignalEvent) -> list[Fragments]:
    name = C.signal_name(event.signal)
    text = {
        "stopped": f"--- stopped by {name} ---",
        "already": f"--- {name}: it was already stopped, nothing changes ---",
        "continued": f"--- {name}: continued ---",
        "nothing": f"--- {name}: it was not stopped, nothing changes ---",
        "ignored": f"--- {name} ignored ---",
        "caught": f"--- {name} caught (no call to interrupt) ---",
        "discarded": f"--- {name} discarded ---",
    }[event.effect]
    lines = [[_tag(event.process), ("class:signal", text)]]
    if event.effect == "discarded":
        lines.append([("class:note", "    ↳ the kernel drops job-control stops for a process with no terminal "
                                     "job control (an orphaned process group): SIGSTOP always stops")])
    return lines


def spawn_lines(event: SpawnEvent) -> list[Fragments]:
    started = ", ".join(f"{name} (pid {pid}{'' if uid is None else f', uid {uid}'})"
                        for name, pid, uid in event.processes)
    return [[("class:info", f"spawned {started}; current process: {event.current}")]]


def process_table_lines(table: ProcessTable) -> list[Fragments]:
    rows = [("", "NAME", "PID", "UID", "STATUS")]
    rows += [("*" if r.current else "", r.name, str(r.pid), str(r.uid), r.status) for r in table.rows]
    lines = table_lines(rows)
    if not table.rows:
        lines.append([("class:note", "no processes: spawn NAME starts one")])
    return lines


def usage_lines(event: UsageError) -> list[Fragments]:
    """Messages quote what was typed: each line is made visible, whatever built it."""
    lines = [[("class:error", f"error: {visible(event.message)}")]]
    if event.usage:
        lines.append([("class:usage", f"usage: {visible(event.usage)}")])
    if event.hint:
        lines.append([("class:hint", f"hint: {visible(event.hint)}")])
    return lines


def event_lines(event, width: int = 80) -> list[Fragments]:
    """Every event's lines. Views (state, ss, help...) are drawn by their own modules."""
    if isinstance(event, CallEvent):
        return call_lines(event)
    if isinstance(event, ExitEvent):
        return exit_lines(event)
    if isinstance(event, SignalEvent):
        return signal_lines(event)
    if isinstance(event, SpawnEvent):
        return spawn_lines(event)
    if isinstance(event, Notice):
        return [[(f"class:{event.kind}", visible(line))] for line in event.text.split("\n")]
    if isinstance(event, UsageError):
        return usage_lines(event)
    if isinstance(event, ProcessTable):
        return process_table_lines(event)
    if isinstance(event, View):
        from sockrepl.views import view_lines  # on first use: views bring the panel and wcwidth

        return view_lines(event, width)
    raise TypeError(f"cannot draw {event!r}")


def plain(lines: list[Fragments]) -> str:
    return "\n".join("".join(text for _, text in line) for line in lines)
