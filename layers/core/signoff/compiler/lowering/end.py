"""end -> a Pass merging its outputs into `$outputs` (null for a skipped node's value)."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.plan import Step
from signoff.graph.model import SOURCE_HANDLE, EndNode
from signoff.graph.validation import variable_name


def lower_end(step: Step, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, EndNode)
    assign: dict[str, Any] = {}
    if node.outputs:
        entries = ", ".join(
            f"{jsonata.literal(entry.variable)}: {jsonata.selector_value(entry.value_selector)}"
            for entry in node.outputs
        )
        assign["outputs"] = jsonata.template(f"$merge([$outputs, {{{entries}}}])")
    if step.records_handle:
        assign[f"r_{variable_name(node.id)}"] = SOURCE_HANDLE
    state: dict[str, Any] = {"Type": "Pass"}
    if assign:
        state["Assign"] = assign
    state["Next"] = next_state
    return {step.state_name: state}
