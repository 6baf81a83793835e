"""Waits on a person after a work node (docs/internals.md, "Reviews"): a node's `review`, and in
the "step" variant a pause after every work node.

A wait is a `lambda:invoke.waitForTaskToken` Task on the review function, which stores the review
and pauses the run; the decision comes back as the Task's result, `{action, feedback, outputs,
patch, ...}`. Every decision may carry `patch`: the variable edits made while the run was paused,
which replace the outputs of the nodes they name (those whose variables this scope assigns).

A review (`review` settings):

    <node> -> Review <node> -> Decide on <node> --revise--> <node> (next round)
                  |                 |--edit/approve--> what follows
                  '-(timeout)-> Expire <node> review -> on_timeout's route

A step pause is one state: the Task itself assigns the decision (approve, or edit's outputs) and
goes on, so a step costs one transition per node, and the normal variant none.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import progress
from signoff.compiler.lowering.common import (
    SETTLE_FAILED,
    Context,
    invoke,
    lambda_service_retry,
)
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import ERROR_OUTPUTS, FAIL_BRANCH_HANDLE, Node
from signoff.graph.validation import variable_name

WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"
DECISION = "$states.result"
# Error types a review ends a node or run with (the run's error names them).
REVIEW_TIMED_OUT = "ReviewTimedOut"
REVIEW_ROUNDS_EXHAUSTED = "ReviewRoundsExhausted"

States = dict[str, dict[str, Any]]


def feedback_name(node_id: str) -> str:
    return f"fb_{variable_name(node_id)}"


def previous_name(node_id: str) -> str:
    return f"prev_{variable_name(node_id)}"


def round_name(node_id: str) -> str:
    return f"round_{variable_name(node_id)}"


def review_state_name(node_id: str) -> str:
    return f"Review {node_id}"


def decide_state_name(node_id: str) -> str:
    return f"Decide on {node_id}"


def expire_state_name(node_id: str) -> str:
    return f"Expire {node_id} review"


def rejected_state_name(node_id: str) -> str:
    return f"Fail {node_id} review"


def step_state_name(node_id: str) -> str:
    return f"Step {node_id}"


def declare_review(step: Step, ctx: Context) -> None:
    """The variables of a reviewed node's rounds, declared where its scope begins."""
    node_id = step.node.id
    ctx.scope.declared[feedback_name(node_id)] = None
    ctx.scope.declared[previous_name(node_id)] = None
    ctx.scope.declared[round_name(node_id)] = 1


def rerun_fields(node_id: str) -> dict[str, str]:
    """What a reviewed node's Task adds to the node function's event: the reviewer's feedback
    and the outputs it was given on (null in the first round)."""
    return {
        "feedback": jsonata.template(f"${feedback_name(node_id)}"),
        "previous_output": jsonata.template(f"${previous_name(node_id)}"),
    }


def _node_ref(node: Node) -> dict[str, Any]:
    return {"id": node.id, "type": node.type, "title": jsonata.plain(node.title)}


def wait_scope(node_id: str, ctx: Context) -> dict[str, Any] | None:
    """Where a wait inside iterations and loops happens: the innermost iteration and loop with
    their indexes (as a node's `scope`), and `path`, every container around it outermost first
    with its item's or round's index. None at the top level. The review function keeps it on the
    review, so each item's (and round's) wait is a review of its own."""
    fields = progress.scope_fields(node_id, ctx)
    if fields is None:
        return None
    chain = reversed(ctx.plan.scopes.enclosing(node_id))
    fields["path"] = [
        {
            "container_id": container_id,
            "index": jsonata.template(progress.index_expression(container_id, ctx)),
        }
        for container_id in chain
    ]
    return fields


def with_scope(payload: dict[str, Any], node_id: str, ctx: Context) -> dict[str, Any]:
    """A review function payload, with the wait's `scope` when it is inside a container."""
    scope = wait_scope(node_id, ctx)
    if scope is not None:
        payload["scope"] = scope
    return payload


def _wait(
    node: Node, ctx: Context, kind: str, round_: int | str, settings: dict[str, Any]
) -> dict[str, Any]:
    function_arn = ctx.target.review_function_arn
    if function_arn is None:
        raise ValueError("a workflow that waits on a person needs the review function's ARN")
    return {
        "Type": "Task",
        "Resource": WAIT_FOR_TOKEN,
        "Arguments": {
            "FunctionName": function_arn,
            "Payload": with_scope(
                {
                    "action": "request",
                    "run": "{% $run %}",
                    "kind": kind,
                    "node": _node_ref(node),
                    "round": round_,
                    "outputs": jsonata.template(ctx.variables.outputs(node.id)),
                    "settings": jsonata.plain(settings),
                    "task_token": "{% $states.context.Task.Token %}",
                },
                node.id,
                ctx,
            ),
        },
        # A repeated request renews the pending review's token: a retry is safe.
        "Retry": [lambda_service_retry()],
    }


def _patched(ctx: Context, decision: str, *, skip: str | None = None) -> dict[str, str]:
    """Assign entries replacing, from the decision's `patch`, the outputs of every node whose
    variables this scope assigns (those of an outer scope cannot be assigned from here)."""
    assign: dict[str, str] = {}
    for node_id, home in ctx.emitter.homes.items():
        name = outputs_name(node_id)
        if home is not ctx.scope or node_id == skip:
            continue
        if name not in ctx.scope.declared and node_id != ctx.plan.start.id:
            continue  # a node with no outputs variable (an if-else, an assigner)
        patch = f"{decision}.patch.{jsonata.field_name(node_id)}"
        assign[name] = jsonata.template(f"$exists({patch}) ? {patch} : ${name}")
    return assign


