"""Tiny random sentence encoders built locally, for encoder-method tests without network.

``build_sentence_encoder(folder)`` writes a sentence-transformers folder (a
2-layer BERT of width 32 + mean pooling); ``build_plain_encoder(folder)``
writes a bare transformers ``BertModel`` folder (no sentence-transformers
config) so that the mean-pooling fallback is exercised. Both are seeded.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ENCODER_WORDS", "build_plain_encoder", "build_sentence_encoder", "toy_data"]

ENCODER_WORDS = (
    "this issue is about a the bug crash error fails broken segfault exception traceback "
    "feature request add new please support option flag docs documentation typo readme "
    "example question how why what can i you we it on in of to and with when start load "
    "save file data model test very not works . , ! ? ##s ##ing ##ed"
).split()


def _tokenizer(folder: Path, words):
    from tests.utils.tiny_models import build_tokenizer

    return build_tokenizer(folder, words)


def build_plain_encoder(
    folder: str | Path, *, hidden: int = 32, layers: int = 2, seed: int = 0, words=ENCODER_WORDS
) -> Path:
    """A random ``BertModel`` + WordPiece tokenizer saved with ``save_pretrained``."""
    import torch
    from transformers import BertConfig, BertModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = _tokenizer(folder, words)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    BertModel(config).eval().save_pretrained(folder)
    return folder


def build_sentence_encoder(
    folder: str | Path, *, hidden: int = 32, layers: int = 2, seed: int = 0, words=ENCODER_WORDS
) -> Path:
    """A tiny ``SentenceTransformer`` (BERT + mean pooling) saved to ``folder``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    folder = Path(folder)
    plain = build_plain_encoder(
        folder.parent / (folder.name + "-plain"), hidden=hidden, layers=layers, seed=seed, words=words
    )
    body = Transformer(str(plain), max_seq_length=64)
    model = SentenceTransformer(modules=[body, Pooling(hidden, pooling_mode="mean")], device="cpu")
    model.save(str(folder))
    return folder


def toy_data(multi_label: bool = False):
    """A small separable problem: (texts, labels, classes)."""
    bug = [
        "crash on start",
        "segfault when i load the file",
        "error traceback on save",
        "it fails with an exception",
        "broken test crash",
        "load fails with error",
    ]
    feat = [
        "please add a new option",
        "feature request support flag",
        "add new save option please",
        "support a flag to load data",
        "new feature please",
        "request to add option",
    ]
    docs = [
        "typo in the readme",
        "documentation example is broken",
        "docs typo",
        "readme example",
        "documentation about model",
        "docs how to save",
    ]
    texts = bug + feat + docs
    if not multi_label:
        labels = ["bug"] * 6 + ["feature"] * 6 + ["docs"] * 6
    else:
        labels = [["bug"]] * 6 + [["feature"]] * 6 + [["docs"]] * 6
        labels[4] = ["bug", "docs"]  # broken test crash
        labels[7] = ["feature", "docs"]
        labels[13] = ["docs", "bug"]
    return texts, labels, ["bug", "docs", "feature"]
