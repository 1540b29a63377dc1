"""A line becomes a `Command`: its words, split by syntax.py, bound to its registry entry's parameters.

Pure (no I/O). Every message names what went wrong, the command's usage and a hint.
"""

import difflib
from typing import Any

from sockrepl.arguments import CONVERTERS, FITS, name
from sockrepl.commands import ALIASES, IN_A_PROCESS, REGISTRY, Command, Spec
from sockrepl.syntax import Line, SyntaxProblem, Token, shown, split_line
from sockrepl.textsafe import visible


class ParseError(Exception):
    """A malformed line: a message, the command's usage line and a hint; `command`: the command it
    names, when its first word is one."""

    def __init__(self, message: str, usage: str | None = None, hint: str | None = None,
                 command: str | None = None):
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.hint = hint
        self.command = command


def parse(line: str) -> Command | None:
    """Parse one line; None for blank lines and comments; ParseError otherwise."""
    try:
        split = split_line(line)
    except SyntaxProblem as problem:
        raise ParseError(problem.message, None, problem.hint) from None
    if split is None:
        return None
    name = ALIASES.get(split.name, split.name)
    spec = REGISTRY.get(name)
    if spec is None:
        raise ParseError(f"unknown command {shown(split.name)}", None, _suggest(split.name))
    if split.process is not None and spec.runs not in IN_A_PROCESS:
        process = visible(split.process)
        raise ParseError(f"{name} is sockrepl's own command: it does not run in a process", spec.usage,
                         f"type {name} alone, without the `{process}` prefix" + (f" (to end {process}: kill {process})"
                                                                 if spec.runs == "leave" else ""), name)
    if spec.runs == "leave" and split.c_form and not split.tokens:  # exit(), as a Python user types it
        return Command(name, {}, None, line.strip())
    try:
        args = _bind_args(spec, split)
        if spec.check:
            spec.check(args)
        _one_process(name, split.process, args.get("name"))
    except SyntaxProblem as problem:
        raise ParseError(f"{name}: {problem.message}", _usage_for(spec, split.c_form), problem.hint, name) from None
    return Command(name, args, split.process, line.strip(), split.c_form, split.assigned)


def _one_process(name: str, prefix: str | None, named: str | None) -> None:
    """`a: wait b` names two processes: which one it meant is not for sockrepl to guess."""
    if prefix is not None and named is not None and named != prefix:
        raise SyntaxProblem(f"the `{visible(prefix)}:` prefix and NAME {visible(named)} name two processes",
                            f"name it once: {name} {visible(named)}, or {visible(prefix)}: {name}")


def _usage_for(spec: Spec, c_form: bool) -> str:
    return (spec.c_usage if c_form and spec.c_usage else spec.usage)


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(word, [*REGISTRY, *ALIASES], n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}? (help lists the commands)"
    return "help lists the commands"


def _bind_args(spec: Spec, line: Line) -> dict[str, Any]:
    tokens = list(line.tokens)
    args: dict[str, Any] = {}
    if not line.c_form:
        tokens = _take_options(spec, tokens, args)
    elif not spec.syscall:
        raise SyntaxProblem(f"{spec.name} is a sockrepl command, not a system call", f"type it as: {spec.usage}")
    params = spec.c if (line.c_form and spec.c is not None) else spec.shell
    unquoted_data = False  # `send 3 hello world`: the second word lands on the next parameter
    for index, param in enumerate(params):
        if param.kind == "names":
            if not tokens:
                raise SyntaxProblem("give at least one name")
            args[param.name] = [_process_name(t) for t in tokens]
            if len(args[param.name]) != len(set(args[param.name])):
                raise SyntaxProblem("a name appears twice")
            tokens = []
            continue
        fits = FITS.get(param.kind)
        if param.skip_unless_fits and tokens and (  # the parameters still required: counted only when asked
            (fits and not fits(tokens[0])) or len(tokens) <= sum(1 for p in params[index + 1 :] if not p.optional)
        ):
            args[param.name] = param.default
            continue
        if not tokens:
            if not param.optional:
                raise SyntaxProblem(f"missing {param.usage()}")
            args[param.name] = param.default
            continue
        token = tokens.pop(0)
        try:
            args[param.name] = _process_name(token) if param.kind == "name" else CONVERTERS[param.kind](token)
        except SyntaxProblem as problem:
            raise SyntaxProblem(problem.message, _quote_hint(spec, unquoted_data) or problem.hint) from None
        if param.kind == "data" and not token.quoted and not line.c_form:
            unquoted_data = True
    if tokens:
        raise SyntaxProblem(f"too many arguments (unexpected {tokens[0].text!r})", _quote_hint(spec, unquoted_data))
    ignored = {p.name for p in params if p.kind == "ignore"}
    return {k: v for k, v in args.items() if k not in ignored}


def _quote_hint(spec: Spec, unquoted_data: bool) -> str | None:
    """Said when a DATA argument was an unquoted word and the line then went wrong."""
    if not unquoted_data:
        return None
    return f'a string with spaces goes in double quotes, as in C: {spec.name} 3 "hello world" ...'


def _take_options(spec: Spec, tokens: list[Token], args: dict) -> list[Token]:
    rest = []
    i = 0
    for key in spec.options:
        args[key.lstrip("-").replace("-", "_")] = None if spec.options[key] else False
    while i < len(tokens):
        tok = tokens[i]
        if not tok.quoted and tok.text.startswith("--"):
            if tok.text not in spec.options:
                known = ", ".join(spec.options) or "none"
                raise SyntaxProblem(f"unknown option {tok.text}", f"options of {spec.name}: {known}")
            key = tok.text.lstrip("-").replace("-", "_")
            if spec.options[tok.text]:
                if i + 1 >= len(tokens):
                    raise SyntaxProblem(f"{tok.text} needs a value")
                args[key] = CONVERTERS["word"](tokens[i + 1])  # a quoted value is its string
                i += 2
                continue
            args[key] = True
        else:
            rest.append(tok)
        i += 1
    return rest


def _process_name(tok: Token) -> str:
    """A process name, which must not read as a command either."""
    text = name(tok)
    if text in REGISTRY or text in ALIASES:
        raise SyntaxProblem(f"{text!r} is a command or constant name, not a process name", "try server, client, c1")
    return text
