"""human-input -> a wait on a person who fills in a form (docs/internals.md, "Reviews").

    <node> (waitForTaskToken, kind human-input) --submit--> what follows ($r_<node> := action id)
       '-(timeout)-> Expire <node> review --> what follows ($r_<node> := "__timeout")
                                         '--> Fail <node> review, when no edge leaves by
                                              `__timeout`

The wait hands the review function the form and the variables its text and defaults name; the
function renders it and gives it a form token (signoff.reviews.form_content). A submission comes
back as the Task's result `{action: "submit", action_id, inputs, patch, ...}`: `$n_<node>` :=
the inputs with `__action_id`, and the action id is the handle the node leaves by, so the guards
of the nodes after it pick the branch. One transition per form, two when it times out.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context, invoke, lambda_service_retry
from signoff.compiler.lowering.review import (
    WAIT_FOR_TOKEN,
    _fail_state,
    _node_ref,
    _patched,
    expire_state_name,
    rejected_state_name,
    with_scope,
)
from signoff.compiler.lowering.work import payload_variables
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import ACTION_ID_OUTPUT, TIMEOUT_HANDLE, HumanInputNode

KIND = "human-input"
# The error type a form nobody submitted in time ends its node with (no `__timeout` edge).
FORM_TIMED_OUT = "HumanInputTimedOut"
_DECISION = "$states.result"

States = dict[str, dict[str, Any]]


def has_timeout_branch(step: Step, ctx: Context) -> bool:
    node_id = step.node.id
    return any(
        edge.source == node_id and edge.source_handle == TIMEOUT_HANDLE
        for edge in ctx.plan.workflow.edges
    )


def lower_human_input(step: Step, ctx: Context, next_state: str) -> States:
    node = step.node
    assert isinstance(node, HumanInputNode)
    function_arn = ctx.target.review_function_arn
    if function_arn is None:
        raise ValueError("a workflow that waits on a person needs the review function's ARN")
    node_id = node.id
    wait: dict[str, Any] = {
        "Type": "Task",
        "Resource": WAIT_FOR_TOKEN,
        "Arguments": {
            "FunctionName": function_arn,
            "Payload": with_scope(
                {
                    "action": "request",
                    "run": "{% $run %}",
                    "kind": KIND,
                    "node": _node_ref(node),
                    "round": 1,
                    "outputs": None,
                    "settings": jsonata.plain(node.form()),
                    # What the form's text and variable defaults name, to render it with.
                    "variables": payload_variables(node, ctx),
                    "task_token": "{% $states.context.Task.Token %}",
                },
                node_id,
                ctx,
            ),
        },
        # A repeated request renews the pending review's token: a retry is safe.
        "Retry": [lambda_service_retry()],
    }
    if node.wait_seconds is not None:
        wait["TimeoutSeconds"] = node.wait_seconds
    submitted = (
        f"$merge([{_DECISION}.inputs, {{{jsonata.literal(ACTION_ID_OUTPUT)}: "
        f"{_DECISION}.action_id}}])"
    )
    assign: dict[str, Any] = {
        **_patched(ctx, _DECISION, skip=node_id),
        outputs_name(node_id): jsonata.template(submitted),
    }
    if step.records_handle:
        assign[handle_name(node_id)] = jsonata.template(f"{_DECISION}.action_id")
    wait["Assign"] = assign
    wait["Output"] = jsonata.template(_DECISION)
    catches: list[dict[str, Any]] = []
    if node.wait_seconds is not None:
        catches.append({"ErrorEquals": ["States.Timeout"], "Next": expire_state_name(node_id)})
    catches.append(ctx.catch_node(node_id))
    wait["Catch"] = catches
    wait["Next"] = next_state
    states: States = {step.state_name: wait}
    if node.wait_seconds is not None:
        states.update(_expiry(step, ctx, next_state))
    return states


def _expiry(step: Step, ctx: Context, next_state: str) -> States:
    """Nobody submitted in time: close the review, then the `__timeout` branch or a failure."""
    node = step.node
    assert isinstance(node, HumanInputNode)
    node_id = node.id
    expire = invoke(
        ctx.target.review_function_arn or "",
        with_scope(
            {
                "action": "expire",
                "run": "{% $run %}",
                "kind": KIND,
                "node": _node_ref(node),
                "round": 1,
            },
            node_id,
            ctx,
        ),
    )
    expire["Catch"] = [ctx.catch_node(node_id)]
    states: States = {expire_state_name(node_id): expire}
    if has_timeout_branch(step, ctx):
        assign: dict[str, Any] = {outputs_name(node_id): {ACTION_ID_OUTPUT: TIMEOUT_HANDLE}}
        if step.records_handle:
            assign[handle_name(node_id)] = TIMEOUT_HANDLE
        expire["Assign"] = assign
        expire["Next"] = next_state
        return states
    failed = rejected_state_name(node_id)
    message = f"nobody submitted the form of node {node_id} within {node.wait_seconds} seconds"
    states[failed] = _fail_state(ctx, node_id, FORM_TIMED_OUT, message)
    expire["Next"] = failed
    return states
