"""Tiny local models and texts for the unlabelled-data tests (no network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WORDS = (
    "the a an is it this that on with when in of to and or not fails crash error bug load data set "
    "dataset feature request add new please support docs documentation typo fix broken works stream "
    "streaming file files big small hub viewer page question how why what can i we you install "
    "memory slow fast json csv parquet image audio text split train test config ."
).split()

BUG = [
    "the dataset load fails with an error",
    "crash when i load a big json file",
    "error in streaming with parquet files",
    "load of csv data fails with a crash",
    "memory error when it load a big dataset",
    "the viewer page is broken with an error",
]
FEATURE = [
    "please add support for audio files",
    "feature request add new config for split",
    "add support for image datasets please",
    "new feature please add parquet support",
    "request support for streaming of json",
    "please add a fast load for big files",
]
UNLABELLED = [
    "crash with an error on load",
    "please add new support for text",
    "bug in the viewer",
    "how can i install it",
    "streaming fails with error",
    "add a feature for audio",
    "slow load of big parquet files",
    "docs typo fix on the hub page",
] * 2


def _tokenizer(folder: Path):
    from tests.utils.tiny_models import build_tokenizer

    return build_tokenizer(folder, WORDS, model_max_length=64)


def _config(vocab_size: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )


def build_tiny_mlm(folder: Path, seed: int = 0) -> Path:
    """A random ``BertForMaskedLM`` with a whole-word tokenizer."""
    import torch
    from transformers import BertForMaskedLM

    tok = _tokenizer(folder)
    torch.manual_seed(seed)
    BertForMaskedLM(_config(len(tok))).save_pretrained(folder)
    return folder


def build_tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """A random ``BertModel`` without head (a sentence encoder with mean pooling)."""
    import torch
    from transformers import BertModel

    tok = _tokenizer(folder)
    torch.manual_seed(seed)
    BertModel(_config(len(tok))).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_mlm(tmp_path_factory) -> Path:
    return build_tiny_mlm(tmp_path_factory.mktemp("tiny_mlm"))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(autouse=True)
def _no_persistent_embedding_cache(tmp_path_factory):
    from fewtag.embed import configure_cache

    configure_cache(None)
    yield


@pytest.fixture(scope="session")
def nltk_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nltk_data")
