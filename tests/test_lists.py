"""Lists (`help GROUP`, the lesson list, an exercise's goal) wrap at words, under their description column,
measured in terminal cells: exact text at 60 and 80 columns."""

import io

import pytest

from sockrepl.fit import cells, columns, hanging
from sockrepl.lessons_cli import list_lessons
from sockrepl.render import plain
from sockrepl.views import help_lines, man_lines

STREAM_AT_60 = """\
stream: the phone
  listen FD BACKLOG      make a socket passive: turn the
                         ringer on; BACKLOG bounds pending
                         calls
  accept FD              take the next pending connection:
                         pick up the phone (waits if none)
  connect FD PATH        connect to a listening socket's
                         address: dial its number
  send FD DATA [FLAGS]   send bytes on a connected socket
                         (talk)
  write FD DATA          write bytes to an fd (send without
                         flags)
  recv FD [LEN] [FLAGS]  receive up to LEN bytes (default
                         1024); 0 means the peer hung up
                         (EOF)
  read FD [LEN]          read up to LEN bytes from an fd
                         (default 1024); 0 is EOF
  shutdown FD HOW        close one direction: SHUT_WR says
                         'I am done talking' (peer reads
                         EOF)
help COMMAND: one command · help syntax: strings, constants
  · man CALL: a call"""

STREAM_AT_80 = """\
stream: the phone
  listen FD BACKLOG      make a socket passive: turn the ringer on; BACKLOG
                         bounds pending calls
  accept FD              take the next pending connection: pick up the phone
                         (waits if none)
  connect FD PATH        connect to a listening socket's address: dial its
                         number
  send FD DATA [FLAGS]   send bytes on a connected socket (talk)
  write FD DATA          write bytes to an fd (send without flags)
  recv FD [LEN] [FLAGS]  receive up to LEN bytes (default 1024); 0 means the
                         peer hung up (EOF)
  read FD [LEN]          read up to LEN bytes from an fd (default 1024); 0 is
                         EOF
  shutdown FD HOW        close one direction: SHUT_WR says 'I am done talking'
                         (peer reads EOF)
help COMMAND: one command · help syntax: strings, constants · man CALL: a call"""


@pytest.mark.parametrize(("width", "expected"), [(60, STREAM_AT_60), (80, STREAM_AT_80)])
def test_a_help_group_wraps_each_summary_under_the_summaries(width, expected):
    assert plain(help_lines("stream", width)) == expected


@pytest.mark.parametrize("width", [60, 80, 120])
def test_no_help_or_man_line_is_wider_than_the_screen(width):
    """All but a manual's C synopsis, which is code: the terminal may wrap it, sockrepl does not."""
    texts = [plain(help_lines("all", width))] + [plain(man_lines(call, width)).split("RETURNS", 1)[1]
                                                 for call in ("connect", "sendto", "accept")]
    assert [line for text in texts for line in text.splitlines() if cells(line) > width] == []


def test_a_manual_error_wraps_under_its_meaning():
    errors = plain(man_lines("connect", 60)).split("ERRORS\n")[1].splitlines()
    assert errors[1:3] == ["  ECONNREFUSED  a file, but nobody listens (stale, or not",
                           "                listening yet)"]


BUILT_IN_AT_60 = """\
UNIX domain sockets
   1  addresses        socket(), domains, struct sockaddr,
                       stream vs datagram
   2  phone            stream sockets as a phone call, from
                       socket() to hang-up
   3  backlog          callers on hold: Linux queues backlog
                       + 1, then blocks
   4  echo             the lecture's echo server and client,
                       call by call
   5  bind-caveats     socket files: stale, EADDRINUSE,
                       permissions, @names
   6  mail             datagram sockets as the post:
                       letters, addresses, replies
   7  uppercase        the lecture's uppercase datagram
                       server, MSG_LEN 10
   8  datagram-limits  flags, empty and huge letters, a full
                       mailbox, permission
   9  netstat          the kernel's list with ss: states,
                       queues, SO_PEERCRED
  10  exercises        you solve, you predict: the kernel
                       judges
"""

WIDE_LESSON = """\
# Wide

電話のソケット: 一つの呼び出し ごとに カーネルが 見せるものを 読んで 理解する 長い 説明 です。

## One step

Words.

```sockrepl
> spawn a
```
"""


def lessons_at(width: int, folder) -> str:
    out = io.StringIO()
    assert list_lessons([str(folder)], out, width) == 0
    return out.getvalue()


def test_the_lesson_list_wraps_under_the_summaries_in_cells(tmp_path):
    (tmp_path / "wide.md").write_text(WIDE_LESSON, encoding="utf-8")
    at_60, at_80 = lessons_at(60, tmp_path), lessons_at(80, tmp_path)
    assert at_60.startswith(BUILT_IN_AT_60)
    assert (f"{tmp_path}\n"
            "   1  wide             電話のソケット: 一つの呼び出し ごとに\n"
            "                       カーネルが 見せるものを 読んで\n"
            "                       理解する 長い 説明 です。\n") in at_60
    assert (f"{tmp_path}\n"
            "   1  wide             電話のソケット: 一つの呼び出し ごとに カーネルが\n"
            "                       見せるものを 読んで 理解する 長い 説明 です。\n") in at_80
    assert "   6  mail             datagram sockets as the post: letters, addresses, replies\n" in at_80
    assert at_60.endswith("sockrepl lesson NAME steps through one (--present for a\n"
                          "    projector)\n"
                          "sockrepl lesson --check checks them all; --dir DIR adds an\n"
                          "    instructor's folder\n"
                          "sockrepl lesson --reset-progress forgets your progress\n")


def test_on_a_pipe_the_lesson_list_is_one_line_a_lesson(tmp_path):
    (tmp_path / "wide.md").write_text(WIDE_LESSON, encoding="utf-8")
    out = io.StringIO()  # not a terminal: no width
    list_lessons([str(tmp_path)], out)
    row = ("   1  wide             電話のソケット: 一つの呼び出し ごとに カーネルが "
           "見せるものを 読んで 理解する 長い 説明 です。\n")
    assert row in out.getvalue()


def test_a_name_wider_than_its_column_has_a_line_of_its_own():
    assert columns("  socketpair DOMAIN TYPE [PROTOCOL]", "two sockets, connected", 60, 26) == [
        ("  socketpair DOMAIN TYPE [PROTOCOL]", ""),
        (" " * 26, "two sockets, connected")]


def test_an_exercise_goal_item_hangs_under_its_text():
    item = [("", "  · an output line like: [server] accept(3, NULL, NULL) = 4 (the first caller)")]
    assert [text for (_, text), in hanging(item, 60)] == [
        "  · an output line like: [server] accept(3, NULL, NULL) = 4",
        "    (the first caller)"]
