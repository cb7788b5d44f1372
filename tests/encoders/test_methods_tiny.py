"""Every encoder method on a tiny local sentence encoder: fit, predict, save, load, same output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag import get_method
from fewtag.registry import load_tagger
from tests.utils.tiny_encoders import toy_data

FAST = {
    "knn": {"k": 3},
    "embed-logreg": {},
    "zero-shot-embed": {},
    "setfit": {"num_iterations": 2, "batch_size": 8},
}


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
@pytest.mark.parametrize("name", sorted(FAST))
def test_fit_predict_save_load(name, multi_label, tiny_encoder, tmp_path):
    texts, labels, classes = toy_data(multi_label)
    cls = get_method(name)
    tagger = cls(model=tiny_encoder, max_length=32, random_state=0, **FAST[name])
    val = (texts[::3], labels[::3])
    tagger.fit(texts, labels, classes=classes, validation=val)
    probe = ["crash when i load", "please add a flag", "typo in docs", "something else entirely"]
    scores = tagger.predict_proba(probe)
    assert scores.shape == (4, 3) and np.isfinite(scores).all()
    if not multi_label:
        np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)
    predicted = tagger.predict(probe)
    assert all(set(p) <= set(classes) for p in predicted)
    if not multi_label:
        assert all(len(p) == 1 for p in predicted)

    folder = tagger.save(tmp_path / "model")
    meta = json.loads((folder / "fewtag.json").read_text())
    assert meta["method"] == name and meta["encoder"]["id"] == tiny_encoder
    assert meta["encoder"]["revision"]
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.bin"))
    loaded = load_tagger(folder)
    np.testing.assert_allclose(loaded.predict_proba(probe), scores, rtol=1e-5, atol=1e-6)
    assert loaded.predict(probe) == predicted


def test_zero_shot_embed_needs_no_texts(tiny_encoder, tmp_path):
    cls = get_method("zero-shot-embed")
    tagger = cls(model=tiny_encoder, descriptions={"bug": "crash error"}).fit(
        [], [], classes=["bug", "feature", "docs"]
    )
    assert tagger.label_sentences()[0] == "This issue is about bug. crash error"
    s = tagger.predict_proba(["crash error"])
    assert s.shape == (1, 3) and s[0].argmax() == 0
    # centroid blending changes the label vectors when examples are given
    texts, labels, classes = toy_data()
    blended = cls(model=tiny_encoder).fit(texts, labels, classes=classes)
    plain = cls(model=tiny_encoder).fit([], [], classes=classes)
    assert not np.allclose(blended.label_vectors_, plain.label_vectors_)


def test_setfit_zero_labels_starts_from_templates(tiny_encoder, tmp_path):
    tagger = get_method("setfit")(model=tiny_encoder, num_iterations=2, max_length=32)
    tagger.fit([], [], classes=["bug", "feature", "docs"])
    assert tagger.needs_training and "needs_training" not in vars(tagger)  # decided per call, not stored
    assert tagger.metadata_["label_templates_used"] == ["bug", "feature", "docs"]
    assert tagger.metadata_["setfit"]["steps"] > 0
    assert tagger.predict(["bug"]) == [["bug"]]
    loaded = load_tagger(tagger.save(tmp_path / "m"))
    assert loaded.predict(["bug", "docs"]) == tagger.predict(["bug", "docs"])


def test_setfit_caps_pairs_and_is_seeded(tiny_encoder):
    texts, labels, classes = toy_data(multi_label=True)
    cls = get_method("setfit")
    a = cls(model=tiny_encoder, num_iterations=50, max_pairs=24, max_length=32).fit(texts, labels)
    assert a.metadata_["setfit"]["pairs_per_epoch"] == 24
    b = cls(model=tiny_encoder, num_iterations=50, max_pairs=24, max_length=32).fit(texts, labels)
    np.testing.assert_allclose(a.predict_proba(texts), b.predict_proba(texts), atol=1e-6)


def test_sample_pairs_multi_label_semantics():
    from fewtag.methods.setfit import sample_pairs

    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    a, b, t = sample_pairs(y, 200, np.random.default_rng(1))
    assert len(a) == 200 and (a != b).all()
    shared = (y[a] & y[b]).any(axis=1)
    assert (shared == (t == 1.0)).all()
    assert 4 not in set(a.tolist())  # a text without labels is never an anchor


def test_knn_tunes_k_and_m_as_threshold(tiny_encoder):
    texts, labels, classes = toy_data(multi_label=True)
    tagger = get_method("knn")(model=tiny_encoder, max_k=5).fit(
        texts, labels, classes=classes, validation=(texts, labels)
    )
    assert 1 <= tagger.m_ <= tagger.k_ <= 5
    assert tagger.decision_.kind == "threshold"
    counts = np.arange(tagger.k_ + 1)  # the vote threshold is "at least m_ of k_ neighbours"
    assert ((counts / tagger.k_ >= tagger.decision_.threshold) == (counts >= tagger.m_)).all()
    # validating on the training texts themselves: k=1 is perfect
    assert tagger.metadata_["tuning_objective_value"] == 1.0


def test_plain_encoder_folder_works_for_a_method(tiny_plain_encoder):
    texts, labels, classes = toy_data()
    tagger = get_method("embed-logreg")(model=tiny_plain_encoder).fit(texts, labels)
    assert tagger.predict_proba(texts).shape == (18, 3)


def test_missing_model_is_reported_before_training(monkeypatch):
    import time

    from fewtag.errors import ModelNotFoundError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts, labels, _ = toy_data()
    for name in FAST:
        start = time.perf_counter()
        with pytest.raises(ModelNotFoundError, match="tfidf-logreg"):
            get_method(name)(model="facebook/does-not-exist").fit(texts, labels)
        assert time.perf_counter() - start < 5


def test_setfit_prior_shift_from_unlabelled_texts(tiny_encoder, tmp_path):
    texts, labels, classes = toy_data()
    unlabelled = ["crash on start", "segfault when i load the file", "error on save"] * 5 + ["docs typo"]
    tagger = get_method("setfit")(model=tiny_encoder, num_iterations=2, max_length=32).fit(
        texts, labels, unlabelled=unlabelled
    )
    priors = tagger.metadata_["estimated_priors"]
    assert set(priors) == set(classes) and abs(sum(priors.values()) - 1) < 1e-3
    assert np.any(tagger.prior_shift_ != 0)
    probe = ["crash", "docs", "new option"]
    loaded = load_tagger(tagger.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(probe), tagger.predict_proba(probe), atol=1e-6)
    no_shift = get_method("setfit")(model=tiny_encoder, num_iterations=2, max_length=32, adjust_priors=False).fit(
        texts, labels, unlabelled=unlabelled
    )
    assert not np.any(no_shift.prior_shift_)


def test_em_priors_moves_towards_the_unlabelled_distribution():
    from fewtag.methods.setfit import em_priors

    p = np.array([[0.7, 0.3]] * 8 + [[0.4, 0.6]] * 2)
    one_step = em_priors(p, np.array([0.5, 0.5]), max_iter=1)
    np.testing.assert_allclose(one_step, p.mean(axis=0))
    full = em_priors(p, np.array([0.5, 0.5]))
    assert full[0] > one_step[0] > 0.5 and abs(full.sum() - 1) < 1e-9
