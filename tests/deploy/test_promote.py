"""fewtag promote: a paired bootstrap on the same held-out issues; a worse candidate is refused,
a better one promoted with the previous model kept for rollback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fewtag.cli import app
from fewtag.deploy.promote import compare_models, promote_folder, threshold_report
from fewtag.registry import load_tagger
from tests.deploy.conftest import TRAIN, fit_model

HELDOUT = [
    ("app crash with a segfault", "bug"),
    ("traceback error on import", "bug"),
    ("crash on load error", "bug"),
    ("segfault when parsing", "bug"),
    ("error and crash after update", "bug"),
    ("readme docs typo", "docs"),
    ("docs page outdated", "docs"),
    ("tutorial docs wrong", "docs"),
    ("missing docs in the readme", "docs"),
    ("documentation link broken docs", "docs"),
    ("feature request: add yaml support", "feature"),
    ("please support toml feature", "feature"),
    ("add an export option feature", "feature"),
    ("feature: dark mode", "feature"),
    ("support plugins feature", "feature"),
]


def heldout_file(tmp_path):
    path = tmp_path / "holdout.jsonl"
    path.write_text("".join(json.dumps({"text": t, "labels": [lab]}) + "\n" for t, lab in HELDOUT))
    return path


def worse_model(tmp_path):
    """Trained on shuffled labels: no better than chance."""
    texts = [t for ts in TRAIN.values() for t in ts]
    names = list(TRAIN)
    shuffled = {lab: [] for lab in names}
    for i, t in enumerate(texts):
        shuffled[names[(i * 7 + 1) % 3]].append(t)
    return fit_model(tmp_path / "worse", shuffled)


def test_a_worse_candidate_is_refused(model_dir, tmp_path):
    records = [{"text": t} for t, _ in HELDOUT]
    truth = [{lab} for _, lab in HELDOUT]
    cmp = compare_models(load_tagger(model_dir), load_tagger(worse_model(tmp_path)), records, truth)
    assert cmp.current_f1 > cmp.candidate_f1 and cmp.diff_high < 0 and not cmp.promote
    same = compare_models(load_tagger(model_dir), load_tagger(model_dir), records, truth)
    assert same.promote and same.diff_low == same.diff_high == 0.0


def test_cli_refuses_then_promotes_and_keeps_the_previous(model_dir, tmp_path):
    import shutil

    current = tmp_path / "deployed"
    shutil.copytree(worse_model(tmp_path), current)
    data = heldout_file(tmp_path)
    res = CliRunner().invoke(app, ["promote", str(model_dir), "--current", str(current), "--data", str(data)])
    assert res.exit_code == 0, res.output
    assert "promoted" in res.output and "match" in res.output and "no prediction" in res.output
    assert (tmp_path / "deployed.previous" / "fewtag.json").is_file()
    # now the deployed model is the good one: the worse one is refused, nothing changes
    before = (current / "fewtag.json").read_text()
    res = CliRunner().invoke(app, ["promote", str(tmp_path / "worse"), "--current", str(current), "--data", str(data)])
    assert res.exit_code == 3 and "refused" in res.output
    assert (current / "fewtag.json").read_text() == before


def test_threshold_report_shares_add_up():
    import numpy as np

    rows = threshold_report(np.array([[0.95, 0.05], [0.7, 0.3], [0.4, 0.6]]), ["a", "b"], [{"a"}, {"b"}, {"b"}])
    assert [(r.match, r.mismatch, r.none) for r in rows][0] == (2 / 3, 1 / 3, 0.0)  # threshold 0.5
    assert all(abs(r.match + r.mismatch + r.none - 1) < 1e-9 for r in rows)
    assert rows[-1].none == 2 / 3  # at 0.9 only the first issue has a prediction


def test_promote_folder_replaces_atomically(model_dir, tmp_path):
    import shutil

    current = tmp_path / "m"
    shutil.copytree(model_dir, current)
    (current / "marker").write_text("old")
    prev = promote_folder(model_dir, current)
    assert (prev / "marker").read_text() == "old" and not (current / "marker").exists()
