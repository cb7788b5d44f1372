"""Augmenters are seeded, deterministic and change the text; the wrapper trains any method."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag.augment import available_augmenters, get_augmenter
from fewtag.errors import ConfigError
from fewtag.methods.augmented import AugmentedTagger, augmented_spec
from fewtag.registry import get_method, load_tagger

from .conftest import BUG, FEATURE

TEXTS = [
    "The dataset fails to load when streaming is enabled and I get a KeyError",
    "Please add support for reading compressed parquet files from the hub",
]


def test_registry_lists_all_and_rejects_unknown():
    assert available_augmenters() == ["backtranslate", "contextual", "eda", "synonym"]
    with pytest.raises(ConfigError, match="Available: backtranslate, contextual, eda, synonym"):
        get_augmenter("nope")


@pytest.mark.parametrize("op", ["swap", "insert", "delete"])
def test_eda_operations_seeded_and_change_text(op):
    aug = get_augmenter("eda", alpha=0.2, operations=(op,))
    a = aug.augment(TEXTS, n_aug=3, rng=7)
    b = aug.augment(TEXTS, n_aug=3, rng=np.random.default_rng(7))
    assert a == b and len(a) == 6
    assert all(x != TEXTS[i // 3] for i, x in enumerate(a))
    if op == "swap":
        assert sorted(a[0].split()) == sorted(TEXTS[0].split())
    if op == "delete":
        assert len(a[0].split()) < len(TEXTS[0].split())
    if op == "insert":
        assert len(a[0].split()) > len(TEXTS[0].split())
    assert aug.augment(TEXTS, n_aug=3, rng=8) != a


def test_synonym_offline_wordnet(nltk_dir):
    aug = get_augmenter("synonym", alpha=0.3, data_dir=str(nltk_dir))
    out = aug.augment(TEXTS, n_aug=2, rng=0)
    assert out == aug.augment(TEXTS, n_aug=2, rng=0)
    assert len(out) == 4 and all(o != TEXTS[i // 2] for i, o in enumerate(out))
    wn_dir = nltk_dir / "corpora" / "wordnet"
    assert not (wn_dir / "data.noun").is_symlink()
    assert b"\r\n" not in (wn_dir / "index.noun").read_bytes()[:100_000]
    assert "burden" in aug.synonyms("load")


def test_contextual_with_tiny_mlm(tiny_mlm):
    aug = get_augmenter("contextual", model=str(tiny_mlm), alpha=0.5, top_k=5)
    texts = ["the dataset load fails with an error", "please add support for audio files"]
    out = aug.augment(texts, n_aug=2, rng=3)
    assert out == aug.augment(texts, n_aug=2, rng=3)
    assert len(out) == 4 and any(o != texts[i // 2] for i, o in enumerate(out))


def test_backtranslate_with_fake_translator():
    class Upper:
        def translate(self, texts, source, target):
            return [t.upper() if target == "pt" else t.lower() + " (bt)" for t in texts]

    aug = get_augmenter("backtranslate", translator=Upper(), alpha=0.3)
    out = aug.augment(["Crash On Load of big files"], n_aug=2, rng=0)
    assert out[0] == "crash on load of big files (bt)"
    assert out == aug.augment(["Crash On Load of big files"], n_aug=2, rng=0)
    with pytest.raises(ConfigError, match="not a translator"):
        get_augmenter("backtranslate", translator="nope").augment(["x y"], 1, 0)


def test_hub_translator_fails_fast_offline(monkeypatch):
    from fewtag.errors import ModelNotFoundError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    aug = get_augmenter("backtranslate", translator="hub")
    with pytest.raises(ModelNotFoundError, match="not available offline"):
        aug.augment(["crash on load"], 1, 0)


def _tiny_seq2seq(folder):
    """A tiny random BART with the WordPiece test tokenizer: a local seq2seq checkpoint."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tests.utils.tiny_models import build_tokenizer

    tok = build_tokenizer(folder)
    config = transformers.BartConfig(
        vocab_size=len(tok),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=1,
        decoder_attention_heads=1,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.cls_token_id,
        eos_token_id=tok.sep_token_id,
        decoder_start_token_id=tok.cls_token_id,
        forced_eos_token_id=tok.sep_token_id,
    )
    torch.manual_seed(0)
    net = transformers.BartForConditionalGeneration(config)
    net.generation_config.max_length = 8
    net.save_pretrained(folder)
    return folder


def test_hub_translator_runs_a_local_seq2seq_model(tmp_path):
    # transformers 5 has no "translation" pipeline: the old pipeline("translation") call raised KeyError
    from fewtag.augment.backtranslate import BackTranslateAugmenter, HubTranslator

    folder = str(_tiny_seq2seq(tmp_path / "s2s"))
    translator = HubTranslator({"en-pt": folder, "pt-en": folder}, batch_size=2)
    texts = ["crash on load", "the data set fails to load with an error", "please add a new feature"]
    out = translator.translate(texts, "en", "pt")
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    assert out == translator.translate(texts, "en", "pt")  # greedy decoding: deterministic
    aug = BackTranslateAugmenter(translator=translator).augment(texts[:1], 1, 0)
    assert len(aug) == 1 and isinstance(aug[0], str)


def test_augmented_wrapper_trains_saves_loads(tmp_path):
    texts, labels = BUG + FEATURE, ["bug"] * len(BUG) + ["feature"] * len(FEATURE)
    method, params = augmented_spec("naive-bayes", {"alpha": 0.5}, "eda", n_aug=2)
    tagger = get_method(method)(**params).fit(texts, labels)
    assert tagger.metadata_["n_augmented"] == 2 * len(texts)
    assert tagger.predict(["crash with an error"]) == [["bug"]]
    again = get_method(method)(**params).fit(texts, labels)
    np.testing.assert_allclose(tagger.predict_proba(texts), again.predict_proba(texts))
    loaded = load_tagger(tagger.save(tmp_path / "m"))
    assert isinstance(loaded, AugmentedTagger)
    np.testing.assert_allclose(loaded.predict_proba(texts), tagger.predict_proba(texts))


def test_augmented_multi_label_and_unknown_base():
    texts = BUG + FEATURE
    labels = [["bug"]] * 5 + [["bug", "feature"]] + [["feature"]] * 6
    tagger = AugmentedTagger(base="tfidf-logreg", augment="eda", n_aug=1).fit(texts, labels)
    assert tagger.multi_label_ and tagger.predict_proba(texts).shape == (12, 2)
    from fewtag.errors import UnknownMethodError

    with pytest.raises(UnknownMethodError, match="not a method"):
        AugmentedTagger(base="nope").fit(texts, labels)
