"""Webhook secrets and Standard Webhooks signatures, verified with the standardwebhooks package."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from signoff.webhooks.signing import generate_secret, signature_headers

BODY = '{"id":"evt_0123","type":"run.succeeded","data":{"outputs":{"greeting":"Hello, Ada"}}}'


def test_given_a_new_secret_then_it_is_whsec_and_24_or_more_random_bytes():
    first, second = generate_secret(), generate_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) >= 24
    assert first != second


def test_given_signed_headers_when_verified_with_standardwebhooks_then_the_body_is_returned():
    secret = generate_secret()
    headers = signature_headers(
        [secret], message_id="evt_0123", timestamp=datetime.now(UTC), body=BODY
    )

    assert headers["webhook-id"] == "evt_0123"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["type"] == "run.succeeded"


def test_given_another_secret_or_a_changed_body_then_verification_fails():
    headers = signature_headers(
        [generate_secret()], message_id="evt_0123", timestamp=datetime.now(UTC), body=BODY
    )

    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY.replace("Ada", "Eve"), headers)


def test_given_an_old_timestamp_then_standardwebhooks_refuses_a_replay():
    secret = generate_secret()
    headers = signature_headers(
        [secret],
        message_id="evt_0123",
        timestamp=datetime.now(UTC) - timedelta(minutes=10),
        body=BODY,
    )

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_given_two_secrets_during_a_rotation_then_either_secret_verifies():
    old, new = generate_secret(), generate_secret()
    headers = signature_headers(
        [new, old], message_id="evt_0123", timestamp=datetime.now(UTC), body=BODY
    )

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, headers)
    assert Webhook(new).verify(BODY, headers)


def test_given_no_secret_then_nothing_is_signed():
    with pytest.raises(ValueError):
        signature_headers([], message_id="evt_0123", timestamp=datetime.now(UTC), body=BODY)
