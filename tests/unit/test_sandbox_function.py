"""The sandbox function's handler: the event in, the sandbox's answer out, limits from Settings."""

from __future__ import annotations

import importlib.util
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "sandbox" / "app.py"


@dataclass
class LambdaContext:
    function_name: str = "sandbox"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:sandbox"
    aws_request_id: str = "request-1"


@pytest.fixture
def sandbox_function(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("SIGNOFF_SANDBOX_CPU_SECONDS", "1")
    monkeypatch.setenv("SIGNOFF_SANDBOX_WALL_SECONDS", "2")
    monkeypatch.setenv("SIGNOFF_SANDBOX_MAX_OUTPUT_BYTES", "2048")
    spec = importlib.util.spec_from_file_location(f"sandbox_{uuid.uuid4().hex}", FUNCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_given_code_and_inputs_when_invoked_then_it_answers_the_result(sandbox_function):
    event = {
        "language": "python3",
        "code": "def main(a, b):\n    return {'sum': a + b}\n",
        "inputs": {"a": 1, "b": 2.5},
    }

    assert sandbox_function.handler(event, LambdaContext()) == {"ok": True, "result": {"sum": 3.5}}


def test_given_limits_in_the_settings_when_invoked_then_the_sandbox_applies_them(sandbox_function):
    event = {"language": "python3", "code": "def main():\n    return {'s': 'x' * 4096}\n"}

    answer = sandbox_function.handler(event, LambdaContext())

    assert answer["ok"] is False
    assert answer["error"]["type"] == "CodeContractError"
    assert "limit of 2048" in answer["error"]["message"]


def test_given_failing_code_when_invoked_then_it_answers_the_classified_error(sandbox_function):
    event = {"language": "python3", "code": "def main():\n    raise KeyError('nope')\n"}

    answer = sandbox_function.handler(event, LambdaContext())

    assert answer == {
        "ok": False,
        "error": {
            "type": "CodeError",
            "message": "KeyError: 'nope'\n"
            "Traceback (most recent call last):\n"
            "  line 2, in main\n"
            "    raise KeyError('nope')",
        },
    }
