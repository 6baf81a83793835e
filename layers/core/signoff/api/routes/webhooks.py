"""/webhooks: a tenant's admin subscribes URLs to lifecycle events and reads their deliveries.

A subscription's secret is shown in full once, when it is created (or rotated). POST /webhooks
honours Idempotency-Key: the same key and body answer the first subscription (with its secret)
again, another body 422.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

from signoff.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from signoff.api.idempotency import IdempotentRequests, StoredResponse
from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.api.routes.runs import replay
from signoff.api.webhook_models import (
    CreatedWebhook,
    CreateWebhookRequest,
    DeliveryList,
    DeliveryView,
    RotatedWebhookSecret,
    RotateSecretRequest,
    WebhookList,
    WebhookView,
)
from signoff.errors import ConfigurationError
from signoff.webhooks.subscriptions import WebhookService

_ERROR = {"application/json": {"model": ErrorBody}}
_NOT_FOUND = {"description": "No such webhook", "content": _ERROR}


def webhooks_router(
    webhooks: WebhookService | None, idempotency: IdempotentRequests | None = None
) -> Router:
    router = Router()
    requests_once = idempotency or IdempotentRequests(None)

    def service() -> WebhookService:
        if webhooks is None:
            raise ConfigurationError("setting webhooks_table is missing")
        return webhooks

    @router.post(
        "/webhooks",
        summary="Subscribe a URL to events (the secret is shown this once)",
        description="Deliveries follow the Standard Webhooks spec: webhook-id (the event id), "
        "webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with the secret).",
        tags=["webhooks"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The subscription and its secret; store the secret now",
                "content": {"application/json": {"model": CreatedWebhook}},
            },
            400: {"description": "A refused URL or an unknown event type", "content": _ERROR},
            409: {
                "description": "The Idempotency-Key's first request is running",
                "content": _ERROR,
            },
            422: {
                "description": "The Idempotency-Key was used for another request",
                "content": _ERROR,
            },
        },
    )
    def create_webhook(
        principal: CurrentPrincipal,
        request: Annotated[CreateWebhookRequest, Body(embed=False)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_HEADER,
                description="Send the same key again (with the same body) to get the first "
                "subscription instead of a second one; remembered 24 hours.",
            ),
        ] = None,
    ) -> Response[CreatedWebhook]:
        def create() -> StoredResponse:
            record = service().create(
                principal.tenant_id,
                url=request.url,
                events=request.events,
                description=request.description,
            )
            created = CreatedWebhook(**WebhookView.of(record).model_dump(), secret=record.secret)
            return StoredResponse(HTTPStatus.CREATED, created.model_dump(mode="json"))

        answer = requests_once.run(
            tenant_id=principal.tenant_id,
            operation="POST /webhooks",
            key=idempotency_key,
            request={"body": request.model_dump(mode="json")},
            action=create,
            lambda_context=router.lambda_context,
        )
        return replay(answer)

    @router.get("/webhooks", summary="List the tenant's webhook subscriptions", tags=["webhooks"])
    def list_webhooks(principal: CurrentPrincipal) -> WebhookList:
        return WebhookList(
            data=[WebhookView.of(record) for record in service().list(principal.tenant_id)]
        )

    @router.get(
        "/webhooks/<webhook_id>",
        summary="Read a webhook subscription (never its secret)",
        tags=["webhooks"],
        responses={200: {"description": "The subscription"}, 404: _NOT_FOUND},
    )
    def get_webhook(principal: CurrentPrincipal, webhook_id: Annotated[str, Path()]) -> WebhookView:
        return WebhookView.of(service().get(principal.tenant_id, webhook_id))

    @router.delete(
        "/webhooks/<webhook_id>",
        summary="Delete a webhook subscription: nothing more is delivered to it",
        tags=["webhooks"],
        status_code=HTTPStatus.NO_CONTENT,
        responses={204: {"description": "Deleted"}, 404: _NOT_FOUND},
    )
    def delete_webhook(
        principal: CurrentPrincipal, webhook_id: Annotated[str, Path()]
    ) -> Response[None]:
        service().delete(principal.tenant_id, webhook_id)
        return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

    @router.post(
        "/webhooks/<webhook_id>/rotate-secret",
        summary="Rotate a webhook's signing secret (the new one is shown this once)",
        description="For grace_seconds (24 hours unless asked otherwise) every delivery carries "
        "two signatures, by the new and the old secret, so receivers can switch without losing "
        "a delivery.",
        tags=["webhooks"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The new secret and the old one's end",
                "content": {"application/json": {"model": RotatedWebhookSecret}},
            },
            404: _NOT_FOUND,
            409: {"description": "A concurrent rotation won", "content": _ERROR},
        },
    )
    def rotate_webhook_secret(
        principal: CurrentPrincipal,
        webhook_id: Annotated[str, Path()],
        request: Annotated[RotateSecretRequest | None, Body(embed=False)] = None,
    ) -> Response[RotatedWebhookSecret]:
        grace = request.grace_seconds if request is not None else None
        rotated = service().rotate_secret(principal.tenant_id, webhook_id, grace)
        body = RotatedWebhookSecret(
            webhook=WebhookView.of(rotated.webhook),
            secret=rotated.secret,
            previous_secret_expires_at=rotated.previous_secret_expires_at,
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(mode="json"),
        )

    @router.get(
        "/webhooks/<webhook_id>/deliveries",
        summary="A webhook's deliveries, newest first, with every attempt",
        tags=["webhooks"],
        responses={200: {"description": "The deliveries"}, 404: _NOT_FOUND},
    )
    def list_webhook_deliveries(
        principal: CurrentPrincipal,
        webhook_id: Annotated[str, Path()],
        limit: Annotated[int, Query(ge=1, le=100, description="Deliveries per page")] = 50,
        after: Annotated[
            str | None, Query(max_length=200, description="next_cursor of the previous page")
        ] = None,
    ) -> DeliveryList:
        records, cursor = service().deliveries(
            principal.tenant_id, webhook_id, limit=limit, after=after
        )
        return DeliveryList(
            data=[DeliveryView.of(record) for record in records], next_cursor=cursor
        )

    return router
