"""Carrying out `export`: draw the session in the format asked, write the file.

The session says what to write and where (an ExportJob in a View); the front end
that shows the session (REPL or `sockrepl run`) calls `carry_out`, because the
drawing belongs to the renderers (HTML and SVG to rich, in richtext.py). An existing
file is kept unless --force: the file is created with O_EXCL, so nothing that
appears meanwhile is overwritten either. Only a regular file is written: a FIFO would
block the prompt in open() until a reader came (O_NONBLOCK makes that ENXIO), a device
or directory is no handout.
"""

import errno
import os
import stat

from sockrepl.events import Event, Notice, UsageError, View
from sockrepl.state import ExportJob
from sockrepl.textsafe import visible

EXPORT_WIDTH = 100  # handouts: wide enough for a transcript line and four lanes


def carried_out(events: list[Event]) -> list[Event]:
    """`events` with each export done and replaced by what came of it."""
    return [carry_out(e.data) if isinstance(e, View) and e.kind == "export" else e for e in events]


def carry_out(job: ExportJob) -> Event:
    shown = visible(job.path)
    text = draw(job)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | (os.O_TRUNC if job.force else os.O_EXCL)
    try:
        fd = os.open(job.path, flags | os.O_CLOEXEC, 0o644)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return _not_a_file(job)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
    except FileExistsError:
        return UsageError(f"{shown} exists: export does not overwrite a file",
                          hint=f"export {job.format} PATH --force overwrites it, or give another PATH")
    except OSError as error:
        if isinstance(error, IsADirectoryError) or error.errno == errno.ENXIO:  # ENXIO: a FIFO nobody reads
            return _not_a_file(job)
        return UsageError(f"cannot write {shown}: {error.strerror}")
    done = f"exported the session as {job.format}: {shown}{_caveat(job)}"
    from sockrepl import exports

    outside = exports.from_outside(job.typed) if job.format == "lesson" else []
    if not outside:
        return Notice(done)
    return Notice("\n".join([
        done, "it will not pass --check as it is: a lesson replays only what its own processes do, and this came "
              "from outside the session (a program, a shell):",
        *(f"  {line}   ({item.when})" for item in outside
          for line in exports.outside_lines(item)),
        "a comment marks each place in the file: let one of the lesson's processes do it instead "
        "(e.g. a client that connects)"]), "warn")


def _not_a_file(job: ExportJob) -> UsageError:
    return UsageError(f"{visible(job.path)} is not a regular file: export writes only to a file",
                      hint=f"export {job.format} PATH --force with a file's PATH")


def draw(job: ExportJob) -> str:
    from sockrepl import exports  # on first use: the exporters bring the timeline and wcwidth, which a script
    # that never exports (`sockrepl run`) would load for nothing at every start

    if job.format == "lesson":
        return exports.lesson_text(job.typed)
    if job.format == "mermaid":
        return exports.mermaid_text(job.records, job.snapshot)
    parts = exports.sections(job.typed, job.records, job.snapshot, EXPORT_WIDTH)
    if job.format == "markdown":
        return exports.markdown_text(parts)
    from sockrepl.richtext import export_document

    return export_document(parts, EXPORT_WIDTH, job.format)


def _caveat(job: ExportJob) -> str:
    """What will keep an exported lesson from passing --check, said now rather than at the check."""
    if job.format != "lesson":
        return ""
    absolute = [t for t in job.typed if any(isinstance(t.command.args.get(k), bytes)
                                            and t.command.args[k].startswith(b"/") for k in ("addr", "path"))]
    if absolute:
        return " (it uses absolute paths, which a lesson may not: make them relative before --check)"
    return ""
