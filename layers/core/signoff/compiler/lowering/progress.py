"""Iteration and loop progress: where the node function hears an iteration or loop begin, move
on to its next item or round, and end.

No Lambda runs at these points on their own (a Map's start, items and end are Step Functions'
transitions; a loop is a Pass and a Choice), so the events ride on Lambda invocations:
- started: the container's own state (`<id>`, its entry) is a Task on the node function with a
  progress request (`{"request": "progress", "run", "progress": [notices]}`) -- for a loop it
  replaces the Pass that set the loop variables (no extra transition), for an iteration it comes
  before the Map (`<id>: items`), +1 transition. It answers `{started_at}`, kept in `$t_<id>`.
- next: the Lambda that begins each item or round (the body's first node, when it is a work node
  or a nested iteration or loop, and always runs) carries a `progress` notice in its payload: no
  extra transition. When the body begins otherwise (a native node, a guard, nothing), a progress
  Task begins each item (`<id>: next item`) or round (`<id>: next round`), +1 per item or round.
- completed: a progress Task after the Map (`<id>: completed`) or on the loop's way out, +1.

Every work node inside a container also gets `scope` in its payload (iteration_id /
iteration_index, loop_id / loop_index, the innermost of each), for its node.* events.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context, invoke
from signoff.compiler.plan import Plan
from signoff.compiler.structure import ParallelItem
from signoff.graph.model import LOOP_ROUND, IterationNode, LoopNode, Node
from signoff.graph.validation import variable_name

PROGRESS_REQUEST = "progress"
ITERATION = "iteration"
LOOP = "loop"
_NEXT_STATE_NAMES = {ITERATION: "{}: next item", LOOP: "{}: next round"}


def started_at_name(container_id: str) -> str:
    """The variable holding when a container began (its started event's time)."""
    return f"t_{variable_name(container_id)}"


def items_state_name(iteration_id: str) -> str:
    return f"{iteration_id}: items"


def completed_state_name(container_id: str) -> str:
    return f"{container_id}: completed"


def next_state_name(container: Node) -> str:
    return _NEXT_STATE_NAMES[container.type].format(container.id)


def index_expression(container_id: str, ctx: Context) -> str:
    """The current item's index (0-based) or round (0-based) of a container around the reader.
    A loop's `loop_round` is raised as each round begins, so round i runs with loop_round i+1."""
    if ctx.plan.scopes.containers[container_id] == ITERATION:
        return f"{ctx.variables.item(container_id)}.index"
    return f"{ctx.variables.outputs(container_id)}.{LOOP_ROUND} - 1"


def scope_fields(node_id: str, ctx: Context) -> dict[str, Any] | None:
    """Where a node inside iterations or loops runs (the innermost of each); None at the top."""
    scopes = ctx.plan.scopes
    chain = scopes.enclosing(node_id)
    if not chain:
        return None
    fields: dict[str, Any] = {}
    for kind in (ITERATION, LOOP):
        container = next((c for c in chain if scopes.containers.get(c) == kind), None)
        fields[f"{kind}_id"] = container
        fields[f"{kind}_index"] = (
            jsonata.template(index_expression(container, ctx)) if container else None
        )
    return fields


def body_entry(container_id: str, plan: Plan) -> str | None:
    """The node whose Lambda begins every item or round of a container: the body's first node
    (the first branch's, through Parallels) when it always runs and is a work node or a nested
    container (whose started Task is a Lambda). None when the body begins otherwise."""
    block = plan.scope_plans[container_id].block
    while block.items:
        first = block.items[0]
        if isinstance(first, ParallelItem):
            block = first.branches[0]
            continue
        step = plan.steps[first.node_id]
        node = step.node
        runs_lambda = node.runs_in_node_function or isinstance(node, IterationNode | LoopNode)
        return node.id if step.guard is None and runs_lambda else None
    return None


def next_notice(node_id: str, ctx: Context) -> dict[str, Any] | None:
    """The `next` notice a node's Lambda carries when it begins its container's items or rounds."""
    container_id = ctx.plan.scopes.scope_of(node_id)
    if container_id is None or body_entry(container_id, ctx.plan) != node_id:
        return None
    return notice(ctx.plan.steps[container_id].node, "next", ctx)


def notice(container: Node, moment: str, ctx: Context, **fields: Any) -> dict[str, Any]:
    """One progress notice: `<type>.<moment>` of a container (`fields`: its data's values)."""
    body: dict[str, Any] = {
        "type": f"{container.type}.{moment}",
        "node_id": container.id,
        "node_type": container.type,
        "title": jsonata.plain(container.title or container.id),
    }
    if moment == "next":
        body["index"] = jsonata.template(index_expression(container.id, ctx))
    body.update(fields)
    return body


def progress_task(
    ctx: Context, notices: list[dict[str, Any]], next_state: str, *, catch_node: str
) -> dict[str, Any]:
    """A Task asking the node function to emit `notices`; it passes its input on."""
    state = invoke(
        ctx.target.node_function_arn,
        {"request": PROGRESS_REQUEST, "run": "{% $run %}", "progress": notices},
    )
    state["Output"] = "{% $states.input %}"
    state["Catch"] = [ctx.catch_node(catch_node)]
    state["Next"] = next_state
    return state


def started_task(
    container: Node,
    ctx: Context,
    next_state: str,
    *,
    inputs: str,
    extra: dict[str, Any] | None = None,
    assign: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The container's started Task (`inputs`: a JSONata expression of an object; `extra`: more
    fields of its notice), which also carries the `next` notice of the container around it when
    it begins that one's items or rounds. `assign`: what the state assigns besides."""
    notices = []
    outer = next_notice(container.id, ctx)
    if outer is not None:
        notices.append(outer)
    notices.append(
        notice(container, "started", ctx, inputs=jsonata.template(inputs), **(extra or {}))
    )
    ctx.scope.declared[started_at_name(container.id)] = None
    state = progress_task(ctx, notices, next_state, catch_node=container.id)
    state["Assign"] = {
        **(assign or {}),
        started_at_name(container.id): "{% $states.result.Payload.started_at %}",
    }
    return state


def completed_task(
    container: Node, ctx: Context, next_state: str, *, outputs: str, steps: str
) -> dict[str, Any]:
    """The container's completed Task: its outputs and how many items or rounds ran."""
    completed = notice(
        container,
        "completed",
        ctx,
        outputs=jsonata.template(outputs),
        started_at=jsonata.template(f"${started_at_name(container.id)}"),
        steps=jsonata.template(steps),
    )
    return progress_task(ctx, [completed], next_state, catch_node=container.id)
