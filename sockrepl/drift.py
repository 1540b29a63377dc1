"""What the student changed between two snapshots, told before a lesson's next step.

The lesson's steps were written for the state the previous step left; a student who
typed their own commands in between is warned, in their words, before `next` runs.
"""

from sockrepl.textsafe import visible


def fingerprint(snapshot) -> tuple:
    """The state a lesson relies on, without what varies run to run (pids, inodes)."""
    if snapshot is None:
        return ()
    procs = tuple((p.name, p.blocked.call if p.blocked else None, p.stopped,
                   tuple(fingerprint_fd(f) for f in p.fds))
                  for p in snapshot.processes)
    return procs + tuple((f.path, f.kind, f.bound) for f in snapshot.files)


def changes(before, after) -> list[str]:
    """What the student changed between two snapshots, in their words: `server's fd 3 is closed`."""
    if before is None or after is None:
        return []
    said: list[str] = []
    now = {p.name: p for p in after.processes}
    then = {p.name: p for p in before.processes}
    for name, proc in then.items():
        shown = visible(name)
        if name not in now:
            said.append(f"{shown} is gone")
            continue
        later = now[name]
        if later.blocked and not proc.blocked:
            said.append(f"{shown} is blocked in {later.blocked.call}")
        elif proc.blocked and not later.blocked:
            said.append(f"{shown} is no longer blocked in {proc.blocked.call}")
        fds = {f.fd: f for f in later.fds}
        for view in proc.fds:
            if view.fd not in fds:
                said.append(f"{shown}'s fd {view.fd} is closed")
            elif fds[view.fd].state != view.state:
                said.append(f"{shown}'s fd {view.fd} is {fds[view.fd].state}, it was {view.state}")
            elif fingerprint_fd(fds[view.fd]) != fingerprint_fd(view):
                said.append(f"{shown}'s fd {view.fd} has other data or callers waiting")
        old = {f.fd for f in proc.fds}
        said += [f"{shown} has a new fd {f.fd}" for f in later.fds if f.fd not in old]
    said += [f"you started {visible(name)}" for name in now if name not in then]
    files = {f.path: f for f in after.files}
    for file in before.files:
        if file.path not in files or files[file.path].kind != file.kind:
            said.append(f"the socket file {visible(file.path)} is gone")
    return said


def fingerprint_fd(view) -> tuple:
    return (view.fd, view.type, view.state, view.pending, view.unread, view.peer_owner, view.shutdown)
