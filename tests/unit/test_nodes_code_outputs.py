"""The code node's declared outputs, checked against what main() returned."""

from __future__ import annotations

import pytest

from signoff.graph.model import CodeOutput
from signoff.nodes.code import check_outputs
from signoff.nodes.errors import CodeOutputError


def declare(**types: str) -> dict[str, CodeOutput]:
    return {name: CodeOutput(type=kind) for name, kind in types.items()}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("string", "text"),
        ("number", 3),
        ("number", 2.5),
        ("boolean", False),
        ("object", {"a": [1]}),
        ("array[string]", ["a", "b"]),
        ("array[number]", [1, 2.5]),
        ("array[object]", [{"a": 1}]),
        ("array[boolean]", [True, False]),
        ("array[string]", []),
        ("string", None),
        ("array[number]", [1, None]),
    ],
)
def test_given_a_value_of_the_declared_type_when_checked_then_it_passes(kind, value):
    assert check_outputs(declare(out=kind), {"out": value}) == {"out": value}


@pytest.mark.parametrize(
    ("kind", "value", "described"),
    [
        ("string", 1, "number"),
        ("number", True, "boolean"),
        ("number", "3", "string"),
        ("boolean", 0, "number"),
        ("object", [1], "an array of number"),
        ("array[string]", "abc", "string"),
        ("array[number]", [1, False], "an array of boolean and number"),
        ("array[object]", [{"a": 1}, 2], "an array of number and object"),
        ("array[boolean]", [1], "an array of number"),
    ],
)
def test_given_a_value_of_another_type_when_checked_then_the_output_is_named(
    kind, value, described
):
    with pytest.raises(CodeOutputError) as caught:
        check_outputs(declare(ok="string", out=kind), {"ok": "x", "out": value})

    assert caught.value.output == "out"
    assert str(caught.value) == f"output out: must be {kind}, not {described}"


def test_given_a_declared_output_missing_when_checked_then_it_is_named():
    with pytest.raises(CodeOutputError, match=r"output total: main\(\) did not return it"):
        check_outputs(declare(name="string", total="number"), {"name": "Ada"})


def test_given_undeclared_keys_when_checked_then_only_declared_outputs_are_kept():
    assert check_outputs(declare(name="string"), {"name": "Ada", "extra": 1}) == {"name": "Ada"}
