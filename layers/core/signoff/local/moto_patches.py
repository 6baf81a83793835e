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
- StopExecution's error and cause: moto's API drops them; here the execution keeps them (its
  DescribeExecution and status change carry them, as on AWS).
- Step Functions status-change events: moto sends none; here every standard execution that ends
  puts AWS's "Step Functions Execution Status Change" event on the default bus (status_events).
- EventBridge rules targeting a function: moto cannot deliver to Lambda targets (it raises, and
  PutEvents fails); here such targets get the event in process, asynchronously, as on AWS.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from typing import Any

import jsonata
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.stepfunctions.parser.asl.eval import states as moto_states
from moto.stepfunctions.parser.asl.eval import variable_store as moto_variable_store
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess
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
_dynamodb_call_action = DynamoHandler.call_action
_dynamodb_lock = threading.RLock()
_execution_terminated = BaseExecutionWorkerCommunication.terminated
_stop_execution_response = StepFunctionResponse.stop_execution
# The error and cause of the StopExecution request this thread is serving.
_stop_request = threading.local()
_send_to_targets = Rule.send_to_targets


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
        DynamoHandler.call_action = call_dynamodb_action_serially  # type: ignore[method-assign]
        BaseExecutionWorkerCommunication.terminated = terminated_with_status_change  # type: ignore[method-assign]
        Rule.send_to_targets = send_to_targets_with_functions  # type: ignore[method-assign]
        StepFunctionResponse.stop_execution = stop_execution_keeping_reason  # type: ignore[method-assign]
        _applied = True
