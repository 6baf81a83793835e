"""The RunEvents table: each run's lifecycle events, in order, numbered 1, 2, 3 ... without gaps.

Keys (docs/internals.md, "Events"): partition `tenant_run_id` = `<tenant>#<run>`, sort `sequence`
(N). An append takes the next number after the last stored one and puts it only if that number is
still free; a writer that loses the race reads again and takes the next. So a sequence number
exists only once every smaller one does, and a reader following the log never sees a gap it would
have to wait on. The log has no TTL: it is the run's audit trail.

Reading the last event first costs a request per append; it is skipped when the writer already
knows where the log ends: the event it appended last (`after`), or an empty log for run.started.
That guess needs no other check: events are never changed or deleted, so if the number after a
known non-terminal event is still free, that event is the log's last and the log is open. A guess
that was wrong (someone appended since) only costs the refused put, then the usual read.
A writer appending several events passes each as the next one's hint: one read at most for the
lot. (Not one TransactWriteItems: moto backs up every table a transaction touches by copying it
whole, so in the local cloud each one would cost in proportion to the whole log table.)
"""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from signoff.errors import Conflict
from signoff.events.envelope import TERMINAL_RUN_EVENT_TYPES, Event, new_event_id
from signoff.store import from_item, is_condition_failure, to_item, to_value, utc_now_iso

_JSON_FIELDS = ("data",)
# Concurrent writers of one run are few (a node function, settle, the api): a lost race is rare and
# resolves at the next read, so a few dozen attempts are ample; past them something else is wrong.
_MAX_APPEND_ATTEMPTS = 50
MAX_READ_LIMIT = 1000
# The first event of every run's log (the api logs it before the execution starts).
_OPENING_EVENT_TYPE = "run.started"


def tenant_run_id(tenant_id: str, run_id: str) -> str:
    return f"{tenant_id}#{run_id}"


class EventLogContention(RuntimeError):
    """An append lost the race for the next sequence number too many times in a row."""


class EventLogClosed(Conflict):
    """The run's log already ends with its terminal run.* event: nothing more is appended.

    This is what makes the terminal event unique when several paths settle the same run (the
    settle function, a reconciling read, a cancel), and keeps a node that finishes after its run
    was stopped from writing past the end.
    """

    code = "event_log_closed"


class RunEventLog(Protocol):
    def append(
        self,
        *,
        tenant_id: str,
        workflow_id: str,
        run_id: str,
        type: str,
        data: dict[str, Any],
        node_id: str | None = None,
        after: Event | None = None,
    ) -> Event: ...

    def read(
        self, *, tenant_id: str, run_id: str, after: int = 0, limit: int = 200
    ) -> list[Event]: ...


class DynamoRunEventLog:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def append(
        self,
        *,
        tenant_id: str,
        workflow_id: str,
        run_id: str,
        type: str,
        data: dict[str, Any],
        node_id: str | None = None,
        after: Event | None = None,
    ) -> Event:
        """Store the run's next event and return it with its sequence number.

        `after`: the last event this writer appended to the run (or read as the log's last), so
        the new one is tried right after it without reading the log first.
        """
        partition = tenant_run_id(tenant_id, run_id)
        event_id = new_event_id()
        tail = _known_tail(after, tenant_id, run_id, type)
        guessed = tail is not None
        for attempt in range(_MAX_APPEND_ATTEMPTS):
            if tail is None:
                tail = self._last(partition)
            last_sequence, last_type = tail
            if last_type in TERMINAL_RUN_EVENT_TYPES:
                raise EventLogClosed(f"run {run_id} has ended ({last_type}); {type} not logged")
            event = Event(
                id=event_id,
                type=type,
                time=utc_now_iso(),
                tenant=tenant_id,
                workflow_id=workflow_id,
                run_id=run_id,
                node_id=node_id,
                sequence=last_sequence + 1,
                data=data,
            )
            attributes = {"tenant_run_id": partition, **event.model_dump(mode="json")}
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(attributes, json_fields=_JSON_FIELDS),
                    ConditionExpression="attribute_not_exists(tenant_run_id)",
                )
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
                tail = None
                if guessed:
                    # The hint was out of date (another writer appended since): read, no backoff.
                    guessed = False
                    continue
                # Another writer took this number: back off a little (jittered) and read again.
                time.sleep(random.uniform(0, 0.005 * min(attempt + 1, 10)))
                continue
            return event
        raise EventLogContention(
            f"could not append {type} to run {run_id} after {_MAX_APPEND_ATTEMPTS} attempts"
        )

    def read(self, *, tenant_id: str, run_id: str, after: int = 0, limit: int = 200) -> list[Event]:
        """The run's events with a sequence above `after`, in order, at most `limit` of them."""
        limit = max(1, min(limit, MAX_READ_LIMIT))
        events: list[Event] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant_run_id = :key AND #sequence > :after",
            "ExpressionAttributeNames": {"#sequence": "sequence"},
            "ExpressionAttributeValues": {
                ":key": to_value(tenant_run_id(tenant_id, run_id)),
                ":after": to_value(after),
            },
            "ConsistentRead": True,
            "ScanIndexForward": True,
        }
        while len(events) < limit:
            response = self._client.query(**request, Limit=limit - len(events))
            events.extend(_event(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return events

    def _last(self, partition: str) -> tuple[int, str | None]:
        """The sequence number and type of the run's last event; (0, None) for an empty log."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="tenant_run_id = :key",
            ExpressionAttributeValues={":key": to_value(partition)},
            ProjectionExpression="#sequence, #type",
            ExpressionAttributeNames={"#sequence": "sequence", "#type": "type"},
            ConsistentRead=True,
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return 0, None
        return int(items[0]["sequence"]["N"]), items[0]["type"]["S"]


def _known_tail(
    after: Event | None, tenant_id: str, run_id: str, first_type: str
) -> tuple[int, str | None] | None:
    """Where the writer believes the run's log ends, without reading it: after its own last
    event, or empty for the run's opening event. None: read the log."""
    if after is not None and after.tenant == tenant_id and after.run_id == run_id:
        return after.sequence, after.type
    if after is None and first_type == _OPENING_EVENT_TYPE:
        return 0, None
    return None


def _event(item: dict[str, Any]) -> Event:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    attributes.pop("tenant_run_id", None)
    return Event.model_validate(attributes)
