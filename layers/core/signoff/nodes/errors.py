"""Why a node fails at run time. Each class name is the error type Step Functions' Retry and Catch
match (the Lambda runtime reports `errorType` = the exception's class name), and the `type` of the
node execution's error: keep the names stable.
"""

from __future__ import annotations

from signoff.errors import NodeExecutionError


class InvalidNodeEvent(NodeExecutionError):
    """The node function's event does not have the documented shape (compiler/runtime mismatch)."""


class UnsupportedNodeType(NodeExecutionError):
    """No runtime for this node type: logic nodes (start, end, if-else) compile to native states."""


class InvalidNodeConfig(NodeExecutionError):
    """The node's fields in the event do not describe a valid node of its type."""


class VariableNotFound(NodeExecutionError):
    """A selector names a node or variable the event does not hold."""

    def __init__(self, selector: list[str], reason: str) -> None:
        super().__init__(f"variable {'.'.join(selector)} not found: {reason}", details=selector)
        self.selector = selector


class TemplateRenderError(NodeExecutionError):
    """A template-transform template failed to parse or render, or reached for something unsafe."""


class CodeExecutionError(NodeExecutionError):
    """The code node's code failed in the sandbox: an exception, a limit (time, CPU, memory) or a
    broken contract. `kind` is the sandbox's classification (CodeError, CodeTimeout, ...)."""

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(f"{kind}: {message}" if kind else message, details={"kind": kind})
        self.kind = kind


class CodeOutputError(NodeExecutionError):
    """The code's result does not match the node's declared outputs."""

    def __init__(self, output: str, message: str) -> None:
        super().__init__(f"output {output}: {message}", details={"output": output})
        self.output = output


class SandboxUnavailable(NodeExecutionError):
    """The sandbox function could not be invoked (throttled, missing, ...): worth a retry."""


# --- Nodes that reach other systems (http-request, tool, knowledge-retrieval, document-extractor)
# A refused address is signoff.net.AddressNotAllowed, raised before anything is sent.


class InvalidHttpRequest(NodeExecutionError):
    """The request an http-request node describes cannot be sent: a bad URL, a JSON body that is
    not JSON, an authorization without a key, a file body without a file."""


class HttpRequestFailed(NodeExecutionError):
    """The request was sent and failed on the way: no connection, a timeout, an answer larger
    than the node may read. (An HTTP error status is an answer: the node reports it.)"""


class FileUnavailable(NodeExecutionError):
    """A file given by reference could not be read: its URL answered an error, its upload or
    object does not exist, it is larger than the limit, or the reference is malformed."""


class UnsupportedFileType(NodeExecutionError):
    """The document extractor cannot read this kind of file."""


class TextExtractionFailed(NodeExecutionError):
    """The file is of a supported kind but its text could not be read (a damaged PDF, ...)."""


class ToolNotRegistered(NodeExecutionError):
    """The tool is not in the deployment's registry (SIGNOFF_TOOLS)."""


class ToolInvocationFailed(NodeExecutionError):
    """The tool's function or endpoint failed or answered something other than a tool result."""


class RetrieverNotRegistered(NodeExecutionError):
    """A dataset id is not in the deployment's registry (SIGNOFF_RETRIEVERS)."""


class RetrievalFailed(NodeExecutionError):
    """The knowledge base or retriever failed or answered something other than chunks."""


class InvalidListInput(NodeExecutionError):
    """The list operator's input is not a list, or a condition, order or index does not fit it."""


# --- Secret environment variables (signoff/nodes/secrets.py)


class SecretNotSet(NodeExecutionError):
    """A node reads a secret environment variable whose value was never set for its workflow
    (PUT /workflows/{id}/secrets/{name})."""


class SecretUnavailable(NodeExecutionError):
    """Reading a secret environment variable failed (Secrets Manager refused or failed): worth
    a retry."""
