"""zero-shot-nli gives the transformers pipeline's scores, batched."""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

from fewtag.errors import ConfigError, ModelNotFoundError
from fewtag.methods.zero_shot_nli import nli_label_ids
from fewtag.registry import get_method, load_tagger

TEXTS = [
    "i feel good",
    "this movie was awful and terrible , really bad",
    "the data set fails to load with an error on the night run",
    "fix the bug please",
    "add a new feature",
    "what is this ?",
    "i love the sky",
]
CLASSES = ["good", "bad", "bug", "feature request"]


@functools.lru_cache(maxsize=2)
def _pipeline(model_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    return pipeline(
        "zero-shot-classification",
        model=AutoModelForSequenceClassification.from_pretrained(model_dir),
        tokenizer=AutoTokenizer.from_pretrained(model_dir),
        device="cpu",
    )


def pipeline_scores(model_dir, texts, classes, multi_label, template="This example is {}."):
    """Scores of ``pipeline("zero-shot-classification")``, in ``classes`` order."""
    pipe = _pipeline(str(model_dir))
    rows = []
    for text in texts:
        res = pipe(text, candidate_labels=classes, multi_label=multi_label, hypothesis_template=template)
        got = dict(zip(res["labels"], res["scores"]))
        rows.append([got[c] for c in classes])
    return np.array(rows)


@pytest.mark.parametrize("multi_label", [False, True])
def test_scores_equal_pipeline(nli_dir, multi_label):
    tagger = get_method("zero-shot-nli")(model=str(nli_dir), batch_size=3)
    tagger.fit([], [], classes=CLASSES, multi_label=multi_label)
    ours = tagger.predict_proba(TEXTS)
    ref = pipeline_scores(nli_dir, TEXTS, CLASSES, multi_label)
    assert ours.shape == (len(TEXTS), len(CLASSES))
    # the random model must discriminate, or equal scores would prove nothing
    assert np.ptp(ref, axis=1).max() > 0.05
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    if not multi_label:
        np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=1e-9)


def test_template_and_batch_size_do_not_change_scores(nli_dir):
    template = "The topic is {}."
    a = get_method("zero-shot-nli")(model=str(nli_dir), batch_size=1, hypothesis_template=template)
    b = get_method("zero-shot-nli")(model=str(nli_dir), batch_size=16, hypothesis_template=template)
    for t in (a, b):
        t.fit([], [], classes=CLASSES, multi_label=True)
    np.testing.assert_allclose(a.predict_proba(TEXTS), b.predict_proba(TEXTS), atol=1e-5)
    ref = pipeline_scores(nli_dir, TEXTS[:3], CLASSES, True, template)
    np.testing.assert_allclose(a.predict_proba(TEXTS[:3]), ref, atol=1e-5)


def test_long_text_is_truncated_like_the_pipeline(nli_dir):
    long = " ".join(["good movie"] * 200)  # far beyond the tiny model's 128 tokens
    tagger = get_method("zero-shot-nli")(model=str(nli_dir)).fit([], [], classes=CLASSES, multi_label=True)
    np.testing.assert_allclose(tagger.predict_proba([long]), pipeline_scores(nli_dir, [long], CLASSES, True), atol=1e-5)


def test_save_load_same_predictions(nli_dir, tmp_path):
    tagger = get_method("zero-shot-nli")(model=str(nli_dir)).fit([], [], classes=CLASSES)
    tagger.save(tmp_path / "m")
    again = load_tagger(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(TEXTS), tagger.predict_proba(TEXTS))
    assert again.predict(TEXTS) == tagger.predict(TEXTS)


def test_validation_tunes_multi_label_rule(nli_dir):
    tagger = get_method("zero-shot-nli")(model=str(nli_dir))
    tagger.fit(
        [],
        [],
        classes=CLASSES,
        multi_label=True,
        validation=(TEXTS, [["good"], ["bad"], ["bug"], ["bug"], ["feature request"], [], ["good"]]),
    )
    assert tagger.decision_.kind in ("top-k", "threshold", "per-label")
    assert len(tagger.predict(TEXTS)) == len(TEXTS)


def test_label_ids_found_case_insensitively():
    assert nli_label_ids({"ENTAILMENT": 0, "NEUTRAL": 1, "CONTRADICTION": 2}) == (2, 0)
    with pytest.raises(ConfigError, match="not an NLI model.*zero-shot-embed"):
        nli_label_ids({"LABEL_0": 0, "LABEL_1": 1})


def test_non_nli_model_fails_clearly(tmp_path):
    from tests.utils.tiny_models import build_nli_model

    folder = build_nli_model(tmp_path / "m", id2label={0: "negative", 1: "positive"})
    with pytest.raises(ConfigError, match="entailment"):
        get_method("zero-shot-nli")(model=str(folder)).fit([], [], classes=CLASSES)


def test_missing_model_fails_fast_naming_offline_method(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as err:
        get_method("zero-shot-nli")().fit([], [], classes=CLASSES)
    assert time.perf_counter() - start < 5
    assert "bart-large-mnli" in str(err.value) and "zero-shot-embed" in str(err.value)
