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
    return document


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
