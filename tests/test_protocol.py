"""The worker protocol: every record goes through the pipe's framing and comes back equal; bytes that are
not a reply are refused with ValueError, never a crash."""

import subprocess
import sys
from pathlib import Path

import pytest

from sockrepl.protocol import (
    Address,
    Flags,
    Hello,
    Internal,
    Option,
    Outcome,
    Pair,
    Passed,
    Previous,
    Received,
    Request,
    Status,
    reply_frame,
    request_frame,
    take_replies,
    take_requests,
)

REPLIES = [
    Outcome(3), Outcome(-1, 22), Outcome(0, 0, Pair((3, 4))), Outcome(0, 0, Passed(11)),
    Outcome(4, 0, Address(b"srv.sock", 11)), Outcome(0, 0, Address(None, 2)),
    Outcome(2, 0, Received(b"\0\xffhi", 2, 40, Address(b"\0abstract", 11))), Outcome(-1, 11, Received(None, None)),
    Outcome(0, 0, Option((42, 0, 0), 12)), Outcome(0, 0, Option(None, 4)), Outcome(0, 0, Flags(2, 2050)),
    Outcome(0, 0, Flags(None, 0)), Outcome(0, 0, Status(0o140755, 0, 1000, 100, 12345)),
    Outcome(0, 0, Previous("SIG_IGN")), Hello(1234, 0, 0), Internal("KeyError: 'fd' \udcff"),
]


def test_replies_come_back_equal_and_whole_ones_only():
    stream = b"".join(reply_frame(reply) for reply in REPLIES)
    buffer = bytearray(stream[:-3])
    assert take_replies(buffer) == REPLIES[:-1]
    buffer += stream[-3:]
    assert take_replies(buffer) == REPLIES[-1:] and buffer == b""


def test_requests_come_back_equal():
    requests = [Request("sendto", {"fd": 3, "data": b"\0" * 70000, "addr": b"@x", "addrlen": None, "flags": 0}),
                Request("fcntl", {"fd": 3, "cmd": "nonblock", "arg": True})]
    buffer = bytearray(b"".join(request_frame(r) for r in requests))
    assert take_requests(buffer) == requests and buffer == b""


@pytest.mark.parametrize("body", [b"", b"Z", b"\x00\x01", b"ri", b"b\xff\xff\xff\xff", b"\x00" + b"\0" * 12 + b"s",
                                  b"r\x03NN", b"r\x63", b"\x00" + b"\0" * 12 + b"r\x01\x00\x00", b"NN"])
def test_bytes_that_are_no_reply_are_refused(body):
    with pytest.raises(ValueError):
        take_replies(bytearray(len(body).to_bytes(4, "little") + body))


def test_the_worker_loads_neither_typing_json_nor_re():
    """Every process start waits for these imports: typing alone cost the worker more than all the rest."""
    root = str(Path(__file__).resolve().parent.parent)
    code = ("import sys; sys.path.append(sys.argv[1]); import sockrepl.protocol, sockrepl.syscalls; "
            "print(sorted({'typing', 'json', 're'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, root], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
