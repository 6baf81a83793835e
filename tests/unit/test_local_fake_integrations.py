"""The local cloud's tools, retriever and sample files, and how they and the settings' own become
the template parameters Tools, Retrievers and AllowPrivateNetwork."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges toward httpx2 for its TestClient; httpx is what this project pins.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from signoff.local.config import LocalCloudSettings
from signoff.local.fake_integrations import create_app
from signoff.settings import Settings


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app())


def test_given_the_word_count_tool_when_called_then_it_counts(client):
    answer = client.post(
        "/tools/word_count", json={"tool": "local/word_count", "parameters": {"text": "a b c"}}
    )

    assert answer.json() == {"text": "3 words", "json": {"words": 3, "characters": 5}}


def test_given_the_echo_tool_then_it_answers_its_text_or_its_parameters(client):
    assert client.post("/tools/echo", json={"parameters": {"text": "hi"}}).json() == {"text": "hi"}
    assert client.post("/tools/echo", json={"parameters": {"n": 1}}).json() == {"text": '{"n": 1}'}


def test_given_the_fail_tool_then_it_answers_an_error(client):
    assert client.post("/tools/fail", json={"parameters": {}}).status_code == 500


def test_given_the_handbook_when_queried_then_chunks_come_scored_best_first(client):
    answer = client.post(
        "/retrievers/handbook",
        json={"dataset_id": "handbook", "query": "paid leave days", "top_k": 1},
    ).json()

    assert [(r["title"], r["score"]) for r in answer["records"]] == [("leave.md", 1.0)]


def test_given_a_sample_file_then_it_is_served_with_its_type(client):
    response = client.get("/files/prices.csv")

    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("item,price")


def test_given_local_and_configured_tools_then_the_configured_win_and_all_are_registered(
    monkeypatch,
):
    monkeypatch.setenv("SIGNOFF_TOOLS", json.dumps({"local/echo": {"lambda": "signoff-tool-x"}}))
    monkeypatch.setenv("SIGNOFF_RETRIEVERS", json.dumps({"kb": {"bedrock_knowledge_base_id": "K"}}))

    parameters = LocalCloudSettings().integration_parameters(
        {"local/echo": {"url": "http://127.0.0.1:1/tools/echo"}, "local/fail": {"url": "u"}},
        {"handbook": {"url": "http://127.0.0.1:1/retrievers/handbook"}},
    )

    assert json.loads(parameters["Tools"]) == {
        "local/echo": {"lambda": "signoff-tool-x"},
        "local/fail": {"url": "u"},
    }
    assert json.loads(parameters["Retrievers"]) == {
        "handbook": {"url": "http://127.0.0.1:1/retrievers/handbook"},
        "kb": {"bedrock_knowledge_base_id": "K", "region": None},
    }
    assert parameters["AllowPrivateNetwork"] == "true"


def test_given_the_parameters_as_a_function_s_environment_then_settings_read_them(monkeypatch):
    monkeypatch.setenv("SIGNOFF_TOOLS", '{"acme/search": {"lambda": "signoff-tool-search"}}')
    monkeypatch.setenv("SIGNOFF_RETRIEVERS", '{"docs": {"url": "https://retriever.example/docs"}}')
    monkeypatch.setenv("SIGNOFF_ALLOW_PRIVATE_NETWORK", "false")

    settings = Settings()

    assert settings.tools["acme/search"].function == "signoff-tool-search"
    assert settings.retrievers["docs"].url == "https://retriever.example/docs"
    assert settings.allow_private_network is False


def test_given_a_tool_entry_of_an_unknown_shape_then_settings_refuse_it(monkeypatch):
    monkeypatch.setenv("SIGNOFF_TOOLS", '{"acme/search": {"arn": "x"}}')

    with pytest.raises(ValueError, match="acme/search"):
        Settings()
