"""ensemble: member weights tuned on validation, text views, the macro objective, errors, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag import get_method
from fewtag.errors import ConfigError, UnknownMethodError
from fewtag.methods.ensemble import EnsembleTagger, simplex_grid, text_view
from fewtag.registry import load_tagger

TOPICS = {
    "bug": "crash error traceback fails broken",
    "feature": "add support option request allow",
    "docs": "readme typo documentation example guide",
}
NOISE = "data load model file run test code set value thing".split()


def titled(n_per: int = 12, multi: bool = False, seed: int = 0):
    """Texts whose first line (title) carries the topic and whose body is noise."""
    rng = np.random.RandomState(seed)
    names = list(TOPICS)
    texts, labels = [], []
    for i in range(n_per * 3):
        lab = names[i % 3]
        labs = [lab]
        words = rng.choice(TOPICS[lab].split(), 2).tolist()
        if multi and i % 5 == 0:
            other = names[(i + 1) % 3]
            words += rng.choice(TOPICS[other].split(), 1).tolist()
            labs.append(other)
        body = " ".join(rng.choice(NOISE, 30).tolist())
        texts.append(" ".join(words) + "\n\n" + body)
        labels.append(labs if multi else lab)
    return texts, labels


def test_is_registered():
    assert get_method("ensemble") is EnsembleTagger


def test_text_view_and_grid():
    assert text_view(["Title\n\nbody", "  \nsecond"], "first-line") == ["Title", "second"]
    assert text_view(["a\nb"], "full") == ["a\nb"]
    g = simplex_grid(3, 0.25)
    assert len(g) == 15 and np.allclose(g.sum(axis=1), 1)


@pytest.mark.parametrize("multi", [False, True])
def test_weights_go_to_the_useful_member(multi):
    texts, labels = titled(multi=multi)
    members = [{"name": "most-frequent"}, {"name": "tfidf-logreg"}]
    t = EnsembleTagger(members=members, weight_step=0.5).fit(
        texts[:24], labels[:24], validation=(texts[24:], labels[24:])
    )
    assert t.weights_.tolist() == [0.0, 1.0]
    assert t.metadata_["ensemble"]["weights"] == [0.0, 1.0]
    np.testing.assert_allclose(t.predict_proba(texts[:5]), t.members_[1].predict_proba(texts[:5]))


def test_fixed_weights_are_normalised_and_used_without_validation():
    texts, labels = titled()
    t = EnsembleTagger(members=[{"name": "naive-bayes"}, {"name": "tfidf-logreg"}], weights=[1, 3]).fit(texts, labels)
    assert t.weights_.tolist() == [0.25, 0.75]
    expected = 0.25 * t.members_[0].predict_proba(texts[:4]) + 0.75 * t.members_[1].predict_proba(texts[:4])
    np.testing.assert_allclose(t.predict_proba(texts[:4]), expected)
    assert EnsembleTagger(members=[{"name": "naive-bayes"}, {"name": "tfidf-logreg"}]).fit(
        texts, labels
    ).weights_.tolist() == [0.5, 0.5]


def test_first_line_view_sees_only_titles():
    texts, labels = titled()
    t = EnsembleTagger(members=[{"name": "tfidf-logreg", "view": "first-line"}]).fit(texts, labels)
    vocab = t.members_[0].bow_.vocabulary
    assert "crash" in vocab and not set(NOISE) & set(vocab)
    assert t.predict(["a crash with a traceback\n\nreadme typo documentation guide example"]) == [["bug"]]


def test_macro_objective_tunes_per_label_thresholds():
    texts, labels = titled(multi=True)
    t = EnsembleTagger(members=[{"name": "tfidf-logreg"}]).fit(
        texts[:24], labels[:24], validation=(texts[24:], labels[24:]), decision={"objective": "macro"}
    )
    assert t.decision_.kind == "per-label" and len(t.decision_.thresholds) == 3


def test_validation_scores_are_reused_only_right_after_fit():
    texts, labels = titled()
    t = EnsembleTagger(members=[{"name": "naive-bayes"}, {"name": "tfidf-logreg"}]).fit(
        texts[:24], labels[:24], validation=(texts[24:], labels[24:])
    )
    assert t._val_cache is None  # consumed by the decision tuning inside fit
    direct = sum(w * m.predict_proba(texts[24:]) for w, m in zip(t.weights_, t.members_))
    np.testing.assert_allclose(t.predict_proba(texts[24:]), direct)


def test_save_load_round_trip(tmp_path):
    texts, labels = titled(multi=True)
    members = [{"name": "naive-bayes"}, {"name": "tfidf-logreg", "view": "first-line", "params": {"C": 1.0}}]
    t = EnsembleTagger(members=members).fit(
        texts[:24], labels[:24], validation=(texts[24:], labels[24:]), decision={"objective": "macro"}
    )
    folder = t.save(tmp_path / "ens")
    assert (folder / "members" / "0" / "fewtag.json").is_file()
    assert not [f for f in folder.rglob("*") if f.suffix in {".pkl", ".pickle", ".joblib"}]
    again = load_tagger(folder)
    assert isinstance(again, EnsembleTagger) and again.views_ == ["full", "first-line"]
    assert again.members_[1].C == 1.0
    np.testing.assert_allclose(again.predict_proba(texts[24:]), t.predict_proba(texts[24:]))
    assert again.predict(texts[24:]) == t.predict(texts[24:])


def test_model_and_seed_reach_members_that_take_them():
    t = EnsembleTagger(
        members=[
            {"name": "tfidf-logreg"},
            {"name": "embed-logreg"},
            {"name": "embed-logreg", "params": {"model": "mine"}},
        ],
        model="some/encoder",
        random_state=7,
    )
    specs = t._specs()
    made = [t._member(s) for s in specs]
    assert made[0].random_state == 7 and not hasattr(made[0], "model")
    assert made[1].model == "some/encoder" and made[1].random_state == 7
    assert made[2].model == "mine"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"members": []}, "at least one member"),
        ({"members": [{"name": "naive-bayes", "view": "title"}]}, "view must be one of"),
        ({"members": [{"method": "naive-bayes"}]}, "'name'"),
        ({"members": [{"name": "ensemble"}]}, "member of itself"),
        ({"members": [{"name": "naive-bayes"}], "weights": [1, 2]}, "one per member"),
        ({"weight_step": 0}, "weight_step"),
    ],
)
def test_bad_settings_fail_before_training(kwargs, match):
    texts, labels = titled()
    with pytest.raises(ConfigError, match=match):
        EnsembleTagger(**kwargs).fit(texts, labels)


def test_a_bad_objective_fails_before_training():
    texts, labels = titled()
    with pytest.raises(ConfigError, match="objective must be one of"):
        EnsembleTagger().fit(texts, labels, decision={"objective": "weighted"})


def test_unknown_member_names_the_options():
    texts, labels = titled()
    with pytest.raises(UnknownMethodError, match="Available"):
        EnsembleTagger(members=[{"name": "naive-bayes"}, {"name": "nb"}]).fit(texts, labels)
