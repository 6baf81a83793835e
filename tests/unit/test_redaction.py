"""Logs never carry credentials: keys, bearer headers, tokens, task tokens, webhook secrets."""

from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger

from signoff.local.provision import plan_stack
from signoff.redaction import REDACTED, RedactingFilter, RedactingFormatter, redact

API_KEY = "sk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xy"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAb1+sOxDjdbNk3uYdoQ1gIw3TV0"
PROVIDER_KEY = "sk-proj-abcdefghijklmnopqrstuvwx"


def test_given_credentials_by_name_then_their_values_are_replaced_whole():
    event = {
        "headers": {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        "multiValueHeaders": {"authorization": [f"Bearer {API_KEY}"]},
        "authorizationToken": f"Bearer {TOKEN}",
        "taskToken": TASK_TOKEN,
        "webhook": {"secret": WEBHOOK_SECRET, "url": "https://example.com/hook"},
        "X-Api-Key": "anything",
    }

    redacted = redact(event)

    assert redacted["headers"] == {"Authorization": REDACTED, "Content-Type": "application/json"}
    assert redacted["multiValueHeaders"] == {"authorization": REDACTED}
    assert redacted["authorizationToken"] == REDACTED
    assert redacted["taskToken"] == REDACTED
    assert redacted["webhook"] == {"secret": REDACTED, "url": "https://example.com/hook"}
    assert redacted["X-Api-Key"] == REDACTED


def test_given_credentials_inside_text_then_they_are_replaced_and_a_key_keeps_its_prefix():
    text = (
        f"calling with key {API_KEY} and header 'Bearer {TOKEN}', token {TOKEN}, "
        f"signing with {WEBHOOK_SECRET} for provider {PROVIDER_KEY}"
    )

    redacted = redact({"message": text})["message"]

    for secret in (API_KEY, TOKEN, WEBHOOK_SECRET, PROVIDER_KEY):
        assert secret not in redacted
    assert API_KEY[:8] in redacted


def test_given_ordinary_values_then_they_pass_unchanged():
    record = {"prompt_tokens": 12, "token_id": "tok_1", "run_id": "r-1", "ok": True, "n": 1.5}

    assert redact(record) == record


def test_given_the_powertools_logger_with_the_formatter_then_nothing_secret_is_written():
    stream = io.StringIO()
    logger = Logger(
        service="redaction-test", logger_formatter=RedactingFormatter(), logger_handler=None
    )
    logger.addHandler(handler := logging.StreamHandler(stream))
    handler.setFormatter(RedactingFormatter())

    logger.info(f"authorizing Bearer {API_KEY}", extra={"event": {"taskToken": TASK_TOKEN}})
    try:
        raise ValueError(f"bad signature with {WEBHOOK_SECRET}")
    except ValueError:
        logger.exception("delivery failed")

    written = stream.getvalue()
    assert written
    for secret in (API_KEY, TASK_TOKEN, WEBHOOK_SECRET):
        assert secret not in written
    assert json.loads(written.splitlines()[0])["event"] == {"taskToken": REDACTED}


def test_given_a_plain_logging_handler_with_the_filter_then_its_messages_are_redacted():
    stream = io.StringIO()
    plain = logging.getLogger("redaction-test-plain")
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    plain.addHandler(handler)

    plain.warning("retrying with %s", f"Bearer {API_KEY}")

    assert API_KEY not in stream.getvalue()


def test_every_function_of_the_template_logs_through_the_redacting_formatter():
    for spec in plan_stack().functions.values():
        if not spec.runtime.startswith("python"):
            continue
        source = (spec.code_dir / "app.py").read_text(encoding="utf-8")
        # Loggers of one service share the first one configured: each function must set it.
        assert "Logger(logger_formatter=RedactingFormatter())" in source, spec.logical_id


def test_the_nodejs_sandbox_function_logs_nothing_of_what_it_runs():
    # It has no Powertools logger to redact through: it must not write events or results at all.
    for spec in plan_stack().functions.values():
        if spec.runtime.startswith("nodejs"):
            handler = spec.code_dir / "index.mjs"
            assert "console." not in handler.read_text(encoding="utf-8"), "index.mjs logs"
