"""Per-label calibration on out-of-fold scores: it lowers the calibration error, is saved as plain
JSON with the model, is applied by predict, and turns a precision target into a threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag.calibration import (
    Calibration,
    expected_calibration_error,
    fit_calibration,
    reliability_table,
    threshold_for_precision,
)
from fewtag.errors import ConfigError


def overconfident(n=600, c=3, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n, c) < 0.3).astype(int)
    logits = 2.5 * (y - 0.5) + rng.randn(n, c) * 1.5
    return 1 / (1 + np.exp(-3 * logits)), y  # sharpened: too sure of itself


def test_calibration_lowers_ece_on_fresh_data():
    s, y = overconfident(seed=0)
    cal = fit_calibration(s, y, multi_label=True)
    s2, y2 = overconfident(seed=1)
    before = expected_calibration_error(s2, y2, multi_label=True)
    after = expected_calibration_error(cal.apply(s2), y2, multi_label=True)
    assert after < before / 2 and after <= 0.05, (before, after)
    assert cal.ece["after"] < cal.ece["before"]


def test_round_trip_is_plain_json():
    s, y = overconfident()
    cal = fit_calibration(s, y, multi_label=True)
    text = json.dumps(cal.to_dict())
    back = Calibration.from_dict(json.loads(text))
    assert np.allclose(back.apply(s), cal.apply(s))
    with pytest.raises(ConfigError, match="unknown calibrator"):
        Calibration.from_dict({"labels": [{"kind": "pickle"}]})


def test_temperature_for_single_label_keeps_ranking_and_sums_to_one():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, 3, 500)
    logits = rng.randn(500, 3)
    logits[np.arange(500), truth] += 1.0
    z = 4 * logits
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.eye(3, dtype=int)[truth]
    cal = fit_calibration(p, y, multi_label=False)
    q = cal.apply(p)
    assert cal.kind == "temperature" and cal.temperature > 1.5
    assert np.allclose(q.sum(1), 1) and (q.argmax(1) == p.argmax(1)).all()
    assert expected_calibration_error(q, y, multi_label=False) < expected_calibration_error(p, y, multi_label=False)


def test_threshold_for_a_precision_target():
    s, y = overconfident()
    cal = fit_calibration(s, y, multi_label=True)
    t = threshold_for_precision(cal, 0, 0.9)
    assert t is not None
    honest = np.array(cal.precision[0])
    assert honest[int(round(t * 100))] >= 0.9
    assert threshold_for_precision(cal, 0, 1.0, min_support=10_000) is None


def test_reliability_table_and_ece():
    rows = reliability_table(np.array([[0.05], [0.95], [0.95]]), np.array([[0], [1], [0]]), multi_label=True)
    assert [r["count"] for r in rows] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert rows[9]["observed"] == 0.5
    assert expected_calibration_error(
        np.array([[0.05], [0.95], [0.95]]), np.array([[0], [1], [0]]), multi_label=True
    ) == pytest.approx((0.05 + 2 * 0.45) / 3, abs=1e-5)


def test_saved_with_the_model_and_used_by_predict(tmp_path):
    from fewtag.crossval import fit_with_cv
    from fewtag.data.text import TextSpec
    from fewtag.decision import DecisionSpec
    from fewtag.registry import create, load_tagger

    rng = np.random.RandomState(0)
    words = {"bug": ["crash", "error", "segfault", "traceback"], "docs": ["readme", "typo", "docs", "tutorial"]}
    texts, y = [], []
    for i in range(80):
        lab = ["bug", "docs"][i % 2]
        other = ["bug", "docs"][1 - i % 2]
        picks = list(rng.choice(words[lab], 2)) + ([rng.choice(words[other])] if i % 5 == 0 else [])
        texts.append(" ".join(picks + [f"w{i}"]))
        y.append([1, 0] if lab == "bug" else [0, 1])
    tagger, est = fit_with_cv(
        lambda: create("tfidf-logreg"),
        texts,
        np.array(y),
        ["bug", "docs"],
        multi_label=True,
        decision=DecisionSpec(),
        text=TextSpec(),
    )
    cal = tagger.calibration()
    assert cal is not None and cal.ece["fitted_on"] == "out-of-fold" and cal.ece["rows"] == 80
    path = tagger.save(tmp_path / "m")
    meta = json.loads((path / "fewtag.json").read_text())
    assert meta["calibration"]["kind"] == "per-label" and len(meta["calibration"]["labels"]) == 2
    assert not list(path.glob("*.pkl")) and not list(path.glob("*.joblib"))
    loaded = load_tagger(path)
    raw = loaded.predict_proba(["crash in the readme"], calibrated=False)
    assert np.allclose(loaded.predict_proba(["crash in the readme"]), loaded.calibration().apply(raw))
    few, _ = fit_with_cv(
        lambda: create("tfidf-logreg"),
        texts[:20],
        np.array(y[:20]),
        ["bug", "docs"],
        multi_label=True,
        decision=DecisionSpec(),
        text=TextSpec(),
    )
    assert few.calibration() is None  # 20 held-out rows: too few to calibrate


def test_train_prints_the_reliability_table(tmp_path):
    from typer.testing import CliRunner

    from fewtag.cli import app

    rng = np.random.RandomState(1)
    words = {"bug": ["crash", "error", "segfault", "traceback"], "docs": ["readme", "typo", "docs", "tutorial"]}
    lines = []
    for i in range(60):
        lab = ["bug", "docs"][i % 2]
        lines.append(json.dumps({"text": " ".join(list(rng.choice(words[lab], 2)) + [f"w{i}"]), "labels": [lab]}))
    data = tmp_path / "issues.jsonl"
    data.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(
        app, ["train", str(data), "--method", "tfidf-logreg", "--out", str(tmp_path / "m"), "--holdout", "0.25"]
    )
    assert res.exit_code == 0, res.output
    assert "calibration (" in res.output and "ECE" in res.output and "score bin" in res.output
    assert "test calibration (scored once): ECE" in res.output
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["calibration"]["ece"]["fitted_on"] == "out-of-fold"
