"""Load benchmark for `fewtag serve`: requests/s and latency percentiles vs offline predict.

Trains a model on the huggingface/datasets issues (``../shared/data``; synthetic
issue-like texts when it is missing), starts ``fewtag serve`` on a free
127.0.0.1 port in a subprocess (uvicorn), drives it with a bounded number of
requests from ``--concurrency`` httpx async clients, and prints requests/s,
texts/s and p50/p95/p99 for single-text and batched requests, next to the
offline ``predict`` throughput of the same model on the same kind of texts,
measured in the same run. Every text is used once (no embedding-cache hits).

    .venv/bin/python benchmarks/serve_load.py --method tfidf-logreg
    .venv/bin/python benchmarks/serve_load.py --method embed-logreg --single 200 --batched 20
    .venv/bin/python benchmarks/serve_load.py --method embed-logreg --encoder-backend onnx-int8

``--encoder-backend`` trains the model with that backend, so the offline run and
the service use the same one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

DUMP = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "github_issues_hf_datasets" / "datasets-issues.zip"
)
TAGS = [
    "bug",
    "enhancement",
    "dataset request",
    "dataset-viewer",
    "dataset bug",
    "documentation",
    "question",
    "streaming",
]


def load_issues() -> tuple[list[str], list[list[str]]]:
    """Issue texts (title + body) and their labels among the 8 tags."""
    texts, labels = [], []
    if DUMP.is_file():
        with zipfile.ZipFile(DUMP) as z, z.open(z.namelist()[0]) as fh:
            for line in fh:
                d = json.loads(line)
                if d.get("pull_request"):
                    continue
                title, body = d.get("title") or "", d.get("body") or ""
                texts.append(f"{title}\n\n{body}" if title and body else title or body)
                labels.append([lab["name"] for lab in d.get("labels") or [] if lab["name"] in TAGS])
        return texts, labels
    rng = np.random.default_rng(0)
    words = "load dataset error crash streaming map parquet docs typo feature support audio".split()
    for i in range(4000):
        k = rng.integers(0, len(TAGS))
        texts.append(f"{TAGS[k]} issue {i}: " + " ".join(rng.choice(words, 120)))
        labels.append([TAGS[k]] if i % 2 else [])
    return texts, labels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(ms: list[float], q: float) -> float:
    return float(np.percentile(ms, q)) if ms else float("nan")


async def drive_httpx(url: str, payloads: list[dict], concurrency: int) -> tuple[float, list[float], int]:
    """Send every payload once from ``concurrency`` httpx clients; (seconds, latencies ms, errors)."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(p)
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            p = queue.get_nowait()
            t = time.perf_counter()
            r = await http.post(url, json=p)
            lat.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                errors += 1

    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return time.perf_counter() - start, lat, errors


async def drive_aiohttp(url: str, payloads: list[dict], concurrency: int) -> tuple[float, list[float], int]:
    """The same with aiohttp (on 2 busy cores httpx's client tops out near 100 requests/s)."""
    import aiohttp

    queue: asyncio.Queue = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(json.dumps(p).encode())
    lat: list[float] = []
    errors = 0

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            t = time.perf_counter()
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                await r.read()
                status = r.status
            lat.append((time.perf_counter() - t) * 1000)
            if status != 200:
                errors += 1

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return time.perf_counter() - start, lat, errors


DRIVERS = {"httpx": drive_httpx, "aiohttp": drive_aiohttp}


