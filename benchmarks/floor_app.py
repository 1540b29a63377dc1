"""The floor for the terminal measurements: a bare prompt_toolkit prompt that prints each line back.

A PromptSession with an 8-line bottom toolbar, driven like sockrepl's REPL
(prompt_async in one asyncio loop), printing `echo: LINE` with
print_formatted_text. Whatever sockrepl adds to a keystroke is measured
against this. Run as a script by benchmarks/keystrokes.py.
"""

import asyncio

from prompt_toolkit import PromptSession, print_formatted_text

TOOLBAR = "\n".join(f"toolbar line {n}: the floor's stand-in for the state panel" for n in range(1, 9))


async def main() -> None:
    session: PromptSession[str] = PromptSession("floor> ", bottom_toolbar=lambda: TOOLBAR)
    while True:
        try:
            line = await session.prompt_async()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        print_formatted_text(f"echo: {line}")


if __name__ == "__main__":
    asyncio.run(main())
