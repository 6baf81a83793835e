"""run_node: what the node function does with one Task's event.

Parse the event, resolve the node's variables, then run the node's type, one attempt at a time:
each attempt is recorded `running` (inputs = the resolved variables), then `succeeded` with its
outputs or `failed` with its error. With `retry_config.retry_enabled` a failed attempt is followed,
`retry_interval` ms later, by another, up to `max_retries` more (in this function: Step Functions'
Retry intervals are whole seconds). When the last attempt fails, the node's error strategy decides:
- default-value: the outputs are the declared `default_value`s (with `error_type` and
  `error_message`), the record ends `exception`, the run goes on by the node's usual edge;
- fail-branch: the outputs are `{error_type, error_message}`, the record ends `exception`, the run
  goes on by the `fail-branch` edge (a success leaves by `success-branch`);
- none: the error is raised. A NodeExecutionError subclass's class name is the error type Step
  Functions' Catch matches (see nodes/errors.py), and the run fails.

A node that reads secret environment variables (nodes/secrets.py) gets their values; every such
value is replaced by `[redacted]` in what the node records (inputs, outputs, error), in its
events, in its answer (which Step Functions keeps in the execution history) and in the logs.

The answer (docs/internals.md): `{"outputs", "status": "succeeded" | "exception", "handle"}`,
plus `usage` when the node called a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from signoff.errors import NodeExecutionError
from signoff.events.envelope import Event
from signoff.events.lifecycle import NodeScope, RunLifecycle
from signoff.graph.model import (
    FAIL_BRANCH_HANDLE,
    SOURCE_HANDLE,
    SUCCESS_BRANCH_HANDLE,
    parse_node,
)
from signoff.nodes import (
    code,
    document_extractor,
    http_request,
    knowledge_retrieval,
    list_operator,
    llm,
    parameter_extractor,
    question_classifier,
    template_transform,
    tool,
)
from signoff.nodes.code_runner import CodeRunner
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import InvalidNodeConfig, InvalidNodeEvent, UnsupportedNodeType
from signoff.nodes.event import NodeEvent
from signoff.nodes.integrations import Integrations
from signoff.nodes.offloading import NodePayloads
from signoff.nodes.progress import emit_notices
from signoff.nodes.secrets import SecretSource
from signoff.nodes.variables import VariableScope
from signoff.payloads import PayloadError, PayloadStore
from signoff.providers.chat import ChatModelSource
from signoff.redaction import redact_values, remember_secret_values
from signoff.store.node_executions import (
    NodeExecution,
    NodeExecutionRepository,
    NodeFailure,
    format_time,
)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]

SUCCEEDED = "succeeded"
# The node failed and its error strategy handled it (the record's status too).
EXCEPTION = "exception"


class NodeRuntime(Protocol):
    """What a node type's module provides (modules satisfy it as they are)."""

    def inputs(self, node: Any, scope: VariableScope) -> dict[str, Any]: ...

    def run(self, node: Any, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]: ...


