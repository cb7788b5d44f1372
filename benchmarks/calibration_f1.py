"""Does calibration cost F1? tfidf-logreg on the huggingface/datasets issues, the same stratified 25% test
part per seed, fitted with and without the per-label calibration (fewtag.crossval.fit_with_cv's
``calibrate``); test micro and macro F1, scored once (nothing is chosen on them).

    nice -n 5 .venv/bin/python benchmarks/calibration_f1.py --seeds 0,1,2 --out benchmarks/results/calibration_f1.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_replay import ROOT, load_issues  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data/sample/huggingface-datasets-issues.jsonl.gz"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from fewtag.crossval import fit_with_cv
    from fewtag.data.labelled import read_labelled_file
    from fewtag.data.split import split_indices
    from fewtag.data.text import TextSpec
    from fewtag.decision import DecisionSpec
    from fewtag.metrics import format_interval, macro_f1, mean_interval, micro_f1
    from fewtag.registry import create

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "issues.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in load_issues(Path(args.data))))
        rows = read_labelled_file(data)
    y = rows.y()
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        tr, te = split_indices(y, 0.25, seed, multi_label=rows.multi_label)
        got = {}
        for calibrate in (False, True):
            tagger, _ = fit_with_cv(
                lambda seed=seed: create("tfidf-logreg", seed=seed),
                [rows.texts[i] for i in tr],
                y[tr],
                rows.classes,
                multi_label=rows.multi_label,
                decision=DecisionSpec(),
                text=TextSpec(),
                seed=seed,
                calibrate=calibrate,
            )
            pred = tagger.predict_indicator([rows.texts[i] for i in te])
            got[calibrate] = (micro_f1(y[te], pred), macro_f1(y[te], pred))
        runs.append(
            {
                "seed": seed,
                "micro_off": got[False][0],
                "micro_on": got[True][0],
                "macro_off": got[False][1],
                "macro_on": got[True][1],
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    s = {k: mean_interval([r[k] for r in runs]) for k in ("micro_off", "micro_on", "macro_off", "macro_on")}
    d_micro = mean_interval([r["micro_on"] - r["micro_off"] for r in runs])
    d_macro = mean_interval([r["macro_on"] - r["macro_off"] for r in runs])
    print("\n| | micro F1 | macro F1 |\n|---|---|---|")
    print(f"| without calibration | {format_interval(s['micro_off'])} | {format_interval(s['macro_off'])} |")
    print(f"| with calibration | {format_interval(s['micro_on'])} | {format_interval(s['macro_on'])} |")
    print(f"| difference (paired) | {format_interval(d_micro)} | {format_interval(d_macro)} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
