"""Distillation on one repository: does a MiniLM student keep the MPNet teacher's gain, at MiniLM's speed?

Data: one repository of ../shared/data/github_issues_4repos (default ``react``: 4 labels). Per seed,
the train/test protocol of ``train_file_4repos.py`` (``balanced_parts``: 300 balanced training
issues); the test part is never used here. A stratified validation part is carved out of the 300
training issues (``--valid``, default 75) and every figure is macro F1 on it. The issues in neither
part, labels dropped, are the unlabelled texts (``--unlabelled``, default 500, the same first N of
a fixed order for every seed).

Rows (macro F1 on validation; the retained share of the gain is ``(row - plain) / (teacher - plain)``):

- ``teacher``: ``--teacher-method`` (embed-logreg) on ``--teacher`` (all-mpnet-base-v2);
- ``plain``: the student encoder as it is, with the student's head (``distill`` with 0 steps: a
  setfit head-only model on plain MiniLM; ``head=teacher`` uses the teacher's labels on the
  unlabelled texts too, so it is the fair baseline of the same head);
- ``plain labelled``: the same on the labelled texts only;
- ``distilled``: ``distill`` with ``--steps`` (head on labelled + teacher-labelled texts);
- ``distilled labelled``: the distilled body, head on the labelled texts only;
- ``<method> plain``: ``--teacher-method`` on the plain student encoder.

The share of the gain is only meaningful on a seed where the teacher beats ``plain``; with a
negative gain a positive share means the student moved *down* towards the teacher.

Speed: texts/s of each encoder on the validation texts (``--max-length``, batch 64, one pass,
cache off). The machine's 2 cores were shared with other jobs: times are upper bounds.

    nice -n 5 .venv/bin/python benchmarks/distill.py --seeds 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
DATA = ROOT.parent / "shared" / "data" / "github_issues_4repos"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"


def _order(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: hashlib.sha256(str(r["id"]).encode()).hexdigest())


def parts(repo: str, seed: int, n_valid: int, n_unlabelled: int):
    """(labels, fit rows, valid rows, unlabelled rows) for one seed."""
    from train_file_4repos import balanced_parts

    rows = json.loads((DATA / f"{repo}.json").read_text(encoding="utf-8"))
    labels, train, test = balanced_parts(rows, 300, 300, seed)
    used = {id(r) for r in train + test}
    rest = _order([r for r in rows if id(r) not in used])[:n_unlabelled]
    rng = np.random.RandomState(seed + 1000)
    fit, valid = [], []
    for lab in labels:  # stratified validation part
        rs = [r for r in train if r["labels"] == lab]
        order = rng.permutation(len(rs))
        k = round(n_valid * len(rs) / len(train))
        valid += [rs[i] for i in order[:k]]
        fit += [rs[i] for i in order[k:]]
    return labels, fit, valid, rest


def text_of(rows: list[dict]) -> list[str]:
    from fewtag.data.text import TextSpec

    spec = TextSpec()
    return [spec.text_of({"title": r["title"] or "", "body": r["body"] or ""}) for r in rows]


def macro(tagger, texts, gold, labels) -> float:
    from fewtag.labels import binarize
    from fewtag.metrics import macro_f1

    return float(macro_f1(binarize([[g] for g in gold], labels), tagger.predict_indicator(texts)))


def speed(encoder, texts: list[str]) -> float:
    start = time.perf_counter()
    encoder._embed(texts, 64, False)  # the forward passes only: no embedding cache
    return len(texts) / (time.perf_counter() - start)


def run_seed(args, seed: int, work: Path) -> dict:
    from fewtag.data.dataset import Split
    from fewtag.distill import DistillData, distill
    from fewtag.registry import create

    labels, fit, valid, unl = parts(args.repo, seed, args.valid, args.unlabelled)
    ft, vt, ut = text_of(fit), text_of(valid), text_of(unl)
    fy, vy = [r["labels"] for r in fit], [r["labels"] for r in valid]
    res: dict = {"seed": seed, "fit": len(fit), "valid": len(valid), "unlabelled": len(ut)}
    t = time.perf_counter()
    teacher = create(args.teacher_method, {"max_length": args.max_length}, model=args.teacher, seed=seed)
    teacher.fit(ft, fy, classes=labels)
    teacher.save(work / f"teacher{seed}")
    res["teacher"] = macro(teacher, vt, vy, labels)
    base = create(args.teacher_method, {"max_length": args.max_length}, model=args.student, seed=seed)
    res[f"{args.teacher_method} plain"] = macro(base.fit(ft, fy, classes=labels), vt, vy, labels)
    res["seconds_teacher"] = round(time.perf_counter() - t, 1)
    data = DistillData(Split(ft, [[y] for y in fy]), labels, False, unlabelled=ut, valid=Split(vt, [[y] for y in vy]))
    common = {"student": args.student, "batch_size": args.batch_size, "max_length": args.max_length, "seed": seed}
    for name, steps in (("plain", 0), ("distilled", args.steps)):
        for head in ("teacher", "labelled") if args.ablations else ("teacher",):
            if head == "labelled" and steps:  # the same distilled body, head on the labelled texts only
                body = work / f"{name}{seed}-teacher" / "body"
                t = time.perf_counter()
                student = create("setfit", {"max_length": args.max_length, "num_epochs": 0}, model=str(body), seed=seed)
                student.fit(ft, fy, classes=labels, unlabelled=ut)
                res[f"{name} labelled"] = macro(student, vt, vy, labels)
                res[f"seconds_{name}_labelled"] = round(time.perf_counter() - t, 1)
                continue
            out = work / f"{name}{seed}-{head}"
            tagger, result = distill(
                str(work / f"teacher{seed}"), data, out, steps=steps, head=head, learning_rate=args.lr, **common
            )
            key = name if head == "teacher" else f"{name} labelled"
            res[key] = macro(tagger, vt, vy, labels)
            res[f"seconds_{key}"] = result.seconds["total"]
            if steps:
                res["gap"] = result.cosine_gap
                res["loss"] = [result.loss_first, result.loss_last]
                res["steps"] = result.steps
                res["seconds_student_steps"] = result.seconds["student"]
                res["speed_student"] = speed(tagger._body_encoder, vt)
            elif head == "teacher":
                res["speed_plain"] = speed(tagger._body_encoder, vt)
    res["speed_teacher"] = speed(teacher._encoder(), vt) if hasattr(teacher, "_encoder") else None
    print(json.dumps(res), flush=True)
    return res


ROWS = ("teacher", "{m} plain", "plain", "plain labelled", "distilled", "distilled labelled")


def table(runs: list[dict], method: str, max_length: int = 128) -> str:
    from fewtag.metrics import format_interval, mean_interval

    lines = [
        "| row | val macro F1, mean ± sd [95% interval] | share of the teacher's gain over plain |",
        "|---|---|---|",
    ]
    gain = np.array([r["teacher"] - r["plain"] for r in runs])
    for row in ROWS:
        key = row.format(m=method)
        if key not in runs[0]:
            continue
        vals = np.array([r[key] for r in runs])
        share = (vals - np.array([r["plain"] for r in runs])) / np.where(np.abs(gain) > 1e-9, gain, np.nan)
        share_txt = (
            ""
            if key in ("teacher", "plain")
            else f"{np.nanmean(share):.0%} (per seed {', '.join(f'{s:.0%}' for s in share)})"
        )
        lines.append(f"| {key} | {format_interval(mean_interval(vals.tolist()))} | {share_txt} |")
    sp = {k: np.mean([r[f"speed_{k}"] for r in runs]) for k in ("teacher", "plain", "student")}
    lines.append("")
    lines.append(
        f"encode speed on the validation texts (texts/s, {max_length} tokens, shared cores): "
        f"teacher {sp['teacher']:.0f}, plain student {sp['plain']:.0f}, distilled student {sp['student']:.0f}"
    )
    gaps = [r["gap"] for r in runs]
    lines.append(
        "cosine gap to the teacher on validation texts (MSE of pair cosines): "
        f"{np.mean([g['before'] for g in gaps]):.4f} -> {np.mean([g['after'] for g in gaps]):.4f}; "
        f"student training {np.mean([r['seconds_student_steps'] for r in runs]):.0f} s for "
        f"{np.mean([r['steps'] for r in runs]):.0f} steps, whole distill run "
        f"{np.mean([r['seconds_distilled'] for r in runs]):.0f} s"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default="react")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--teacher", default=MPNET)
    ap.add_argument("--teacher-method", default="embed-logreg")
    ap.add_argument("--student", default=MINILM)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--valid", type=int, default=75)
    ap.add_argument("--unlabelled", type=int, default=500)
    ap.add_argument("--cache", default="/tmp/fewtag-distill-bench/embeddings.db")
    ap.add_argument("--ablations", action="store_true", help="Also the heads fitted on the labelled texts only.")
    ap.add_argument("--out", default=None, help="Write the runs as JSON here.")
    args = ap.parse_args()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from fewtag.embed import configure_cache

    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    configure_cache(args.cache)  # the frozen teacher embeds each issue once over the seeds
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            runs.append(run_seed(args, seed, Path(tmp)))
    if args.out:
        Path(args.out).write_text(json.dumps(runs, indent=1))
    print(
        f"\n{args.repo}: teacher {args.teacher_method} on {args.teacher}, student {args.student}, {args.steps} steps "
        f"of {args.batch_size} texts, {len(runs)} seed(s)\n"
    )
    print(table(runs, args.teacher_method, args.max_length))


if __name__ == "__main__":
    main()
