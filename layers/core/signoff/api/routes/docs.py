"""GET /openapi.json, GET /docs (Swagger UI) and the UI's assets, all served by the api itself.

The UI's script and style are the Swagger UI build Powertools ships, served under the names its
page asks for, so /docs works offline. (The `swagger_ui_bundle` package carries Swagger UI 4,
which refuses the OpenAPI 3.1 documents Powertools generates.)

Both the document and the page come from `openapi_document`, which corrects what Powertools
cannot know: request validation failures answer 400 in the API's error shape, not 422.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path as FilePath
from typing import Annotated, Any

import aws_lambda_powertools.event_handler as event_handler
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import Server
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from signoff.difyapi.agno import AgnoRunForm, AgnoRunOutput
from signoff.errors import NotFound

DOCS_PATH = "/docs"
OPENAPI_PATH = "/openapi.json"
# Routes the gateway serves without an API key (template.yaml: Auth: NONE).
PUBLIC_PATHS = frozenset({"/health"})

_ASSET_DIRECTORY = FilePath(event_handler.__file__).parent / "openapi" / "swagger_ui"
# The asset names Powertools' Swagger page loads from its base URL, and their media types.
SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "text/javascript; charset=utf-8",
    "swagger-ui.min.css": "text/css; charset=utf-8",
}
_ERROR_RESPONSE = {
    "description": "Invalid request: the field is named in the body",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
_COMMON_ERRORS = {
    "400": "Invalid request: the field is named in the body",
    "401": "No valid API key or token",
    "403": "This key or token may not use this route",
    "404": "No such resource (in this tenant)",
    "413": "The request body is too large",
    "415": "The request body is not JSON",
    "429": "Too many requests: retry after the Retry-After header's seconds",
    "500": "Internal error (no details are given)",
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")

# What the routes' signatures cannot declare, added to the document here (the one place).
# Multipart bodies: the upload route and Agno's run form parse their form themselves
# (signoff.difyapi.forms); a Powertools Form/File parameter would parse the body first, with its
# own rules (it refuses a form API Gateway did not base64-encode) and its own error answers.
# Agno's answers to its form come from the streaming app (signoff.difyapi.streaming).
_UPLOAD_FORM = {
    "type": "object",
    "required": ["file", "user"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The file's content"},
        "user": {"type": "string", "minLength": 1, "description": "The end user uploading it"},
    },
}
_AGNO_RUN_FORM = "AgnoRunForm"
_AGNO_RUN_OUTPUT = "AgnoRunOutput"
_RUN_STARTS = "/workflows/{workflow_id}/runs"
_RUN_STREAM_DESCRIPTION = (
    "`response_mode: streaming`: the run's events in Dify's SSE format (`id: <sequence>` and "
    "`data: {json}` per event). Agno's form with stream=true: `event: <Name>` and "
    "`data: {json}` per event (RunStarted, StepStarted, StepCompleted, ..., WorkflowCompleted)."
)


def register_docs(app: APIGatewayRestResolver) -> None:
    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_json() -> Response[str]:
        body = json.dumps(openapi_document(app), indent=2)
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_page() -> Response[str]:
        # The page names its spec's URL as ?format=json, as Powertools' own page does.
        if (app.current_event.query_string_parameters or {}).get("format") == "json":
            return openapi_json()
        # Relative to the page: /dev/docs loads /dev/docs/<asset> under any stage prefix.
        base = DOCS_PATH.lstrip("/")
        spec = json.dumps(openapi_document(app)).replace("</", "<\\/")
        page = generate_swagger_html(
            spec,
            f"{base}/swagger-ui-bundle.min.js",
            f"{base}/swagger-ui.min.css",
            base,
            None,
            persist_authorization=True,
        )
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)

    @app.get(f"{DOCS_PATH}/<asset>", include_in_schema=False, cache_control="max-age=86400")
    def swagger_asset(asset: Annotated[str, Path()]) -> Response[str]:
        media_type = SWAGGER_ASSETS.get(asset)
        if media_type is None:
            raise NotFound(f"no documentation asset {asset}")
        return Response(status_code=200, content_type=media_type, body=_read_asset(asset))


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The API's OpenAPI document, its server being the stage prefix this request came through."""
    text = app.get_openapi_json_schema(servers=[Server(url=_base_path(app) or "/")])
    document: dict[str, Any] = json.loads(text)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            validation = responses.get("422")
            if validation is not None and "HTTPValidationError" in json.dumps(validation):
                del responses["422"]
                responses.setdefault("400", _ERROR_RESPONSE)
            if path in PUBLIC_PATHS:
                operation["security"] = []
            else:
                # What the gate, the authorizer and the exception mapping may answer anywhere.
                for status, description in _COMMON_ERRORS.items():
                    responses.setdefault(status, _error(description))
    schemas = document.get("components", {}).get("schemas", {})
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    _add_multipart_forms(document)
    return document


def _add_multipart_forms(document: dict[str, Any]) -> None:
    """The multipart bodies (and Agno's answers to its form) the routes' signatures cannot say."""
    paths = document.get("paths", {})
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    upload = paths.get("/v1/files/upload", {}).get("post")
    if upload is not None:
        upload["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}},
        }
    start = paths.get(_RUN_STARTS, {}).get("post")
    if start is None:
        return
    for model in (AgnoRunForm, AgnoRunOutput):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[model.__name__] = definition
    body = start.setdefault("requestBody", {"required": True, "content": {}})
    body["content"]["multipart/form-data"] = {
        "schema": {"$ref": f"#/components/schemas/{_AGNO_RUN_FORM}"}
    }
    ok = start["responses"].setdefault("200", {"description": "The run", "content": {}})
    ok["description"] = f"{ok.get('description') or 'The run'} (Agno's form: its run output)"
    answers = ok.setdefault("content", {})
    native = answers.get("application/json", {}).get("schema")
    agno = {"$ref": f"#/components/schemas/{_AGNO_RUN_OUTPUT}"}
    answers["application/json"] = {"schema": {"anyOf": [native, agno]} if native else agno}
    answers["text/event-stream"] = {
        "schema": {"type": "string", "description": _RUN_STREAM_DESCRIPTION}
    }


@cache
def _read_asset(asset: str) -> str:
    return (_ASSET_DIRECTORY / asset).read_text(encoding="utf-8")


def _base_path(app: APIGatewayRestResolver) -> str:
    """The stage prefix the client sees (`/dev`), empty behind a custom domain or locally."""
    context = app.current_event.request_context
    stage = context.stage
    if stage and stage != "$default" and (context.path or "").startswith(f"/{stage}/"):
        return f"/{stage}"
    return ""
