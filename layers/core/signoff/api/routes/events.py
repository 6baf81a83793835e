"""GET /events/schema: the JSON Schema of the lifecycle event envelope, without authentication
(like /openapi.json: it describes the API, not a tenant's data)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from signoff.events.schema import event_json_schema


def events_router() -> Router:
    router = Router()
    schema = event_json_schema()

    @router.get(
        "/events/schema",
        summary="The JSON Schema of lifecycle events",
        description=(
            "Every run, node and review event (the event log, EventBridge's detail, webhook "
            "bodies, GET /runs/{run_id}/events) is this envelope; `data` depends on `type`. "
            "The same schema is docs/events.schema.json in the repository."
        ),
        tags=["events"],
        responses={200: {"description": "The event envelope's JSON Schema (draft 2020-12)"}},
    )
    def get_event_schema() -> dict[str, Any]:
        return schema

    return router
