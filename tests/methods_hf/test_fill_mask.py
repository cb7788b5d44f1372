"""fill-mask scores label tokens at the mask of a prompt."""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest
import torch

from fewtag.errors import ConfigError, ModelNotFoundError
from fewtag.registry import get_method, load_tagger

TEXTS = ["i feel good", "this movie was awful", "the data set fails to load", "fix the bug"]


@functools.lru_cache(maxsize=2)
def _load(mlm_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(mlm_dir), AutoModelForMaskedLM.from_pretrained(mlm_dir).eval()


def reference_log_prob(mlm_dir, text, label, template="{text} This issue is about {mask}."):
    """Mean log-prob of ``label``'s tokens at as many masks, computed by hand."""
    tok, model = _load(str(mlm_dir))
    ids = tok(" " + label, add_special_tokens=False)["input_ids"]
    prompt = template.format(text=text, mask=" ".join([tok.mask_token] * len(ids)))
    enc = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        logp = torch.log_softmax(model(**enc).logits[0], dim=-1)
    pos = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[:, 0]
    return float(np.mean([logp[p, i].item() for p, i in zip(pos, ids)]))


def test_single_and_multi_token_labels(mlm_dir):
    classes = ["good", "bad", "data set", "bug"]  # "data set" is two tokens
    tagger = get_method("fill-mask")(model=str(mlm_dir), batch_size=3).fit([], [], classes=classes)
    assert [len(t) for t in tagger.label_tokens_] == [1, 1, 2, 1]
    logp = tagger.label_log_probs(TEXTS)
    for i, text in enumerate(TEXTS):
        for j, label in enumerate(classes):
            assert logp[i, j] == pytest.approx(reference_log_prob(mlm_dir, text, label), abs=1e-4)
    scores = tagger.predict_proba(TEXTS)
    assert scores.shape == (4, 4) and np.all((scores >= 0) & (scores <= 1))
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert np.ptp(logp) > 0.1


def test_exp_normalisation_and_multi_label(mlm_dir):
    tagger = get_method("fill-mask")(model=str(mlm_dir), normalize="exp")
    tagger.fit([], [], classes=["good", "bad", "bug"], multi_label=True)
    scores = tagger.predict_proba(TEXTS)
    np.testing.assert_allclose(scores, np.exp(tagger.label_log_probs(TEXTS)))
    assert np.all((scores > 0) & (scores <= 1))
    assert all(isinstance(p, list) for p in tagger.predict(TEXTS))


def test_text_truncated_prompt_kept(mlm_dir):
    tagger = get_method("fill-mask")(model=str(mlm_dir), max_length=24)
    tagger.fit([], [], classes=["good", "data set"])
    long = " ".join(["bad movie"] * 100)
    short = tagger._truncate([long], 24, 2)[0]
    tok = tagger.tokenizer_
    n = len(tok(tagger.template.format(text=short, mask=" ".join([tok.mask_token] * 2)))["input_ids"])
    assert n <= 24 and long.startswith(short) and len(short) > 0
    assert tagger.predict_proba([long]).shape == (1, 2)  # masks survive: no error


def test_save_load(mlm_dir, tmp_path):
    tagger = get_method("fill-mask")(model=str(mlm_dir)).fit([], [], classes=["good", "bad"])
    tagger.save(tmp_path / "m")
    np.testing.assert_array_equal(load_tagger(tmp_path / "m").predict_proba(TEXTS), tagger.predict_proba(TEXTS))


def test_bad_template_and_unknown_label(mlm_dir):
    with pytest.raises(ConfigError, match="mask"):
        get_method("fill-mask")(model=str(mlm_dir), template="{text} about").fit([], [], classes=["good", "bad"])
    with pytest.raises(ConfigError, match="label_names"):
        get_method("fill-mask")(model=str(mlm_dir)).fit([], [], classes=["good", "zyzzyva"])
    tagger = get_method("fill-mask")(model=str(mlm_dir), label_names={"zyzzyva": "bug"})
    assert tagger.fit([], [], classes=["good", "zyzzyva"]).predict_proba(TEXTS).shape == (4, 2)


def test_missing_model_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError, match="bert-base-uncased.*(zero-shot-embed|tfidf)"):
        get_method("fill-mask")().fit([], [], classes=["a", "b"])
    assert time.perf_counter() - start < 5
