"""The command language: one registry of commands, and the `Command` a line becomes (parser.py).

Pure (no I/O). The parser, `help`, completion, the lesson checker and every front
end read `REGISTRY`: a `_command(...)` entry here makes a command parse, appear in
`help` and complete, and its `runs` says who carries it out. A new command also needs,
by what it runs as: a call, an `op_NAME` in syscalls.py and its strace line in render.py;
a session or process command, a handler in session.HANDLERS; a lesson command, one in
lesson_driver.VERBS; a screen command, one in repl.SCREEN; and a row in README's table.
tests/test_dispatch.py and tests/test_docs.py fail until each is there.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from sockrepl import constants as C
from sockrepl.arguments import (
    check_bind_address,
    check_fcntl,
    check_len,
    check_setsockopt,
    check_why,
)

MAX_PROCESSES = 32
FIRST_PROCESS = "p1"  # the REPL and `sockrepl run` start with one process ready; a lesson starts from none
CONNECTED_SENDS = ("send", "write")  # the sends that name no address: to the connected peer
SENDS = (*CONNECTED_SENDS, "sendto")  # the calls that hand data to the kernel
RECEIVES = ("recv", "read", "recvfrom")  # the calls that take data from it
REQUIRED = object()

Runs = Literal["call", "process", "session", "lesson", "screen", "leave"]
"""Who carries a command out. call: a process makes it (its worker's op); process: the session acts on
one process (interrupt, wait, why); session: the session's own (spawn, ps, help...); lesson: the
interactive lesson driver; screen: the interactive screen (panel, clear); leave: the front end ends."""
IN_A_PROCESS: tuple[Runs, ...] = ("call", "process")  # the only ones a `NAME:` prefix makes sense on


@dataclass(frozen=True)
class Command:
    """A parsed line: what to run, with typed arguments, and where."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    process: str | None = None
    text: str = ""
    c_form: bool = False
    assigned: str | None = None  # the C variable a call's result was assigned to: `fd = socket(...)`


def call_on_fd(name: str, fd: int | None) -> str:
    """`accept(3)`: a call as messages name it, by its fd (`socketpair()`: none)."""
    return f"{name}({'' if fd is None else fd})"


class Param(NamedTuple):
    """One argument of a command: how it is parsed (`kind`), and what it is when left out."""

    name: str
    kind: str
    default: Any = REQUIRED
    label: str | None = None
    skip_unless_fits: bool = False

    @property
    def optional(self) -> bool:
        return self.default is not REQUIRED

    def usage(self) -> str:
        """`NAME` or `[NAME]`; nothing for a parameter the one before it names with it (why's `[fd N]`)."""
        if self.label == "":
            return ""
        text = self.label or self.name.upper()
        if self.kind == "names":
            text += "..."
        return f"[{text}]" if self.optional else text


class Spec(NamedTuple):
    """A command as the registry knows it: its words, who runs it, its help and its two grammars."""

    name: str
    group: str
    summary: str
    runs: Runs
    shell: tuple[Param, ...] = ()
    c: tuple[Param, ...] | None = None
    example: str = ""
    options: Mapping[str, str | None] = MappingProxyType({})
    aliases: tuple[str, ...] = ()
    syscall: bool = False
    check: Callable[[dict], None] | None = None
    details: tuple[str, ...] = ()  # paragraphs for `help NAME` / `man NAME` of a command that is no call

    @property
    def usage(self) -> str:
        opts = " ".join(f"[{o}{' ' + k.upper() if k else ''}]" for o, k in self.options.items())
        parts = [self.name, opts, *(p.usage() for p in self.shell)]
        return " ".join(p for p in parts if p)

    @property
    def c_usage(self) -> str | None:
        if not self.syscall:
            return None
        params = self.c if self.c is not None else self.shell
        return f"{self.name}(" + ", ".join(p.usage().lower() for p in params) + ")"


REGISTRY: dict[str, Spec] = {}
ALIASES: dict[str, str] = {}
GROUPS = {
    "processes": "processes",
    "sockets": "sockets (stream and datagram)",
    "stream": "stream: the phone",
    "datagram": "datagram: the mail",
    "files": "socket files",
    "inspection": "inspection",
    "lessons": "lessons",
    "session": "session",
}


def _command(name: str, group: str, summary: str, shell=(), runs: Runs = "call", **kw) -> None:
    spec = Spec(name, group, summary, runs, tuple(shell), **kw)
    REGISTRY[name] = spec
    for alias in spec.aliases:
        ALIASES[alias] = name


P = Param
FD = P("fd", "fd")
ADDR_OUT = (FD, P("a", "ignore", None, label="addr"), P("b", "ignore", None, label="addrlen"))

_command("spawn", "processes", "start one real child process per name (they own their fds)",
         [P("names", "names")], options={"--user": "user", "--unprivileged": None},
         runs="session", example="spawn server client")
_command("use", "processes", "make NAME the current process (the prompt shows it)", [P("name", "name")],
         runs="session", example="use client")
_command("ps", "processes", "list the processes: name, pid, idle or blocked in which call", runs="session",
         example="ps")
_command("kill", "processes", "send a signal to a process (default SIGTERM): its fds close, peers see it",
         [P("name", "name"), P("signal", "signal", C.SIGNALS["SIGTERM"])], runs="session",
         example="kill client SIGKILL")
_command("interrupt", "processes", "interrupt NAME's blocked call with SIGINT (Ctrl-C): it returns EINTR",
         [P("name", "name", None)], runs="process", example="interrupt server")
_command("wait", "processes", "wait until NAME's blocked call finishes (default 5 seconds)",
         [P("name", "name", None, skip_unless_fits=True), P("seconds", "seconds", 5.0)], runs="process",
         example="wait server 2")
_command("signal", "processes", "set what NAME does on a signal: ignore or default (SIGPIPE kills by default)",
         [P("name", "name", None, skip_unless_fits=True), P("signal", "signal"), P("action", "disposition")],
         runs="call", example="signal client SIGPIPE ignore")

_command("socket", "sockets", "create a socket: install a phone (stream) or a mailbox (datagram)",
         [P("domain", "domain"), P("type", "socktype"), P("protocol", "protocol", 0)],
         example="socket AF_UNIX SOCK_STREAM", syscall=True)
_command("socketpair", "sockets", "create two sockets already connected to each other",
         [P("domain", "domain"), P("type", "socktype"), P("protocol", "protocol", 0)],
         c=(P("domain", "domain"), P("type", "socktype"), P("protocol", "protocol", 0), P("sv", "ignore", None)),
         example="socketpair AF_UNIX SOCK_STREAM", syscall=True)
_command("bind", "sockets", "give a socket an address: a phone number / a postal address",
         [FD, P("addr", "addr", label="PATH")], c=(FD, P("addr", "addr"), P("addrlen", "addrlen", None)),
         example="bind 3 srv.sock", syscall=True, check=check_bind_address)
_command("close", "sockets", "close an fd: hang up (the peer reads EOF)", [FD], example="close 4", syscall=True)
_command("getsockname", "sockets", "the address a socket is bound to",
         [FD], c=ADDR_OUT, example="getsockname 3", syscall=True)
_command("getpeername", "sockets", "the address of the socket at the other end",
         [FD], c=ADDR_OUT, example="getpeername 4", syscall=True)
_command("getsockopt", "sockets", "read a socket option (SO_PEERCRED, SO_TYPE, SO_SNDBUF, SO_RCVBUF, SO_ERROR)",
         [FD, P("level", "level", C.SOCKOPT_LEVELS["SOL_SOCKET"], skip_unless_fits=True), P("optname", "optname")],
         c=(FD, P("level", "level"), P("optname", "optname"), P("v", "ignore", None, label="optval"),
            P("l", "ignore", None, label="optlen")),
         example="getsockopt 4 SO_PEERCRED", syscall=True)
_command("setsockopt", "sockets", "set SO_SNDBUF or SO_RCVBUF",
         [FD, P("level", "level", C.SOCKOPT_LEVELS["SOL_SOCKET"], skip_unless_fits=True), P("optname", "optname"),
          P("value", "optvalue")],
         c=(FD, P("level", "level"), P("optname", "optname"), P("value", "optvalue"),
            P("l", "ignore", None, label="optlen")),
         example="setsockopt 3 SO_SNDBUF 4096", syscall=True, check=check_setsockopt)
_command("fcntl", "sockets", "switch O_NONBLOCK on or off (or F_GETFL / F_SETFL)",
         [FD, P("cmd", "fcntlop", label="O_NONBLOCK"), P("arg", "fcntlarg", None, label="on|off")],
         example="fcntl 3 O_NONBLOCK on", syscall=True, check=check_fcntl)

_command("listen", "stream", "make a socket passive: turn the ringer on; BACKLOG bounds pending calls",
         [FD, P("backlog", "backlog")], example="listen 3 1", syscall=True)
_command("accept", "stream", "take the next pending connection: pick up the phone (waits if none)",
         [FD], c=(FD, P("want_addr", "outaddr", False, label="addr"), P("l", "ignore", None, label="addrlen")),
         example="accept 3", syscall=True)
_command("connect", "stream", "connect to a listening socket's address: dial its number",
         [FD, P("addr", "addr", label="PATH")], c=(FD, P("addr", "addr"), P("addrlen", "addrlen", None)),
         example="connect 3 srv.sock", syscall=True)
_command("send", "stream", "send bytes on a connected socket (talk)",
         [FD, P("data", "data"), P("flags", "msgflags", 0)],
         c=(FD, P("data", "data"), P("len", "len", None), P("flags", "msgflags", 0)),
         example='send 4 "hello\\n"', syscall=True, check=check_len)
_command("write", "stream", "write bytes to an fd (send without flags)",
         [FD, P("data", "data")], c=(FD, P("data", "data"), P("len", "len", None)),
         example='write 4 "hello\\n"', syscall=True, check=check_len)
_command("recv", "stream", "receive up to LEN bytes (default 1024); 0 means the peer hung up (EOF)",
         [FD, P("size", "size", 1024, label="LEN"), P("flags", "msgflags", 0)],
         c=(FD, P("buf", "ignore"), P("size", "size"), P("flags", "msgflags", 0)),
         example="recv 4 1024", syscall=True)
_command("read", "stream", "read up to LEN bytes from an fd (default 1024); 0 is EOF",
         [FD, P("size", "size", 1024, label="LEN")], c=(FD, P("buf", "ignore"), P("size", "size")),
         example="read 4", syscall=True)
_command("shutdown", "stream", "close one direction: SHUT_WR says 'I am done talking' (peer reads EOF)",
         [FD, P("how", "how")], example="shutdown 4 SHUT_WR", syscall=True)

_command("sendto", "datagram", "post one datagram to an address: send a letter",
         [FD, P("data", "data"), P("addr", "addr", label="PATH"), P("flags", "msgflags", 0)],
         c=(FD, P("data", "data"), P("len", "len"), P("flags", "msgflags"), P("addr", "addr"),
            P("addrlen", "addrlen", None)),
         example='sendto 3 "hello" srv.sock', syscall=True, check=check_len)
_command("recvfrom", "datagram", "take one datagram and its sender's address: empty the mailbox",
         [FD, P("size", "size", 1024, label="LEN"), P("flags", "msgflags", 0)],
         c=(FD, P("buf", "ignore"), P("size", "size"), P("flags", "msgflags", 0),
            P("want_addr", "outaddr", True, label="src_addr"), P("l", "ignore", None, label="addrlen")),
         example="recvfrom 3 10", syscall=True)

_command("unlink", "files", "remove a file, e.g. a stale socket file", [P("path", "path")],
         example="unlink srv.sock", syscall=True)
_command("stat", "files", "show a file's type and mode (a socket file is S_IFSOCK)", [P("path", "path")],
         c=(P("path", "path"), P("st", "ignore", None, label="statbuf")), example="stat srv.sock", syscall=True)
_command("open", "files", "try to open() a file (a socket file gives ENXIO: connect to it instead)",
         [P("path", "path"), P("flags", "openflags", C.OPEN_FLAGS["O_RDWR"])], example="open srv.sock",
         syscall=True)
_command("chmod", "files", "change a file's permission bits (connect needs write permission)",
         [P("path", "path"), P("mode", "mode")], example="chmod srv.sock 0500", syscall=True)
_command("ls", "files", "list the session's socket files, like ls -l", runs="session", example="ls")

_command("state", "inspection", "print the state panel (--json: one line of JSON)",
         options={"--json": None}, runs="session", example="state")
_command("ss", "inspection", "the kernel's view of the session's sockets, like ss -xap", runs="session", example="ss")
_command("why", "inspection", "why the last call blocked, failed or surprised: the reasons, with the kernel's evidence",
         [P("name", "name", None), P("keyword", "word", None, label="fd N"), P("fd", "fd", None, label="")],
         runs="process", example="why c3", check=check_why, details=(
             "Explains the current process's last call (why NAME: NAME's; why NAME fd N: its last call on fd N, "
             "or the call that made fd N): why it blocked, failed, or returned something surprising, and what "
             "would change it.",
             "Each claim is followed by its evidence and where that comes from. \"kernel, now\": what sock_diag "
             "(as ss -x), /proc/PID/syscall and lstat show at this moment. \"session record\": a line the session "
             "ran and what the kernel returned then, numbered #N in the order it happened.",
             "Its first line is the call's ↳ note. It only reads: it can be used at any step of a lesson.",
             "Try: fill a listen(3, 1) queue until a third connect blocks, then why; or send on a connection the "
             "server has not accepted yet while the server waits in recv on another.",
         ))
_command("help", "inspection", "the commands on one screen; help COMMAND: one command; help GROUP or "
         "help all: usages too",
         [P("topic", "word", None)], runs="session", example="help bind")
_command("man", "inspection", "a system call's manual in short: signature, return value, errors",
         [P("topic", "word")], runs="session", example="man accept")

_command("timeline", "inspection", "the session as a sequence diagram: a lane per process, arrows where the "
         "kernel tied two calls (N: the last N events)", [P("count", "count", None, label="N")],
         runs="session", example="timeline 20")

_command("lesson", "lessons", "list the lessons, or start one", [P("topic", "word", None, label="NAME")],
         runs="lesson", example="lesson phone")
_command("next", "lessons", "run the lesson's next step", runs="lesson", example="next")
_command("back", "lessons", "go back one step (replays the lesson up to there)", runs="lesson", example="back")
_command("reset", "lessons", "start the lesson again from a fresh session", runs="lesson", example="reset")
_command("goto", "lessons", "replay the lesson up to step N", [P("step", "step")], runs="lesson", example="goto 3")
_command("check", "lessons", "in an exercise: which parts of the goal hold, and why the others do not",
         runs="lesson", example="check")
_command("hint", "lessons", "in an exercise: the next hint", runs="lesson", example="hint")
_command("solution", "lessons", "in an exercise: the author's solution (typed again, it runs)", runs="lesson",
         example="solution")
_command("skip", "lessons", "move on from an exercise or a prediction (recorded as skipped)", runs="lesson",
         example="skip")

_command("panel", "session", "how much room the panel takes: compact (default), full or off (F2 cycles)",
         [P("mode", "word", None, label="compact|full|off")], runs="screen", example="panel full")
_command("clear", "session", "clear the screen (Ctrl-L)", runs="screen", example="clear")
_command("step", "session", "start a step named TITLE: `export lesson` groups the commands after it",
         [P("title", "word")], runs="session", example='step "Dial"')
_command("export", "session", "write the session so far as a lesson, mermaid, html, svg or markdown file "
         "(relative PATH: where sockrepl started)", [P("format", "format"), P("path", "word", None)],
         options={"--force": None}, runs="session", example="export lesson my-lesson.md")
_command("exit", "session", "leave sockrepl (Ctrl-D): every process and socket file goes", aliases=("quit",),
         runs="leave", example="exit")


def commands_in_group(group: str) -> list[Spec]:
    return [s for s in REGISTRY.values() if s.group == group]


def names_that_run(*kinds: Runs) -> frozenset[str]:
    """The commands carried out as one of `kinds`: every set of command names is read from here."""
    return frozenset(name for name, spec in REGISTRY.items() if spec.runs in kinds)


LESSON_COMMANDS = names_that_run("lesson")
SCREEN_COMMANDS = names_that_run("screen")
FRONT_END_COMMANDS = names_that_run("lesson", "screen", "leave")  # carried out by the interactive front end
