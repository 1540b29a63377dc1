"""Text from a user or a lesson file, made safe to print on a terminal.

A terminal obeys control bytes: ESC sequences can clear the screen, retitle the
window or write the clipboard (OSC 52), and bidi overrides reorder what is read.
Everything that did not come from sockrepl itself goes through `visible()`
before it is printed, in every mode and every message.
"""

import unicodedata

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or char in _BIDI


def visible(text: str) -> str:
    """`text` with every control, format (bidi, zero-width), unassigned or undecodable character escaped.

    Printable text (accents, CJK, emoji) is left alone; the result has no byte a
    terminal would act on and encodes to strict UTF-8.
    """
    if text.isprintable() and text.isascii():
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def visible_lines(text: str) -> str:
    """`visible()` for each line of a text meant to span lines: its newlines stay, nothing else does."""
    return "\n".join(visible(line) for line in text.split("\n"))


def escape_unencodable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler for the standard streams: what cannot be encoded is written as `visible()` escapes it.

    The last line of defence (a strict UTF-8 or ASCII stdout must never crash sockrepl):
    messages should already be `visible()`; this catches the one that is not.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(_escape(c) for c in error.object[error.start:error.end]), error.end
