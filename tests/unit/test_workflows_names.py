"""State machine names: derived from prefix, tenant and workflow id, always valid for AWS."""

from __future__ import annotations

import re

import pytest

from signoff.workflows.service import state_machine_name

VALID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_given_a_short_id_then_the_name_is_prefix_tenant_hash_and_id():
    name = state_machine_name("signoff-dev", "tenant-a", "hello")

    assert re.fullmatch(r"signoff-dev-[0-9a-f]{10}-hello", name)


def test_given_one_tenant_and_id_then_the_name_is_the_same_every_time():
    assert state_machine_name("p", "t", "w") == state_machine_name("p", "t", "w")


def test_given_two_tenants_then_one_id_gets_two_names():
    assert state_machine_name("p", "tenant-a", "w") != state_machine_name("p", "tenant-b", "w")


def test_given_a_tenant_with_any_characters_then_the_name_stays_valid():
    assert VALID_NAME.match(state_machine_name("signoff-dev", "ténant/ä b@c", "hello"))


@pytest.mark.parametrize("prefix", ["signoff-dev", "signoff-a-rather-long-stage-name-here"])
def test_given_long_ids_then_names_fit_in_80_and_stay_distinct(prefix):
    first = state_machine_name(prefix, "tenant-a", "w" * 63 + "1")
    second = state_machine_name(prefix, "tenant-a", "w" * 63 + "2")

    assert VALID_NAME.match(first) and VALID_NAME.match(second)
    assert first != second
    assert first.startswith(prefix + "-")
