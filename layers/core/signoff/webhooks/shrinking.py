"""Webhook payloads stay small: large values are replaced by a link to fetch them.

A value that is a payload reference (`{"$signoff_ref": ...}`, a value too large for Step
Functions, kept in S3) is never resolved for a webhook; it and, when the event is still larger
than the limit, the largest values of its `data` (two levels deep: `outputs.text` before
`outputs`) become

    {"$signoff_link": {"href": "<API URL>/runs/<run id>[/nodes|/reviews]", "size": <bytes>}}

where href is the API route that answers the full value (with the subscriber's API key), and
size the value's size in bytes of JSON. The envelope's other fields are never touched.
"""

from __future__ import annotations

import json
from typing import Any

from signoff.payloads import REF, is_ref

LINK = "$signoff_link"
DEFAULT_MAX_BYTES = 16 * 1024


def shrink_event(
    envelope: dict[str, Any], *, api_url: str | None, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, Any]:
    """A copy of `envelope` whose references and (past `max_bytes`) large values are links."""
    href = link_for(envelope, api_url)
    data = _replace_refs(envelope.get("data") or {}, href)
    shrunk = {**envelope, "data": data}
    # Replacing one value changes the compact JSON's size by exactly the difference of the two
    # values' sizes: the running total needs no re-serialisation.
    total = _size(shrunk)
    if total <= max_bytes:
        return shrunk
    data_size = _size(data)

    def replace(container: dict[str, Any], key: str) -> None:
        nonlocal total
        old = _size(container[key])
        link = _link(href, old)
        if _is_link(container[key]) or _size(link) >= old:
            return
        container[key] = link
        total -= old - _size(link)

    for key in sorted(data, key=lambda name: -_size(data[name])):
        value = data[key]
        if isinstance(value, dict) and not _is_link(value):
            for inner_key in sorted(value, key=lambda name: -_size(value[name])):
                if total <= max_bytes:
                    return shrunk
                replace(value, inner_key)
        if total <= max_bytes:
            return shrunk
        replace(data, key)
    if total > max_bytes:
        # Many small values: the whole of data is one link.
        shrunk["data"] = _link(href, data_size)
    return shrunk


def link_for(envelope: dict[str, Any], api_url: str | None) -> str:
    """The API route answering this event's full values."""
    base = (api_url or "").rstrip("/")
    path = f"/runs/{envelope.get('run_id', '')}"
    event_type = str(envelope.get("type", ""))
    if event_type.startswith(("node.", "iteration.", "loop.")):
        path += "/nodes"
    elif event_type.startswith("review."):
        path += "/reviews"
    return base + path


def _link(href: str, size: int) -> dict[str, Any]:
    return {LINK: {"href": href, "size": size}}


def _replace_refs(value: Any, href: str) -> Any:
    if is_ref(value):
        size = value[REF].get("size") if isinstance(value[REF], dict) else None
        return _link(href, int(size) if isinstance(size, int) else _size(value))
    if isinstance(value, dict):
        return {key: _replace_refs(item, href) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_refs(item, href) for item in value]
    return value


def _is_link(value: Any) -> bool:
    return isinstance(value, dict) and LINK in value and len(value) == 1


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
