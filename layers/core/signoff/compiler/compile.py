"""A workflow graph to an ASL state machine definition (JSONata query language).

Staged: validate, plan the schedule (order and guards), lower each node with its own module,
then assemble the states. Pure: no AWS calls, no I/O; the same graph always gives the same dict.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler.lowering.common import INIT, SETTLE_SUCCEEDED
from signoff.compiler.lowering.end import lower_end
from signoff.compiler.lowering.guard import lower_guard
from signoff.compiler.lowering.if_else import lower_if_else
from signoff.compiler.lowering.settle import lower_settle
from signoff.compiler.lowering.start import lower_init
from signoff.compiler.lowering.work import lower_work
from signoff.compiler.plan import Step, plan_workflow
from signoff.compiler.target import CompileTarget
from signoff.errors import GraphInvalid
from signoff.graph.model import (
    CodeNode,
    EndNode,
    IfElseNode,
    StartNode,
    TemplateTransformNode,
    Workflow,
)
from signoff.graph.validation import validate_workflow


def _lower_node(step: Step, target: CompileTarget, next_state: str) -> dict[str, dict[str, Any]]:
    node = step.node
    if isinstance(node, CodeNode | TemplateTransformNode):
        return lower_work(step, target, next_state)
    if isinstance(node, IfElseNode):
        return lower_if_else(step, next_state)
    if isinstance(node, EndNode):
        return lower_end(step, next_state)
    raise TypeError(f"no lowering for node type {node.type}")


def _first_not_skipped_with(steps: list[Step], position: int, workflow: Workflow) -> int:
    """Where a guard that skips steps[position] goes: past the steps right after it that can
    only be reached through skipped nodes (a skipped branch is left in one jump, not node by
    node; every skipped node's variables simply stay null)."""
    skipped = {steps[position].node.id}
    following = position + 1
    while following < len(steps):
        node_id = steps[following].node.id
        sources = {edge.source for edge in workflow.edges if edge.target == node_id}
        if not sources or not sources <= skipped:
            break
        skipped.add(node_id)
        following += 1
    return following


def compile_workflow(workflow: Workflow, target: CompileTarget) -> dict[str, Any]:
    """The state machine definition of a workflow; GraphInvalid if the workflow has issues."""
    issues = validate_workflow(workflow)
    if issues:
        raise GraphInvalid(issues)
    plan = plan_workflow(workflow)
    steps = [step for step in plan.steps if not isinstance(step.node, StartNode)]
    entries = [step.entry_state_name for step in steps] + [SETTLE_SUCCEEDED]

    states: dict[str, dict[str, Any]] = lower_init(plan, entries[0])
    for position, step in enumerate(steps):
        after = entries[position + 1]
        if step.guard:
            skip_to = entries[_first_not_skipped_with(steps, position, workflow)]
            states.update(lower_guard(step, skip_to=skip_to))
        states.update(_lower_node(step, target, after))
    states.update(lower_settle(target))

    comment = f"signoff workflow {workflow.name}"
    if workflow.description:
        comment += f": {workflow.description.strip()}"
    return {
        "Comment": comment,
        "QueryLanguage": "JSONata",
        "StartAt": INIT,
        "States": states,
    }
