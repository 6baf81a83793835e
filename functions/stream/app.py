"""The stream function: the streaming routes (SSE) as an ASGI app.

Lambda Web Adapter (a layer; template.yaml, StreamFunction) starts run.sh, which serves `app` with
uvicorn, and turns each API Gateway event into an HTTP request to it; API Gateway streams the
answer to the client as the app writes it. The local front mounts the same `app`.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from signoff.difyapi.streaming import DIFY_STREAMING_ROUTES
from signoff.redaction import RedactingFormatter
from signoff.settings import Settings
from signoff.streaming.app import STREAMING_ROUTES, StreamingServices, build_streaming_app

logger = Logger(logger_formatter=RedactingFormatter())
# The Dify /v1 and Agno streaming routes come first: Agno's run form shares its path with the
# native run start, which its route hands every other body to.
app = build_streaming_app(
    StreamingServices.from_settings(Settings()),
    routes=[*DIFY_STREAMING_ROUTES, *STREAMING_ROUTES],
)
