"""The payload store against S3 (moto): what moves to the bucket, and what comes back."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from signoff.payloads import (
    REF,
    PayloadCorrupted,
    PayloadRefused,
    PayloadStore,
    PayloadUnavailable,
    encode,
    is_ref,
)

pytestmark = pytest.mark.integration

REGION = "us-east-1"
BUCKET = "signoff-payloads-test"
THRESHOLD = 2048
TENANT = "tenant-a"
RUN = "run-1"


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(s3: Any) -> PayloadStore:
    return PayloadStore(BUCKET, s3, threshold=THRESHOLD)


def offload(store: PayloadStore, value: Any, label: str = "nodes/grow/1/outputs") -> Any:
    return store.offload(value, tenant_id=TENANT, run_id=RUN, label=label)


def stored_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def text_of_size(size: int) -> str:
    """A string whose JSON encoding is exactly `size` bytes (the two quotes included)."""
    return "x" * (size - 2)


# ---------------------------------------------------------------- the threshold's edges


def test_given_a_value_exactly_at_the_threshold_then_it_stays_inline_and_nothing_is_written(
    store, s3
):
    value = text_of_size(THRESHOLD)

    assert offload(store, value) == value
    assert stored_keys(s3) == []


def test_given_a_value_one_byte_over_the_threshold_then_it_becomes_a_reference(store, s3):
    value = text_of_size(THRESHOLD + 1)

    ref = offload(store, value)

    assert is_ref(ref)
    body = encode(value)
    assert ref[REF]["size"] == len(body) == THRESHOLD + 1
    assert ref[REF]["sha256"] == hashlib.sha256(body).hexdigest()
    assert ref[REF]["bucket"] == BUCKET
    assert stored_keys(s3) == [ref[REF]["key"]]
    assert store.resolve(ref, tenant_id=TENANT) == value


def test_given_outputs_with_one_large_value_then_only_that_value_moves_and_every_name_stays(
    store, s3
):
    outputs = {"text": text_of_size(50_000), "count": 3, "title": "short"}

    offloaded = offload(store, outputs)

    assert set(offloaded) == {"text", "count", "title"}
    assert is_ref(offloaded["text"])
    assert (offloaded["count"], offloaded["title"]) == (3, "short")
    assert len(encode(offloaded)) <= THRESHOLD
    (key,) = stored_keys(s3)
    assert key.startswith(f"{TENANT}/{RUN}/nodes/grow/1/outputs/")
    assert store.resolve(offloaded, tenant_id=TENANT) == outputs


def test_given_values_each_under_the_threshold_but_over_it_together_then_the_largest_move_first(
    store,
):
    outputs = {
        "small": text_of_size(100),
        "medium": text_of_size(900),
        "large": text_of_size(1_500),
    }

    offloaded = offload(store, outputs)

    # Moving `large` alone brings the whole under 2048 bytes; the others stay inline.
    assert is_ref(offloaded["large"])
    assert offloaded["medium"] == outputs["medium"]
    assert offloaded["small"] == outputs["small"]
    assert len(encode(offloaded)) <= THRESHOLD
    assert store.resolve(offloaded, tenant_id=TENANT) == outputs


def test_given_more_names_than_references_can_fit_then_the_whole_is_one_reference(store):
    outputs = {f"value_{index}": text_of_size(400) for index in range(40)}

    offloaded = offload(store, outputs)

    assert is_ref(offloaded)
    # The stored whole holds references to its own large parts; resolving follows them all.
    assert store.resolve(offloaded, tenant_id=TENANT) == outputs


def test_given_small_values_then_none_is_replaced_by_a_larger_reference(s3):
    # A threshold so small that a reference (about 200 bytes) is larger than the values.
    store = PayloadStore(BUCKET, s3, threshold=1)
    outputs = {"a": "tiny", "b": 7}

    assert is_ref(offload(store, outputs))  # the whole still moves: it is over the threshold
    assert store.resolve(offload(store, outputs), tenant_id=TENANT) == outputs
    assert len(stored_keys(s3)) == 1


def test_given_names_kept_inline_then_they_never_move_even_when_large(store):
    outputs = {"items": [text_of_size(600) for _ in range(5)], "text": text_of_size(5_000)}

    offloaded = store.offload(
        outputs, tenant_id=TENANT, run_id=RUN, label="nodes/list/1/outputs", keep_inline=["items"]
    )

    assert offloaded["items"] == outputs["items"]
    assert is_ref(offloaded["text"])


def test_given_the_same_value_twice_then_it_is_stored_once_under_its_content_hash(store, s3):
    first = offload(store, text_of_size(5_000))
    second = offload(store, text_of_size(5_000))

    assert first == second
    assert len(stored_keys(s3)) == 1
    assert first[REF]["key"].endswith(f"/{first[REF]['sha256']}.json")


# ---------------------------------------------------------------- resolving


def test_given_references_nested_in_lists_and_objects_then_all_are_resolved(store):
    big = {"rows": [{"n": index, "text": text_of_size(300)} for index in range(20)]}
    ref = offload(store, big)
    structure = {"a": [1, ref, {"b": ref, "c": None}], "d": "plain"}

    resolved = store.resolve(structure, tenant_id=TENANT)

    assert resolved == {"a": [1, big, {"b": big, "c": None}], "d": "plain"}
    # The value handed in is left as it was.
    assert structure["a"][1] is ref


def test_given_a_value_without_references_then_resolve_answers_it_untouched(store):
    value = {"a": [1, 2], "b": {"c": "d"}}

    assert store.resolve(value, tenant_id=TENANT) is value


def test_given_an_object_changed_after_it_was_referenced_then_resolve_refuses_it(store, s3):
    ref = offload(store, text_of_size(5_000))
    key = ref[REF]["key"]
    # Same size, other content: only the hash can tell.
    s3.put_object(Bucket=BUCKET, Key=key, Body=encode(text_of_size(5_000).replace("x", "y")))

    with pytest.raises(PayloadCorrupted, match="not the one referred to"):
        store.resolve(ref, tenant_id=TENANT)


def test_given_an_object_of_another_size_then_resolve_refuses_it(store, s3):
    ref = offload(store, text_of_size(5_000))
    s3.put_object(Bucket=BUCKET, Key=ref[REF]["key"], Body=encode(text_of_size(4_000)))

    with pytest.raises(PayloadCorrupted, match="4000 bytes read, 5000 expected"):
        store.resolve(ref, tenant_id=TENANT)


def test_given_another_tenants_reference_then_it_is_refused_before_s3_is_asked(store):
    ref = offload(store, text_of_size(5_000))

    with pytest.raises(PayloadRefused, match="outside tenant tenant-b"):
        store.resolve({"stolen": ref}, tenant_id="tenant-b")


def test_given_a_tenant_whose_id_prefixes_another_then_the_other_is_still_refused(store):
    ref = store.offload(text_of_size(5_000), tenant_id="acme-2", run_id=RUN, label="inputs")

    with pytest.raises(PayloadRefused):
        store.resolve(ref, tenant_id="acme")


def test_given_a_reference_into_another_bucket_then_it_is_refused(store):
    ref = offload(store, text_of_size(5_000))
    ref[REF]["bucket"] = "someone-elses-bucket"

    with pytest.raises(PayloadRefused, match="outside the payloads bucket"):
        store.resolve(ref, tenant_id=TENANT)


def test_given_a_malformed_reference_then_it_is_reported_as_corrupted(store):
    with pytest.raises(PayloadCorrupted, match="malformed"):
        store.resolve({REF: {"bucket": BUCKET, "key": "tenant-a/x"}}, tenant_id=TENANT)
    with pytest.raises(PayloadCorrupted, match="other keys"):
        store.resolve({REF: {}, "extra": 1}, tenant_id=TENANT)


def test_given_an_expired_object_then_resolve_says_so_or_keeps_the_reference_when_asked(store, s3):
    ref = offload(store, text_of_size(5_000))
    s3.delete_object(Bucket=BUCKET, Key=ref[REF]["key"])

    with pytest.raises(PayloadUnavailable, match="no longer stored"):
        store.resolve({"text": ref}, tenant_id=TENANT)
    assert store.resolve({"text": ref, "n": 1}, tenant_id=TENANT, missing="keep") == {
        "text": ref,
        "n": 1,
    }
