"""Text augmentation: seeded, deterministic augmenters looked up by name.

>>> from fewtag.augment import get_augmenter
>>> aug = get_augmenter("eda")
>>> len(aug.augment(["the loader crashes on big files"], n_aug=2, rng=0))
2

Augmenters: ``eda`` (random swap / insertion / deletion), ``synonym`` (WordNet
synonyms, offline), ``contextual`` (masked-LM substitution) and
``backtranslate`` (through a pluggable translator, offline en<->pt by default).
"""

from __future__ import annotations

from fewtag.augment.base import AUGMENTERS, Augmenter, available_augmenters, get_augmenter

__all__ = ["Augmenter", "AUGMENTERS", "get_augmenter", "available_augmenters"]
