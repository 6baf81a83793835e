"""Secrets never reach the logs: a Powertools log formatter redacting them, used by every function.

Two nets, applied to every log record after Powertools has structured it (message, extra keys,
a logged event, exception text):
- by name: the value of any key that names a credential (Authorization, cookies, tokens, task
  tokens, secrets, passwords, API keys) is replaced whole, however it looks;
- by shape: wherever they appear in text, API keys (`sk_...`, its shown prefix kept), bearer
  credentials, JWTs (short-lived tokens), webhook secrets (`whsec_...`) and provider keys in the
  OpenAI style (`sk-...`).

A third net, by value: the values of workflow secrets a node function resolved
(`remember_secret_values`) are replaced wherever they appear in text, in logs as in the node
records and events the node function writes (`redact_values`).

Each function must build its Logger with this formatter (`Logger(logger_formatter=
RedactingFormatter())`): loggers of one service share the first one configured, and in the local
cloud every function runs in one process.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Mapping
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "[redacted]"
# Key names compared without case, '-' or '_'.
SENSITIVE_NAMES = frozenset(
    {
        "authorization",
        "authorizationtoken",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "xapikey",
        "apikey",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "tasktoken",
        "secret",
        "clientsecret",
        "webhooksecret",
        "signingsecret",
        "password",
        "secretaccesskey",
        "awssecretaccesskey",
        "sessiontoken",
        "awssessiontoken",
        "privatekey",
        "plaintext",
    }
)
_SHOWN_KEY_PREFIX = 8
_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"), lambda m: f"{m.group(1)} {REDACTED}"),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+"),
        lambda m: REDACTED,
    ),
    (
        re.compile(r"\bsk_[A-Za-z0-9_-]{5,}"),
        lambda m: f"{m.group(0)[:_SHOWN_KEY_PREFIX]}...{REDACTED}",
    ),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), lambda m: f"whsec_{REDACTED}"),
    # Provider keys in the OpenAI style.
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), lambda m: f"sk-{REDACTED}"),
)
_MAX_DEPTH = 20


# Values of workflow secrets resolved in this process (signoff/nodes/secrets.py): never logged.
_secret_values: set[str] = set()
_secret_values_lock = threading.Lock()


def remember_secret_values(values: Collection[str]) -> None:
    """Redact these values (workflow secrets just resolved) from every log record from now on."""
    with _secret_values_lock:
        _secret_values.update(value for value in values if value)


def redact_values(value: Any, secrets: Collection[str], _depth: int = 0) -> Any:
    """A copy of `value` (JSON-like) where every occurrence of one of `secrets` inside a string
    (or a key) is replaced by REDACTED: what a node reports must not carry a secret it read."""
    wanted = sorted((secret for secret in secrets if secret), key=len, reverse=True)
    if not wanted:
        return value
    return _replace_values(value, wanted, _depth)


def _replace_values(value: Any, secrets: list[str], depth: int) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            _replace_values(key, secrets, depth + 1): _replace_values(item, secrets, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_replace_values(item, secrets, depth + 1) for item in value]
    return value


def is_sensitive_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "").lower() in SENSITIVE_NAMES


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if _secret_values:
        with _secret_values_lock:
            known = sorted(_secret_values, key=len, reverse=True)
        for secret in known:
            if secret in text:
                text = text.replace(secret, REDACTED)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` (JSON-like) with every credential replaced."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if _depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and is_sensitive_name(key) and value[key] not in (None, "")
            else redact(value[key], _depth + 1)
            for key in value
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, _depth + 1) for item in value]
    # Anything else is logged as its text: redact that text.
    return redact_text(str(value))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log formatter, with every record redacted before it is written."""

    def serialize(self, log: Mapping[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(redact(log))


class RedactingFilter(logging.Filter):
    """For plain logging handlers (not Powertools): redacts a record's message in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True
