"""Hand-written state machines that wait on the review function as the compiled ones will
(docs/internals.md, "Reviews"), so the review service and API are tested end to end before the
compiler lowers `review` settings itself.

`drafter` is start(topic) -> draft (a template) -> end(text). Its machine runs `draft`, waits on a
review of its outputs, and then: revise -> `draft` again in the next round; edit -> the edited
outputs; approve -> on; every variable in the decision's `patch` replaces the node's. A wait that
times out is expired through the review function and the run goes on (on_timeout: approve).

`install_workflow` stores a workflow record with such a machine directly (no compiler involved).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from signoff.store.workflows import DynamoWorkflowRepository, WorkflowRecord

_LAMBDA_RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ],
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "BackoffRate": 2,
    }
]

_DRAFTER: dict[str, Any] = {
    "name": "drafter",
    "description": "Drafts a text about a topic; a person reviews the draft.",
    "inputs": [{"variable": "topic", "type": "string", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "draft",
            "type": "template-transform",
            "title": "Draft",
            "template": "A text about {{ topic }}.",
            "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "text", "value_selector": ["draft", "output"]}],
        },
    ],
    "edges": [{"source": "start", "target": "draft"}, {"source": "draft", "target": "end"}],
}


def drafter(**changes: Any) -> dict[str, Any]:
    """start(topic) -> draft ("A text about {{ topic }}.") -> end(text)."""
    return {**copy.deepcopy(_DRAFTER), **changes}


def drafter_machine(
    *,
    node_function: str,
    review_function: str,
    settle_function: str,
    timeout_seconds: int | None = None,
    kind: str = "review",
) -> dict[str, Any]:
    """The drafter's state machine with a review wait after `draft`."""
    draft_node = _DRAFTER["nodes"][1]
    wait: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": review_function,
            "Payload": {
                "action": "request",
                "run": "{% $run %}",
                "kind": kind,
                "node": {"id": "draft", "type": "template-transform", "title": "Draft"},
                "round": "{% $round %}",
                "outputs": "{% $n_draft %}",
                "settings": {"max_rounds": 3, "timeout": timeout_seconds, "on_timeout": "approve"},
                "task_token": "{% $states.context.Task.Token %}",
            },
        },
        "Assign": {"decision": "{% $states.result %}"},
        "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Expire draft review"}],
        "Next": "Decide on draft",
    }
    if timeout_seconds is not None:
        wait["TimeoutSeconds"] = timeout_seconds
    patched = "($exists($decision.patch.{name}) ? $decision.patch.{name} : $n_{name})"
    return {
        "Comment": "drafter, with a review of draft (hand-written for the tests)",
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {
                "Type": "Pass",
                "Assign": {
                    "run": "{% $states.input.run %}",
                    "outputs": {},
                    "n_start": "{% $states.input.inputs %}",
                    "n_draft": None,
                    "round": 1,
                    "decision": None,
                },
                "Next": "draft",
            },
            "draft": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": node_function,
                    "Payload": {
                        "run": "{% $run %}",
                        "node": {
                            "id": "draft",
                            "type": "template-transform",
                            "title": "Draft",
                            "config": {
                                "template": draft_node["template"],
                                "variables": draft_node["variables"],
                            },
                        },
                        "variables": {"start": "{% $n_start %}"},
                        "attempt": "{% $states.context.State.RetryCount + 1 %}",
                    },
                },
                "Retry": _LAMBDA_RETRY,
                "Output": "{% $states.result.Payload %}",
                "Assign": {"n_draft": "{% $states.result.Payload.outputs %}"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {
                            "failure": {
                                "node_id": "draft",
                                "error": "{% $states.errorOutput.Error %}",
                                "cause": "{% $states.errorOutput.Cause %}",
                            }
                        },
                        "Next": "Settle Failed",
                    }
                ],
                "Next": "Review draft",
            },
            "Review draft": wait,
            "Expire draft review": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": review_function,
                    "Payload": {
                        "action": "expire",
                        "run": "{% $run %}",
                        "node": {"id": "draft", "type": "template-transform", "title": "Draft"},
                        "round": "{% $round %}",
                    },
                },
                "Retry": _LAMBDA_RETRY,
                "Next": "end",
            },
            "Decide on draft": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": '{% $decision.action = "revise" %}',
                        "Assign": {
                            "round": "{% $round + 1 %}",
                            "n_start": "{% " + patched.format(name="start") + " %}",
                        },
                        "Next": "draft",
                    },
                    {
                        "Condition": '{% $decision.action = "edit" %}',
                        "Assign": {
                            "n_draft": "{% $decision.outputs %}",
                            "n_start": "{% " + patched.format(name="start") + " %}",
                        },
                        "Next": "end",
                    },
                    {
                        "Condition": "{% true %}",
                        "Assign": {
                            "n_draft": "{% " + patched.format(name="draft") + " %}",
                            "n_start": "{% " + patched.format(name="start") + " %}",
                        },
                        "Next": "end",
                    },
                ],
            },
            "end": {
                "Type": "Pass",
                "Assign": {
                    "outputs": '{% {"text": ($exists($n_draft.output) ? $n_draft.output : null)} %}'
                },
                "Next": "Settle Succeeded",
            },
            "Settle Succeeded": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": settle_function,
                    "Payload": {
                        "run": "{% $run %}",
                        "status": "succeeded",
                        "outputs": "{% $outputs %}",
                    },
                },
                "Retry": _LAMBDA_RETRY,
                "Output": "{% $outputs %}",
                "Next": "Succeeded",
            },
            "Succeeded": {"Type": "Succeed"},
            "Settle Failed": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": settle_function,
                    "Payload": {"run": "{% $run %}", "status": "failed", "error": "{% $failure %}"},
                },
                "Retry": _LAMBDA_RETRY,
                "Next": "Failed",
            },
            "Failed": {
                "Type": "Fail",
                "Error": "{% $failure.error %}",
                "Cause": "{% $failure.cause %}",
            },
        },
    }


