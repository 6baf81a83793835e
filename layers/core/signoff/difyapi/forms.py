"""multipart/form-data request bodies (Dify's file upload, Agno's run form), parsed by
python-multipart from the proxy event's body.

API Gateway hands a multipart body over base64-encoded (template.yaml lists it in
BinaryMediaTypes); a gateway that passes it as text gives its UTF-8 characters, re-encoded here.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from python_multipart import parse_form
from python_multipart.exceptions import FormParserError

from signoff.errors import InvalidInput


class InvalidForm(InvalidInput):
    code = "invalid_form"


@dataclass(frozen=True)
class UploadedPart:
    field_name: str
    filename: str
    content_type: str | None
    content: bytes


@dataclass(frozen=True)
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedPart] = field(default_factory=dict)


def request_body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidForm("the request body is not valid base64") from error
    return body.encode("utf-8")


def parse_multipart(event: Mapping[str, Any]) -> FormData:
    """The text fields and files of a multipart/form-data proxy event (the first of each name)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise InvalidForm("send the request body as multipart/form-data")
    body = request_body_bytes(event)
    fields: dict[str, str] = {}
    files: dict[str, UploadedPart] = {}

    def on_field(part: Any) -> None:
        name = (part.field_name or b"").decode("utf-8", "replace")
        value = part.value
        fields.setdefault(name, value.decode("utf-8", "replace") if value is not None else "")

    def on_file(part: Any) -> None:
        name = (part.field_name or b"").decode("utf-8", "replace")
        stream = part.file_object
        stream.seek(0)
        content = stream.read()
        part.close()
        if name in files:
            return
        files[name] = UploadedPart(
            field_name=name,
            filename=(part.file_name or b"").decode("utf-8", "replace"),
            content_type=_content_type(part),
            content=content,
        )

    try:
        parse_form(
            {"Content-Type": content_type.encode("latin-1"), "Content-Length": str(len(body))},
            io.BytesIO(body),
            on_field,
            on_file,
        )
    except (FormParserError, ValueError) as error:
        raise InvalidForm(f"the multipart form could not be read: {error}") from error
    return FormData(fields=fields, files=files)


def _content_type(part: Any) -> str | None:
    value = getattr(part, "content_type", None)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value or None
