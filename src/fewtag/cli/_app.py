"""The one Typer app and the helpers every command shares."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Self, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

app = typer.Typer(
    name="fewtag",
    help="Tag GitHub issues and other short texts with few or no labelled examples.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console(stderr=True, soft_wrap=True)  # one error = one line, also in logs
out = Console(soft_wrap=True)  # stdout: tables and results
T = TypeVar("T")


class _State:
    verbose: bool = False
    quiet: bool = False


state = _State()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks on errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    state.verbose, state.quiet = verbose, quiet
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """A rich progress bar on stderr, silent with ``--quiet`` or when not a terminal."""
    if state.quiet or not console.is_terminal:
        yield from items
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        yield from bar.track(items, total=total, description=description)


@contextmanager
def step_progress() -> Iterator[None]:
    """Draw the steps that training loops report (:mod:`fewtag.progress`): a bar per task
    with steps done, the loss and the time left; silent with ``--quiet`` or off a terminal."""
    from fewtag.progress import reporting

    if state.quiet or not console.is_terminal:
        yield
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def listener(task: str, done: int, total: int, fields: dict) -> None:
        if task not in tasks or done <= 1:
            if task in tasks:
                bar.remove_task(tasks[task])
            tasks[task] = bar.add_task(task, total=total, loss=float("nan"))
        bar.update(tasks[task], completed=done, total=total, loss=float(fields.get("loss", float("nan"))))

    with bar, reporting(listener):
        yield


class Spinner:
    """A transient status line on stderr: a spinner, a text and the elapsed time.

    Shown on a terminal only, never with ``--quiet``; ``active`` says which.
    Use as a context manager and call :meth:`show` with the new text.
    """

    def __init__(self, description: str):
        self.description = description
        self.active = not state.quiet and console.is_terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        if self.active:
            from rich.progress import SpinnerColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
            )
            self._task = self._bar.add_task(self.description, total=None)
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def show(self, text: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=text)


def fail(message: str, code: int = 1) -> None:
    """Print one red line and exit (the message is text: brackets in it are printed, not read as markup)."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def info(message: str) -> None:
    if not state.quiet:
        console.print(message, highlight=False)


def run() -> None:
    """Entry point: a :class:`TaggerError` becomes one red line and exit code 1."""
    from fewtag.errors import TaggerError

    try:
        # without standalone mode, click *returns* the code of ``typer.Exit`` (``fail``) instead of exiting
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except TaggerError as exc:
        if state.verbose:
            console.print_exception()
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        console.print("[red]aborted[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        import click

        if type(exc).__name__ == "NoArgsIsHelpError":  # `fewtag` alone: the help was printed
            sys.exit(0)
        if isinstance(exc, click.exceptions.ClickException) or (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            exc.show()
            sys.exit(exc.exit_code)
        if state.verbose:
            raise
        console.print(
            f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')} (rerun with --verbose)", highlight=False
        )
        sys.exit(1)
