"""variable-aggregator -> a Pass: the first of its variables whose node ran (Dify's rule; a
skipped branch leaves no value), per group when grouped."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, VariableAggregatorNode
from signoff.graph.selectors import is_run_variable


def _ran(selector: list[str], ctx: Context, reader: str) -> str:
    head = selector[0]
    always = (
        is_run_variable(selector)
        or head == ctx.plan.start.id
        or head in ctx.plan.scopes.enclosing(reader)
    )
    return "true" if always else f"{ctx.variables.handle(head)} != null"


def first_that_ran(selectors: list[list[str]], ctx: Context, reader: str) -> str:
    expression = "null"
    for selector in reversed(selectors):
        value = jsonata.selector_value(selector, ctx.variables)
        expression = f"({_ran(selector, ctx, reader)} ? {value} : {expression})"
    return expression


def lower_aggregator(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, VariableAggregatorNode)
    if node.grouped:
        entries = ", ".join(
            f'{jsonata.literal(group.group_name)}: {{"output": '
            f"{first_that_ran(group.variables, ctx, node.id)}}}"
            for group in node.groups
        )
        value = f"{{{entries}}}"
    else:
        value = f'{{"output": {first_that_ran(node.variables, ctx, node.id)}}}'
    assign: dict[str, Any] = {outputs_name(node.id): jsonata.template(value)}
    if step.records_handle:
        assign[handle_name(node.id)] = SOURCE_HANDLE
    return {step.state_name: {"Type": "Pass", "Assign": assign, "Next": next_state}}
