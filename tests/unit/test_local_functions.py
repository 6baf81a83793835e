"""The in-process Lambda runtime: cold starts, environment, context, and the error contract."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from signoff.local.functions import FunctionRunner
from signoff.local.provision import StackPlan, plan_stack


@pytest.fixture
def plan(toy_template) -> StackPlan:
    return plan_stack(toy_template)


@pytest.fixture
def runner(plan: StackPlan) -> FunctionRunner:
    return FunctionRunner(plan.functions)


def test_given_a_function_when_invoked_then_its_handler_answers_with_its_result(plan, runner):
    echo = plan.function("echo")

    result = runner.invoke(echo.function_name, {"hello": "world"})

    assert not result.failed
    assert result.payload["event"] == {"hello": "world"}
    assert result.payload["function_name"] == "signoff-EchoFunction"
    assert result.payload["invoked_function_arn"] == echo.function_arn
    assert result.payload["memory_limit_in_mb"] == 256
    assert 0 < result.payload["remaining_ms"] <= 7000


def test_given_a_function_when_imported_then_it_sees_exactly_its_own_environment(
    plan, runner, monkeypatch
):
    # Another function's variable in the process must not leak into this one's cold start.
    monkeypatch.setenv("SIGNOFF_WEB_ONLY", "leaked")
    monkeypatch.delenv("SIGNOFF_MARK", raising=False)

    result = runner.invoke(plan.function("echo").function_name, {})

    assert result.payload["imported_with"] == {
        "SIGNOFF_MARK": "echo-test",
        "SIGNOFF_SHARED": "from-globals",
        "SIGNOFF_WEB_ONLY": None,
        "POWERTOOLS_SERVICE_NAME": "echo",
    }
    assert os.environ["SIGNOFF_WEB_ONLY"] == "leaked"
    assert "SIGNOFF_MARK" not in os.environ


def test_given_many_concurrent_first_invocations_then_the_function_starts_cold_once(plan, runner):
    name = plan.function("echo").function_name

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: runner.invoke(name, {"n": n}), range(16)))

    assert {result.payload["cold_starts"] for result in results} == {1}
    assert sorted(result.payload["event"]["n"] for result in results) == list(range(16))
    assert len({result.payload["request_id"] for result in results}) == 16


def test_given_a_new_runner_then_its_functions_start_cold_again(plan):
    name = plan.function("echo").function_name
    first, second = FunctionRunner(plan.functions), FunctionRunner(plan.functions)

    first.invoke(name, {})
    first.invoke(name, {})

    assert second.invoke(name, {}).payload["cold_starts"] == 1


def test_given_a_handler_that_raises_then_the_result_is_lambdas_error_contract(plan, runner):
    result = runner.invoke(plan.function("boom").function_name, {"n": 7})

    assert result.failed
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "cannot handle 7"
    assert any("app.py" in line for line in result.error["stackTrace"])


def test_given_a_custom_exception_then_its_class_name_is_the_error_type(plan, runner):
    result = runner.invoke(plan.function("boom").function_name, {"kind": "timeout"})

    assert result.error["errorType"] == "NodeTimeout"


def test_given_a_result_that_is_not_json_then_the_invocation_fails(plan, runner):
    result = runner.invoke(plan.function("boom").function_name, {"kind": "unserializable"})

    assert result.error["errorType"] == "TypeError"


def test_given_a_missing_handler_module_then_the_invocation_fails_with_an_import_error(
    plan, tmp_path
):
    from dataclasses import replace

    broken = replace(plan.function("echo"), code_dir=tmp_path)
    runner = FunctionRunner({"EchoFunction": broken})

    result = runner.invoke(broken.function_name, {})

    assert result.error["errorType"] == "ImportError"
    assert "app.py" in result.error["errorMessage"]
