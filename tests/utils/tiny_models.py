"""Tiny random Hugging Face models built locally, for tests without network.

Every builder writes a model folder (config, safetensors weights, tokenizer)
that ``from_pretrained`` loads, and returns its path. Weights are random but
seeded, so the same call builds the same model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TINY_WORDS", "build_tokenizer", "build_nli_model", "build_mlm_model", "build_encoder"]

#: Default vocabulary of the tiny tokenizer (whole words; unknown words become [UNK]).
TINY_WORDS = (
    "this example is about a an the issue text good bad great awful fine terrible movie film "
    "bug crash error feature request docs question sports politics science music food it was "
    "i feel happy sad angry love fear joy surprise very not so really what how why when we you "
    "they he she add new please fix broken works nice hate like data set load fails on with "
    "sky blue red green day night cat dog run walk read write code test model in of to and or "
    ". , ! ? ##s ##ing ##ed ##er"
).split()


def build_tokenizer(folder: str | Path, words=TINY_WORDS, *, model_max_length: int = 128):
    """A WordPiece ``BertTokenizerFast`` over ``words`` (plus the special tokens), saved to ``folder``."""
    from transformers import BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + [w for w in dict.fromkeys(words) if w not in specials]
    # transformers 5 takes the vocabulary itself (a dict); ``vocab_file=`` is ignored there.
    tok = BertTokenizerFast(
        vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True, model_max_length=model_max_length
    )
    tok.save_pretrained(folder)
    return tok


def _config(vocab_size: int, *, hidden: int, layers: int, **kwargs):
    from transformers import BertConfig

    # A wide initialisation so random models give clearly different scores per
    # text and label (with the default 0.02 every score is ~1/n_labels, and a
    # test comparing scores could not catch permuted columns).
    kwargs.setdefault("initializer_range", 0.5)
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 16),
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
        **kwargs,
    )


def build_nli_model(
    folder: str | Path,
    *,
    hidden: int = 32,
    layers: int = 2,
    seed: int = 0,
    id2label: dict[int, str] | None = None,
    words=TINY_WORDS,
) -> Path:
    """A random ``BertForSequenceClassification`` with the 3 NLI labels."""
    import torch
    from transformers import BertForSequenceClassification

    folder = Path(folder)
    tok = build_tokenizer(folder, words)
    id2label = id2label or {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = _config(
        len(tok),
        hidden=hidden,
        layers=layers,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    return folder


def build_mlm_model(folder: str | Path, *, hidden: int = 32, layers: int = 2, seed: int = 0, words=TINY_WORDS) -> Path:
    """A random ``BertForMaskedLM``."""
    import torch
    from transformers import BertForMaskedLM

    folder = Path(folder)
    tok = build_tokenizer(folder, words)
    torch.manual_seed(seed)
    model = BertForMaskedLM(_config(len(tok), hidden=hidden, layers=layers)).eval()
    model.save_pretrained(folder)
    return folder


def build_encoder(folder: str | Path, *, hidden: int = 32, layers: int = 1, seed: int = 0, words=TINY_WORDS) -> Path:
    """A random ``BertModel`` (no head), like the MiniLM checkpoint ``finetune`` starts from."""
    import torch
    from transformers import BertModel

    folder = Path(folder)
    tok = build_tokenizer(folder, words)
    torch.manual_seed(seed)
    # the usual small initialisation: this one is trained, not just scored
    model = BertModel(_config(len(tok), hidden=hidden, layers=layers, initializer_range=0.02)).eval()
    model.save_pretrained(folder)
    return folder
