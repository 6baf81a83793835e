"""loop -> a Task setting the loop variables (and saying loop.started: progress.py), and a
Choice that runs the child nodes again or leaves (through a Task saying loop.completed): a back
edge with a round counter.

`$n_<loop>` holds the loop variables and `loop_round` (the loop's outputs; the children read
and assigners change the variables there). Before the first round and after each, the Choice
leaves when `loop_count` rounds ran, a loop-end node was reached, or the break conditions hold;
otherwise it clears what the children recorded in the last round (so a node skipped this round
reads as skipped) and runs them again.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import progress
from signoff.compiler.lowering.common import Context
from signoff.compiler.lowering.operators import conditions_expression
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import LOOP_ROUND, SOURCE_HANDLE, LoopEndNode, LoopNode, LoopVariable


def next_round_state_name(node_id: str) -> str:
    return f"{node_id}: next round?"


def initial_value(variable: LoopVariable, ctx: Context) -> str:
    if variable.value_type == "variable":
        return jsonata.selector_value(variable.value, ctx.variables)
    value = variable.value
    if isinstance(value, str) and variable.var_type.startswith(("array", "object")):
        # Dify's editor keeps list and object constants as JSON text.
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if value is None and variable.var_type.startswith("array"):
        value = []
    return jsonata.literal(value)


def lower_loop(step: Step, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    assert isinstance(node, LoopNode)
    emitter = ctx.emitter
    check = next_round_state_name(node.id)
    body = ctx.plan.scope_plans[node.id].block
    outputs = outputs_name(node.id)

    entries = ", ".join(
        f"{jsonata.literal(variable.label)}: {initial_value(variable, ctx)}"
        for variable in node.loop_variables
    )
    # The loop's own state sets its variables and says loop.started (a Task, where a Pass would
    # do, so the event costs no transition).
    init = progress.started_task(
        node,
        ctx,
        check,
        inputs=f"{{{entries}}}",
        extra={"metadata": {"loop_length": node.loop_count}},
        assign={
            outputs: jsonata.template(
                f"{{{entries}{', ' if entries else ''}{jsonata.literal(LOOP_ROUND)}: 0}}"
            )
        },
    )
    # Past its first state, no state's input is an item of an iteration around the loop.
    inside = ctx.at(ctx.scope)

    before = set(ctx.scope.declared)
    body_states = emitter.block(body, inside, check)
    # What the children assign in this scope, cleared as each round begins.
    recorded = [name for name in ctx.scope.declared if name not in before]
    first = emitter.entry_of(body.items[0]) if body.items else check
    if progress.body_entry(node.id, ctx.plan) is None:
        # No Lambda begins the round: one of its own says loop.next.
        next_round = progress.next_state_name(node)
        body_states[next_round] = progress.progress_task(
            inside, [progress.notice(node, "next", inside)], first, catch_node=node.id
        )
        first = next_round

    variables = inside.variables
    stops = [f"${outputs}.{LOOP_ROUND} >= {node.loop_count}"]
    ends = [
        member
        for member in ctx.plan.scopes.members.get(node.id, [])
        if isinstance(ctx.plan.steps[member].node, LoopEndNode)
    ]
    stops += [f"{variables.handle(member)} != null" for member in ends]
    if node.break_conditions:
        stops.append(
            f"({conditions_expression(node.break_conditions, node.logical_operator, variables)})"
        )
    completed = progress.completed_state_name(node.id)
    leave: dict[str, Any] = {"Condition": jsonata.template(" or ".join(stops)), "Next": completed}
    if step.records_handle:
        leave["Assign"] = {handle_name(node.id): SOURCE_HANDLE}
    again = {
        "Condition": "{% true %}",
        "Assign": {
            # Back to their declared values: null, and round 1 for a reviewed node's rounds.
            **{name: ctx.scope.declared[name] for name in recorded},
            outputs: jsonata.template(
                f"$merge([${outputs}, {{{jsonata.literal(LOOP_ROUND)}:"
                f" ${outputs}.{LOOP_ROUND} + 1}}])"
            ),
        },
        "Next": first,
    }
    states = {
        step.state_name: init,
        check: {"Type": "Choice", "Choices": [leave, again]},
        **body_states,
        completed: progress.completed_task(
            node,
            inside,
            next_state,
            outputs=f"${outputs}",
            steps=f"${outputs}.{LOOP_ROUND}",
        ),
    }
    return states
