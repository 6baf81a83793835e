"""Which events a webhook subscription's patterns select, and which patterns are refused."""

from __future__ import annotations

import pytest

from signoff.errors import InvalidInput
from signoff.events.envelope import EVENT_TYPES
from signoff.webhooks.patterns import check_patterns, matches


@pytest.mark.parametrize(
    ("patterns", "event_type", "selected"),
    [
        (["run.failed"], "run.failed", True),
        (["run.failed"], "run.succeeded", False),
        (["run.*"], "run.partial_succeeded", True),
        (["run.*"], "node.started", False),
        (["node.*", "review.requested"], "review.requested", True),
        (["node.*", "review.requested"], "review.approved", False),
        (["*"], "loop.completed", True),
        # A family is matched on the whole first part: "run.*" is not "runner.*".
        (["review.*"], "reviewer.x", False),
    ],
)
def test_given_patterns_when_an_event_type_is_matched_then_selected_as_expected(
    patterns, event_type, selected
):
    assert matches(patterns, event_type) is selected


def test_given_star_then_every_event_type_is_selected():
    assert all(matches(["*"], event_type) for event_type in EVENT_TYPES)


def test_given_valid_patterns_when_checked_then_kept_in_order_without_duplicates():
    assert check_patterns(["run.*", "node.failed", "run.*", "*"]) == ["run.*", "node.failed", "*"]


@pytest.mark.parametrize(
    "pattern", ["run.finished", "runs.*", "run*", "", "*.failed", "RUN.FAILED"]
)
def test_given_an_unknown_pattern_when_checked_then_400_naming_its_index(pattern):
    with pytest.raises(InvalidInput) as refused:
        check_patterns(["run.failed", pattern])

    assert refused.value.field == "events.1"
    assert repr(pattern) in refused.value.message


def test_given_no_patterns_when_checked_then_refused():
    with pytest.raises(InvalidInput) as refused:
        check_patterns([])

    assert refused.value.field == "events"
