"""The few places where moto 5.2.5 needs help to behave like AWS. Pinned: moto==5.2.5.

Each patch is small and has a test (tests/integration/test_local_moto_patches.py) that fails loudly
when moto changes under it.

- JSONata: moto evaluates JSONata through a JVM bridge it leaves unset; jsonata-python fills it.
- Variable declarations: moto writes string variables into JSONata as `"<value>"` without escaping,
  so a variable holding a quote, backslash or newline breaks every later expression.
- Lambda invoke: without Docker moto answers with canned output; here it runs the template's handler
  in process and answers with Lambda's own contract, errors included.
- StopExecution: moto leaves an execution waiting on a task token RUNNING until the token's
  timeout; on AWS it is ABORTED at once. Here the waiting tasks are released so it aborts.
- DynamoDB requests one at a time: moto checks a ConditionExpression and then writes, with no lock
  in between, so two threads can both pass the same condition (DynamoDB never lets them). The
  local cloud serves HTTP requests and executions on many threads, and exactly-once decisions
  rest on conditional writes.
- StopExecution inside a Map or Parallel: moto turns each Map item the stop ends into a failure
  of the Map (and records a Parallel whose branches it stopped as succeeded), which then fails the
  execution; on AWS the state and the execution are ABORTED. Tested in
  tests/integration/test_local_stop_inside_bodies.py.
- StopExecution's error and cause: moto's API drops them; here the execution keeps them (its
  DescribeExecution and status change carry them, as on AWS).
- Step Functions status-change events: moto sends none; here every standard execution that ends
  puts AWS's "Step Functions Execution Status Change" event on the default bus (status_events).
- EventBridge rules targeting a function: moto cannot deliver to Lambda targets (it raises, and
  PutEvents fails); here such targets get the event in process, asynchronously, as on AWS.
- Speed, not behaviour: moto rebuilds the same things on every request -- a JSONPath parser
  (tables included) for each path of each event a rule delivers, the list of its own service
  folders (from disk), a handler class's method names. Each is remembered once built: the lifecycle
  event log puts several events on the bus per node, and every one paid for all three.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import threading
import time
from typing import Any

import jsonata
import jsonpath_ng.ext
from moto import backends as moto_backends
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import responses as moto_responses
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (  # noqa: E501
    InlineIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl import (
    BranchesDecl,
)
from moto.stepfunctions.parser.asl.component.state.state_type import StateType
from moto.stepfunctions.parser.asl.eval import states as moto_states
from moto.stepfunctions.parser.asl.eval import variable_store as moto_variable_store
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import (
    BaseExecutionWorkerCommunication,
    Execution,
    SyncExecutionWorkerCommunication,
)
from moto.stepfunctions.responses import StepFunctionResponse
from moto.utilities.arns import parse_arn

from signoff.local.functions import active_runner, error_contract
from signoff.local.status_events import publish_status_change

logger = logging.getLogger(__name__)

MOTO_VERSION = "5.2.5"

_applied = False
_apply_lock = threading.Lock()
_stop_without_release = Execution.stop
_evaluate_state = ExecutionState._evaluate_with_timeout
_iterate = InlineIterationComponent._eval_body
_run_branches = BranchesDecl._eval_body
# How often a stopped Map looks again whether its items, released by the stop, have all ended.
_ITEM_END_POLL_SECONDS = 0.01
_dynamodb_call_action = DynamoHandler.call_action
_dynamodb_lock = threading.RLock()
_execution_terminated = BaseExecutionWorkerCommunication.terminated
_stop_execution_response = StepFunctionResponse.stop_execution
# The error and cause of the StopExecution request this thread is serving.
_stop_request = threading.local()
_send_to_targets = Rule.send_to_targets
_parse_jsonpath = jsonpath_ng.ext.parse
_list_of_moto_modules = moto_backends.list_of_moto_modules
_method_names_from_class = moto_responses.method_names_from_class


def evaluate_jsonata(expression: str) -> Any:
    """What moto's JVM bridge does: evaluate with no input, answer plain JSON values."""
    try:
        result = jsonata.Jsonata(expression).evaluate(None)
        # jsonata-python answers with list subclasses and the like: normalise through JSON, as
        # the bridge does, so moto only ever sees plain values.
        return json.loads(json.dumps(result))
    except Exception as exc:
        raise moto_jsonata.JSONataException("UNKNOWN", f"{type(exc).__name__}: {exc}") from exc


def encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
    """moto's encoder with every value, strings included, written as a JSON literal."""
    return "".join(
        f"{reference}:={to_json_str(value, separators=(',', ':'))};"
        for reference, value in bindings.items()
    )