def resume_machine(*, node_function: str, settle_function: str) -> dict[str, Any]:
    """A stand-in for the drafter's "resume" variant: Init takes the given variables, then the
    run goes on from `draft` (the only node a retry can begin at) without a review."""
    machine = drafter_machine(
        node_function=node_function, review_function=node_function, settle_function=settle_function
    )
    states = machine["States"]
    states["Init"]["Assign"]["n_start"] = (
        "{% $exists($states.input.resume.variables.start) ? "
        "$states.input.resume.variables.start : $states.input.inputs %}"
    )
    states["draft"]["Next"] = "end"
    for name in ("Review draft", "Expire draft review", "Decide on draft"):
        del states[name]
    machine["Comment"] = "drafter, resumed at draft (hand-written for the tests)"
    return machine


def install_workflow(
    dynamodb: Any,
    sfn: Any,
    *,
    workflows_table: str,
    tenant_id: str,
    workflow_id: str,
    document: dict[str, Any],
    definition: dict[str, Any],
    role_arn: str,
) -> WorkflowRecord:
    """A workflow whose state machine is `definition`, stored as the api would store it."""
    from signoff.graph import parse_workflow

    workflow = parse_workflow(document)
    machine = sfn.create_state_machine(
        name=f"signoff-test-{workflow_id}-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn=role_arn,
        type="STANDARD",
    )
    now = "2024-01-01T00:00:00.000Z"
    record = WorkflowRecord(
        tenant_id=tenant_id,
        workflow_id=workflow_id,
        name=workflow.name,
        description=workflow.description or "",
        version=1,
        graph=workflow.model_dump(mode="json"),
        state_machine_arn=machine["stateMachineArn"],
        created_at=now,
        updated_at=now,
    )
    return DynamoWorkflowRepository(workflows_table, dynamodb).create(record)


def wait_for(predicate: Any, *, timeout: float = 30, interval: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; answer its value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(interval)
