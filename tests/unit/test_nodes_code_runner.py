"""Reading the sandbox function's answer: a result, or a CodeExecutionError keeping its kind."""

from __future__ import annotations

import pytest

from signoff.nodes.code_runner import result_from_sandbox_response
from signoff.nodes.errors import CodeExecutionError


def test_given_a_successful_answer_when_read_then_the_result_is_returned():
    assert result_from_sandbox_response({"ok": True, "result": {"a": [1, None]}}) == {
        "a": [1, None]
    }


def test_given_a_failure_when_read_then_it_raises_with_the_sandbox_classification():
    answer = {"ok": False, "error": {"type": "CodeTimeout", "message": "did not finish in 2 s"}}

    with pytest.raises(CodeExecutionError) as caught:
        result_from_sandbox_response(answer)

    assert caught.value.kind == "CodeTimeout"
    assert str(caught.value) == "CodeTimeout: did not finish in 2 s"


@pytest.mark.parametrize(
    "answer",
    [{}, {"ok": True}, {"ok": False}, {"ok": True, "result": [1]}, {"ok": "maybe", "result": {}}],
)
def test_given_an_answer_of_another_shape_when_read_then_it_is_a_code_execution_error(answer):
    with pytest.raises(CodeExecutionError):
        result_from_sandbox_response(answer)