def _fail_state(ctx: Context, node_id: str, error: str, cause: str) -> dict[str, Any]:
    """A Pass ending the run (or the branch) with a failure of the node, as a Catch would."""
    failure = {"node_id": node_id, "error": error, "cause": jsonata.plain(cause)}
    if ctx.scope.fail_state is None:
        return {"Type": "Pass", "Assign": {"failure": failure}, "Next": SETTLE_FAILED}
    return {"Type": "Pass", "Output": failure, "Next": ctx.scope.fail_state}


def lower_review(step: Step, ctx: Context, next_state: str) -> States:
    """The wait after a reviewed node's Task (whose Next is `review_state_name`)."""
    node = step.node
    assert node.review is not None
    settings = node.review
    node_id = node.id
    outputs = outputs_name(node_id)
    rounds = f"${round_name(node_id)}"
    wait = _wait(node, ctx, "review", jsonata.template(rounds), settings.model_dump(mode="json"))
    if settings.timeout is not None:
        wait["TimeoutSeconds"] = settings.timeout
    wait["Output"] = jsonata.template(DECISION)
    wait["Catch"] = [
        {"ErrorEquals": ["States.Timeout"], "Next": expire_state_name(node_id)},
        ctx.catch_node(node_id),
    ]
    wait["Next"] = decide_state_name(node_id)

    decision = "$states.input"
    revise = f'{decision}.action = "revise"'
    choices: list[dict[str, Any]] = [
        {
            "Condition": jsonata.template(f"{revise} and {rounds} < {settings.max_rounds}"),
            "Assign": {
                **_patched(ctx, decision, skip=node_id),
                feedback_name(node_id): jsonata.template(f"{decision}.feedback"),
                previous_name(node_id): jsonata.template(f"${outputs}"),
                round_name(node_id): jsonata.template(f"{rounds} + 1"),
            },
            "Next": step.state_name,
        }
    ]
    states: States = {}
    if settings.on_max_rounds == "fail":
        failed = rejected_state_name(node_id)
        cause = f"node {node_id} was sent back {settings.max_rounds} times without approval"
        states[failed] = _fail_state(ctx, node_id, REVIEW_ROUNDS_EXHAUSTED, cause)
        choices.append({"Condition": jsonata.template(revise), "Next": failed})
    choices.append(
        {
            "Condition": jsonata.template(f'{decision}.action = "edit"'),
            "Assign": {
                **_patched(ctx, decision, skip=node_id),
                outputs: jsonata.template(f"{decision}.outputs"),
            },
            "Next": next_state,
        }
    )
    # approve (and revise once the rounds are used up, with on_max_rounds approve)
    choices.append(
        {"Condition": "{% true %}", "Assign": _patched(ctx, decision), "Next": next_state}
    )
    states[review_state_name(node_id)] = wait
    states[decide_state_name(node_id)] = {"Type": "Choice", "Choices": choices}
    states.update(_expiry(step, ctx, next_state))
    return states


def _expiry(step: Step, ctx: Context, next_state: str) -> States:
    """The wait timed out: close the review through the review function, then on_timeout."""
    node = step.node
    assert node.review is not None
    on_timeout = node.review.on_timeout
    node_id = node.id
    expire = invoke(
        ctx.target.review_function_arn or "",
        with_scope(
            {
                "action": "expire",
                "run": "{% $run %}",
                "kind": "review",
                "node": _node_ref(node),
                "round": jsonata.template(f"${round_name(node_id)}"),
            },
            node_id,
            ctx,
        ),
    )
    expire["Catch"] = [ctx.catch_node(node_id)]
    expire["Next"] = next_state
    states: States = {expire_state_name(node_id): expire}
    message = f"nobody reviewed node {node_id} within {node.review.timeout} seconds"
    defaults = {entry.key: entry.value for entry in node.default_value}
    error_outputs = dict(zip(ERROR_OUTPUTS, (REVIEW_TIMED_OUT, message), strict=True))
    if on_timeout == "default":
        expire["Assign"] = {outputs_name(node_id): jsonata.plain(defaults)}
    elif on_timeout == "reject" and node.error_strategy is not None:
        # The node fails, and its error strategy handles that as any failure of it.
        assign: dict[str, Any] = {
            outputs_name(node_id): jsonata.plain(
                {**defaults, **error_outputs}
                if node.error_strategy == "default-value"
                else error_outputs
            )
        }
        if step.records_handle and node.error_strategy == "fail-branch":
            assign[handle_name(node_id)] = FAIL_BRANCH_HANDLE
        assign.update(ctx.count_exception('"exception"'))
        expire["Assign"] = assign
    elif on_timeout in ("reject", "fail"):
        failed = rejected_state_name(node_id)
        states[failed] = _fail_state(ctx, node_id, REVIEW_TIMED_OUT, message)
        expire["Next"] = failed
    return states


def lower_step(step: Step, ctx: Context, next_state: str) -> States:
    """The step-mode pause after a work node: approve goes on, edit replaces its outputs."""
    node = step.node
    decision = DECISION
    outputs = outputs_name(node.id)
    patch = f"{decision}.patch.{jsonata.field_name(node.id)}"
    own = (
        f'{decision}.action = "edit" ? {decision}.outputs : '
        f"($exists({patch}) ? {patch} : ${outputs})"
    )
    wait = _wait(node, ctx, "step", 1, {})
    wait["Assign"] = {**_patched(ctx, decision, skip=node.id), outputs: jsonata.template(own)}
    wait["Catch"] = [ctx.catch_node(node.id)]
    wait["Next"] = next_state
    return {step_state_name(node.id): wait}
