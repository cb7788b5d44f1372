"""kill -9 during ``fewtag import`` and two importers at once: the store stays a valid SQLite
file holding either the whole import or none of it (one transaction), never a part."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = "from fewtag.cli import main; main()"


def _write(path: Path, n: int, prefix: str, repo: str = "acme/big") -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "id": f"{prefix}{i}",
                        "repo": repo,
                        "title": f"Issue {i}: crash in module {i % 97}",
                        "body": "word " * 30,
                        "labels": ["bug" if i % 2 else "feature"],
                    }
                )
                + "\n"
            )
    return path


def _start_import(path: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "import", str(path), "--store", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )


def _check(db: Path) -> tuple[int, list[tuple]]:
    """``PRAGMA integrity_check`` is ok; the row count and the first rows."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "items" not in tables:
            # killed after SQLite created the file but before the schema committed: an empty store,
            # which the next command initialises; nothing of the import is in it
            return 0, []
        n = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        first = conn.execute("SELECT repo, id, title FROM items WHERE repo='acme/small' ORDER BY id").fetchall()
        return n, first
    finally:
        conn.close()


def _kill_during_write(tmp_path: Path, n: int, delay: float) -> tuple[Path, int, list[tuple], bool]:
    """A committed small import, then a big one killed ``delay`` s after it opened the store's WAL."""
    db = tmp_path / "s.db"
    small = _write(tmp_path / "small.jsonl", 10, "s", repo="acme/small")
    from fewtag.data.importers import import_file

    import_file(small, db)
    before = _check(db)
    big = _write(tmp_path / "big.jsonl", n, "b")
    wal = Path(f"{db}-wal")
    mtime = wal.stat().st_mtime_ns if wal.exists() else 0
    proc = _start_import(big, db)
    deadline = time.monotonic() + 60
    # the importer parses first and opens the store only when every line checked out
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_mtime_ns != mtime:
            break
        time.sleep(0.002)
    time.sleep(delay)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert before[0] == 10
    count, small_rows = _check(db)
    return db, count, small_rows, alive and proc.returncode == -signal.SIGKILL


def test_kill_9_mid_import_keeps_a_valid_store_with_all_or_nothing(tmp_path):
    n = 8_000
    db, count, small_rows, killed = _kill_during_write(tmp_path, n, 0.1)
    assert count in (10, 10 + n), f"{count} rows: a partial import survived the kill"
    assert [r[1] for r in small_rows] == [f"s{i}" for i in sorted(range(10), key=str)]
    assert killed or count == 10 + n  # killed mid-write, or it had already finished
    # the store is still writable and an import completes
    from fewtag.data.importers import import_file

    result = import_file(tmp_path / "big.jsonl", db)
    assert result.counts.inserted + result.counts.unchanged == n
    assert _check(db)[0] == 10 + n


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 0.8])
def test_kill_9_at_several_moments(tmp_path, delay):
    n = 40_000
    db, count, _, killed = _kill_during_write(tmp_path, n, delay)
    assert count in (10, 10 + n)
    rerun = subprocess.run(
        [sys.executable, "-c", CLI, "import", str(tmp_path / "big.jsonl"), "--store", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert _check(db)[0] == 10 + n


def test_kill_9_while_parsing_leaves_no_store(tmp_path):
    big = _write(tmp_path / "big.jsonl", 8_000, "b")
    db = tmp_path / "new.db"
    proc = _start_import(big, db)
    time.sleep(0.3)  # still importing Python modules or parsing: the store is not opened yet
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert not db.exists() or _check(db)[0] in (0, 8_000)


def test_two_importers_at_once_both_succeed(tmp_path):
    db = tmp_path / "s.db"
    a = _write(tmp_path / "a.jsonl", 2000, "a")
    b = _write(tmp_path / "b.jsonl", 2000, "b")
    procs = [_start_import(a, db), _start_import(b, db), _start_import(a, db)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs):
        # SQLite serialises the writers (BEGIN IMMEDIATE, a 30 s busy timeout): all finish
        assert p.returncode == 0, err
    assert _check(db)[0] == 4000
    # the same file twice: one inserted it, the other found it unchanged
    a_lines = [outs[0][0], outs[2][0]]
    assert sorted("2000 new" in o for o in a_lines) == [False, True], a_lines
    assert any("2000 unchanged" in o for o in a_lines)
