"""The payload store's pure parts: sizes, reference detection, object keys, its settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from signoff.errors import ConfigurationError
from signoff.payloads import (
    DEFAULT_THRESHOLD_BYTES,
    REF,
    PayloadRef,
    PayloadStore,
    contains_ref,
    encode,
    is_ref,
    object_prefix,
    tenant_prefix,
)
from signoff.settings import Settings

A_REF = PayloadRef(
    bucket="payloads", key="t/r/inputs/" + "a" * 64 + ".json", size=3, sha256="a" * 64
)


def test_given_a_value_then_its_size_is_its_compact_utf8_json():
    # What Step Functions counts: bytes, not characters; no padding spaces.
    assert encode({"a": [1, 2]}) == b'{"a":[1,2]}'
    assert len(encode("é")) == 4  # two quotes and two bytes


def test_given_values_with_and_without_references_then_contains_ref_finds_them_at_any_depth():
    assert not contains_ref({"a": [1, {"b": "c"}], "d": None})
    assert contains_ref({"a": [1, {"b": A_REF.as_value()}]})
    assert contains_ref([A_REF.as_value()])
    assert is_ref(A_REF.as_value())
    assert not is_ref({"bucket": "payloads"})


def test_given_a_reference_then_it_travels_as_one_key_holding_bucket_key_size_and_sha256():
    assert A_REF.as_value() == {
        REF: {"bucket": "payloads", "key": A_REF.key, "size": 3, "sha256": "a" * 64}
    }
    with pytest.raises(ValidationError):
        PayloadRef(bucket="payloads", key="k", size=3, sha256="not hex")


def test_given_ids_with_separators_then_each_key_part_is_escaped_and_the_label_keeps_its_slashes():
    assert object_prefix("acme/eu", "run-1", "nodes/greet/1/outputs") == (
        "acme%2Feu/run-1/nodes/greet/1/outputs"
    )
    # A tenant cannot be a prefix of another tenant's keys.
    assert tenant_prefix("acme") == "acme/"
    assert not object_prefix("acme-2", "r", "inputs").startswith(tenant_prefix("acme"))


@pytest.mark.parametrize("label", ["", "nodes//outputs", "../other", "nodes/."])
def test_given_an_empty_or_relative_key_part_then_it_is_refused(label):
    with pytest.raises(ValueError, match="payload key"):
        object_prefix("tenant", "run", label)


def test_given_no_setting_then_the_threshold_is_32_kib_and_bounded_well_under_the_state_limit(
    monkeypatch,
):
    monkeypatch.delenv("SIGNOFF_PAYLOAD_THRESHOLD_BYTES", raising=False)
    assert Settings().payload_threshold_bytes == DEFAULT_THRESHOLD_BYTES == 32 * 1024
    with pytest.raises(ValidationError):
        Settings(payload_threshold_bytes=256 * 1024)


def test_given_settings_without_a_bucket_then_the_store_names_the_missing_variable():
    with pytest.raises(ConfigurationError, match="SIGNOFF_PAYLOADS_BUCKET"):
        PayloadStore.from_settings(Settings(payloads_bucket=None), client=object())


def test_given_settings_then_the_store_takes_their_bucket_and_threshold():
    store = PayloadStore.from_settings(
        Settings(payloads_bucket="payloads", payload_threshold_bytes=2048), client=object()
    )

    assert (store.bucket, store.threshold) == ("payloads", 2048)
