"""SQS event sources, run in this process: the local cloud's Lambda event source mappings.

A function with a SAM event `{Type: SQS, Properties: {Queue, BatchSize,
MaximumBatchingWindowInSeconds, FunctionResponseTypes: [ReportBatchItemFailures]}}` gets a poller
that does what Lambda's poller does: ReceiveMessage (with every system and message attribute),
build the SQS event Lambda builds, invoke the handler synchronously (the same runner Step Functions'
Lambda invokes reach), then delete what succeeded. What failed stays in the queue, invisible until
its visibility timeout ends (or whatever ChangeMessageVisibility the handler set), and comes back
with a higher ApproximateReceiveCount; after maxReceiveCount receives moto's SQS moves it to the
dead-letter queue, as SQS does. Which messages failed:
- the invocation raised (Lambda's error contract): the whole batch;
- with ReportBatchItemFailures, the `batchItemFailures` it answers; an answer naming an unknown or
  empty `itemIdentifier` fails the whole batch (Lambda's rule); an empty list or null: none.

`EventSources.start()` runs one thread per source (the local cloud); `drain()` polls every source
on the caller's thread until the queues have nothing visible left (tests).
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from signoff.local.functions import FunctionRunner, InvocationResult, active_runner
from signoff.local.template import REGION

logger = logging.getLogger(__name__)

# SQS's own limits: ten messages per ReceiveMessage/DeleteMessageBatch, 20 s of long polling.
_RECEIVE_LIMIT = 10
# The system attributes Lambda puts in a record's `attributes` (the FIFO ones when present).
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


@dataclass(frozen=True)
class SqsEventSourceSpec:
    """One `Type: SQS` event of a function in template.yaml, resolved."""

    function_logical_id: str
    event_name: str
    queue_arn: str
    batch_size: int = 10
    maximum_batching_window_seconds: float = 0
    report_batch_item_failures: bool = False
    enabled: bool = True

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def account_id(self) -> str:
        return self.queue_arn.split(":")[4]


@dataclass
class BatchOutcome:
    """What one poll did: how many messages it received, deleted, and left for a retry."""

    received: int = 0
    deleted: int = 0
    failed: list[str] = field(default_factory=list)  # message ids left in the queue


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda gives a function for a batch of ReceiveMessage messages."""
    return {"Records": [_record(message, queue_arn) for message in messages]}


def _record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    system = message.get("Attributes") or {}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {name: system[name] for name in _RECORD_ATTRIBUTES if name in system},
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3] or REGION,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute in the event's camel case; binary values base64 as Lambda sends them."""
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def failed_message_ids(
    source: SqsEventSourceSpec, result: InvocationResult, message_ids: list[str]
) -> list[str]:
    """The messages of a batch that stay in the queue after the invocation answered `result`."""
    if result.failed:
        return list(message_ids)
    if not source.report_batch_item_failures:
        return []
    payload = result.payload
    if payload is None:
        return []
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if failures is None:
        return []
    if not isinstance(failures, list):
        return list(message_ids)
    failed: list[str] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            # Lambda treats an unusable answer as a failure of the whole batch.
            logger.warning(
                "%s answered an invalid batchItemFailures entry %r: the whole batch is retried",
                source.function_logical_id,
                failure,
            )
            return list(message_ids)
        failed.append(identifier)
    return failed


