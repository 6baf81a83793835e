"""run_node: what the node function does with one Task's event.

Parse the event, resolve the node's variables, record the execution `running` (inputs = the
resolved variables), run the node's type, record `succeeded` with its outputs or `failed` with its
error, and answer `{"outputs": ...}` or raise. A NodeExecutionError subclass's class name is the
error type Step Functions' Retry/Catch match (see nodes/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from signoff.errors import NodeExecutionError
from signoff.graph.model import parse_node
from signoff.nodes import code, template_transform
from signoff.nodes.code_runner import CodeRunner
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import InvalidNodeConfig, InvalidNodeEvent, UnsupportedNodeType
from signoff.nodes.event import NodeEvent
from signoff.nodes.variables import VariableScope
from signoff.store.node_executions import NodeExecution, NodeExecutionRepository, NodeFailure

Clock = Callable[[], datetime]


class NodeRuntime(Protocol):
    """What a node type's module provides (modules satisfy it as they are)."""

    def inputs(self, node: Any, scope: VariableScope) -> dict[str, Any]: ...

    def run(self, node: Any, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]: ...


# One module per node type. Logic nodes (start, end, if-else) have none: they compile to native
# states.
NODE_RUNTIMES: dict[str, NodeRuntime] = {
    "code": code,
    "template-transform": template_transform,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_node(
    event: dict[str, Any],
    *,
    executions: NodeExecutionRepository,
    code_runner: CodeRunner,
    clock: Clock = utc_now,
) -> dict[str, Any]:
    request = parse_event(event)
    started_at = clock()
    context = NodeContext(run=request.run, attempt=request.attempt, code_runner=code_runner)
    scope = VariableScope(request.variables, request.run.model_dump())

    try:
        runtime = _runtime(request.node.type)
        node = _parse_node(request)
        inputs = runtime.inputs(node, scope)
    except NodeExecutionError as error:
        # Failed before running: still on the record, so the run's node list shows why.
        execution = executions.start(_begin(request, {}, started_at))
        executions.finish(execution.failed(failure_of(error), clock()))
        raise

    execution = executions.start(_begin(request, inputs, started_at))
    try:
        outputs = runtime.run(node, inputs, context)
    except Exception as error:
        executions.finish(execution.failed(failure_of(error), clock()))
        raise
    executions.finish(execution.succeeded(outputs, clock()))
    return {"outputs": outputs}


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


def _begin(request: NodeEvent, inputs: dict[str, Any], started_at: datetime) -> NodeExecution:
    return NodeExecution.begin(
        tenant_id=request.run.tenant_id,
        run_id=request.run.run_id,
        node_id=request.node.id,
        node_type=request.node.type,
        title=request.node.title or request.node.id,
        attempt=request.attempt,
        inputs=inputs,
        started_at=started_at,
    )


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    first = problems[0]
    location = ".".join(str(part) for part in first["loc"]) or "event"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{location}: {first['msg']}{more}"
