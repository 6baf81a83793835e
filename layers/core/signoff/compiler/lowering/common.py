"""Pieces every lowering shares: Lambda invocation, retries, the failure path, accumulators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from signoff.compiler import jsonata
from signoff.compiler.target import CompileTarget
from signoff.compiler.variables import AslScope, Variables

if TYPE_CHECKING:
    from signoff.compiler.emit import Emitter
    from signoff.compiler.plan import Plan

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SETTLE_SUCCEEDED = "Settle Succeeded"
SETTLE_FAILED = "Settle Failed"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
INIT = "Init"

# Errors of the Lambda service itself (throttling, a cold start gone wrong): always worth another
# try. A node's own failure (its error type is the node error's class name) is not retried here:
# the node function retries a node itself, as its retry_config says.
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]

# A failure leaving a Parallel branch or a Map item travels as the Cause of the branch's Fail
# state: `{"signoff_failure": {node_id, error, cause}}`, so the run's error still names the node.
FAILURE_KEY = "signoff_failure"
_FAILURE_PREFIX = '{"' + FAILURE_KEY + '":'

EMPTY_USAGE = {
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "total_tokens": 0,
    "total_price": 0,
    "currency": None,
}


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


def node_failure(node_id: str) -> dict[str, Any]:
    """The failure of a node's own state, from its Catch's error output."""
    return {
        "node_id": node_id,
        "error": "{% $states.errorOutput.Error %}",
        "cause": "{% $states.errorOutput.Cause %}",
    }


def nested_failure(default_node_id: str | None) -> str:
    """The failure that ended a Parallel or Map: the one its branch or item carried out, or
    (a failure of the state itself) its own error."""
    fallback = (
        f'{{"node_id": {jsonata.literal(default_node_id)}, "error": $states.errorOutput.Error,'
        ' "cause": $c}'
    )
    return (
        f"($c := $states.errorOutput.Cause; "
        f'$type($c) = "string" and $substring($c, 0, {len(_FAILURE_PREFIX)}) = '
        f"{jsonata.literal(_FAILURE_PREFIX)} ? $parse($c).{FAILURE_KEY} : {fallback})"
    )


def catch(failure: dict[str, Any] | str, scope: AslScope) -> dict[str, Any]:
    """Any error: at the top level remember it (`failure`: the value, or a JSONata expression)
    and settle the run failed; inside a branch or an item, carry it to the scope's failure
    state."""
    value = failure if isinstance(failure, dict) else jsonata.template(failure)
    rule: dict[str, Any] = {"ErrorEquals": ["States.ALL"]}
    if scope.fail_state is None:
        rule["Assign"] = {"failure": value}
        rule["Next"] = SETTLE_FAILED
    else:
        rule["Output"] = value
        rule["Next"] = scope.fail_state
    return rule


def catch_node_failure(node_id: str, scope: AslScope) -> dict[str, Any]:
    return catch(node_failure(node_id), scope)


def failure_carrier() -> dict[str, Any]:
    """The Fail state ending a branch or item whose state failed (input: the failure)."""
    return {
        "Type": "Fail",
        "Error": "{% $states.input.error %}",
        "Cause": jsonata.template(f"$string({{{jsonata.literal(FAILURE_KEY)}: $states.input}})"),
    }


def usage_sum(total: str, addition: str) -> str:
    """Two usage objects added up (null additions ignored; the first currency named wins)."""
    numbers = ("prompt_tokens", "completion_tokens", "total_tokens", "total_price")
    fields = ", ".join(f'"{name}": $t.{name} + ($a.{name} ? $a.{name} : 0)' for name in numbers)
    return (
        f'($t := {total}; $a := {addition}; $type($a) = "object" ? '
        f'{{{fields}, "currency": $t.currency ? $t.currency : $a.currency}} : $t)'
    )


@dataclass
class Context:
    """What a lowering needs: the plan, where its states go, and how they read variables."""

    plan: Plan
    target: CompileTarget
    scope: AslScope
    variables: Variables
    emitter: Emitter

    def at(self, scope: AslScope, variables: Variables | None = None) -> Context:
        return Context(
            self.plan,
            self.target,
            scope,
            variables or self.variables.within(scope),
            self.emitter,
        )

    def catch_node(self, node_id: str) -> dict[str, Any]:
        return catch_node_failure(node_id, self.scope)

    def catch_nested(self, default_node_id: str | None) -> dict[str, Any]:
        return catch(nested_failure(default_node_id), self.scope)

    def count_exception(self, status: str) -> dict[str, str]:
        """An Assign entry adding one to the scope's exceptions when `status` is exception."""
        self.scope.mark_accumulating()
        name = self.scope.exceptions_variable
        return {name: jsonata.template(f'${name} + ({status} = "exception" ? 1 : 0)')}

    def add_usage(self, usage: str) -> dict[str, str]:
        self.scope.mark_accumulating()
        name = self.scope.usage_variable
        return {name: jsonata.template(usage_sum(f"${name}", usage))}

    def add_nested(self, results: str, exceptions_field: str, usage_field: str) -> dict[str, str]:
        """Assign entries adding what a Parallel's branches or a Map's items counted."""
        self.scope.mark_accumulating()
        exceptions = self.scope.exceptions_variable
        usage = self.scope.usage_variable
        return {
            exceptions: jsonata.template(
                f"${exceptions} + $sum($append([0], {results}.{exceptions_field}))"
            ),
            usage: jsonata.template(
                f"$reduce($append([], {results}.{usage_field}),"
                f" function($t, $a) {{ {usage_sum('$t', '$a')} }}, ${usage})"
            ),
        }
