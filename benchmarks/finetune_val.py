"""finetune's choices on validation only: pooling (mean vs cls) and min_steps.

The test split is never read. The prepared ``valid`` split is cut once (seed 0)
into a tuning half, given to ``fit`` (best epoch and decision thresholds), and a
scoring half, where micro/macro F1 are measured, so the figures are not tuned
on the texts that score them. Seed ``s`` trains on the slice drawn with seed
``s`` (the prepared slices for the prepare seed) and seeds the model with ``s``.
One JSON line per run is appended to OUT (runs already there are skipped).

Reproduce (huggingface/datasets issues)::

    fewtag import ../shared/data/github_issues_hf_datasets/datasets-issues.zip --store /tmp/h6/hf.db
    fewtag prepare --config configs/hf-datasets.toml --store /tmp/h6/hf.db --out /tmp/h6/hf
    python benchmarks/finetune_val.py /tmp/h6/pooling.jsonl --data /tmp/h6/hf --slices 32 --seeds 3 \\
        --pooling mean,cls --min-steps 30 --max-length 64
    python benchmarks/finetune_val.py /tmp/h6/minsteps.jsonl --data /tmp/h6/hf --slices 8 --seeds 3 \\
        --pooling mean --min-steps 0,100 --max-length 64
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="JSON-lines file to append one row per run to")
    ap.add_argument("--data", required=True, help="a prepared folder (fewtag prepare)")
    ap.add_argument("--slices", default="32,128")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pooling", default="mean,cls")
    ap.add_argument("--min-steps", default="100")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    import torch

    from fewtag.data.dataset import load_prepared
    from fewtag.data.prepare import make_slices
    from fewtag.metrics import macro_f1, micro_f1
    from fewtag.registry import get_method

    torch.set_num_threads(a.threads)
    d = load_prepared(a.data)
    ml = d.multi_label
    perm = np.random.RandomState(0).permutation(len(d.valid))
    tune, score = d.valid.subset(perm[: len(perm) // 2]), d.valid.subset(perm[len(perm) // 2 :])
    y_score = score.y(d.labels)
    done = set()
    if Path(a.out).exists():
        for line in open(a.out):
            r = json.loads(line)
            done.add((r["pooling"], r["min_steps"], r["slice"], r["seed"]))
    sizes = [int(s) for s in a.slices.split(",")]
    for seed in range(a.seeds):
        if seed == d.seed:
            slices = d.slices
        else:
            slices = {str(k): v for k, v in make_slices(d.train.y(d.labels), sizes, seed).items()}
        for size in sizes:
            for min_steps in [int(m) for m in a.min_steps.split(",")]:
                for pooling in a.pooling.split(","):
                    if (pooling, min_steps, size, seed) in done:
                        continue
                    sub = d.train.subset(slices[str(size)])
                    t0 = time.perf_counter()
                    tagger = get_method("finetune")(
                        epochs=a.epochs,
                        max_length=a.max_length,
                        min_steps=min_steps,
                        pooling=pooling,
                        random_state=seed,
                    )
                    tagger.fit(
                        sub.texts,
                        sub.targets(ml),
                        classes=d.labels,
                        multi_label=ml,
                        validation=(tune.texts, tune.targets(ml)),
                    )
                    pred = tagger.predict_indicator(score.texts)
                    row = {
                        "pooling": pooling,
                        "min_steps": min_steps,
                        "slice": size,
                        "n": len(sub),
                        "seed": seed,
                        "val_micro_f1": round(micro_f1(y_score, pred), 4),
                        "val_macro_f1": round(macro_f1(y_score, pred), 4),
                        "best_epoch": tagger.best_epoch_,
                        "steps": tagger.history_[-1]["steps"],
                        "seconds": round(time.perf_counter() - t0, 1),
                    }
                    print(json.dumps(row), flush=True)
                    with open(a.out, "a") as f:
                        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
