"""/tokens: exchange a key for a short-lived, scoped token (for browsers and reviewer links)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from signoff.api.auth_models import CreateTokenRequest, TokenIssued
from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.auth.tokens import TokenService
from signoff.errors import ConfigurationError

_ERROR = {"application/json": {"model": ErrorBody}}


def tokens_router(tokens: TokenService | None) -> Router:
    router = Router()

    @router.post(
        "/tokens",
        summary="Exchange this key for a short-lived token with the given scopes",
        description="Scopes: runs:<run_id>:read (read a run), runs:<run_id>:reviews (read and "
        "decide its reviews), workflows:<workflow_id>:runs (start runs). The token works as "
        "Authorization: Bearer <token> on exactly those routes until it expires.",
        tags=["tokens"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The token",
                "content": {"application/json": {"model": TokenIssued}},
            },
            404: {"description": "A scope names no resource of this tenant", "content": _ERROR},
        },
    )
    def create_token(
        principal: CurrentPrincipal, request: Annotated[CreateTokenRequest, Body(embed=False)]
    ) -> Response[TokenIssued]:
        if tokens is None:
            raise ConfigurationError("setting token_secret_ref is missing")
        issued = tokens.issue(principal, request.scopes, request.subject, request.ttl_seconds)
        body = TokenIssued(
            token=issued.token,
            token_id=issued.token_id,
            subject=issued.subject,
            scopes=issued.scopes,
            expires_at=datetime.fromtimestamp(issued.expires_at, UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            expires_in=max(0, issued.expires_at - int(time.time())),
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(mode="json"),
        )

    return router
