"""Colours of the style classes used in rendered fragments (`class:NAME`).

One table for both outputs: prompt_toolkit reads it as a Style, batch mode
with forced colour turns it into ANSI escapes.
"""

STYLES = {
    "proc.0": "#5fafff bold",
    "proc.1": "#ffaf5f bold",
    "proc.2": "#87d75f bold",
    "proc.3": "#d787d7 bold",
    "proc.4": "#5fd7d7 bold",
    "proc.5": "#d7d75f bold",
    "call": "bold",
    "ok": "#87d75f",
    "error": "#ff5f5f bold",
    "blocked": "#ffaf00 bold",
    "resumed": "#ffaf00",
    "lost": "#ff5f5f",
    "exit": "#ff5f5f bold",
    "signal": "#ffaf00",
    "note": "#8a8a8a italic",
    "info": "#8a8a8a",
    "warn": "#ffaf00",
    "usage": "bold",
    "hint": "#5fafff",
    "heading": "bold underline",
    "passive": "#d787d7 bold",
    "active": "#5fafff",
    "analogy": "#87afaf italic",
    "dim": "#6c6c6c",
    "stale": "#ff5f5f",
    "toolbar": "bg:#303030 #bcbcbc",
}

PROCESS_STYLES = 6  # proc.0 ... proc.5 above


def process_style(name: str) -> str:
    """A process name's colour: the same name always gets the same one."""
    return f"class:proc.{sum(name.encode()) % PROCESS_STYLES}"


_SGR = {"bold": "1", "italic": "3", "underline": "4"}


def ansi_sgr(style: str) -> str:
    """`#ff5f5f bold` as an SGR sequence (24-bit colour)."""
    codes = []
    for word in style.split():
        if word in _SGR:
            codes.append(_SGR[word])
        elif word.startswith("#") and len(word) == 7:
            r, g, b = (int(word[i : i + 2], 16) for i in (1, 3, 5))
            codes.append(f"38;2;{r};{g};{b}")
    return f"\x1b[{';'.join(codes)}m" if codes else ""


def ansi(lines) -> str:
    """Fragments with their colours, for a terminal."""
    out = []
    for line in lines:
        text = ""
        for style, chunk in line:
            sgr = "".join(ansi_sgr(STYLES.get(part[6:], "")) for part in style.split() if part.startswith("class:"))
            text += f"{sgr}{chunk}\x1b[0m" if sgr else chunk
        out.append(text)
    return "\n".join(out)
