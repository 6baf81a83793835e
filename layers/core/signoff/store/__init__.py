"""DynamoDB repositories, one module per table, each behind a small Protocol.

This module holds what the repositories share: the item codec (JSON payloads live in DynamoDB as
JSON strings, see docs/internals.md), the clock format of every stored time, how a failed
condition is recognised, and the conditional update that answers with the item either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from signoff.errors import NotFound

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def utc_now_iso() -> str:
    """The current time as stored everywhere: ISO 8601 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def dump_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_item(attributes: Mapping[str, Any], *, json_fields: Iterable[str] = ()) -> dict[str, Any]:
    """A DynamoDB item from plain attributes; `json_fields` are stored as JSON strings.

    Attributes that are None are left out, so a condition can test them with attribute_exists.
    """
    as_json = set(json_fields)
    item: dict[str, Any] = {}
    for name, value in attributes.items():
        if value is None:
            continue
        item[name] = _serializer.serialize(dump_json(value) if name in as_json else value)
    return item


def from_item(item: Mapping[str, Any], *, json_fields: Iterable[str] = ()) -> dict[str, Any]:
    """Plain attributes from a DynamoDB item: the reverse of `to_item`, integers as int."""
    as_json = set(json_fields)
    attributes: dict[str, Any] = {}
    for name, raw in item.items():
        value = _deserializer.deserialize(raw)
        if name in as_json and isinstance(value, str):
            value = json.loads(value)
        elif not isinstance(value, bool) and _is_integral_decimal(value):
            value = int(value)
        attributes[name] = value
    return attributes


def to_value(value: Any) -> dict[str, Any]:
    """One attribute value for ExpressionAttributeValues."""
    return _serializer.serialize(value)


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def update_or_stored(
    client: Any,
    *,
    table: str,
    key: dict[str, Any],
    update: str,
    condition: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    missing: str,
) -> tuple[dict[str, Any], bool]:
    """A conditional UpdateItem answering the item after it and True, or, when the condition
    refused it, the item as stored and False (in the same request: no read after the refusal).
    NotFound (`<missing> not found`) when there is no item at all."""
    request: dict[str, Any] = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if values:
        request["ExpressionAttributeValues"] = values
    if names:
        request["ExpressionAttributeNames"] = names
    try:
        response = client.update_item(**request)
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        item = error.response.get("Item")
        if not item:
            raise NotFound(f"{missing} not found") from error
        return item, False
    return response["Attributes"], True


def _is_integral_decimal(value: Any) -> bool:
    return isinstance(value, Decimal) and value == value.to_integral_value()
