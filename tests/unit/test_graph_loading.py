"""Loading and parsing whole workflow documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from signoff.errors import GraphInvalid
from signoff.graph import load_workflow_file, parse_workflow, validate_workflow
from signoff.graph.model import Workflow

EXAMPLES = Path(__file__).parents[2] / "examples"


def minimal(**extra) -> dict:
    return {
        "name": "minimal",
        "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
        "edges": [{"source": "start", "target": "end"}],
        **extra,
    }


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_example_loads_without_issues(path: Path):
    workflow = load_workflow_file(path)
    assert isinstance(workflow, Workflow)
    assert validate_workflow(workflow) == []


def test_given_the_same_workflow_as_json_then_it_loads_the_same(tmp_path: Path):
    document = yaml.safe_load((EXAMPLES / "hello.yaml").read_text())
    as_json = tmp_path / "hello.json"
    as_json.write_text(json.dumps(document))
    without_extension = tmp_path / "hello"
    without_extension.write_text(json.dumps(document))

    expected = load_workflow_file(EXAMPLES / "hello.yaml")
    assert load_workflow_file(as_json) == expected
    assert load_workflow_file(without_extension) == expected


@pytest.mark.parametrize("text", ["{not json", "[1, 2", "name: [unclosed"])
def test_given_unreadable_text_then_the_issue_is_unreadable_document(tmp_path: Path, text: str):
    path = tmp_path / "broken.json" if text.startswith(("{", "[")) else tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(GraphInvalid) as raised:
        load_workflow_file(path)
    assert [issue.code for issue in raised.value.issues] == ["unreadable_document"]


def test_given_a_missing_file_then_the_issue_is_unreadable_document(tmp_path: Path):
    with pytest.raises(GraphInvalid) as raised:
        load_workflow_file(tmp_path / "nope.yaml")
    assert raised.value.issues[0].code == "unreadable_document"


@pytest.mark.parametrize("document", [None, [], "text", 3])
def test_given_a_document_that_is_not_a_mapping_then_it_is_unreadable(document):
    with pytest.raises(GraphInvalid) as raised:
        parse_workflow(document)
    assert [issue.code for issue in raised.value.issues] == ["unreadable_document"]


def test_given_an_unknown_node_type_then_the_rest_of_the_graph_is_still_checked():
    document = minimal()
    document["nodes"].append({"id": "ask", "type": "agent"})
    document["nodes"].append({"id": "lost", "type": "end"})
    document["edges"].append({"source": "start", "target": "ask"})

    with pytest.raises(GraphInvalid) as raised:
        parse_workflow(document)

    found = {(issue.code, issue.node_id) for issue in raised.value.issues}
    # The edge into the unknown node is not dangling: the node exists, its type is the problem.
    assert found == {("unknown_node_type", "ask"), ("unreachable_node", "lost")}


def test_given_a_valid_document_then_the_model_is_fully_built():
    workflow = parse_workflow(minimal(description="d"))
    assert workflow.description == "d"
    assert [node.id for node in workflow.nodes] == ["start", "end"]
    assert workflow.node("end").title == "end"
    assert Workflow.model_validate(workflow.model_dump(mode="json")) == workflow


def test_graph_invalid_details_list_code_message_and_node():
    document = minimal()
    document["edges"].append({"source": "end", "target": "nowhere", "id": "e9"})
    with pytest.raises(GraphInvalid) as raised:
        parse_workflow(document)
    assert raised.value.details == [
        {
            "code": "dangling_edge",
            "message": "edge e9 points at no node: nowhere does not exist",
            "node_id": "end",
            "edge_id": "e9",
        }
    ]


def test_node_ids_may_be_dify_style_numbers():
    document = minimal()
    document["nodes"].append({"id": "1711528914102", "type": "template-transform", "template": "x"})
    document["edges"] = [
        {"source": "start", "target": "1711528914102"},
        {"source": "1711528914102", "target": "end"},
    ]
    assert parse_workflow(document).node("1711528914102").type == "template-transform"


def test_a_node_id_longer_than_a_state_name_allows_is_rejected():
    long_id = "n" * 65
    document = minimal()
    document["nodes"].append({"id": long_id, "type": "template-transform", "template": "x"})
    document["edges"] = [
        {"source": "start", "target": long_id},
        {"source": long_id, "target": "end"},
    ]
    with pytest.raises(GraphInvalid) as raised:
        parse_workflow(document)
    assert [(i.code, i.node_id) for i in raised.value.issues] == [("invalid_node_id", long_id)]


def test_a_node_without_an_id_is_reported_once():
    document = minimal()
    document["nodes"].append({"type": "template-transform", "template": "x"})
    with pytest.raises(GraphInvalid) as raised:
        parse_workflow(document)
    assert [(i.code, i.node_id) for i in raised.value.issues] == [("invalid_node", None)]
    assert "id: Field required" in raised.value.issues[0].message


def test_unquoted_numeric_ids_in_yaml_are_read_as_text(tmp_path: Path):
    path = tmp_path / "numeric.yaml"
    path.write_text(
        "name: numeric\n"
        "nodes:\n"
        "  - { id: start, type: start }\n"
        "  - { id: 1711528914102, type: template-transform, template: hi }\n"
        "  - id: end\n"
        "    type: end\n"
        "    outputs: [{ variable: out, value_selector: [1711528914102, output] }]\n"
        "edges:\n"
        "  - { source: start, target: 1711528914102 }\n"
        "  - { source: 1711528914102, target: end }\n"
    )
    workflow = load_workflow_file(path)
    assert workflow.node("1711528914102").type == "template-transform"
    assert workflow.node("end").outputs[0].value_selector == ["1711528914102", "output"]
