"""The template's Lambda handlers, run by this process: the local cloud's Lambda service.

A Python function's module is imported the first time it is invoked (its cold start) with exactly
that function's environment variables, so `Settings()` at import sees what Lambda would give it.
After that, invocations call the handler directly and may run concurrently: Step Functions
executions and the HTTP front each run in their own threads.

A Node.js function (runtime nodejs*) runs each invocation in a `node` process of its own
(nodejs_harness.mjs imports the handler module, awaits handler(event, context) and prints the
result or Lambda's error contract) with only the function's environment, started through
_rlimit_launcher.py under the limits Lambda would hold it to: CPU time no more than its timeout,
an address space of its memory size plus what V8 reserves up front, a heap of 90% of its memory;
the timeout kills the process group.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import itertools
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from signoff.local.powertools_patches import make_router_state_per_thread
from signoff.local.template import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)

# Variables that belong to one function's configuration: another function's (or the local
# cloud's own) must not leak into a handler's import.
_FUNCTION_SCOPED_PREFIXES = ("SIGNOFF_", "POWERTOOLS_")

# Handlers here run concurrently in one process, unlike on Lambda: Powertools' per-request
# router state must then be per thread.
make_router_state_per_thread()

# os.environ is one per process: imports that rewrite it must not overlap.
_IMPORT_LOCK = threading.Lock()
_runner_ids = itertools.count(1)

# A Lambda Web Adapter function (Handler: run.sh) serves this ASGI app of its code directory.
WEB_ADAPTER_HANDLER = "run.sh"
WEB_APP = "app.app"
# Where Lambda Web Adapter hands the app the API Gateway request context.
REQUEST_CONTEXT_HEADER = "x-amzn-request-context"
_NODEJS_HARNESS = Path(__file__).with_name("nodejs_harness.mjs")
_RLIMIT_LAUNCHER = Path(__file__).with_name("_rlimit_launcher.py")
_NODEJS_MODULE_SUFFIXES = (".mjs", ".js", ".cjs")
# Address space V8 reserves beyond its heap (Node.js 20 starts from about 0.7 GiB over its heap
# limit); the rest is room for buffers.
V8_ADDRESS_SPACE_ALLOWANCE_MB = 1024


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, as the local cloud runs it."""

    logical_id: str
    function_name: str
    code_dir: Path
    handler: str = "app.handler"
    runtime: str = "python3.11"
    timeout_seconds: int = 3
    memory_mb: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def short_name(self) -> str:
        """The logical id without its `Function` suffix, in snake case: `api`, `sandbox_js`..."""
        name = self.logical_id
        if name.endswith("Function") and name != "Function":
            name = name[: -len("Function")]
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()

    @property
    def is_nodejs(self) -> bool:
        return self.runtime.startswith("nodejs")


class LambdaContext:
    """The context object Lambda passes a Python handler (the attributes handlers use)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.function_arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class InvocationResult:
    """What Lambda answers: the handler's JSON result, or the error contract when it raised."""

    payload: Any = None
    error: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def body(self) -> bytes:
        return json.dumps(self.error if self.error is not None else self.payload).encode()


