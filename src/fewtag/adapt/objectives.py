"""The training objectives :func:`fewtag.adapt.adapt` drives, one class each.

* :class:`MLMRun` -- a masked-LM checkpoint (``*ForMaskedLM``) trained with
  ``DataCollatorForLanguageModeling`` (15% of the tokens masked, never special
  tokens); saved as the masked-LM checkpoint.
* :class:`EncoderMLMRun` -- the same objective for a sentence encoder (or a
  plain encoder) without an MLM head: its transformer body is loaded with
  ``AutoModelForMaskedLM``, whose head starts fresh (the decoder is tied to the
  word embeddings, so only the transform and the bias are new). The adapted
  body is written back into the sentence-transformers folder, pooling and
  normalisation as they were, so the output is a ``--model`` like SimCSE's.
* :class:`SimCSERun` -- unsupervised SimCSE (two dropout views,
  ``MultipleNegativesRankingLoss``).
* :class:`TSDAERun` -- ``DenoisingAutoEncoderLoss`` on copies with 60% of
  the words deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fewtag.errors import ConfigError, ModelFileError

__all__ = ["Objective", "MLMRun", "EncoderMLMRun", "SimCSERun", "TSDAERun", "make_objective", "body_folder"]


class Objective(Protocol):
    """What :func:`fewtag.adapt.adapt` drives: one training objective wrapped round a model."""

    #: lines worth telling the user (e.g. a freshly initialised head)
    notes: list[str]

    def parameters(self) -> Iterable[Any]: ...  # torch parameters; torch is imported lazily

    def train_mode(self) -> None: ...

    def loss(self, texts: list[str]) -> Any: ...  # a scalar torch tensor

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float: ...

    def save(self, folder: Path) -> None: ...


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report (the missing head is expected; we say so in ``notes``)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def body_folder(path: Path) -> Path:
    """The folder of a sentence encoder's transformer body (the folder itself when it has no ``modules.json``).

    >>> body_folder(Path("/nonexistent/minilm"))
    PosixPath('/nonexistent/minilm')
    """
    modules = path / "modules.json"
    if not modules.is_file():
        return path
    try:
        entries = json.loads(modules.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{modules}: unreadable modules.json ({exc})") from exc
    for entry in entries:
        if str(entry.get("type", "")).endswith("Transformer"):
            return path / str(entry.get("path", ""))
    raise ConfigError(f"{path} has no transformer module in modules.json, so objective 'mlm' cannot train it")


def _masked_lm_loss(run: Any, texts: list[str]) -> Any:
    enc = run.tokenizer(texts, truncation=True, max_length=run.max_length, return_special_tokens_mask=True)
    rows = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    batch = run.collator(rows)
    if not bool((batch["labels"] != -100).any()):  # nothing masked (short texts): mask one token
        import torch

        ids = batch["input_ids"]
        special = torch.tensor(run.tokenizer.all_special_ids)
        where = (batch["attention_mask"].bool() & ~torch.isin(ids, special)).nonzero()
        if len(where):
            r, c = where[int(torch.randint(len(where), (1,)))].tolist()
            batch["labels"][r, c] = ids[r, c]
            ids[r, c] = run.tokenizer.mask_token_id
    return run.model(**batch).loss


def _seeded_mean(run: Any, texts: list[str], batch_size: int, seed: int, *, train: bool) -> float:
    """Mean loss over ``texts`` without gradients, with the same random draws at every call."""
    import torch

    (run.train_mode if train else run.eval_mode)()
    state = torch.random.get_rng_state()
    torch.manual_seed(seed + 1)  # the same masks / dropout at every evaluation
    try:
        with torch.no_grad():
            chunks = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
            losses = [float(run.loss(c)) * len(c) for c in chunks if len(c) > 1 or not train]
    finally:
        torch.random.set_rng_state(state)
    return sum(losses) / max(1, len(texts))


class MLMRun:
    """Masked-LM training of a checkpoint that has its MLM head."""

    def __init__(self, path: Path, max_length: int):
        from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

        self.notes: list[str] = []
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        with _quiet_transformers():
            self.model = AutoModelForMaskedLM.from_pretrained(str(path))
        self.collator = DataCollatorForLanguageModeling(self.tokenizer, mlm=True, mlm_probability=0.15)
        self.max_length = max_length

    def parameters(self) -> Iterable[Any]:
        return self.model.parameters()

    def train_mode(self) -> None:
        self.model.train()

    def eval_mode(self) -> None:
        self.model.eval()

    def loss(self, texts: list[str]) -> Any:
        return _masked_lm_loss(self, texts)

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float:
        return _seeded_mean(self, texts, batch_size, seed, train=False)

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)


class EncoderMLMRun(MLMRun):
    """Masked-LM training of a sentence encoder's body under a fresh MLM head; saved as the sentence encoder."""

    def __init__(self, path: Path, max_length: int, name: str | None = None):
        from transformers import AutoModelForMaskedLM, DataCollatorForLanguageModeling

        from fewtag.embed import load_sentence_transformer

        name = name or str(path)
        self.encoder = load_sentence_transformer(path, max_length, device="cpu")
        self.tokenizer = self.encoder[0].tokenizer
        if getattr(self.tokenizer, "mask_token", None) is None:
            raise ConfigError(f"{name}: its tokenizer has no mask token, so objective 'mlm' cannot train it")
        try:
            with _quiet_transformers():
                self.model, info = AutoModelForMaskedLM.from_pretrained(
                    str(body_folder(path)), output_loading_info=True
                )
        except ValueError as exc:  # transformers: no masked-LM class for this config
            kind = getattr(getattr(self.encoder[0], "auto_model", None), "config", None)
            raise ConfigError(
                f"{name} ({getattr(kind, 'model_type', '?')}) has no masked-LM variant in transformers, "
                "so objective 'mlm' cannot train it; use --objective simcse or tsdae"
            ) from exc
        fresh = sorted(str(k) for k in info.get("missing_keys", []))
        self.fresh_head = fresh
        prefix = self.model.base_model_prefix + "."
        if any(k.startswith(prefix) for k in fresh):
            raise ModelFileError(f"{name}: the encoder's weights do not fit {type(self.model).__name__} ({fresh[0]})")
        tied = self.model.get_output_embeddings().weight is self.model.get_input_embeddings().weight
        self.notes = [
            f"{name} has no masked-LM head: training {type(self.model).__name__} with a freshly initialised "
            f"head ({len(fresh)} tensors{', decoder tied to the word embeddings' if tied else ''}); "
            "the head is dropped and the adapted body written back as the sentence encoder"
        ]
        self.collator = DataCollatorForLanguageModeling(self.tokenizer, mlm=True, mlm_probability=0.15)
        self.max_length = max_length

    def save(self, folder: Path) -> None:
        body = self.encoder[0].auto_model
        missing, unexpected = body.load_state_dict(self.model.base_model.state_dict(), strict=False)
        if unexpected or any(not k.startswith("pooler.") for k in missing):  # only an unused pooler may differ
            raise ModelFileError(
                f"cannot write the adapted body back into the sentence encoder: "
                f"{len(missing)} missing, {len(unexpected)} unexpected weights"
            )
        self.encoder.eval()
        self.encoder.save(str(folder))


