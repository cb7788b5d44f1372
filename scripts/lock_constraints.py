"""Write constraints.txt: the exact versions, in this environment, of everything `fewtag[all,dev]` needs.

    .venv/bin/python scripts/lock_constraints.py            # rewrite constraints.txt
    .venv/bin/python scripts/lock_constraints.py --check    # exit 1 if it is out of date

Walks the requirements of the installed ``fewtag`` (with the extras below) through the installed
distributions, so packages left in the venv by hand or by an old extra (``pip freeze`` would list
them) are not pinned. A local build tag is dropped (``torch 2.13.0+cpu`` -> ``torch==2.13.0``, which
the CPU and the default build both satisfy). `make setup` installs with ``-c constraints.txt``.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

EXTRAS = ("all", "dev")
OUT = Path(__file__).resolve().parent.parent / "constraints.txt"
HEADER = """\
# The tested versions of everything `pip install -e ".[all,dev]"` installs (Python 3.11, Linux x86-64).
# `make setup` installs with `-c constraints.txt`, so a new machine gets the same set.
# Regenerate after changing dependencies: .venv/bin/python scripts/lock_constraints.py
"""


def _closure(root: str, extras: tuple[str, ...]) -> dict[str, str]:
    """Canonical name -> installed version of every distribution ``root[extras]`` needs."""
    env = default_environment()
    found: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, want = todo.pop()
        if (name, want) in done:
            continue
        done.add((name, want))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{name} is required but not installed; run `make setup` first")
        key = canonicalize_name(dist.metadata["Name"])
        found[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not any(req.marker.evaluate({**env, "extra": e}) for e in (want or {""})):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return found


def render() -> str:
    pins = _closure("fewtag", EXTRAS)
    pins.pop("fewtag", None)
    lines = [f"{name}=={Version(v).public}" for name, v in sorted(pins.items())]
    return HEADER + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if constraints.txt differs")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUT.is_file() or OUT.read_text() != text:
            sys.exit(f"{OUT.name} is out of date: run python scripts/lock_constraints.py")
        print(f"{OUT.name} is up to date")
        return
    OUT.write_text(text)
    print(f"wrote {OUT.name}: {text.count(chr(10)) - HEADER.count(chr(10))} pins")


if __name__ == "__main__":
    main()
