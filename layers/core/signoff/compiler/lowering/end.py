"""end -> a Pass keeping its outputs in `$n_<end>` (null for a skipped node's value); the run's
outputs merge every end node reached, as the run is settled (settle.py)."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, EndNode


def lower_end(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, EndNode)
    entries = ", ".join(
        f"{jsonata.literal(entry.variable)}: "
        f"{jsonata.selector_value(entry.value_selector, ctx.variables)}"
        for entry in node.outputs
    )
    assign: dict[str, Any] = {outputs_name(node.id): jsonata.template(f"{{{entries}}}")}
    if step.records_handle:
        assign[handle_name(node.id)] = SOURCE_HANDLE
    return {step.state_name: {"Type": "Pass", "Assign": assign, "Next": next_state}}
