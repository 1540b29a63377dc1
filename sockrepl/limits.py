"""What one lesson may pin in kernel memory (fds per process, socket buffer sizes, bytes sent), and its time
in `wait`.

A lesson file can come from anyone; these bounds make opening it cheap for the machine, and quick.
A plain session has none of them (the kernel's own limits apply). Pure: the session
asks `refusal` before it runs a call.
"""

from collections.abc import Iterable
from typing import NamedTuple

from sockrepl import constants as C
from sockrepl.commands import SENDS, Command


class Limits(NamedTuple):
    """The bounds a session keeps its processes within, so that no command can exhaust the machine."""

    fds_per_process: int      # RLIMIT_NOFILE of each worker
    socket_buffer: int        # the largest SO_SNDBUF / SO_RCVBUF a setsockopt may ask for
    bytes_sent: int           # all the data the session's calls may hand to the kernel
    wait_seconds: float       # all the seconds its `wait` lines may ask for (each gives way to Ctrl-C too)

    def refusal(self, command: Command, sent: int, waited: float) -> tuple[str, str] | None:
        """(message, hint) when `command` would go past a bound, given `sent` bytes and `waited` seconds so far."""
        if command.name == "setsockopt" and command.args["value"] > self.socket_buffer:
            option = C.name_of(command.args["optname"], C.SOCKOPTS)
            return (f"a lesson may set {option} up to {self.socket_buffer} bytes, not {command.args['value']}",
                    "lessons are bounded so that opening one from anyone is cheap (README: lessons safety)")
        if command.name in SENDS and sent + len(command.args["data"]) > self.bytes_sent:
            return (f"a lesson may send {self.bytes_sent} bytes in all; it has sent {sent}, "
                    f"and this call would add {len(command.args['data'])}",
                    "lessons are bounded so that opening one from anyone is cheap (README: lessons safety)")
        if command.name == "wait" and waited + command.args["seconds"] > self.wait_seconds:
            return (f"a lesson may wait {self.wait_seconds:g} s in all; it has asked for {waited:g}, "
                    f"and this wait would add {command.args['seconds']:g}",
                    "lessons are bounded so that opening one from anyone is quick (README: lessons safety)")
        return None


SHARED_NAMES = ("this lesson uses abstract @names: they are shared with every program on this machine "
                "(the kernel refused sockrepl a private network namespace here), so it can meet, "
                "or be met by, others' sockets")


def uses_abstract_names(commands: Iterable[Command]) -> bool:
    """Whether any command names an abstract address (a lesson without a private network says so when it opens)."""
    return any(isinstance(c.args.get("addr"), bytes) and c.args["addr"].startswith(b"\0") for c in commands)


LESSON = Limits(fds_per_process=64, socket_buffer=256 * 1024, bytes_sent=2 * 1024 * 1024, wait_seconds=60)
