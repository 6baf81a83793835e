"""An iteration whose body writes conversation variables: refused when parallel, compiled to a
sequential loop over its items (not a Map) when sequential."""

from __future__ import annotations

from signoff.compiler.compile import compile_workflow
from signoff.compiler.target import CompileTarget
from signoff.errors import GraphInvalid
from signoff.graph import parse_workflow
from tests.support.sequential_iterations import iteration_workflow

TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:1:function:node", "arn:aws:lambda:us-east-1:1:function:settle"
)


def test_given_a_parallel_iteration_writing_a_conversation_variable_then_it_is_refused():
    try:
        parse_workflow(iteration_workflow(writes_conversation=True, is_parallel=True))
    except GraphInvalid as invalid:
        found = [(i.code, i.node_id, i.message) for i in invalid.issues]
    else:
        found = []

    assert [(code, node) for code, node, _ in found] == [
        ("unordered_conversation_write", "remember")
    ]
    assert "make the iteration sequential" in found[0][2]


def test_given_a_sequential_iteration_writing_conversation_then_it_compiles_to_a_loop():
    states = compile_workflow(parse_workflow(iteration_workflow(writes_conversation=True)), TARGET)[
        "States"
    ]

    assert not any(state["Type"] == "Map" for state in states.values())
    check = states["each: next item?"]
    assert check["Type"] == "Choice"
    assert check["Choices"][0]["Next"] == "each: completed"
    # The body runs in the top scope: the assigner reassigns $run there.
    assert "run" in states["remember"]["Assign"]
    assert states["remember"]["Next"] == "each: item done"
    assert states["each: item done"]["Next"] == "each: next item?"


def test_given_continue_on_error_then_a_failing_body_state_goes_on_with_the_next_item():
    states = compile_workflow(
        parse_workflow(
            iteration_workflow(writes_conversation=True, error_handle_mode="continue-on-error")
        ),
        TARGET,
    )["States"]

    assert states["work"]["Catch"][0]["Next"] == "each: item failed"
    assert states["each: item failed"]["Next"] == "each: next item?"


def test_given_terminated_then_a_failing_body_state_fails_the_run():
    states = compile_workflow(parse_workflow(iteration_workflow(writes_conversation=True)), TARGET)[
        "States"
    ]

    assert states["work"]["Catch"][0]["Next"] == "Settle Failed"
    assert "each: item failed" not in states


def test_given_an_iteration_without_conversation_writes_then_it_stays_a_map():
    states = compile_workflow(
        parse_workflow(iteration_workflow(writes_conversation=False)), TARGET
    )["States"]

    assert states["each: items"]["Type"] == "Map"
