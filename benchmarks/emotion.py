"""The book's ch. 2 workflow on the emotion tweets, offline, with fewtag methods.

Trains the most-frequent baseline, ``embed-logreg`` (frozen MiniLM features +
logistic regression, full training set), ``setfit`` (8 examples per class)
and ``finetune`` (MiniLM + classification head), prints an accuracy /
macro-F1 table on validation (the book's split) and test, and writes to
``--out``: ``results.md`` / ``results.json``, a confusion matrix PNG per
method, the highest-loss validation examples per method (``errors_<method>.md``)
and the 2-D projection of the training embeddings per class.

The fine-tuning is bounded by default (4,000 training texts, 1 epoch, 64
tokens); ``--finetune-full`` gives the book's setting (all 16k, 2 epochs,
lr 2e-5 -> here 5e-5 for the smaller MiniLM, batch 64, 128 tokens), which
takes about 18 minutes on 2 CPU cores.

    .venv/bin/python benchmarks/emotion.py --out runs/emotion
    .venv/bin/python benchmarks/emotion.py --methods most-frequent embed-logreg
    .venv/bin/python benchmarks/emotion.py --methods finetune --finetune-full
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(os.environ.get("FEWTAG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "emotion"
BOOK = {"most-frequent": 0.352, "embed-logreg": 0.6085, "finetune": 0.9225, "setfit": 0.488}


def read(split: str, folder: Path = DATA) -> tuple[list[str], list[str]]:
    """``text;label`` lines of ``{split}.txt``."""
    texts, labels = [], []
    for line in (folder / f"{split}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            text, _, label = line.rpartition(";")
            texts.append(text)
            labels.append(label)
    return texts, labels


def per_class(labels: list[str], n: int, seed: int) -> list[int]:
    """Indices of ``n`` seeded random examples per class."""
    rng = np.random.default_rng(seed)
    idx: list[int] = []
    for c in sorted(set(labels)):
        members = np.flatnonzero(np.asarray(labels) == c)
        idx.extend(rng.choice(members, size=min(n, len(members)), replace=False).tolist())
    return sorted(idx)


def settings(args: argparse.Namespace) -> dict[str, dict]:
    """Constructor kwargs and training data choice per method."""
    if args.finetune_full:
        ft = dict(epochs=2, lr=5e-5, batch_size=64, max_length=128, patience=1)
    else:
        ft = dict(
            epochs=args.finetune_epochs,
            lr=args.finetune_lr,
            batch_size=16,
            max_length=args.finetune_max_length,
            max_train_examples=args.finetune_train,
            patience=1,
        )
    return {
        "most-frequent": {},
        "embed-logreg": {},
        "setfit": dict(random_state=args.seed),
        "finetune": dict(random_state=args.seed, **ft),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/emotion"))
    parser.add_argument("--methods", nargs="+", default=["most-frequent", "embed-logreg", "setfit", "finetune"])
    parser.add_argument("--setfit-per-class", type=int, default=8)
    parser.add_argument("--finetune-train", type=int, default=4000)
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--finetune-lr", type=float, default=1e-4)
    parser.add_argument("--finetune-max-length", type=int, default=64)
    parser.add_argument(
        "--finetune-val", type=int, default=500, help="validation texts finetune selects its epoch on (and tunes with)"
    )
    parser.add_argument(
        "--finetune-full",
        action="store_true",
        help="all 16k texts, 2 epochs, batch 64, 128 tokens (~18 min on 2 CPU cores)",
    )
    parser.add_argument("--n-errors", type=int, default=10)
    parser.add_argument(
        "--projection-n", type=int, default=4000, help="training texts in the projection plot (0: skip it)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from fewtag.errors import TaggerError, UnknownMethodError
    from fewtag.eval.analysis import confusion_plot, highest_loss_examples, projection_plot
    from fewtag.eval.metrics import score
    from fewtag.labels import binarize, to_label_sets
    from fewtag.registry import get_method

    if not (args.data / "train.txt").is_file():
        print(f"no emotion data in {args.data} (expected train.txt, val.txt, test.txt)", file=sys.stderr)
        return 1
    train, val, test = (read(s, args.data) for s in ("train", "val", "test"))
    classes = sorted(set(train[1]))
    args.out.mkdir(parents=True, exist_ok=True)
    kwargs = settings(args)
    results: list[dict] = []
    for name in args.methods:
        try:
            cls = get_method(name)
        except UnknownMethodError as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        texts, labels = train
        n_train = len(texts)
        if name == "setfit":
            idx = per_class(labels, args.setfit_per_class, args.seed)
            texts, labels = [texts[i] for i in idx], [labels[i] for i in idx]
            n_train = len(texts)
        if name == "finetune" and not args.finetune_full:
            n_train = min(args.finetune_train, n_train)
        print(f"[{name}] training on {n_train} texts ...", flush=True)
        t0 = time.perf_counter()
        try:
            tagger = cls(**kwargs.get(name, {}))
            # finetune picks its epoch on validation; 500 texts keep that cheap on a CPU
            vidx = np.random.default_rng(args.seed).permutation(len(val[0]))[: args.finetune_val]
            validation = ([val[0][i] for i in vidx], [val[1][i] for i in vidx]) if name == "finetune" else None
            tagger.fit(texts, labels, classes=classes, validation=validation)
        except TaggerError as exc:
            print(f"[{name}] failed: {exc}", file=sys.stderr)
            continue
        fit_s = time.perf_counter() - t0
        row = {"method": name, "n_train": n_train, "fit_s": round(fit_s, 1), "params": tagger.get_params()}
        t0 = time.perf_counter()
        val_scores = None
        for split, (stexts, slabels) in (("val", val), ("test", test)):
            scores = tagger.predict_proba(stexts)
            val_scores = scores if split == "val" else val_scores
            pred = tagger.decision_.apply(scores)
            m = score(binarize(to_label_sets(slabels), classes), pred, classes)
            row[f"{split}_accuracy"], row[f"{split}_macro_f1"] = m["accuracy"], m["macro_f1"]
            if split == "val":
                pred_names = [classes[j] for j in pred.argmax(axis=1)]
                confusion_plot(
                    slabels,
                    pred_names,
                    classes,
                    args.out / f"confusion_{name}.png",
                    title=f"{name}: validation, row-normalised",
                )
        row["predict_s"] = round(time.perf_counter() - t0, 1)
        if hasattr(tagger, "best_epoch_"):
            row["best_epoch"] = tagger.best_epoch_
        errors = highest_loss_examples(tagger, *val, n=args.n_errors, scores=val_scores)
        lines = [
            f"# {name}: highest-loss validation examples",
            "",
            "| loss | gold | predicted | text |",
            "|---:|---|---|---|",
        ]
        lines += [
            f"| {e['loss']:.2f} | {', '.join(e['gold'])} | {', '.join(e['predicted'])} | "
            f"{e['text'].replace('|', '/')} |"
            for e in errors
        ]
        (args.out / f"errors_{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        results.append(row)
        print(
            f"[{name}] val acc {row['val_accuracy']:.4f}  macro-F1 {row['val_macro_f1']:.4f}  "
            f"test acc {row['test_accuracy']:.4f}  ({fit_s:.0f} s)",
            flush=True,
        )

    if args.projection_n and "embed-logreg" in args.methods:
        from fewtag.embed import get_encoder
        from fewtag.models import DEFAULT_ENCODER

        idx = np.random.default_rng(args.seed).permutation(len(train[0]))[: args.projection_n]
        vecs = get_encoder(DEFAULT_ENCODER).encode([train[0][i] for i in idx])
        projection_plot(
            vecs,
            [train[1][i] for i in idx],
            args.out / "projection.png",
            classes=classes,
            title=f"MiniLM embeddings of {len(idx)} training tweets",
        )

    table = [
        "| method | train texts | val accuracy | val macro-F1 | test accuracy | test macro-F1 "
        "| book (val acc) | fit s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        table.append(
            f"| {r['method']} | {r['n_train']} | {r['val_accuracy']:.4f} | "
            f"{r['val_macro_f1']:.4f} | {r['test_accuracy']:.4f} | {r['test_macro_f1']:.4f} | "
            f"{BOOK.get(r['method'], float('nan')):.4f} | {r['fit_s']:.0f} |"
        )
    text = "\n".join(table)
    print(text)
    (args.out / "results.md").write_text(text + "\n", encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}/results.md, results.json, confusion_*.png, errors_*.md"
        + (", projection.png" if args.projection_n else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
