"""self-train runs its rounds end to end; uda trains with a consistency loss; both save and load."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag.methods.self_train import bald
from fewtag.registry import get_method, load_tagger

from .conftest import BUG, FEATURE, UNLABELLED

TEXTS = BUG + FEATURE
LABELS = ["bug"] * 6 + ["feature"] * 6
MULTI = [["bug"]] * 5 + [["bug", "feature"]] + [["feature"]] * 6


def test_bald_is_high_when_passes_disagree():
    agree = np.array([[[0.9, 0.1]], [[0.9, 0.1]]])
    disagree = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    assert bald(agree, False)[0][0] == pytest.approx(0.0, abs=1e-9)
    assert bald(disagree, False)[0][0] > 0.3
    assert bald(disagree[:, :, :1], True)[0][0] > bald(agree[:, :, :1], True)[0][0]


def test_self_train_two_rounds_end_to_end(tiny_encoder, tmp_path):
    params = dict(model=str(tiny_encoder), max_length=32, n_iter=2, mc_passes=4, n_select=8, steps=30, random_state=0)
    t = get_method("self-train")(**params).fit(
        TEXTS, LABELS, unlabelled=UNLABELLED, validation=(TEXTS[:4] + TEXTS[-4:], LABELS[:4] + LABELS[-4:])
    )
    rounds = t.metadata_["self_train"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert all(0 < r["pseudo"] <= 8 for r in rounds[1:])
    assert t.metadata_["self_train"]["kept_round"] in (0, 1, 2)
    p = t.predict_proba(TEXTS)
    assert p.shape == (12, 2) and np.allclose(p.sum(axis=1), 1)
    again = get_method("self-train")(**params).fit(
        TEXTS, LABELS, unlabelled=UNLABELLED, validation=(TEXTS[:4] + TEXTS[-4:], LABELS[:4] + LABELS[-4:])
    )
    np.testing.assert_allclose(again.predict_proba(TEXTS), p, atol=1e-6)  # seeded
    loaded = load_tagger(t.save(tmp_path / "st"))
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), p, atol=1e-6)


def test_self_train_teacher_only_and_multi_label(tiny_encoder):
    teacher = get_method("self-train")(model=str(tiny_encoder), max_length=32, n_iter=0, steps=20).fit(
        TEXTS, LABELS, unlabelled=UNLABELLED
    )
    assert len(teacher.metadata_["self_train"]["rounds"]) == 1
    multi = get_method("self-train")(model=str(tiny_encoder), max_length=32, n_iter=1, mc_passes=3, steps=20).fit(
        TEXTS, MULTI, unlabelled=UNLABELLED
    )
    assert multi.multi_label_ and multi.metadata_["self_train"]["rounds"][1]["pseudo"] == len(UNLABELLED) // 2
    assert multi.predict_proba(TEXTS).shape == (12, 2)


@pytest.mark.parametrize("labels", [LABELS, MULTI], ids=["single", "multi"])
def test_uda_runs_and_consistency_changes_the_model(labels, tiny_encoder, tmp_path):
    base = dict(model=str(tiny_encoder), max_length=32, steps=25, random_state=0, confidence=0.0)
    with_u = get_method("uda")(**base).fit(TEXTS, labels, unlabelled=UNLABELLED)
    without = get_method("uda")(**base, consistency=0.0).fit(TEXTS, labels, unlabelled=UNLABELLED)
    assert with_u.metadata_["uda"]["n_unlabelled"] == len(set(UNLABELLED))
    assert without.metadata_["uda"]["n_unlabelled"] == len(set(UNLABELLED))
    assert not np.allclose(with_u.predict_proba(TEXTS), without.predict_proba(TEXTS))
    loaded = load_tagger(with_u.save(tmp_path / "uda"))
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), with_u.predict_proba(TEXTS), atol=1e-6)