# One module per node type. Logic nodes (start, end, if-else) have none: they compile to native
# states.
NODE_RUNTIMES: dict[str, NodeRuntime] = {
    "code": code,
    "template-transform": template_transform,
    "llm": llm,
    "question-classifier": question_classifier,
    "parameter-extractor": parameter_extractor,
    "http-request": http_request,
    "tool": tool,
    "knowledge-retrieval": knowledge_retrieval,
    "document-extractor": document_extractor,
    # Where the compiler does not filter the list in a native state.
    "list-operator": list_operator,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_node(
    event: dict[str, Any],
    *,
    executions: NodeExecutionRepository,
    code_runner: CodeRunner,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    payloads: PayloadStore | None = None,
    chat_models: ChatModelSource | None = None,
    integrations: Integrations | None = None,
    events: RunLifecycle | None = None,
    secrets: SecretSource | None = None,
) -> dict[str, Any]:
    request = parse_event(event)
    # Lifecycle events (signoff/events): node.started for every attempt, then how it ended.
    lifecycle = _NodeEvents(events or RunLifecycle(), request.run.workflow_id, _scope(request))
    if request.progress and request.feedback is None and request.previous_output is None:
        # This node begins its iteration's item or loop's round (not a review's later round).
        lifecycle.last = emit_notices(
            request.run,
            request.progress,
            events=lifecycle.events,
            payloads=payloads,
            now=format_time(clock()),
        )
    # Large values (signoff/payloads.py): references in, references out, references recorded.
    large_values = NodePayloads(payloads, request)
    context = NodeContext(
        run=request.run,
        attempt=request.attempt,
        code_runner=code_runner,
        chat_models=chat_models,
        integrations=integrations or Integrations(),
        feedback=request.feedback,
        previous_output=large_values.resolve(request.previous_output),
    )

    node: Any = None
    started_at = clock()
    scope: VariableScope | None = None
    try:
        runtime = _runtime(request.node.type)
        node = _parse_node(request)
        # Reading the variables resolves large values by reference, which may be refused.
        scope = VariableScope(large_values.variables(), request.run.model_dump(), secrets)
        inputs = runtime.inputs(node, scope)
    except (NodeExecutionError, PayloadError) as error:
        # Failed before running (nothing to retry): still on the record, so the run's node list
        # shows why; the error strategy applies when the node itself could be read.
        execution = lifecycle.started(executions.start(_begin(request, {}, started_at)))
        _scrub(error, scope.secret_values if scope is not None else set())
        return _failed(node, execution, error, executions, clock, lifecycle)

    secret_values = scope.secret_values
    remember_secret_values(secret_values)
    recorded_inputs = large_values.offload(redact_values(inputs, secret_values), "inputs")
    retry = node.retry_config if node.retries else None
    retries_left = retry.max_retries if retry else 0
    attempt = request.attempt
    while True:
        execution = executions.start(_begin(request, recorded_inputs, started_at, attempt))
        lifecycle.started(execution)
        try:
            produced = redact_values(
                runtime.run(node, inputs, replace(context, attempt=attempt)), secret_values
            )
            outputs = large_values.offload(produced, "outputs")
        except Exception as error:
            _scrub(error, secret_values)
            if retry is None or retries_left == 0:
                return _failed(node, execution, error, executions, clock, lifecycle)
            retried = executions.finish(execution.failed(failure_of(error), clock()))
            lifecycle.finished(retried, retrying=True)
            retries_left -= 1
            attempt += 1
            sleep(retry.retry_interval / 1000)
            started_at = clock()
            continue
        succeeded = executions.finish(execution.succeeded(outputs, clock()))
        usage = _usage(runtime, produced)
        lifecycle.finished(succeeded, usage=usage.get("usage"))
        return {
            "outputs": outputs,
            "status": SUCCEEDED,
            "handle": _success_handle(runtime, node, produced),
            **usage,
        }


def _scrub(error: BaseException, secret_values: set[str]) -> None:
    """Redact the secrets the node read from its error's message, in place: the message is
    recorded, emitted, and (raised) becomes the error Step Functions keeps in the history."""
    if not secret_values or not error.args:
        return
    message = str(error)
    redacted = redact_values(message, secret_values)
    if redacted == message:
        return
    error.args = (redacted,)
    if isinstance(getattr(error, "message", None), str):
        error.message = redacted  # type: ignore[attr-defined]
    # A chained error's message would show in a formatted traceback: drop the chain.
    error.__cause__ = None
    error.__suppress_context__ = True


def _failed(
    node: Any,
    execution: NodeExecution,
    error: Exception,
    executions: NodeExecutionRepository,
    clock: Clock,
    lifecycle: _NodeEvents,
) -> dict[str, Any]:
    """The last attempt failed: the error strategy's answer, or the error raised."""
    strategy = getattr(node, "error_strategy", None)
    failure = failure_of(error)
    if strategy is None:
        lifecycle.finished(executions.finish(execution.failed(failure, clock())))
        raise error
    outputs = exception_outputs(node, failure)
    lifecycle.finished(executions.finish(execution.excepted(failure, outputs, clock())))
    handle = FAIL_BRANCH_HANDLE if strategy == "fail-branch" else SOURCE_HANDLE
    return {"outputs": outputs, "status": EXCEPTION, "handle": handle}


class _NodeEvents:
    """The node's lifecycle events, for the run's workflow.

    It remembers the last event it emitted: the next one (node.started then its ending, back to
    back) is put right after it without reading the log first (signoff.store.run_events).
    """

    def __init__(self, events: RunLifecycle, workflow_id: str, scope: NodeScope) -> None:
        self.events = events
        self._workflow_id = workflow_id
        self._scope = scope
        self.last: Event | None = None

    def started(self, execution: NodeExecution) -> NodeExecution:
        self._remember(
            self.events.node_started(
                execution, workflow_id=self._workflow_id, scope=self._scope, after=self.last
            )
        )
        return execution

    def finished(
        self,
        execution: NodeExecution,
        *,
        retrying: bool = False,
        usage: dict[str, Any] | None = None,
    ) -> None:
        self._remember(
            self.events.node_finished(
                execution,
                workflow_id=self._workflow_id,
                retrying=retrying,
                usage=usage,
                scope=self._scope,
                after=self.last,
            )
        )

    def _remember(self, event: Event | None) -> None:
        if event is not None:
            self.last = event


def _scope(request: NodeEvent) -> NodeScope:
    """Where the node runs, as its Task's payload says (iterations and loops around it)."""
    where = request.scope
    if where is None:
        return NodeScope()
    return NodeScope(
        iteration_id=where.iteration_id,
        iteration_index=where.iteration_index,
        loop_id=where.loop_id,
        loop_index=where.loop_index,
    )


def exception_outputs(node: Any, failure: NodeFailure) -> dict[str, Any]:
    """What a node whose error strategy handled `failure` reports: with default-value, its
    declared default values; with either strategy, the error's type and message."""
    outputs: dict[str, Any] = {}
    if node.error_strategy == "default-value":
        outputs.update({entry.key: entry.value for entry in node.default_value})
    outputs.update({"error_type": failure.type, "error_message": failure.message})
    return outputs


def _success_handle(runtime: Any, node: Any, outputs: dict[str, Any]) -> str:
    """The edge a successful node leaves by: the one its module picks (question-classifier's
    class), else `success-branch` under fail-branch, else `source`."""
    picked = getattr(runtime, "handle", None)
    if picked is not None:
        return picked(outputs)
    if node.error_strategy == "fail-branch":
        return SUCCESS_BRANCH_HANDLE
    return SOURCE_HANDLE


def _usage(runtime: Any, outputs: dict[str, Any]) -> dict[str, Any]:
    """`{"usage": ...}` when the node called a model (its module's `usage(outputs)`), for the
    run's totals; else nothing."""
    measured = getattr(runtime, "usage", None)
    usage = measured(outputs) if measured is not None else None
    return {"usage": usage} if usage is not None else {}


def parse_event(event: dict[str, Any]) -> NodeEvent:
    try:
        return NodeEvent.model_validate(event)
    except ValidationError as error:
        raise InvalidNodeEvent(f"the node event is malformed: {_first_problem(error)}") from error


def failure_of(error: BaseException) -> NodeFailure:
    return NodeFailure(type=type(error).__name__, message=str(error))


def _runtime(node_type: str) -> NodeRuntime:
    runtime = NODE_RUNTIMES.get(node_type)
    if runtime is None:
        supported = ", ".join(sorted(NODE_RUNTIMES))
        raise UnsupportedNodeType(
            f"node type {node_type!r} does not run in the node function (it runs: {supported})"
        )
    return runtime


def _parse_node(request: NodeEvent) -> Any:
    try:
        return parse_node(request.node.document())
    except ValidationError as error:
        raise InvalidNodeConfig(
            f"node {request.node.id} ({request.node.type}) is not valid: {_first_problem(error)}"
        ) from error


def _begin(
    request: NodeEvent, inputs: dict[str, Any], started_at: datetime, attempt: int | None = None
) -> NodeExecution:
    # Inside iterations and loops the record says which item and round it ran for.
    where = request.scope
    return NodeExecution.begin(
        tenant_id=request.run.tenant_id,
        run_id=request.run.run_id,
        node_id=request.node.id,
        node_type=request.node.type,
        title=request.node.title or request.node.id,
        attempt=attempt or request.attempt,
        inputs=inputs,
        started_at=started_at,
        index_path=list(where.path) if where else None,
        item_index=where.iteration_index if where else None,
        loop_index=where.loop_index if where else None,
    )


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    first = problems[0]
    location = ".".join(str(part) for part in first["loc"]) or "event"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{location}: {first['msg']}{more}"
