"""MiniLM vs all-mpnet-base-v2 encode cost, in single-thread CPU seconds per text (robust to shared cores).

torch limited to 1 thread, fp32, 128 tokens, the same 96 issue texts of the
bundled sample for both, interleaved MiniLM, MPNet, MiniLM, MPNet; the
process's CPU time is counted, so other jobs on the machine slow the wall
clock but hardly the CPU seconds.

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python benchmarks/mpnet_speed.py
"""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch

from fewtag.embed import configure_cache, get_encoder

torch.set_num_threads(1)
MODELS = {"sentence-transformers/all-MiniLM-L6-v2": 384, "sentence-transformers/all-mpnet-base-v2": 768}
with gzip.open(Path(__file__).resolve().parents[1] / "data/sample/huggingface-datasets-issues.jsonl.gz", "rt") as fh:
    rows = [json.loads(line) for line in fh]
pool = [f"{r.get('title') or ''}\n\n{r.get('body') or ''}".strip() for r in rows if not r.get("pull_request")]
base = pool[:96]
configure_cache(None)
encs = {m: get_encoder(m, 128, backend="torch") for m in MODELS}
for e in encs.values():
    e.encode([f"warm-up {i}" for i in range(8)], batch_size=32)
cpu: dict[str, list[float]] = {m: [] for m in MODELS}
wall: dict[str, list[float]] = {m: [] for m in MODELS}
for rnd in range(2):
    for m, e in encs.items():
        texts = [f"{t} <{rnd}>" for t in base]
        c, w = time.process_time(), time.perf_counter()
        e.encode(texts, batch_size=32)
        cpu[m].append(time.process_time() - c)
        wall[m].append(time.perf_counter() - w)
        print(f"{m} round {rnd}: {cpu[m][-1] / len(base) * 1000:.0f} ms CPU/text, wall {wall[m][-1]:.0f} s", flush=True)
mini, mp = (min(cpu[m]) for m in MODELS)
load = os.getloadavg()[0]
print(f"\n{len(base)} texts, 128 tokens, fp32, 1 thread, load {load:.1f} on {os.cpu_count()} shared cores\n")
print("| encoder | dim | CPU ms per text (1 thread, best of 2) | texts/s per core | CPU cost vs MiniLM |")
print("|---|---|---|---|---|")
for m, dim in MODELS.items():
    b = min(cpu[m])
    print(f"| {m} | {dim} | {b / len(base) * 1000:.0f} | {len(base) / b:.1f} | {b / mini:.2f}x |")
