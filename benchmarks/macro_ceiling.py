"""How far can macro F1 go on this data? Per-tag F1 against its test-set ceiling.

Trains each method on the whole training split (decision rule tuned on
validation, as in ``fewtag bench``) and prints, per tag: the support in each
split, the test F1 the method gets, and the *ceiling*: the best test F1 any
threshold on that method's scores could give, the threshold being chosen on
the test set itself. The ceiling is not a result (it looks at the answers);
it bounds every rule that thresholds those scores, so a target above the
macro mean of the ceilings cannot be met by tuning thresholds, only by better
scores.

It also counts how consistently a tag is applied: for each ``--mention
TAG=REGEX``, the labelled issues whose title matches REGEX, and how many of
them carry TAG.

Reproduce (huggingface/datasets issues; ``w/hf`` from ``fewtag prepare``)::

    python benchmarks/macro_ceiling.py w/hf --config configs/ladder.toml \\
        --methods "ensemble (macro),ensemble (micro),setfit,tfidf-logreg"
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from fewtag.data.loading import load_data  # noqa: E402
from fewtag.errors import TaggerError  # noqa: E402
from fewtag.eval.metrics import per_label_scores  # noqa: E402
from fewtag.eval.settings import MethodSpec, load_bench_config, select_methods  # noqa: E402
from fewtag.registry import create  # noqa: E402
from fewtag.tuning import best_label_f1  # noqa: E402

#: Title patterns for the huggingface/datasets tags that are applied unevenly.
DEFAULT_MENTIONS = [
    "streaming=stream",
    r"question=^(how|why|what|is there|can|does|is it)\b|\?\s*$",
]


def ceiling_table(data, specs: list[MethodSpec], seed: int) -> list[str]:
    classes = list(data.labels)
    y_test = data.test.y(classes)
    support = {
        name: split.y(classes).sum(axis=0)
        for name, split in (("train", data.train), ("valid", data.valid), ("test", data.test))
    }
    columns, got, ceiling = [], {}, {}
    for spec in specs:
        start = time.perf_counter()
        tagger = create(spec.name, spec.params, seed=seed)
        ml = data.multi_label
        tagger.fit(
            data.train.texts,
            data.train.targets(ml),
            classes=classes,
            multi_label=ml,
            validation=(data.valid.texts, data.valid.targets(ml)),
            unlabelled=data.unsup.texts,
            decision=spec.decision,
        )
        scores = tagger.predict_proba(data.test.texts)
        got[spec.display] = per_label_scores(y_test, tagger.decision_.apply(scores))["f1"]
        ceiling[spec.display] = np.array([best_label_f1(scores[:, j], y_test[:, j])[0] for j in range(len(classes))])
        columns.append(spec.display)
        print(
            f"# {spec.display}: trained and scored in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True
        )
    head = "| tag | train/valid/test | " + " | ".join(f"{c}: F1 / ceiling" for c in columns) + " |"
    lines = [head, "|" + "---|" * (2 + len(columns))]
    for j, tag in enumerate(classes):
        counts = "/".join(str(int(support[s][j])) for s in ("train", "valid", "test"))
        cells = " | ".join(f"{got[c][j]:.2f} / {ceiling[c][j]:.2f}" for c in columns)
        lines.append(f"| {tag} | {counts} | {cells} |")
    cells = " | ".join(f"**{got[c].mean():.3f} / {ceiling[c].mean():.3f}**" for c in columns)
    lines.append(f"| macro F1 | | {cells} |")
    return lines


def parse_mentions(items: list[str], tags: list[str]) -> list[tuple[str, str]]:
    """``TAG=REGEX`` items as ``(tag, pattern)``; checked before any model trains."""
    parsed = []
    for item in items:
        tag, _, pattern = item.partition("=")
        if tag not in tags or not pattern:
            raise SystemExit(f"--mention {item!r}: expected TAG=REGEX with a tag of the data")
        parsed.append((tag, pattern))
    return parsed


def mention_table(data, mentions: list[tuple[str, str]]) -> list[str]:
    rows = [r for split in (data.train, data.valid, data.test) for r in zip(split.texts, split.labels)]
    lines = [
        "| tag | title matches | labelled issues matching | of them carry the tag | carry the tag in all |",
        "|---|---|---:|---:|---:|",
    ]
    for tag, pattern in mentions:
        regex = re.compile(pattern, re.IGNORECASE)
        matching = [labels for text, labels in rows if regex.search(text.split("\n", 1)[0])]
        carrying = sum(tag in labels for labels in matching)
        total = sum(tag in labels for _, labels in rows)
        shown = pattern.replace("|", "&#124;")
        lines.append(f"| {tag} | `{shown}` | {len(matching)} | {carrying} | {total} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="a prepared folder (fewtag prepare)")
    parser.add_argument("--config", help="bench TOML whose [[method]] entries --methods may name")
    parser.add_argument(
        "--methods",
        default="ensemble (macro),tfidf-logreg",
        help="comma-separated labels of --config entries, or method names",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--mention",
        action="append",
        default=None,
        metavar="TAG=REGEX",
        help="count labelled issues whose title matches REGEX and how many carry TAG",
    )
    args = parser.parse_args(argv)
    try:
        data = load_data(args.data)
        mentions = parse_mentions(args.mention or DEFAULT_MENTIONS, list(data.labels))
        specs = load_bench_config(args.config)["methods"] if args.config else []
        chosen = select_methods([m.strip() for m in args.methods.split(",") if m.strip()], specs)
        print("\n".join(ceiling_table(data, chosen, args.seed)))
    except TaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print()
    print("\n".join(mention_table(data, mentions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
