"""Branches that may run at the same time -> a Parallel state.

Each branch runs in a variable scope of its own (see compiler/variables.py): it declares its
nodes' variables as it begins and ends with an object of those read after the Parallel, which
keeps every branch's object in `$p_<first node>`. A failing node ends its branch with a Fail
state carrying the node's failure; the Parallel's Catch passes it on.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler.lowering import scope_ends
from signoff.compiler.lowering.common import Context, failure_carrier
from signoff.compiler.structure import NodeItem, ParallelItem, first_node_id
from signoff.compiler.variables import parallel_name


def state_name(item: ParallelItem) -> str:
    return f"In parallel: {item.first_node_id}"


def lower_parallel(item: ParallelItem, ctx: Context, next_state: str) -> dict[str, dict[str, Any]]:
    emitter = ctx.emitter
    variable = parallel_name(item.first_node_id)
    ctx.scope.declared[variable] = None
    branches = []
    accumulating = False
    for index, block in enumerate(item.branches):
        first = first_node_id(block)
        scope = emitter.new_scope(
            "branch",
            ctx.scope,
            parallel_variable=variable,
            index=index,
            fail_state=f"Branch {first} failed",
        )
        inner = emitter.context(scope)
        end_name = f"End branch {first}"
        states = emitter.block(block, inner, end_name)
        last = block.items[-1]
        last_state = last.node_id if isinstance(last, NodeItem) else None
        if last_state is not None and emitter.plan.steps[last_state].node.type == "loop":
            last_state = None  # a loop ends from its next-round Choice
        scope_ends.end(
            inner,
            states,
            end_name,
            last_state,
            lambda scope=scope: {
                **scope_ends.accumulated(scope),
                **{name: f"${name}" for name in scope.exports},
            },
        )
        if any(
            rule.get("Next") == scope.fail_state
            for state in states.values()
            for rule in state.get("Catch", [])
        ):
            states[scope.fail_state] = failure_carrier()
        states, entry = scope_ends.begin(
            states,
            emitter.entry_of(block.items[0]),
            scope_ends.declarations(scope),
            f"Begin branch {first}",
        )
        branches.append({"StartAt": entry, "States": states})
        accumulating = accumulating or scope.accumulates
    assign: dict[str, Any] = {variable: "{% $states.result %}"}
    if accumulating:
        assign.update(ctx.add_nested("$states.result", "exceptions", "usage"))
    return {
        state_name(item): {
            "Type": "Parallel",
            "Branches": branches,
            "Assign": assign,
            "Output": {},
            "Catch": [ctx.catch_nested(None)],
            "Next": next_state,
        }
    }
