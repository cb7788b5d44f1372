"""Throughput of zero-shot-nli vs ``transformers.pipeline("zero-shot-classification")``.

No NLI checkpoint is available offline, so this builds a randomly initialised
BERT NLI classifier (BERT-base size by default: 12 layers, hidden 768) with
the real bert-base-uncased WordPiece vocabulary (from the offline MiniLM
package), saves it, and runs both on the same texts and labels. Throughput
does not depend on the weights; the scores are also compared.

    .venv/bin/python benchmarks/nli_throughput.py --n-texts 48

Prints a table of texts/s and the speed-up, and the largest score difference.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

EMOTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotion" / "val.txt"
LABELS = ["sadness", "joy", "love", "anger", "fear", "surprise"]
FALLBACK = [
    "the dataset viewer crashes when the split has no rows",
    "please add support for streaming parquet files from the hub",
    "i feel so happy today , everything went right",
    "why does load_dataset download the whole archive again",
    "documentation for the new filter argument is missing",
    "i am scared of what might happen tomorrow",
]


def load_texts(n: int) -> list[str]:
    if EMOTION.is_file():
        lines = [ln.rsplit(";", 1)[0] for ln in EMOTION.read_text(encoding="utf-8").splitlines() if ln]
        return lines[:n]
    return [FALLBACK[i % len(FALLBACK)] for i in range(n)]


def build_model(folder: Path, hidden: int, layers: int) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from fewtag.models import DEFAULT_ENCODER, resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_ENCODER), local_files_only=True)
    tok.model_max_length = 512
    id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        intermediate_size=4 * hidden,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=48)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8, help="texts per forward pass (ours)")
    parser.add_argument(
        "--pipeline-batch-size",
        type=int,
        default=0,
        help="also time the pipeline with this batch_size (pairs); 0: skip",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--model", default=None, help="an existing NLI model folder instead")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from fewtag.methods._hf import quiet_transformers
    from fewtag.registry import get_method

    quiet_transformers()
    if args.threads:
        torch.set_num_threads(args.threads)
    texts = load_texts(args.n_texts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.model) if args.model else build_model(Path(tmp), args.hidden, args.layers)
        pipe = pipeline(
            "zero-shot-classification",
            model=AutoModelForSequenceClassification.from_pretrained(folder),
            tokenizer=AutoTokenizer.from_pretrained(folder),
            device="cpu",
        )
        ours = get_method("zero-shot-nli")(model=str(folder), batch_size=args.batch_size, device="cpu").fit(
            [], [], classes=LABELS
        )
        ours.predict_proba(texts[:2])  # warm-up (lazy load)
        pipe(texts[:2], candidate_labels=LABELS)

        rows = []
        t0 = time.perf_counter()
        res = pipe(texts, candidate_labels=LABELS)
        t_pipe = time.perf_counter() - t0
        ref = np.array([[dict(zip(r["labels"], r["scores"]))[c] for c in LABELS] for r in res])
        rows.append(("pipeline (batch_size=1, default)", t_pipe))
        if args.pipeline_batch_size:
            t0 = time.perf_counter()
            pipe(texts, candidate_labels=LABELS, batch_size=args.pipeline_batch_size)
            rows.append((f"pipeline (batch_size={args.pipeline_batch_size})", time.perf_counter() - t0))
        t0 = time.perf_counter()
        scores = ours.predict_proba(texts)
        t_ours = time.perf_counter() - t0
        rows.append((f"fewtag zero-shot-nli (batch_size={args.batch_size} texts)", t_ours))

    n_params = sum(p.numel() for p in pipe.model.parameters()) / 1e6
    print(
        f"model: random BERT NLI, {args.layers} layers, hidden {args.hidden} ({n_params:.0f}M "
        f"params); {len(texts)} texts x {len(LABELS)} labels; torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{'runner':<48} {'seconds':>8} {'texts/s':>8} {'vs pipeline':>12}")
    for name, sec in rows:
        print(f"{name:<48} {sec:8.2f} {len(texts) / sec:8.1f} {t_pipe / sec:11.2f}x")
    print(f"max |score difference| vs pipeline: {np.abs(scores - ref).max():.2e}")


if __name__ == "__main__":
    main()