class SimCSERun:
    """Unsupervised SimCSE: each text embedded twice with dropout, in-batch negatives."""

    def __init__(self, path: Path, max_length: int):
        from fewtag.embed import load_sentence_transformer

        self.notes: list[str] = []
        self.model = load_sentence_transformer(path, max_length, device="cpu")
        self.loss_fn = self._make_loss()

    def _make_loss(self) -> Any:
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        return MultipleNegativesRankingLoss(self.model)

    def parameters(self) -> Iterable[Any]:
        return self.model.parameters()

    def train_mode(self) -> None:
        self.model.train()

    eval_mode = train_mode  # dropout makes the two views differ: that is the objective

    def _tokenize(self, texts: list[str]) -> dict:
        prep = getattr(self.model, "preprocess", None) or self.model.tokenize  # renamed in ST 6
        return prep(texts)

    def _features(self, texts: list[str]) -> list[dict]:
        return [self._tokenize(texts), self._tokenize(texts)]

    def loss(self, texts: list[str]) -> Any:
        return self.loss_fn(self._features(texts), None)

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float:
        return _seeded_mean(self, texts, batch_size, seed, train=True)

    def save(self, folder: Path) -> None:
        self.model.eval()
        self.model.save(str(folder))


class TSDAERun(SimCSERun):
    """TSDAE: a tied decoder rebuilds each text from the embedding of a copy with 60% of its words deleted."""

    def __init__(self, path: Path, max_length: int):
        self.path = path
        self.rng = np.random.default_rng(0)
        super().__init__(path, max_length)

    def _make_loss(self) -> Any:
        from sentence_transformers.sentence_transformer.losses import DenoisingAutoEncoderLoss

        with _quiet_transformers():  # the decoder's new cross-attention weights are expected
            return DenoisingAutoEncoderLoss(self.model, decoder_name_or_path=str(self.path), tie_encoder_decoder=True)

    def parameters(self) -> Iterable[Any]:
        return self.loss_fn.parameters()  # encoder and (tied) decoder

    def _features(self, texts: list[str]) -> list[dict]:
        noisy = []
        for t in texts:  # TSDAE's noise: delete 60% of the words
            words = t.split()
            keep = self.rng.random(len(words)) >= 0.6
            if words and not keep.any():
                keep[int(self.rng.integers(len(words)))] = True
            noisy.append(" ".join(w for w, k in zip(words, keep) if k))
        return [self._tokenize(noisy), self._tokenize(texts)]


def make_objective(objective: str, path: Path, max_length: int, *, has_mlm_head: bool, name: str) -> Objective:
    """The run for ``objective`` on the model folder ``path``.

    ``mlm`` on a checkpoint without an MLM head (a sentence encoder) trains
    its body under a fresh head and saves a sentence encoder
    (:class:`EncoderMLMRun`); with a head it saves the masked-LM checkpoint.
    """
    if objective == "mlm":
        return MLMRun(path, max_length) if has_mlm_head else EncoderMLMRun(path, max_length, name)
    if objective == "tsdae":
        return TSDAERun(path, max_length)
    return SimCSERun(path, max_length)