def invoke_in_process(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    """LambdaSimpleBackend.invoke: run the template's handler, answer as Lambda does."""
    # An unknown function is moto's own ResourceNotFound, raised here as it would be anyway.
    function = self.get_function(function_name, qualifier)
    name = function.function_name
    try:
        event = _event_from(body)
    except ValueError as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(error_contract(exc)).encode()

    runner = active_runner()
    if runner is None or name not in runner:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(
            {
                "errorType": "Runtime.HandlerNotFound",
                "errorMessage": f"the local cloud has no handler for function {name}",
                "stackTrace": [],
            }
        ).encode()

    if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
        thread = threading.Thread(
            target=_invoke_and_log, args=(runner, name, event), name=f"lambda-event-{name}"
        )
        thread.daemon = True
        thread.start()
        return b""

    result = runner.invoke(name, event)
    if result.failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    return result.body()


def _event_from(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8")
    if body is None or body == "":
        return {}
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the invocation payload is not JSON: {exc}") from exc


def _invoke_and_log(runner: Any, name: str, event: Any) -> None:
    result = runner.invoke(name, event)
    if result.failed:
        logger.warning("asynchronous invocation of %s failed: %s", name, result.error)


def stop_releasing_task_tokens(
    self: Execution, stop_date: Any, error: str | None, cause: str | None
) -> None:
    """Execution.stop, then release every task still waiting on its token.

    The stop marks the program stopped; a released task then finds nothing left to run and the
    execution ends ABORTED, as on AWS. The release goes through moto's success path (the history
    shows a TaskSucceeded before ExecutionAborted): its failure and timeout paths would overwrite
    the stop with a failure.
    """
    reason = getattr(_stop_request, "reason", None)
    if reason is not None and not error and not cause:
        error, cause = reason
    _stop_without_release(self, stop_date=stop_date, error=error, cause=cause)
    worker = self.exec_worker
    if worker is None:
        return
    pool = worker.env.callback_pool_manager
    for callback_id, endpoint in list(pool._pool.items()):
        if endpoint.get_outcome() is None:
            endpoint.notify(CallbackOutcomeSuccess(callback_id=callback_id, output="null"))


# What AWS's history records for a state that a stop ends while it runs.
_STATE_ABORTED_EVENTS = {
    StateType.Map: HistoryEventType.MapStateAborted,
    StateType.Parallel: HistoryEventType.ParallelStateAborted,
    StateType.Task: HistoryEventType.TaskStateAborted,
}


class StoppedInsideState(RuntimeError):
    """A state's branches ended because the execution was stopped: the state did not succeed."""


def _is_stopped(env: Environment) -> bool:
    return isinstance(env.program_state(), ProgramStopped)


def evaluate_state_aborting_on_stop(self: ExecutionState, env: Environment) -> None:
    """ExecutionState._evaluate_with_timeout, where whatever the state raises once the execution is
    stopped ends the state as aborted rather than failed.

    moto ends each Map item that a stop cuts short with a MapIterationAborted failure whose details
    are the stop's error (a string, or None) where a dict belongs; the Map state then handles it
    as its own failure: building the error output crashes on the missing details, and even without
    the crash Retry and Catch would see the stop as an error and moto's Environment.set_error would
    overwrite the stop, so the execution ends FAILED. On AWS a stop is no error: no Retry or Catch
    sees it, the state is aborted and the execution ABORTED.
    """
    try:
        _evaluate_state(self, env)
    except Exception:
        if not _is_stopped(env):
            raise
        aborted = _STATE_ABORTED_EVENTS.get(self.state_type)
        if aborted is not None:
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=aborted,
                update_source_event_id=False,
            )
        # The state ends here; the program, seeing the stop, records ExecutionAborted.


def iterate_until_every_item_ends(self: InlineIterationComponent, env: Environment) -> None:
    """InlineIterationComponent._eval_body, which on a stop returns only once every item it started
    has ended.

    moto's Map stops waiting at the first item that fails, and an item a stop ends counts as failed:
    the other items, released by the same stop, would record their MapIterationAborted after the
    execution's ExecutionAborted. Each item runs in a frame of `env` it closes when it ends.
    """
    try:
        _iterate(self, env)
    except Exception:
        if _is_stopped(env):
            while env._frames:
                time.sleep(_ITEM_END_POLL_SECONDS)
        raise


def run_branches_failing_on_stop(self: BranchesDecl, env: Environment) -> None:
    """BranchesDecl._eval_body, raising when the branches ended because the execution was stopped:
    moto counts a stopped branch as finished, so the Parallel state would record
    ParallelStateSucceeded; raising lets it end aborted (evaluate_state_aborting_on_stop)."""
    _run_branches(self, env)
    if _is_stopped(env):
        raise StoppedInsideState("the execution was stopped while the branches ran")


def stop_execution_keeping_reason(self: StepFunctionResponse) -> Any:
    """StepFunctionResponse.stop_execution, handing the request's error and cause to the stop."""
    _stop_request.reason = (self._get_param("error"), self._get_param("cause"))
    try:
        return _stop_execution_response(self)
    finally:
        _stop_request.reason = None


def call_dynamodb_action_serially(self: DynamoHandler) -> Any:
    """DynamoHandler.call_action under one lock: each request's condition check and write are
    atomic, as DynamoDB's are."""
    with _dynamodb_lock:
        return _dynamodb_call_action(self)


def terminated_with_status_change(self: BaseExecutionWorkerCommunication) -> None:
    """An execution's end as moto records it, then its status change on the default bus (standard
    executions only: synchronous express ones send none)."""
    _execution_terminated(self)
    execution = self.execution
    stopped = execution.exec_worker.env.program_state() if execution.exec_worker else None
    if isinstance(stopped, ProgramStopped) and execution.error is None and execution.cause is None:
        # DescribeExecution of an aborted execution shows the stop's error and cause.
        execution.error, execution.cause = stopped.error or None, stopped.cause or None
    if not isinstance(self, SyncExecutionWorkerCommunication):
        publish_status_change(self.execution)


def send_to_targets_with_functions(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    """Rule.send_to_targets, with targets that are Lambda functions invoked in process."""
    functions = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
    if not functions:
        _send_to_targets(self, original_event, transform_input)
        return
    others = copy.copy(self)
    others.targets = [target for target in self.targets if target not in functions]
    _send_to_targets(others, original_event, transform_input)
    if not self.event_pattern.matches_event(original_event):
        return
    runner = active_runner()
    for target in functions:
        name = parse_arn(target["Arn"]).resource_id.split(":")[0]
        if runner is None or name not in runner:
            logger.warning(
                "rule %s targets %s, which the local cloud does not run", self.name, name
            )
            continue
        event = _target_event(target, original_event)
        threading.Thread(
            target=_invoke_and_log, args=(runner, name, event), name=f"rule-{name}", daemon=True
        ).start()


def _target_event(target: dict[str, Any], original_event: dict[str, Any]) -> Any:
    """What a target receives: the event (its time in ISO form, as AWS sends it), or its Input,
    InputPath selection or InputTransformer result."""
    event = copy.deepcopy(original_event)
    event.pop("ingestion-time", None)
    if isinstance(event.get("time"), int | float):
        event["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(event["time"]))
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        selected: Any = event
        for key in str(target["InputPath"]).removeprefix("$").strip(".").split("."):
            if key:
                selected = selected.get(key) if isinstance(selected, dict) else None
        return selected
    transformer = target.get("InputTransformer")
    if transformer:
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return event


@functools.lru_cache(maxsize=512)
def parse_jsonpath_once(path: str, debug: bool | None = None) -> Any:
    """jsonpath_ng.ext.parse, remembered per path: moto's EventBridge parses every path of a
    target's input template (the default one has eight) for each event, and each parse builds a
    new parser from its grammar tables. A parsed path is only read (find), never changed."""
    return _parse_jsonpath(path, debug)


@functools.cache
def moto_service_modules() -> tuple[str, ...]:
    """moto.backends.list_of_moto_modules, listed once: moto's server lists its own package
    folder (one stat per entry) twice for each request it routes, under its dispatch lock."""
    return tuple(_list_of_moto_modules())


@functools.cache
def method_names_of(clazz: object) -> tuple[str, ...]:
    """moto's method_names_from_class, once per class: each request inspected the handler class."""
    return tuple(_method_names_from_class(clazz))


def apply_patches() -> None:
    """Apply every patch once; calling it again changes nothing."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        moto_jsonata._eval_jsonata = evaluate_jsonata
        # The encoder is imported by name where it is used: replace it there too.
        moto_jsonata.encode_jsonata_variable_declarations = encode_jsonata_variable_declarations
        moto_states.encode_jsonata_variable_declarations = encode_jsonata_variable_declarations
        moto_variable_store.encode_jsonata_variable_declarations = (
            encode_jsonata_variable_declarations
        )
        LambdaSimpleBackend.invoke = invoke_in_process  # type: ignore[method-assign]
        Execution.stop = stop_releasing_task_tokens  # type: ignore[method-assign]
        ExecutionState._evaluate_with_timeout = evaluate_state_aborting_on_stop  # type: ignore[method-assign]
        InlineIterationComponent._eval_body = iterate_until_every_item_ends  # type: ignore[method-assign]
        BranchesDecl._eval_body = run_branches_failing_on_stop  # type: ignore[method-assign]
        DynamoHandler.call_action = call_dynamodb_action_serially  # type: ignore[method-assign]
        BaseExecutionWorkerCommunication.terminated = terminated_with_status_change  # type: ignore[method-assign]
        Rule.send_to_targets = send_to_targets_with_functions  # type: ignore[method-assign]
        StepFunctionResponse.stop_execution = stop_execution_keeping_reason  # type: ignore[method-assign]
        # Speed only: what moto rebuilt per request or per event, built once.
        jsonpath_ng.ext.parse = parse_jsonpath_once
        moto_backends.list_of_moto_modules = moto_service_modules
        moto_responses.method_names_from_class = method_names_of
        _applied = True
