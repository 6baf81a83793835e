"""http-request: sends the request the node describes and reports the answer, as Dify does.

The url, `key:value` header and param lines, body fields and the api key may hold
`{{#node.var#}}` references. Bodies: none, json (the text must be JSON), raw-text,
x-www-form-urlencoded, form-data (text and file fields) and binary (a file). Authorization:
api-key as bearer (`Authorization: Bearer <key>`), basic (`user:password`, encoded here, or an
already encoded token) or custom (the key in the named header); a key of the form
`secretsmanager:<id>` or `ssm:<name>` is read from there at run time.

Outputs: `status_code`, `body` (the text; empty for a file answer), `headers` (lower-case names),
`files` (a file answer -- an image, a PDF, an octet stream, an attachment -- stored as an upload).
An HTTP error status is an answer like any other; a failed connection, a timeout or an answer
over the size limit fails the node. Every connection goes through the address guard.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from typing import Any

import httpx

from signoff.graph.model import HttpBodyField, HttpRequestNode
from signoff.graph.selectors import render_references
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import FileUnavailable, HttpRequestFailed, InvalidHttpRequest
from signoff.nodes.files import disposition_filename, load_file, read_capped, store_file
from signoff.nodes.llm_prompt import reference_key, referenced_values
from signoff.nodes.variables import VariableScope

# Dify's defaults (HTTP_REQUEST_MAX_*_TIMEOUT, HTTP_REQUEST_NODE_MAX_*_SIZE).
DEFAULT_TIMEOUTS = {"connect": 10.0, "read": 60.0, "write": 20.0}
MAX_TIMEOUT_SECONDS = 600.0
MAX_TEXT_BYTES = 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024
_SECRET_REFERENCE = re.compile(r"^(secretsmanager|ssm):\S+$")
_TEXT_TYPES = ("json", "xml", "javascript", "yaml", "x-www-form-urlencoded", "graphql", "csv")


def inputs(node: HttpRequestNode, scope: VariableScope) -> dict[str, Any]:
    """Every value the node's texts reference (`#node.var#`), and the files its body names."""
    values = referenced_values(node.texts(), scope)
    for selector in node.selectors():
        values.setdefault(reference_key(selector), scope.resolve(selector))
    return values


def run(node: HttpRequestNode, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]:
    request = _build_request(node, inputs, context)
    timeout = _timeout(node)
    try:
        with (
            context.integrations.http_client(timeout=timeout, verify=node.ssl_verify) as client,
            client.stream(
                request["method"],
                request["url"],
                headers=request["headers"],
                **request["body"],
            ) as response,
        ):
            return _outputs(response, context)
    except httpx.TimeoutException as error:
        raise HttpRequestFailed(
            f"{node.method.upper()} {request['url']} timed out ({type(error).__name__})"
        ) from error
    except httpx.InvalidURL as error:
        raise InvalidHttpRequest(f"the URL {request['url']!r} is not valid: {error}") from error
    except httpx.HTTPError as error:
        raise HttpRequestFailed(
            f"{node.method.upper()} {request['url']} failed: {error}"
        ) from error


def _build_request(
    node: HttpRequestNode, inputs: dict[str, Any], context: NodeContext
) -> dict[str, Any]:
    def render(text: str) -> str:
        return render_references(text, lambda selector: inputs.get(reference_key(selector)))

    url = render(node.url).strip()
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidHttpRequest(f"the URL must start with http:// or https://, not {url!r}")
    headers = _lines(render(node.headers))
    auth = _authorization(node, render, context)
    if auth:
        headers = [(k, v) for k, v in headers if k.lower() != auth[0].lower()] + [auth]
    body = _body(node, render, inputs, context, headers)
    params = _lines(render(node.params))
    if params:
        # Added to the URL's own query string (httpx's params= would replace it).
        try:
            url = str(httpx.URL(url).copy_merge_params(params))
        except httpx.InvalidURL as error:
            raise InvalidHttpRequest(f"the URL {url!r} is not valid: {error}") from error
    return {
        "method": node.method.upper(),
        "url": url,
        "headers": headers,
        "body": body,
    }


