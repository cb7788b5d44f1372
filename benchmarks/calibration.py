"""Calibration of `fewtag train`'s models on the huggingface/datasets issues: expected calibration
error of the test scores before and after the per-label calibration saved with the model.

For each seed: a stratified test part (25%, `--holdout`) is kept out; the model is fitted on the
rest, its calibration is fitted on out-of-fold scores (k-fold methods) or on the validation fold
(holdout methods, e.g. the ensemble), and test is scored once. ECE: 10 equal-width bins over every
(issue, label) score ("all"), and the mean of the per-label ECEs ("per label", where the many easy
negatives do not dilute the error).

    nice -n 5 .venv/bin/python benchmarks/calibration.py --methods tfidf-logreg,ensemble --seeds 0,1,2 \
        --out benchmarks/results/calibration.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_replay import ROOT, load_issues  # noqa: E402


def per_label_ece(scores: np.ndarray, y: np.ndarray) -> float:
    from fewtag.calibration import expected_calibration_error

    return float(
        np.mean([expected_calibration_error(scores[:, [j]], y[:, [j]], multi_label=True) for j in range(y.shape[1])])
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data/sample/huggingface-datasets-issues.jsonl.gz"))
    ap.add_argument("--methods", default="tfidf-logreg,ensemble")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--holdout", type=float, default=0.25)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from fewtag.calibration import expected_calibration_error
    from fewtag.data.labelled import read_labelled_file
    from fewtag.data.split import split_indices
    from fewtag.metrics import format_interval, mean_interval
    from fewtag.pipeline import train_model

    rows = load_issues(Path(args.data))
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "issues.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        table = read_labelled_file(data)
        y = table.y()
        for method in args.methods.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                start = time.perf_counter()
                tagger, metrics = train_model(
                    data, method, Path(tmp) / f"{method}-{seed}", seed=seed, holdout=args.holdout
                )
                _, test_idx = split_indices(y, args.holdout, seed, multi_label=table.multi_label)
                texts = [table.texts[i] for i in test_idx]
                raw = tagger.predict_proba(texts, calibrated=False)
                cal = tagger.calibration()
                after = cal.apply(raw) if cal is not None else raw
                gold = y[test_idx]
                res = {
                    "seed": seed,
                    "test_rows": len(test_idx),
                    "train_s": round(time.perf_counter() - start, 1),
                    "fitted_on": cal.ece.get("fitted_on") if cal is not None else None,
                    "calibrators": cal.ece.get("calibrators") if cal is not None else None,
                    "ece_before": expected_calibration_error(raw, gold, multi_label=True),
                    "ece_after": expected_calibration_error(after, gold, multi_label=True),
                    "label_ece_before": per_label_ece(raw, gold),
                    "label_ece_after": per_label_ece(after, gold),
                    "micro_f1": metrics.get("micro_f1"),
                    "macro_f1": metrics.get("macro_f1"),
                }
                results.setdefault(method, []).append(res)
                print(json.dumps({method: res}), flush=True)
    print("\n| method | test ECE before (all scores) | after | per-label ECE before | after |\n|---|---|---|---|---|")
    summary = {}
    for method, runs in results.items():
        s = {
            k: mean_interval([r[k] for r in runs])
            for k in ("ece_before", "ece_after", "label_ece_before", "label_ece_after")
        }
        summary[method] = {"runs": runs, **s}
        print(f"| {method} | " + " | ".join(format_interval(s[k]) for k in s) + " |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
