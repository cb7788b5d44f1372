"""Write what discovery found: JSON, a draft label config, a seed labelled file and a map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fewtag.discover.cluster import NOISE, Discovery
from fewtag.io import atomic_dir, write_json

__all__ = ["write_discovery", "draft_config", "plot_map", "FILES"]

FILES = {
    "clusters": "clusters.json",
    "assignments": "assignments.jsonl",
    "config": "labels.draft.toml",
    "seed": "seed_labels.jsonl",
    "map": "clusters.png",
}


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def draft_config(result: Discovery, *, repo: str | None = None) -> str:
    """A ``fewtag prepare`` config (TOML) proposing one tag per cluster, for the user to edit."""
    lines = [
        "# Draft label set proposed by `fewtag discover` -- edit before use.",
        f"# {len(result.texts)} texts, {result.k} clusters ({result.method}"
        + (f", silhouette {result.silhouette:.3f}" if result.silhouette is not None else "")
        + ").",
        "# Rename the tags in [labels] keep, merge or drop clusters, then label a few issues per tag",
        "# (seed_labels.jsonl holds the representative issues of each cluster, labelled with its",
        "# draft tag: correct it and use it as training data, e.g. `fewtag train seed_labels.jsonl`).",
        "#",
    ]
    for c in result.clusters:
        lines.append(f"# {c.name}: {c.size} issues; keywords: {', '.join(c.keywords)}")
        for ex in c.examples:
            lines.append(f"#     #{ex['id']}: {ex['text']}")
    noise = int(np.sum(result.assignments == NOISE))
    if noise:
        lines.append(f"# ({noise} issues fitted no cluster)")
    lines += ["", "[data]"]
    if repo:
        lines.append(f"repo = {_toml_str(repo)}")
    lines += [
        "include_prs = false",
        "",
        "[labels]",
        "keep = [" + ", ".join(_toml_str(c.name) for c in result.clusters) + "]",
        '# map = { "raw label" = "tag" }   # when the tracker has labels that mean a tag',
        "min_count = 5",
        "",
        "[split]",
        "seed = 0",
        "",
    ]
    return "\n".join(lines)


def plot_map(result: Discovery, path: str | Path) -> None:
    """The 2-D map of the texts, one colour per cluster, labelled at the cluster centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6))
    xy = result.coords
    noise = result.assignments == NOISE
    if noise.any():
        ax.scatter(xy[noise, 0], xy[noise, 1], s=4, c="lightgrey", label="no cluster")
    cmap = plt.get_cmap("tab20")
    for c in result.clusters:
        m = result.assignments == c.id
        ax.scatter(xy[m, 0], xy[m, 1], s=6, color=cmap(c.id % 20), label=f"{c.name} ({c.size})")
        cx, cy = np.median(xy[m], axis=0)
        ax.annotate(c.name, (cx, cy), fontsize=8, weight="bold", ha="center")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{len(result.texts)} issues, {result.k} clusters ({result.method})")
    ax.legend(fontsize=6, markerscale=2, loc="best", ncol=1 if result.k <= 12 else 2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_discovery(result: Discovery, out: str | Path, *, repo: str | None = None) -> dict[str, Path]:
    """Write the files of :data:`FILES` into ``out`` (atomically); return their paths."""
    out = Path(out)
    with atomic_dir(out) as tmp:
        write_json(
            tmp / FILES["clusters"],
            {
                "method": result.method,
                "k": result.k,
                "silhouette": result.silhouette,
                "model": result.model,
                "n_texts": len(result.texts),
                "clusters": [vars(c) for c in result.clusters],
            },
        )
        names = {c.id: c.name for c in result.clusters}
        with open(tmp / FILES["assignments"], "w", encoding="utf-8") as fh:
            for i, cid in zip(result.ids, result.assignments):
                fh.write(
                    json.dumps({"id": i, "cluster": int(cid), "name": names.get(int(cid))}, ensure_ascii=False) + "\n"
                )
        by_id = dict(zip(result.ids, result.texts))
        with open(tmp / FILES["seed"], "w", encoding="utf-8") as fh:
            for c in result.clusters:
                for ex in c.examples:
                    fh.write(
                        json.dumps({"id": ex["id"], "text": by_id[ex["id"]], "labels": [c.name]}, ensure_ascii=False)
                        + "\n"
                    )
        (tmp / FILES["config"]).write_text(draft_config(result, repo=repo), encoding="utf-8")
        plot_map(result, tmp / FILES["map"])
    return {k: out / v for k, v in FILES.items()}
