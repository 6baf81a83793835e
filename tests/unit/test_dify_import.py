"""Dify DSL import: each format variant -> the native graph, unsupported features -> issue codes
with node ids, the native export round trip, dependencies, and `signoff import --check`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from signoff.cli import main
from signoff.dify import (
    check_text,
    convert_dsl,
    import_dsl,
    is_dify_dsl,
    native_document,
    native_yaml,
)
from signoff.errors import GraphInvalid
from signoff.graph import parse_workflow

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "dify").glob("*.yml"))


def dsl(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    """A DSL export around these nodes ({id, data, ...}) and edges."""
    return {
        "kind": "app",
        "version": top.pop("version", "0.1.5"),
        "app": {"mode": top.pop("mode", "workflow"), "name": "t"},
        "workflow": {"graph": {"nodes": nodes, "edges": edges}, **top},
    }


def node(node_id: str, node_type: str, **data: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "custom",
        "position": {"x": 1, "y": 2},
        "data": {"type": node_type, "title": node_id.title(), "selected": False, **data},
    }


def edge(source: str, target: str, handle: str = "source") -> dict[str, Any]:
    return {
        "id": f"{source}-{handle}-{target}",
        "source": source,
        "sourceHandle": handle,
        "target": target,
        "targetHandle": "target",
        "type": "custom",
        "zIndex": 0,
        "data": {"sourceType": "x", "targetType": "y"},
    }


START = node("s", "start", variables=[{"variable": "x", "type": "number", "label": "X"}])
END = node("e", "end", outputs=[{"variable": "out", "value_selector": ["s", "x"]}])


def converted(document: dict[str, Any]) -> dict[str, Any]:
    conversion = convert_dsl(document)
    assert conversion.issues == []
    return conversion.document


def codes(document: dict[str, Any]) -> set[tuple[str, str | None]]:
    with pytest.raises(GraphInvalid) as raised:
        import_dsl(document)
    return {(found.code, found.node_id) for found in raised.value.issues}


# --- detection and the document -------------------------------------------------------------


def test_given_documents_then_only_dify_exports_are_detected():
    assert is_dify_dsl({"kind": "app", "app": {}, "workflow": {}})
    assert is_dify_dsl({"app": {}, "workflow": {}})
    assert not is_dify_dsl({"name": "native", "nodes": []})
    assert not is_dify_dsl(["app"])


def test_given_a_dsl_then_ids_titles_positions_inputs_and_edges_are_kept():
    document = converted(dsl([START, END], [edge("s", "e")]))

    assert document["name"] == "t"
    assert document["inputs"] == [
        {"variable": "x", "type": "number", "required": True, "label": "X"}
    ]
    assert document["nodes"][0] == {
        "id": "s",
        "type": "start",
        "title": "S",
        "position": {"x": 1, "y": 2},
    }
    assert document["edges"] == [{"source": "s", "target": "e", "id": "s-source-e"}]


def test_given_numeric_ids_then_they_are_text():
    nodes = [
        {**START, "id": 1711},
        node("2", "end", outputs=[{"variable": "o", "value_selector": [1711, "x"]}]),
    ]

    workflow = import_dsl(dsl(nodes, [{"source": 1711, "target": 2}]))

    assert [n.id for n in workflow.nodes] == ["1711", "2"]
    assert workflow.nodes[1].outputs[0].value_selector == ["1711", "x"]


@pytest.mark.parametrize(
    ("dify_type", "native_type"),
    [
        ("text-input", "string"),
        ("paragraph", "paragraph"),
        ("number", "number"),
        ("checkbox", "boolean"),
        ("json_object", "object"),
        ("file", "object"),
        ("file-list", "array"),
    ],
)
def test_given_start_variable_types_then_they_map_to_native_input_types(dify_type, native_type):
    start = node("s", "start", variables=[{"variable": "v", "type": dify_type, "max_length": 9}])

    [native] = converted(dsl([start, END], [edge("s", "e")]))["inputs"]

    assert native["type"] == native_type
    assert ("max_length" in native) == (native_type in ("string", "paragraph"))


# --- format variants ------------------------------------------------------------------------


def test_given_the_oldest_if_else_then_it_is_one_case_with_id_true():
    gate = node(
        "g",
        "if-else",
        logical_operator="or",
        conditions=[
            {
                "id": "1",
                "variable_selector": ["s", "x"],
                "comparison_operator": "null",
                "value": "",
            },
            {"id": "2", "variable_selector": ["s", "x"], "comparison_operator": ">", "value": "3"},
        ],
    )

    document = converted(dsl([START, gate, END], [edge("s", "g"), edge("g", "e", "true")]))

    assert document["nodes"][1]["cases"] == [
        {
            "case_id": "true",
            "logical_operator": "or",
            "conditions": [
                {"variable_selector": ["s", "x"], "comparison_operator": "empty", "value": ""},
                {"variable_selector": ["s", "x"], "comparison_operator": ">", "value": "3"},
            ],
        }
    ]
    assert document["edges"][1]["source_handle"] == "true"


def test_given_if_else_cases_then_case_ids_are_the_handles():
    gate = node(
        "g",
        "if-else",
        cases=[
            {
                "case_id": "abc",
                "id": "abc",
                "logical_operator": "and",
                "conditions": [
                    {
                        "id": "c",
                        "varType": "number",
                        "variable_selector": ["s", "x"],
                        "comparison_operator": "=",
                        "value": "1",
                    }
                ],
            }
        ],
    )

    workflow = import_dsl(
        dsl([START, gate, END], [edge("s", "g"), edge("g", "e", "abc"), edge("g", "e", "false")])
    )

    assert workflow.node("g").branch_handles == ["abc", "false"]


def _iteration_children(start_marker: dict[str, Any] | None) -> list[dict[str, Any]]:
    child = node(
        "c",
        "template-transform",
        template="{{ i }}",
        variables=[{"variable": "i", "value_selector": ["it", "item"]}],
        isInIteration=True,
        iteration_id="it",
        **({"isIterationStart": True} if start_marker is None else {}),
    )
    child["parentId"] = "it"
    return [child] if start_marker is None else [start_marker, child]


def test_given_the_oldest_iteration_then_an_iteration_start_node_is_added():
    split = node(
        "l",
        "code",
        code="def main():\n    return {'xs': ['a']}",
        outputs={"xs": {"type": "array[string]"}},
    )
    iteration = node(
        "it",
        "iteration",
        iterator_selector=["l", "xs"],
        output_selector=["c", "output"],
        start_node_id="c",
        startNodeType="template-transform",
    )
    end = node("e", "end", outputs=[{"variable": "o", "value_selector": ["it", "output"]}])
    nodes = [START, split, iteration, *_iteration_children(None), end]

    workflow = import_dsl(dsl(nodes, [edge("s", "l"), edge("l", "it"), edge("it", "e")]))

    assert workflow.node("it").start_node_id == "itstart"
    marker = workflow.node("itstart")
    assert (marker.type, marker.parent_id) == ("iteration-start", "it")
    assert any(e.source == "itstart" and e.target == "c" for e in workflow.edges)


def test_given_an_iteration_with_its_start_node_then_it_is_kept_as_drawn():
    marker = {
        "id": "itstart",
        "type": "custom-iteration-start",
        "parentId": "it",
        "position": {"x": 24, "y": 68},
        "data": {"type": "iteration-start", "title": "", "isInIteration": True},
    }
    split = node(
        "l",
        "code",
        code="def main():\n    return {'xs': ['a']}",
        outputs={"xs": {"type": "array[string]"}},
    )
    iteration = node(
        "it",
        "iteration",
        iterator_selector=["l", "xs"],
        output_selector=["c", "output"],
        start_node_id="itstart",
        is_parallel=True,
        parallel_nums="4",
    )
    end = node("e", "end", outputs=[{"variable": "o", "value_selector": ["it", "output"]}])
    edges = [edge("s", "l"), edge("l", "it"), edge("itstart", "c"), edge("it", "e")]

    workflow = import_dsl(dsl([START, split, iteration, *_iteration_children(marker), end], edges))

    assert (workflow.node("it").is_parallel, workflow.node("it").parallel_nums) == (True, 4)
    assert workflow.node("itstart").position.model_dump() == {"x": 24.0, "y": 68.0}


def test_given_assigner_version_1_then_it_is_one_version_2_item():
    old = node(
        "a",
        "assigner",
        assigned_variable_selector=["loop", "last"],
        input_variable_selector=["s", "x"],
        write_mode="over-write",
    )

    assigner = converted(dsl([old], []))["nodes"][0]

    assert assigner["version"] == "2"
    assert assigner["items"] == [
        {
            "variable_selector": ["loop", "last"],
            "input_type": "variable",
            "operation": "over-write",
            "value": ["s", "x"],
        }
    ]


def test_given_the_legacy_variable_assigner_then_it_is_the_variable_aggregator():
    legacy = node("v", "variable-assigner", output_type="string", variables=[["s", "x"]])

    aggregator = converted(dsl([legacy], []))["nodes"][0]

    assert (aggregator["type"], aggregator["variables"]) == ("variable-aggregator", [["s", "x"]])


def test_given_retry_config_as_strings_and_default_values_as_text_then_they_are_typed():
    code = node(
        "c",
        "code",
        code="def main():\n    return {}",
        outputs={"n": {"type": "number"}, "o": {"type": "object"}},
        error_strategy="default-value",
        default_value=[
            {"key": "n", "type": "number", "value": "-1"},
            {"key": "o", "type": "object", "value": '{"a": 1}'},
        ],
        retry_config={"retry_enabled": "true", "max_retries": "3", "retry_interval": "500"},
    )

    native = converted(dsl([code], []))["nodes"][0]

    assert native["retry_config"] == {
        "retry_enabled": True,
        "max_retries": 3,
        "retry_interval": 500,
    }
    assert native["default_value"] == [
        {"key": "n", "type": "number", "value": -1},
        {"key": "o", "type": "object", "value": {"a": 1}},
    ]


def test_given_a_disabled_retry_config_then_it_is_left_out():
    code = node(
        "c",
        "code",
        code="x",
        retry_config={"retry_enabled": False, "max_retries": 3, "retry_interval": 1000},
    )

    assert "retry_config" not in converted(dsl([code], []))["nodes"][0]


def test_given_fail_branch_edges_then_their_handles_are_kept():
    call = node(
        "h", "http-request", method="get", url="https://example.com", error_strategy="fail-branch"
    )
    ok = node("ok", "end", outputs=[])
    bad = node("bad", "end", outputs=[])

    workflow = import_dsl(
        dsl(
            [START, call, ok, bad],
            [edge("s", "h"), edge("h", "ok"), edge("h", "bad", "fail-branch")],
        )
    )

    assert workflow.node("h").handles == ["success-branch", "fail-branch"]
    assert [e.source_handle for e in workflow.edges if e.source == "h"] == ["source", "fail-branch"]


def test_given_notes_and_variables_then_they_are_kept_beside_the_graph_never_as_nodes():
    note = {
        "id": "n",
        "type": "custom-note",
        "position": {"x": 5, "y": 6},
        "data": {
            "type": "",
            "title": "",
            "text": "hello",
            "theme": "yellow",
            "width": 240,
            "height": 88,
            "author": "me",
            "showAuthor": True,
        },
    }
    document = dsl(
        [START, END, note],
        [edge("s", "e")],
        environment_variables=[
            {"name": "host", "value": "example.com", "value_type": "string", "id": "1"},
            {"name": "token", "value": "", "value_type": "secret", "id": "2"},
        ],
        conversation_variables=[{"name": "count", "value_type": "number", "value": 0, "id": "3"}],
    )

    workflow = import_dsl(document)

    assert [n.id for n in workflow.nodes] == ["s", "e"]
    assert workflow.notes[0].model_dump() == {
        "id": "n",
        "text": "hello",
        "theme": "yellow",
        "author": "me",
        "show_author": True,
        "position": {"x": 5.0, "y": 6.0},
        "width": 240.0,
        "height": 88.0,
    }
    assert [(v.name, v.value_type) for v in workflow.environment_variables] == [
        ("host", "string"),
        ("token", "secret"),
    ]
    assert workflow.conversation_variables[0].value == 0


# --- unsupported features -> issues with node ids --------------------------------------------


def test_given_unsupported_node_types_and_settings_then_each_is_an_issue_naming_its_node():
    answer = node("a", "answer", answer="hi")
    agent = node("g", "agent", agent_strategy_name="react")
    llm = node(
        "l",
        "llm",
        model={"provider": "local", "name": "echo"},
        prompt_template=[{"role": "user", "text": "hi"}],
        some_future_setting={"on": True},
        variables=[{"variable": "v", "value_selector": ["s", "x"]}],
    )
    code = node("c", "code", code="x", dependencies=[{"name": "numpy"}])
    edges = [edge("s", "l"), edge("l", "c"), edge("c", "e")]

    found = codes(dsl([START, answer, agent, llm, code, END], edges))

    assert {
        ("dify_unsupported_node_type", "a"),
        ("dify_unsupported_node_type", "g"),
        ("dify_unsupported_setting", "l"),
        ("dify_unsupported_setting", "c"),
    } <= found


def test_given_a_chat_app_then_its_mode_is_an_issue():
    assert ("dify_unsupported_app_mode", None) in codes(
        dsl([START, END], [edge("s", "e")], mode="advanced-chat")
    )


def test_given_moderation_and_file_conditions_then_they_are_issues():
    gate = node(
        "g",
        "if-else",
        cases=[
            {
                "case_id": "true",
                "conditions": [
                    {
                        "variable_selector": ["s", "x"],
                        "comparison_operator": "contains",
                        "value": "",
                        "sub_variable_condition": {
                            "logical_operator": "and",
                            "conditions": [{"key": "type", "comparison_operator": "is"}],
                        },
                    }
                ],
            }
        ],
    )
    document = dsl(
        [START, gate, END],
        [edge("s", "g"), edge("g", "e", "true")],
        features={"sensitive_word_avoidance": {"enabled": True}},
    )

    found = codes(document)

    assert ("dify_unsupported_feature", "g") in found
    assert ("dify_unsupported_feature", None) in found


def _reading(
    conversation: str = "count", env: str = "host", host_type: str = "string"
) -> dict[str, Any]:
    """A DSL whose template reads [conversation, <conversation>] and whose llm reads env.<env>."""
    template = node(
        "t",
        "template-transform",
        template="{{ a }}",
        variables=[{"variable": "a", "value_selector": ["conversation", conversation]}],
    )
    llm = node(
        "l",
        "llm",
        model={"provider": "local", "name": "echo"},
        prompt_template=[{"role": "user", "text": f"at {{{{#env.{env}#}}}}"}],
    )
    return dsl(
        [START, template, llm, END],
        [edge("s", "t"), edge("t", "l"), edge("l", "e")],
        environment_variables=[{"name": "host", "value": "h", "value_type": host_type}],
        conversation_variables=[{"name": "count", "value_type": "number", "value": 0}],
    )


def test_given_nodes_reading_declared_env_and_conversation_variables_then_it_imports():
    workflow = import_dsl(_reading())

    assert [v.name for v in workflow.environment_variables] == ["host"]
    assert [v.name for v in workflow.conversation_variables] == ["count"]


def test_given_nodes_reading_undeclared_variables_then_each_is_a_bad_selector_of_its_node():
    found = codes(_reading(conversation="missing", env="nowhere"))

    assert {("bad_selector", "t"), ("bad_selector", "l")} <= found


def test_given_an_llm_reading_a_secret_env_variable_then_it_imports_without_the_value():
    # Given an export made with its secrets included: the value stays out of the graph.
    workflow = import_dsl(_reading(host_type="secret"))

    (secret,) = workflow.environment_variables
    assert (secret.name, secret.value_type, secret.value) == ("host", "secret", None)


def test_given_a_native_state_reading_a_secret_env_variable_then_it_is_refused_with_its_node():
    document = copy.deepcopy(_reading(host_type="secret"))
    document["workflow"]["graph"]["nodes"][-1]["data"]["outputs"] = [
        {"variable": "leak", "value_selector": ["env", "host"]}
    ]

    found = codes(document)

    assert found == {("secret_not_readable_here", "e")}


def test_given_a_broken_graph_then_the_native_issues_come_with_the_import_s():
    dangling = [edge("s", "nowhere")]

    found = codes(dsl([START, node("a", "answer"), END], dangling))

    assert ("dify_unsupported_node_type", "a") in found
    assert any(code == "dangling_edge" for code, _ in found)


# --- the examples, round trip, dependencies, the CLI ------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_given_an_example_when_imported_exported_and_loaded_then_the_graph_is_the_same(path):
    imported = import_dsl(yaml.safe_load(path.read_text(encoding="utf-8")))

    reloaded = parse_workflow(yaml.safe_load(native_yaml(imported)))

    assert reloaded == imported
    assert native_document(reloaded) == native_document(imported)


def test_given_the_examples_then_they_use_every_dsl_version_form_and_node_type():
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in EXAMPLES]
    types = {
        entry["data"]["type"]
        for document in documents
        for entry in document["workflow"]["graph"]["nodes"]
    }

    assert len(documents) >= 12
    assert {document["version"] for document in documents} >= {"0.1.0", "0.1.5", "0.3.0"}
    assert {
        "llm",
        "code",
        "http-request",
        "iteration",
        "iteration-start",
        "loop",
        "loop-start",
        "question-classifier",
        "parameter-extractor",
        "template-transform",
        "variable-aggregator",
        "variable-assigner",
        "assigner",
        "list-operator",
        "document-extractor",
        "if-else",
        "human-input",
    } <= types


def test_given_a_dsl_then_its_dependencies_are_listed_and_are_not_failures():
    tool = node(
        "t",
        "tool",
        provider_id="weather",
        provider_type="builtin",
        provider_name="weather",
        tool_name="forecast",
        tool_parameters={},
        paramSchemas=[{"name": "city"}],
    )
    retrieve = node(
        "k", "knowledge-retrieval", query_variable_selector=["s", "x"], dataset_ids=["ds1"]
    )
    call = node("h", "http-request", method="get", url="https://api.example.com:8443/v1?q=1")
    ask = node(
        "l",
        "llm",
        model={"provider": "openai", "name": "gpt-4o"},
        prompt_template=[{"role": "user", "text": "hi"}],
    )
    edges = [edge("s", "t"), edge("t", "k"), edge("k", "h"), edge("h", "l"), edge("l", "e")]
    document = dsl(
        [START, tool, retrieve, call, ask, END],
        edges,
        environment_variables=[{"name": "key", "value": "", "value_type": "secret"}],
    )
    document["dependencies"] = [
        {"type": "marketplace", "value": {"marketplace_plugin_unique_identifier": "x/openai:1"}}
    ]

    report = check_text(yaml.safe_dump(document), source="deps.yml")

    assert report.imports, report.issues
    assert report.dependencies == {
        "models": ["openai/gpt-4o"],
        "tools": ["weather/forecast"],
        "knowledge_bases": ["ds1"],
        "http_hosts": ["api.example.com:8443"],
        "plugins": ["x/openai:1"],
        "secrets": ["key"],
    }


def test_given_files_when_import_check_json_then_each_is_reported_and_failures_exit_1(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump(dsl([START, END], [edge("s", "e")])))
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(dsl([START, node("a", "answer"), END], [edge("s", "e")])))

    result = CliRunner().invoke(main, ["import", "--check", "--json", str(good), str(bad)])

    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [(r["file"], r["imports"]) for r in reports] == [(str(good), True), (str(bad), False)]
    assert reports[1]["issues"][0]["code"] == "dify_unsupported_node_type"
    assert reports[1]["issues"][0]["node_id"] == "a"
    assert set(reports[0]["dependencies"]) >= {"models", "tools", "knowledge_bases", "http_hosts"}


def test_given_the_examples_when_import_check_then_a_table_and_exit_0():
    result = CliRunner().invoke(main, ["import", "--check", *map(str, EXAMPLES)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[:3] == ["FILE", "IMPORTS", "ISSUES"]
    assert "models: local/echo" in result.output


def test_given_a_dsl_when_import_native_then_the_native_yaml_loads(tmp_path):
    source = tmp_path / "flow.yml"
    source.write_text(yaml.safe_dump(dsl([START, END], [edge("s", "e")])))

    result = CliRunner().invoke(main, ["import", "--native", str(source)])

    assert result.exit_code == 0, result.output
    assert parse_workflow(yaml.safe_load(result.output)).node("s").title == "S"
