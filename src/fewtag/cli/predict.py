"""``fewtag predict``: JSON lines in, JSON lines out."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app

ENCODER_BACKEND_OPTION = typer.Option(
    None,
    "--encoder-backend",
    help="Run the model's sentence encoder on torch, torch-bf16, onnx or "
    "onnx-int8 instead of the backend it was trained with (serve: default FEWTAG_ENCODER_BACKEND).",
)


@app.command("predict")
def predict_command(
    model: Path = typer.Argument(..., help="Model folder written by `fewtag train`."),
    source: str = typer.Argument("-", help="JSON lines (id, text or title/body) or text lines; - for stdin."),
    batch_size: int = typer.Option(256, "--batch-size", min=1),
    encoder_backend: str = ENCODER_BACKEND_OPTION,
) -> None:
    """Predict labels: one JSON line {"id", "labels", "scores", "abstained"} per input, in order."""
    import sys

    from fewtag.pipeline import open_input, predict_records, read_predict_input
    from fewtag.registry import load_tagger

    tagger = load_tagger(model, encoder_backend=encoder_backend)
    stream, name = open_input(source)
    for row in predict_records(tagger, read_predict_input(stream, name), batch_size=batch_size):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    sys.stdout.flush()
