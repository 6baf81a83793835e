"""iteration -> a Map state running the iteration's child nodes once per element.

Each item runs in a variable scope of its own, where `$i_<iteration>` is `{item, index}` (the
first state reads them from its input). An item ends with `{v: <output_selector value>}` (plus
what it counted); the Map's result, in element order, becomes the iteration's `output`.
error_handle_mode: terminated -> a failing item fails the Map (and the run); continue-on-error
-> a failing item's output is null; remove-abnormal-output -> it is left out.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import progress, scope_ends, sequential_iteration
from signoff.compiler.lowering.common import Context, failure_carrier
from signoff.compiler.plan import Step
from signoff.compiler.structure import Block, NodeItem
from signoff.compiler.variables import handle_name, item_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, HumanInputNode, IterationNode

# Step Functions runs at most 40 iterations of an inline Map at once.
MAX_CONCURRENCY = 40
_FAILED = "f"
_VALUE = "v"


def items_expression(node: IterationNode, ctx: Context) -> str:
    """The list to iterate: null iterates nothing, anything else but a list fails the node."""
    value = jsonata.selector_value(node.iterator_selector, ctx.variables)
    problem = jsonata.literal(f"iteration {node.id}: its iterator_selector is not a list")
    return f'($l := {value}; $type($l) = "array" ? $l : $l = null ? [] : $error({problem}))'


def output_expression(node: IterationNode) -> str:
    """The items' values in order (failed ones left out), each kept whole even when a list."""
    collected = (
        f"$reduce($states.result, function($a, $r) {{ $r.{_FAILED} = true ? $a : "
        f'$append($a, $type($r.{_VALUE}) = "array" ? [[$r.{_VALUE}]] : [$r.{_VALUE}]) }}, [])'
    )
    if not node.flatten_output:
        return collected
    return (
        f"($o := {collected}; $count($o) > 0 and "
        '$reduce($o, function($ok, $v) { $ok and $type($v) = "array" }, true) ? '
        "$reduce($o, function($a, $v) { $append($a, $v) }, []) : $o)"
    )


def lower_iteration(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, IterationNode)
    if sequential_iteration.is_sequential_loop(node, ctx.plan):
        # Its items write conversation variables the next items read: a loop, not a Map.
        return sequential_iteration.lower_sequential_iteration(step, ctx, next_state)
    emitter = ctx.emitter
    body = ctx.plan.scope_plans[node.id].block
    fail_state = f"Item of {node.id} failed"
    scope = emitter.new_scope("item", ctx.scope, fail_state=fail_state)
    inner = emitter.context(scope)
    end_name = f"End item of {node.id}"
    scope.declared[item_name(node.id)] = "{% $states.input %}"

    # The item's first state reads the item from its input, unless a review's revise comes
    # back to it (its input is then the decision) or a form's timeout path reads it (from the
    # error): such a node reads `$i_<iteration>`, set as the item begins.
    first_variables = None if _reenters_first(body, ctx) else inner.variables.at_item_entry(node.id)
    states = emitter.block(body, inner, end_name, first_variables=first_variables)
    last = body.items[-1] if body.items else None
    last_state = last.node_id if isinstance(last, NodeItem) else None
    if last_state is not None and emitter.plan.steps[last_state].node.type == "loop":
        last_state = None
    elif last_state is not None and emitter.plan.steps[last_state].node.type == "iteration":
        last_state = progress.completed_state_name(last_state)  # an iteration ends there

    def item_output() -> dict[str, str]:
        value = jsonata.selector_value(node.output_selector, inner.variables)
        return {_VALUE: value, **scope_ends.accumulated(scope)}

    if not body.items:
        states[end_name] = {"Type": "Pass", "End": True}
        emitter.on_finish(
            lambda: states[end_name].update(
                Output={k: jsonata.template(v) for k, v in item_output().items()}
            )
        )
        entry = end_name
    else:
        scope_ends.end(inner, states, end_name, last_state, item_output)
        entry = emitter.entry_of(body.items[0])
    if progress.body_entry(node.id, ctx.plan) is None:
        # No Lambda begins the item: one of its own says iteration.next.
        next_item = progress.next_state_name(node)
        item_entry = inner.at(scope, inner.variables.at_item_entry(node.id))
        states = {
            next_item: progress.progress_task(
                item_entry, [progress.notice(node, "next", item_entry)], entry, catch_node=node.id
            ),
            **states,
        }
        entry = next_item
    if any(
        rule.get("Next") == fail_state
        for state in states.values()
        for rule in state.get("Catch", [])
    ):
        states[fail_state] = _item_failure(node)
    states, entry = scope_ends.begin(
        states, entry, scope_ends.declarations(scope), f"Begin item of {node.id}"
    )

    assign: dict[str, Any] = {
        outputs_name(node.id): jsonata.template(f'{{"output": {output_expression(node)}}}')
    }
    if step.records_handle:
        assign[handle_name(node.id)] = SOURCE_HANDLE
    if scope.accumulates:
        assign.update(ctx.add_nested("$states.result", "exceptions", "usage"))
    concurrency = min(node.parallel_nums, MAX_CONCURRENCY) if node.is_parallel else 1
    items = progress.items_state_name(node.id)
    completed = progress.completed_state_name(node.id)
    listed = jsonata.selector_value(node.iterator_selector, ctx.variables)
    # After the Map, the state's input is no longer the item of an iteration around it.
    after = ctx.at(ctx.scope)
    return {
        # The Map runs after a Task saying iteration.started (the node's own state: its entry)
        # and before one saying iteration.completed.
        step.state_name: progress.started_task(
            node, ctx, items, inputs=f'{{"iterator_selector": {listed}}}'
        ),
        items: {
            "Type": "Map",
            "Items": jsonata.template(items_expression(node, ctx)),
            "ItemSelector": {
                "item": "{% $states.context.Map.Item.Value %}",
                "index": "{% $states.context.Map.Item.Index %}",
            },
            "MaxConcurrency": concurrency,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": entry,
                "States": states,
            },
            "Assign": assign,
            "Output": {},
            "Catch": [ctx.catch_nested(node.id)],
            "Next": completed,
        },
        completed: progress.completed_task(
            node,
            after,
            next_state,
            outputs=f"${outputs_name(node.id)}",
            steps=f"$count({items_expression(node, after)})",
        ),
    }


def _reenters_first(body: Block, ctx: Context) -> bool:
    """Whether the body begins with a node a wait on a person comes back to or leaves from."""
    first = body.items[0] if body.items else None
    if not isinstance(first, NodeItem):
        return False
    node = ctx.plan.steps[first.node_id].node
    return node.reviewed or isinstance(node, HumanInputNode)


def _item_failure(node: IterationNode) -> dict[str, Any]:
    if node.error_handle_mode == "continue-on-error":
        return {"Type": "Pass", "Output": {_VALUE: None}, "End": True}
    if node.error_handle_mode == "remove-abnormal-output":
        return {"Type": "Pass", "Output": {_FAILED: True}, "End": True}
    return failure_carrier()
