"""Issue 12: ``fewtag index`` killed mid-run (SIGKILL) keeps its finished batches; a rerun resumes.

The child process runs the real CLI (``fewtag index``) on a real SQLite store
with the deterministic bag-of-words encoder of the search tests, and is killed
with SIGKILL -- by its own encoder after N batches (deterministic) or from
outside while it works. The parent checks the store with ``PRAGMA
integrity_check``, reruns ``fewtag index`` and counts what is encoded again.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
import fewtag.search.encoder as search_encoder
from fewtag.cli import app
from fewtag.data.store import Item, Store
from fewtag.search import build_index, index_folder, open_index
from fewtag.search.encoder import vector_key
from tests.search.conftest import FakeEncoder

ROOT = Path(__file__).resolve().parents[2]
N_ITEMS, BATCH = 300, 64  # build_index's default batch: 5 batches, the last one of 44

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    sys.path.insert(0, {root!r})
    import fewtag.search.encoder as search_encoder
    from tests.search.conftest import FakeEncoder

    mode, at = sys.argv[1], int(sys.argv[2])

    class Killing(FakeEncoder):
        def encode(self, texts):
            if mode == "self" and len(self.calls) == at:  # batches 1..at are committed
                os.kill(os.getpid(), signal.SIGKILL)
            out = super().encode(texts)
            if mode == "outside":
                print(f"encoded {{len(self.calls)}}", flush=True)
                time.sleep(0.05)
            return out

    encoder = Killing()
    search_encoder.load_encoder = lambda model=None, max_length=256: encoder
    from fewtag.cli import main
    sys.argv = ["fewtag", "--quiet", "index", "--store", {db!r}]
    main()
""")


def _make_store(path: Path) -> str:
    words = "crash load save dataset stream audio image token docs typo map filter cache".split()
    with Store(path) as s:
        s.upsert_items(
            [
                Item(
                    "o/r",
                    str(i),
                    title=f"issue {i}: {words[i % 13]} {words[i % 7]}",
                    body=f"{words[i % 5]} fails with {words[i % 11]} number {i}",
                    number=i,
                    updated_at="2024-01-01T00:00:00Z",
                )
                for i in range(1, N_ITEMS + 1)
            ]
        )
    return str(path)


def _child(tmp_path: Path, db: str, *args: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT), db=db))
    return subprocess.Popen(
        [sys.executable, str(script), *args], cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _integrity(db: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _checkpointed(db: str) -> int:
    with Store(db) as s:
        return s.count_embeddings(*vector_key(FakeEncoder()))


def _rerun(db: str, monkeypatch) -> tuple[dict, FakeEncoder]:
    encoder = FakeEncoder()
    monkeypatch.setattr(search_encoder, "load_encoder", lambda model=None, max_length=256: encoder)
    res = CliRunner().invoke(app, ["index", "--store", db, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout), encoder


def _clean_vectors(tmp_path: Path) -> np.ndarray:
    with Store(_make_store(tmp_path / "clean.db")) as s:
        return build_index(s, FakeEncoder())[0].vectors


def test_sigkill_after_two_batches_resumes_with_the_rest(tmp_path, monkeypatch):
    db = _make_store(tmp_path / "fewtag.db")
    proc = _child(tmp_path, db, "self", "2")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    assert _integrity(db) == "ok"
    assert not index_folder(db).exists()  # killed before the index was written
    assert _checkpointed(db) == 2 * BATCH  # the finished batches survived the kill

    report, encoder = _rerun(db, monkeypatch)
    assert report["n_resumed"] == 2 * BATCH and report["n_reused"] == 0
    assert report["n_embedded"] == N_ITEMS - 2 * BATCH == sum(encoder.calls)  # only the rest
    assert report["n_items"] == N_ITEMS and _integrity(db) == "ok"
    np.testing.assert_allclose(open_index(db).vectors, _clean_vectors(tmp_path), atol=1e-6)
    assert _checkpointed(db) == 0  # the checkpoint is dropped once vectors.npy holds it

    again, encoder = _rerun(db, monkeypatch)  # a finished index is reused as before
    assert again["n_reused"] == N_ITEMS and again["n_embedded"] == 0 and encoder.calls == []


def test_sigkill_from_outside_keeps_whole_batches_only(tmp_path, monkeypatch):
    db = _make_store(tmp_path / "fewtag.db")
    proc = _child(tmp_path, db, "outside", "0")
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:  # kill while the third batch is being encoded or committed
            if line.strip() == "encoded 3":
                proc.send_signal(signal.SIGKILL)
                break
        proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    assert proc.returncode == -signal.SIGKILL
    assert _integrity(db) == "ok"
    done = _checkpointed(db)
    assert done in (2 * BATCH, 3 * BATCH)  # whole batches: a commit is all or nothing

    report, encoder = _rerun(db, monkeypatch)
    assert report["n_resumed"] == done and report["n_embedded"] == N_ITEMS - done == sum(encoder.calls)
    assert _integrity(db) == "ok"
    np.testing.assert_allclose(open_index(db).vectors, _clean_vectors(tmp_path), atol=1e-6)


def test_checkpoint_of_an_edited_issue_is_not_reused(tmp_path, monkeypatch):
    """Checkpoint rows are keyed by the text's hash: an issue edited between the runs is embedded anew."""
    db = _make_store(tmp_path / "fewtag.db")
    proc = _child(tmp_path, db, "self", "1")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL and _checkpointed(db) == BATCH
    with Store(db) as s:
        item = s.get_item("o/r", "1")  # in the first, committed batch (ordered by number)
        item.body += " and also on windows"
        s.upsert_items([item])
    report, _ = _rerun(db, monkeypatch)
    assert report["n_resumed"] == BATCH - 1 and report["n_embedded"] == N_ITEMS - BATCH + 1
