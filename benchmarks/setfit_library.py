"""fewtag's setfit beside the ``setfit`` library: same texts, pairs, encoder, steps and learning rate.

Data: ../shared/data/github_issues_4repos, per repository and seed the balanced 300-train /
300-test parts of ``train_file_4repos.py``. Both sides fine-tune all-MiniLM-L6-v2 at 128 tokens
on ``--pairs`` pairs (batch 16, one epoch, learning rate 5e-5 for the body), then fit a logistic
head; the library's is its default ``LogisticRegression``. Each fit runs in its own process, so
its peak RSS (``ru_maxrss``) is its own. Printed per run: wall time of ``fit``, peak RSS, test
macro F1 (argmax); then the ratios fewtag / setfit over the runs.

The library is not a dependency of fewtag: ``pip install setfit==1.2.0`` first.

    .venv/bin/python benchmarks/setfit_library.py --repos react --seeds 3 --pairs 400
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
from train_file_4repos import DATA, balanced_parts
from fewtag.data.text import TextSpec
side, repo, seed, pairs = {side!r}, {repo!r}, {seed}, {pairs}
rows = json.loads((DATA / f"{{repo}}.json").read_text(encoding="utf-8"))
labels, train, test = balanced_parts(rows, 300, 300, seed)
spec = TextSpec()
tx = lambda part: [spec.text_of({{"title": r["title"] or "", "body": r["body"] or ""}}) for r in part]
xtr, xte = tx(train), tx(test)
ytr = [labels.index(r["labels"]) for r in train]
yte = np.array([labels.index(r["labels"]) for r in test])
t0 = time.perf_counter()
if side == "fewtag":
    from fewtag.registry import create
    m = create("setfit", {{"max_length": 128, "max_pairs": pairs, "batch_size": 16, "body_learning_rate": 5e-5,
                          "label_templates": "never", "class_weight": None}}, seed=seed)
    m.fit(xtr, [[labels[i]] for i in ytr], classes=labels)
    fit_s = time.perf_counter() - t0
    pred = m.predict_proba(xte).argmax(axis=1)
    pred = np.array([labels.index(m.classes_[i]) for i in pred])
else:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from fewtag.models import resolve_model
    model = SetFitModel.from_pretrained(str(resolve_model({encoder!r})))
    args = TrainingArguments(batch_size=16, num_epochs=1, max_steps=pairs // 16, body_learning_rate=5e-5,
                             max_length=128, seed=seed, report_to="none", output_dir="/tmp/setfit-lib-out")
    trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_dict({{"text": xtr, "label": ytr}}))
    trainer.train()
    fit_s = time.perf_counter() - t0
    pred = np.asarray(model.predict(xte))
from fewtag.metrics import macro_f1
gold = np.eye(len(labels), dtype=int)[yte]
print(json.dumps({{"side": side, "repo": repo, "seed": seed, "fit_s": fit_s,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "macro_f1": float(macro_f1(gold, np.eye(len(labels), dtype=int)[pred]))}}))
"""


def run(side: str, repo: str, seed: int, pairs: int) -> dict:
    code = CHILD.format(bench=str(ROOT / "benchmarks"), side=side, repo=repo, seed=seed, pairs=pairs, encoder=ENCODER)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} {repo} seed {seed} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repos", default="react")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=400)
    args = ap.parse_args(argv)
    try:
        import setfit  # noqa: F401
    except ImportError:
        print("error: the setfit library is not installed: pip install setfit==1.2.0", file=sys.stderr)
        return 1
    from fewtag.metrics import format_interval, mean_interval

    rows = []
    for seed in range(args.seeds):
        for repo in args.repos.split(","):
            for side in ("fewtag", "setfit"):  # alternate, so both see the same load on the cores
                rows.append(run(side, repo, seed, args.pairs))
                print(json.dumps(rows[-1]), flush=True)
    print(f"\n| side | fit s | peak RSS MB | test macro F1 | ({args.pairs} pairs, 128 tokens, batch 16) |")
    print("|---|---|---|---|---|")
    for side in ("fewtag", "setfit"):
        mine = [r for r in rows if r["side"] == side]
        cells = [
            format_interval(mean_interval([r[k] for r in mine]), 1 if k != "macro_f1" else 3)
            for k in ("fit_s", "rss_mb", "macro_f1")
        ]
        print(f"| {side} | " + " | ".join(cells) + " | |")
    ours = [r for r in rows if r["side"] == "fewtag"]
    theirs = [r for r in rows if r["side"] == "setfit"]
    time_ratio = [a["fit_s"] / b["fit_s"] for a, b in zip(ours, theirs)]
    rss_ratio = [a["rss_mb"] / b["rss_mb"] for a, b in zip(ours, theirs)]
    print(
        f"\nfewtag / setfit, per run: time {format_interval(mean_interval(time_ratio), 2)}, "
        f"peak RSS {format_interval(mean_interval(rss_ratio), 2)}; macro F1 difference "
        f"{format_interval(mean_interval([a['macro_f1'] - b['macro_f1'] for a, b in zip(ours, theirs)]), 3)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
