"""finetune learns, keeps its best epoch, and reloads identically."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fewtag.errors import ConfigError, ModelFileError, ModelNotFoundError
from fewtag.registry import get_method, load_tagger
from tests.methods_hf.conftest import keyword_data

FAST = dict(lr=3e-3, batch_size=8, warmup_ratio=0.0, max_length=16)


@pytest.fixture(scope="module")
def trained(encoder_dir):
    train, val = keyword_data(64, seed=0), keyword_data(32, seed=1)
    tagger = get_method("finetune")(model=str(encoder_dir), epochs=8, patience=3, **FAST)
    return tagger.fit(*train, validation=val), val


def test_learns_separable_keywords(trained):
    tagger, (vtexts, vlabels) = trained
    pred = [p[0] for p in tagger.predict(vtexts)]
    assert np.mean(np.array(pred) == np.array(vlabels)) >= 0.9
    assert tagger.model_.config.id2label == {0: "bad", 1: "good"}
    assert tagger.model_.config.problem_type == "single_label_classification"
    np.testing.assert_allclose(tagger.predict_proba(vtexts).sum(axis=1), 1.0, atol=1e-6)


def test_best_epoch_kept_and_early_stopping(trained):
    tagger, (vtexts, vlabels) = trained
    f1s = [row["val_micro_f1"] for row in tagger.history_]
    assert tagger.best_epoch_ == int(np.argmax(f1s)) + 1
    # the weights in use are the best epoch's, not the last one's
    y = np.array([[lab == "bad", lab == "good"] for lab in vlabels], dtype=int)
    assert tagger._micro_f1(vtexts, y) == pytest.approx(max(f1s))
    # patience 3: training stopped 3 epochs after the best (or ran all 8)
    assert len(f1s) == min(8, tagger.best_epoch_ + 3)


def test_save_load_identical(trained, tmp_path):
    tagger, (vtexts, _) = trained
    tagger.save(tmp_path / "ft")
    assert (tmp_path / "ft" / "model" / "model.safetensors").is_file()
    assert not list((tmp_path / "ft").rglob("*.bin")) and not list((tmp_path / "ft").rglob("*.pkl"))
    again = load_tagger(tmp_path / "ft")
    np.testing.assert_array_equal(again.predict_proba(vtexts), tagger.predict_proba(vtexts))
    assert again.best_epoch_ == tagger.best_epoch_


def test_multi_label_and_determinism(encoder_dir):
    texts, single = keyword_data(32, seed=2)
    labels = [[lab] + (["movie"] if "movie" in t else []) for t, lab in zip(texts, single)]
    kwargs = dict(model=str(encoder_dir), epochs=2, random_state=3, **FAST)
    a = get_method("finetune")(**kwargs).fit(texts, labels, validation=(texts[:8], labels[:8]))
    b = get_method("finetune")(**kwargs).fit(texts, labels, validation=(texts[:8], labels[:8]))
    assert a.model_.config.problem_type == "multi_label_classification"
    sa = a.predict_proba(texts)
    assert sa.shape == (32, 3) and np.all((sa >= 0) & (sa <= 1))
    np.testing.assert_array_equal(sa, b.predict_proba(texts))  # seeded: same on CPU
    # an epoch is judged at its best global threshold, never worse than at 0.5
    y = np.array([[lab in row for lab in a.classes_] for row in labels], dtype=int)
    at_half = a.predict_proba(texts) >= 0.5
    tp = np.count_nonzero(at_half & (y == 1))
    assert a._micro_f1(texts, y) >= 2 * tp / (np.count_nonzero(at_half) + y.sum()) > 0


def test_small_slices_are_passed_over_until_min_steps(encoder_dir):
    texts, labels = keyword_data(8, seed=5)
    kwargs = dict(model=str(encoder_dir), epochs=2, **{**FAST, "batch_size": 8})
    tagger = get_method("finetune")(min_steps=10, **kwargs).fit(texts, labels)
    assert [row["steps"] for row in tagger.history_] == [5, 10]  # 5 passes of one batch per epoch
    plain = get_method("finetune")(min_steps=0, **kwargs).fit(texts, labels)
    assert [row["steps"] for row in plain.history_] == [1, 2]


def test_without_validation_trains_all_epochs(encoder_dir):
    texts, labels = keyword_data(16, seed=4)
    tagger = get_method("finetune")(model=str(encoder_dir), epochs=2, max_train_examples=10, **FAST)
    tagger.fit(texts, labels)
    assert len(tagger.history_) == 2 and tagger.best_epoch_ == 2
    assert tagger.metadata_["n_train"] == 10


def test_bad_params(encoder_dir):
    with pytest.raises(ConfigError, match="epochs"):
        get_method("finetune")(model=str(encoder_dir), epochs=0).fit(["a", "b"], ["x", "y"])
    with pytest.raises(ConfigError, match="min_steps"):
        get_method("finetune")(model=str(encoder_dir), min_steps=-1).fit(["a", "b"], ["x", "y"])


def test_missing_model_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError, match="not available offline.*tfidf-logreg"):
        get_method("finetune")(model="nobody/no-such-model").fit(["a", "b"], ["x", "y"])
    assert time.perf_counter() - start < 5


# ------------------------------------------------------------------ pooling
def _one_epoch(encoder_dir, pooling, seed=0):
    texts, labels = keyword_data(16, seed=6)
    kwargs = dict(model=str(encoder_dir), epochs=1, min_steps=0, pooling=pooling, random_state=seed, **FAST)
    return get_method("finetune")(**kwargs).fit(texts, labels), texts


def test_mean_pooling_is_the_masked_mean_of_token_embeddings(encoder_dir):
    torch = pytest.importorskip("torch")
    tagger, _ = _one_epoch(encoder_dir, "mean")
    texts = ["good", "this movie was a really very good film it was"]  # 1 word vs 11: padding in the batch
    batch = tagger._collate(tagger._tokenize(texts), [0, 1])
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()
    with torch.no_grad():
        hidden = tagger.model_.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = (hidden * mask).sum(1) / mask.sum(1)
        pooled = tagger.model_.pooled(**batch)
        alone = tagger.model_.pooled(**tagger._collate(tagger._tokenize(texts[:1]), [0]))
        cls = hidden[:, 0]
    np.testing.assert_allclose(pooled.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    # masked: the short text's embedding does not change when it is padded in a batch
    np.testing.assert_allclose(pooled[0].numpy(), alone[0].numpy(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(pooled.numpy(), cls.numpy(), atol=1e-3)  # not [CLS]
    # the logits are the head on that mean
    with torch.no_grad():
        logits = tagger.model_.classifier(pooled)
    np.testing.assert_allclose(tagger.logits(texts), logits.numpy(), rtol=1e-5, atol=1e-5)


def test_mean_and_cls_pooling_differ_and_cls_reads_the_pooler(encoder_dir):
    mean, texts = _one_epoch(encoder_dir, "mean")
    cls, _ = _one_epoch(encoder_dir, "cls")
    assert type(cls.model_).__name__ == "BertForSequenceClassification"  # [CLS] -> pooler -> head
    assert type(mean.model_).__name__ == "MeanPoolClassifier"
    assert not np.allclose(mean.predict_proba(texts), cls.predict_proba(texts), atol=1e-4)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_pooling_is_saved_with_the_model(encoder_dir, tmp_path, pooling):
    import json

    tagger, texts = _one_epoch(encoder_dir, pooling)
    tagger.save(tmp_path / "ft")
    meta = json.loads((tmp_path / "ft" / "fewtag.json").read_text())
    assert meta["params"]["pooling"] == pooling and meta["pooling"] == pooling
    assert (tmp_path / "ft" / "head.safetensors").is_file() == (pooling == "mean")
    again = load_tagger(tmp_path / "ft")
    assert again.pooling == pooling
    np.testing.assert_array_equal(again.predict_proba(texts), tagger.predict_proba(texts))


def test_model_saved_before_pooling_existed_loads_as_cls(encoder_dir, tmp_path):
    import json

    tagger, texts = _one_epoch(encoder_dir, "cls")
    tagger.save(tmp_path / "ft")
    meta_file = tmp_path / "ft" / "fewtag.json"
    meta = json.loads(meta_file.read_text())
    del meta["params"]["pooling"], meta["pooling"]  # what an older fewtag wrote
    meta_file.write_text(json.dumps(meta))
    again = load_tagger(tmp_path / "ft")
    assert again.pooling == "cls"
    np.testing.assert_array_equal(again.predict_proba(texts), tagger.predict_proba(texts))


def test_mean_model_without_its_head_is_a_model_file_error(encoder_dir, tmp_path):
    tagger, _ = _one_epoch(encoder_dir, "mean")
    tagger.save(tmp_path / "ft")
    (tmp_path / "ft" / "head.safetensors").unlink()
    with pytest.raises(ModelFileError, match="without its head.safetensors"):
        load_tagger(tmp_path / "ft")


def test_unknown_pooling_is_a_config_error(encoder_dir):
    with pytest.raises(ConfigError, match="pooling must be one of mean, cls; got 'max'"):
        get_method("finetune")(model=str(encoder_dir), pooling="max").fit(["a", "b"], ["x", "y"])