def mean_batch(base: str) -> float:
    """Mean texts per model call so far, from the server's /metrics."""
    import httpx

    vals = {}
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(("fewtag_batch_size_sum", "fewtag_batch_size_count")):
            name, value = line.split()
            vals[name] = float(value)
    return vals.get("fewtag_batch_size_sum", 0) / max(vals.get("fewtag_batch_size_count", 0), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="tfidf-logreg")
    p.add_argument("--train", type=int, default=400, help="labelled issues to train on")
    p.add_argument("--offline", type=int, default=2000, help="texts for the offline predict run")
    p.add_argument("--single", type=int, default=2000, help="single-text requests")
    p.add_argument("--batched", type=int, default=100, help="batched requests")
    p.add_argument("--batch", type=int, default=16, help="texts per batched request")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--max-length", type=int, default=128, help="encoder tokens (encoder methods)")
    p.add_argument("--encoder-backend", default="torch", help="torch, torch-bf16, onnx or onnx-int8 (encoder methods)")
    p.add_argument(
        "--client",
        choices=sorted(DRIVERS),
        default="aiohttp",
        help="load generator (httpx's async client is the bottleneck above ~100 requests/s)",
    )
    a = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.pop("FEWTAG_EMBED_CACHE", None)

    from fewtag.registry import get_method, load_tagger

    texts, labels = load_issues()
    labelled = [(t, ls) for t, ls in zip(texts, labels) if ls][: a.train]
    pool = [t for t, ls in zip(texts, labels) if not ls] + texts  # unlabelled first, then all
    need = a.offline + a.single + a.batched * a.batch
    pool = [f"{t} [{i}]" if i >= len(pool) // 2 else t for i, t in enumerate((pool * (need // len(pool) + 1))[:need])]
    off_texts = pool[: a.offline]
    single_texts = pool[a.offline : a.offline + a.single]
    batch_texts = pool[a.offline + a.single :]

    kwargs = (
        {"max_length": a.max_length, "backend": a.encoder_backend}
        if a.method not in ("tfidf-logreg", "naive-bayes")
        else {}
    )
    tmp = Path(tempfile.mkdtemp(prefix="fewtag-load-"))
    t = time.perf_counter()
    get_method(a.method)(**kwargs).fit([x for x, _ in labelled], [y for _, y in labelled], classes=TAGS).save(
        tmp / "model"
    )
    print(f"trained {a.method} on {len(labelled)} issues in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    tagger = load_tagger(tmp / "model")
    tagger.predict(off_texts[:8])  # warm-up
    t = time.perf_counter()
    for s in range(0, len(off_texts), 64):
        tagger.predict(off_texts[s : s + 64])
    offline_rate = len(off_texts) / (time.perf_counter() - t)
    # the same texts again in batches of --concurrency: the most a batcher fed by
    # that many single-text clients can gather (a different slice: no cache hits)
    small = [f"{x} ." for x in off_texts]
    t = time.perf_counter()
    for s in range(0, len(small), a.concurrency):
        tagger.predict(small[s : s + a.concurrency])
    offline_small = len(small) / (time.perf_counter() - t)
    del tagger

    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    fewtag = str(Path(sys.executable).parent / "fewtag")
    server = subprocess.Popen(
        [fewtag, "serve", str(tmp / "model"), "--port", str(port), "--log-level", "warning"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.3)
        url = f"{base}/v1/predict"
        drive = DRIVERS[a.client]
        asyncio.run(drive(url, [{"items": [{"id": i, "text": f"warm-up {i}"}]} for i in range(20)], 4))
        single = [{"items": [{"id": i, "text": x}]} for i, x in enumerate(single_texts)]
        batched = [
            {"items": [{"id": j, "text": x} for j, x in enumerate(batch_texts[s : s + a.batch])]}
            for s in range(0, len(batch_texts), a.batch)
        ]
        s_sec, s_lat, s_err = asyncio.run(drive(url, single, a.concurrency))
        s_batch = mean_batch(base)
        b_sec, b_lat, b_err = asyncio.run(drive(url, batched, a.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=30)

    s_rate, b_rate = len(single) / s_sec, len(batched) / b_sec
    print(
        f"\n{a.method}: {len(labelled)} training issues, issue texts (title + body"
        f"{'' if not kwargs else f', {a.max_length} tokens, {a.encoder_backend}'}), "
        f"{a.concurrency} concurrent clients, "
        f"{os.cpu_count()} CPUs, {a.client} client, load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| run | requests | texts/request | errors | requests/s | texts/s | p50 ms | p95 ms | p99 ms | vs offline |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| offline predict (batches of 64) | - | - | - | - | {offline_rate:.1f} | - | - | - | 1.00 |")
    print(
        f"| offline predict (batches of {a.concurrency}) | - | - | - | - | {offline_small:.1f} | - | - | - | "
        f"{offline_small / offline_rate:.2f} |"
    )
    print(
        f"| service, single | {len(single)} | 1 | {s_err} | {s_rate:.1f} | {s_rate:.1f} | "
        f"{pct(s_lat, 50):.1f} | {pct(s_lat, 95):.1f} | {pct(s_lat, 99):.1f} | {s_rate / offline_rate:.2f} |"
    )
    print(
        f"| service, batched | {len(batched)} | {a.batch} | {b_err} | {b_rate:.1f} | "
        f"{b_rate * a.batch:.1f} | {pct(b_lat, 50):.1f} | {pct(b_lat, 95):.1f} | {pct(b_lat, 99):.1f} | "
        f"{b_rate * a.batch / offline_rate:.2f} |"
    )
    print(f"\nmean texts per model call in the single-text run: {s_batch:.1f}")


if __name__ == "__main__":
    main()
