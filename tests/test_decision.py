import numpy as np
import pytest

from fewtag.decision import DecisionRule, tune_rule
from fewtag.errors import ConfigError


def test_rules_apply():
    s = np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.3]])
    assert DecisionRule("top-k", k=2, abstain=False).apply(s).astype(int).tolist() == [[1, 1, 0], [1, 0, 1]]
    assert DecisionRule("threshold", threshold=0.5, abstain=False).apply(s).astype(int).tolist() == \
        [[1, 1, 0], [0, 0, 1]]
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
