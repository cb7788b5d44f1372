"""Synthetic prepared datasets for the bench tests, written in the DIR format by hand.

Each label has its own keywords; a text mixes keywords of its labels with shared
filler words and some noise, so classical methods learn something but not everything.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

__all__ = ["write_prepared", "KEYWORDS"]

KEYWORDS = {
    "bug": "crash error traceback fails broken exception segfault wrong",
    "feature": "add support option new please allow request flag",
    "docs": "documentation readme typo docstring example tutorial page link",
    "question": "how why what help understand usage possible wondering",
}
FILLER = "the a this when we it with on in dataset load model version file code".split()


def _text(rng: random.Random, labels: list[str]) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(4, 8))]
    for lab in labels:
        kws = KEYWORDS[lab].split()
        words += rng.sample(kws, rng.randint(1, 3))
    if rng.random() < 0.3:  # noise: a keyword of another label
        other = rng.choice(sorted(KEYWORDS))
        words.append(rng.choice(KEYWORDS[other].split()))
    rng.shuffle(words)
    return " ".join(words)


def write_prepared(
    folder: str | Path,
    *,
    multi_label: bool = False,
    n_train: int = 60,
    n_valid: int = 32,
    n_test: int = 32,
    n_unsup: int = 10,
    sizes: tuple[int, ...] = (8, 16, 32),
    labels: tuple[str, ...] = ("bug", "docs", "feature", "question"),
    seed: int = 0,
) -> Path:
    """Write ``train/valid/test/unsup.jsonl``, ``labels.json``, ``slices.json`` and return the folder."""
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = list(labels)

    def draw(i: int) -> list[str]:
        first = labels[i % len(labels)]
        if multi_label and rng.random() < 0.35:
            second = rng.choice([lab for lab in labels if lab != first])
            return sorted([first, second])
        return [first]

    counts = {}
    for split, n in (("train", n_train), ("valid", n_valid), ("test", n_test), ("unsup", n_unsup)):
        rows = []
        for i in range(n):
            labs = draw(i) if split != "unsup" else []
            text = _text(rng, labs or [rng.choice(labels)])
            rows.append({"id": f"{split}-{i}", "text": text, "labels": labs})
        if split != "unsup":
            counts[split] = {lab: sum(lab in r["labels"] for r in rows) for lab in labels}
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
    # nested slices: prefixes of one seeded permutation (rows cycle through the labels)
    order = list(range(n_train))
    random.Random(seed + 1).shuffle(order)
    slices = {str(k): sorted(order[:k]) for k in sizes if k < n_train}
    slices["all"] = list(range(n_train))
    (folder / "labels.json").write_text(
        json.dumps({"labels": labels, "multi_label": multi_label, "counts": counts}), encoding="utf-8"
    )
    (folder / "slices.json").write_text(
        json.dumps({"seed": 0, "sizes": list(sizes), "slices": slices}), encoding="utf-8"
    )
    (folder / "config.toml").write_text("# synthetic test data\n", encoding="utf-8")
    return folder
