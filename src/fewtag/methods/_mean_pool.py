"""A classification head on the attention-masked mean of an encoder's token embeddings.

Sentence-transformers models (all-MiniLM-L6-v2 and kin) were trained to be read
this way: their ``1_Pooling/config.json`` says ``pooling_mode_mean_tokens``. A
``*ForSequenceClassification`` head instead reads [CLS] through the BERT pooler,
which sentence-transformers training never touched. ``finetune`` uses this module
for ``pooling="mean"``. Imported lazily: it needs torch.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["MeanPoolClassifier", "masked_mean"]


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` (batch, tokens, dim) over the tokens where ``mask`` (batch, tokens) is 1."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


class MeanPoolClassifier(torch.nn.Module):
    """``encoder`` -> masked mean of the last hidden states -> dropout -> linear head.

    Parameters
    ----------
    encoder : transformers.PreTrainedModel
        A base model (``AutoModel``) returning ``last_hidden_state``.
    n_labels : int
    seed : int
        Seeds the head's initialisation (normal, std ``config.initializer_range``).
    """

    def __init__(self, encoder: Any, n_labels: int, seed: int = 0):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        p = getattr(self.config, "classifier_dropout", None)
        self.dropout = torch.nn.Dropout(float(p if p is not None else getattr(self.config, "hidden_dropout_prob", 0.1)))
        self.classifier = torch.nn.Linear(int(self.config.hidden_size), int(n_labels))
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            std = float(getattr(self.config, "initializer_range", 0.02))
            self.classifier.weight.copy_(torch.randn(self.classifier.weight.shape, generator=gen) * std)
            self.classifier.bias.zero_()

    def pooled(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """The sentence embedding: masked mean of the token embeddings, shape (batch, dim)."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state
        return masked_mean(hidden, attention_mask)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """Logits of shape (batch, n_labels)."""
        return self.classifier(self.dropout(self.pooled(input_ids, attention_mask, token_type_ids)))
