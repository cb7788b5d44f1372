"""Unlabelled-data methods vs their baselines on a prepared dataset (book ch. 9 protocol).

Rows: naive-bayes with and without augmentation; encoder methods with and
without domain adaptation (DA: a checkpoint written by ``fewtag adapt``);
self-train vs its teacher (``self-train`` with ``n_iter=0``); uda. Every row
trains on a nested training slice, tunes its decision rule on valid, and is
scored once on test (micro / macro F1). Prints a Markdown table; ``--csv``
writes every (row, slice, seed) result.

Reproduce (huggingface/datasets issues)::

    fewtag import ../shared/data/github_issues_hf_datasets/datasets-issues.zip --store /tmp/h5/fewtag.db
    fewtag prepare --config configs/hf-datasets.toml --store /tmp/h5/fewtag.db --out /tmp/h5/hf
    fewtag adapt /tmp/h5/hf --model sentence-transformers/all-MiniLM-L6-v2 --out /tmp/h5/minilm-simcse \\
        --steps 60 --objective simcse --batch-size 16 --max-length 64
    FEWTAG_EMBED_CACHE=/tmp/h5/embed.db python benchmarks/unlabelled.py /tmp/h5/hf \\
        --da-model /tmp/h5/minilm-simcse --max-length 64 --seeds 3 --csv /tmp/h5/unlabelled.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
SMALL = ["8", "16", "32"]


def rows(da_model: str | None, max_length: int) -> list[dict]:
    enc = {"model": ENCODER, "max_length": max_length}
    out = [
        {"label": "naive-bayes", "method": "naive-bayes", "params": {}, "slices": SMALL + ["64", "128"]},
        {
            "label": "naive-bayes +aug (eda)",
            "method": "augmented",
            "params": {"base": "naive-bayes", "augment": "eda", "n_aug": 2},
            "slices": SMALL + ["64", "128"],
        },
        {
            "label": "naive-bayes +aug (synonym)",
            "method": "augmented",
            "params": {"base": "naive-bayes", "augment": "synonym", "n_aug": 2},
            "slices": SMALL + ["64", "128"],
        },
        {
            "label": "naive-bayes +aug (backtranslate)",
            "method": "augmented",
            "params": {"base": "naive-bayes", "augment": "backtranslate", "n_aug": 1},
            "slices": SMALL,
        },
        {"label": "embed-logreg", "method": "embed-logreg", "params": dict(enc), "slices": SMALL + ["64"]},
        {"label": "knn", "method": "knn", "params": dict(enc), "slices": SMALL + ["64"]},
        {
            "label": "self-train teacher (n_iter=0)",
            "method": "self-train",
            "params": {**enc, "n_iter": 0, "max_unlabelled": 500},
            "slices": ["16", "32", "64"],
            "seeded": True,
        },
        {
            "label": "self-train (3 rounds)",
            "method": "self-train",
            "params": {**enc, "n_iter": 3, "max_unlabelled": 500},
            "slices": ["16", "32", "64"],
            "seeded": True,
        },
        {
            "label": "self-train (3 rounds, last student)",
            "method": "self-train",
            "params": {**enc, "n_iter": 3, "max_unlabelled": 500, "keep_best": False},
            "slices": ["16", "32", "64"],
            "seeded": True,
        },
        {
            "label": "uda (eda)",
            "method": "uda",
            "params": {**enc, "max_unlabelled": 300},
            "slices": ["16", "32", "64"],
            "seeded": True,
        },
    ]
    if da_model:
        da = {"model": da_model, "max_length": max_length}
        out.insert(
            5, {"label": "embed-logreg (DA)", "method": "embed-logreg", "params": dict(da), "slices": SMALL + ["64"]}
        )
        out.insert(7, {"label": "knn (DA)", "method": "knn", "params": dict(da), "slices": SMALL + ["64"]})
        out.append(
            {
                "label": "self-train (DA, 3 rounds)",
                "method": "self-train",
                "params": {**da, "n_iter": 3, "max_unlabelled": 500},
                "slices": ["16", "32", "64"],
                "seeded": True,
            }
        )
    return out


def run(
    data_path: str, da_model: str | None, seeds: int, only: list[str] | None, max_length: int, csv_path: str | None
) -> list[dict]:
    from fewtag.data.dataset import load_prepared
    from fewtag.eval.metrics import macro_f1, micro_f1
    from fewtag.registry import get_method

    data = load_prepared(data_path)
    ml = data.multi_label
    y_test = data.test.y(data.labels)
    results = []
    for row in rows(da_model, max_length):
        if only and not any(o in row["label"] for o in only):
            continue
        cls = get_method(row["method"])
        for sl in row["slices"]:
            train = data.train.subset(data.slices[sl])
            for seed in range(seeds if row.get("seeded") else 1):
                params = dict(row["params"])
                if "random_state" in cls.__init__.__code__.co_varnames:
                    params["random_state"] = seed
                start = time.perf_counter()
                tagger = cls(**params).fit(
                    train.texts,
                    train.targets(ml),
                    classes=data.labels,
                    multi_label=ml,
                    validation=(data.valid.texts, data.valid.targets(ml)),
                    unlabelled=data.unsup.texts,
                )
                secs = time.perf_counter() - start
                pred = tagger.predict_indicator(data.test.texts)
                rec = {
                    "row": row["label"],
                    "slice": sl,
                    "n_train": len(train),
                    "seed": seed,
                    "micro_f1": micro_f1(y_test, pred),
                    "macro_f1": macro_f1(y_test, pred),
                    "train_s": round(secs, 1),
                }
                extra = tagger.metadata_.get("self_train", {}).get("kept_round")
                if extra is not None:
                    rec["kept_round"] = extra
                results.append(rec)
                print(
                    f"{rec['row']:34} {sl:>4} seed {seed}: micro {rec['micro_f1']:.3f} "
                    f"macro {rec['macro_f1']:.3f} ({secs:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
                if csv_path:
                    write_csv(results, csv_path)
    return results


def write_csv(results: list[dict], path: str) -> None:
    keys = sorted({k for r in results for k in r}, key=lambda k: list(results[0]).index(k) if k in results[0] else 99)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(results)


def table(results: list[dict]) -> str:
    """Markdown: one line per row, micro/macro F1 per slice (mean ± std over seeds)."""
    slices = sorted({r["slice"] for r in results}, key=lambda s: (s == "all", int(s) if s.isdigit() else 0))
    labels = list(dict.fromkeys(r["row"] for r in results))
    sizes = {r["slice"]: r["n_train"] for r in results}
    lines = ["| method | " + " | ".join(f"{s} ({sizes[s]})" for s in slices) + " |", "|---|" + "---|" * len(slices)]
    for lab in labels:
        cells = []
        for s in slices:
            got = [r for r in results if r["row"] == lab and r["slice"] == s]
            if not got:
                cells.append("")
                continue
            mi, ma = np.array([g["micro_f1"] for g in got]), np.array([g["macro_f1"] for g in got])
            pm = f"±{mi.std():.3f}" if len(got) > 1 else ""
            cells.append(f"{mi.mean():.3f}{pm}/{ma.mean():.3f}")
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="prepared dataset folder (fewtag prepare)")
    ap.add_argument("--da-model", help="checkpoint written by `fewtag adapt` (adds the DA rows)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the seeded rows")
    ap.add_argument("--only", nargs="*", help="run only rows whose label contains one of these")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--csv", help="write every result here")
    ap.add_argument("--from-csv", help="print the table of an earlier --csv and exit")
    args = ap.parse_args(argv)
    if args.from_csv:
        with open(args.from_csv, encoding="utf-8") as fh:
            results = [
                {**r, "micro_f1": float(r["micro_f1"]), "macro_f1": float(r["macro_f1"]), "n_train": int(r["n_train"])}
                for r in csv.DictReader(fh)
            ]
    else:
        results = run(args.data, args.da_model, args.seeds, args.only, args.max_length, args.csv)
    print(f"test micro/macro F1 on {Path(args.data).name} (seeded rows: mean±std over seeds)\n")
    print(table(results))


if __name__ == "__main__":
    main()
