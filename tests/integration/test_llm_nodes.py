"""The model-backed nodes through moto: API keys resolved from Secrets Manager and SSM, the fake
OpenAI-compatible server answering over real HTTP (plain and streamed), execution records in
DynamoDB, and the node function configured from template.yaml's parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from signoff.local.fake_llm import (
    LOCAL_SECRET_ID,
    FakeLlmServer,
    local_provider_parameters,
)
from signoff.local.functions import FunctionRunner, activate
from signoff.local.provision import plan_stack, provision_stack
from signoff.nodes.runtime import run_node
from signoff.providers.config import ModelPrice, OpenAICompatibleProvider
from signoff.providers.credentials import CredentialResolver
from signoff.providers.errors import LlmAuthenticationFailed, LlmCredentialsUnavailable
from signoff.providers.registry import ChatModels
from signoff.store.node_executions import DynamoNodeExecutionRepository

pytestmark = pytest.mark.integration

REGION = "us-east-1"
API_KEY = "sk-integration-key"
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "user": "ada"}
PRICES = {"plain/echo": ModelPrice(input_per_1k="1", output_per_1k="2")}


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLlmServer]:
    with FakeLlmServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def secretsmanager(aws: None) -> Any:
    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(Name="signoff/llm/plain", SecretString=API_KEY)
    client.create_secret(Name="signoff/llm/wrong", SecretString="sk-not-the-key")
    client.create_secret(Name="signoff/llm/as-json", SecretString=json.dumps({"api_key": API_KEY}))
    client.create_secret(Name="signoff/llm/other-json", SecretString=json.dumps({"token": "x"}))
    return client


@pytest.fixture
def ssm(aws: None) -> Any:
    client = boto3.client("ssm", region_name=REGION)
    client.put_parameter(Name="/signoff/llm/streaming", Value=API_KEY, Type="SecureString")
    return client


@pytest.fixture
def chat_models(fake_llm, secretsmanager, ssm) -> ChatModels:
    def provider(reference: str, *, stream: bool = False) -> OpenAICompatibleProvider:
        return OpenAICompatibleProvider(
            base_url=fake_llm.base_url, api_key_ref=reference, stream=stream
        )

    return ChatModels(
        {
            "plain": provider("secretsmanager:signoff/llm/plain"),
            "streaming": provider("ssm:/signoff/llm/streaming", stream=True),
            "json-secret": provider("secretsmanager:signoff/llm/as-json"),
            "wrong-key": provider("secretsmanager:signoff/llm/wrong"),
            "no-secret": provider("secretsmanager:signoff/llm/absent"),
        },
        PRICES,
        credentials=CredentialResolver(secrets_client=secretsmanager, ssm_client=ssm),
    )


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


@pytest.fixture
def run(executions, chat_models):
    def run_event(event: dict[str, Any]) -> dict[str, Any]:
        return run_node(event, executions=executions, code_runner=None, chat_models=chat_models)

    return run_event


def event(node: dict[str, Any], variables: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"run": RUN, "node": node, "variables": variables, "attempt": 1, **extra}


def llm_node(provider: str = "plain", model: str = "echo") -> dict[str, Any]:
    return {
        "id": "ask",
        "type": "llm",
        "title": "Ask",
        "config": {
            "model": {"provider": provider, "name": model, "completion_params": {}},
            "prompt_template": [
                {"role": "system", "text": "You answer briefly."},
                {"role": "user", "text": "{{#start.question#}}"},
            ],
        },
    }


QUESTION = {"start": {"question": "What is two plus two"}}


def the_record(executions: DynamoNodeExecutionRepository):
    [record] = executions.list_for_run("tenant-a", "run-1")
    return record


@pytest.mark.parametrize("provider", ["plain", "streaming", "json-secret"])
def test_given_an_llm_node_when_run_then_the_fake_echoes_the_prompt_with_word_count_usage(
    run, executions, provider
):
    result = run(event(llm_node(provider), QUESTION))

    outputs = result["outputs"]
    assert outputs["text"] == "echo: What is two plus two"
    # 3 words of system prompt + 5 of the question; 6 words answered.
    assert outputs["usage"]["prompt_tokens"] == 8
    assert outputs["usage"]["completion_tokens"] == 6
    assert outputs["usage"]["total_tokens"] == 14
    assert result["usage"] == outputs["usage"]
    assert "handle" not in result or result["handle"] == "source"
    record = the_record(executions)
    assert record.status == "succeeded"
    assert record.inputs == {"#start.question#": "What is two plus two"}
    assert record.outputs == outputs


def test_given_a_priced_model_when_the_llm_node_runs_then_usage_carries_the_price(run):
    usage = run(event(llm_node("plain"), QUESTION))["outputs"]["usage"]

    assert usage["total_price"] == pytest.approx((8 * 1 + 6 * 2) / 1000)
    assert usage["currency"] == "USD"


def test_given_review_feedback_in_the_event_when_the_llm_node_reruns_then_it_answers_it(run):
    result = run(
        event(
            llm_node(),
            QUESTION,
            feedback="Answer with a number",
            previous_output={"text": "echo: What is two plus two"},
        )
    )

    assert result["outputs"]["text"] == "echo: Answer with a number"


def test_given_a_key_the_provider_refuses_when_run_then_the_node_fails_authentication(
    run, executions
):
    with pytest.raises(LlmAuthenticationFailed, match="HTTP 401"):
        run(event(llm_node("wrong-key"), QUESTION))

    record = the_record(executions)
    assert record.status == "failed"
    assert record.error.type == "LlmAuthenticationFailed"
    assert "sk-not-the-key" not in record.error.message


def test_given_a_missing_secret_when_run_then_the_node_fails_with_credentials_unavailable(
    run, executions
):
    with pytest.raises(LlmCredentialsUnavailable, match="signoff/llm/absent"):
        run(event(llm_node("no-secret"), QUESTION))

    assert the_record(executions).error.type == "LlmCredentialsUnavailable"


def test_given_a_resolved_key_when_the_secret_is_deleted_then_this_cold_start_keeps_it(
    secretsmanager, ssm
):
    resolver = CredentialResolver(secrets_client=secretsmanager, ssm_client=ssm)
    assert resolver.resolve("secretsmanager:signoff/llm/plain") == API_KEY
    assert resolver.resolve("ssm:/signoff/llm/streaming") == API_KEY

    secretsmanager.delete_secret(SecretId="signoff/llm/plain", ForceDeleteWithoutRecovery=True)

    assert resolver.resolve("secretsmanager:signoff/llm/plain") == API_KEY
    fresh = CredentialResolver(secrets_client=secretsmanager, ssm_client=ssm)
    with pytest.raises(LlmCredentialsUnavailable):
        fresh.resolve("secretsmanager:signoff/llm/plain")


def test_given_a_json_secret_without_an_api_key_when_resolved_then_it_says_so(secretsmanager):
    resolver = CredentialResolver(secrets_client=secretsmanager)

    with pytest.raises(LlmCredentialsUnavailable, match="without a string api_key"):
        resolver.resolve("secretsmanager:signoff/llm/other-json")


def test_given_a_classifier_when_run_then_the_class_named_in_the_query_is_chosen(run, executions):
    node = {
        "id": "route",
        "type": "question-classifier",
        "config": {
            "model": {"provider": "streaming", "name": "echo"},
            "query_variable_selector": ["start", "question"],
            "classes": [{"id": "1", "name": "Sales"}, {"id": "2", "name": "Refund"}],
        },
    }

    result = run(event(node, {"start": {"question": "I want a refund for my order"}}))

    assert result["outputs"]["class_name"] == "Refund"
    assert result["outputs"]["class_id"] == "2"
    assert result["handle"] == "2"
    assert result["usage"] == result["outputs"]["usage"]
    assert result["outputs"]["usage"]["total_tokens"] > 0
    assert the_record(executions).inputs == {"query": "I want a refund for my order"}


def extractor(reasoning_mode: str) -> dict[str, Any]:
    return {
        "id": "extract",
        "type": "parameter-extractor",
        "config": {
            "model": {"provider": "plain", "name": "echo"},
            "query": ["start", "question"],
            "reasoning_mode": reasoning_mode,
            "parameters": [
                {"name": "city", "type": "string", "required": True},
                {"name": "nights", "type": "number", "required": True},
                {"name": "room", "type": "select", "options": ["single", "double"]},
            ],
        },
    }


@pytest.mark.parametrize("reasoning_mode", ["function_call", "prompt"])
def test_given_an_extractor_when_run_then_parameters_come_from_the_query(run, reasoning_mode):
    query = {"start": {"question": "Book city=Lisbon nights=2 in a double room"}}

    result = run(event(extractor(reasoning_mode), query))
    outputs = result["outputs"]

    assert {key: outputs[key] for key in ("city", "nights", "room")} == {
        "city": "Lisbon",
        "nights": 2,
        "room": "double",
    }
    assert outputs["__is_success"] == 1
    assert outputs["__reason"] is None
    assert outputs["__usage"]["total_price"] > 0
    assert result["usage"] == outputs["__usage"]


def test_given_a_query_without_a_required_parameter_when_extracted_then_it_is_not_a_success(
    run, executions
):
    outputs = run(event(extractor("function_call"), {"start": {"question": "city=Lisbon"}}))[
        "outputs"
    ]

    assert outputs["__is_success"] == 0
    assert outputs["__reason"] == "parameter nights is required"
    assert outputs["city"] == ""
    assert the_record(executions).status == "succeeded"


def test_given_the_template_with_provider_parameters_when_the_node_function_runs_an_llm_node_then_it_answers_priced(  # noqa: E501
    aws, fake_llm
):
    # What the local cloud does: the fake's key in Secrets Manager, the provider set through the
    # template's parameters, the node function built from its environment at cold start.
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=LOCAL_SECRET_ID, SecretString=API_KEY
    )
    plan = plan_stack(parameter_overrides=local_provider_parameters(fake_llm.base_url))
    clients = {s: boto3.client(s, region_name=REGION) for s in ("dynamodb", "iam", "lambda", "s3")}
    provision_stack(plan, clients)
    runner = FunctionRunner(plan.functions)
    previous = activate(runner)
    try:
        result = runner.invoke(
            plan.function("node").function_name, event(llm_node("local"), QUESTION)
        )
    finally:
        activate(previous)

    assert result.error is None, result.error
    usage = result.payload["outputs"]["usage"]
    assert result.payload["outputs"]["text"] == "echo: What is two plus two"
    assert usage["total_tokens"] == 14
    assert usage["total_price"] == pytest.approx((8 * 1.0 + 6 * 2.0) / 1000)
