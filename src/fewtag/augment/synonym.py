"""WordNet synonym replacement (EDA's SR operation; the book's ``nlpaug`` SynonymAug)."""

from __future__ import annotations

import re

import numpy as np

from fewtag.augment.base import Augmenter

__all__ = ["SynonymAugmenter"]

_WORD = re.compile(r"^[A-Za-z]{3,}$")
STOP_WORDS = frozenset(
    "the and for are but not you all any can had her was one our out has him his how its may new "
    "now old see two way who did get let put say she too use this that with have from they will "
    "would there their what about which when make like time just know take into year your some "
    "could them than then look only come over also back after work first well even want because "
    "these give most should does doing been being were is it in on of to a an or as at be by".split()
)


class SynonymAugmenter(Augmenter):
    """Replace about ``alpha`` of the content words by a random WordNet synonym.

    Parameters
    ----------
    alpha : float
        Fraction of the words replaced (at least one when any word has synonyms).
    data_dir : str, optional
        NLTK data folder (default :func:`fewtag.augment.wordnet.nltk_data_dir`).

    Examples
    --------
    >>> a = SynonymAugmenter(alpha=0.5)
    >>> a.augment(["the program crashed"], 1, rng=0) != ["the program crashed"]
    True
    """

    name = "synonym"

    def __init__(self, *, alpha: float = 0.1, data_dir: str | None = None):
        self.alpha = alpha
        self.data_dir = data_dir

    def synonyms(self, word: str) -> list[str]:
        """Sorted synonyms of ``word`` (single words, other than ``word``)."""
        from fewtag.augment.wordnet import wordnet

        wn = wordnet(self.data_dir)
        low = word.lower()
        found = {lemma.name().replace("_", " ") for syn in wn.synsets(low) for lemma in syn.lemmas()}
        return sorted(s for s in found if s.lower() != low and " " not in s and "-" not in s)

    def _augment_one(self, text: str, rng: np.random.Generator) -> str:
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if _WORD.match(w) and w.lower() not in STOP_WORDS]
        if not candidates:
            return text
        n = max(1, int(round(self.alpha * len(candidates))))
        order = rng.permutation(len(candidates))
        replaced = 0
        for k in order:
            i = candidates[int(k)]
            options = self.synonyms(words[i])
            if not options:
                continue
            new = options[int(rng.integers(len(options)))]
            words[i] = new.capitalize() if words[i][0].isupper() else new
            replaced += 1
            if replaced >= n:
                break
        return " ".join(words)
