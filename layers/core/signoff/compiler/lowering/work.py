"""code and template-transform -> a Task invoking the node function, which runs the node.

The Task hands the node function the node's own configuration and only the variables its
selectors name; the function answers `{"outputs": {...}}`, kept in `$n_<node>`.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import catch_node_failure, invoke
from signoff.compiler.plan import Step
from signoff.compiler.target import CompileTarget
from signoff.graph.model import SOURCE_HANDLE
from signoff.graph.selectors import referenced_node_ids
from signoff.graph.validation import variable_name


def lower_work(step: Step, target: CompileTarget, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    payload = {
        "run": "{% $run %}",
        "node": {
            "id": node.id,
            "type": node.type,
            "title": jsonata.plain(node.title),
            "config": jsonata.plain(node.config()),
        },
        "variables": {
            source_id: jsonata.template(jsonata.node_outputs(source_id))
            for source_id in referenced_node_ids(node.selectors(), node.texts())
        },
        "attempt": "{% $states.context.State.RetryCount + 1 %}",
    }
    state = invoke(target.node_function_arn, payload)
    assign: dict[str, Any] = {f"n_{variable_name(node.id)}": "{% $states.result.Payload.outputs %}"}
    if step.records_handle:
        assign[f"r_{variable_name(node.id)}"] = SOURCE_HANDLE
    state["Output"] = "{% $states.result.Payload %}"
    state["Assign"] = assign
    state["Catch"] = [catch_node_failure(node.id)]
    state["Next"] = next_state
    return {step.state_name: state}
