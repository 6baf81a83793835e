"""How a code node's source reaches the sandbox: the CodeRunner interface and its Lambda form.

The sandbox function answers `{"ok": true, "result": {...}}` or
`{"ok": false, "error": {"type", "message"}}` (docs/internals.md); a failure becomes
CodeExecutionError, whose `kind` keeps the sandbox's classification (CodeTimeout, CodeError, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from signoff.nodes.errors import CodeExecutionError, SandboxUnavailable

# The sandbox answers within its own function timeout (well under this); a client-side read
# timeout would make botocore invoke the code a second time.
_LAMBDA_CLIENT_CONFIG = Config(read_timeout=900, connect_timeout=10)


class CodeRunner(Protocol):
    def run(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The dict main(**inputs) returned; CodeExecutionError when the code failed."""
        ...


class _SandboxError(BaseModel):
    type: str
    message: str


class _SandboxResponse(BaseModel):
    ok: bool
    result: dict[str, Any] | None = None
    error: _SandboxError | None = None


def result_from_sandbox_response(response: Mapping[str, Any]) -> dict[str, Any]:
    """The result in a sandbox response, or the CodeExecutionError it reports."""
    try:
        parsed = _SandboxResponse.model_validate(response)
    except ValidationError as error:
        raise CodeExecutionError(f"the sandbox answered in an unknown shape: {error}") from error
    if parsed.ok and parsed.result is not None:
        return parsed.result
    if not parsed.ok and parsed.error is not None:
        raise CodeExecutionError(parsed.error.message, kind=parsed.error.type)
    raise CodeExecutionError("the sandbox answered neither a result nor an error")


class LambdaCodeRunner:
    """Runs code in the sandbox function of its language (synchronous invoke).

    python3 (and any language the javascript function does not take, which the python sandbox
    answers as a contract error) goes to `function_name`; javascript to the Node.js sandbox
    function `javascript_function_name`.
    """

    def __init__(
        self,
        function_name: str,
        lambda_client: Any = None,
        *,
        javascript_function_name: str | None = None,
    ) -> None:
        self._function_name = function_name
        self._javascript_function_name = javascript_function_name
        self._client = lambda_client or boto3.client("lambda", config=_LAMBDA_CLIENT_CONFIG)

    def _function_for(self, language: str) -> str:
        if language != "javascript":
            return self._function_name
        if self._javascript_function_name is None:
            raise CodeExecutionError(
                "javascript code needs the Node.js sandbox function, and none is configured "
                "(SIGNOFF_SANDBOX_JS_FUNCTION_NAME)",
                kind="CodeRuntimeUnavailable",
            )
        return self._javascript_function_name

    def run(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        function_name = self._function_for(language)
        request = {"language": language, "code": code, "inputs": inputs}
        try:
            response = self._client.invoke(
                FunctionName=function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(request).encode(),
            )
            body = response["Payload"].read()
        except (ClientError, BotoCoreError) as error:
            raise SandboxUnavailable(
                f"the sandbox function {function_name} could not be invoked: {error}"
            ) from error

        try:
            answer = json.loads(body) if body else None
        except ValueError:
            answer = None
        if response.get("FunctionError"):
            raise CodeExecutionError(_describe_function_error(answer, body))
        if not isinstance(answer, dict):
            raise CodeExecutionError("the sandbox function answered something other than JSON")
        return result_from_sandbox_response(answer)


def _describe_function_error(answer: Any, body: bytes) -> str:
    if isinstance(answer, dict) and "errorMessage" in answer:
        error_type = answer.get("errorType") or "error"
        return f"the sandbox function failed ({error_type}): {answer['errorMessage']}"
    return f"the sandbox function failed: {body[:500].decode('utf-8', errors='replace')}"
