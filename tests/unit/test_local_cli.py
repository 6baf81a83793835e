"""`signoff validate | compile | invoke` as a user types them (no cloud needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from signoff.cli import main

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello.yaml"
BROKEN = """
name: broken
nodes:
  - { id: start, type: start }
  - { id: mystery, type: warp-drive }
edges:
  - { source: start, target: nowhere }
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    return path


def test_given_a_valid_workflow_when_validated_then_ok_and_exit_0(runner):
    result = runner.invoke(main, ["validate", str(HELLO)])

    assert result.exit_code == 0
    assert result.stdout.strip() == "ok"


def test_given_a_broken_workflow_when_validated_then_every_issue_is_printed_and_exit_1(
    runner, broken
):
    result = runner.invoke(main, ["validate", str(broken)])

    assert result.exit_code == 1
    rows = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert all(len(row) == 3 for row in rows)
    found = {(code, node_id) for code, node_id, _ in rows}
    assert ("unknown_node_type", "mystery") in found
    assert any(code == "missing_end" for code, _ in found)
    assert len(rows) >= 3


def test_given_a_file_that_is_not_yaml_when_validated_then_it_is_an_issue_not_a_crash(
    runner, tmp_path
):
    path = tmp_path / "torn.yaml"
    path.write_text("nodes: [\n")

    result = runner.invoke(main, ["validate", str(path)])

    assert result.exit_code == 1
    assert result.stdout.strip()
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_given_a_valid_workflow_when_compiled_then_asl_json_with_placeholder_arns(runner):
    result = runner.invoke(main, ["compile", str(HELLO)])

    assert result.exit_code == 0, result.stderr
    definition = json.loads(result.stdout)
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["StartAt"] in definition["States"]
    assert "${NodeFunctionArn}" in result.stdout


def test_given_a_broken_workflow_when_compiled_then_issues_go_to_stderr_and_exit_1(runner, broken):
    result = runner.invoke(main, ["compile", str(broken)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "unknown_node_type" in result.stderr


def test_given_an_event_file_that_is_not_json_when_invoking_then_a_usage_error(runner, tmp_path):
    path = tmp_path / "event.json"
    path.write_text("{not json")

    result = runner.invoke(main, ["invoke", "api", "-e", str(path)])

    assert result.exit_code == 2
    assert "not JSON" in result.stderr