class SqsPoller:
    """Lambda's poller for one SQS event source."""

    def __init__(
        self,
        source: SqsEventSourceSpec,
        function_name: str,
        *,
        sqs_client: Any,
        runner: FunctionRunner | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.function_name = function_name
        self._sqs = sqs_client
        self._runner = runner
        self._clock = clock
        self._queue_url: str | None = None
        # Receipt handles of the messages left in flight after a failure: drain(fast_forward)
        # makes them visible at once instead of waiting out their visibility timeout.
        self._in_flight: dict[str, str] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(
                QueueName=self.source.queue_name, QueueOwnerAWSAccountId=self.source.account_id
            )["QueueUrl"]
        return self._queue_url

    # ------------------------------------------------------------------ one batch

    def poll_once(
        self, *, wait_seconds: int = 0, batching_window: float | None = None
    ) -> BatchOutcome:
        """Receive one batch (up to BatchSize, gathering for up to the batching window), invoke
        the function on it, delete what succeeded. An empty queue answers an empty outcome."""
        window = (
            self.source.maximum_batching_window_seconds
            if batching_window is None
            else batching_window
        )
        messages = self._receive(wait_seconds, window)
        outcome = BatchOutcome(received=len(messages))
        if not messages:
            return outcome
        runner = self._runner or active_runner()
        if runner is None or self.function_name not in runner:
            raise RuntimeError(f"no runner has function {self.function_name}: is the stack active?")
        result = runner.invoke(self.function_name, sqs_event(messages, self.source.queue_arn))
        if result.failed:
            logger.info(
                "%s failed on a batch of %d from %s: %s",
                self.source.function_logical_id,
                len(messages),
                self.source.queue_name,
                (result.error or {}).get("errorType"),
            )
        ids = [message["MessageId"] for message in messages]
        outcome.failed = failed_message_ids(self.source, result, ids)
        failed = set(outcome.failed)
        succeeded = [message for message in messages if message["MessageId"] not in failed]
        for message in messages:
            if message["MessageId"] in failed:
                self._in_flight[message["MessageId"]] = message["ReceiptHandle"]
            else:
                self._in_flight.pop(message["MessageId"], None)
        outcome.deleted = self._delete(succeeded)
        return outcome

    def _receive(self, wait_seconds: int, window: float) -> list[dict[str, Any]]:
        """Up to BatchSize messages: after the first arrives, keep gathering until the batch is
        full or the batching window (counted from that first message) has passed."""
        wanted = self.source.batch_size
        messages: list[dict[str, Any]] = []
        deadline = 0.0
        while len(messages) < wanted:
            if messages:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                # Short waits keep stop() prompt; SQS long polling answers as soon as one arrives.
                wait = min(1, math.ceil(remaining))
            else:
                wait = wait_seconds
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_RECEIVE_LIMIT, wanted - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages") or []
            if not received and not messages:
                break
            if received and not messages:
                deadline = self._clock() + window
            messages.extend(received)
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> int:
        deleted = 0
        for start in range(0, len(messages), _RECEIVE_LIMIT):
            chunk = messages[start : start + _RECEIVE_LIMIT]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )
            deleted += len(response.get("Successful") or [])
            for failure in response.get("Failed") or []:
                logger.warning("deleting a processed message failed: %s", failure)
        return deleted

    def release_in_flight(self) -> int:
        """Make the messages this poller left after failures visible now, as if their visibility
        timeout had passed (tests fast-forwarding a retry); answers how many it released."""
        released = 0
        for message_id, receipt_handle in list(self._in_flight.items()):
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
                )
                released += 1
            except ClientError:  # deleted or moved to the DLQ meanwhile: nothing to release
                pass
            self._in_flight.pop(message_id, None)
        return released

    # ------------------------------------------------------------------ the thread

    def start(self, *, wait_seconds: int = 1) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run,
            args=(wait_seconds,),
            name=f"sqs-{self.source.function_logical_id}-{self.source.event_name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self, wait_seconds: int) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(wait_seconds=wait_seconds)
            except Exception:  # a poller outlives one bad poll, as Lambda's does
                if self._stopping.is_set():
                    return
                logger.exception("polling %s failed", self.source.queue_name)
                self._stopping.wait(1.0)


class EventSources:
    """Every SQS event source of a stack: threads for the local cloud, drain() for tests."""

    def __init__(
        self,
        sources: Iterable[SqsEventSourceSpec],
        function_names: Mapping[str, str],
        *,
        sqs_client: Any = None,
        runner: FunctionRunner | None = None,
    ) -> None:
        client = sqs_client or boto3.client("sqs", region_name=REGION)
        self.pollers = [
            SqsPoller(
                source,
                function_names[source.function_logical_id],
                sqs_client=client,
                runner=runner,
            )
            for source in sources
            if source.enabled
        ]

    @classmethod
    def for_plan(
        cls, plan: Any, *, sqs_client: Any = None, runner: FunctionRunner | None = None
    ) -> EventSources:
        """The event sources of a StackPlan (signoff.local.provision)."""
        names = {logical_id: spec.function_name for logical_id, spec in plan.functions.items()}
        return cls(plan.event_sources, names, sqs_client=sqs_client, runner=runner)

    def __enter__(self) -> EventSources:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller._stopping.set()
        for poller in self.pollers:
            poller.stop()

    def pollers_for(self, function: str) -> list[SqsPoller]:
        """The pollers of a function (logical id, function name, or short name: `reconcile`)."""
        wanted = function.lower()
        found = [poller for poller in self.pollers if wanted in _names(poller)]
        if not found:
            known = ", ".join(p.source.function_logical_id for p in self.pollers) or "none"
            raise KeyError(f"no SQS event source for {function!r} (event sources: {known})")
        return found

    def drain(
        self,
        function: str | None = None,
        *,
        fast_forward: bool = False,
        max_rounds: int = 100,
    ) -> list[BatchOutcome]:
        """Poll on this thread until no source receives anything; answers every batch's outcome.

        `fast_forward`: messages a failure left in flight become visible again at once (as if
        their visibility timeout passed), so retries and the move to a dead-letter queue happen
        now. `function` limits it to that function's sources. Do not drain sources whose
        threads run (start()): two pollers on one queue would split its batches.
        """
        pollers = self.pollers if function is None else self.pollers_for(function)
        outcomes: list[BatchOutcome] = []
        for _ in range(max_rounds):
            busy = False
            for poller in pollers:
                outcome = poller.poll_once(wait_seconds=0, batching_window=0)
                if outcome.received:
                    busy = True
                    outcomes.append(outcome)
                if fast_forward and poller.release_in_flight():
                    busy = True
            if not busy:
                return outcomes
        raise RuntimeError(f"the queues were still busy after {max_rounds} rounds")


def _names(poller: SqsPoller) -> set[str]:
    logical_id = poller.source.function_logical_id
    names = {logical_id.lower(), poller.function_name.lower()}
    if logical_id.endswith("Function"):
        names.add(logical_id[: -len("Function")].lower())
    return names
