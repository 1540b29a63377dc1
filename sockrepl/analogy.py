"""The lecture's words for a socket's state: the phone (stream) and the mail (datagram).

A pure mapping from what the kernel reports to a few words a student already
understands; the panel prints them beside the technical state, `state --json`
beside the facts. The snapshot holds only the facts.
"""

from sockrepl.commands import RECEIVES
from sockrepl.state import Blocked, FdView

PHONE = "☎"
MAIL = "✉"


def phone(state: str, pending: int = 0, accepted: bool = True, blocked: str | None = None,
          shutdown: str | None = None) -> str:
    """Stream and seqpacket sockets: the phone analogy of the slides."""
    if state == "LISTEN":
        if blocked == "accept":
            return "ringer on, waiting by the phone"
        if pending:
            return f"ringer on, {pending} caller{'s' if pending != 1 else ''} waiting"
        return "ringer on"
    if state == "CONNECTING":
        return "calling: line busy, waiting"
    if state == "CONNECTED":
        if not accepted:
            return "ringing: not picked up yet"
        if shutdown == "read":
            return "in a call; the other side stopped talking"
        if shutdown == "write":
            return "in a call; you stopped talking"
        if shutdown == "both":
            return "the call is over"
        return "in a call"
    if state == "PEER-CLOSED":
        return "the other side hung up"
    if state == "BOUND":
        return "a phone with a number"
    return "a phone, no number yet"


def mail(state: str, unread: int | None = None, blocked: str | None = None) -> str:
    """Datagram sockets: the mail analogy of the slides."""
    if blocked in RECEIVES:
        box = "checking the mailbox, waiting for a letter"
    elif state == "CONNECTED":
        box = "a mailbox that posts to one address"
    elif state == "BOUND":
        box = "a mailbox with an address"
    else:
        box = "a mailbox, no address yet"
    if unread:
        box += f"; letters waiting (first {unread} B)"
    return box


SHORT_PHONE = {
    "UNCONNECTED": "no number", "BOUND": "has a number", "CONNECTING": "line busy", "PEER-CLOSED": "hung up",
}


def short_label(socket_type: str, state: str, **facts) -> str:
    """Two or three words, for a narrow screen."""
    if socket_type == "DGRAM":
        if facts.get("blocked") in RECEIVES:
            return f"{MAIL} waiting for mail"
        return f"{MAIL} letters waiting" if facts.get("unread") else f"{MAIL} mailbox"
    if state == "LISTEN":
        if facts.get("blocked") == "accept":
            return f"{PHONE} by the phone"
        pending = facts.get("pending") or 0
        return f"{PHONE} {pending} waiting" if pending else f"{PHONE} ringer on"
    if state == "CONNECTED":
        return f"{PHONE} ringing" if facts.get("accepted") is False else f"{PHONE} in a call"
    return f"{PHONE} {SHORT_PHONE.get(state, state.lower())}"


def label(socket_type: str, state: str, **facts) -> str:
    if socket_type == "DGRAM":
        return f"{MAIL} " + mail(state, facts.get("unread"), facts.get("blocked"))
    return f"{PHONE} " + phone(state, facts.get("pending") or 0, facts.get("accepted") is not False,
                               facts.get("blocked"), facts.get("shutdown"))


def words(view: FdView, blocked: Blocked | None) -> tuple[str, str]:
    """The words for one fd of a process blocked in `blocked` (or not): in full, and short."""
    facts = {"pending": view.pending, "accepted": view.accepted, "shutdown": view.shutdown, "unread": view.unread,
             "blocked": blocked.call if blocked and blocked.fd == view.fd else None}
    return label(view.type, view.state, **facts), short_label(view.type, view.state, **facts)
