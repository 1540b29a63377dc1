"""Lexing of one command line: C strings, words, numbers, flag sets.

Pure functions; every failure is a `SyntaxProblem` whose message a student can
act on. Lines may carry undecodable bytes (batch input is read as bytes and
decoded with surrogateescape), so data turns back into the exact bytes typed.
"""

import re
from typing import NamedTuple

from sockrepl.textsafe import visible

SUN_PATH_MAX = 108
C_INT_MIN, C_INT_MAX = -(2**31), 2**31 - 1
DATA_MAX = 4 * 1024 * 1024
NUMBER_TEXT_MAX = 40  # longer than any C integer is written: refused before int() sees it (its 4300-digit limit)


class SyntaxProblem(Exception):
    """A line that cannot be understood; `hint` says what to type instead."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class Token(NamedTuple):
    """A word as typed. `data` holds the decoded bytes of a quoted C string."""

    text: str
    data: bytes | None = None

    @property
    def quoted(self) -> bool:
        return self.data is not None


_SIMPLE_ESCAPES = {
    "n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"', "'": b"'",
    "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v", "e": b"\x1b", "?": b"?",
}
_PROCESS_PREFIX = re.compile(r"^([A-Za-z_][\w.-]*)\s*[:>](?:\s+|$)(.*)$", re.S)
_NUMBER_LIKE = re.compile(r"[-+]?(0[xXoObB])?[0-9a-fA-F_]+")
_LEADING_ZERO = re.compile(r"-?0\d+")  # int(text, 0) refuses 010: read as decimal
_C_CALL = re.compile(r"^([A-Za-z_]\w*)\s*\((.*)\)\s*;?\s*$", re.S)
# `fd = socket(...)` and `int fd = socket(...)`, as written in C: the call, and the variable it names
_C_ASSIGN = re.compile(r"^(?:(?:const\s+)?(?:int|ssize_t|socklen_t)\s+)?"
                       r"([A-Za-z_]\w*)\s*=\s*(?=[A-Za-z_]\w*\s*\()(.*)$", re.S)


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def shown(text: str, limit: int = 40) -> str:
    """A word as typed, quoted for a message: undecodable bytes escaped, a long one cut."""
    word = visible(text)
    return "'" + (word if len(word) <= limit else word[: limit - 1] + "…") + "'"


def read_c_string(line: str, start: int) -> tuple[bytes, int]:
    """Decode the C string literal opening at line[start] (a quote).

    Returns its bytes and the index just past the closing quote.
    """
    quote = line[start]
    out = bytearray()
    i = start + 1
    while i < len(line):
        ch = line[i]
        if ch == quote:
            return bytes(out), i + 1
        if ch != "\\":
            out += encode(ch)
            i += 1
            continue
        if i + 1 >= len(line):
            break
        esc = line[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[esc]
            i += 2
        elif esc == "x":
            hex_digits = re.match(r"[0-9a-fA-F]{1,2}", line[i + 2 : i + 4])
            if not hex_digits:
                raise SyntaxProblem(r"\x needs one or two hex digits", r'e.g. "\x00" or "\xff"')
            out.append(int(hex_digits.group(), 16))
            i += 2 + len(hex_digits.group())
        elif esc in "01234567":
            octal = line[i + 1 : i + 4]
            digits = octal[: len(octal) - len(octal.lstrip("01234567"))]  # esc is the first: 1 to 3 of them
            out.append(int(digits, 8) & 0xFF)
            i += 1 + len(digits)
        else:
            raise SyntaxProblem(
                f"unknown escape \\{esc} in a string",
                r"known escapes: \n \t \r \\ \" \0 \xHH",
            )
    raise SyntaxProblem(f"unterminated string: missing closing {quote}", f"close the string with {quote}")


def _read_repeat(line: str, i: int) -> tuple[int, int]:
    """`*N` right after a string repeats it: "x"*1000000 is a megabyte."""
    match = re.match(r"\*([0-9]+)", line[i:])
    if not match:
        return 1, i
    digits = match.group(1)
    if len(digits) > len(str(DATA_MAX)):
        raise SyntaxProblem(f"a repeat count of {len(digits)} digits is over sockrepl's {DATA_MAX}-byte limit",
                            'try a smaller repeat, e.g. "x"*1000000')
    count = int(digits)
    return count, i + len(match.group())


def split_shell(line: str) -> list[Token]:
    """Split on blanks; quoted strings become data; `A | B` joins into `A|B`."""
    quoted = '"' in line or "'" in line  # most lines are not: str.split() splits where isspace() says
    tokens = _lex(line) if quoted else [Token(word) for word in line.split()]
    return _join_pipes(tokens) if "|" in line else tokens


def _lex(line: str) -> list[Token]:
    """Words and quoted strings, one character at a time."""
    tokens: list[Token] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            start = i
            data, i = read_c_string(line, i)
            count, i = _read_repeat(line, i)
            tokens.append(Token(line[start:i], _repeat(data, count)))
            continue
        j = i
        while j < len(line) and not line[j].isspace() and line[j] not in "\"'":
            j += 1
        tokens.append(Token(line[i:j]))
        i = j
    return tokens


def _repeat(data: bytes, count: int) -> bytes:
    if len(data) * count > DATA_MAX:
        raise SyntaxProblem(
            f"that string would be {len(data) * count} bytes; sockrepl sends at most {DATA_MAX}",
            'try a smaller repeat, e.g. "x"*1000000',
        )
    return data * count


def _join_pipes(tokens: list[Token]) -> list[Token]:
    joined: list[Token] = []
    for tok in tokens:
        if joined and not tok.quoted and not joined[-1].quoted and (
            tok.text.startswith("|") or joined[-1].text.endswith("|")
        ):
            joined[-1] = Token(joined[-1].text + tok.text)
        else:
            joined.append(tok)
    return joined


def split_c_args(text: str) -> list[Token]:
    """Split `3, "a,b", sizeof(x)` at top-level commas."""
    if not text.strip():
        return []
    tokens: list[Token] = []
    depth = 0
    i = 0
    current = ""
    data: bytes | None = None
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            start = i
            raw, i = read_c_string(text, i)
            count, i = _read_repeat(text, i)
            data = (data or b"") + _repeat(raw, count)
            current += text[start:i]
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            tokens.append(_c_token(current, data))
            current, data = "", None
        else:
            current += ch
        i += 1
    if depth:
        raise SyntaxProblem("unbalanced parentheses", "check the ( and ) of the call")
    tokens.append(_c_token(current, data))
    return tokens


def _c_token(text: str, data: bytes | None) -> Token:
    text = text.strip()
    if not text:
        raise SyntaxProblem("empty argument between commas", "remove the extra comma")
    if data is not None and not re.fullmatch(r"""(["']).*\1(\*\d+)?""", text, re.S):
        raise SyntaxProblem(f"cannot use {text!r} as an argument", 'write a plain string such as "hello"')
    return Token(text, data)


class Line(NamedTuple):
    """A line split into its parts, before the command table gives them meaning."""

    name: str
    tokens: list[Token]
    process: str | None
    c_form: bool
    assigned: str | None = None  # `fd` in `fd = socket(...)`


def split_line(line: str) -> Line | None:
    """None for a blank line or a comment."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    process = None
    prefix = _PROCESS_PREFIX.match(text) if ":" in text or ">" in text else None  # each regex only where it may
    if prefix:
        process, text = prefix.group(1), prefix.group(2).strip()
        if not text:
            return Line("use", [Token(process)], None, False)
    assigned = None
    assignment = _C_ASSIGN.match(text) if "=" in text else None
    if assignment and _C_CALL.match(assignment.group(2)):
        assigned, text = assignment.group(1), assignment.group(2)
    call = _C_CALL.match(text) if ")" in text else None
    if call:
        return Line(call.group(1), split_c_args(call.group(2)), process, True, assigned)
    tokens = split_shell(text)
    head = tokens[0]
    if head.quoted:
        raise SyntaxProblem("a line starts with a command name, not a string", "type help for the commands")
    return Line(head.text, tokens[1:], process, False)


def parse_int(text: str, what: str, low: int = C_INT_MIN, high: int = C_INT_MAX) -> int:
    if len(text) > NUMBER_TEXT_MAX:
        if _NUMBER_LIKE.fullmatch(text):
            raise SyntaxProblem(f"{what} {shown(text)} ({len(text)} characters) is out of range ({low}..{high})")
        raise SyntaxProblem(f"{what} must be a number, not {shown(text)}")
    try:
        if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):  # most numbers: 3, 1024
            value = int(text)
        else:
            value = int(text, 0) if not _LEADING_ZERO.fullmatch(text) else int(text, 10)
    except ValueError:
        raise SyntaxProblem(f"{what} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise SyntaxProblem(f"{what} {value} is out of range ({low}..{high})")
    return value


def parse_flags(text: str, table: dict[str, int], what: str, aliases: dict[str, str] | None = None) -> int:
    """`A|B|0x4` into a number; names from `table` only."""
    value = 0
    for part in text.split("|"):
        part = part.strip()
        if not part:
            raise SyntaxProblem(f"empty name in {what} {text!r}")
        name = (aliases or {}).get(part, part)
        if name in table:
            value |= table[name]
        elif re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", part):
            value |= parse_int(part, what)
        else:
            raise SyntaxProblem(f"unknown {what} {part!r}", "known: " + ", ".join(table))
    return value