def error_contract(exc: BaseException) -> dict[str, Any]:
    """Lambda's Python runtime error shape: Step Functions' Retry/Catch match on `errorType`."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class FunctionRunner:
    """Runs the handlers of one provisioned stack; each function is imported once (cold start)."""

    def __init__(self, functions: Mapping[str, FunctionSpec]) -> None:
        self._functions = {spec.function_name: spec for spec in functions.values()}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._runner_id = next(_runner_ids)

    def __contains__(self, function_name: str) -> bool:
        return function_name in self._functions

    def spec(self, function_name: str) -> FunctionSpec:
        return self._functions[function_name]

    def invoke(self, function_name: str, event: Any) -> InvocationResult:
        """Run the function's handler on `event`; a raised exception becomes the error contract."""
        spec = self._functions[function_name]
        if spec.is_nodejs:
            return _invoke_nodejs(spec, event)
        if spec.handler == WEB_ADAPTER_HANDLER:
            return self._invoke_web_app(spec, event)
        try:
            handler = self._handler(spec)
            result = handler(event, LambdaContext(spec))
            # What Lambda does to the result: it must survive JSON.
            json.dumps(result)
        except Exception as exc:
            logger.info("function %s raised %s: %s", spec.logical_id, type(exc).__name__, exc)
            return InvocationResult(error=error_contract(exc))
        return InvocationResult(payload=result)

    def _invoke_web_app(self, spec: FunctionSpec, event: Any) -> InvocationResult:
        """What Lambda Web Adapter does with an API Gateway proxy event: an HTTP request to the
        app (the request context in `x-amzn-request-context`), its whole response as the proxy
        response."""
        try:
            app = self.web_app(spec.function_name)
            body = event.get("body") or ""
            content = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
            headers = {
                **(event.get("headers") or {}),
                REQUEST_CONTEXT_HEADER: json.dumps(event.get("requestContext") or {}),
            }
            query = event.get("multiValueQueryStringParameters") or {
                name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
            }

            async def send() -> httpx.Response:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://lambda"
                ) as client:
                    return await client.request(
                        event.get("httpMethod", "GET"),
                        event.get("path", "/"),
                        params=[
                            (name, value) for name, values in query.items() for value in values
                        ],
                        headers=headers,
                        content=content,
                    )

            response = asyncio.run(send())
        except Exception as exc:
            logger.info("function %s raised %s: %s", spec.logical_id, type(exc).__name__, exc)
            return InvocationResult(error=error_contract(exc))
        return InvocationResult(
            payload={
                "statusCode": response.status_code,
                "headers": dict(response.headers),
                "body": response.text,
                "isBase64Encoded": False,
            }
        )

    def web_app(self, function_name: str) -> Any:
        """The ASGI application a Lambda Web Adapter function serves: `app` of its code
        directory's app.py (what its run.sh starts), imported once with its environment."""
        spec = self._functions[function_name]
        return self._handler(replace(spec, handler=WEB_APP))

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        handler = self._handlers.get(spec.function_name)
        if handler is not None:
            return handler
        with _IMPORT_LOCK:
            handler = self._handlers.get(spec.function_name)
            if handler is None:
                handler = self._cold_start(spec)
                self._handlers[spec.function_name] = handler
        return handler

    def _cold_start(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        module_path, _, attribute = spec.handler.rpartition(".")
        source = spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
        if not source.is_file():
            raise ImportError(f"{spec.logical_id}: handler module {source} does not exist")
        module_name = f"signoff_local_{self._runner_id}_{spec.logical_id}"
        import_spec = importlib.util.spec_from_file_location(module_name, source)
        assert import_spec is not None and import_spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(import_spec)
        sys.modules[module_name] = module
        try:
            with _function_environment(spec.environment):
                import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise ImportError(f"{spec.logical_id}: {source.name} has no callable {attribute!r}")
        return handler


def _invoke_nodejs(spec: FunctionSpec, event: Any) -> InvocationResult:
    """One invocation of a Node.js function in its own `node` process, under Lambda's limits."""
    module_name, _, attribute = spec.handler.rpartition(".")
    base = spec.code_dir.joinpath(*module_name.split("/"))
    sources = [base.with_suffix(suffix) for suffix in _NODEJS_MODULE_SUFFIXES]
    source = next((path for path in sources if path.is_file()), None)
    if source is None:
        return _runtime_error(
            "Runtime.ImportModuleError",
            f"{spec.logical_id}: no module {module_name} in {base.parent}",
        )
    node = shutil.which("node")
    if node is None:
        return _runtime_error(
            "Runtime.Unavailable", f"{spec.logical_id} needs Node.js (`node` on PATH) locally"
        )
    launch = {
        "limits": {
            "cpu_seconds": spec.timeout_seconds,
            "address_space_bytes": (spec.memory_mb + V8_ADDRESS_SPACE_ALLOWANCE_MB) * 1024 * 1024,
        },
        "environment": {
            **spec.environment,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        },
    }
    context = LambdaContext(spec)
    context_fields = {
        "functionName": spec.function_name,
        "invokedFunctionArn": spec.function_arn,
        "memoryLimitInMB": spec.memory_mb,
        "awsRequestId": context.aws_request_id,
        "logStreamName": context.log_stream_name,
        "timeoutSeconds": spec.timeout_seconds,
    }
    command = [
        sys.executable,
        "-I",
        "-S",
        str(_RLIMIT_LAUNCHER),
        json.dumps(launch),
        node,
        # What Lambda's Node.js runtime gives V8: most of the function's memory.
        f"--max-old-space-size={max(16, spec.memory_mb * 9 // 10)}",
        str(_NODEJS_HARNESS),
        str(source),
        attribute,
        json.dumps(context_fields),
    ]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=spec.code_dir,
        env={},
        close_fds=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(
            json.dumps(event).encode(), timeout=spec.timeout_seconds
        )
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        return _runtime_error(
            "Sandbox.Timedout", f"Task timed out after {spec.timeout_seconds:.2f} seconds"
        )
    finally:
        _kill_group(process.pid)
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        logger.info("%s: %s", spec.logical_id, line)
    lines = stdout.decode("utf-8", errors="replace").strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else None
    except ValueError:
        outcome = None
    if not isinstance(outcome, dict) or not ({"payload", "error"} & outcome.keys()):
        return _runtime_error(
            "Runtime.ExitError",
            f"Runtime exited with status {process.returncode} without answering",
        )
    if outcome.get("error") is not None:
        return InvocationResult(error=outcome["error"])
    return InvocationResult(payload=outcome["payload"])


def _runtime_error(error_type: str, message: str) -> InvocationResult:
    return InvocationResult(error={"errorType": error_type, "errorMessage": message})


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@contextmanager
def _function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ as the function sees it while its module is imported; restored afterwards."""
    # Only the names involved are touched: other threads keep reading AWS_* meanwhile.
    hidden = [name for name in os.environ if name.startswith(_FUNCTION_SCOPED_PREFIXES)]
    touched = set(hidden) | set(variables)
    saved = {name: os.environ[name] for name in touched if name in os.environ}
    try:
        for name in hidden:
            del os.environ[name]
        os.environ.update({name: str(value) for name, value in variables.items()})
        yield
    finally:
        for name in touched:
            if name in saved:
                os.environ[name] = saved[name]
            else:
                os.environ.pop(name, None)


# The runner moto's Lambda invoke dispatches to (see moto_patches): one stack per process at a time.
_active_runner: FunctionRunner | None = None
_active_lock = threading.Lock()


def activate(runner: FunctionRunner | None) -> FunctionRunner | None:
    """Make `runner` the one Lambda invokes reach; returns the one it replaces."""
    global _active_runner
    with _active_lock:
        previous, _active_runner = _active_runner, runner
    return previous


def active_runner() -> FunctionRunner | None:
    return _active_runner
