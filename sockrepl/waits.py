"""What a blocked call waits for, and what would release it: `why`'s reasons for a call that
sleeps, and for a non-blocking one that said EAGAIN instead.

Pure, as why.py: each reason carries its evidence (evidence.py finds it). The last
reason of a wait says what would release it, and begins with RELEASED, so that
why.py can say the same thing of a retry.
"""

from sockrepl.calllog import CallRecord
from sockrepl.commands import CONNECTED_SENDS, RECEIVES, SENDS
from sockrepl.evidence import Reason, address_of, diag_text, holder_of, listener_at, typed_line
from sockrepl.state import FdView, Snapshot
from sockrepl.textsafe import visible

RELEASED = "It goes on when"  # how a wait's last reason begins


def waiting(record: CallRecord, snapshot: Snapshot, history) -> list[Reason]:
    """What the call waits for and what would release it (also why a non-blocking one said EAGAIN)."""
    name = record.command.name
    view = snapshot.find(record.process, record.fd) if record.fd is not None else None
    if name == "accept":
        return _wait_accept(record, view)
    if name == "connect":
        return _wait_connect(record, snapshot)
    if name in RECEIVES:
        if view is not None and view.type == "DGRAM":
            return _wait_mail(record, view)
        return _wait_data(record, view, snapshot, history)
    if name in SENDS:
        return _wait_room(record, view, snapshot)
    return [Reason("it waits for the kernel.")]


def _wait_accept(record: CallRecord, view: FdView | None) -> list[Reason]:
    reasons = [Reason("nobody has called yet.")]
    if view is not None:
        reasons.append(Reason(f"No call waits in fd {record.fd}'s queue.", diag_text(view), "kernel"))
        dial = f"`NAME: connect FD {visible(view.local)}`" if view.local else "a connect to its address"
        reasons.append(Reason(f"{RELEASED} a process dials {visible(view.local or 'it')} ({dial})."))
    return reasons


def _wait_connect(record: CallRecord, snapshot: Snapshot) -> list[Reason]:
    addr = address_of(record)
    found = listener_at(snapshot, addr)
    if found is None:
        return [Reason("the line is busy."),
                Reason(f"The listener on {addr} is not one of this session's processes: its queue is full.")]
    proc, view = found
    pending, backlog = view.pending or 0, view.backlog or 0
    return [Reason("the line is busy."),
            Reason(f"The listener ({proc.name} fd {view.fd}) already holds {pending} caller"
                   f"{'s' if pending != 1 else ''} waiting; with listen({view.fd}, {backlog}) Linux queues "
                   f"backlog + 1 = {backlog + 1}.", diag_text(view), "kernel"),
            Reason(f"{RELEASED} {proc.name} picks up (`{proc.name}: accept {view.fd}`), "
                   "or fails if the listener closes.")]


def _wait_data(record: CallRecord, view: FdView | None, snapshot: Snapshot, history) -> list[Reason]:
    reasons = [Reason("nothing has arrived on this connection yet.")]
    if view is None:
        return reasons
    peer = f"{view.peer_owner.process} fd {view.peer_owner.fd}" if view.peer_owner else "the other end"
    reasons.append(Reason(f"fd {view.fd}'s connection (to {peer}) has no unread bytes.", diag_text(view), "kernel"))
    reasons += _sent_elsewhere(record, view, snapshot, history)
    if view.peer_owner:
        owner = view.peer_owner
        reasons.append(Reason(f"{RELEASED} {owner.process} sends (`{owner.process}: send {owner.fd} \"hi\"`) "
                              "or hangs up (then it returns 0)."))
    return reasons


def _sent_elsewhere(record: CallRecord, view: FdView, snapshot: Snapshot, history) -> list[Reason]:
    """The classic trap: the data went on another call, still waiting in the accept queue."""
    reasons = []
    for call in snapshot.queued:
        listener = call.listener
        if call.caller is None or listener is None or not (call.sent or call.send_q):
            continue
        found = listener_at(snapshot, view.local) if view.local else None
        if found is None or found[1].inode != call.listener_inode:
            continue
        caller = call.caller
        sends = [r for r in history if isinstance(r, CallRecord) and r.process == caller.process
                 and r.fd == caller.fd and r.command.name in CONNECTED_SENDS and r.ok]
        evidence = typed_line(sends[-1]) if sends else "no send of the session's"
        amount = f"{call.sent} byte{'s' if call.sent != 1 else ''}" if call.sent else "data"
        reasons.append(Reason(f"{caller.process} sent {amount}, but on its own call, not yet picked up: "
                              f"`{listener.process}: accept {listener.fd}` gives you that connection as a new fd.",
                              evidence, "session"))
        reasons.append(Reason(f"The kernel holds it in {listener.process} fd {listener.fd}'s queue, where no fd "
                              "reaches it.", f"sock_diag: UNIX_DIAG_ICONS lists {caller.process}'s socket "
                              f"{call.caller_inode}, whose Send-Q is {call.send_q} (memory, not bytes)", "kernel"))
    return reasons


def _wait_mail(record: CallRecord, view: FdView) -> list[Reason]:
    reasons = [Reason("the mailbox is empty."),
               Reason(f"No datagram is queued on fd {view.fd}.", diag_text(view), "kernel")]
    if view.local is None:
        reasons.append(Reason("It has no address either: nobody can post to it, so only a signal ends this wait "
                              "(bind before recvfrom)."))
    else:
        reasons.append(Reason(f"{RELEASED} a letter arrives (`NAME: sendto FD \"hi\" {visible(view.local)}`)."))
    return reasons


def _wait_room(record: CallRecord, view: FdView | None, snapshot: Snapshot) -> list[Reason]:
    if view is not None and view.accepted is False:
        return [Reason("the call is still in the listener's queue: nobody reads it until the server accepts."),
                Reason("Its buffer is full of what was sent.", diag_text(view) + " (Send-Q: memory charged)", "kernel")]
    if view is not None and view.type == "DGRAM":
        return _wait_mailbox(record, view, snapshot)
    if view is None or view.peer_owner is None:
        return [Reason("the receiver's queue is full.")]
    owner = view.peer_owner
    peer = snapshot.find(owner.process, owner.fd)
    reasons = [Reason("the receiver's buffer is full: nobody reads on the other side.")]
    if peer is not None:
        reasons.append(Reason(f"{owner.process} fd {owner.fd} has {peer.unread or 0} bytes unread.", diag_text(peer),
                              "kernel"))
    reasons.append(Reason(f"{RELEASED} {owner.process} reads (`{owner.process}: recv {owner.fd} 100000`)."))
    return reasons


def _wait_mailbox(record: CallRecord, view: FdView, snapshot: Snapshot) -> list[Reason]:
    """A datagram sender waits for room in the receiver's queue, which counts letters, not bytes."""
    address = address_of(record) or view.peer
    found = holder_of(snapshot, address)
    reasons = [Reason("the receiver's mailbox is full.")]
    if found is None:
        return reasons
    proc, box = found
    reasons.append(Reason(f"{proc.name} fd {box.fd} has not collected its letters: Linux queues "
                          "net.unix.max_dgram_qlen + 1 of them (11 by default), whatever their size.",
                          diag_text(box) + " (the first letter's size: the kernel does not count them)", "kernel"))
    reasons.append(Reason(f"{RELEASED} {proc.name} takes one (`{proc.name}: recvfrom {box.fd} 100`)."))
    return reasons
