"""Metrics agree with scikit-learn on random single- and multi-label predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from fewtag.errors import ConfigError
from fewtag.eval.bench import PeakRSS, parse_slices
from fewtag.eval.metrics import accuracy, confusion_matrix, macro_f1, micro_f1, per_label_scores, score


@pytest.mark.parametrize("seed", range(5))
def test_multi_label_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    t = rng.random((40, 5)) < 0.3
    p = rng.random((40, 5)) < 0.3
    t[:, 4] = False  # a label absent from truth ...
    p[:, 3] = False  # ... and one never predicted
    assert micro_f1(t, p) == pytest.approx(skm.f1_score(t, p, average="micro", zero_division=0))
    assert macro_f1(t, p) == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))
    assert accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    pr, rc, f1, sup = skm.precision_recall_fscore_support(t, p, zero_division=0)
    per = per_label_scores(t, p)
    np.testing.assert_allclose(per["precision"], pr)
    np.testing.assert_allclose(per["recall"], rc)
    np.testing.assert_allclose(per["f1"], f1)
    np.testing.assert_array_equal(per["support"], sup)


@pytest.mark.parametrize("seed", range(5))
def test_single_label_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    c = 4
    ti = rng.integers(0, c - 1, 50)  # class 3 never true
    pi = rng.integers(0, c, 50)
    t, p = np.eye(c, dtype=int)[ti], np.eye(c, dtype=int)[pi]
    labels = list(range(c))
    assert micro_f1(t, p) == pytest.approx(skm.f1_score(ti, pi, average="micro", labels=labels))
    assert micro_f1(t, p) == pytest.approx(skm.accuracy_score(ti, pi))
    assert macro_f1(t, p) == pytest.approx(skm.f1_score(ti, pi, average="macro", labels=labels, zero_division=0))
    np.testing.assert_array_equal(confusion_matrix(t, p)[:, :c], skm.confusion_matrix(ti, pi, labels=labels))
    assert confusion_matrix(t, p)[:, c].sum() == 0


def test_confusion_counts_abstentions_in_last_column():
    t = np.array([[1, 0], [0, 1], [0, 1]])
    p = np.array([[1, 0], [0, 0], [1, 0]])
    assert confusion_matrix(t, p).tolist() == [[1, 0, 0], [1, 0, 1]]


def test_score_shapes_and_errors():
    s = score([[1, 0], [0, 1]], [[1, 0], [1, 0]], ["a", "b"])
    assert s["micro_f1"] == 0.5 and s["accuracy"] == 0.5
    assert [r["label"] for r in s["per_label"]] == ["a", "b"]
    assert s["per_label"][1] == {"label": "b", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    with pytest.raises(ValueError, match="shape"):
        micro_f1([[1, 0]], [[1, 0, 0]])


def test_parse_slices():
    assert parse_slices("128,8, all,16") == ["8", "16", "128", "all"]
    for bad in ("8,x", "0", "-4", "8,8", "", "1.5"):
        with pytest.raises(ConfigError):
            parse_slices(bad)


def test_peak_rss_sees_an_allocation():
    with PeakRSS() as base:
        pass
    with PeakRSS() as mem:
        block = np.ones(40 * 2**20 // 8)  # 40 MiB, touched
        block.sum()
    del block
    assert mem.peak_mb > base.peak_mb + 30


def test_text_losses_match_sklearn_log_loss():
    from fewtag.eval.metrics import text_losses

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=20)
    ti = rng.integers(0, 3, 20)
    t = np.eye(3, dtype=int)[ti]
    losses = text_losses(t, p, multi_label=False)
    assert losses.mean() == pytest.approx(skm.log_loss(ti, p, labels=[0, 1, 2]))
    q = rng.random((20, 3))
    ml = text_losses(t, q, multi_label=True)
    expected = np.mean([skm.log_loss(t[:, j], q[:, j], labels=[0, 1]) for j in range(3)])
    assert ml.mean() == pytest.approx(expected)
