"""``fewtag prepare``: store -> splits and slices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from fewtag.cli._app import app, info, out


@app.command("prepare")
def prepare_command(
    config: Path = typer.Option(None, "--config", help="Dataset config (TOML); see configs/."),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the prepared dataset to."),
    store: str = typer.Option(None, "--store", help="Override data.store of the config."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not a prepared folder."),
) -> None:
    """Label map, clean-up, dedup, stratified splits and nested training slices."""
    from fewtag.data.prepare import prepare
    from fewtag.io import guard_out

    with guard_out(out_dir, "prepared", force=force):
        prepared = prepare(config, out_dir, store=store)
    s = prepared.summary
    for note in prepared.notes:
        info(f"note: {note}")
    table = Table(
        "split",
        "items",
        title=f"{out_dir} ({'multi' if s['multi_label'] else 'single'}-label, {len(s['labels'])} labels)",
    )
    for name, n in s["sizes"].items():
        table.add_row(name, str(n))
    out.print(table)
    labels = Table("label", "train", "valid", "test")
    for lab in s["labels"]:
        labels.add_row(lab, *(str(s["counts"][sp].get(lab, 0)) for sp in ("train", "valid", "test")))
    out.print(labels)
    out.print(
        "training slices (wanted: actual): " + ", ".join(f"{k}: {v}" for k, v in s["slice_sizes"].items()),
        highlight=False,
    )
    d = s["dropped"]
    out.print(
        f"dropped: {d['duplicates']} duplicate texts, {d['cross_split']} train items whose text is "
        f"also in valid or test, {d['empty']} without text",
        highlight=False,
    )
