"""A webhook receiver on localhost, as a subscriber would write one.

It verifies every delivery with the `standardwebhooks` package (the secret is set once the
subscription is created), answers as its script says, and keeps a dedup log by webhook-id: a
delivery whose id was already accepted is acknowledged and not applied again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    answered: int


# status to answer for the n-th delivery (1-based) of one webhook-id
Script = Callable[[int], int]


def always(status: int) -> Script:
    return lambda _attempt: status


def failing_first(times: int, status: int = 500) -> Script:
    return lambda attempt: status if attempt <= times else 200


@dataclass
class WebhookReceiver:
    script: Script = field(default=lambda _attempt: 200)
    secret: str | None = None
    path: str = "/hooks/signoff"
    received: list[Received] = field(default_factory=list)
    # webhook-id -> the payload applied (the first accepted delivery of that id)
    dedup_log: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the receiver first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                status = receiver._receive(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _receive(self, headers: dict[str, str], body: bytes) -> int:
        lowered = {name.lower(): value for name, value in headers.items()}
        webhook_id = lowered.get("webhook-id", "")
        with self._lock:
            verified = self._verify(lowered, body)
            attempt = 1 + sum(1 for seen in self.received if seen.webhook_id == webhook_id)
            status = self.script(attempt) if verified else 400
            if 200 <= status < 300:
                if webhook_id in self.dedup_log:
                    self.duplicates.append(webhook_id)
                else:
                    self.dedup_log[webhook_id] = json.loads(body)
            self.received.append(
                Received(
                    webhook_id=webhook_id,
                    timestamp=lowered.get("webhook-timestamp", ""),
                    signature=lowered.get("webhook-signature", ""),
                    body=body,
                    verified=verified,
                    answered=status,
                )
            )
        return status

    def _verify(self, headers: dict[str, str], body: bytes) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def attempts_of(self, webhook_id: str) -> list[Received]:
        with self._lock:
            return [seen for seen in self.received if seen.webhook_id == webhook_id]

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition():
                    return
            time.sleep(0.05)
        raise AssertionError(f"the receiver did not see what was expected in {timeout} s")
