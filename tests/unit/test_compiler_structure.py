"""The compiled state machine's contract (docs/internals.md), checked on its structure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonata
import pytest

from signoff.compiler import CompileTarget, compile_workflow
from signoff.compiler.examples import main as compile_examples_main
from signoff.errors import GraphInvalid
from signoff.graph import load_workflow_file, parse_workflow
from signoff.graph.model import Workflow

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SHAPES = {path.stem: path for path in sorted((ROOT / "tests" / "graphs" / "shapes").glob("*.yaml"))}
TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:1:function:node",
    "arn:aws:lambda:::settle",
    "arn:aws:lambda:us-east-1:1:function:review",
)
# Fields JSONata mode forbids (they belong to JSONPath mode).
JSONPATH_ONLY = {
    "Parameters",
    "ResultPath",
    "InputPath",
    "OutputPath",
    "ResultSelector",
    "ItemsPath",
    "ErrorPath",
    "CausePath",
}


def all_definitions() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in EXAMPLES:
        yield path.stem, compile_workflow(load_workflow_file(path), TARGET)
    for name, path in SHAPES.items():
        yield name, compile_workflow(load_workflow_file(path), TARGET)


DEFINITIONS = dict(all_definitions())


def shape(name: str) -> Workflow:
    return load_workflow_file(SHAPES[name])


def workflow(name: str, nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> Workflow:
    """A workflow from its non-start nodes and (source, target) edges."""
    return parse_workflow(
        {
            "name": name,
            "nodes": [{"id": "start", "type": "start"}, *nodes],
            "edges": [{"source": source, "target": target} for source, target in edges],
        }
    )


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def successors(state: dict[str, Any]) -> set[str]:
    found = {state["Next"]} if "Next" in state else set()
    found |= {rule["Next"] for rule in state.get("Choices", [])}
    found |= {catch["Next"] for catch in state.get("Catch", [])}
    if "Default" in state:
        found.add(state["Default"])
    return found


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_state_is_reachable_every_target_exists_and_names_fit(name: str):
    definition = DEFINITIONS[name]
    states = definition["States"]
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["StartAt"] == "Init"
    reached, todo = set(), ["Init"]
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(successors(states[current]))
    assert reached == set(states)
    assert all(len(state_name) <= 80 for state_name in states)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_no_jsonpath_only_field_is_used(name: str):
    assert not JSONPATH_ONLY & set(keys(DEFINITIONS[name]["States"]))


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_jsonata_expression_parses(name: str):
    expressions = [s for s in strings(DEFINITIONS[name]) if s.startswith("{%")]
    assert expressions
    for expression in expressions:
        assert expression.endswith(" %}") and "\n" not in expression
        jsonata.Jsonata(expression[3:-3])  # raises on a syntax error


def test_init_sets_the_run_counters_and_every_node_variable():
    assign = DEFINITIONS["hello"]["States"]["Init"]["Assign"]
    assert assign["run"] == "{% $states.input.run %}"
    assert assign["exceptions"] == 0
    assert assign["usage"]["total_tokens"] == 0
    assert assign["n_start"] == "{% $states.input.inputs %}"
    for node_id in ("normalize", "greet", "end", "greet_world", "end_world"):
        assert assign[f"n_{node_id}"] is None
    assert "n_has_name" not in assign  # an if-else has no outputs
    assert assign["r_has_name"] is None


def test_a_chain_of_nodes_that_always_run_has_no_guard():
    states = compile_workflow(shape("chain"), TARGET)["States"]
    assert [name for name in states] == [
        "Init",
        "a",
        "b",
        "end",
        "Settle Succeeded",
        "Succeeded",
        "Settle Failed",
        "Failed",
    ]
    assert not any(state["Type"] == "Choice" for state in states.values())
    assert "r_a" not in states["Init"]["Assign"]


def test_work_nodes_are_lambda_tasks_with_the_node_payload():
    states = compile_workflow(shape("branch_and_join"), TARGET)["States"]
    join = states["join"]
    assert join["Resource"] == "arn:aws:states:::lambda:invoke"
    assert join["Arguments"] == {
        "FunctionName": TARGET.node_function_arn,
        "Payload": {
            "run": "{% $run %}",
            "node": {
                "id": "join",
                "type": "template-transform",
                "title": "join",
                "config": {
                    "template": "{{ v0 or v1 }}",
                    "variables": [
                        {"variable": "v0", "value_selector": ["left", "output"]},
                        {"variable": "v1", "value_selector": ["right", "output"]},
                    ],
                },
            },
            "variables": {"left": "{% $n_left %}", "right": "{% $n_right %}"},
            "attempt": "{% $states.context.State.RetryCount + 1 %}",
        },
    }
    assert join["Assign"]["n_join"] == "{% $states.result.Payload.outputs %}"
    [retry] = join["Retry"]
    assert (retry["IntervalSeconds"], retry["MaxAttempts"], retry["BackoffRate"]) == (2, 3, 2)
    assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
    [catch] = join["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    assert catch["Next"] == "Settle Failed"
    assert catch["Assign"]["failure"]["node_id"] == "join"


def test_a_join_of_every_branch_of_an_if_else_always_runs_so_it_has_no_guard():
    states = compile_workflow(shape("branch_and_join"), TARGET)["States"]
    assert "Should run join?" not in states
    assert states["Should run right?"]["Default"] == "join"


def test_a_join_of_some_branches_runs_when_one_of_its_edges_was_taken():
    states = compile_workflow(shape("conditional_fan_out"), TARGET)["States"]
    guard = states["Should run 1711528914400?"]
    assert guard["Choices"] == [
        {
            "Condition": '{% $r_1711528914102 = "b"'
            " or $p_1711528914200[0].r_1711528914200 != null"
            " or $p_1711528914200[1].r_1711528914300 != null %}",
            "Next": "1711528914400",
        }
    ]


def test_if_else_rules_assign_the_handle_and_the_else_rule_is_last_without_a_default():
    states = compile_workflow(shape("branch_and_join"), TARGET)["States"]
    choice = states["check"]
    assert "Default" not in choice
    assert [rule["Assign"] for rule in choice["Choices"]] == [
        {"r_check": "yes"},
        {"r_check": "false"},
    ]
    assert choice["Choices"][-1]["Condition"] == "{% true %}"
    assert {rule["Next"] for rule in choice["Choices"]} == {"Should run left?"}


def test_a_skipped_branch_is_left_in_one_jump():
    states = DEFINITIONS["hello"]["States"]
    # greet skipped -> end cannot run either: straight on to the other branch.
    assert states["Should run greet?"]["Default"] == "Should run greet_world?"


def test_end_nodes_report_null_for_skipped_nodes_and_settle_merges_the_ends_reached():
    states = DEFINITIONS["two_ends"]["States"]
    end_right = states["end_right"]["Assign"]["n_end_right"][3:-3]
    reported = jsonata.Jsonata(
        f'($n_right := null; $n_start := {{"kind": "x"}}; {end_right})'
    ).evaluate(None)
    assert reported == {"answer": None, "kind": "x"}
    merge = states["Settle Succeeded"]["Arguments"]["Payload"]["outputs"][3:-3]
    both = jsonata.Jsonata(
        f'($n_end_left := {{"answer": "left", "kind": "a"}}; $n_end_right := {{"answer": null}};'
        f" {merge})"
    ).evaluate(None)
    assert both == {"answer": None, "kind": "a"}
    one = jsonata.Jsonata(
        f'($n_end_left := {{"answer": "left"}}; $n_end_right := null; {merge})'
    ).evaluate(None)
    assert one == {"answer": "left"}
    none = jsonata.Jsonata(f"($n_end_left := null; $n_end_right := null; {merge})").evaluate(None)
    assert none == {}


def test_settle_states_report_success_and_failure():
    states = DEFINITIONS["hello"]["States"]
    succeeded = states["Settle Succeeded"]
    assert succeeded["Arguments"]["FunctionName"] == TARGET.settle_function_arn
    payload = succeeded["Arguments"]["Payload"]
    assert payload["run"] == "{% $run %}"
    assert payload["status"] == "succeeded"
    assert payload["exceptions"] == "{% $exceptions %}"
    assert payload["usage"] == "{% $usage %}"
    assert succeeded["Output"] == payload["outputs"]
    assert succeeded["Next"] == "Succeeded"
    assert states["Succeeded"] == {"Type": "Succeed"}
    failed = states["Settle Failed"]
    assert failed["Arguments"]["Payload"]["error"] == "{% $failure %}"
    assert failed["Retry"] and failed["Next"] == "Failed"
    assert states["Failed"] == {
        "Type": "Fail",
        "Error": "{% $failure.error %}",
        "Cause": "{% $failure.cause %}",
    }


def test_variables_use_sanitised_names_and_payload_keys_keep_real_ids():
    states = DEFINITIONS["conditional_fan_out"]["States"]
    payload = states["1711528914400"]["Arguments"]["Payload"]
    # Both sources ran in a Parallel's branches: their outputs come back through it.
    assert payload["variables"] == {
        "1711528914200": "{% $p_1711528914200[0].n_1711528914200 %}",
        "1711528914300": "{% $p_1711528914200[1].n_1711528914300 %}",
    }
    sanitised = compile_workflow(
        workflow(
            "dashes",
            [
                {"id": "say-hi", "type": "template-transform", "template": "hi"},
                {
                    "id": "end",
                    "type": "end",
                    "outputs": [{"variable": "greeting", "value_selector": ["say-hi", "output"]}],
                },
            ],
            [("start", "say-hi"), ("say-hi", "end")],
        ),
        TARGET,
    )["States"]
    assert "n_say_hi" in sanitised["say-hi"]["Assign"]
    assert "$n_say_hi.output" in sanitised["end"]["Assign"]["n_end"]


@pytest.mark.parametrize(
    "text",
    [
        "{% for x in xs %}{{ x }}{% endfor %}",
        "line one\nline two",
        "",
        "  {%- if a -%}yes{%- endif -%}  ",
    ],
)
def test_user_text_that_looks_like_jsonata_or_spans_lines_stays_literal(text: str):
    definition = compile_workflow(
        workflow(
            "text",
            [
                {"id": "t", "type": "template-transform", "template": text},
                {"id": "end", "type": "end"},
            ],
            [("start", "t"), ("t", "end")],
        ),
        TARGET,
    )
    field = definition["States"]["t"]["Arguments"]["Payload"]["node"]["config"]["template"]
    # Step Functions evaluates a string that starts with {% and ends with %}: it must give back
    # exactly the text.
    if field.startswith("{%") and field.endswith("%}"):
        assert jsonata.Jsonata(field[3:-3]).evaluate(None) == text
    else:
        assert field == text


def test_compiling_is_deterministic_and_the_target_only_changes_arns():
    hello = load_workflow_file(ROOT / "examples" / "hello.yaml")
    first = compile_workflow(hello, CompileTarget.placeholders())
    again = compile_workflow(hello, CompileTarget.placeholders())
    assert first == again
    text = json.dumps(compile_workflow(hello, TARGET))
    substituted = (
        json.dumps(first)
        .replace("${NodeFunctionArn}", TARGET.node_function_arn)
        .replace("${SettleFunctionArn}", TARGET.settle_function_arn)
    )
    assert text == substituted


def test_an_invalid_workflow_does_not_compile():
    broken = Workflow.model_validate(
        {
            "name": "cycle",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "a", "type": "template-transform", "template": "x"},
                {"id": "end", "type": "end"},
            ],
            "edges": [
                {"source": "start", "target": "a"},
                {"source": "a", "target": "a"},
                {"source": "a", "target": "end"},
            ],
        }
    )
    with pytest.raises(GraphInvalid) as raised:
        compile_workflow(broken, TARGET)
    assert [(i.code, i.node_id) for i in raised.value.issues] == [("cycle", "a")]


def test_the_compiler_imports_no_aws_sdk():
    code = (
        "import sys, signoff.compiler; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_examples_command_writes_one_definition_per_example(tmp_path: Path, capsys):
    assert compile_examples_main([str(tmp_path), str(ROOT / "examples")]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == [f"{path.stem}.asl.json" for path in EXAMPLES]
    hello = json.loads((tmp_path / "hello.asl.json").read_text())
    assert hello == compile_workflow(
        load_workflow_file(ROOT / "examples" / "hello.yaml"), CompileTarget.placeholders()
    )


ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


@pytest.mark.skipif(
    not ASL_VALIDATOR.exists() or shutil.which("node") is None,
    reason="asl-validator is not installed (npm ci)",
)
def test_asl_validator_accepts_every_compiled_shape(tmp_path: Path):
    arguments = []
    for name, definition in DEFINITIONS.items():
        path = tmp_path / f"{name}.asl.json"
        path.write_text(json.dumps(definition))
        arguments += ["--json-path", str(path)]
    result = subprocess.run(
        [str(ASL_VALIDATOR), *arguments], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
