"""Encoder backends vs sentence-transformers' ``encode``: texts/s, fidelity and downstream F1.

Embeds the same issue texts (title + body, ``--max-length`` tokens) with
sentence-transformers' own ``encode`` (the reference) and with each fewtag
backend (torch, torch-bf16, onnx, onnx-int8), in one process, the embedding
cache off. Prints texts/s, the ratio to the reference, GFLOP/s (about 21 MFLOP
per MiniLM token, BENCHMARKS.md D) and the cosine to the reference vectors.
With ``--data`` (a folder written by ``fewtag prepare``) it also trains
``embed-logreg`` on the full training split with each backend and prints the
test micro/macro F1, to show what the faster backends cost downstream.

    fewtag import ../shared/data/github_issues_hf_datasets/datasets-issues.zip --store /tmp/es/w.db
    fewtag prepare --config configs/hf-datasets.toml --store /tmp/es/w.db --out /tmp/es/hf
    .venv/bin/python benchmarks/encoder_speed.py --data /tmp/es/hf --texts 1000

Without ``--data`` the texts come from the bundled sample (data/sample).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ["torch", "torch-bf16", "onnx", "onnx-int8"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "huggingface-datasets-issues.jsonl.gz"
FLOP_PER_TOKEN = 21.2e6  # 6 layers x (4*384^2 + 2*384*1536) multiply-adds x 2


def sample_texts() -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [f"{r.get('title') or ''}\n\n{r.get('body') or ''}".strip() for r in rows if not r.get("pull_request")]


def timed(fn, *args) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="prepared dataset folder (texts + the downstream F1 check)")
    p.add_argument("--texts", type=int, default=1000, help="texts embedded per backend")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backends", default=",".join(BACKENDS))
    a = p.parse_args()

    import torch

    from fewtag.embed import configure_cache, get_encoder

    configure_cache(None)
    data = None
    if a.data:
        from fewtag.data.dataset import load_prepared

        data = load_prepared(a.data)
        pool = data.unsup.texts + data.train.texts + data.valid.texts + data.test.texts
    else:
        pool = sample_texts()
    texts = [f"{t} ." for t in (pool * (a.texts // len(pool) + 1))[: a.texts]]  # unseen by any cache
    reference = get_encoder(ENCODER, a.max_length)
    tokens = sum(min(len(ids), a.max_length) for ids in reference.model.tokenizer(texts)["input_ids"])

    def st_encode(batch: list[str]) -> np.ndarray:
        return reference.model.encode(
            batch, batch_size=a.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )

    st_encode(texts[:16])  # warm-up
    with torch.inference_mode():
        ref_s, ref_vecs = timed(st_encode, texts)
    rows = [("sentence-transformers encode (reference)", ref_s, 1.0, 1.0)]
    for backend in a.backends.split(","):
        enc = get_encoder(ENCODER, a.max_length, backend=backend)
        enc.encode([f"warm-up {i}" for i in range(16)], batch_size=a.batch_size)
        secs, vecs = timed(lambda b, enc=enc: enc.encode(b, batch_size=a.batch_size), texts)
        cos = (vecs * ref_vecs).sum(axis=1)
        rows.append((f"fewtag {backend}", secs, float(cos.min()), float(cos.mean())))
        print(f"{backend}: {len(texts) / secs:.1f} texts/s", file=sys.stderr, flush=True)

    print(
        f"\n{len(texts)} issue texts, {a.max_length} tokens max ({tokens / len(texts):.0f} on average), "
        f"batches of {a.batch_size}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| encoder | seconds | texts/s | vs reference | GFLOP/s | min cosine | mean cosine |")
    print("|---|---|---|---|---|---|---|")
    for name, secs, lo, mean in rows:
        print(
            f"| {name} | {secs:.1f} | {len(texts) / secs:.1f} | {ref_s / secs:.2f}x | "
            f"{tokens * FLOP_PER_TOKEN / secs / 1e9:.0f} | {lo:.4f} | {mean:.5f} |"
        )
    if data is not None:
        downstream(data, a.backends.split(","), a.max_length)


def downstream(data, backends: list[str], max_length: int) -> None:
    """embed-logreg on the full training split with each backend: test micro/macro F1."""
    from fewtag.eval.metrics import macro_f1, micro_f1
    from fewtag.registry import create

    ml = data.multi_label
    y_test = data.test.y(data.labels)
    print(f"\nembed-logreg, {len(data.train)} training texts, decision rule tuned on valid, test F1:\n")
    print("| backend | micro F1 | macro F1 |")
    print("|---|---|---|")
    for backend in backends:
        tagger = create("embed-logreg", {"max_length": max_length, "backend": backend}).fit(
            data.train.texts,
            data.train.targets(ml),
            classes=data.labels,
            multi_label=ml,
            validation=(data.valid.texts, data.valid.targets(ml)),
        )
        pred = tagger.predict_indicator(data.test.texts)
        print(f"| {backend} | {micro_f1(y_test, pred):.3f} | {macro_f1(y_test, pred):.3f} |", flush=True)


if __name__ == "__main__":
    main()
