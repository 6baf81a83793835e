"""What every request passes before it is routed: the body size limit and the rate limits.

Powertools validates a request's body before any middleware runs, so these checks sit in front of
the resolver (SignoffResolver.resolve): a body over the limit is refused before it is parsed, and
every authenticated request counts against its key and tenant, invalid ones included.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from signoff.api.errors import response_for
from signoff.api.principal import principal_from_event
from signoff.api.yaml_workflows import yaml_workflow_as_json
from signoff.auth.principal import Principal
from signoff.errors import (
    InvalidInput,
    InvalidJson,
    PayloadTooLarge,
    RateLimited,
    SignoffError,
    UnsupportedMediaType,
)
from signoff.ratelimit.limiter import RateLimiter

logger = Logger(child=True)


def body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        # The decoded size, without decoding: four characters carry three bytes.
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8"))


def media_type(event: Mapping[str, Any]) -> str | None:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    value = headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value else None


def is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# Dify's file upload and Agno's run form (template.yaml: BinaryMediaTypes, so they arrive intact)
# are the only multipart bodies: on these paths only, and with the boundary that delimits them.
MULTIPART = "multipart/form-data"
MULTIPART_PATHS = (re.compile(r"^/v1/files/upload$"), re.compile(r"^/workflows/[^/]+/runs$"))


def check_multipart(event: Mapping[str, Any]) -> None:
    path = str(event.get("path") or "")
    if not any(pattern.match(path) for pattern in MULTIPART_PATHS):
        raise UnsupportedMediaType(f"send the request body as application/json, not {MULTIPART}")
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if "boundary=" not in (headers.get("content-type") or ""):
        raise InvalidInput("a multipart/form-data body needs the boundary of its parts")


def key_bucket(principal: Principal) -> str:
    return f"key#{principal.key_id}"


def tenant_bucket(principal: Principal) -> str:
    return f"tenant#{principal.tenant_id}"


class RequestGate:
    def __init__(self, *, max_request_bytes: int, limiter: RateLimiter | None) -> None:
        self._max_request_bytes = max_request_bytes
        self._limiter = limiter

    @property
    def max_request_bytes(self) -> int:
        return self._max_request_bytes

    def check(self, event: Mapping[str, Any]) -> None:
        """Nothing when the request may go on; the SignoffError to answer with otherwise."""
        size = body_size(event)
        if size > self._max_request_bytes:
            raise PayloadTooLarge(
                f"the request body is {size} bytes, more than the limit of "
                f"{self._max_request_bytes} bytes"
            )
        media = media_type(event)
        if size and media is not None and not is_json(media) and media != MULTIPART:
            # Every route takes JSON (and the upload routes multipart forms): another body is
            # refused before anything tries to parse it.
            raise UnsupportedMediaType(f"send the request body as application/json, not {media}")
        if size and media == MULTIPART:
            check_multipart(event)
        if size and event.get("isBase64Encoded") and media != MULTIPART:
            # A body that is not UTF-8 text arrives base64-encoded; JSON is UTF-8.
            try:
                base64.b64decode(event.get("body") or "").decode("utf-8")
            except ValueError as error:
                raise InvalidJson("the request body is not valid JSON (not UTF-8)") from error
        principal = principal_from_event(event)
        if principal is not None:
            self._limit(principal)

    def _limit(self, principal: Principal) -> None:
        if self._limiter is None:
            return
        buckets = []
        if principal.key_limit is not None:
            buckets.append(("key", key_bucket(principal), principal.key_limit))
        if principal.tenant_limit is not None and principal.tenant_id:
            buckets.append(("tenant", tenant_bucket(principal), principal.tenant_limit))
        for scope, bucket, limit in buckets:
            try:
                decision = self._limiter.acquire(bucket, limit)
            except Exception:
                # The limiter's store failing must not take the API down with it.
                logger.warning("rate limiter unavailable: request let through", exc_info=True)
                return
            if not decision.allowed:
                raise RateLimited(
                    f"more than {limit.requests_per_minute} requests a minute for this {scope}: "
                    f"retry after {decision.retry_after_seconds} s",
                    retry_after=decision.retry_after_seconds,
                )


class SignoffResolver(APIGatewayRestResolver):
    """The API's resolver: the gate first, then Powertools' routing, validation and handlers."""

    def __init__(self, gate: RequestGate, **options: Any) -> None:
        super().__init__(**options)
        self._gate = gate

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            if body_size(event) <= self._gate.max_request_bytes:
                # A YAML workflow (a Dify DSL export) becomes the JSON request it stands for.
                event = yaml_workflow_as_json(event)
            self._gate.check(event)
        except SignoffError as refusal:
            proxy_event = APIGatewayProxyEvent(event)
            return ResponseBuilder(response_for(refusal, path=event.get("path"))).build(proxy_event)
        return super().resolve(event, context)
