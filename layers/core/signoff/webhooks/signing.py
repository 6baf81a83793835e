"""Webhook secrets and the Standard Webhooks signature headers.

A secret is `whsec_` + base64 of 32 random bytes; the signature is the `standardwebhooks`
package's v1 (HMAC-SHA256 of `<id>.<timestamp>.<body>`). While a rotated secret's grace period
runs, a delivery carries one signature per secret, space-separated, as the spec allows: a
receiver that still holds the old secret and one that has the new one both verify it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(
    signing_secrets: Sequence[str], *, message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret given."""
    if not signing_secrets:
        raise ValueError("a delivery needs at least one secret to sign with")
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in signing_secrets
    ]
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(int(timestamp.timestamp())),
        SIGNATURE_HEADER: " ".join(signatures),
    }
