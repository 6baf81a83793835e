"""Every node type of issue 3, in Dify's field names, and the graph rules that come with them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from signoff.graph import parse_workflow, validate_workflow
from signoff.graph.model import (
    NODE_TYPES,
    AssignerNode,
    DocumentExtractorNode,
    HttpRequestNode,
    IterationNode,
    KnowledgeRetrievalNode,
    ListOperatorNode,
    LlmNode,
    LoopNode,
    ParameterExtractorNode,
    QuestionClassifierNode,
    ToolNode,
    VariableAggregatorNode,
    parse_node,
)

MODEL = {
    "provider": "local",
    "name": "echo",
    "mode": "chat",
    "completion_params": {"temperature": 0},
}

DIFY_NODES: list[tuple[type, dict[str, Any]]] = [
    (
        LlmNode,
        {
            "type": "llm",
            "model": MODEL,
            "prompt_template": [
                {"role": "system", "text": "Be brief."},
                {"role": "user", "text": "{{#start.question#}}"},
            ],
            "context": {"enabled": False, "variable_selector": []},
            "vision": {"enabled": False},
            "memory": None,
        },
    ),
    (
        HttpRequestNode,
        {
            "type": "http-request",
            "method": "POST",
            "url": "https://example.com/{{#start.path#}}",
            "headers": "X-Trace:{{#sys.run_id#}}",
            "params": "q:1",
            "body": {"type": "json", "data": [{"type": "text", "value": '{"a": 1}'}]},
            "authorization": {"type": "api-key", "config": {"type": "bearer", "api_key": "k"}},
            "timeout": {"max_connect_timeout": 0, "max_read_timeout": 0, "max_write_timeout": 0},
            "ssl_verify": True,
        },
    ),
    (
        QuestionClassifierNode,
        {
            "type": "question-classifier",
            "query_variable_selector": ["start", "question"],
            "model": MODEL,
            "classes": [{"id": "1", "name": "billing"}, {"id": "2", "name": "other"}],
            "instruction": "",
        },
    ),
    (
        ParameterExtractorNode,
        {
            "type": "parameter-extractor",
            "query": ["start", "question"],
            "model": MODEL,
            "parameters": [
                {"name": "city", "type": "string", "description": "a city", "required": True},
                {"name": "unit", "type": "select", "options": ["c", "f"], "required": False},
            ],
            "reasoning_mode": "prompt",
        },
    ),
    (
        ToolNode,
        {
            "type": "tool",
            "provider_id": "time",
            "provider_type": "builtin",
            "provider_name": "time",
            "tool_name": "current_time",
            "tool_parameters": {"timezone": {"type": "constant", "value": "UTC"}},
            "tool_configurations": {"format": "%Y"},
        },
    ),
    (
        KnowledgeRetrievalNode,
        {
            "type": "knowledge-retrieval",
            "query_variable_selector": ["start", "question"],
            "dataset_ids": ["ds-1"],
            "retrieval_mode": "multiple",
            "multiple_retrieval_config": {"top_k": 3, "score_threshold": None},
        },
    ),
    (
        DocumentExtractorNode,
        {"type": "document-extractor", "variable_selector": ["start", "file"]},
    ),
    (
        VariableAggregatorNode,
        {
            "type": "variable-aggregator",
            "output_type": "string",
            "variables": [["a", "text"], ["b", "text"]],
            "advanced_settings": {
                "group_enabled": True,
                "groups": [
                    {
                        "group_name": "g",
                        "output_type": "string",
                        "variables": [["a", "text"]],
                        "groupId": "x1",
                    }
                ],
            },
        },
    ),
    (
        AssignerNode,
        {
            "type": "assigner",
            "version": "2",
            "items": [
                {
                    "variable_selector": ["loop", "n"],
                    "input_type": "constant",
                    "operation": "+=",
                    "value": 1,
                },
                {"variable_selector": ["loop", "list"], "operation": "remove-last"},
            ],
        },
    ),
    (
        ListOperatorNode,
        {
            "type": "list-operator",
            "variable": ["start", "items"],
            "filter_by": {
                "enabled": True,
                "conditions": [{"key": "", "comparison_operator": "in", "value": ["a"]}],
            },
            "order_by": {"enabled": False, "key": "", "value": "asc"},
            "limit": {"enabled": True, "size": 5},
            "extract_by": {"enabled": False, "serial": "1"},
        },
    ),
    (
        IterationNode,
        {
            "type": "iteration",
            "iterator_selector": ["start", "items"],
            "output_selector": ["child", "output"],
            "output_type": "array[string]",
            "start_node_id": "itstart",
            "is_parallel": True,
            "parallel_nums": 10,
            "error_handle_mode": "continue-on-error",
        },
    ),
    (
        LoopNode,
        {
            "type": "loop",
            "loop_count": 10,
            "break_conditions": [
                {"variable_selector": ["loop", "n"], "comparison_operator": "≥", "value": "3"}
            ],
            "logical_operator": "and",
            "loop_variables": [
                {"label": "n", "var_type": "number", "value_type": "constant", "value": 0}
            ],
            "start_node_id": "lstart",
        },
    ),
]


@pytest.mark.parametrize("model, data", DIFY_NODES, ids=[m.__name__ for m, _ in DIFY_NODES])
def test_given_difys_fields_when_parsed_then_the_model_is_built_and_round_trips(model, data):
    node = parse_node({"id": "n1", **data})

    assert type(node) is model
    again = parse_node({"id": node.id, "type": node.type, "title": node.title, **node.config()})
    assert again == node


def test_every_issue_3_node_type_is_known():
    expected = {
        "llm",
        "http-request",
        "variable-aggregator",
        "assigner",
        "list-operator",
        "parameter-extractor",
        "question-classifier",
        "tool",
        "knowledge-retrieval",
        "document-extractor",
        "iteration",
        "iteration-start",
        "loop",
        "loop-start",
        "loop-end",
    }
    assert expected <= set(NODE_TYPES)
    work = {name for name, model in NODE_TYPES.items() if model.runs_in_node_function}
    assert work == {
        "code",
        "template-transform",
        "llm",
        "http-request",
        "parameter-extractor",
        "question-classifier",
        "tool",
        "knowledge-retrieval",
        "document-extractor",
    }


def test_config_leaves_out_the_parent_and_settings_left_unset():
    plain = parse_node({"id": "t", "type": "template-transform", "template": "x", "parent_id": "p"})
    assert plain.config() == {"template": "x", "variables": []}
    strategic = parse_node(
        {
            "id": "t",
            "type": "template-transform",
            "template": "x",
            "error_strategy": "default-value",
            "default_value": [{"key": "output", "type": "string", "value": "n/a"}],
            "retry_config": {"retry_enabled": True, "max_retries": 3, "retry_interval": 100},
        }
    )
    config = strategic.config()
    assert config["error_strategy"] == "default-value"
    assert config["default_value"] == [{"key": "output", "type": "string", "value": "n/a"}]
    assert config["retry_config"] == {
        "retry_enabled": True,
        "max_retries": 3,
        "retry_interval": 100,
    }


def test_handles_follow_the_node_and_its_error_strategy():
    classifier = parse_node({"id": "q", **DIFY_NODES[2][1]})
    assert classifier.handles == ["1", "2"]
    failing = parse_node({"id": "q", **DIFY_NODES[2][1], "error_strategy": "fail-branch"})
    assert failing.handles == ["1", "2", "fail-branch"]
    code = parse_node({"id": "c", "type": "code", "code": "x", "error_strategy": "fail-branch"})
    assert code.handles == ["success-branch", "fail-branch"]
    assert parse_node({"id": "c", "type": "code", "code": "x"}).handles == ["source"]


@pytest.mark.parametrize(
    "retry",
    [
        {"retry_enabled": True, "max_retries": 0, "retry_interval": 100},
        {"retry_enabled": True, "max_retries": 11, "retry_interval": 100},
        {"retry_enabled": True, "max_retries": 1, "retry_interval": 99},
        {"retry_enabled": True, "max_retries": 1, "retry_interval": 5001},
    ],
)
def test_retry_bounds_are_difys_when_enabled(retry):
    with pytest.raises(ValidationError, match="retry"):
        parse_node({"id": "c", "type": "code", "code": "x", "retry_config": retry})
    disabled = {**retry, "retry_enabled": False}
    assert not parse_node(
        {"id": "c", "type": "code", "code": "x", "retry_config": disabled}
    ).retries


@pytest.mark.parametrize(
    "entry",
    [
        {"key": "n", "type": "number", "value": "1"},
        {"key": "n", "type": "array[string]", "value": [1]},
        {"key": "n", "type": "boolean", "value": 0},
    ],
)
def test_default_values_fit_their_type(entry):
    with pytest.raises(ValidationError):
        parse_node({"id": "c", "type": "code", "code": "x", "default_value": [entry]})


def issues_of(document: dict[str, Any], tools: list[str] | None = None) -> list[tuple[str, str]]:
    from signoff.graph.parsing import parse_document
    from signoff.graph.validation import validate_graph

    parsed = parse_document(document)
    found = parsed.issues + validate_graph(parsed.workflow, parsed.slots, tools=tools)
    return [(issue.code, issue.node_id) for issue in found]


def iteration_document(child_reads: list[str], end_reads: list[str]) -> dict[str, Any]:
    return {
        "name": "scopes",
        "inputs": [{"variable": "items", "type": "array"}],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "iteration",
                "iterator_selector": ["start", "items"],
                "output_selector": ["child", "output"],
                "start_node_id": "each_start",
            },
            {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
            {
                "id": "child",
                "type": "template-transform",
                "parent_id": "each",
                "template": "x",
                "variables": [{"variable": "v", "value_selector": child_reads}],
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "out", "value_selector": end_reads}],
            },
        ],
        "edges": [
            {"source": "start", "target": "each"},
            {"source": "each_start", "target": "child"},
            {"source": "each", "target": "end"},
        ],
    }


@pytest.mark.parametrize(
    "child_reads, end_reads, problems",
    [
        (["each", "item"], ["each", "output"], []),
        (["each", "index"], ["each", "output"], []),
        (["start", "items"], ["each", "output"], []),
        (["each", "output"], ["each", "output"], [("bad_selector", "child")]),
        (["each", "item"], ["each", "item"], [("bad_selector", "end")]),
        (["each", "item"], ["child", "output"], [("bad_selector", "end")]),
    ],
)
def test_inside_an_iteration_children_read_the_item_and_outside_only_its_output(
    child_reads, end_reads, problems
):
    assert issues_of(iteration_document(child_reads, end_reads)) == problems


def test_a_tool_registry_makes_unregistered_tools_issues():
    document = {
        "name": "tools",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "t", **DIFY_NODES[4][1]},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "t"}, {"source": "t", "target": "end"}],
    }
    assert issues_of(document) == []
    assert issues_of(document, tools=["time/current_time"]) == []
    assert issues_of(document, tools=["other/tool"]) == [("unknown_tool", "t")]
    workflow = parse_workflow(document)
    [issue] = validate_workflow(workflow, tools=[])
    assert "time/current_time" in issue.message


def test_fail_branch_edges_may_keep_the_source_handle_for_success():
    document = {
        "name": "fail branch",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "c", "type": "code", "code": "x", "error_strategy": "fail-branch"},
            {"id": "ok", "type": "end"},
            {"id": "bad", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "c"},
            {"source": "c", "target": "ok"},
            {"source": "c", "target": "bad", "sourceHandle": "fail-branch"},
        ],
    }
    assert issues_of(document) == []
    document["edges"][1]["sourceHandle"] = "true"
    assert issues_of(document) == [("invalid_handle", "c")]


def test_error_outputs_are_selectable_from_a_node_with_an_error_strategy():
    document = {
        "name": "errors",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "c", "type": "code", "code": "x", "error_strategy": "default-value"},
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "why", "value_selector": ["c", "error_message"]}],
            },
        ],
        "edges": [{"source": "start", "target": "c"}, {"source": "c", "target": "end"}],
    }
    assert issues_of(document) == []
    del document["nodes"][1]["error_strategy"]
    assert issues_of(document) == [("bad_selector", "end")]


def test_a_workflow_timeout_is_whole_seconds():
    document = {"name": "t", "timeout_seconds": 0, "nodes": [], "edges": []}
    assert ("invalid_document", None) in issues_of(document)
    document["timeout_seconds"] = 30
    assert ("invalid_document", None) not in issues_of(document)
