"""Uploaded files (POST /v1/files/upload): objects `<tenant>/uploads/<id>` in the payloads bucket.

That is where the node function reads a `local_file` input (signoff.nodes.files), so an upload's
id is usable at once as `{"transfer_method": "local_file", "upload_file_id": id}`. The file's name
and uploader travel as the object's metadata (percent-encoded: S3 metadata is ASCII).
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import boto3
from botocore.exceptions import ClientError

from signoff.errors import InvalidInput, NotFound, SignoffError
from signoff.nodes.files import MAX_FILE_BYTES, file_kind, upload_key


class NoFileUploaded(InvalidInput):
    code = "no_file_uploaded"


class FileTooLarge(SignoffError):
    status = 413
    code = "file_too_large"


@dataclass(frozen=True)
class StoredUpload:
    upload_id: str
    name: str
    size: int
    mime_type: str
    created_by: str
    created_at: int

    @property
    def extension(self) -> str:
        suffix = self.name.rsplit(".", 1)
        return f".{suffix[1].lower()}" if len(suffix) == 2 else ""

    def file_value(self) -> dict[str, Any]:
        """The Dify file object a run input holds for this upload, with what nodes read."""
        return {
            "type": file_kind(self.mime_type, self.extension),
            "transfer_method": "local_file",
            "upload_file_id": self.upload_id,
            "filename": self.name,
            "extension": self.extension,
            "mime_type": self.mime_type,
            "size": self.size,
        }


class UploadStore:
    def __init__(self, bucket: str | None, client: Any = None, *, max_bytes: int = MAX_FILE_BYTES):
        self._bucket = bucket
        self._client = client or boto3.client("s3")
        self._max_bytes = max_bytes

    def put(
        self, tenant_id: str, *, content: bytes, filename: str, mime_type: str | None, user: str
    ) -> StoredUpload:
        if not self._bucket:
            raise NotFound("this deployment has no bucket for uploaded files")
        if not content:
            raise NoFileUploaded("the uploaded file is empty", field="file")
        if len(content) > self._max_bytes:
            raise FileTooLarge(
                f"the file is {len(content)} bytes, more than the limit of {self._max_bytes}"
            )
        name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "file"
        mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        upload = StoredUpload(
            upload_id=str(uuid.uuid4()),
            name=name,
            size=len(content),
            mime_type=mime,
            created_by=user,
            created_at=int(time.time()),
        )
        self._client.put_object(
            Bucket=self._bucket,
            Key=upload_key(tenant_id, upload.upload_id),
            Body=content,
            ContentType=mime,
            Metadata={
                "filename": quote(name),
                "created-by": quote(user),
                "created-at": str(upload.created_at),
            },
        )
        return upload

    def find(self, tenant_id: str, upload_id: str) -> StoredUpload | None:
        if not self._bucket:
            return None
        try:
            head = self._client.head_object(
                Bucket=self._bucket, Key=upload_key(tenant_id, upload_id)
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        metadata = head.get("Metadata") or {}
        return StoredUpload(
            upload_id=upload_id,
            name=unquote(metadata.get("filename", upload_id)),
            size=int(head.get("ContentLength", 0)),
            mime_type=head.get("ContentType") or "application/octet-stream",
            created_by=unquote(metadata.get("created-by", "")),
            created_at=int(metadata.get("created-at") or 0),
        )