def _lines(text: str) -> list[tuple[str, str]]:
    """Dify's `key:value` lines (a line without a colon is a key with an empty value)."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        if key.strip():
            pairs.append((key.strip(), value.strip()))
    return pairs


def _authorization(
    node: HttpRequestNode, render: Any, context: NodeContext
) -> tuple[str, str] | None:
    auth = node.authorization
    if auth.type == "no-auth" or auth.config is None:
        return None
    key = render(auth.config.api_key).strip()
    if _SECRET_REFERENCE.match(key):
        key = context.integrations.credentials.resolve(key)
    if not key:
        raise InvalidHttpRequest("api-key authorization needs an api key")
    if auth.config.type == "bearer":
        return ("Authorization", f"Bearer {key}")
    if auth.config.type == "basic":
        token = base64.b64encode(key.encode()).decode() if ":" in key else key
        return ("Authorization", f"Basic {token}")
    header = (auth.config.header or "").strip()
    if not header:
        raise InvalidHttpRequest("custom authorization needs the header that carries the key")
    return (header, key)


def _body(
    node: HttpRequestNode,
    render: Any,
    inputs: dict[str, Any],
    context: NodeContext,
    headers: list[tuple[str, str]],
) -> dict[str, Any]:
    body = node.body
    fields = body.fields
    has_type = any(key.lower() == "content-type" for key, _ in headers)
    if body.type == "none":
        return {}
    if body.type == "json":
        text = render(fields[0].value) if fields else ""
        if not text.strip():
            return {}
        try:
            document = json.loads(text)
        except ValueError as error:
            raise InvalidHttpRequest(f"the JSON body is not valid JSON: {error}") from error
        if not has_type:
            headers.append(("Content-Type", "application/json"))
        return {"content": json.dumps(document, ensure_ascii=False).encode()}
    if body.type == "raw-text":
        if not has_type:
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        return {"content": (render(fields[0].value) if fields else "").encode()}
    if body.type == "x-www-form-urlencoded":
        return {"data": {render(f.key): render(f.value) for f in fields if f.key}}
    if body.type == "form-data":
        # Text fields as parts without a filename: multipart even when no file is sent, as in Dify.
        parts: list[tuple[str, tuple[str | None, bytes, str] | tuple[None, bytes]]] = []
        for field in fields:
            if not field.key:
                continue
            if field.type == "file":
                name = render(field.key)
                parts += [(name, loaded) for loaded in _field_files(field, inputs, context)]
            else:
                parts.append((render(field.key), (None, render(field.value).encode())))
        return {"files": parts} if parts else {}
    # binary: the one file the body names.
    loaded = [item for field in fields for item in _field_files(field, inputs, context)]
    if not loaded:
        raise InvalidHttpRequest("a binary body needs a file")
    _, content, mime_type = loaded[0]
    if not has_type:
        headers.append(("Content-Type", mime_type or "application/octet-stream"))
    return {"content": content}


def _field_files(
    field: HttpBodyField, inputs: dict[str, Any], context: NodeContext
) -> list[tuple[str, bytes, str]]:
    if not field.file:
        return []
    value = inputs.get(reference_key(field.file))
    values = value if isinstance(value, list) else [value] if value is not None else []
    loaded = []
    for item in values:
        try:
            file = load_file(item, context, max_bytes=MAX_FILE_BYTES)
        except FileUnavailable as error:
            raise InvalidHttpRequest(f"the body's file could not be read: {error}") from error
        loaded.append((file.filename, file.content, file.mime_type or "application/octet-stream"))
    return loaded


def _timeout(node: HttpRequestNode) -> httpx.Timeout:
    given = node.timeout
    seconds = dict(DEFAULT_TIMEOUTS)
    if given is not None:
        for name in ("connect", "read", "write"):
            value = getattr(given, name) or getattr(given, f"max_{name}_timeout")
            if value:
                seconds[name] = min(float(value), MAX_TIMEOUT_SECONDS)
    return httpx.Timeout(seconds["read"], **seconds, pool=seconds["connect"])


def _outputs(response: httpx.Response, context: NodeContext) -> dict[str, Any]:
    headers = dict(response.headers.items())
    mime_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    disposition = headers.get("content-disposition", "")
    if _is_file(mime_type, disposition) and context.integrations.uploads_bucket:
        content = _read(response, MAX_FILE_BYTES)
        name = _file_name(disposition, response.url, mime_type)
        stored = store_file(content, filename=name, mime_type=mime_type, context=context)
        return {
            "status_code": response.status_code,
            "body": "",
            "headers": headers,
            "files": [stored] if stored else [],
        }
    content = _read(response, MAX_TEXT_BYTES)
    return {
        "status_code": response.status_code,
        "body": content.decode(response.encoding or "utf-8", errors="replace"),
        "headers": headers,
        "files": [],
    }


def _read(response: httpx.Response, limit: int) -> bytes:
    try:
        return read_capped(response, limit, what="the answer")
    except FileUnavailable as error:
        raise HttpRequestFailed(str(error)) from error


def _is_file(mime_type: str, disposition: str) -> bool:
    if disposition.lower().startswith("attachment"):
        return True
    if not mime_type or mime_type.startswith("text/"):
        return False
    return not any(kind in mime_type for kind in _TEXT_TYPES)


def _file_name(disposition: str, url: httpx.URL, mime_type: str) -> str:
    name = disposition_filename(disposition) or url.path.rsplit("/", 1)[-1]
    return name or f"file{mimetypes.guess_extension(mime_type) or ''}"
