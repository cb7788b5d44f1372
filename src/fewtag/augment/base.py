"""The augmenter interface and its registry."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from fewtag.errors import ConfigError, InputError

__all__ = ["Augmenter", "AUGMENTERS", "get_augmenter", "available_augmenters", "as_rng"]

#: name -> "module:Class"; modules are imported only when asked for.
AUGMENTERS: dict[str, str] = {
    "eda": "fewtag.augment.eda:EDAAugmenter",
    "synonym": "fewtag.augment.synonym:SynonymAugmenter",
    "contextual": "fewtag.augment.contextual:ContextualAugmenter",
    "backtranslate": "fewtag.augment.backtranslate:BackTranslateAugmenter",
}


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed, or None (seed 0: deterministic)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


class Augmenter(ABC):
    """Makes ``n_aug`` perturbed copies of each text.

    Subclasses store their options in ``__init__`` and implement
    :meth:`_augment_one`; heavy resources are loaded on first use.
    The same ``rng`` seed always gives the same copies.
    """

    name: str = "base"

    def augment(self, texts: Sequence[str], n_aug: int = 1, rng: np.random.Generator | int | None = None) -> list[str]:
        """Augmented copies, ``n_aug`` per text, grouped by text.

        Parameters
        ----------
        texts : sequence of str, length n
        n_aug : int
            Copies per text (>= 1).
        rng : numpy Generator or int seed

        Returns
        -------
        list of str, length ``n * n_aug``: copies of ``texts[0]`` first.
        """
        if isinstance(texts, str):
            raise InputError("expected a sequence of texts, got one string; wrap it in a list")
        if int(n_aug) < 1:
            raise ConfigError(f"n_aug must be >= 1, got {n_aug}")
        gen = as_rng(rng)
        texts = [str(t) for t in texts]
        return self._augment_batch(texts, int(n_aug), gen)

    def _augment_batch(self, texts: list[str], n_aug: int, rng: np.random.Generator) -> list[str]:
        return [self._augment_one(t, rng) for t in texts for _ in range(n_aug)]

    @abstractmethod
    def _augment_one(self, text: str, rng: np.random.Generator) -> str:
        """One perturbed copy of ``text``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"


def available_augmenters() -> list[str]:
    return sorted(AUGMENTERS)


def get_augmenter(name: str | Augmenter, **params: Any) -> Augmenter:
    """An augmenter instance by name (``params`` go to its constructor).

    Raises
    ------
    ConfigError
        Unknown name or bad parameters; the message lists the options.
    """
    if isinstance(name, Augmenter):
        return name
    target = AUGMENTERS.get(name)
    if target is None:
        raise ConfigError(f"{name!r} is not an augmenter. Available: {', '.join(available_augmenters())}")
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"bad options for augmenter {name!r}: {exc}") from exc
