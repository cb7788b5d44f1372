"""Any method trained on augmented data (the book's "NB + augmentation").

``augmented`` is a wrapper: it makes ``n_aug`` augmented copies of every
labelled text (same labels), then fits the ``base`` method on the originals
plus the copies. The bench gives it a display name such as
``naive-bayes +aug``; the CLI maps ``--augment NAME --n-aug N`` onto it with
:func:`augmented_spec`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.labels import indicator_to_labels
from fewtag.methods.base import BaseTagger
from fewtag.registry import create, get_method, load_tagger, register

__all__ = ["AugmentedTagger", "augmented_spec"]


def augmented_spec(
    method: str,
    params: dict[str, Any] | None,
    augment: str | None,
    n_aug: int = 1,
    augment_params: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(method, params)`` for training ``method`` with augmentation (unchanged when ``augment`` is None).

    >>> augmented_spec("naive-bayes", {"alpha": 0.5}, "eda", 2)  # doctest: +NORMALIZE_WHITESPACE
    ('augmented', {'base': 'naive-bayes', 'base_params': {'alpha': 0.5}, 'augment': 'eda', 'n_aug': 2,
     'augment_params': {}})
    """
    if not augment:
        return method, dict(params or {})
    return "augmented", {
        "base": method,
        "base_params": dict(params or {}),
        "augment": augment,
        "n_aug": int(n_aug),
        "augment_params": dict(augment_params or {}),
    }


@register("augmented")
class AugmentedTagger(BaseTagger):
    """Train ``base`` on the labelled texts plus ``n_aug`` augmented copies of each.

    Parameters
    ----------
    base : str
        Registered method name.
    base_params : dict
        Its constructor arguments.
    augment : str
        Augmenter name: ``eda``, ``synonym``, ``contextual``, ``backtranslate``.
    n_aug : int
        Copies per labelled text.
    augment_params : dict
        Augmenter constructor arguments (``alpha``, ``model``, ...).
    random_state : int
        Seed of the augmentation.

    Examples
    --------
    >>> t = AugmentedTagger(base="naive-bayes", augment="eda", n_aug=2).fit(
    ...     ["crash on load", "add a flag", "segfault crash"], ["bug", "feature", "bug"])
    >>> t.predict(["crash again"])
    [['bug']]
    """

    def __init__(
        self,
        *,
        base: str = "naive-bayes",
        base_params: dict[str, Any] | None = None,
        augment: str = "eda",
        n_aug: int = 1,
        augment_params: dict[str, Any] | None = None,
        random_state: int = 0,
    ):
        self.base = base
        self.base_params = base_params
        self.augment = augment
        self.n_aug = n_aug
        self.augment_params = augment_params
        self.random_state = random_state

    @property
    def tuning(self) -> str:  # type: ignore[override]
        """As the wrapped method: ``fewtag train FILE`` fits it k+1 times only if it is fast."""
        return get_method(self.base).tuning

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        from fewtag.augment import get_augmenter

        base = create(self.base, self.base_params)  # unknown base or parameter: fail before augmenting
        augmenter = get_augmenter(self.augment, **(self.augment_params or {}))
        copies = augmenter.augment(texts, self.n_aug, np.random.default_rng(self.random_state))
        all_texts = list(texts) + copies
        all_y = np.concatenate([y, np.repeat(y, self.n_aug, axis=0)])
        labels = indicator_to_labels(all_y, self.classes_, self.multi_label_)
        val = None
        if validation is not None:
            val = (validation[0], [[self.classes_[j] for j in np.flatnonzero(r)] for r in validation[1]])
        self.base_ = base.fit(
            all_texts,
            labels,
            classes=self.classes_,
            multi_label=self.multi_label_,
            validation=val,
            unlabelled=unlabelled,
        )
        self.metadata_.update(
            {
                "base_method": self.base,
                "n_augmented": len(copies),
                **{f"base_{k}": v for k, v in self.base_.metadata_.items()},
            }
        )

    def _scores(self, texts) -> NDArray[np.float64]:
        return self.base_.predict_proba(texts)

    def _save_weights(self, folder: Path) -> None:
        self.base_.save(folder / "base")

    def _load_weights(self, folder: Path) -> None:
        self.base_ = load_tagger(folder / "base")
