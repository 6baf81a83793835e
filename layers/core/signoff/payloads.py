"""The payload store: values too large for a Step Functions state travel through S3 by reference.

A Step Functions state carries at most 256 KiB, a DynamoDB item 400 KB. A node output or run input
larger than the threshold (Settings.payload_threshold_bytes) is written to the payloads bucket and
replaced by a reference:

    {"$signoff_ref": {"bucket": "...", "key": "<tenant>/<run>/<label>/<sha256>.json",
                      "size": <bytes>, "sha256": "<hex>"}}

Whoever reads a value (the node runtime, the api answering a run) resolves references back, and
checks that the object is the one referred to (size and sha256) and belongs to the reader's
tenant. Objects are named by their content, so writing the same value twice (a retried node) is
harmless, and a reference can never point at a value that changed under it.

Only a dict's top-level values are replaced, so the compiled state machine still finds every
output by name (`$n_<node>.<output>`); native states that look inside a value (a Choice condition,
a Map's items) cannot read a reference: see docs/workflow-format.md, "Large values".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any, Literal
from urllib.parse import quote

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from signoff.errors import SignoffError
from signoff.settings import Settings

REF = "$signoff_ref"
DEFAULT_THRESHOLD_BYTES = 32 * 1024

# S3 answers these for an object that is not there (NoSuchKey with s3:ListBucket, else 403).
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class PayloadError(SignoffError):
    status = 500
    code = "payload_error"


class PayloadUnavailable(PayloadError):
    """The referenced object is gone: it outlived the bucket's retention (PayloadRetentionDays)."""

    status = 410
    code = "payload_expired"


class PayloadCorrupted(PayloadError):
    """The object read back is not the one referred to, or the reference itself is malformed."""

    code = "payload_corrupted"


class PayloadRefused(PayloadError):
    """The reference points outside the reader's tenant or outside the payloads bucket."""

    status = 403
    code = "payload_refused"


class PayloadRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    def as_value(self) -> dict[str, Any]:
        """The reference as it travels in place of the value."""
        return {REF: self.model_dump()}


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF in value


