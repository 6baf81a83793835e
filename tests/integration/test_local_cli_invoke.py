"""`signoff invoke` in this process: an ephemeral local cloud, one handler, its JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from signoff.cli import main
from signoff.local.provision import plan_stack

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_given_an_unknown_function_when_invoking_then_the_known_ones_are_listed():
    result = CliRunner().invoke(main, ["invoke", "webhook", "-e", str(EVENTS / "api.json")])

    known = sorted(spec.short_name for spec in plan_stack().functions.values())
    assert result.exit_code == 2
    assert f"functions: {', '.join(known)}" in result.stderr


def test_given_a_function_in_any_case_when_invoked_then_stdout_is_its_result_alone():
    result = CliRunner().invoke(main, ["invoke", "API", "-e", str(EVENTS / "api.json")])

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["statusCode"] == 200
