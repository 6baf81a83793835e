"""list-operator -> a Pass: filter, extract, order and limit in JSONata, in Dify's order.

Outputs `result` (a list), `first_record` and `last_record` (null for an empty result).
Conditions test each element, or its `key` attribute for objects and files, with if-else's
operators plus in / not in / all of / exists / not exists.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import lists
from signoff.compiler.lowering.common import Context
from signoff.compiler.lowering.operators import expected_value, test_expression
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, ListOperatorNode


def _element(key: str) -> str:
    return f"$x.{jsonata.field_name(key)}" if key else "$x"


def list_expression(node: ListOperatorNode, ctx: Context) -> str:
    steps = [f"$l := {lists.as_list(jsonata.selector_value(node.variable, ctx.variables))}"]
    if node.filter_by.enabled and node.filter_by.conditions:
        tests = " and ".join(
            "("
            + test_expression(
                _element(c.key), c.comparison_operator, expected_value(c.value, ctx.variables)
            )
            + ")"
            for c in node.filter_by.conditions
        )
        steps.append(f"$l := {lists.keep('$l', tests)}")
    if node.extract_by.enabled:
        serial = jsonata.text_value(node.extract_by.serial, ctx.variables)
        steps.append(
            f"$n := $number({serial}); "
            f"$l := ($n >= 1 and $n <= $count($l)) ? {lists.slice_of('$l', '$n - 1', '$n - 1')}"
            " : []"
        )
    if node.order_by.enabled:
        key = node.order_by.key
        left = f"$p.{jsonata.field_name(key)}" if key else "$p"
        right = f"$q.{jsonata.field_name(key)}" if key else "$q"
        later = f"{left} > {right}" if node.order_by.value == "asc" else f"{left} < {right}"
        steps.append(f"$l := $count($l) > 1 ? $sort($l, function($p, $q) {{ {later} }}) : $l")
    if node.limit.enabled:
        size = node.limit.size
        steps.append(f"$l := $count($l) > {size} ? {lists.slice_of('$l', '0', str(size - 1))} : $l")
    steps.append(
        '{"result": $l, "first_record": $count($l) > 0 ? $l[0] : null,'
        ' "last_record": $count($l) > 0 ? $l[$count($l) - 1] : null}'
    )
    return "(" + "; ".join(steps) + ")"


def lower_list_operator(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, ListOperatorNode)
    assign: dict[str, Any] = {outputs_name(node.id): jsonata.template(list_expression(node, ctx))}
    if step.records_handle:
        assign[handle_name(node.id)] = SOURCE_HANDLE
    return {step.state_name: {"Type": "Pass", "Assign": assign, "Next": next_state}}
