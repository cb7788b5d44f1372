"""Smoke check (not a test): every encoder method takes the fetched all-mpnet-base-v2, and its speed vs MiniLM.

Needs `fewtag models fetch all-mpnet-base-v2` first. Runs knn, embed-logreg and
zero-shot-embed with --model sentence-transformers/all-mpnet-base-v2 on the
torch and onnx-int8 backends, one tiny setfit fit and one tiny finetune fit
(a few steps), then times MiniLM and MPNet encoding the same ~200 issue texts
at 128 tokens (fp32 torch, interleaved MiniLM, MPNet, MiniLM, MPNet so load
drift hits both; the embedding cache off, texts unseen by the memory cache).

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python benchmarks/mpnet_smoke.py
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

MPNET = "sentence-transformers/all-mpnet-base-v2"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
SAMPLE = Path(__file__).resolve().parents[1] / "data/sample/huggingface-datasets-issues.jsonl.gz"


def toy():
    bug = ["crash on start", "segfault when i load the file", "error traceback on save", "it fails with an exception"]
    feat = ["please add a new option", "feature request: support a flag", "add dark mode", "support a new format"]
    docs = ["typo in the readme", "documentation example is broken", "docs: how to save", "readme example is wrong"]
    return bug + feat + docs, ["bug"] * 4 + ["feature"] * 4 + ["docs"] * 4


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def methods(rows: list[str]) -> None:
    from fewtag.registry import create

    texts, labels = toy()
    probe = ["the app crashes when loading", "please support yaml", "the docs have a typo"]
    for backend in ("torch", "onnx-int8"):
        for name in ("knn", "embed-logreg", "zero-shot-embed"):
            params = {"backend": backend, "max_length": 128}
            if name == "knn":
                params["k"] = 3
            t = time.perf_counter()
            tagger = create(name, params, model=MPNET, seed=0)
            tagger.fit(texts, labels)
            proba = tagger.predict_proba(probe)
            pred = tagger.predict(probe)
            secs = time.perf_counter() - t
            assert proba.shape == (3, 3) and np.isfinite(proba).all(), (name, proba)
            rows.append(f"| {name} | {backend} | ok | {secs:.1f} | {list(pred)} |")
            log(rows[-1])
    t = time.perf_counter()
    s = create(
        "setfit",
        {"max_steps": 3, "batch_size": 8, "max_length": 64, "num_iterations": 2, "token_budget": 1024},
        model=MPNET,
        seed=0,
    ).fit(texts, labels)
    took = time.perf_counter() - t
    rows.append(f"| setfit (3 steps, 8 pairs) | torch | ok | {took:.1f} | {list(s.predict(probe))} |")
    log(rows[-1])
    t = time.perf_counter()
    f = create(
        "finetune", {"epochs": 1, "min_steps": 1, "batch_size": 4, "max_length": 64}, model=MPNET, seed=0
    ).fit(texts, labels)
    took = time.perf_counter() - t
    rows.append(f"| finetune (1 epoch, 3 steps) | torch | ok | {took:.1f} | {list(f.predict(probe))} |")
    log(rows[-1])


def sample_texts(n: int) -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        rs = [json.loads(line) for line in fh]
    pool = [f"{r.get('title') or ''}\n\n{r.get('body') or ''}".strip() for r in rs if not r.get("pull_request")]
    return (pool * (n // len(pool) + 1))[:n]


def speed(n: int = 200) -> list[str]:
    import torch

    from fewtag.embed import configure_cache, get_encoder

    configure_cache(None)
    base = sample_texts(n)
    encs = {m: get_encoder(m, 128, backend="torch") for m in (MINILM, MPNET)}
    tokens = sum(min(len(ids), 128) for ids in encs[MINILM].model.tokenizer(base)["input_ids"])
    times: dict[str, list[float]] = {MINILM: [], MPNET: []}
    for m, e in encs.items():
        e.encode([f"warm-up {i} {m}" for i in range(16)], batch_size=32)
    for rnd in range(2):
        for m, e in encs.items():
            texts = [f"{t} [{rnd}]" for t in base]  # unseen by the in-memory cache
            t = time.perf_counter()
            vecs = e.encode(texts, batch_size=32)
            times[m].append(time.perf_counter() - t)
            log(f"{m} round {rnd}: {n / times[m][-1]:.1f} texts/s, dim {vecs.shape[1]}")
    best = {m: min(v) for m, v in times.items()}
    out = [
        f"{n} issue texts of the bundled sample, 128 tokens max ({tokens / n:.0f} on average), batches of 32, "
        f"fp32 torch, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} shared cores (upper bounds)",
        "",
        "| encoder | dim | texts/s (best of 2) | texts/s (each round) | slower than MiniLM |",
        "|---|---|---|---|---|",
    ]
    for m, dim in ((MINILM, 384), (MPNET, 768)):
        each = ", ".join(f"{n / s:.1f}" for s in times[m])
        out.append(f"| {m} | {dim} | {n / best[m]:.1f} | {each} | {best[m] / best[MINILM]:.2f}x |")
    return out


def main() -> None:
    from fewtag.models import model_revision, resolve_model

    folder = resolve_model(MPNET)
    log(f"{MPNET} -> {folder} (revision {model_revision(folder)})")
    rows = ["| method | backend | fits and predicts | seconds | predictions on 3 probes |", "|---|---|---|---|---|"]
    t = time.perf_counter()
    methods(rows)
    log(f"methods took {time.perf_counter() - t:.0f} s")
    print("\n".join(rows))
    print()
    print("\n".join(speed()))


if __name__ == "__main__":
    main()
