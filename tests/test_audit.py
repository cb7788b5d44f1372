"""fewtag audit: confident learning over out-of-fold scores finds wrong and missing labels."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.audit import audit, find_issues
from fewtag.cli import app
from fewtag.labels import binarize
from fewtag.registry import create

WORDS = {
    "bug": "crash error exception traceback broken fails segfault regression",
    "feature": "add support option request allow enable new proposal",
    "docs": "documentation typo readme guide example tutorial wording link",
}


def _texts(n_per: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for lab, words in WORDS.items():
        vocab = words.split()
        for _ in range(n_per):
            texts.append(" ".join(rng.choice(vocab) for _ in range(6)) + f" item{rng.randint(0, 10**6)}")
            labels.append(lab)
    return texts, labels


def test_a_single_label_row_against_all_the_evidence_is_flagged_with_the_better_label():
    y = np.eye(3, dtype=int)[[0] * 15 + [1] * 15 + [2] * 15]
    s = np.where(y == 1, 0.8, 0.1)
    s[4] = [0.05, 0.05, 0.9]  # given 0, everything says 2
    issues, noise = find_issues(y, s, ["a", "b", "c"], multi_label=False, ids=[f"r{i}" for i in range(45)])
    assert [(i.id, i.label, i.suggested, i.kind) for i in issues] == [("r4", "a", ["c"], "wrong")]
    assert noise["a"] > 0 and noise["b"] == 0.0


def test_multi_label_rows_get_missing_and_wrong_flags_per_label():
    y = np.zeros((40, 2), dtype=int)
    y[:20, 0] = 1
    y[20:, 1] = 1
    s = np.where(y == 1, 0.9, 0.05)
    s[3, 1] = 0.97  # row 3 scores high for label b it does not carry: missing
    s[25, 1] = 0.02  # row 25 carries b but scores nothing for it: wrong
    issues, _ = find_issues(y, s, ["a", "b"], multi_label=True)
    got = {(i.index, i.label, i.kind) for i in issues}
    assert (3, "b", "missing") in got and (25, "b", "wrong") in got
    missing = next(i for i in issues if i.kind == "missing")
    assert missing.suggested == ["a", "b"]


def test_injected_flips_are_found_at_the_target_rates():
    texts, labels = _texts(60, seed=1)
    classes = sorted(WORDS)
    rng = np.random.default_rng(0)
    flipped = set(rng.choice(len(texts), len(texts) // 10, replace=False).tolist())
    noisy = [str(rng.choice([c for c in classes if c != lab])) if i in flipped else lab for i, lab in enumerate(labels)]
    result = audit(
        lambda: create("tfidf-logreg", None, seed=0),
        texts,
        binarize([[lab] for lab in noisy], classes),
        classes,
        multi_label=False,
    )
    flagged = {it.index for it in result.issues}
    precision = len(flagged & flipped) / max(1, len(flagged))
    recall = len(flagged & flipped) / len(flipped)
    assert precision >= 0.6 and recall >= 0.5, (precision, recall)
    assert result.folds == 5 and result.rows == len(texts)


def test_audit_command_writes_the_reports(tmp_path):
    texts, labels = _texts(30, seed=2)
    labels[0] = "docs"  # a bug text labelled docs
    data = tmp_path / "labelled.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"i{i}", "text": t, "labels": [lab]}) + "\n"
            for i, (t, lab) in enumerate(zip(texts, labels))
        )
    )
    out = tmp_path / "audit"
    res = CliRunner().invoke(app, ["audit", str(data), "--out", str(out)])
    assert res.exit_code == 0, res.output
    with open(out / "label_issues.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert any(r["id"].endswith("#i0") and r["given"] == "docs" and r["suggested"] == "bug" for r in rows)
    assert "Label audit" in (out / "report.md").read_text()
    with open(out / "noise_rates.csv", newline="") as fh:
        assert {r["label"] for r in csv.DictReader(fh)} == set(WORDS)


def test_audit_refuses_a_foreign_out_folder_and_bad_input(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    data = tmp_path / "one.jsonl"
    data.write_text("".join(json.dumps({"text": f"t {i}", "labels": ["bug"]}) + "\n" for i in range(5)))
    res = CliRunner().invoke(app, ["audit", str(data), "--out", str(victim)])
    assert res.exit_code == 1 and (victim / "keep.txt").read_text() == "mine"
    res = CliRunner().invoke(app, ["audit", str(data), "--out", str(tmp_path / "new")])
    assert res.exit_code == 1 and not (tmp_path / "new").exists()
    res = CliRunner().invoke(app, ["audit", "--out", str(tmp_path / "x")])
    assert res.exit_code == 1


@pytest.mark.parametrize("missing", ["cleanlab"])
def test_a_missing_cleanlab_is_one_clear_error(monkeypatch, missing):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith(missing):
            raise ImportError(f"No module named {name!r}")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    from fewtag.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"pip install 'fewtag\[active\]'"):
        find_issues(np.eye(2, dtype=int), np.eye(2), ["a", "b"], multi_label=False)


def test_audit_of_a_store_uses_its_labelled_items(tmp_path):
    from fewtag.data.store import Item, Store

    texts, labels = _texts(20, seed=3)
    db = tmp_path / "s.db"
    with Store(db) as s:
        s.upsert_items(
            Item("o/r", str(i), title=t, labels=[lab], number=i) for i, (t, lab) in enumerate(zip(texts, labels))
        )
        s.add_annotations([("o/r", "0", ["feature"])], who="ana")  # the log overrides the GitHub label
    out = tmp_path / "audit"
    res = CliRunner().invoke(app, ["audit", "--store", str(db), "--labels", "bug,feature,docs", "--out", str(out)])
    assert res.exit_code == 0, res.output
    with open(out / "label_issues.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["repo"], r["id"], r["given"], r["suggested"]) for r in rows][:1] == [("o/r", "0", "feature", "bug")]
    res = CliRunner().invoke(app, ["audit", "--store", str(db), "--out", str(tmp_path / "b")])
    assert res.exit_code == 1 and "--labels" in res.output
