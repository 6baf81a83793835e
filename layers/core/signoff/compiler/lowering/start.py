"""start -> the `Init` Pass: the run context, empty outputs, and every node's variables."""

from __future__ import annotations

from typing import Any

from signoff.compiler.lowering.common import INIT
from signoff.compiler.plan import Plan
from signoff.graph.validation import variable_name


def lower_init(plan: Plan, next_state: str) -> dict[str, dict[str, Any]]:
    assign: dict[str, Any] = {"run": "{% $states.input.run %}", "outputs": {}}
    for step in plan.steps:
        name = variable_name(step.node.id)
        assign[f"n_{name}"] = "{% $states.input.inputs %}" if step.node is plan.start else None
    for step in plan.steps:
        if step.records_handle and step.node is not plan.start:
            assign[f"r_{variable_name(step.node.id)}"] = None
    return {INIT: {"Type": "Pass", "Assign": assign, "Next": next_state}}
