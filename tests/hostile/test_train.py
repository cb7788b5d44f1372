"""Hostile probes of `fewtag train`: data that cannot be learned from, and kill -9 mid-training."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fewtag.errors import InputError
from fewtag.registry import create, load_tagger

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.mark.parametrize(
    "texts, labels, message",
    [
        (["a crash", "another crash"], ["bug", "bug"], r"need at least 2 labels to tag with, but the data has 1"),
        ([], [], "no texts given"),
        (["", "  ", "\n"], ["bug", "docs", "bug"], "empty"),
        (["a", "b"], [[], []], "none of the 2 examples carries a label"),
    ],
)
def test_data_that_cannot_be_learned_from_says_what_is_wrong(texts, labels, message):
    with pytest.raises(InputError, match=message):
        create("tfidf-logreg").fit(texts, labels)


def _write(path: Path, n: int) -> Path:
    words = {"bug": "crash error traceback", "docs": "readme typo guide", "feature": "add option support"}
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            lab = list(words)[i % 3]
            fh.write(json.dumps({"id": str(i), "text": f"{words[lab]} number {i} " * 20, "label": lab}) + "\n")
    return path


def test_kill_9_during_train_leaves_the_old_model_and_the_rerun_cleans_up(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "200"}
    cmd = [sys.executable, "-c", "from fewtag.cli import main; main()", "train"]
    small, big, model = _write(tmp_path / "small.jsonl", 60), _write(tmp_path / "big.jsonl", 6000), tmp_path / "m"
    subprocess.run(
        [*cmd, str(small), "--method", "tfidf-logreg", "--out", str(model)],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    before = (model / "fewtag.json").read_text()
    proc = subprocess.Popen(
        [*cmd, str(big), "--method", "tfidf-logreg", "--out", str(model)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:  # the folds are running: the new model is being fitted
            if "fold 2/" in line or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (model / "fewtag.json").read_text() == before  # the old model is whole
    assert load_tagger(model).predict(["crash error"]) == [["bug"]]
    r = subprocess.run(
        [*cmd, str(small), "--method", "tfidf-logreg", "--out", str(model), "--seed", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