def contains_ref(value: Any) -> bool:
    """Whether a reference appears anywhere in `value` (clients may not send any)."""
    if isinstance(value, dict):
        return REF in value or any(contains_ref(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_ref(item) for item in value)
    return False


def encode(value: Any) -> bytes:
    """The JSON bytes a value takes in a state or an object: compact UTF-8, as sizes are counted."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def tenant_prefix(tenant_id: str) -> str:
    return _segment(tenant_id) + "/"


def object_prefix(tenant_id: str, run_id: str, label: str) -> str:
    """`<tenant>/<run>/<label>`: each part percent-encoded, `/` in the label keeping its place."""
    return "/".join(_segment(part) for part in (tenant_id, run_id, *label.split("/")))


def _segment(part: str) -> str:
    if part in ("", ".", ".."):
        raise ValueError(f"{part!r} cannot name a part of a payload key")
    return quote(part, safe="")


class PayloadStore:
    def __init__(
        self, bucket: str, client: Any = None, *, threshold: int = DEFAULT_THRESHOLD_BYTES
    ) -> None:
        if threshold < 1:
            raise ValueError("the threshold is a positive number of bytes")
        self._bucket = bucket
        self._client = client or boto3.client("s3")
        self._threshold = threshold

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> PayloadStore:
        return cls(
            settings.require("payloads_bucket"),
            client,
            threshold=settings.payload_threshold_bytes,
        )

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def threshold(self) -> int:
        return self._threshold

    # ------------------------------------------------------------------ writing

    def offload(
        self,
        value: Any,
        *,
        tenant_id: str,
        run_id: str,
        label: str,
        keep_inline: Collection[str] = (),
    ) -> Any:
        """`value` small enough to travel inline; larger parts go under `<tenant>/<run>/<label>`.

        For a dict (a node's outputs, a run's inputs): every top-level value over the threshold
        becomes a reference, then the largest of the rest until the whole fits, so each name stays
        addressable. `keep_inline` names values native states must read as they are (they are
        never replaced). Only when references alone are over the threshold (hundreds of names) is
        the whole dict one reference. Any other value over the threshold is one reference.
        """
        prefix = object_prefix(tenant_id, run_id, label)
        if not isinstance(value, dict):
            body = encode(value)
            return self._put(body, prefix) if len(body) > self._threshold else value

        bodies = {name: encode(item) for name, item in value.items()}
        result = dict(value)
        total = len(encode(result))
        candidates = sorted(
            (name for name in bodies if name not in keep_inline),
            key=lambda name: len(bodies[name]),
            reverse=True,
        )
        for name in candidates:
            body = bodies[name]
            fits = total <= self._threshold
            if (len(body) <= self._threshold and fits) or len(body) <= self._ref_size(body, prefix):
                break  # the rest are smaller still
            ref = self._put(body, prefix)
            # Compact JSON: swapping one value changes the whole by exactly the difference.
            total += len(encode(ref)) - len(body)
            result[name] = ref
        if total > self._threshold and not set(keep_inline) & set(value):
            return self._put(encode(result), prefix)
        return result

    def _ref_size(self, body: bytes, prefix: str) -> int:
        """The size the reference to `body` will have (a sha256 is always 64 hex digits)."""
        placeholder = "0" * 64
        ref = PayloadRef(
            bucket=self._bucket,
            key=f"{prefix}/{placeholder}.json",
            size=len(body),
            sha256=placeholder,
        )
        return len(encode(ref.as_value()))

    def _put(self, body: bytes, prefix: str) -> dict[str, Any]:
        digest = hashlib.sha256(body).hexdigest()
        key = f"{prefix}/{digest}.json"
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType="application/json"
        )
        return PayloadRef(bucket=self._bucket, key=key, size=len(body), sha256=digest).as_value()

    # ------------------------------------------------------------------ reading

    def resolve(
        self, value: Any, *, tenant_id: str, missing: Literal["raise", "keep"] = "raise"
    ) -> Any:
        """`value` with every reference in it replaced by the value it refers to, recursively.

        A reference outside `tenant_id` or this bucket is PayloadRefused; an object that is not
        the one referred to is PayloadCorrupted; a missing object is PayloadUnavailable, or, with
        `missing="keep"`, stays a reference (a run record outlives its large values).
        """
        if not contains_ref(value):
            return value
        return self._resolve(value, tenant_id, missing, {})

    def _resolve(self, value: Any, tenant_id: str, missing: str, fetched: dict[str, Any]) -> Any:
        if isinstance(value, dict):
            if REF in value:
                ref = _parse_ref(value)
                if ref.key not in fetched:
                    try:
                        fetched[ref.key] = self._fetch(ref, tenant_id)
                    except PayloadUnavailable:
                        if missing == "keep":
                            return value
                        raise
                # A value stored whole may hold references to its own large parts.
                return self._resolve(fetched[ref.key], tenant_id, missing, fetched)
            return {
                name: self._resolve(item, tenant_id, missing, fetched)
                for name, item in value.items()
            }
        if isinstance(value, list):
            return [self._resolve(item, tenant_id, missing, fetched) for item in value]
        return value

    def _fetch(self, ref: PayloadRef, tenant_id: str) -> Any:
        if ref.bucket != self._bucket:
            raise PayloadRefused(f"a reference points outside the payloads bucket: {ref.bucket}")
        if not ref.key.startswith(tenant_prefix(tenant_id)):
            raise PayloadRefused(f"a reference points outside tenant {tenant_id}: {ref.key}")
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=ref.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_OBJECT_CODES:
                raise PayloadUnavailable(
                    f"the value at {ref.key} is no longer stored (large values expire)"
                ) from error
            raise
        body = response["Body"].read()
        if len(body) != ref.size or hashlib.sha256(body).hexdigest() != ref.sha256:
            raise PayloadCorrupted(
                f"the value at {ref.key} is not the one referred to "
                f"({len(body)} bytes read, {ref.size} expected, or its sha256 differs)"
            )
        return json.loads(body)


def _parse_ref(value: Mapping[str, Any]) -> PayloadRef:
    if len(value) != 1:
        raise PayloadCorrupted(f"a reference has other keys beside {REF}: {sorted(value)}")
    try:
        return PayloadRef.model_validate(value[REF])
    except ValidationError as error:
        raise PayloadCorrupted(f"a malformed reference: {error.errors()[0]['msg']}") from error
