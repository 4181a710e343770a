"""Output targets checked before the work, outputs written all or none, and native stderr silenced."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from signstudio.errors import InputError, os_error_message
from signstudio.files import OutputGroup, check_input_file, check_output_file, check_output_folder
from signstudio.quiet import VERBOSE_ENV, native_stderr_silenced


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------------- checks


@pytest.mark.parametrize("target, suffixes, says", [
    ("{t}/x.txt", (".pose",), "expected a .pose file"),
    ("{t}/x.MP4", (".mp4", ".gif"), None),
    ("{t}/x", (".mp4", ".gif"), "expected a .mp4 or .gif file"),
    ("{t}/no/such/x.pose", None, "the folder {t}/no/such does not exist"),
    ("{t}/file.txt/x.pose", None, "{t}/file.txt is not a folder"),
    ("{t}/file.txt/deeper/x.pose", None, "{t}/file.txt is not a folder"),
    ("{t}/sub", None, "is a folder"),
    ("/sys/x.pose", None, "cannot write in /sys"),
    ("", None, "empty output path"),
    ("{t}/ok.pose", (".pose",), None),
])
def test_check_output_file(tmp_path, target, suffixes, says):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    before = _listing(tmp_path)
    path = target.format(t=tmp_path)
    if says is None:
        assert check_output_file(path, suffixes) == type(tmp_path)(path)
    else:
        with pytest.raises(InputError) as err:
            check_output_file(path, suffixes)
        assert says.format(t=tmp_path) in str(err.value) and "\n" not in str(err.value)
    assert _listing(tmp_path) == before  # the probe file is gone


def test_check_output_file_names_the_option():
    with pytest.raises(InputError, match=r"^--video must name a \.mp4 or \.gif file, got 'x\.avi'$"):
        check_output_file("x.avi", (".mp4", ".gif"), option="--video")


def test_check_output_folder(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    assert check_output_folder(tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()  # nothing created
    assert check_output_folder(tmp_path) == tmp_path
    for target, says in [(tmp_path / "file.txt", "is a file, not a folder"),
                         (tmp_path / "file.txt" / "run", "file.txt is not a folder"),
                         ("/sys/signstudio-run", "cannot write in /sys"), ("", "empty output folder")]:
        with pytest.raises(InputError, match=says):
            check_output_folder(target)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes in read-only folders")
def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write in .*Permission denied"):
            check_output_file(ro / "x.pose")
        with pytest.raises(InputError, match="Permission denied"):
            check_output_folder(ro / "run")
    finally:
        ro.chmod(0o755)


def test_a_full_disk_is_seen_by_the_probe(tmp_path, monkeypatch):
    import signstudio.files as files

    real_open = open

    class Full:
        def __init__(self, f):
            self._f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            pass

    monkeypatch.setattr(files, "open", lambda p, m="r", *a, **k: Full(real_open(p, m, *a, **k)), raising=False)
    with pytest.raises(InputError, match=r"x\.pose: cannot write in .* \(No space left on device\)"):
        check_output_file(tmp_path / "x.pose")
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("make, says", [
    (lambda t: t / "nope.pose", "no such file"),
    (lambda t: t, "is a folder, not a .pose file"),
    (lambda t: t / "f.txt" / "x.pose", "no such file"),
])
def test_check_input_file(tmp_path, make, says):
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(InputError, match=says):
        check_input_file(make(tmp_path), ".pose file")


def test_os_error_message():
    assert os_error_message(PermissionError(errno.EACCES, "Permission denied", "/x")) == "/x: Permission denied"
    assert os_error_message(OSError(errno.ENOSPC, "No space left on device"), "out.pose") == \
        "out.pose: No space left on device"


# ---------------------------------------------------------------------------------- all or none


def test_output_group_commits_together(tmp_path):
    (tmp_path / "a.pose").write_text("old a")
    with OutputGroup() as out:
        out.path(tmp_path / "a.pose").write_text("new a")
        out.path(tmp_path / "b.gif").write_text("new b")
        assert (tmp_path / "a.pose").read_text() == "old a"  # nothing renamed before the end
    assert (tmp_path / "a.pose").read_text() == "new a" and (tmp_path / "b.gif").read_text() == "new b"
    assert _listing(tmp_path) == ["a.pose", "b.gif"]
    assert oct((tmp_path / "b.gif").stat().st_mode & 0o777) != oct(0o600)  # the usual permissions


def test_output_group_leaves_nothing_when_a_writer_fails(tmp_path):
    (tmp_path / "a.pose").write_text("old a")
    with pytest.raises(ValueError):
        with OutputGroup() as out:
            out.path(tmp_path / "a.pose").write_text("new a")
            out.path(tmp_path / "b.mp4")
            raise ValueError("the video encoder broke")
    assert _listing(tmp_path) == ["a.pose"] and (tmp_path / "a.pose").read_text() == "old a"


def test_output_group_names_the_target_of_an_os_error(tmp_path):
    with pytest.raises(InputError) as err:
        with OutputGroup() as out:
            out.path(tmp_path / "a.pose").write_text("a")
            tmp = out.path(tmp_path / "b.gif")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    assert str(err.value) == f"{tmp_path / 'b.gif'}: No space left on device"
    assert _listing(tmp_path) == []


def test_output_group_refuses_a_target_named_twice(tmp_path):
    with pytest.raises(InputError, match="named twice"):
        with OutputGroup() as out:
            out.path(tmp_path / "a.pose")
            out.path(tmp_path / "." / "a.pose")
    assert _listing(tmp_path) == []


# ---------------------------------------------------------------------------------- native stderr


def _fd2_target() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_native_stderr_is_silenced_and_restored(capfd, monkeypatch):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    before = _fd2_target()
    with native_stderr_silenced():
        os.write(2, b"native noise\n")
        assert _fd2_target() != before
    os.write(2, b"ours\n")
    assert _fd2_target() == before
    assert capfd.readouterr().err == "ours\n"


def test_verbose_keeps_native_stderr(capfd, monkeypatch):
    monkeypatch.setenv(VERBOSE_ENV, "1")
    with native_stderr_silenced():
        os.write(2, b"native noise\n")
    assert capfd.readouterr().err == "native noise\n"


def test_overlapping_threads_restore_stderr_once(monkeypatch):
    """Two threads silence overlapping spans (the window's worker and another job): descriptor 2
    is restored only after the last one ends, and always restored, even after an exception."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    before = _fd2_target()
    inside, release = threading.Event(), threading.Event()
    seen = []

    def worker():
        with native_stderr_silenced():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    with pytest.raises(RuntimeError):
        with native_stderr_silenced():
            raise RuntimeError("a failing job")
    seen.append(_fd2_target())  # the worker still holds it
    release.set()
    t.join(5)
    assert seen == [seen[0]] and seen[0] != before
    assert _fd2_target() == before


def test_python_stderr_apart_keeps_our_lines():
    """The CLI's mode, in a real process: Python's writes still reach stderr, native writes to
    descriptor 2 (what MediaPipe's C++ does) do not, and descriptor 2 is back afterwards."""
    import subprocess
    import sys

    from signstudio.paths import PROJECT_ROOT

    code = ("import os, sys\n"
            "from signstudio.quiet import python_stderr_apart\n"
            "with python_stderr_apart():\n"
            "    print('progress from Python', file=sys.stderr)\n"
            "    os.write(2, b'native noise\\n')\n"
            "os.write(2, b'native after\\n')\n"
            "print('after', file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k != VERBOSE_ENV}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**env, "PYTHONPATH": str(PROJECT_ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "progress from Python\nnative after\nafter\n"
