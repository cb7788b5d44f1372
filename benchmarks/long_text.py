"""Long issues at prediction time: ``long_text`` head vs head-tail vs chunks, on validation.

Data: ../shared/data/github_issues_4repos (bootstrap, react, vue, ohmyzsh). Per repository,
the balanced 300-train / 300-test sample of ``train_file_4repos.py`` (seed 0) is drawn; the
test part is never read. The figure is the 5-fold out-of-fold F1 of ``embed-logreg``
(MiniLM, ``max_length`` 128) on the 300 training issues: each issue is predicted by a model
fitted on the other 240 (stratified folds). A seed is one random fold partition; with
``--resample`` each seed also draws its own 300/300 sample (3x the texts to embed, which 2
shared cores could not afford). Texts are the model's text path
(:class:`fewtag.data.text.TextSpec` defaults: cleaned title + body, at most 4,000 characters).
With ``--cache`` the vectors go to a fewtag store, so a second run (or
``encoder_speed.py --cache`` with the same file) reuses them; texts/s is then "cached".

Per mode it prints macro and micro F1 (mean of the 4 repositories, then mean ± sd [95% CI]
over seeds), the paired difference to ``head``, the windows embedded per text, and texts/s
of the first (uncached) embedding of all the texts in that mode.

    nice -n 5 .venv/bin/python benchmarks/long_text.py --seeds 3
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_file_4repos import DATA, REPOS, balanced_parts  # noqa: E402

MODES = ("head", "head-tail", "chunks")
ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


def validation_sets(
    seeds: int, repos: list[str], *, resample: bool = False, n_train: int = 300, n_test: int = 300
) -> list[dict]:
    """Per (seed, repository): the training part's texts and labels (test drawn, never kept)."""
    from fewtag.data.text import TextSpec

    spec = TextSpec()
    out = []
    for seed in range(seeds):
        for repo in repos:
            rows = json.loads((DATA / f"{repo}.json").read_text(encoding="utf-8"))
            labels, train, _test = balanced_parts(rows, n_train, n_test, seed if resample else 0)
            texts = [spec.text_of({"title": r["title"] or "", "body": r["body"] or ""}) for r in train]
            out.append(
                {"seed": seed, "repo": repo, "labels": labels, "texts": texts, "y": [r["labels"] for r in train]}
            )
    return out


def out_of_fold(part: dict, params: dict, folds: int = 5) -> tuple[float, float]:
    """Macro and micro F1 of embed-logreg's out-of-fold predictions on one training part."""
    from sklearn.model_selection import StratifiedKFold

    from fewtag.labels import binarize
    from fewtag.metrics import macro_f1, micro_f1
    from fewtag.registry import create

    texts, y, classes = part["texts"], np.array(part["y"]), part["labels"]
    pred = np.zeros((len(texts), len(classes)), dtype=bool)
    split = StratifiedKFold(folds, shuffle=True, random_state=part["seed"])
    for fit_idx, val_idx in split.split(texts, y):
        tagger = create("embed-logreg", dict(params), seed=part["seed"]).fit(
            [texts[i] for i in fit_idx], [y[i] for i in fit_idx], classes=classes
        )
        pred[val_idx] = tagger.predict_indicator([texts[i] for i in val_idx])
    gold = binarize([[lab] for lab in y], classes)
    return macro_f1(gold, pred), micro_f1(gold, pred)


def evaluate(parts: list[dict], params: dict) -> dict[tuple[int, str], tuple[float, float]]:
    """``{(seed, repo): (macro, micro)}`` for one encoder setting."""
    return {(p["seed"], p["repo"]): out_of_fold(p, params) for p in parts}


def per_seed(scores: dict[tuple[int, str], tuple[float, float]], which: int) -> list[float]:
    """Mean over repositories of macro (0) or micro (1) F1, one value per seed."""
    seeds = sorted({s for s, _ in scores})
    return [float(np.mean([v[which] for (s, _), v in scores.items() if s == seed])) for seed in seeds]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repos", default=",".join(REPOS))
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--resample", action="store_true", help="a new 300/300 sample per seed")
    ap.add_argument("--cache", help="a fewtag store for the vectors (reused by later runs)")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: {DATA} is not there (../shared/data)", file=sys.stderr)
        return 1
    from fewtag.embed import configure_cache, get_encoder
    from fewtag.embed.long_text import windows
    from fewtag.metrics import format_interval, mean_interval

    configure_cache(args.cache)  # by default in-process only: every mode embeds its texts once, timed
    parts = validation_sets(args.seeds, args.repos.split(","), resample=args.resample)
    unique = sorted({t for p in parts for t in p["texts"]})
    modes = args.modes.split(",")
    results, speed = {}, {}
    for mode in modes:
        enc = get_encoder(ENCODER, args.max_length, backend=args.backend, long_text=mode)
        start, calls = time.perf_counter(), enc.calls
        enc.encode(unique)
        secs = time.perf_counter() - start if enc.calls > calls else float("nan")
        tok = enc.model.tokenizer
        ids = tok(unique, add_special_tokens=False, verbose=False)["input_ids"]
        n_windows = sum(len(windows(i, mode, args.max_length - 2)) for i in ids)
        speed[mode] = (len(unique) / secs, n_windows / len(unique), enc.backend)
        print(f"{mode}: {len(unique)} texts in {secs:.0f} s ({enc.backend}), scoring", file=sys.stderr, flush=True)
        params = {"max_length": args.max_length, "long_text": mode, "backend": args.backend}
        results[mode] = evaluate(parts, params)
    over = [len(i) > args.max_length - 2 for i in ids]
    print(
        f"\n{len(parts) // args.seeds} repositories x {args.seeds} seeds "
        f"({'a sample and fold partition' if args.resample else 'fold partitions of one sample'} per seed), "
        f"300 balanced training issues each, 5-fold out-of-fold F1 of embed-logreg, "
        f"{ENCODER.split('/')[-1]} at {args.max_length} tokens, "
        f"backend {speed[modes[0]][2]}; {len(unique)} distinct texts, {np.mean(over):.0%} over {args.max_length} "
        f"tokens. 2 shared CPU cores (load average {os.getloadavg()[0]:.1f}): texts/s are upper bounds on time.\n"
    )
    print("| long_text | macro F1 | micro F1 | macro F1 − head (paired) | windows/text | texts/s |")
    print("|---|---|---|---|---|---|")
    head_macro = per_seed(results[modes[0]], 0)
    for mode in modes:
        macro, micro = per_seed(results[mode], 0), per_seed(results[mode], 1)
        diff = [a - b for a, b in zip(macro, head_macro)]
        rate, wpt, _ = speed[mode]
        print(
            f"| {mode} | {format_interval(mean_interval(macro))} | {format_interval(mean_interval(micro))} | "
            f"{format_interval(mean_interval(diff)) if mode != modes[0] else '—'} | {wpt:.2f} | "
            f"{'cached' if np.isnan(rate) else f'{rate:.1f}'} |"
        )
    print("\n| long_text | " + " | ".join(args.repos.split(",")) + " |")
    print("|---|" + "---|" * len(args.repos.split(",")))
    for mode in modes:
        cells = []
        for repo in args.repos.split(","):
            vals = [v[0] for (s, r), v in results[mode].items() if r == repo]
            cells.append(format_interval(mean_interval(vals)))
        print(f"| {mode} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
