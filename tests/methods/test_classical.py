"""naive-bayes, tfidf-logreg and most-frequent: learn, save without pickle, reload identically."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag import get_method
from fewtag.errors import InputError, ModelFileError, NotFittedError
from fewtag.registry import load_tagger

TOPICS = {
    "bug": "crash error traceback fails broken",
    "feature": "add support option request allow",
    "docs": "readme typo documentation example guide",
}


def toy(n_per: int = 12, multi: bool = False):
    rng = np.random.RandomState(0)
    texts, labels = [], []
    names = list(TOPICS)
    for i in range(n_per * 3):
        lab = names[i % 3]
        words = rng.choice(TOPICS[lab].split(), 3).tolist()
        labs = [lab]
        if multi and i % 5 == 0:
            other = names[(i + 1) % 3]
            words += rng.choice(TOPICS[other].split(), 2).tolist()
            labs.append(other)
        texts.append(" ".join(words) + f" item{i}")
        labels.append(labs if multi else lab)
    return texts, labels


@pytest.mark.parametrize("name", ["naive-bayes", "tfidf-logreg"])
@pytest.mark.parametrize("multi", [False, True])
def test_learns_and_reloads_identically(tmp_path, name, multi):
    texts, labels = toy(multi=multi)
    tagger = get_method(name)().fit(texts[:30], labels[:30], validation=(texts[30:], labels[30:]))
    assert tagger.multi_label_ is multi
    probe = ["crash error broken", "readme typo guide", "add option please"]
    for expected, got in zip(["bug", "docs", "feature"], tagger.predict(probe)):
        assert expected in got
    scores = tagger.predict_proba(probe)
    assert scores.shape == (3, 3)
    if not multi:
        np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    tagger.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    again = load_tagger(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(probe), scores)
    assert again.predict(probe) == tagger.predict(probe)
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["method"] == name and meta["classes"] == ["bug", "docs", "feature"]


def test_classes_missing_from_a_small_slice_get_a_column():
    texts, labels = toy(multi=True)
    only_bug = [(t, labs) for t, labs in zip(texts, labels) if labs == ["bug"]][:5]
    only_docs = [(t, labs) for t, labs in zip(texts, labels) if labs == ["docs"]][:5]
    rows = only_bug + only_docs
    for name in ("naive-bayes", "tfidf-logreg"):
        t = get_method(name)().fit(
            [r[0] for r in rows], [r[1] for r in rows], classes=["bug", "docs", "feature"], multi_label=True
        )
        scores = t.predict_proba(["add option"])
        assert scores.shape == (1, 3) and scores[0, 2] < 0.01  # never seen -> ~0


def test_most_frequent_predicts_the_majority():
    t = get_method("most-frequent")().fit(["a", "b", "c", "d"], ["x", "x", "x", "y"])
    assert t.predict(["anything", "else"]) == [["x"], ["x"]]


def test_validation_on_entry():
    nb = get_method("naive-bayes")()
    with pytest.raises(InputError, match="got 2 texts but 1 labels"):
        nb.fit(["a", "b"], ["x"])
    with pytest.raises(InputError, match="at least 2 labels"):
        nb.fit(["a", "b"], ["x", "x"])
    with pytest.raises(InputError, match="one string"):
        nb.fit("abc", ["x"])
    with pytest.raises(NotFittedError, match="not fitted"):
        nb.predict(["a"])
    with pytest.raises(InputError, match="not seen in training"):
        nb.fit(["a", "b"], ["x", "y"], classes=["x", "z"])


def test_corrupt_model_folder(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_tagger(tmp_path / "none")
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelFileError, match="fewtag.json is missing"):
        load_tagger(tmp_path / "m")
    (tmp_path / "m" / "fewtag.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="corrupt"):
        load_tagger(tmp_path / "m")
    texts, labels = toy()
    get_method("naive-bayes")().fit(texts, labels).save(tmp_path / "ok")
    (tmp_path / "ok" / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="cannot load the weights"):
        load_tagger(tmp_path / "ok")
