"""fewtag.io: atomic writes, the output-folder marker and the clean-up of killed writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fewtag.errors import InputError
from fewtag.io import (
    MARKER,
    allow_replace,
    atomic_dir,
    atomic_file,
    check_out,
    output_kind,
    pid_alive,
    sweep_stale,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir(parents=True)
    (victim / "thesis.tex").write_text("years of work")
    return victim


def _dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _age(path: Path, seconds: float = 3600) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


# ---------------------------------------------------------------- the marker


def test_atomic_dir_writes_the_marker_with_its_kind(tmp_path):
    with atomic_dir(tmp_path / "m", kind="model") as tmp:
        (tmp / "w.bin").write_bytes(b"1")
    marker = json.loads((tmp_path / "m" / MARKER).read_text())
    assert marker["kind"] == "model" and marker["written_by"].startswith("fewtag ")
    assert output_kind(tmp_path / "m") == "model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporaries left


def test_a_foreign_folder_is_refused_and_left_untouched(tmp_path):
    victim = _victim(tmp_path)
    with pytest.raises(InputError) as err:
        with atomic_dir(victim, kind="model") as tmp:
            (tmp / "w.bin").write_bytes(b"1")
    msg = str(err.value)
    assert str(victim) in msg and "--force" in msg and "\n" not in msg
    assert [p.name for p in victim.iterdir()] == ["thesis.tex"]
    assert (victim / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim"]


def test_the_block_does_not_run_when_the_target_is_refused(tmp_path):
    victim = _victim(tmp_path)
    ran = []
    with pytest.raises(InputError):
        with atomic_dir(victim, kind="model"):
            ran.append(1)
    assert not ran


def test_a_folder_that_appears_during_the_work_is_not_replaced(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(InputError):
        with atomic_dir(target, kind="model") as tmp:
            (tmp / "w.bin").write_bytes(b"1")
            target.mkdir()
            (target / "notes.txt").write_text("mine")  # someone else's, created meanwhile
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_folder_and_a_fewtag_folder_are_replaced(tmp_path):
    (tmp_path / "m").mkdir()
    with atomic_dir(tmp_path / "m", kind="model") as tmp:
        (tmp / "a").write_text("1")
    (tmp_path / "m" / "stale").write_text("from before")
    with atomic_dir(tmp_path / "m", kind="model") as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [MARKER, "b"]


def test_a_fewtag_folder_of_another_kind_is_refused(tmp_path):
    with atomic_dir(tmp_path / "prep", kind="prepared") as tmp:
        (tmp / "train.jsonl").write_text("")
    with pytest.raises(InputError, match="holds a prepared dataset.*not a fewtag model folder"):
        check_out(tmp_path / "prep", "model")
    check_out(tmp_path / "prep", "prepared")
    check_out(tmp_path / "prep")  # kind None: any fewtag output


@pytest.mark.parametrize(
    "files, kind",
    [
        ({"fewtag.json": {"method": "naive-bayes", "classes": ["a", "b"]}}, "model"),
        ({"prepare.json": {}, "labels.json": {"labels": []}}, "prepared"),
        ({"config.json": {"kind": "fewtag-bench"}}, "bench"),
        ({"index.faiss": "", "ids.json": [], "meta.json": {}}, "index"),
        ({"adapt.json": {}}, "encoder"),
    ],
)
def test_folders_written_before_the_marker_count_as_fewtag_outputs(tmp_path, files, kind):
    folder = tmp_path / "old"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data))
    assert output_kind(folder) == kind
    with atomic_dir(folder, kind=kind) as tmp:
        (tmp / "new").write_text("1")
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "new"]


@pytest.mark.parametrize(
    "files",
    [
        {"fewtag.json": "not json"},  # a file of that name is not enough
        {"fewtag.json": {"classes": []}},  # nor JSON without a method
        {"config.json": {"kind": "something"}},  # another tool's config.json
    ],
)
def test_look_alike_folders_are_not_fewtag_outputs(tmp_path, files):
    folder = tmp_path / "x"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_text(data if isinstance(data, str) else json.dumps(data))
    assert output_kind(folder) is None
    with pytest.raises(InputError, match="--force"):
        check_out(folder, "model")


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "m").write_text("a file")
    with pytest.raises(InputError, match="is a file"):
        with atomic_dir(tmp_path / "m", kind="model"):
            pass
    assert (tmp_path / "m").read_text() == "a file"


def test_force_and_allow_replace_replace_a_foreign_folder(tmp_path):
    victim = _victim(tmp_path)
    with atomic_dir(victim, kind="model", force=True) as tmp:
        (tmp / "w.bin").write_bytes(b"1")
    assert sorted(p.name for p in victim.iterdir()) == [MARKER, "w.bin"]
    other = _victim(tmp_path / "b")
    with allow_replace(other):
        check_out(other, "model")
        with atomic_dir(other, kind="model") as tmp:
            (tmp / "w.bin").write_bytes(b"1")
    assert not (other / "thesis.tex").exists()
    third = _victim(tmp_path / "c")
    with pytest.raises(InputError):  # allow_replace is undone on exit
        check_out(third, "model")


def test_the_current_folder_is_never_replaced_even_with_force(tmp_path, monkeypatch):
    here = tmp_path / "here"
    (here / "sub").mkdir(parents=True)
    monkeypatch.chdir(here / "sub")
    for target in (here / "sub", here, Path(".")):
        with pytest.raises(InputError, match="current folder"):
            check_out(target, "model", force=True)
    assert (here / "sub").is_dir()


def test_a_failing_block_leaves_the_old_folder_and_no_temporaries(tmp_path):
    with atomic_dir(tmp_path / "m", kind="model") as tmp:
        (tmp / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "m", kind="model") as tmp:
            (tmp / "a").write_text("new")
            raise RuntimeError("boom")
    assert (tmp_path / "m" / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


# ---------------------------------------------------------------- killed writes


def test_temporary_names_carry_the_pid(tmp_path):
    with atomic_dir(tmp_path / "m") as tmp:
        assert tmp.name.startswith(f".m.{os.getpid()}.") and tmp.name.endswith(".tmp")
        with atomic_file(tmp_path / "f.txt") as fh:
            fh.write("x")
            (name,) = [p.name for p in tmp_path.iterdir() if p.name.startswith(".f.txt.")]
            assert name.startswith(f".f.txt.{os.getpid()}.") and name.endswith(".tmp")


def test_stale_temporaries_of_a_dead_process_are_removed_on_the_next_write(tmp_path):
    pid = _dead_pid()
    stale_dir = tmp_path / f".m.{pid}.abc123_x.tmp"
    stale_dir.mkdir()
    (stale_dir / "half.bin").write_bytes(b"\0" * 10)
    stale_file = tmp_path / f".f.json.{pid}.zz9.tmp"
    stale_file.write_text("{")
    for p in (stale_dir, stale_file):
        _age(p)
    with atomic_dir(tmp_path / "m", kind="model") as tmp:
        (tmp / "a").write_text("1")
    assert not stale_dir.exists()
    assert stale_file.exists()  # another target's leftovers wait for that target's next write
    with atomic_file(tmp_path / "f.json") as fh:
        fh.write("{}")
    assert not stale_file.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "m"]


def test_temporaries_of_a_live_process_are_kept(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".m.{sleeper.pid}.abc123.tmp"
        live.mkdir()
        _age(live)
        with atomic_dir(tmp_path / "m", kind="model") as tmp:
            (tmp / "a").write_text("1")
        assert live.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()
    sweep_stale(tmp_path / "m")
    assert not live.exists()  # gone once its process is


def test_temporaries_newer_than_this_process_are_kept(tmp_path):
    fresh = tmp_path / f".m.{_dead_pid()}.abc123.tmp"  # made after this process started
    fresh.mkdir()
    assert sweep_stale(tmp_path / "m") == []
    assert fresh.is_dir()


def test_other_targets_and_foreign_dotfiles_are_not_touched(tmp_path):
    pid = _dead_pid()
    keep = [
        tmp_path / f".m2.{pid}.abc.tmp",
        tmp_path / f".m.{pid}.tmp",
        tmp_path / ".m.notes",
        tmp_path / f".m.x.{pid}.abc.tmp",
        tmp_path / f".m.{pid}.a.b.tmp",
    ]
    for p in keep:
        p.mkdir()
        _age(p)
    assert sweep_stale(tmp_path / "m") == []
    assert all(p.is_dir() for p in keep)


def test_an_interrupted_swap_is_put_back(tmp_path):
    """Killed between the two renames: the target is missing and its old copy is beside it."""
    pid = _dead_pid()
    old = tmp_path / f".m.old-{pid}"
    old.mkdir()
    (old / "fewtag.json").write_text('{"method": "naive-bayes"}')
    _age(old)
    assert sweep_stale(tmp_path / "m") == [old]
    assert (tmp_path / "m" / "fewtag.json").is_file() and not old.exists()


def test_a_zombie_counts_as_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{proc.pid}/stat")
    if not stat.exists():
        proc.wait()
        pytest.skip("no /proc")
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert not pid_alive(proc.pid)
    finally:
        proc.wait()
    assert pid_alive(os.getpid())


_SAVER = textwrap.dedent("""
    import sys, time
    from fewtag.io import atomic_dir
    with atomic_dir(sys.argv[1], kind="model") as tmp:
        (tmp / "weights.bin").write_bytes(b"new" * 1000)
        print("ready", flush=True)
        time.sleep(60)
""")


def test_kill_9_during_a_save_keeps_the_old_folder_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target, kind="model") as tmp:
        (tmp / "weights.bin").write_bytes(b"old")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()  # SIGKILL: no clean-up runs
        proc.wait()
    left = [p.name for p in tmp_path.iterdir() if p.name != "model"]
    assert len(left) == 1 and left[0].startswith(f".model.{proc.pid}.")
    assert (target / "weights.bin").read_bytes() == b"old"
    time.sleep(0.05)  # the next run starts after the kill
    code = (
        "import sys\nfrom fewtag.io import atomic_dir\n"
        "with atomic_dir(sys.argv[1], kind='model') as tmp:\n    (tmp / 'weights.bin').write_bytes(b'next')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(target)], check=True, env=env, timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert (target / "weights.bin").read_bytes() == b"next"
