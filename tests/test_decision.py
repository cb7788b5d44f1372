import numpy as np
import pytest

from fewtag.decision import DecisionRule, DecisionSpec
from fewtag.errors import ConfigError
from fewtag.tuning import best_label_f1, objective_value, tune_decision, tune_rule


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


# ------------------------------------------------------------------ DecisionSpec / tune_decision


def _separable(seed=0, n=200):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n, 3) < 0.35).astype(int)
    s = np.clip(np.where(y == 1, 0.6, 0.3) + rng.normal(0, 0.15, (n, 3)), 0, 1)
    return s, y


def test_single_label_precision_target_is_not_ignored():
    """A per-label floor: the best label is kept only where its tuning precision reaches the target."""
    rng = np.random.RandomState(1)
    y = np.eye(2, dtype=int)[rng.randint(0, 2, 300)]
    s = np.clip(y * 0.2 + rng.rand(300, 2) * 0.8, 0, 1)
    s = s / s.sum(axis=1, keepdims=True)
    plain = tune_decision(s, y, multi_label=False, classes=["a", "b"])
    strict = tune_decision(s, y, multi_label=False, classes=["a", "b"], spec={"precision_target": {"a": 0.9}})
    assert plain.apply(s).sum(axis=1).tolist() == [1] * 300  # top-1, never abstains
    picked = strict.apply(s)
    assert strict.abstain and picked[:, 0].sum() < plain.apply(s)[:, 0].sum()
    kept_a = picked[:, 0]
    assert kept_a.any() and y[kept_a, 0].mean() >= 0.9
    assert picked[:, 1].sum() == plain.apply(s)[:, 1].sum()  # b has no target: unchanged


def test_per_label_targets_fix_some_labels_and_tune_the_rest():
    s, y = _separable()
    rule = tune_decision(s, y, multi_label=True, classes=["a", "b", "c"], spec={"precision_target": {"b": 0.95}})
    pred = rule.apply(s)
    assert rule.kind == "per-label" and y[pred[:, 1], 1].mean() >= 0.95
    free = tune_decision(s, y, multi_label=True, classes=["a", "b", "c"])
    assert pred[:, 1].sum() < free.apply(s)[:, 1].sum()


def test_macro_objective_beats_micro_on_macro_and_vice_versa():
    s, y = _separable(seed=3)
    s[:, 2] *= 0.5  # one label scored on another scale: one global threshold serves it badly
    micro = tune_decision(s, y, multi_label=True, classes=list("abc"), spec={"objective": "micro"})
    macro = tune_decision(s, y, multi_label=True, classes=list("abc"), spec={"objective": "macro"})
    assert objective_value(y, macro.apply(s), "macro") >= objective_value(y, micro.apply(s), "macro")
    assert objective_value(y, micro.apply(s), "micro") >= objective_value(y, macro.apply(s), "micro") - 1e-9


def test_top_k_and_abstain():
    s, y = _separable()
    top2 = tune_decision(s, y, multi_label=True, classes=list("abc"), spec={"top_k": 2})
    assert top2.kind == "top-k" and (top2.apply(s).sum(axis=1) == 2).all()
    never_empty = tune_decision(s, y, multi_label=True, classes=list("abc"), spec={"abstain": False})
    assert (never_empty.apply(s).sum(axis=1) >= 1).all() and not never_empty.abstain


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"objective": "weighted"}, "objective must be one of"),
        ({"precision_target": 1.5}, r"in \(0, 1\]"),
        ({"precision_target": {"bug": "high"}}, r"in \(0, 1\]"),
        ({"kinds": ["median"]}, "kinds must be among"),
        ({"top_k": 0}, "top_k must be"),
        ({"abstain": "yes"}, "abstain must be"),
        ({"thresholds": 0.5}, "unknown decision key"),
    ],
)
def test_bad_specs_are_config_errors(spec, match):
    with pytest.raises(ConfigError, match=match):
        DecisionSpec.from_dict(spec)


def test_spec_round_trips_and_names_unknown_labels():
    spec = DecisionSpec.from_dict({"objective": "macro", "precision_target": {"bug": 0.9}, "kinds": ["threshold"]})
    assert DecisionSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ConfigError, match="unknown label"):
        spec.targets(["docs", "feature"])


def test_non_finite_thresholds_are_refused():
    with pytest.raises(ConfigError, match="finite"):
        DecisionRule("threshold", threshold=float("nan")).check(2)
