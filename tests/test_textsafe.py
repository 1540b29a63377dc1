"""`visible()`: nothing a terminal would act on survives, readable text stays as it is."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sockrepl.textsafe import visible


def test_escape_sequences_become_text():
    assert visible("a\x1b]52;c;QQ==\x07b") == "a\\e]52;c;QQ==\\x07b"
    assert visible("\x1b[2J") == "\\e[2J"
    assert visible("x\u202ey") == "x\\u202ey"
    assert visible("\x9b31m") == "\\x9b31m"
    assert visible("line\u2028sep") == "line\\u2028sep"


def test_undecodable_bytes_show_as_hex():
    raw = b"name\xff".decode("utf-8", "surrogateescape")
    assert visible(raw) == "name\\xff"


def test_readable_text_is_kept():
    for text in ("srv.sock", "é漢字 😀", "back 2"):
        assert visible(text) == text


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_no_control_or_surrogate_survives(text):
    shown = visible(text)
    shown.encode("utf-8")  # strict: no lone surrogate left
    assert not any(c in shown for c in "\x1b\x07\x9b\r\n")
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in shown)
