"""tool and knowledge-retrieval with registered endpoints (a local server, loopback exempted from
the address guard) and Bedrock Knowledge Bases' Retrieve (botocore's Stubber checks the request
against the API's model). Lambda targets run in moto: tests/integration/test_work_nodes.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from signoff.graph.model import parse_node
from signoff.net import AddressGuard, AddressNotAllowed
from signoff.nodes import knowledge_retrieval, tool
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import (
    RetrievalFailed,
    RetrieverNotRegistered,
    ToolInvocationFailed,
    ToolNotRegistered,
)
from signoff.nodes.event import RunContext
from signoff.nodes.integrations import AwsClients, Integrations
from signoff.nodes.registry import KnowledgeBaseTarget, UrlTarget
from signoff.nodes.variables import VariableScope
from tests.support.local_http import LocalHttpServer, Received, Reply

RUN = RunContext(run_id="run-1", tenant_id="tenant-a", workflow_id="wf", user="ada")
VARIABLES = {"start": {"city": "Paris", "days": 3, "query": "refund policy"}}
LOOPBACK = AddressGuard(exempt=["127.0.0.1/32"])


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        yield running


def context(integrations: Integrations) -> NodeContext:
    return NodeContext(run=RUN, attempt=1, code_runner=None, integrations=integrations)  # type: ignore[arg-type]


def run_node_type(module: Any, fields: dict[str, Any], integrations: Integrations) -> Any:
    node = parse_node(fields)
    inputs = module.inputs(node, VariableScope(VARIABLES, RUN.model_dump()))
    return inputs, module.run(node, inputs, context(integrations))


# ---------------------------------------------------------------------------------------- tool

WEATHER = {
    "id": "weather",
    "type": "tool",
    "provider_id": "acme",
    "provider_type": "api",
    "tool_name": "forecast",
    "tool_configurations": {"units": "metric"},
    "tool_parameters": {
        "city": {"type": "variable", "value": ["start", "city"]},
        "question": {
            "type": "mixed",
            "value": "Weather in {{#start.city#}} for {{#start.days#}} days?",
        },
        "limit": {"type": "constant", "value": 5},
    },
}


def test_given_a_url_tool_when_run_then_it_gets_its_parameters_and_its_answer_is_the_output(
    server,
):
    def forecast(request: Received) -> Reply:
        return Reply(body={"text": "Sunny", "json": {"temp": 21}, "source": "acme"})

    server.route("POST", "/tools/forecast", forecast)
    integrations = Integrations(
        guard=LOOPBACK, tools={"acme/forecast": UrlTarget(url=server.url("/tools/forecast"))}
    )
    # A loopback endpoint over plain http: only where the deployment allows private networks.
    integrations.guard.allow_private_network = True

    inputs, outputs = run_node_type(tool, WEATHER, integrations)

    assert inputs == {
        "units": "metric",
        "city": "Paris",
        "question": "Weather in Paris for 3 days?",
        "limit": 5,
    }
    assert server.received[0].json() == {"tool": "acme/forecast", "parameters": inputs}
    assert outputs == {"source": "acme", "text": "Sunny", "files": [], "json": [{"temp": 21}]}


def test_given_an_http_tool_endpoint_and_a_public_only_deployment_then_https_is_required():
    integrations = Integrations(tools={"acme/forecast": UrlTarget(url="http://tools.example")})

    with pytest.raises(ToolInvocationFailed, match="must use https"):
        run_node_type(tool, WEATHER, integrations)


def test_given_a_tool_endpoint_on_a_private_address_then_it_is_refused():
    integrations = Integrations(tools={"acme/forecast": UrlTarget(url="https://10.1.2.3/tool")})

    with pytest.raises(AddressNotAllowed):
        run_node_type(tool, WEATHER, integrations)


def test_given_an_unregistered_tool_when_run_then_it_names_the_tool():
    with pytest.raises(ToolNotRegistered, match="acme/forecast"):
        run_node_type(tool, WEATHER, Integrations())


def test_given_a_failing_tool_endpoint_then_the_tool_failed(server):
    server.route("POST", "/tools/forecast", Reply(500, "upstream broke"))
    integrations = Integrations(
        guard=AddressGuard(allow_private_network=True),
        tools={"acme/forecast": UrlTarget(url=server.url("/tools/forecast"))},
    )

    with pytest.raises(ToolInvocationFailed, match="HTTP 500: upstream broke"):
        run_node_type(tool, WEATHER, integrations)


@pytest.mark.parametrize(
    ("answer", "outputs"),
    [
        ("plain text", {"text": "plain text", "files": [], "json": []}),
        ([1, 2], {"text": "[1, 2]", "files": [], "json": [[1, 2]]}),
        ({"json": [{"a": 1}, {"b": 2}]}, {"text": "", "files": [], "json": [{"a": 1}, {"b": 2}]}),
        (
            {"files": [{"type": "image", "url": "https://x/y.png"}]},
            {"text": "", "files": [{"type": "image", "url": "https://x/y.png"}], "json": []},
        ),
    ],
)
def test_given_each_answer_shape_then_the_outputs_are_dify_s(answer, outputs):
    assert tool.tool_outputs(answer, "acme/x") == outputs


def test_given_files_that_are_not_files_then_the_tool_failed():
    with pytest.raises(ToolInvocationFailed, match="files"):
        tool.tool_outputs({"files": "nope"}, "acme/x")


# --------------------------------------------------------------------------- knowledge retrieval

RETRIEVE = {
    "id": "kb",
    "type": "knowledge-retrieval",
    "query_variable_selector": ["start", "query"],
    "dataset_ids": ["policies"],
    "retrieval_mode": "multiple",
    "multiple_retrieval_config": {"top_k": 2},
}


def bedrock_stub(results: list[dict[str, Any]], top_k: int = 2) -> tuple[Any, Stubber]:
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "retrieve",
        {"retrievalResults": results},
        {
            "knowledgeBaseId": "KB12345678",
            "retrievalQuery": {"text": "refund policy"},
            "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": top_k}},
        },
    )
    return client, stubber


def test_given_a_bedrock_knowledge_base_when_retrieved_then_chunks_are_dify_s_records():
    client, stubber = bedrock_stub(
        [
            {
                "content": {"text": "Refunds within 30 days."},
                "location": {
                    "type": "S3",
                    "s3Location": {"uri": "s3://docs/policies/refunds.pdf"},
                },
                "score": 0.91,
                "metadata": {
                    "x-amz-bedrock-kb-source-uri": "s3://docs/policies/refunds.pdf",
                    "team": "support",
                },
            },
            {
                "content": {"text": "Shipping is free."},
                "location": {"type": "WEB", "webLocation": {"url": "https://x.test/ship"}},
                "score": 0.42,
            },
        ]
    )
    integrations = Integrations(
        retrievers={"policies": KnowledgeBaseTarget(bedrock_knowledge_base_id="KB12345678")},
        aws=AwsClients({"bedrock-agent-runtime": client}),
    )

    with stubber:
        inputs, outputs = run_node_type(knowledge_retrieval, RETRIEVE, integrations)
    stubber.assert_no_pending_responses()

    assert inputs == {"query": "refund policy"}
    first, second = outputs["result"]
    assert first["content"] == "Refunds within 30 days."
    assert first["title"] == "refunds.pdf"
    assert first["metadata"] == {
        "team": "support",
        "_source": "knowledge",
        "dataset_id": "policies",
        "dataset_name": "policies",
        "document_id": "s3://docs/policies/refunds.pdf",
        "document_name": "refunds.pdf",
        "knowledge_base_id": "KB12345678",
        "score": 0.91,
        "position": 1,
    }
    assert (second["title"], second["metadata"]["score"], second["metadata"]["position"]) == (
        "ship",
        0.42,
        2,
    )


def test_given_a_knowledge_base_error_then_retrieval_failed():
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("retrieve", "ResourceNotFoundException", "no such knowledge base")
    integrations = Integrations(
        retrievers={"policies": KnowledgeBaseTarget(bedrock_knowledge_base_id="KB12345678")},
        aws=AwsClients({"bedrock-agent-runtime": client}),
    )

    with stubber, pytest.raises(RetrievalFailed, match="no such knowledge base"):
        run_node_type(knowledge_retrieval, RETRIEVE, integrations)


def test_given_several_retrievers_then_chunks_merge_by_score_under_the_threshold_and_top_k(
    server,
):
    def answering(*scores: float) -> Any:
        def handler(request: Received) -> Reply:
            dataset = request.json()["dataset_id"]
            return Reply(
                body={
                    "records": [
                        {"content": f"{dataset} {score}", "title": f"{dataset}.md", "score": score}
                        for score in scores
                    ]
                }
            )

        return handler

    server.route("POST", "/a", answering(0.9, 0.3))
    server.route("POST", "/b", answering(0.8, 0.7))
    integrations = Integrations(
        guard=AddressGuard(allow_private_network=True),
        retrievers={"a": UrlTarget(url=server.url("/a")), "b": UrlTarget(url=server.url("/b"))},
    )
    fields = {
        **RETRIEVE,
        "dataset_ids": ["a", "b"],
        "multiple_retrieval_config": {"top_k": 3, "score_threshold": 0.5},
    }

    _, outputs = run_node_type(knowledge_retrieval, fields, integrations)

    assert [r["content"] for r in outputs["result"]] == ["a 0.9", "b 0.8", "b 0.7"]
    assert server.received[0].json() == {
        "dataset_id": "a",
        "query": "refund policy",
        "top_k": 3,
        "score_threshold": 0.5,
    }


def test_given_an_unregistered_dataset_then_it_is_named():
    with pytest.raises(RetrieverNotRegistered, match="policies"):
        run_node_type(knowledge_retrieval, RETRIEVE, Integrations())


def test_given_a_blank_query_then_nothing_is_retrieved():
    VARIABLES["blank"] = {"query": "  "}
    try:
        _, outputs = run_node_type(
            knowledge_retrieval,
            {**RETRIEVE, "query_variable_selector": ["blank", "query"]},
            Integrations(),
        )
    finally:
        del VARIABLES["blank"]

    assert outputs == {"result": []}
