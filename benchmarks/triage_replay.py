"""Replay the huggingface/datasets tracker through `fewtag triage`'s decision, in time order.

Train on the first 60% of the labelled issues (by creation time) with `fewtag train`'s pipeline
(fit on all rows, decision rule and calibration on out-of-fold scores), then triage the other 40%
as they arrived, with the decision code of `fewtag triage` (fewtag.deploy.triage.decide) and a
repository config; the humans' final labels are the truth.

Per issue: *match* (it got labels and all are human labels), *mismatch* (it got a label no human
gave), *no prediction* (nothing reached its threshold: the default label would be added).
Precision of applied labels = applied labels that are human labels / applied labels; coverage =
issues that got at least one label. Seeds change the out-of-fold folds (the thresholds and the
calibration are tuned on them); the time split is fixed. Nothing is chosen on the replayed 40%.

    nice -n 5 .venv/bin/python benchmarks/triage_replay.py --seeds 0,1,2 --out benchmarks/results/triage_replay.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP = [
    "bug",
    "enhancement",
    "dataset request",
    "dataset-viewer",
    "dataset bug",
    "documentation",
    "question",
    "streaming",
]


def load_issues(path: Path) -> list[dict]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            o = json.loads(line)
            if o.get("pull_request"):
                continue
            labels = [lab["name"] for lab in o.get("labels") or [] if lab["name"] in KEEP]
            if labels:
                rows.append(
                    {
                        "id": o["number"],
                        "title": o["title"],
                        "body": o.get("body") or "",
                        "labels": labels,
                        "created_at": o["created_at"],
                    }
                )
    rows.sort(key=lambda r: (r["created_at"], r["id"]))
    return rows


def config_for(target: float | None, max_labels: int):
    from fewtag.deploy.config import parse_config

    spec = {} if target is None else {"precision": target}
    return parse_config(
        {"labels": {lab: dict(spec) for lab in KEEP}, "max_labels": max_labels, "default_label": "needs-triage"}
    )


def replay(tagger, test: list[dict], config) -> dict:
    from fewtag.deploy.config import MAIN_FAMILY
    from fewtag.deploy.triage import decide

    match = mismatch = none = applied = right = 0
    for row in test:
        text = tagger.text_of(row)
        picked = [c.label for c in decide(config, MAIN_FAMILY, tagger, text) if c.picked]
        truth = set(row["labels"])
        if not picked:
            none += 1
            continue
        applied += len(picked)
        right += sum(lab in truth for lab in picked)
        if all(lab in truth for lab in picked):
            match += 1
        else:
            mismatch += 1
    n = len(test)
    return {
        "issues": n,
        "match": match / n,
        "mismatch": mismatch / n,
        "no_prediction": none / n,
        "coverage": (match + mismatch) / n,
        "applied": applied,
        "precision": right / applied if applied else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data/sample/huggingface-datasets-issues.jsonl.gz"))
    ap.add_argument("--method", default="tfidf-logreg")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--train-share", type=float, default=0.6)
    ap.add_argument("--targets", default="0.9,0.8,none", help="precision targets per label ('none': the model's rule)")
    ap.add_argument("--max-labels", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from fewtag.metrics import format_interval, mean_interval
    from fewtag.pipeline import train_model

    rows = load_issues(Path(args.data))
    cut = int(len(rows) * args.train_share)
    train, test = rows[:cut], rows[cut:]
    print(
        f"{len(rows)} labelled issues: train {len(train)} (to {train[-1]['created_at']}), "
        f"replay {len(test)} (from {test[0]['created_at']})",
        flush=True,
    )
    targets = [None if t == "none" else float(t) for t in args.targets.split(",")]
    per_seed: dict[str, list[dict]] = {str(t): [] for t in targets}
    ece: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in train))
        for seed in [int(s) for s in args.seeds.split(",")]:
            start = time.perf_counter()
            tagger, _ = train_model(data, args.method, Path(tmp) / f"m{seed}", seed=seed)
            took = time.perf_counter() - start
            cal = tagger.calibration()
            if cal is not None:
                ece.append(cal.ece["after"])
            for t in targets:
                res = replay(tagger, test, config_for(t, args.max_labels))
                res["train_s"] = round(took, 1)
                per_seed[str(t)].append(res)
                print(f"seed {seed} target {t}: {json.dumps({k: round(v, 4) for k, v in res.items()})}", flush=True)
    summary = {}
    print(
        "\n| precision target per label | applied-label precision | issues labelled (coverage) | match | mismatch | "
        "no prediction |\n|---|---|---|---|---|---|"
    )
    for t in targets:
        runs = per_seed[str(t)]
        s = {
            k: mean_interval([r[k] for r in runs])
            for k in ("precision", "coverage", "match", "mismatch", "no_prediction")
        }
        summary[str(t)] = {"runs": runs, **s}
        label = "model's own rule" if t is None else f"{t:g}"
        print(
            f"| {label} | "
            + " | ".join(format_interval(s[k]) for k in ("precision", "coverage", "match", "mismatch", "no_prediction"))
            + " |"
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps(
                {
                    "command": " ".join(sys.argv),
                    "train": len(train),
                    "replay": len(test),
                    "method": args.method,
                    "summary": summary,
                    "oof_ece_after": ece,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
