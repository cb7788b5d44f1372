import numpy as np
import pytest

from fewtag.decision import DecisionRule, best_label_f1, tune_rule
from fewtag.errors import ConfigError


def test_rules_apply():
    s = np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.3]])
    assert DecisionRule("top-k", k=2, abstain=False).apply(s).astype(int).tolist() == [[1, 1, 0], [1, 0, 1]]
    assert DecisionRule("threshold", threshold=0.5, abstain=False).apply(s).astype(int).tolist() == [
        [1, 1, 0],
        [0, 0, 1],
    ]
    per = DecisionRule("per-label", thresholds=[0.95, 0.5, 0.25], abstain=True)
    assert per.apply(s).astype(int).tolist() == [[0, 1, 0], [0, 0, 1]]
    with pytest.raises(ConfigError, match="one of"):
        DecisionRule("median")


def test_tuning_finds_per_label_thresholds():
    rng = np.random.RandomState(0)
    y = (rng.rand(300, 3) < 0.3).astype(int)
    # label 0 separates at 0.8, label 1 at 0.2, label 2 at 0.5
    s = np.where(y == 1, [0.85, 0.25, 0.55], [0.75, 0.15, 0.45]) + rng.rand(300, 3) * 0.04
    rule = tune_rule(s, y, multi_label=True)
    assert rule.kind == "per-label"
    assert (rule.apply(s) == y.astype(bool)).all()
    assert DecisionRule.from_dict(rule.to_dict()) == rule


def test_precision_target():
    y = np.array([[1], [1], [0], [0], [1]])
    s = np.array([[0.9], [0.7], [0.6], [0.3], [0.5]])
    rule = tune_rule(s, y, multi_label=True, kinds=("per-label",), precision_target=1.0)
    assert rule.thresholds[0] > 0.6 and rule.apply(s)[:, 0].tolist() == [True, True, False, False, False]


def test_single_label_is_top1():
    rule = tune_rule(np.eye(3), np.eye(3, dtype=int), multi_label=False)
    assert rule.kind == "top-k" and rule.k == 1 and not rule.abstain


def test_macro_objective_gives_each_label_its_f1_best_threshold():
    # label 0 is common and clean; label 1 is rare with two high-scoring negatives
    y = np.array([[1, 0]] * 10 + [[0, 0]] * 10 + [[0, 1]] * 2)
    s = np.zeros((22, 2))
    s[:10, 0], s[10:, 0] = 0.8, 0.2
    s[:, 1] = 0.05
    s[20, 1], s[21, 1] = 0.3, 0.35  # the positives
    s[0, 1], s[1, 1] = 0.32, 0.5  # negatives
    rule = tune_rule(s, y, multi_label=True, objective="macro")
    assert rule.kind == "per-label" and rule.abstain
    assert (rule.apply(s)[:, 0] == y[:, 0].astype(bool)).all()
    # keeping all four texts scoring >= 0.3 gives F1 2*2/(4+2); the threshold sits halfway to 0.05
    assert best_label_f1(s[:, 1], y[:, 1]) == (pytest.approx(2 / 3), pytest.approx(0.175))
    assert rule.thresholds[1] == pytest.approx(0.175)


def test_best_label_f1_edges():
    assert best_label_f1(np.array([0.3, 0.3, 0.1]), np.array([1, 0, 0])) == (pytest.approx(2 / 3), 0.2)
    f1, t = best_label_f1(np.array([0.4, 0.2]), np.array([0, 0]))
    assert f1 == 0.0 and t > 0.4
    # a constant score (label unseen in training) never tags every text
    f1, t = best_label_f1(np.full(5, 0.3), np.array([1, 0, 0, 0, 0]))
    assert f1 == 0.0 and t > 0.3
    # nor does the lowest score when only ties separate nothing useful
    assert best_label_f1(np.array([0.9, 0.1, 0.1]), np.array([1, 1, 0]))[1] == pytest.approx(0.5)
    assert best_label_f1(np.array([0.5, 0.5]), np.array([1, 1]))[1] < 0.5  # all positive: keep all
    with pytest.raises(ConfigError, match="objective"):
        tune_rule(np.eye(2), np.eye(2, dtype=int), multi_label=True, objective="weighted")
