"""fewtag.progress: training loops report steps to whoever listens, nobody by default."""

from __future__ import annotations

from fewtag.progress import report, reporting


def test_reports_reach_the_listener_with_their_fields_and_stop_after_the_block():
    seen: list[tuple] = []
    with reporting(lambda task, done, total, fields: seen.append((task, done, total, fields))):
        report("setfit", 1, 25, loss=0.25)
        report("setfit", 2, 20, loss=0.2)  # a shortened plan is reported as the new total
    report("setfit", 3, 20, loss=0.1)  # outside the block: nobody listens
    assert seen == [("setfit", 1, 25, {"loss": 0.25}), ("setfit", 2, 20, {"loss": 0.2})]


def test_nested_listeners_restore_the_outer_one():
    outer: list[int] = []
    inner: list[int] = []
    with reporting(lambda t, d, n, f: outer.append(d)):
        with reporting(lambda t, d, n, f: inner.append(d)):
            report("a", 1, 2)
        report("a", 2, 2)
    assert inner == [1] and outer == [2]


def test_the_cli_bar_draws_without_a_terminal_and_quietly_off_one():
    from fewtag.cli._app import step_progress

    with step_progress():  # not a terminal under pytest: no bar, reports are dropped
        report("setfit", 1, 2, loss=0.5)
