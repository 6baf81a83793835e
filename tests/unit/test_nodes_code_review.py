"""A code node sent back by a reviewer: main() gets `feedback` and `previous_output` only when it
names them as parameters, so code that does not ask keeps its contract with the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.graph.model import CodeNode
from signoff.nodes import code
from signoff.nodes.context import NodeContext
from signoff.nodes.event import RunContext


class RecordingRunner:
    """Answers {"result": "ok"} and keeps the arguments main() was given."""

    def __init__(self) -> None:
        self.inputs: dict[str, Any] | None = None

    def run(self, language: str, source: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.inputs = inputs
        return {"result": "ok"}


def run_code(source: str, language: str = "python3", **inputs: Any) -> dict[str, Any]:
    node = CodeNode(
        id="shape",
        code=source,
        code_language=language,
        outputs={"result": {"type": "string"}},
    )
    runner = RecordingRunner()
    context = NodeContext(
        run=RunContext(run_id="r-1", tenant_id="t", workflow_id="wf"),
        attempt=1,
        code_runner=runner,
        feedback="shorter, please",
        previous_output={"result": "a long text"},
    )
    code.run(node, dict(inputs), context)
    assert runner.inputs is not None
    return runner.inputs


def test_given_main_asks_for_feedback_and_previous_output_then_it_gets_them():
    given = run_code(
        "def main(text: str, feedback: str | None = None, previous_output=None) -> dict:\n"
        "    return {'result': text}\n",
        text="hello",
    )

    assert given == {
        "text": "hello",
        "feedback": "shorter, please",
        "previous_output": {"result": "a long text"},
    }


def test_given_main_does_not_ask_then_it_gets_only_its_variables():
    given = run_code("def main(text: str) -> dict:\n    return {'result': text}\n", text="hi")

    assert given == {"text": "hi"}


def test_given_a_variable_named_feedback_then_the_node_keeps_its_own_value():
    given = run_code("def main(feedback):\n    return {'result': feedback}\n", feedback="mine")

    assert given == {"feedback": "mine"}


@pytest.mark.parametrize(
    "source",
    [
        "function main({text, feedback}) { return {result: text}; }",
        "async function main({ text, feedback = null }) { return {result: text}; }",
        "const main = ({text, feedback}) => ({result: text});",
    ],
)
def test_given_javascript_destructuring_feedback_then_it_gets_it(source):
    given = run_code(source, language="javascript", text="hi")

    assert given == {"text": "hi", "feedback": "shorter, please"}
