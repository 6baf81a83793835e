"""GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp) on DynamoDB.

A bucket stores `tat`, the theoretical arrival time: when it would be empty again at the plan's
sustained rate. A request at `now` is allowed when `max(tat, now) - now <= (burst - 1) * interval`,
and then moves `tat` one interval on. Each request is a single conditional UpdateItem in the
common case, and stays correct when many api instances share a bucket:

- idle bucket (no `tat`, or `tat <= now`): `SET tat = now + interval`, if it is still idle;
- busy bucket (`now < tat <= now + tolerance`): `SET tat = tat + interval`, if it still is;
- full bucket (`tat > now + tolerance`): refused; one more request fits `tat - now - tolerance`
  seconds later, which is the Retry-After.

A failed condition returns the item as it is (ReturnValuesOnConditionCheckFailure), which says
which case applies now; each instance remembers the last `tat` it saw to guess the first case.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from signoff.ratelimit.plans import RatePlan
from signoff.store import is_condition_failure

# Buckets outlive their last use by this much before DynamoDB's TTL may delete them.
_TTL_SLACK_SECONDS = 120
# Enough for the rare races between instances; after that the request is let through (see below).
_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float = 0.0
    """Seconds until one more request would be allowed (0 when this one was)."""

    @property
    def retry_after_seconds(self) -> int:
        """Retry-After as HTTP states it: whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after))


class RateLimiter(Protocol):
    def acquire(self, bucket: str, plan: RatePlan) -> RateDecision: ...


class DynamoRateLimiter:
    """Buckets in the RateLimits table (partition key `bucket_id`, TTL attribute `expires_at`)."""

    def __init__(
        self, table_name: str, client: Any = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, bucket: str, plan: RatePlan) -> RateDecision:
        interval = plan.interval_seconds
        tolerance = interval * (plan.burst - 1)
        with self._lock:
            known = self._last_seen.get(bucket)
        for _ in range(_MAX_ATTEMPTS):
            now = self._clock()
            if known is not None and known > now + tolerance:
                return RateDecision(allowed=False, retry_after=known - now - tolerance)
            expires_at = math.ceil(now + tolerance + interval + _TTL_SLACK_SECONDS)
            if known is None or known <= now:
                written, known = self._update(
                    bucket,
                    "SET tat = :next, expires_at = :expires",
                    "attribute_not_exists(tat) OR tat <= :now",
                    {":next": now + interval, ":now": now, ":expires": expires_at},
                )
            else:
                written, known = self._update(
                    bucket,
                    "SET tat = tat + :interval, expires_at = :expires",
                    "tat > :now AND tat <= :limit",
                    {
                        ":interval": interval,
                        ":now": now,
                        ":limit": now + tolerance,
                        ":expires": expires_at,
                    },
                )
            with self._lock:
                if known is not None:
                    self._last_seen[bucket] = known
            if written:
                return RateDecision(allowed=True)
        # Only a storm of writers on one bucket gets here; refusing would punish the client for
        # the limiter's own contention, so the request goes through.
        return RateDecision(allowed=True)

    def _update(
        self, bucket: str, update: str, condition: str, values: dict[str, float | int]
    ) -> tuple[bool, float | None]:
        """(written, the bucket's tat after the write or as it was when the condition failed)."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"bucket_id": {"S": bucket}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    name: {"N": repr(value)} for name, value in values.items()
                },
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            old = error.response.get("Item") or {}
            return False, float(old["tat"]["N"]) if "tat" in old else None
        return True, float(response["Attributes"]["tat"]["N"])
