"""The session's record of its calls, and the panel's note on data sent on a call not yet accepted."""


from sockrepl.calllog import CallRecord, ExitRecord
from tests.conftest import normalize, run_sockrepl

QUEUED_WITH_DATA = """\
spawn server c1 c3
server: socket AF_UNIX SOCK_STREAM
server: bind 3 srv.sock
server: listen 3 1
c1: socket AF_UNIX SOCK_STREAM
c1: connect 3 srv.sock
server: accept 3
c3: socket AF_UNIX SOCK_STREAM
c3: connect 3 srv.sock
c3: send 3 "hi"
"""


def test_log_records_every_call_and_exit_in_order(typed):
    typed(*QUEUED_WITH_DATA.splitlines(), "c3: recv 3", "kill c3 SIGKILL", "c1: close 3")
    records = typed.session.history
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    calls = [(r.process, r.command.name, r.fd, r.phase) for r in records if isinstance(r, CallRecord)]
    assert calls[-4:] == [("c3", "send", 3, "done"), ("c3", "recv", 3, "unfinished"), ("c3", "recv", 3, "lost"),
                          ("c1", "close", 3, "done")]
    exits = [r for r in records if isinstance(r, ExitRecord)]
    assert [(e.process, e.signal) for e in exits] == [("c3", 9)]
    accept = next(r for r in records if isinstance(r, CallRecord) and r.command.name == "accept")
    assert accept.outcome.ret == 4 and accept.sockets == (typed.snapshot().find("server", 4).inode,)
    assert typed.session.history == records[: len(typed.session.history)]  # a tuple: readers cannot change it


def test_bytes_sent_count_from_the_connection_on(typed):
    typed(*QUEUED_WITH_DATA.splitlines(), 'c3: write 3 "abc"', "c1: close 3", "c1: socket AF_UNIX SOCK_STREAM")
    sent = typed.session.log.sent
    assert sent[("c3", 3)] == 5
    assert sent[("c1", 3)] == 0 and sent[("server", 4)] == 0


def test_panel_names_the_data_waiting_in_the_queue():
    """sock_diag lists no socket holding c3's 2 bytes; the panel says they wait in c3's queued call."""
    result = run_sockrepl(QUEUED_WITH_DATA + "state\nstate --json\n")
    out = normalize(result.stdout.decode())
    assert "srv.sock pending 1/1 · c3's call carries 2 B" in out
    assert '"queued":[{"listener":{"process":"server","fd":3}' in out and '"sent":2}' in out
    caller = out.split('"caller":{"process":"c3","fd":3},"caller_inode":')[1]
    assert int(caller.split('"send_q":')[1].split(",")[0]) > 0  # kernel: memory charged, not bytes
