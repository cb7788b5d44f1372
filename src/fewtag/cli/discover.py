"""``fewtag discover``: propose a label set by clustering the issues (zero-label start)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from fewtag.cli._app import app, console, info, out, state


def show_progress() -> bool:
    return not state.quiet and console.is_terminal


@app.command("discover")
def discover_command(
    data: Path = typer.Argument(..., help="A prepared folder or a .jsonl/.csv/.txt file of texts."),
    out_dir: Path = typer.Option(
        ...,
        "--out",
        help="Folder for clusters.json, labels.draft.toml, seed_labels.jsonl, assignments.jsonl, clusters.png.",
    ),
    k: str = typer.Option("auto", "--k", help="Number of clusters, or 'auto' (best silhouette, kmeans)."),
    method: str = typer.Option("kmeans", "--method", help="kmeans | hdbscan."),
    model: str = typer.Option(
        "sentence-transformers/all-MiniLM-L6-v2", "--model", help="Sentence encoder id or folder."
    ),
    max_length: int = typer.Option(128, "--max-length", help="Tokens per text."),
    split: list[str] = typer.Option(
        ["train", "valid", "test", "unsup"], "--split", help="Splits of a prepared folder to cluster (repeatable)."
    ),
    max_texts: int = typer.Option(None, "--max-texts", help="Cluster at most this many texts."),
    min_cluster_size: int = typer.Option(None, "--min-cluster-size", help="HDBSCAN's minimum size."),
    projection: str = typer.Option("auto", "--projection", help="2-D map: auto | tsne | pca."),
    repo: str = typer.Option(None, "--repo", help="OWNER/REPO written into the draft config."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Cluster the texts' embeddings, name clusters by c-TF-IDF keywords, write a draft label config."""
    from fewtag.adapt import read_items
    from fewtag.discover import discover, write_discovery
    from fewtag.embed import get_encoder

    ids, texts = read_items(data, splits=tuple(split))
    if max_texts:
        ids, texts = ids[:max_texts], texts[:max_texts]
    info(f"embedding {len(texts)} texts with {model}")
    emb = get_encoder(model, max_length, method="discover").encode(texts, show_progress=show_progress())
    result = discover(
        texts,
        ids,
        k=k,
        method=method,
        model=model,
        embeddings=emb,
        min_cluster_size=min_cluster_size,
        projection=projection,
        seed=seed,
    )
    paths = write_discovery(result, out_dir, repo=repo)
    title = f"{len(texts)} texts, {result.k} clusters ({result.method}" + (
        f", silhouette {result.silhouette:.3f})" if result.silhouette is not None else ")"
    )
    table = Table("cluster", "size", "keywords", "representative issues", title=title, show_lines=True)
    for c in result.clusters:
        table.add_row(
            c.name, str(c.size), ", ".join(c.keywords), "\n".join(f"#{e['id']}: {e['text'][:70]}" for e in c.examples)
        )
    out.print(table)
    out.print(f"draft label config: {paths['config']}; map: {paths['map']}", highlight=False)
