"""strace's quoting: bytes as C strings, AF_UNIX addresses as `{sa_family=AF_UNIX, sun_path=...}` (and the
AF_INET or AF_INET6 address the kernel returns for such a socket, as strace prints it), and a call's result
as it follows ` = `.

Pure. Shared by the transcript (render.py) and the timeline.
"""

import socket
import struct

from sockrepl import constants as C
from sockrepl.protocol import Outcome, Previous

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10  # Linux's numbers: the kernel's, whatever the machine
FAMILIES = {AF_UNIX: "AF_UNIX", AF_INET: "AF_INET", AF_INET6: "AF_INET6"}
STRSIZE = 32  # strace's default -s: longer strings end in `...`
_ESCAPES = {9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def c_string(data: bytes, limit: int | None = STRSIZE) -> str:
    """Quote bytes the way strace does: C escapes, octal for the rest, `...` when cut."""
    shown = data if limit is None else data[:limit]
    out = []
    for i, byte in enumerate(shown):
        if byte in _ESCAPES:
            out.append(_ESCAPES[byte])
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            follows_digit = i + 1 < len(shown) and 48 <= shown[i + 1] <= 55
            out.append(f"\\{byte:03o}" if follows_digit else f"\\{byte:o}")
    return '"' + "".join(out) + '"' + ("..." if len(shown) < len(data) else "")


def sun_path(path: bytes) -> str:
    """`"srv.sock"`, or `@"name"` for an abstract name as strace writes it."""
    if path.startswith(b"\0"):
        return "@" + c_string(path[1:], None)
    return c_string(path, None)


def sockaddr(path: bytes | None, family: int = AF_UNIX) -> str:
    """A sockaddr as strace prints it; `path`: sun_path, or for another family the bytes after sa_family."""
    if family == AF_INET and path is not None and len(path) >= 6:
        port, host = int.from_bytes(path[:2], "big"), ".".join(map(str, path[2:6]))
        return f'{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr("{host}")}}'
    if family == AF_INET6 and path is not None and len(path) >= 26:
        port, flow = int.from_bytes(path[:2], "big"), int.from_bytes(path[2:6], "big")
        host, scope = socket.inet_ntop(socket.AF_INET6, path[6:22]), struct.unpack("=I", path[22:26])[0]
        return (f"{{sa_family=AF_INET6, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), "
                f'inet_pton(AF_INET6, "{host}", &sin6_addr), sin6_scope_id={scope}}}')
    if family != AF_UNIX:
        name = FAMILIES.get(family, str(family))
        return f"{{sa_family={name}, sa_data={c_string(path or b'', None)}}}"
    if path is None:
        return "{sa_family=AF_UNIX}"
    return "{sa_family=AF_UNIX, sun_path=" + sun_path(path) + "}"


def result_text(name: str, outcome: Outcome, explained: bool = True) -> str:
    """What follows ` = `: the return value; `-1 ENOENT (No such file or directory)`, or `-1 ENOENT`
    when not `explained` (the timeline's short form); for signal(), the action it replaced."""
    if outcome.failed:
        return f"-1 {C.errno_text(outcome.errno) if explained else C.ERRNO_NAMES.get(outcome.errno, outcome.errno)}"
    if name == "signal":
        return outcome.out.action if isinstance(outcome.out, Previous) else "0"
    return str(outcome.ret)
