"""The .github/fewtag.yml schema: the exact keys of issue 15, and errors that name the key."""

from __future__ import annotations

import pytest

from fewtag.deploy.config import load_config, model_source, parse_config
from fewtag.errors import ConfigError, InputError

EXAMPLE = """
labels:                       # the tags fewtag manages; nothing else is ever touched
  bug: {description: "Something is broken", aliases: ["type: bug"], precision: 0.9}
  enhancement: {description: "A new feature or improvement", threshold: 0.6}
max_labels: 2
default_label: needs-triage   # added when fewtag abstains; omit for none
exclude_authors: ["dependabot[bot]"]
dry_run: false
comment: true                 # or a template string
model: .github/fewtag-model   # a folder, a release asset URL, or cache:KEY
families:                     # optional: one model per family
  area: {labels: ["area: cli", "area: docs"], multi_label: true, model: .github/fewtag-area}
"""


def test_the_issues_example_parses(tmp_path):
    path = tmp_path / "fewtag.yml"
    path.write_text(EXAMPLE)
    cfg = load_config(path)
    assert cfg.labels["bug"].precision == 0.9 and cfg.labels["bug"].aliases == ["type: bug"]
    assert cfg.labels["enhancement"].threshold == 0.6
    assert (cfg.max_labels, cfg.default_label, cfg.dry_run, cfg.comment) == (2, "needs-triage", False, True)
    assert cfg.families["area"].multi_label and cfg.families["area"].model == ".github/fewtag-area"
    assert cfg.tag_of("type: bug") == "bug" and cfg.tag_of("area: cli") == "area: cli" and cfg.tag_of("x") is None
    assert cfg.family_of("area: docs") == "area" and cfg.family_of("bug") == "labels"
    assert cfg.managed() == {"bug", "enhancement", "needs-triage", "area: cli", "area: docs"}
    assert cfg.excluded("dependabot[bot]") and not cfg.excluded("dependabot")


def test_shipped_example_config_parses():
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[2] / "examples" / "fewtag.yml")
    assert cfg.labels


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"labels": {"bug": {"precision": 1.5}}}, "labels.bug.precision: Input should be less than or equal to 1"),
        ({"labels": {"bug": {"treshold": 0.5}}}, "labels.bug.treshold: unknown key; valid keys: aliases, description"),
        ({"labels": ["bug"], "max_label": 2}, "max_label: unknown key"),
        ({"labels": ["bug"], "max_labels": 0}, "max_labels: Input should be greater than or equal to 1"),
        ({"labels": ["bug"], "dry_run": "maybe"}, "dry_run:"),
        ({"labels": {}}, "labels:"),
        ({"max_labels": 2}, "labels: Field required"),
        ({"labels": {"bug": {"threshold": 0.5, "precision": 0.9}}}, "labels.bug: give threshold or precision"),
        ({"labels": ["bug"], "comment": "{lables}"}, "comment: unknown placeholder(s) {lables}"),
        ({"labels": ["bug"], "comment": "{labels.__class__}"}, "comment: unknown placeholder(s) {labels.__class__}"),
        ({"labels": ["bug"], "families": {"area": {"labels": ["a"]}}}, "families.area.model: Field required"),
        ({"labels": ["bug"], "families": {"area": {"labels": ["a"], "model": "m", "multi": 1}}}, "families.area.multi"),
        ({"labels": {"bug": {"aliases": ["docs"]}, "docs": {}}}, "labels.bug.aliases: 'docs' is itself a managed"),
        ({"labels": ["bug"], "exclude_authors": "bot"}, "exclude_authors:"),
        ([1, 2], "expected a mapping"),
        (None, "the file is empty"),
    ],
)
def test_validation_errors_name_the_key(data, says):
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yml")
    assert str(err.value).startswith("x.yml: ") and says in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("labels: {bug: [\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "nope.yml")


def test_model_sources():
    assert model_source("cache:fewtag-v1").kind == "cache"
    assert model_source("https://github.com/o/r/releases/download/v1/model.tar.gz").kind == "url"
    assert model_source(".github/fewtag-model").kind == "path"
    with pytest.raises(ConfigError, match="cache:KEY"):
        model_source("cache:")


def test_cli_reports_a_bad_config_in_one_line(tmp_path, model_dir):
    from typer.testing import CliRunner

    from fewtag.cli import app

    cfg = tmp_path / "fewtag.yml"
    cfg.write_text("labels: {bug: {precision: 2}}\n")
    res = CliRunner().invoke(app, ["triage", "o/r#1", "--config", str(cfg), "--model", str(model_dir), "--dry-run"])
    assert res.exit_code != 0
    assert isinstance(res.exception, ConfigError) and "labels.bug.precision" in str(res.exception)
