"""One contract for every registered method (STYLE rule 14).

Each method is fitted on a small separable problem (single- and multi-label),
must return ``self`` from ``fit`` and scores of shape (n, n_classes) in [0, 1]
in ``classes_`` order, predict label lists, refuse to predict before fitting,
round-trip ``get_params`` / ``set_params``, ``clone`` to an unfitted copy, give
identical scores for the same seed, save without pickle and reload to
identical scores. Encoder methods run on tiny random models built
locally; a new registered method must be added to ``SETUP`` below or this test fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from fewtag import available_methods, get_method
from fewtag.errors import NotFittedError
from fewtag.methods.base import clone
from fewtag.registry import load_tagger
from tests.utils.tiny_encoders import build_sentence_encoder, toy_data
from tests.utils.tiny_models import build_encoder, build_mlm_model, build_nli_model

# method -> (tiny model kind or None, extra constructor kwargs that keep the test fast)
SETUP: dict[str, tuple[str | None, dict]] = {
    "naive-bayes": (None, {}),
    "tfidf-logreg": (None, {}),
    "most-frequent": (None, {}),
    "knn": ("sentence", {}),
    "embed-logreg": ("sentence", {}),
    "zero-shot-embed": ("sentence", {}),
    "setfit": ("sentence", {"num_iterations": 2, "max_pairs": 64}),
    "finetune": ("encoder", {"epochs": 1}),
    "zero-shot-nli": ("nli", {}),
    "fill-mask": ("mlm", {}),
    "self-train": ("sentence", {"n_iter": 1, "steps": 20, "mc_passes": 2}),
    "uda": ("sentence", {"steps": 20}),
    "augmented": (None, {"base": "naive-bayes", "n_aug": 1}),
    "ensemble": ("sentence", {}),  # default members: tfidf-logreg + embed-logreg on titles
}
BUILDERS = {
    "sentence": build_sentence_encoder,
    "encoder": build_encoder,
    "nli": build_nli_model,
    "mlm": build_mlm_model,
}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {kind: str(build(root / kind)) for kind, build in BUILDERS.items()}


def test_every_method_is_covered():
    assert set(available_methods()) <= set(SETUP), "add the new method to SETUP"


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
@pytest.mark.parametrize("name", sorted(SETUP))
def test_contract(name, multi_label, tiny_models, tmp_path):
    kind, extra = SETUP[name]
    cls = get_method(name)
    kwargs = dict(extra, **({"model": tiny_models[kind]} if kind else {}))
    tagger = cls(**kwargs)
    assert tagger.get_params()["model"] == tiny_models[kind] if kind else True
    with pytest.raises(NotFittedError):
        tagger.predict_proba(["a text"])
    texts, labels, classes = toy_data(multi_label)
    train_idx = [i for i in range(len(texts)) if i % 3 != 2]
    val_idx = [i for i in range(len(texts)) if i % 3 == 2]
    params = tagger.get_params()
    assert clone(tagger).get_params() == params and tagger.set_params(**params) is tagger

    def fit(t):
        return t.fit(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            classes=classes,
            validation=([texts[i] for i in val_idx], [labels[i] for i in val_idx]),
            unlabelled=texts[:6],
        )

    assert fit(tagger) is tagger
    assert tagger.classes_ == classes and tagger.multi_label_ is multi_label
    fresh = clone(tagger)
    assert fresh.get_params() == tagger.get_params() and not getattr(fresh, "fitted_", False)
    with pytest.raises(NotFittedError):
        fresh.predict_proba(["a text"])
    probe = ["crash on load", "please add a flag", "typo in the docs"]
    scores = tagger.predict_proba(probe)
    assert scores.shape == (3, 3) and np.isfinite(scores).all()
    assert (scores >= -1e-9).all() and (scores <= 1 + 1e-9).all()
    np.testing.assert_allclose(fit(fresh).predict_proba(probe), scores, rtol=1e-5, atol=1e-6)  # same seed
    predicted = tagger.predict(probe)
    assert len(predicted) == 3 and all(set(p) <= set(classes) for p in predicted)
    if not multi_label:
        assert all(len(p) == 1 for p in predicted)
    folder = tagger.save(tmp_path / name)
    assert not [f for f in folder.rglob("*") if f.suffix in {".pkl", ".pickle", ".joblib"}]
    again = load_tagger(folder)
    assert type(again) is cls and again.classes_ == classes
    np.testing.assert_allclose(again.predict_proba(probe), scores, rtol=1e-5, atol=1e-6)
    assert again.predict(probe) == predicted


@pytest.mark.parametrize("name", sorted(SETUP))
def test_get_params_keeps_every_constructor_argument(name):
    cls = get_method(name)
    assert set(cls().get_params()) == set(cls._param_names())


@pytest.mark.parametrize("name", ["naive-bayes", "tfidf-logreg", "most-frequent", "augmented"])
@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_score_columns_follow_classes_order(name, multi_label):
    kind, extra = SETUP[name]
    texts, labels, classes = toy_data(multi_label)
    probe = ["crash on load", "please add a flag", "typo in the docs"]
    a = get_method(name)(**extra).fit(texts, labels, classes=classes)
    b = get_method(name)(**extra).fit(texts, labels, classes=classes[::-1])
    assert b.classes_ == classes[::-1]
    np.testing.assert_allclose(b.predict_proba(probe)[:, ::-1], a.predict_proba(probe), rtol=1e-6, atol=1e-9)
