"""How control-flow shapes compile: Parallel for fan-outs, Map for iterations, a back edge for
loops, native Pass states for logic nodes; the JSONata they use, evaluated with jsonata-python."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonata
import pytest

from signoff.compiler import CompileTarget, compile_workflow
from signoff.compiler.lowering.assigner import operation_expression
from signoff.compiler.lowering.common import EMPTY_USAGE, nested_failure, usage_sum
from signoff.compiler.lowering.iteration import output_expression
from signoff.compiler.lowering.list_operator import list_expression
from signoff.graph import parse_workflow
from signoff.graph.model import AssignItem, IterationNode, ListOperatorNode, Workflow, parse_node

TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:1:function:node",
    "arn:aws:lambda:::settle",
    "arn:aws:lambda:us-east-1:1:function:review",
)
# Step Functions' own JSONata function, which jsonata-python lacks.
PARSE = "$parse := function($v) { $eval($v) }; "


def evaluate(expression: str, variables: dict[str, Any] | None = None) -> Any:
    bindings = "".join(
        f"${name} := {json.dumps(value)}; " for name, value in (variables or {}).items()
    )
    return jsonata.Jsonata(f"({PARSE}{bindings}{expression})").evaluate(None)


def text(node_id: str, template: str = "x", **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "template-transform", "template": template, **fields}


def workflow(nodes: list[dict[str, Any]], edges: list[tuple], **fields: Any) -> Workflow:
    """A workflow from its non-start nodes and (source, target[, handle]) edges."""
    return parse_workflow(
        {
            "name": "test",
            **fields,
            "nodes": [{"id": "start", "type": "start"}, *nodes],
            "edges": [
                {"source": edge[0], "target": edge[1], "source_handle": edge[2]}
                if len(edge) == 3
                else {"source": edge[0], "target": edge[1]}
                for edge in edges
            ],
        }
    )


def all_states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        if "ItemProcessor" in state:
            yield from all_states(state["ItemProcessor"]["States"])


def fan_out() -> Workflow:
    return workflow(
        [text("a"), text("b"), text("c"), text("join"), {"id": "end", "type": "end"}],
        [
            ("start", "a"),
            ("start", "b"),
            ("start", "c"),
            ("a", "join"),
            ("b", "join"),
            ("c", "join"),
            ("join", "end"),
        ],
    )


def test_given_a_fan_out_then_its_branches_are_one_parallel_state_joined_after_it():
    states = compile_workflow(fan_out(), TARGET)["States"]

    assert list(states)[:4] == ["Init", "In parallel: a", "join", "end"]
    parallel = states["In parallel: a"]
    assert [list(branch["States"]) for branch in parallel["Branches"]] == [
        ["a", "Branch a failed"],
        ["b", "Branch b failed"],
        ["c", "Branch c failed"],
    ]
    assert parallel["Assign"] == {"p_a": "{% $states.result %}"}
    assert parallel["Next"] == "join"


def test_given_an_unconditional_branch_then_it_costs_no_state_of_its_own():
    reads_b = workflow(
        [
            text("a"),
            text("b"),
            text(
                "join",
                "{{ x }}",
                variables=[{"variable": "x", "value_selector": ["b", "output"]}],
            ),
            {"id": "end", "type": "end"},
        ],
        [("start", "a"), ("start", "b"), ("a", "join"), ("b", "join"), ("join", "end")],
    )
    states = compile_workflow(reads_b, TARGET)["States"]
    first, second = states["In parallel: a"]["Branches"]
    # Each node's own Task ends its branch, handing back only what is read after it.
    assert first["States"]["a"]["End"] is True and "Next" not in first["States"]["a"]
    assert first["States"]["a"]["Output"] == {}
    assert second["States"]["b"]["Output"] == {
        "n_b": "{% ($n_b := $states.result.Payload.outputs; $n_b) %}"
    }
    # After the Parallel, the join reads b through the Parallel's result.
    assert states["join"]["Arguments"]["Payload"]["variables"] == {"b": "{% $p_a[1].n_b %}"}


def test_given_a_branch_failure_then_its_node_travels_out_in_the_fail_cause():
    parallel = compile_workflow(fan_out(), TARGET)["States"]["In parallel: a"]
    branch = parallel["Branches"][0]["States"]
    [catch] = branch["a"]["Catch"]
    assert catch["Next"] == "Branch a failed"
    assert catch["Output"]["node_id"] == "a"
    carried = evaluate(
        branch["Branch a failed"]["Cause"][3:-3],
        {"states": {"input": {"node_id": "a", "error": "CodeError", "cause": "boom"}}},
    )
    [outer] = parallel["Catch"]
    failure = evaluate(
        outer["Assign"]["failure"][3:-3],
        {"states": {"errorOutput": {"Error": "CodeError", "Cause": carried}}},
    )
    assert failure == {"node_id": "a", "error": "CodeError", "cause": "boom"}


def test_given_a_parallel_failing_for_its_own_reasons_then_its_error_is_kept():
    failure = evaluate(
        nested_failure("each"),
        {"states": {"errorOutput": {"Error": "States.DataLimitExceeded", "Cause": "too big"}}},
    )
    assert failure == {"node_id": "each", "error": "States.DataLimitExceeded", "cause": "too big"}


def test_given_branches_of_different_if_else_handles_then_no_parallel_is_needed():
    states = compile_workflow(
        workflow(
            [
                {
                    "id": "check",
                    "type": "if-else",
                    "cases": [
                        {
                            "case_id": "yes",
                            "conditions": [
                                {
                                    "variable_selector": ["sys", "user"],
                                    "comparison_operator": "empty",
                                }
                            ],
                        }
                    ],
                },
                text("a"),
                text("b"),
                {"id": "end", "type": "end"},
            ],
            [
                ("start", "check"),
                ("check", "a", "yes"),
                ("check", "b", "false"),
                ("a", "end"),
                ("b", "end"),
            ],
        ),
        TARGET,
    )["States"]

    assert not any(state["Type"] == "Parallel" for state in states.values())
    assert states["Should run a?"]["Default"] == "Should run b?"


def test_given_an_edge_across_branches_then_the_node_it_leads_to_waits_after_the_parallel():
    definition = compile_workflow(
        workflow(
            [text("a"), text("a2"), text("b"), text("b2"), {"id": "end", "type": "end"}],
            [
                ("start", "a"),
                ("start", "b"),
                ("a", "a2"),
                ("a", "b2"),
                ("b", "b2"),
                ("a2", "end"),
                ("b2", "end"),
            ],
        ),
        TARGET,
    )
    states = definition["States"]
    parallel = states["In parallel: a"]
    assert [
        [name for name in branch["States"] if not name.endswith("failed")]
        for branch in parallel["Branches"]
    ] == [["a", "a2"], ["b"]]
    assert parallel["Next"] == "b2"


def test_given_a_conditional_fan_out_then_guarded_branches_declare_their_variables_as_they_begin():
    from tests.unit.test_compiler_structure import shape

    states = compile_workflow(shape("conditional_fan_out"), TARGET)["States"]
    parallel = states["In parallel: 1711528914200"]
    first = parallel["Branches"][0]["States"]
    guard = first["Should run 1711528914200?"]
    # No Default (its Assign would be unreliable): run or skip, each declaring the branch's
    # variables, then an end state handing them back.
    assert "Default" not in guard
    assert [rule["Next"] for rule in guard["Choices"]] == [
        "1711528914200",
        "End branch 1711528914200",
    ]
    assert all(rule["Assign"]["n_1711528914200"] is None for rule in guard["Choices"])
    assert first["End branch 1711528914200"]["Output"] == {
        "n_1711528914200": "{% $n_1711528914200 %}",
        "r_1711528914200": "{% $r_1711528914200 %}",
    }


def iteration_workflow(**fields: Any) -> Workflow:
    return workflow(
        [
            {
                "id": "each",
                "type": "iteration",
                "iterator_selector": ["start", "items"],
                "output_selector": ["double", "output"],
                "start_node_id": "each_start",
                **fields,
            },
            {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
            text(
                "double",
                "{{ x }}{{ x }}",
                parent_id="each",
                variables=[{"variable": "x", "value_selector": ["each", "item"]}],
            ),
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "out", "value_selector": ["each", "output"]}],
            },
        ],
        [("start", "each"), ("each_start", "double"), ("each", "end")],
        inputs=[{"variable": "items", "type": "array"}],
    )


@pytest.mark.parametrize(
    "fields, concurrency",
    [
        ({}, 1),
        ({"is_parallel": True, "parallel_nums": 5}, 5),
        ({"is_parallel": True, "parallel_nums": 99}, 40),
    ],
)
def test_given_an_iteration_then_it_is_a_map_running_its_children_per_item(fields, concurrency):
    states = compile_workflow(iteration_workflow(**fields), TARGET)["States"]
    # The iteration's own state says iteration.started, then the Map runs the items.
    assert states["each"]["Next"] == "each: items"
    state = states["each: items"]

    assert state["Type"] == "Map"
    assert state["Next"] == "each: completed"
    assert states["each: completed"]["Next"] == "end"
    assert state["MaxConcurrency"] == concurrency
    assert state["ItemSelector"] == {
        "item": "{% $states.context.Map.Item.Value %}",
        "index": "{% $states.context.Map.Item.Index %}",
    }
    processor = state["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "INLINE"}
    # The first state reads the item from its input and keeps it for the states after it.
    task = processor["States"]["double"]
    assert task["Arguments"]["Payload"]["variables"] == {"each": "{% $states.input %}"}
    assert task["Assign"]["i_each"] == "{% $states.input %}"
    assert evaluate(state["Items"][3:-3], {"n_start": {"items": None}}) == []
    with pytest.raises(Exception, match="not a list"):
        evaluate(state["Items"][3:-3], {"n_start": {"items": "text"}})


@pytest.mark.parametrize(
    "flatten, results, output",
    [
        (False, [{"v": [1, 2]}, {"v": None}, {"v": "x"}], [[1, 2], None, "x"]),
        (False, [{"v": [1]}], [[1]]),
        (False, [{"v": 1}, {"f": True}, {"v": 3}], [1, 3]),
        (True, [{"v": [1, 2]}, {"v": [3]}], [1, 2, 3]),
        (True, [{"v": [1, 2]}, {"v": 3}], [[1, 2], 3]),
        (True, [], []),
    ],
)
def test_given_item_results_then_the_output_keeps_each_value_whole(flatten, results, output):
    node = parse_node(
        {
            "id": "each",
            "type": "iteration",
            "iterator_selector": ["a", "b"],
            "output_selector": ["c", "d"],
            "start_node_id": "s",
            "flatten_output": flatten,
        }
    )
    assert isinstance(node, IterationNode)
    assert evaluate(output_expression(node), {"states": {"result": results}}) == output


def loop_workflow(**body: Any) -> Workflow:
    return workflow(
        [
            {
                "id": "repeat",
                "type": "loop",
                "loop_count": 3,
                "start_node_id": "repeat_start",
                "loop_variables": [{"label": "n", "var_type": "number", "value": 0}],
                "break_conditions": [
                    {
                        "variable_selector": ["repeat", "n"],
                        "comparison_operator": "≥",
                        "value": "2",
                    }
                ],
            },
            {"id": "repeat_start", "type": "loop-start", "parent_id": "repeat"},
            {
                "id": "bump",
                "type": "assigner",
                "parent_id": "repeat",
                "items": [{"variable_selector": ["repeat", "n"], "operation": "+=", "value": 1}],
            },
            text("side", parent_id="repeat"),
            {"id": "end", "type": "end"},
        ],
        [
            ("start", "repeat"),
            ("repeat_start", "bump"),
            ("repeat_start", "side"),
            ("repeat", "end"),
        ],
    )


def test_given_a_loop_then_it_is_a_back_edge_with_a_round_counter():
    states = compile_workflow(loop_workflow(), TARGET)["States"]

    assert states["repeat"]["Next"] == "repeat: next round?"
    check = states["repeat: next round?"]
    leave, again = check["Choices"]
    assert leave["Next"] == "repeat: completed"
    assert states["repeat: completed"]["Next"] == "end"
    assert "$n_repeat.loop_round >= 3" in leave["Condition"]
    assert again["Condition"] == "{% true %}"
    # Each round starts from a clean slate: what the children recorded last round is cleared.
    assert again["Assign"]["n_side"] is None
    # The assigner writes the loop's variables, so the fan-out inside stays in sequence.
    assert not any(state["Type"] == "Parallel" for state in states.values())
    assert states["bump"]["Next"] == "side" and states["side"]["Next"] == "repeat: next round?"
    assert evaluate(leave["Condition"][3:-3], {"n_repeat": {"n": 2, "loop_round": 1}}) is True
    assert evaluate(leave["Condition"][3:-3], {"n_repeat": {"n": 0, "loop_round": 3}}) is True
    assert evaluate(leave["Condition"][3:-3], {"n_repeat": {"n": 1, "loop_round": 1}}) is False


def assign(operation: str, current: Any, value: Any = None, var_type: str = "array[string]"):
    item = AssignItem(variable_selector=["l", "v"], operation=operation, value=value)
    expression = operation_expression(item, var_type, None, "a")  # type: ignore[arg-type]
    return evaluate(f"($c := {json.dumps(current)}; {expression})")


@pytest.mark.parametrize(
    "operation, current, value, var_type, result",
    [
        ("over-write", "a", "b", "string", "b"),
        ("set", 1, 5, "number", 5),
        ("clear", "a", None, "string", ""),
        ("clear", 4, None, "number", 0),
        ("clear", [1], None, "array[number]", []),
        ("clear", {"a": 1}, None, "object", {}),
        ("append", ["a"], "b", "array[string]", ["a", "b"]),
        ("append", [[1]], [2, 3], "array[object]", [[1], [2, 3]]),
        ("append", [], "b", "array[string]", ["b"]),
        ("extend", ["a"], ["b", "c"], "array[string]", ["a", "b", "c"]),
        ("remove-first", ["a", "b"], None, "array[string]", ["b"]),
        ("remove-first", ["a"], None, "array[string]", []),
        ("remove-last", [["a"], ["b"]], None, "array[object]", [["a"]]),
        ("remove-last", [], None, "array[string]", []),
        ("+=", 2, 3, "number", 5),
        ("-=", 2, 3, "number", -1),
        ("*=", 2, 3, "number", 6),
        ("/=", 3, 2, "number", 1.5),
    ],
)
def test_assigner_operations_follow_dify(operation, current, value, var_type, result):
    assert assign(operation, current, value, var_type) == result


def test_assigner_arithmetic_on_what_is_not_a_number_or_by_zero_fails():
    with pytest.raises(Exception, match="division by zero"):
        assign("/=", 3, 0, "number")
    with pytest.raises(Exception, match="needs numbers"):
        assign("+=", "a", 1, "number")


def list_operator(variable: Any, **settings: Any) -> Any:
    node = parse_node({"id": "op", "type": "list-operator", "variable": ["x", "v"], **settings})
    assert isinstance(node, ListOperatorNode)
    from signoff.compiler.variables import Variables

    class Ctx:
        variables = Variables.plain()

    return evaluate(list_expression(node, Ctx()), {"n_x": {"v": variable}})  # type: ignore[arg-type]


PRODUCTS = [
    {"name": "pear", "price": 3, "tags": ["fruit"]},
    {"name": "apple", "price": 2, "tags": ["fruit", "red"]},
    {"name": "wine", "price": 9, "tags": ["red"]},
]


@pytest.mark.parametrize(
    "settings, names",
    [
        ({}, ["pear", "apple", "wine"]),
        (
            {
                "filter_by": {
                    "enabled": True,
                    "conditions": [{"key": "price", "comparison_operator": "<", "value": "5"}],
                }
            },
            ["pear", "apple"],
        ),
        (
            {
                "filter_by": {
                    "enabled": True,
                    "conditions": [
                        {"key": "name", "comparison_operator": "in", "value": ["wine", "pear"]}
                    ],
                }
            },
            ["pear", "wine"],
        ),
        (
            {
                "filter_by": {
                    "enabled": True,
                    "conditions": [
                        {"key": "tags", "comparison_operator": "all of", "value": ["fruit", "red"]}
                    ],
                }
            },
            ["apple"],
        ),
        (
            {
                "filter_by": {
                    "enabled": True,
                    "conditions": [
                        {"key": "name", "comparison_operator": "not in", "value": ["pear"]}
                    ],
                }
            },
            ["apple", "wine"],
        ),
        (
            {"order_by": {"enabled": True, "key": "price", "value": "desc"}},
            ["wine", "pear", "apple"],
        ),
        (
            {
                "order_by": {"enabled": True, "key": "name", "value": "asc"},
                "limit": {"enabled": True, "size": 1},
            },
            ["apple"],
        ),
        ({"extract_by": {"enabled": True, "serial": "3"}}, ["wine"]),
        ({"extract_by": {"enabled": True, "serial": "9"}}, []),
    ],
)
def test_list_operator_filters_orders_limits_and_extracts(settings, names):
    result = list_operator(PRODUCTS, **settings)
    assert [product["name"] for product in result["result"]] == names
    assert result["first_record"] == (result["result"][0] if names else None)
    assert result["last_record"] == (result["result"][-1] if names else None)


def test_list_operator_keeps_list_elements_whole_and_reads_null_as_empty():
    assert list_operator([[1, 2]])["result"] == [[1, 2]]
    assert list_operator(None) == {"result": [], "first_record": None, "last_record": None}


def test_usage_adds_up_and_keeps_the_first_currency_named():
    total = evaluate(
        usage_sum("$t0", "$a0"),
        {
            "t0": EMPTY_USAGE,
            "a0": {
                "prompt_tokens": 3,
                "completion_tokens": 2,
                "total_tokens": 5,
                "total_price": 0.5,
                "currency": "USD",
            },
        },
    )
    assert total == {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
        "total_price": 0.5,
        "currency": "USD",
    }
    assert evaluate(usage_sum("$t0", "$a0"), {"t0": total, "a0": None}) == total


def test_given_a_workflow_timeout_then_the_state_machine_has_it():
    timed = workflow([{"id": "end", "type": "end"}], [("start", "end")], timeout_seconds=90)
    assert compile_workflow(timed, TARGET)["TimeoutSeconds"] == 90
    untimed = workflow([{"id": "end", "type": "end"}], [("start", "end")])
    assert "TimeoutSeconds" not in compile_workflow(untimed, TARGET)


def test_given_only_logic_nodes_then_there_is_no_unreachable_failure_path():
    states = compile_workflow(loop_workflow(), TARGET)["States"]
    # side is a work node: it can fail, so the failure path is there.
    assert "Settle Failed" in states
    logic = workflow([{"id": "end", "type": "end"}], [("start", "end")])
    assert "Settle Failed" not in compile_workflow(logic, TARGET)["States"]


def test_state_names_are_unique_across_branches_and_items():
    from tests.unit.test_compiler_structure import DEFINITIONS

    for name, definition in DEFINITIONS.items():
        names = [state_name for state_name, _ in all_states(definition["States"])]
        assert len(names) == len(set(names)), name
