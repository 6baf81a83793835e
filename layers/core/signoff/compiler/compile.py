"""A workflow graph to an ASL state machine definition (JSONata query language).

Staged: validate, plan (each scope's layout and guards), lay out the states (each node lowered
by its own module), then assemble. Pure: no AWS calls, no I/O; the same graph always gives the
same dict.
"""

from __future__ import annotations

from typing import Any, Literal

from signoff.compiler.emit import Emitter
from signoff.compiler.lowering.common import FAILED, INIT, SETTLE_FAILED, SETTLE_SUCCEEDED
from signoff.compiler.lowering.settle import lower_settle
from signoff.compiler.lowering.start import (
    RESUME,
    lower_init,
    lower_resume_dispatch,
    run_expression,
)
from signoff.compiler.plan import Plan, plan_workflow
from signoff.compiler.structure import NodeItem
from signoff.compiler.target import CompileTarget
from signoff.compiler.variables import TOP_KEY, AslScope, Variables
from signoff.errors import GraphInvalid
from signoff.graph.model import EndNode, Workflow
from signoff.graph.validation import validate_workflow

# normal: the workflow as drawn; step: a pause for a person after every work node; resume: begins
# at a given node with given variables (a retry). Each variant is a state machine of its own, so
# normal runs pay nothing for the others.
Variant = Literal["normal", "step", "resume"]
VARIANTS: tuple[str, ...] = ("normal", "step", "resume")


def compile_workflow(
    workflow: Workflow, target: CompileTarget, variant: Variant = "normal"
) -> dict[str, Any]:
    """The state machine definition of a workflow; GraphInvalid if the workflow has issues."""
    if variant not in VARIANTS:
        raise ValueError(f"no state machine variant {variant!r}: one of {', '.join(VARIANTS)}")
    issues = validate_workflow(workflow)
    if issues:
        raise GraphInvalid(issues)
    plan = plan_workflow(workflow)
    emitter = Emitter(plan, target, variant)
    top = AslScope(key=TOP_KEY, kind="top")
    emitter.homes[plan.start.id] = top
    ctx = emitter.context(top)
    body = emitter.block(plan.top.block, ctx, SETTLE_SUCCEEDED)
    first = emitter.entry_of(plan.top.block.items[0]) if plan.top.block.items else SETTLE_SUCCEEDED

    # The run's outputs are read at the top level, after everything: every end node's outputs.
    reader = Variables(top, emitter.homes, emitter.iterations)
    ends = [
        reader.outputs(node.id)
        for node_id in plan.top.order
        if isinstance(node := plan.steps[node_id].node, EndNode)
    ]
    settle = lower_settle(target, ends)
    emitter.finish()

    states: dict[str, dict[str, Any]] = {}
    if variant == "resume":
        states.update(
            lower_init(
                top,
                plan.start.id,
                RESUME,
                resumable=emitter.homes,
                branch_scopes=emitter.scopes,
                run=run_expression(workflow),
            )
        )
        states.update(lower_resume_dispatch(_resume_entries(plan, emitter), first))
    else:
        states.update(lower_init(top, plan.start.id, first, run=run_expression(workflow)))
    states.update(body)
    states.update(settle)
    if not _catches_lead_to(states, SETTLE_FAILED) and not _leads_to(states, SETTLE_FAILED):
        # Nothing here can fail by a Catch (logic nodes only): no unreachable failure path.
        del states[SETTLE_FAILED], states[FAILED]
    comment = f"signoff workflow {workflow.name}"
    if workflow.description:
        comment += f": {workflow.description.strip()}"
    definition: dict[str, Any] = {
        "Comment": comment,
        "QueryLanguage": "JSONata",
        "StartAt": INIT,
        "States": states,
    }
    if workflow.timeout_seconds is not None:
        definition["TimeoutSeconds"] = workflow.timeout_seconds
    return definition


def _catches_lead_to(states: dict[str, dict[str, Any]], target: str) -> bool:
    return any(rule.get("Next") == target for s in states.values() for rule in s.get("Catch", []))


def _leads_to(states: dict[str, dict[str, Any]], target: str) -> bool:
    return any(state.get("Next") == target for state in states.values())


def _resume_entries(plan: Plan, emitter: Emitter) -> list[tuple[list[str], str]]:
    """For each item of the top level, the nodes it runs and the state to jump to for them: a
    node's own state (past its guard: it runs again), or a Parallel's or container's."""
    entries: list[tuple[list[str], str]] = []
    for item in plan.top.block.items:
        if isinstance(item, NodeItem):
            node_ids = [item.node_id]
            if item.node_id in plan.scopes.containers:
                node_ids += sorted(plan.scopes.descendants(item.node_id))
            entries.append((node_ids, plan.steps[item.node_id].state_name))
        else:
            node_ids = []
            for branch in item.branches:
                for node_id in branch.node_ids():
                    node_ids.append(node_id)
                    if node_id in plan.scopes.containers:
                        node_ids += sorted(plan.scopes.descendants(node_id))
            entries.append((node_ids, emitter.entry_of(item)))
    return entries
