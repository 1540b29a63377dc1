"""Data safety: the scratch directory is private, cleanup removes only what the session made."""

import json
import os
import socket
import stat

import pytest
from conftest import (
    normalize,
    only_scratch_line,
    python_errors,
    run_sockrepl,
)

# ---- data safety ------------------------------------------------------------------------------------


def test_scratch_directory_is_private_and_unique(live):
    first, second = live(), live()
    assert first.scratch != second.scratch
    for s in (first, second):
        st = os.lstat(s.scratch)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid()
        assert os.path.basename(s.scratch).startswith("sockrepl-")
        s.feed("spawn a")
        s.feed("socket AF_UNIX SOCK_STREAM")
        assert s.feed("bind 3 same.sock") == ['[a] bind(3, {sa_family=AF_UNIX, sun_path="same.sock"}, 11) = 0']
    # same relative name, two sessions, two files: nothing shared
    assert os.lstat(os.path.join(first.scratch, "same.sock")).st_ino != \
        os.lstat(os.path.join(second.scratch, "same.sock")).st_ino
    for s in (first, second):
        assert s.finish()[0] == 0
        assert not os.path.exists(s.scratch)


def test_cleanup_keeps_files_the_session_did_not_create(tmp_path):
    precious = tmp_path / "precious.sock"
    precious.write_text("not a socket")
    foreign_path = tmp_path / "foreign.sock"
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(foreign_path))
    foreign.listen(1)
    foreign_ino = os.lstat(foreign_path).st_ino
    try:
        result = run_sockrepl(f"spawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 {precious}\nbind 3 {foreign_path}\n"
                              f"socket AF_UNIX SOCK_STREAM\nconnect 4 {foreign_path}\nunlink nothing.sock\n")
        out = result.stdout.decode().splitlines()
        eaddrinuse = "= -1 EADDRINUSE (Address already in use)"
        assert out[3] == f'[a] bind(3, {{sa_family=AF_UNIX, sun_path="{precious}"}}, ' \
                         f'{2 + len(str(precious))}) {eaddrinuse}'
        assert out[5] == f'[a] bind(3, {{sa_family=AF_UNIX, sun_path="{foreign_path}"}}, ' \
                         f'{2 + len(str(foreign_path))}) {eaddrinuse}'
        assert out[8] == f'[a] connect(4, {{sa_family=AF_UNIX, sun_path="{foreign_path}"}}, ' \
                         f'{2 + len(str(foreign_path))}) = 0'
        assert precious.read_text() == "not a socket"
        assert os.lstat(foreign_path).st_ino == foreign_ino and stat.S_ISSOCK(os.lstat(foreign_path).st_mode)
    finally:
        foreign.close()


def test_cleanup_keeps_a_socket_another_program_bound_in_tmp():
    """Another program's socket file straight in /tmp: sockrepl connects to it, and leaves it alone."""
    path = f"/tmp/sockrepl-test-foreign-{os.getpid()}.sock"
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    foreign.bind(path)
    try:
        result = run_sockrepl(f'spawn a\nsocket AF_UNIX SOCK_DGRAM\nsendto 3 "hello" {path}\nbind 3 {path}\n'
                              f"ls\n")
        out = result.stdout.decode().splitlines()
        assert out[3] == f'[a] sendto(3, "hello", 5, 0, {{sa_family=AF_UNIX, sun_path="{path}"}}, ' \
                         f"{2 + len(path)}) = 5"
        assert out[4].endswith("= -1 EADDRINUSE (Address already in use)")
        assert foreign.recv(10) == b"hello"
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        foreign.close()
        os.unlink(path)


def bound_session(live, path):
    """A session whose process `a` has bound fd 3 at `path`."""
    s = live()
    s.feed("spawn a")
    s.feed("socket AF_UNIX SOCK_STREAM")
    assert s.feed(f"bind 3 {path}")[0].endswith(" = 0")
    return s


def test_cleanup_keeps_a_socket_rebound_at_a_path_the_session_unlinked(live, tmp_path):
    """The session bound P, then P was unlinked and another program bound its own socket there."""
    path = tmp_path / "p.sock"
    s = bound_session(live, path)
    assert s.feed(f"unlink {path}")[0] == f'[a] unlink("{path}") = 0'
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(path))  # the session's socket is still open: the old inode cannot be reused
    try:
        rc, _, err = s.finish()
        assert rc == 0 and only_scratch_line(err)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        foreign.close()


def test_cleanup_keeps_another_programs_socket_even_with_a_reused_inode(live, tmp_path):
    path = tmp_path / "srv.sock"
    s = bound_session(live, path)
    session_ino = os.lstat(path).st_ino
    assert s.feed("close 3") == ["[a] close(3) = 0"]
    # another program starts the usual C way: unlink the stale file, bind its own socket
    os.unlink(path)
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(path))
    try:
        if os.lstat(path).st_ino != session_ino:
            pytest.skip("this filesystem gave the new socket file a new inode number")
        rc, _, _err = s.finish()
        assert rc == 0
        assert os.path.exists(path), "sockrepl removed another program's live socket file"
    finally:
        foreign.close()


def test_state_json_is_valid_utf8_with_an_undecodable_file_name():
    script = 'spawn a\nsocket AF_UNIX SOCK_STREAM\nbind 3 "\\xff\\xfe.sock"\nstate --json\nls\n'
    result = run_sockrepl(script)
    line = result.stdout.splitlines()[4]
    state = json.loads(line.decode("utf-8"))  # strict: JSON is UTF-8
    assert [f["path"] for f in state["files"]] == [state["processes"][1]["fds"][0]["local"]]
    strict = run_sockrepl(script, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert strict.returncode == 0 and not python_errors(strict.stdout, strict.stderr), strict.stderr


def test_signal_command_acts_on_the_named_process():
    result = run_sockrepl('spawn a b\nsignal b SIGPIPE ignore\nb: socketpair AF_UNIX SOCK_STREAM\nb: close 4\n'
                          'b: write 3 "x"\n')
    out = normalize(result.stdout.decode()).splitlines()
    assert out[2] == "[b] signal(SIGPIPE, SIG_IGN) = SIG_DFL"
    assert out[5] == '[b] write(3, "x", 1) = -1 EPIPE (Broken pipe)'


def test_chmod_on_the_scratch_directory_itself_is_refused(live):
    """0500/0 would leave it (and its socket files) behind for a normal user; 0755/0777 would drop its privacy."""
    s = live()
    s.feed("spawn p")
    name = os.path.basename(s.scratch)
    for number, target in enumerate([".", "./", s.scratch, f"../{name}/.", f'"{s.scratch}/"'], 2):
        assert s.feed(f"chmod {target} 0777", 2) == [
            f"line {number}: error: chmod on the scratch directory itself is refused: it stays private (0700), "
            "and sockrepl must be able to remove it when you leave",
            "hint: chmod a socket file in it instead, e.g. chmod srv.sock 0500"]
    assert stat.S_IMODE(os.stat(s.scratch).st_mode) == 0o700
    assert s.feed("stat .") == ['[p] stat(".", {st_mode=S_IFDIR|0700, st_size=4096, ...}) = 0']
    rc, _, _ = s.finish()
    assert rc == 1 and not os.path.exists(s.scratch)
