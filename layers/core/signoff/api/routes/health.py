"""GET /health: liveness, without authentication."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

import signoff
from signoff.api.models import Health


def health_router() -> Router:
    router = Router()

    @router.get("/health", summary="Is the API up", tags=["meta"])
    def health() -> Health:
        return Health(version=signoff.__version__)

    return router
