"""Small GitHub-style dumps built in the test."""

from __future__ import annotations

import json
import random

import pytest

WORDS = {
    "bug": "crash error traceback fails exception broken segfault".split(),
    "enhancement": "feature add support option request improve allow".split(),
    "documentation": "docs readme typo documentation example guide link".split(),
}


def make_issue(number: int, labels: list[str], rng: random.Random, *, pr: bool = False) -> dict:
    words = [w for lab in labels for w in rng.sample(WORDS[lab], 3)] or rng.sample(
        [w for ws in WORDS.values() for w in ws], 4
    )
    obj = {
        "url": f"https://api.github.com/repos/acme/widgets/issues/{number}",
        "repository_url": "https://api.github.com/repos/acme/widgets",
        "html_url": f"https://github.com/acme/widgets/issues/{number}",
        "number": number,
        "title": f"Issue {number}: " + " ".join(words[:2]),
        "body": " ".join(words) + f" <!-- template {number} -->\n```\ncode\n```",
        "labels": [{"name": lab, "color": "fff"} for lab in labels],
        "state": "open",
        "user": {"login": "someone"},
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": f"2024-01-{1 + number % 28:02d}T00:00:00Z",
    }
    if pr:
        obj["pull_request"] = {"url": "x"}
    return obj


def make_dump(n_labelled: int = 90, n_unlabelled: int = 30, n_prs: int = 10, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    names = list(WORDS)
    issues = []
    for i in range(n_labelled):
        labels = [names[i % 3]] + ([names[(i + 1) % 3]] if i % 7 == 0 else [])
        issues.append(make_issue(i + 1, labels, rng))
    for j in range(n_unlabelled):
        issues.append(make_issue(1000 + j, [], rng))
    for k in range(n_prs):
        issues.append(make_issue(2000 + k, ["bug"], rng, pr=True))
    return issues


@pytest.fixture
def dump_path(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in make_dump()) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text(
        '[data]\nrepo = "acme/widgets"\n[labels]\nkeep = ["bug", "enhancement", "documentation"]\n'
        "[split]\nseed = 0\nslices = [8, 16, 32]\n",
        encoding="utf-8",
    )
    return path
