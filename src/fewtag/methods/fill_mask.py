"""Zero-shot tagging with a masked language model (book ch. 9).

Each text goes into a prompt such as ``"{text} This issue is about {mask}."``
and each label is scored by the log-probability the model gives its
token(s) at the mask. A label of ``n`` tokens is scored on a prompt with
``n`` masks, all filled at once (in parallel, not one after the other): its
score is the mean log-probability of its tokens at their mask positions.
The text, never the prompt, is truncated to fit the model.

Scores become numbers in [0, 1] by a softmax across labels (rows sum to 1)
or, with ``normalize="exp"``, by ``exp(mean log-prob)`` (the geometric mean
of the token probabilities).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError
from fewtag.methods._hf import length_batches, model_max_length, pick_device, require_transformers
from fewtag.methods._linear import softmax
from fewtag.methods.base import BaseTagger
from fewtag.models import model_revision, resolve_model
from fewtag.registry import register

__all__ = ["FillMaskTagger"]

DEFAULT_MLM = "bert-base-uncased"


@register("fill-mask")
class FillMaskTagger(BaseTagger):
    """Score labels by the masked-LM probability of their tokens in a prompt; no training.

    Parameters
    ----------
    model : str
        Hub id or local folder of any ``AutoModelForMaskedLM`` checkpoint.
    template : str
        Prompt with ``{text}`` and ``{mask}`` (where the label tokens go).
    label_names : dict of str to str, optional
        Word(s) used for a label (default: the label itself).
    normalize : {"softmax", "exp"}
        How mean log-probabilities become scores in [0, 1].
    batch_size : int
    max_length : int, optional
        Token limit of a prompt (default: the model's limit).
    device : str

    Attributes
    ----------
    label_tokens_ : list of list of int
        Token ids of each label, in ``classes_`` order.
    """

    needs_training = False
    model_path_: Path  # set by _load_model

    def __init__(
        self,
        *,
        model: str = DEFAULT_MLM,
        template: str = "{text} This issue is about {mask}.",
        label_names: dict[str, str] | None = None,
        normalize: str = "softmax",
        batch_size: int = 16,
        max_length: int | None = None,
        device: str = "auto",
    ):
        self.model = model
        self.template = template
        self.label_names = label_names
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device

    # --------------------------------------------------------------- protocol
    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        if "{text}" not in self.template or "{mask}" not in self.template:
            raise ConfigError(f"template must contain {{text}} and {{mask}}; got {self.template!r}")
        if self.normalize not in ("softmax", "exp"):
            raise ConfigError(f"normalize must be 'softmax' or 'exp'; got {self.normalize!r}")
        folder = self._load_model()
        self.metadata_.update(
            {
                "model_path": str(folder),
                "model_revision": model_revision(folder),
                "label_tokens": {
                    c: self.tokenizer_.convert_ids_to_tokens(ids) for c, ids in zip(self.classes_, self.label_tokens_)
                },
            }
        )

    def _scores(self, texts: list[str]) -> NDArray[np.float64]:
        logp = self.label_log_probs(texts)
        return softmax(logp) if self.normalize == "softmax" else np.exp(logp)

    def label_log_probs(self, texts: list[str]) -> NDArray[np.float64]:
        """Mean log-probability of each label's tokens at the mask, shape ``(n_texts, n_classes)``."""
        torch, _ = require_transformers(self.name)
        self._load_model()
        tok, net = self.tokenizer_, self.model_
        groups: dict[int, list[int]] = {}
        for j, ids in enumerate(self.label_tokens_):
            groups.setdefault(len(ids), []).append(j)
        max_len = model_max_length(tok, net.config, self.max_length)
        short = self._truncate(texts, max_len, max(groups))
        out = np.zeros((len(texts), len(self.classes_)))
        with torch.inference_mode():
            for idx in length_batches([len(t) for t in short], self.batch_size):
                for n, cols in groups.items():
                    masks = " ".join([tok.mask_token] * n)
                    prompts = [self.template.format(text=short[i], mask=masks) for i in idx]
                    enc = tok(prompts, padding=True, return_tensors="pt")
                    enc = {
                        k: v.to(self.device_)
                        for k, v in enc.items()
                        if k in ("input_ids", "attention_mask", "token_type_ids")
                    }
                    logits = net(**enc).logits
                    rows, pos = torch.nonzero(enc["input_ids"] == tok.mask_token_id, as_tuple=True)
                    if len(rows) != n * len(idx):
                        raise RuntimeError(
                            f"expected {n} mask tokens per prompt, found {len(rows)} in {len(idx)} prompts"
                        )
                    logp = torch.log_softmax(logits[rows, pos].float(), dim=-1)  # (b*n, V)
                    logp = logp.view(len(idx), n, -1)
                    target = torch.tensor([self.label_tokens_[j] for j in cols], device=logp.device)  # (c_n, n)
                    picked = logp[:, torch.arange(n, device=logp.device)[None, :], target]  # (b, c_n, n)
                    out[np.ix_(idx, np.asarray(cols))] = picked.mean(dim=-1).cpu().numpy()
        return out

    def _save_weights(self, folder: Path) -> None:
        """Nothing to save: the masked LM is referenced by id in fewtag.json."""

    def _load_weights(self, folder: Path) -> None:
        """The model is loaded lazily at the first prediction."""

    # ---------------------------------------------------------------- helpers
    def _load_model(self) -> Path:
        if getattr(self, "model_", None) is not None:
            return self.model_path_
        _, transformers = require_transformers(self.name)
        folder = resolve_model(self.model, method=self.name)
        tok = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        if tok.mask_token is None:
            raise ConfigError(
                f"{self.model!r} has no mask token; fill-mask needs a masked-LM checkpoint such as {DEFAULT_MLM}"
            )
        self.tokenizer_ = tok
        self.device_ = pick_device(self.device)
        self.model_ = (
            transformers.AutoModelForMaskedLM.from_pretrained(folder, local_files_only=True).to(self.device_).eval()
        )
        self.label_tokens_ = [self._label_ids(c) for c in self.classes_]
        self.model_path_ = folder
        return folder

    def _label_ids(self, label: str) -> list[int]:
        name = (self.label_names or {}).get(label, label)
        before = self.template.split("{mask}", 1)[0]
        # byte-level BPE marks a word start with its leading space; WordPiece ignores it
        spaced = " " + name if before[-1:].isspace() else name
        ids = self.tokenizer_(spaced, add_special_tokens=False)["input_ids"]
        unk = self.tokenizer_.unk_token_id
        if not ids or (unk is not None and all(i == unk for i in ids)):
            raise ConfigError(
                f"label {label!r} is unknown to the vocabulary of {self.model!r}"
                f" (tokens {ids}); give it known words with label_names"
            )
        return list(ids)

    def _truncate(self, texts: list[str], max_len: int, n_masks: int) -> list[str]:
        """Cut each text so that the prompt with ``n_masks`` masks fits in ``max_len`` tokens."""
        tok = self.tokenizer_
        texts = [t.replace(tok.mask_token, " ") for t in texts]
        masks = " ".join([tok.mask_token] * n_masks)
        overhead = len(tok(self.template.format(text="", mask=masks))["input_ids"])
        budget = max(1, max_len - overhead)
        out = []
        for text in texts:
            cut = _cut_to_tokens(tok, text, budget)
            while len(tok(self.template.format(text=cut, mask=masks))["input_ids"]) > max_len and cut:
                budget_here = max(0, len(tok(cut, add_special_tokens=False)["input_ids"]) - 1)
                cut = _cut_to_tokens(tok, cut, budget_here) if budget_here else ""
            out.append(cut)
        return out


def _cut_to_tokens(tok: Any, text: str, n_tokens: int) -> str:
    """The longest prefix of ``text`` of at most ``n_tokens`` tokens."""
    try:
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    except (NotImplementedError, ValueError, TypeError):  # tokenizers without offsets
        ids = tok(text, add_special_tokens=False)["input_ids"]
        return text if len(ids) <= n_tokens else tok.decode(ids[:n_tokens])
    if len(enc["input_ids"]) <= n_tokens:
        return text
    return text[: enc["offset_mapping"][n_tokens - 1][1]] if n_tokens else ""
