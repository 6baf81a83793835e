"""POST /workflows and PUT /workflows/{id} with a YAML body: a Dify DSL export or a native
workflow in YAML.

The routes themselves take JSON (their OpenAPI schema and validation are Powertools'), so a YAML
body is turned into the JSON request it stands for before routing: a Dify DSL is imported (every
import issue answers 400 `invalid_graph`, with node ids, as graph validation does) and exported as
the native document; a native YAML document is passed on as it is. On POST the query parameter
`id` names the new workflow (a DSL has no place for it); on PUT the path names it.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from signoff.dify import import_dsl, is_dify_dsl, native_document
from signoff.errors import InvalidInput
from signoff.graph import read_document

YAML_MEDIA_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_ROUTE = "/workflows"
# PUT /workflows/{workflow_id}: a new version of the workflow.
_VERSION_ROUTE = re.compile(r"^/workflows/[^/]+$")


def is_yaml_workflow_request(event: dict[str, Any]) -> bool:
    method = str(event.get("httpMethod", "")).upper()
    path = str(event.get("path") or "").rstrip("/")
    stage = (event.get("requestContext") or {}).get("stage")
    paths = [path]
    if stage and path.startswith(f"/{stage}/"):
        paths.append(path[len(stage) + 1 :])
    if method == "POST":
        routed = _ROUTE in paths
    elif method == "PUT":
        routed = any(_VERSION_ROUTE.match(candidate) for candidate in paths)
    else:
        return False
    return routed and _media_type(event) in YAML_MEDIA_TYPES


def yaml_workflow_as_json(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its YAML workflow body as the JSON body the route takes; other events as
    they are. Raises GraphInvalid for a DSL that does not import, InvalidInput for a body that
    is not a workflow document."""
    if not is_yaml_workflow_request(event):
        return event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body).decode("utf-8")
        except ValueError as error:
            raise InvalidInput("the YAML body is not UTF-8 text") from error
    document = read_document(body, source="the request body", as_json=False)
    if is_dify_dsl(document):
        document = native_document(import_dsl(document))
    if not isinstance(document, dict):
        raise InvalidInput("the YAML body must be a workflow document (a mapping)")
    workflow_id = (event.get("queryStringParameters") or {}).get("id")
    is_create = str(event.get("httpMethod", "")).upper() == "POST"
    if is_create and workflow_id and "id" not in document:
        document = {"id": workflow_id, **document}
    return {
        **event,
        "body": json.dumps(document),
        "isBase64Encoded": False,
        "headers": _json_content_type(event.get("headers")),
        "multiValueHeaders": _json_content_type(event.get("multiValueHeaders"), multi=True),
    }


def _media_type(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type" and isinstance(value, str):
            return value.split(";", 1)[0].strip().lower()
    return None


def _json_content_type(headers: Any, *, multi: bool = False) -> Any:
    if not isinstance(headers, dict):
        return headers
    kept = {name: value for name, value in headers.items() if name.lower() != "content-type"}
    kept["Content-Type"] = ["application/json"] if multi else "application/json"
    return kept
