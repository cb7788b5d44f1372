"""The ``fewtag`` command line. Each command lives in its own module."""

from __future__ import annotations

import importlib

from fewtag.cli._app import app, run

__all__ = ["app", "main"]

#: Modules that add commands to ``app``; a new command module is listed here.
COMMAND_MODULES = [
    "import_cmd",
    "stats",
    "prepare",
    "train",
    "predict",
    "index",
    "search",
    "serve",
    "bench",
    "fetch",
    "apply",
    "export",
    "adapt",
    "discover",
    "distill",
    "models",
    "next",
    "simulate",
    "annotate",
    "tag",
    "audit",
    "triage",
    "feedback",
    "promote",
    "onboard",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"fewtag.cli.{_name}")


def main() -> None:
    run()
