"""Pieces every lowering shares: Lambda invocation, retries, the failure path, state names."""

from __future__ import annotations

from typing import Any

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SETTLE_SUCCEEDED = "Settle Succeeded"
SETTLE_FAILED = "Settle Failed"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
INIT = "Init"

# Errors of the Lambda service itself (throttling, a cold start gone wrong): always worth another
# try. A node's own failure (its error type is the node error's class name) is not retried here.
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def lambda_service_retry() -> dict[str, Any]:
    return {
        "ErrorEquals": list(LAMBDA_SERVICE_ERRORS),
        "IntervalSeconds": 2,
        "MaxAttempts": 3,
        "BackoffRate": 2,
    }


def invoke(function_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A Task state invoking a Lambda function (its fields other than Next, Assign, Catch)."""
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Arguments": {"FunctionName": function_arn, "Payload": payload},
        "Retry": [lambda_service_retry()],
    }


def catch_node_failure(node_id: str) -> dict[str, Any]:
    """Any error of a node's state: remember which node failed and why, then settle the run."""
    return {
        "ErrorEquals": ["States.ALL"],
        "Assign": {
            "failure": {
                "node_id": node_id,
                "error": "{% $states.errorOutput.Error %}",
                "cause": "{% $states.errorOutput.Cause %}",
            }
        },
        "Next": SETTLE_FAILED,
    }
