"""assigner -> a Pass changing loop variables (in `$n_<loop>`) and conversation variables (in
`$run.conversation`, start.py) with Dify's operations.

Items apply in order, each seeing the changes of those before it. Operations that cannot apply
(arithmetic on a value that is not a number, division by zero) fail the state, as Dify fails the
node.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import lists
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, AssignerNode, AssignItem, LoopNode
from signoff.graph.selectors import CONVERSATION

_EMPTY = {
    "string": '""',
    "number": "0",
    "boolean": "false",
    "object": "{}",
}


def _value(item: AssignItem, ctx: Context) -> str:
    if item.input_type == "variable" and item.value_selector:
        return jsonata.selector_value(item.value_selector, ctx.variables)
    return jsonata.literal(item.value)


def operation_expression(item: AssignItem, var_type: str, ctx: Context, node_id: str) -> str:
    """The variable's new value, from its current value `$c` (and the item's value `$i`)."""
    operation = item.operation
    if operation == "clear":
        return "[]" if var_type.startswith("array") else _EMPTY.get(var_type, "null")
    if operation == "remove-first":
        return f"($c := {lists.as_list('$c')}; {lists.slice_of('$c', '1', '$count($c) - 1')})"
    if operation == "remove-last":
        return f"($c := {lists.as_list('$c')}; {lists.slice_of('$c', '0', '$count($c) - 2')})"
    value = _value(item, ctx)
    if operation in ("over-write", "set"):
        return value
    if operation == "append":
        return f"($i := {value}; {lists.append_one(lists.as_list('$c'), '$i')})"
    if operation == "extend":
        return f"($i := {value}; $append({lists.as_list('$c')}, {lists.as_list('$i')}))"
    problem = jsonata.literal(f"assigner {node_id}: {operation} needs numbers")
    numbers = '($type($c) = "number" and $type($i) = "number") ? '
    if operation == "/=":
        zero = jsonata.literal(f"assigner {node_id}: division by zero")
        return f"($i := {value}; {numbers}($i = 0 ? $error({zero}) : $c / $i) : $error({problem}))"
    symbol = operation[0]
    return f"($i := {value}; {numbers}$c {symbol} $i : $error({problem}))"


def lower_assigner(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, AssignerNode)
    nodes = ctx.plan.workflow.nodes_by_id
    conversation_types = {
        variable.name: variable.value_type for variable in ctx.plan.workflow.conversation_variables
    }
    changes: dict[str, list[str]] = {}
    for item in node.items:
        loop_id, label = item.variable_selector[0], item.variable_selector[1]
        if loop_id == CONVERSATION:
            var_type = conversation_types[label]
        else:
            loop = nodes[loop_id]
            assert isinstance(loop, LoopNode)
            var_type = next(v.var_type for v in loop.loop_variables if v.label == label)
        key = jsonata.field_name(label)
        new = operation_expression(item, var_type, ctx, node.id)
        changes.setdefault(loop_id, []).append(
            f"$v := $merge([$v, {{{jsonata.literal(label)}: ($c := $v.{key}; {new})}}])"
        )
    assign: dict[str, Any] = {}
    conversation = changes.pop(CONVERSATION, None)
    if conversation is not None:
        # Validation keeps these assigners out of parallel iterations, sequential ones run their
        # items in the scope around them (sequential_iteration.py), and the planner keeps them
        # out of Parallel branches (plan._may_branch): `$run` is the top level's.
        assert ctx.scope.kind == "top", f"assigner {node.id} writes $run outside the top level"
        assign["run"] = jsonata.template(
            f"($v := $run.{CONVERSATION}; {'; '.join(conversation)}; "
            f"$merge([$run, {{{jsonata.literal(CONVERSATION)}: $v}}]))"
        )
    for loop_id, steps in changes.items():
        current = ctx.variables.outputs(loop_id)
        assign[outputs_name(loop_id)] = jsonata.template(
            f"($v := {current}; {'; '.join(steps)}; $v)"
        )
    if step.records_handle:
        assign[handle_name(node.id)] = SOURCE_HANDLE
    return {step.state_name: {"Type": "Pass", "Assign": assign, "Next": next_state}}
