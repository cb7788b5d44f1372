"""Zero-shot tagging with an NLI model: does the text entail "This example is <label>."?

The scores are those of ``transformers.pipeline("zero-shot-classification")``
(multi-label: softmax of [contradiction, entailment] per label; single-label:
softmax of the entailment logits across labels), computed faster: all
hypotheses of a batch of texts go through the model in one forward pass,
texts sorted by length so padding stays short, instead of one pass per
(text, label) pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError
from fewtag.methods._hf import length_batches, model_max_length, pick_device, require_transformers
from fewtag.methods.base import BaseTagger
from fewtag.models import model_revision, resolve_model
from fewtag.registry import register

__all__ = ["ZeroShotNLITagger", "nli_label_ids", "nli_scores"]

DEFAULT_NLI_MODEL = "facebook/bart-large-mnli"


def nli_label_ids(label2id: dict[str, int], model: str = "the model") -> tuple[int, int]:
    """Return ``(contradiction_id, entailment_id)`` from a config's ``label2id``.

    Labels are matched case-insensitively by prefix (``ENTAILMENT``, ``entail``...).

    >>> nli_label_ids({"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2})
    (0, 2)

    Raises
    ------
    ConfigError
        When either label is missing: the model is not an NLI classifier.
    """
    found: dict[str, int] = {}
    for label, idx in label2id.items():
        low = str(label).lower()
        for key in ("entail", "contradict"):
            if low.startswith(key):
                found.setdefault(key, int(idx))
    missing = [k + "ment" if k == "entail" else k + "ion" for k in ("entail", "contradict") if k not in found]
    if missing:
        raise ConfigError(
            f"{model} is not an NLI model: its config.label2id {dict(label2id)} has no "
            f"{' or '.join(repr(m) for m in missing)} label. Pass an NLI checkpoint "
            f"(e.g. {DEFAULT_NLI_MODEL}) or use the zero-shot-embed method."
        )
    return found["contradict"], found["entail"]


def nli_scores(logits: NDArray, *, contradiction_id: int, entailment_id: int, multi_label: bool) -> NDArray[np.float64]:
    """Label scores from NLI logits of shape ``(n_texts, n_labels, n_nli_classes)``.

    Multi-label (or a single label): per label, softmax over [contradiction,
    entailment], the entailment probability. Single-label: softmax of the
    entailment logits across labels (rows sum to 1).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if multi_label or logits.shape[1] == 1:
        pair = logits[..., [contradiction_id, entailment_id]]
        pair = pair - pair.max(axis=-1, keepdims=True)
        e = np.exp(pair)
        return e[..., 1] / e.sum(axis=-1)
    ent = logits[..., entailment_id]
    ent = ent - ent.max(axis=1, keepdims=True)
    e = np.exp(ent)
    return e / e.sum(axis=1, keepdims=True)


@register("zero-shot-nli")
class ZeroShotNLITagger(BaseTagger):
    """Zero-shot tags from an NLI checkpoint; no training.

    Parameters
    ----------
    model : str
        Hub id or local folder of an NLI ``AutoModelForSequenceClassification``
        (its ``config.label2id`` must name entailment and contradiction).
    hypothesis_template : str
        Hypothesis with one ``{}`` where the label name goes.
    label_names : dict of str to str, optional
        Text used for a label in the hypothesis (default: the label itself).
    batch_size : int
        Texts per forward pass; each brings ``n_classes`` hypotheses.
    max_length : int, optional
        Token limit of a (text, hypothesis) pair; the text is truncated, never
        the hypothesis. Default: the model's limit.
    device : str
        ``"auto"`` (GPU when available), ``"cpu"``, ``"cuda"``...

    Examples
    --------
    >>> tagger = ZeroShotNLITagger(model="path/to/nli")  # doctest: +SKIP
    >>> tagger.fit([], [], classes=["bug", "feature"]).predict(["it crashes"])  # doctest: +SKIP
    [['bug']]
    """

    needs_training = False
    model_path_: Path  # set by _load_model

    def __init__(
        self,
        *,
        model: str = DEFAULT_NLI_MODEL,
        hypothesis_template: str = "This example is {}.",
        label_names: dict[str, str] | None = None,
        batch_size: int = 8,
        max_length: int | None = None,
        device: str = "auto",
    ):
        self.model = model
        self.hypothesis_template = hypothesis_template
        self.label_names = label_names
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device

    # --------------------------------------------------------------- protocol
    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        if self.hypothesis_template.format("\x00") == self.hypothesis_template:
            raise ConfigError(
                f"hypothesis_template must contain {{}} where the label goes; got {self.hypothesis_template!r}"
            )
        folder = self._load_model()
        self.metadata_.update({"model_path": str(folder), "model_revision": model_revision(folder)})

    def _scores(self, texts: list[str]) -> NDArray[np.float64]:
        torch, _ = require_transformers(self.name)
        self._load_model()
        tok, net = self.tokenizer_, self.model_
        hyps = self.hypotheses()
        out = np.zeros((len(texts), len(hyps)))
        max_len = model_max_length(tok, net.config, self.max_length)
        keys = [k for k in tok.model_input_names if k in ("input_ids", "attention_mask", "token_type_ids")]
        with torch.inference_mode():
            for idx in length_batches([len(t) for t in texts], self.batch_size):
                premises = [texts[i] for i in idx for _ in hyps]
                enc = _encode_pairs(tok, premises, hyps * len(idx), max_len)
                batch = {k: enc[k].to(self.device_) for k in keys if k in enc}
                logits = net(**batch).logits.float().cpu().numpy()
                out[idx] = nli_scores(
                    logits.reshape(len(idx), len(hyps), -1),
                    contradiction_id=self.contradiction_id_,
                    entailment_id=self.entailment_id_,
                    multi_label=self.multi_label_,
                )
        return out

    def _save_weights(self, folder: Path) -> None:
        """Nothing to save: the NLI model is referenced by id (and revision) in fewtag.json."""

    def _load_weights(self, folder: Path) -> None:
        """The model is loaded lazily at the first prediction."""

    # ---------------------------------------------------------------- helpers
    def hypotheses(self) -> list[str]:
        """One hypothesis per class, in ``classes_`` order."""
        names = self.label_names or {}
        return [self.hypothesis_template.format(names.get(c, c)) for c in self.classes_]

    def _load_model(self) -> Path:
        if getattr(self, "model_", None) is not None:
            return self.model_path_
        _, transformers = require_transformers(self.name)
        folder = resolve_model(self.model, method=self.name)
        config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
        contradiction, entailment = nli_label_ids(config.label2id, repr(self.model))
        self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.device_ = pick_device(self.device)
        self.model_ = (
            transformers.AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
            .to(self.device_)
            .eval()
        )
        self.contradiction_id_, self.entailment_id_ = contradiction, entailment
        self.model_path_ = folder
        return folder


def _encode_pairs(tok: Any, premises: list[str], hypotheses: list[str], max_len: int) -> Any:
    """Tokenise (premise, hypothesis) pairs like the pipeline: truncate the premise only."""
    try:
        return tok(premises, hypotheses, padding=True, truncation="only_first", max_length=max_len, return_tensors="pt")
    except Exception as exc:  # the hypothesis alone is longer than max_len
        if "too short" not in str(exc) and "truncat" not in str(exc).lower():
            raise
        return tok(premises, hypotheses, padding=True, truncation=False, return_tensors="pt")
