"""Files given by reference, as Dify passes them between nodes: read their bytes, store new ones.

A file is a Dify file object: `{"type": "document", "transfer_method": "remote_url", "url": ...}`
or `{"transfer_method": "local_file", "upload_file_id": ...}` (Dify also spells them
`remote_url` and `related_id`), with optional `filename`, `extension`, `mime_type`.
- remote_url: fetched over HTTP(S) through the address guard; an `s3://bucket/key` URL is read
  with the node function's own AWS permissions (never another tenant's part of the payloads
  bucket).
- local_file / tool_file: an uploaded file, the object `<tenant>/uploads/<upload_file_id>` in the
  payloads bucket. Files a node produces (an http-request's file answer) are stored there too.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from signoff.nodes.context import NodeContext
from signoff.nodes.errors import FileUnavailable
from signoff.payloads import tenant_prefix

# Dify's default upload limit.
MAX_FILE_BYTES = 15 * 1024 * 1024
FETCH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
FILE_IDENTITY = "__dify__file__"
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class LoadedFile:
    filename: str
    extension: str  # lower case, with its dot (".pdf"); "" when unknown
    mime_type: str
    content: bytes


def load_file(value: Any, context: NodeContext, *, max_bytes: int = MAX_FILE_BYTES) -> LoadedFile:
    """The bytes of the file `value` refers to (FileUnavailable when it cannot be read)."""
    if not isinstance(value, dict):
        raise FileUnavailable(f"expected a file object, got {_describe(value)}")
    method = value.get("transfer_method") or ("remote_url" if _url_of(value) else "local_file")
    if method == "remote_url":
        url = _url_of(value)
        if not url:
            raise FileUnavailable("a remote_url file needs a url")
        if url.startswith("s3://"):
            content, mime_type = _read_s3_url(url, context, max_bytes)
            served_name = ""
        else:
            content, mime_type, served_name = _fetch(url, context, max_bytes)
        name = (
            value.get("filename") or served_name or posixpath.basename(urlsplit(url).path) or "file"
        )
    elif method in ("local_file", "tool_file"):
        upload_id = value.get("upload_file_id") or value.get("related_id")
        content, mime_type = _read_upload(upload_id, context, max_bytes)
        name = value.get("filename") or str(upload_id)
    else:
        raise FileUnavailable(f"transfer_method {method!r} is not supported")
    mime_type = value.get("mime_type") or mime_type or ""
    return LoadedFile(
        filename=name,
        extension=_extension(value.get("extension"), name, mime_type),
        mime_type=mime_type,
        content=content,
    )


def store_file(
    content: bytes, *, filename: str, mime_type: str, context: NodeContext
) -> dict[str, Any] | None:
    """Store bytes a node produced as an upload of the run's tenant; its Dify file object, or
    None when the deployment has no bucket for files."""
    bucket = context.integrations.uploads_bucket
    if not bucket:
        return None
    upload_id = uuid.uuid4().hex
    try:
        context.integrations.aws.get("s3").put_object(
            Bucket=bucket,
            Key=upload_key(context.run.tenant_id, upload_id),
            Body=content,
            ContentType=mime_type or "application/octet-stream",
        )
    except (ClientError, BotoCoreError) as error:
        raise FileUnavailable(f"the file {filename} could not be stored: {error}") from error
    extension = _extension(None, filename, mime_type)
    return {
        "dify_model_identity": FILE_IDENTITY,
        "type": file_kind(mime_type, extension),
        "transfer_method": "local_file",
        "upload_file_id": upload_id,
        "related_id": upload_id,
        "filename": filename,
        "extension": extension,
        "mime_type": mime_type,
        "size": len(content),
    }


def upload_key(tenant_id: str, upload_id: str) -> str:
    return f"{tenant_prefix(tenant_id)}uploads/{upload_id}"


def file_kind(mime_type: str, extension: str = "") -> str:
    """Dify's file type: image, audio, video, or document (anything else readable as one)."""
    major = mime_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    guessed = mimetypes.types_map.get(extension, "").split("/", 1)[0]
    return guessed if guessed in ("image", "audio", "video") else "document"


def _url_of(value: dict[str, Any]) -> str | None:
    url = value.get("url") or value.get("remote_url")
    return url if isinstance(url, str) and url else None


def _fetch(url: str, context: NodeContext, max_bytes: int) -> tuple[bytes, str, str]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FileUnavailable(f"a file URL is http(s) or s3, not {url!r}")
    try:
        with (
            context.integrations.http_client(timeout=FETCH_TIMEOUT) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise FileUnavailable(f"fetching {url} answered HTTP {response.status_code}")
            content = read_capped(response, max_bytes, what=f"the file at {url}")
            mime_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
            name = disposition_filename(response.headers.get("content-disposition", ""))
    except httpx.HTTPError as error:
        raise FileUnavailable(f"fetching {url} failed: {error}") from error
    return content, mime_type, name


def read_capped(response: httpx.Response, max_bytes: int, *, what: str) -> bytes:
    """A streamed response's body, refusing to read past `max_bytes`."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FileUnavailable(f"{what} is {declared} bytes, more than the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FileUnavailable(f"{what} is larger than the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_s3_url(url: str, context: NodeContext, max_bytes: int) -> tuple[bytes, str]:
    parts = urlsplit(url)
    bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
    if not bucket or not key:
        raise FileUnavailable(f"an s3 URL names a bucket and a key: {url!r}")
    uploads = context.integrations.uploads_bucket
    if bucket == uploads and not key.startswith(tenant_prefix(context.run.tenant_id)):
        raise FileUnavailable(f"{url} is outside this tenant's part of the payloads bucket")
    return _get_object(bucket, key, context, max_bytes, what=url)


def _read_upload(upload_id: Any, context: NodeContext, max_bytes: int) -> tuple[bytes, str]:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id) or ".." in upload_id:
        raise FileUnavailable(f"upload_file_id {upload_id!r} is not a valid upload id")
    bucket = context.integrations.uploads_bucket
    if not bucket:
        raise FileUnavailable("this deployment has no bucket for uploaded files")
    key = upload_key(context.run.tenant_id, upload_id)
    return _get_object(bucket, key, context, max_bytes, what=f"upload {upload_id}")


def _get_object(
    bucket: str, key: str, context: NodeContext, max_bytes: int, *, what: str
) -> tuple[bytes, str]:
    s3 = context.integrations.aws.get("s3")
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        if response.get("ContentLength", 0) > max_bytes:
            raise FileUnavailable(f"{what} is larger than the limit of {max_bytes} bytes")
        content = response["Body"].read(max_bytes + 1)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise FileUnavailable(f"{what} could not be read ({code or error})") from error
    except BotoCoreError as error:
        raise FileUnavailable(f"{what} could not be read: {error}") from error
    if len(content) > max_bytes:
        raise FileUnavailable(f"{what} is larger than the limit of {max_bytes} bytes")
    return content, response.get("ContentType", "") or ""


def disposition_filename(header: str) -> str:
    if not header:
        return ""
    message = Message()
    message["content-disposition"] = header
    name = message.get_filename() or ""
    return posixpath.basename(name.replace("\\", "/"))


def _extension(declared: Any, name: str, mime_type: str) -> str:
    if isinstance(declared, str) and declared:
        return ("." + declared.lstrip(".")).lower()
    suffix = posixpath.splitext(name)[1].lower()
    if suffix:
        return suffix
    return (mimetypes.guess_extension(mime_type) or "") if mime_type else ""


def _describe(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
