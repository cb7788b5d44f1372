"""Each strategy against its definition, on hand-made score matrices and vectors."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag.active import available_strategies, get_strategy
from fewtag.active.base import Labelled, Pick, Pool, Vectors
from fewtag.active.diversity import greedy_k_center, kmeans_representatives
from fewtag.active.hybrid import Hybrid
from fewtag.active.uncertainty import breaking_ties, entropy, least_confidence
from fewtag.errors import ConfigError, InputError

SINGLE = np.array(
    [
        [0.90, 0.05, 0.05],  # 0 sure
        [0.40, 0.38, 0.22],  # 1 margin 0.02 (smallest), top 0.40
        [0.34, 0.33, 0.33],  # 2 margin 0.01?? no: 0.01 -> smallest margin, least confident, max entropy
        [0.50, 0.45, 0.05],  # 3 margin 0.05
        [0.60, 0.20, 0.20],  # 4 margin 0.40
    ]
)
MULTI = np.array([[0.9, 0.1], [0.55, 0.02], [0.3, 0.7], [0.98, 0.97]])


def empty_labelled(classes=("a", "b", "c"), multi=False):
    return Labelled([], np.zeros((0, len(classes))), list(classes), multi_label=multi)


def picks(name, scores, n, multi=False, **kw):
    pool = Pool([f"t{i}" for i in range(len(scores))], scores=scores)
    lab = empty_labelled(classes=[f"c{j}" for j in range(scores.shape[1])], multi=multi)
    return [p.index for p in get_strategy(name, **kw).query(None, pool, lab, n)]


def test_breaking_ties_picks_the_smallest_top1_minus_top2_margin():
    margins = np.sort(SINGLE, axis=1)[:, -1] - np.sort(SINGLE, axis=1)[:, -2]
    assert picks("breaking-ties", SINGLE, 3) == list(np.argsort(margins, kind="stable")[:3]) == [2, 1, 3]
    assert np.allclose(-breaking_ties(SINGLE), margins)


def test_least_confidence_picks_the_smallest_top_score():
    assert picks("least-confidence", SINGLE, 2) == [2, 1]
    assert np.allclose(least_confidence(SINGLE), 1 - SINGLE.max(axis=1))


def test_entropy_is_shannon_entropy():
    h = -(SINGLE * np.log(SINGLE)).sum(axis=1)
    assert np.allclose(entropy(SINGLE), h)
    assert picks("entropy", SINGLE, 1) == [int(np.argmax(h))]


def test_breaking_ties_and_least_confidence_can_disagree():
    s = np.array([[0.34, 0.34, 0.32], [0.49, 0.49, 0.02]])  # same margin 0; top score 0.34 vs 0.49
    assert picks("least-confidence", s, 1) == [0]
    t = np.array([[0.40, 0.39, 0.21], [0.45, 0.30, 0.25]])  # margins 0.01 vs 0.15; top 0.40 vs 0.45
    assert picks("breaking-ties", t, 1) == [0] and picks("least-confidence", t, 1) == [0]
    u = np.array([[0.50, 0.49, 0.01], [0.36, 0.32, 0.32]])  # margin 0.01 vs 0.04; top 0.50 vs 0.36
    assert picks("breaking-ties", u, 1) == [0] and picks("least-confidence", u, 1) == [1]


def test_multi_label_uncertainty_is_per_label():
    # the most uncertain label decides: row 1 has 0.55 (|2p-1| = 0.1), row 2 has 0.3 / 0.7 (0.4)
    assert np.allclose(-breaking_ties(MULTI, multi_label=True), [0.8, 0.1, 0.4, 0.94])
    assert picks("breaking-ties", MULTI, 2, multi=True) == [1, 2]
    b = lambda p: -(p * np.log(p) + (1 - p) * np.log(1 - p))  # noqa: E731
    assert np.allclose(entropy(MULTI, multi_label=True), b(MULTI).sum(axis=1))


def test_random_is_seeded_and_distinct():
    s = np.zeros((50, 2))
    a, b = picks("random", s, 10, random_state=3), picks("random", s, 10, random_state=3)
    assert a == b and len(set(a)) == 10 and a != picks("random", s, 10, random_state=4)


def test_greedy_k_center_picks_the_farthest_point_each_time():
    pool = np.array([[0.0, 0], [1, 0], [5, 0], [9, 0], [9.5, 0]])
    assert greedy_k_center(pool, np.array([[0.0, 0]]), 3) == [4, 2, 1]


def test_kmeans_representatives_one_per_cluster():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]], dtype=float)
    x = np.vstack([c + rng.normal(scale=0.3, size=(20, 2)) for c in centres])
    rows = kmeans_representatives(x, 3, seed=0)
    assert sorted(r // 20 for r in rows) == [0, 1, 2]


def test_diversity_strategies_spread_over_clusters():
    rng = np.random.default_rng(1)
    centres = np.eye(4) * 10
    x = np.vstack([c + rng.normal(scale=0.2, size=(10, 4)) for c in centres])
    vectors = Vectors.given(np.zeros((0, 4)), x)
    pool = Pool([f"t{i}" for i in range(40)], vectors=vectors)
    lab = Labelled([], np.zeros((0, 2)), ["a", "b"], multi_label=False, vectors=vectors)
    for name in ("diversity", "coreset"):
        chosen = [p.index for p in get_strategy(name).query(None, pool, lab, 4)]
        assert sorted(i // 10 for i in chosen) == [0, 1, 2, 3], name


def test_hybrid_mixes_uncertain_rare_label_and_check_picks():
    rng = np.random.default_rng(0)
    n = 200
    scores = rng.dirichlet([1, 1, 1], size=n)
    x = rng.normal(size=(n, 8))
    vectors = Vectors.given(np.zeros((0, 8)), x)
    pool = Pool([f"t{i}" for i in range(n)], vectors=vectors, scores=scores)
    y = np.array([[1, 0, 0]] * 5 + [[0, 1, 0]] * 5 + [[0, 0, 1]])  # label c has one example: rare
    lab = Labelled([f"l{i}" for i in range(11)], y, ["a", "b", "c"], multi_label=False, vectors=vectors)
    out = Hybrid(check_share=0.1, rare_share=0.25, cluster="candidates").query(None, pool, lab, 10)
    reasons = [p.reason for p in out]
    assert len({p.index for p in out}) == 10
    assert reasons.count("rare-label") == 1 and reasons.count("check") == 1 and reasons.count("uncertain") == 8
    rare = next(p.index for p in out if p.reason == "rare-label")
    assert rare == int(np.argmax(scores[:, 2]))  # the pool item the model scores highest for the rare label
    check = next(p.index for p in out if p.reason == "check")
    unsure = [p.index for p in out if p.reason == "uncertain"]
    assert scores[check].max() == max(scores[i].max() for i in range(n) if i not in set(unsure) | {rare})
    margins = -breaking_ties(scores)
    assert max(margins[unsure]) <= np.sort(margins)[4 * 8 - 1] + 1e-12  # from the 32 most uncertain


def test_hybrid_without_a_model_starts_cold_from_clusters():
    texts = ["streaming hangs forever", "docs typo in readme", "crash on load", "add a flag", "stream fails"] * 3
    out = get_strategy("hybrid").query(None, Pool(texts), empty_labelled(classes=("streaming", "docs")), 4)
    assert {p.reason for p in out} == {"cold-start"} and len({texts[p.index] for p in out}) == 4


def test_cold_start_by_label_names():
    texts = ["streaming hangs forever", "docs typo in readme", "crash on load", "add a flag", "stream fails"] * 3
    lab = empty_labelled(classes=("streaming", "docs"))
    out = get_strategy("cold-start", affinity_share=1.0).query(None, Pool(texts), lab, 2)
    assert sorted(texts[p.index].split()[0] for p in out) in (["docs", "stream"], ["docs", "streaming"])


def test_hybrid_pool_clusters_take_the_most_uncertain_of_each():
    rng = np.random.default_rng(2)
    centres = np.eye(4) * 10
    x = np.vstack([c + rng.normal(scale=0.2, size=(10, 4)) for c in centres])
    scores = rng.dirichlet([1, 1], size=40)
    vectors = Vectors.given(np.zeros((0, 4)), x)
    pool = Pool([f"t{i}" for i in range(40)], vectors=vectors, scores=scores)
    y = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
    lab = Labelled([f"l{i}" for i in range(6)], y, ["a", "b"], multi_label=False, vectors=vectors)
    out = Hybrid(check_share=0, rare_share=0).query(None, pool, lab, 4)
    margin = -breaking_ties(scores)
    assert sorted(p.index // 10 for p in out) == [0, 1, 2, 3]
    for p in out:
        block = range(10 * (p.index // 10), 10 * (p.index // 10) + 10)
        assert margin[p.index] == min(margin[i] for i in block)


def test_registry_lists_strategies_on_a_bad_name_and_checks_parameters():
    assert available_strategies()[:3] == ["random", "least-confidence", "breaking-ties"]
    with pytest.raises(ConfigError, match="'nope' is not a strategy. Available: random"):
        get_strategy("nope")
    with pytest.raises(ConfigError, match="no parameter foo"):
        get_strategy("hybrid", foo=1)
    with pytest.raises(ConfigError, match="check_share must be a fraction"):
        Hybrid(check_share=2).query(None, Pool(["a"], scores=np.ones((1, 2)) / 2), empty_labelled(("a", "b")), 1)


def test_query_needs_a_positive_n_and_caps_at_the_pool():
    pool = Pool(["a", "b"], scores=np.array([[0.5, 0.5], [0.9, 0.1]]))
    with pytest.raises(InputError, match="positive integer"):
        get_strategy("entropy").query(None, pool, empty_labelled(("a", "b")), 0)
    assert len(get_strategy("entropy").query(None, pool, empty_labelled(("a", "b")), 5)) == 2
    assert get_strategy("random").query(None, Pool([]), empty_labelled(("a", "b")), 3) == []
    assert isinstance(get_strategy("entropy").query(None, pool, empty_labelled(("a", "b")), 1)[0], Pick)
