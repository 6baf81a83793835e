"""if-else -> a Choice whose rules record the handle taken in `$r_<node>`.

Every rule goes on to the same next state: which nodes run is decided by their guards. The else
handle is a last `{% true %}` rule rather than a Default, since a Default's Assign is applied
wrongly by moto when its target equals a rule's target.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context
from signoff.compiler.lowering.operators import case_expression
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name
from signoff.graph.model import ELSE_HANDLE, IfElseNode


def lower_if_else(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, IfElseNode)
    handle = handle_name(node.id)
    rules = [
        {
            "Condition": jsonata.template(case_expression(case, ctx.variables)),
            "Assign": {handle: jsonata.plain(case.case_id)},
            "Next": next_state,
        }
        for case in node.cases
    ]
    rules.append({"Condition": "{% true %}", "Assign": {handle: ELSE_HANDLE}, "Next": next_state})
    return {step.state_name: {"Type": "Choice", "Choices": rules}}
