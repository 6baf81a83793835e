"""Which pending variable edits a decision on a wait inside an item sends to the state machine."""

from __future__ import annotations

from signoff.reviews.decisions import (
    CONTAINERS_FIELD,
    ITEM_FIELD,
    deliverable_patch,
    item_patch_key,
)
from signoff.store.reviews import IndexStep, ReviewRecord


def wait_in(container_id: str, index: int) -> ReviewRecord:
    return ReviewRecord(
        tenant_id="t-1",
        run_id="r-1",
        review_id=f"rv-{container_id}-{index}",
        node_id=f"{container_id}_step",
        container_id=container_id,
        item_index=index,
        index_path=[IndexStep(container_id=container_id, index=index)],
        task_token="token",
        created_at="2026-01-01T00:00:00.000Z",
    )


def item_edit(node_id: str, container_id: str, index: int) -> dict:
    return {
        "node_id": node_id,
        "outputs": {"text": "edited"},
        "by": "key_1",
        "at": "2026-01-01T00:00:01.000Z",
        ITEM_FIELD: [index],
        CONTAINERS_FIELD: [container_id],
    }


def test_given_an_edit_of_item_1_of_one_iteration_then_a_wait_at_item_1_of_another_leaves_it():
    # Given a node of iteration "left" edited for its item 1, pending
    key = item_patch_key("left_draft", [1])
    pending = {key: {"text": "edited"}}
    edits = [item_edit("left_draft", "left", 1)]

    # When a wait at item 1 of iteration "right" is decided, then the edit stays pending
    assert deliverable_patch(wait_in("right", 1), pending, edits) == {}
    # and the wait at item 1 of "left" takes it
    assert deliverable_patch(wait_in("left", 1), pending, edits) == {
        "left_draft": (key, {"text": "edited"})
    }


def test_given_an_item_edit_recorded_without_containers_then_its_indexes_decide():
    # Edits staged before containers were recorded match by their indexes alone.
    key = item_patch_key("left_draft", [0])
    pending = {key: {"text": "edited"}}
    legacy = [{"node_id": "left_draft", "outputs": {}, ITEM_FIELD: [0]}]

    assert deliverable_patch(wait_in("right", 0), pending, legacy) == {
        "left_draft": (key, {"text": "edited"})
    }
    assert deliverable_patch(wait_in("right", 1), pending, legacy) == {}


def test_given_a_plain_edit_then_only_a_wait_outside_any_item_takes_it():
    pending = {"summary": {"text": "edited"}}
    outside = wait_in("left", 0).model_copy(
        update={"container_id": None, "item_index": None, "index_path": None}
    )

    assert deliverable_patch(wait_in("left", 0), pending) == {}
    assert deliverable_patch(outside, pending) == {"summary": ("summary", {"text": "edited"})}
