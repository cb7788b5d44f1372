"""Run the real entry point (``fewtag.cli.main``, error handling included) inside the test process."""

from __future__ import annotations

import sys


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``fewtag ARGS...`` in-process: exit code, stdout, stderr."""
    from fewtag.cli import main

    monkeypatch.setattr(sys, "argv", ["fewtag", *args])
    monkeypatch.setenv("COLUMNS", "300")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
