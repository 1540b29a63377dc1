"""What to offer at the cursor, and how to colour the line being typed. Pure functions.

The REPL wraps these in prompt_toolkit's Completer and Lexer; tests call them
directly with tables of cases.
"""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from sockrepl import constants as C
from sockrepl.commands import ALIASES, GROUPS, IN_A_PROCESS, REGISTRY, Param

WORD_BREAK = re.compile(r"[\s,()|]")
PREFIX = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*[:>]\s+")


class Context(NamedTuple):
    """What the session holds right now, for completing names, fds and paths."""

    processes: tuple[str, ...] = ()
    current: str | None = None
    fds: Mapping[str, tuple[tuple[int, str], ...]] = MappingProxyType({})  # process -> (fd, description)
    files: tuple[str, ...] = ()
    lessons: tuple[str, ...] = ()


class Suggestion(NamedTuple):
    """One completion: the text, where it replaces from, and what it is."""

    text: str
    start: int  # where the replaced word starts, relative to the cursor (<= 0)
    meta: str = ""


KIND_WORDS = {
    "domain": list(C.DOMAINS),
    "socktype": [*C.SOCKET_TYPES, *C.SOCKET_TYPE_FLAGS],
    "msgflags": list(C.MSG_FLAGS),
    "how": list(C.SHUTDOWN_HOWS),
    "level": list(C.SOCKOPT_LEVELS),
    "optname": list(C.SOCKOPTS),
    "signal": list(C.SIGNALS),
    "disposition": ["ignore", "default"],
    "fcntlop": ["O_NONBLOCK", "F_GETFL", "F_SETFL"],
    "fcntlarg": ["on", "off", "O_RDWR|O_NONBLOCK"],
    "openflags": list(C.OPEN_FLAGS),
}


def suggest(text: str, context: Context) -> list[Suggestion]:
    """Suggestions for the word that ends at the cursor (the end of `text`)."""
    word = WORD_BREAK.split(text)[-1]
    start = -len(word)
    prefix = PREFIX.match(text)
    process = prefix.group(1) if prefix else context.current
    body = text[prefix.end():] if prefix else text
    head = body.lstrip()
    if not re.search(r"[\s(]", head):
        return _first_word(word, start, context, with_processes=prefix is None)
    name_match = re.match(r"[A-Za-z_]\w*", head)
    if name_match is None:
        return []
    name = name_match.group()
    spec = REGISTRY.get(ALIASES.get(name, name))
    if spec is None:
        return []
    c_form = "(" in head.split()[0] or head[len(name):].lstrip().startswith("(")
    params = spec.c if (c_form and spec.c is not None) else spec.shell
    index = _argument_index(head[len(name):], c_form)
    candidates = _for_params(_params_at(params, index), spec.name, process, context)
    return [Suggestion(t, start, meta) for t, meta in candidates if t.startswith(word) and t != word]


def _first_word(word: str, start: int, context: Context, with_processes: bool) -> list[Suggestion]:
    """A command's name (after a `NAME:` prefix, only those that run in a process), or a prefix."""
    found = [Suggestion(name, start, spec.summary) for name, spec in REGISTRY.items()
             if name.startswith(word) and (with_processes or spec.runs in IN_A_PROCESS)]
    if with_processes:
        found += [Suggestion(f"{p}:", start, "run one command in this process")
                  for p in context.processes if p.startswith(word)]
    return found


def _argument_index(rest: str, c_form: bool) -> int:
    """Which argument the cursor is in (0-based), counting words or commas."""
    if c_form:
        inside = rest.split("(", 1)[1] if "(" in rest else ""
        return len(re.findall(r",", re.sub(r'"(\\.|[^"\\])*"', '""', inside)))
    stripped = re.sub(r'"(\\.|[^"\\])*"', "S", rest)
    words = stripped.split()
    words = [w for w in words if not w.startswith("--")]
    finished = len(words) if rest.endswith((" ", "\t")) else len(words) - 1
    return max(finished, 0)


def _params_at(params: tuple[Param, ...], index: int) -> list[Param]:
    """The parameter(s) the index may be: an optional one that can be skipped lets the next one in too."""
    found: list[Param] = []
    position = 0
    for param in params:
        if param.kind == "names" and position <= index:
            return [param]
        if position == index:
            found.append(param)
            if not param.skip_unless_fits:
                return found
            continue
        position += 1
    return found


def _for_params(params: list[Param], command: str, process: str | None, context: Context) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for param in params:
        kind = param.kind
        if kind == "fd":
            out += [(str(fd), desc) for fd, desc in context.fds.get(process or "", ())]
        elif kind == "name" or (kind == "names" and command != "spawn"):
            out += [(p, "process") for p in context.processes]
        elif kind in ("addr", "path"):
            out += [(f, "socket file") for f in context.files]
        elif kind == "word" and command in ("help", "man"):
            pool = REGISTRY.values() if command == "help" else (s for s in REGISTRY.values() if s.syscall)
            out += [(s.name, s.summary) for s in pool]
            if command == "help":
                out += [(group, "its commands with their usage") for group in GROUPS if group not in REGISTRY]
                out += [("all", "every command with its usage"), ("syntax", "strings, constants, addresses")]
        elif kind == "word" and command == "lesson":
            out += [(name, "lesson") for name in ("list", *context.lessons)]
        else:
            out += [(w, "") for w in KIND_WORDS.get(kind, ())]
    return out


_TOKEN = re.compile(r'(?P<string>"(\\.|[^"\\])*"?(\*\d+)?)|(?P<word>[A-Za-z_@./-][\w@./-]*)|(?P<number>-?\d+)'
                    r"|(?P<space>\s+)|(?P<other>.)")


def highlight(line: str) -> list[tuple[str, str]]:
    """Style fragments for the command line: the command, constants, strings, numbers."""
    fragments: list[tuple[str, str]] = []
    prefix = PREFIX.match(line)
    rest = line
    if prefix:
        fragments.append(("class:prefix", line[: prefix.end()]))
        rest = line[prefix.end():]
    first = True
    for match in _TOKEN.finditer(rest):
        kind, text = match.lastgroup or "", match.group()
        if kind == "word" and first:
            known = text in REGISTRY or text in ALIASES
            fragments.append(("class:call" if known else "class:error", text))
            first = False
            continue
        style = {
            "string": "class:string",
            "number": "class:number",
            "word": "class:constant" if text in C.ALL_CONSTANTS else "",
        }.get(kind, "")
        fragments.append((style, text))
        if kind != "space":
            first = False
    return fragments
