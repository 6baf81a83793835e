"""A sequential iteration that writes conversation variables -> a loop over its items in the
scope around it, instead of a Map.

Each Map item runs in a variable scope of its own, which cannot assign `$run` (where conversation
variables live, start.py) nor hand anything to the next item. Dify runs a sequential iteration
item after item, and an assigner's write in item 1 is seen by item 2: so such an iteration is
laid out like a loop (loop.py), a Choice with a back edge, whose body runs in the enclosing scope
(validation and the planner keep these iterations at the top level, outside Parallel branches
and Maps, where `$run` is assigned):

- `<it>`: the iteration.started Task (progress.py), which also takes the items:
  `$s_<it> := {items: [{item, index}], results: []}` (anything but a list or null fails it);
- `<it>: next item?`: when every item ran, `$n_<it> := {output}` (as the Map form computes it
  from its items' results) and on to `<it>: completed`; else `$i_<it>` := the next `{item,
  index}`, the body's variables cleared (a node skipped in this item reads as skipped), and the
  body runs;
- `<it>: item done`: appends `{v: <output_selector value>}` to the results, back to the check;
- `<it>: item failed` (error_handle_mode continue-on-error or remove-abnormal-output): a failing
  state of the body comes here and appends `{v: null}` or `{f: true}` (left out of the output);
  with terminated, a failure fails the run as in the Map form.

Outputs, error_handle_mode, flatten_output and the `item`/`index` selectors behave as in the Map
form. Each item costs two transitions more than a Map item (the check and `item done`), and the
items share the execution's history (25,000 events): long lists belong in a parallel iteration
that writes no conversation variable.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import progress
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import Plan, Step
from signoff.compiler.variables import handle_name, item_name, outputs_name
from signoff.graph.model import SOURCE_HANDLE, AssignerNode, IterationNode
from signoff.graph.selectors import CONVERSATION
from signoff.graph.validation import variable_name

_FAILED = "f"
_VALUE = "v"
# What the Map form's output expression reads its items' results from.
_MAP_RESULTS = "$states.result"


def writes_conversation(iteration_id: str, plan: Plan) -> bool:
    """Whether an assigner inside the iteration (at any depth) writes a conversation variable."""
    for member in plan.scopes.descendants(iteration_id):
        node = plan.steps[member].node
        if isinstance(node, AssignerNode) and any(
            target[0] == CONVERSATION for target in node.targets
        ):
            return True
    return False


def is_sequential_loop(node: IterationNode, plan: Plan) -> bool:
    """Whether this iteration is laid out as a loop over its items rather than a Map."""
    return not node.is_parallel and writes_conversation(node.id, plan)


def state_variable(iteration_id: str) -> str:
    return f"s_{variable_name(iteration_id)}"


def check_state_name(iteration_id: str) -> str:
    return f"{iteration_id}: next item?"


def lower_sequential_iteration(
    step: Step, ctx: Context, next_state: str
) -> dict[str, dict[str, Any]]:
    # Imported here: iteration.py dispatches to this module.
    from signoff.compiler.lowering.iteration import items_expression, output_expression

    node = step.node
    assert isinstance(node, IterationNode)
    emitter = ctx.emitter
    scope = ctx.scope
    body = ctx.plan.scope_plans[node.id].block
    sequence = f"${state_variable(node.id)}"
    done = f"$count({sequence}.results)"
    check = check_state_name(node.id)
    collect = f"{node.id}: item done"
    failed = f"{node.id}: item failed"
    completed = progress.completed_state_name(node.id)
    scope.declared[state_variable(node.id)] = None
    scope.declared[item_name(node.id)] = None

    listed = jsonata.selector_value(node.iterator_selector, ctx.variables)
    numbered = (
        f"($l := {items_expression(node, ctx)}; "
        '[$map($l, function($v, $i) { {"item": $v, "index": $i} })])'
    )
    started = progress.started_task(
        node,
        ctx,
        check,
        inputs=f'{{"iterator_selector": {listed}}}',
        assign={
            state_variable(node.id): jsonata.template(f'{{"items": {numbered}, "results": []}}')
        },
    )
    # Past its first state, no state's input is an item of an iteration around this one.
    inside = ctx.at(scope)

    before = set(scope.declared)
    keeps_going = node.error_handle_mode != "terminated"
    saved_fail_state = scope.fail_state
    if keeps_going:
        # A failing state of the body goes on with the next item instead of failing the run.
        scope.fail_state = failed
    try:
        body_states = emitter.block(body, inside, collect)
    finally:
        scope.fail_state = saved_fail_state
    # What the body assigns in this scope, cleared as each item begins.
    recorded = [name for name in scope.declared if name not in before]
    first = emitter.entry_of(body.items[0]) if body.items else collect
    if progress.body_entry(node.id, ctx.plan) is None:
        # No Lambda begins the item: one of its own says iteration.next.
        next_item = progress.next_state_name(node)
        body_states[next_item] = progress.progress_task(
            inside, [progress.notice(node, "next", inside)], first, catch_node=node.id
        )
        first = next_item

    leave_assign: dict[str, Any] = {
        outputs_name(node.id): jsonata.template(
            f'{{"output": {output_expression(node).replace(_MAP_RESULTS, f"{sequence}.results")}}}'
        )
    }
    if step.records_handle:
        leave_assign[handle_name(node.id)] = SOURCE_HANDLE
    leave = {
        "Condition": jsonata.template(f"{done} >= $count({sequence}.items)"),
        "Assign": leave_assign,
        "Next": completed,
    }
    again = {
        "Condition": "{% true %}",
        "Assign": {
            **dict.fromkeys(recorded),
            item_name(node.id): jsonata.template(f"{sequence}.items[{done}]"),
        },
        "Next": first,
    }
    output = jsonata.selector_value(node.output_selector, inside.variables)
    states: dict[str, dict[str, Any]] = {
        step.state_name: started,
        check: {"Type": "Choice", "Choices": [leave, again]},
        **body_states,
        collect: _append_result(sequence, f'{{"{_VALUE}": {output}}}', check),
    }
    if keeps_going and _is_caught_into(states, failed):
        result = (
            f'{{"{_VALUE}": null}}'
            if node.error_handle_mode == "continue-on-error"
            else f'{{"{_FAILED}": true}}'
        )
        states[failed] = _append_result(sequence, result, check)
    states[completed] = progress.completed_task(
        node,
        inside,
        next_state,
        outputs=f"${outputs_name(node.id)}",
        steps=f"$count({sequence}.items)",
    )
    return states


def _append_result(sequence: str, result: str, next_state: str) -> dict[str, Any]:
    name = sequence.removeprefix("$")
    return {
        "Type": "Pass",
        "Assign": {
            name: jsonata.template(
                f'$merge([{sequence}, {{"results": $append({sequence}.results, [{result}])}}])'
            )
        },
        "Next": next_state,
    }


def _is_caught_into(states: dict[str, dict[str, Any]], target: str) -> bool:
    return any(
        rule.get("Next") == target for state in states.values() for rule in state.get("Catch", [])
    )
