"""Every Dify DSL example (examples/dify/) imported through POST /workflows as application/yaml
and run on the local cloud, its outputs checked.

One module, one HTTP server for the http-request and document-extractor examples, and one
import of each example, shared by every test (the examples are imported once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from signoff.local.process import DevServer, free_port
from tests.support.local_http import LocalHttpServer, Reply, echo
from tests.support.review_machines import wait_for

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dify"
NOTES = "first line\nsecond line\n"
GUESTS = "15_secret_and_sequential_iteration"
GUEST_SERVICE_KEY = "sk-guests-" + "3" * 24


@pytest.fixture(scope="module")
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        running.route("POST", "/echo", echo)
        running.route("GET", "/notes.txt", Reply(200, NOTES, {"Content-Type": "text/plain"}))
        yield running


@pytest.fixture(scope="module")
def client(local_cloud: DevServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=60,
    ) as http:
        yield http


@pytest.fixture(scope="module")
def imported(client: httpx.Client) -> dict[str, str]:
    """Each example's file stem -> the id of the workflow imported from it."""
    suffix = uuid.uuid4().hex[:8]
    ids: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.yml")):
        workflow_id = f"dify-{path.stem.replace('_', '-')}-{suffix}"
        response = client.post(
            "/workflows",
            params={"id": workflow_id},
            content=path.read_bytes(),
            headers={"Content-Type": "application/yaml"},
        )
        assert response.status_code == 201, f"{path.name}: {response.text}"
        assert response.json()["id"] == workflow_id
        ids[path.stem] = workflow_id
    return ids


def run(client: httpx.Client, workflow_id: str, **inputs: Any) -> dict[str, Any]:
    response = client.post(
        f"/workflows/{workflow_id}/runs",
        json={"inputs": inputs, "response_mode": "blocking", "user": "e2e"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def outputs(client: httpx.Client, workflow_id: str, **inputs: Any) -> dict[str, Any]:
    result = run(client, workflow_id, **inputs)
    assert result["status"] == "succeeded", result
    return result["outputs"]


def test_given_the_examples_then_there_are_at_least_twelve_and_every_one_imports(imported):
    assert len(imported) >= 12


def test_given_an_imported_dsl_then_the_graph_keeps_dify_s_ids_titles_positions_and_notes(
    client, imported
):
    workflow = client.get(f"/workflows/{imported['01_llm_answer']}").json()

    graph = workflow["graph"]
    answer = next(node for node in graph["nodes"] if node["id"] == "1718000000002")
    assert (answer["title"], answer["position"]) == ("Answer", {"x": 384.0, "y": 282.0})
    assert [note["id"] for note in graph["notes"]] == ["1718000000099"]
    assert graph["environment_variables"][0]["name"] == "support_email"
    assert workflow["name"] == "LLM answer"


def test_llm_answers_through_the_fake_provider(client, imported):
    result = outputs(client, imported["01_llm_answer"], question="What is signoff?")

    assert result == {"answer": "echo: Question: What is signoff?"}


def test_code_runs_in_python_and_javascript(client, imported):
    result = outputs(client, imported["02_code_two_languages"], sentence="sign off every node")

    assert result == {
        "report": '4 words, longest "every"; reversed: node every off sign',
        "count": 4,
        "reversed": "node every off sign",
    }


@pytest.mark.parametrize(
    ("age", "greeting"), [(36, "Welcome, Ada."), (12, "Hi Ada, ask a parent to sign.")]
)
def test_the_oldest_if_else_form_branches(client, imported, age, greeting):
    result = outputs(client, imported["03_if_else_oldest"], name="Ada", age=age)

    assert result == {"greeting": greeting}


@pytest.mark.parametrize(
    ("note", "quantity", "lane"),
    [("urgent please", 5, "rush"), ("hello", 500, "bulk of 500"), ("hello", 5, "standard")],
)
def test_if_else_cases_and_a_grouped_aggregator(client, imported, note, quantity, lane):
    result = outputs(
        client, imported["04_if_else_cases"], note=note, quantity=quantity, channel="web"
    )

    assert result == {"lane": lane}


def test_the_oldest_iteration_form_iterates(client, imported):
    result = outputs(client, imported["05_iteration_oldest"], text="owl fox")

    assert result == {"shouted": ["0:OWL!", "1:FOX!"]}


def test_a_parallel_iteration_then_a_list_operator(client, imported):
    result = outputs(client, imported["06_iteration_parallel"], names="ab, abcd, abc, abcde")

    assert result["scored"] == [
        {"name": "ab", "score": 2},
        {"name": "abcd", "score": 4},
        {"name": "abc", "score": 3},
        {"name": "abcde", "score": 5},
    ]
    assert result["best"] == [{"name": "abcde", "score": 5}, {"name": "abcd", "score": 4}]
    assert result["top"] == {"name": "abcde", "score": 5}


def test_a_loop_stops_on_its_break_condition_with_both_assigner_forms(client, imported):
    result = outputs(client, imported["07_loop_break"], target=3)

    assert result == {"count": 3, "last": "round-3", "rounds": 3}


def test_question_classifier_takes_the_chosen_class_branch(client, imported):
    result = outputs(client, imported["08_question_classifier"], message="Shipping is late")

    assert result == {"team": "shipping-team", "topic": "Shipping"}


def test_parameter_extractor_extracts_typed_parameters(client, imported):
    result = outputs(client, imported["09_parameter_extractor"], request="city=Lyon days=3")

    assert result["plan"] == "3 days in Lyon"
    assert result["city"] == "Lyon"
    assert result["ok"] in (True, 1)


def test_http_request_calls_the_local_server(client, imported, server):
    before = len(server.received)

    result = outputs(client, imported["10_http_request"], base=server.url(""), city="Lyon")

    assert result["answer"] == "HTTP 200"
    assert result["failure"] is None
    request = server.received[before]
    assert (request.method, request.path) == ("POST", "/echo")
    assert request.headers["x-city"] == "Lyon"
    assert request.json() == {"city": "Lyon"}


def test_http_request_retries_then_takes_the_fail_branch(client, imported):
    base = f"http://127.0.0.1:{free_port()}"

    result = run(client, imported["10_http_request"], base=base, city="Lyon")

    assert result["status"] == "partial-succeeded", result
    assert result["outputs"]["answer"] is None
    assert result["outputs"]["failure"].startswith("failed: ")
    attempts = [
        record["status"]
        for record in client.get(f"/runs/{result['run_id']}/nodes").json()["data"]
        if record["node_id"] == "call"
    ]
    assert attempts == ["failed", "failed", "exception"]


def test_default_value_replaces_the_outputs_of_a_failed_node(client, imported):
    parsed = outputs(client, imported["11_default_value"], text="42")
    result = run(client, imported["11_default_value"], text="forty-two")

    assert parsed == {"number": 42, "info": {"ok": True, "digits": 2}, "error_type": None}
    assert result["status"] == "partial-succeeded", result
    assert result["outputs"]["number"] == -1
    assert result["outputs"]["info"] == {"ok": False}
    assert result["outputs"]["error_type"]


def test_document_extractor_reads_a_file_input(client, imported, server):
    document = {
        "type": "document",
        "transfer_method": "remote_url",
        "url": server.url("/notes.txt"),
    }

    result = outputs(client, imported["12_document_extractor"], doc=document)

    assert result["lines"] == 2
    assert result["text"].splitlines() == ["first line", "second line"]


def test_human_input_waits_for_the_form_and_the_action_picks_the_branch(client, imported):
    started = client.post(
        f"/workflows/{imported['13_human_input']}/runs",
        json={"inputs": {"topic": "owls"}, "response_mode": "blocking", "user": "e2e"},
    )
    assert started.status_code in (200, 202), started.text
    run_id = started.json()["run_id"]

    def pending() -> dict[str, Any] | None:
        reviews = client.get(f"/runs/{run_id}/reviews", params={"status": "pending"}).json()
        return next(iter(reviews["data"]), None)

    review = wait_for(pending)
    decided = client.post(
        f"/runs/{run_id}/reviews/{review['review_id']}",
        json={"action": "submit", "action_id": "approve", "inputs": {"reply": "Owls are great."}},
    )
    assert decided.status_code < 300, decided.text

    def finished() -> dict[str, Any] | None:
        found = client.get(f"/runs/{run_id}").json()
        return found if found["status"] not in ("running", "paused", "pending") else None

    result = wait_for(finished)
    assert result["status"] == "succeeded", result
    assert result["outputs"] == {
        "published": "published: Owls are great.",
        "shelved": None,
        "action": "approve",
    }


def test_env_and_conversation_variables_are_read_and_written(client, imported):
    # Given a run outside any session: the conversation variables start from their declared
    # values (visits 0), the assigner counts this visit, the condition reads env.max_visits (2).
    result = outputs(client, imported["14_conversation_memory"], name="Ada")

    assert result == {
        "summary": "Hello Ada, this is Support. Visit 1; names: Ada",
        "visits": 1,
        "team": "Support",
    }


def test_runs_sharing_an_agno_session_share_conversation_variables(client, imported):
    session = f"s-{uuid.uuid4().hex[:8]}"
    workflow_id = imported["14_conversation_memory"]

    def say(name: str, session_id: str) -> Any:
        answer = client.post(
            f"/workflows/{workflow_id}/runs",
            files={
                "message": (None, name),
                "stream": (None, "false"),
                "session_id": (None, session_id),
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "COMPLETED", answer.text
        return answer.json()["content"]

    first = say("Ada", session)
    second = say("Bo", session)
    third = say("Cy", session)
    elsewhere = say("Di", f"{session}-other")

    assert first["summary"].endswith("Visit 1; names: Ada")
    assert second["summary"].endswith("Visit 2; names: ")  # max_visits reached: names cleared
    assert third["summary"].endswith("Visit 3; names: ")
    assert (first["visits"], second["visits"], third["visits"]) == (1, 2, 3)
    assert elsewhere["visits"] == 1


@pytest.fixture(scope="module")
def guests(client: httpx.Client, imported: dict[str, str]) -> str:
    """The guest check-in example, its secret set through the API."""
    workflow_id = imported[GUESTS]
    response = client.put(
        f"/workflows/{workflow_id}/secrets/api_key", json={"value": GUEST_SERVICE_KEY}
    )
    assert response.status_code in (201, 204), response.text
    return workflow_id


def test_a_secret_is_read_by_code_and_a_header_and_a_sequential_iteration_appends_in_order(
    client, guests, server
):
    before = len(server.received)

    result = run(client, guests, base=server.url(""), names="Ada, Bo, Cy")

    assert result["status"] == "succeeded", result
    found = result["outputs"]
    # Each item sees the items before it in the conversation variable.
    assert found["lines"] == ["0:Ada after 0", "1:Bo after 1", "2:Cy after 2"]
    assert found["seen"] == ["Ada", "Bo", "Cy"]
    assert found["key_length"] == len(GUEST_SERVICE_KEY)
    assert found["status"] == 200
    # The service got the key; what the node answered (the echo) carries it redacted.
    assert server.received[before].headers["x-api-key"] == GUEST_SERVICE_KEY
    assert json.loads(found["reply"])["headers"]["x-api-key"] == "[redacted]"
    nodes = client.get(f"/runs/{result['run_id']}/nodes").json()["data"]
    events = client.get(f"/runs/{result['run_id']}/events").text
    assert {"prepare", "call", "label"} <= {record["node_id"] for record in nodes}
    assert "workflow_finished" in events
    for kept in (json.dumps(result), json.dumps(nodes), events):
        assert GUEST_SERVICE_KEY not in kept


def test_an_example_whose_secret_is_not_set_imports_and_its_runs_fail_on_the_reading_node(
    client, server
):
    workflow_id = f"dify-guests-unset-{uuid.uuid4().hex[:8]}"
    imported = client.post(
        "/workflows",
        params={"id": workflow_id},
        content=(EXAMPLES / f"{GUESTS}.yml").read_bytes(),
        headers={"Content-Type": "application/yaml"},
    )
    assert imported.status_code == 201, imported.text
    secrets = client.get(f"/workflows/{workflow_id}/secrets").json()

    result = run(client, workflow_id, base=server.url(""), names="Ada")

    assert secrets == {"data": [{"name": "api_key", "set": False}]}
    assert result["status"] == "failed", result
    assert result["error"]["node_id"] == "prepare"
    assert result["error"]["type"] == "SecretNotSet"


def test_runs_sharing_an_agno_session_carry_on_the_list_a_sequential_iteration_appends_to(
    client, guests, server
):
    session = f"g-{uuid.uuid4().hex[:8]}"

    def check_in(names: str, session_id: str) -> Any:
        message = json.dumps({"base": server.url(""), "names": names})
        answer = client.post(
            f"/workflows/{guests}/runs",
            files={
                "message": (None, message),
                "stream": (None, "false"),
                "session_id": (None, session_id),
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "COMPLETED", answer.text
        return answer.json()["content"]

    first = check_in("Ada, Bo", session)
    second = check_in("Cy, Di", session)
    elsewhere = check_in("Ed", f"{session}-other")

    assert first["lines"] == ["0:Ada after 0", "1:Bo after 1"]
    # The second run starts from the list the first one ended with.
    assert second["lines"] == ["0:Cy after 2", "1:Di after 3"]
    assert second["seen"] == ["Ada", "Bo", "Cy", "Di"]
    assert elsewhere["seen"] == ["Ed"]


def test_a_node_reading_a_secret_and_the_conversation_can_be_run_alone(client, guests):
    prepared = client.post(
        f"/workflows/{guests}/nodes/prepare/run", json={"inputs": {"#start.names#": "Ada, Bo"}}
    )
    labelled = client.post(
        f"/workflows/{guests}/nodes/label/run",
        json={
            "inputs": {
                "#each.item#": "Cy",
                "#each.index#": 2,
                "#conversation.seen#": ["Ada", "Bo"],
            }
        },
    )

    assert prepared.status_code == 200, prepared.text
    assert prepared.json()["outputs"] == {
        "guests": ["Ada", "Bo"],
        "key_length": len(GUEST_SERVICE_KEY),
    }
    assert GUEST_SERVICE_KEY not in prepared.text
    assert labelled.json()["outputs"] == {"line": "2:Cy after 2"}


def test_a_dsl_with_unsupported_features_answers_every_issue_with_node_ids(client):
    dsl = """
kind: app
version: 0.1.5
app: {mode: workflow, name: Broken}
workflow:
  graph:
    nodes:
    - id: s
      data: {type: start, title: Start, variables: []}
    - id: a
      data: {type: answer, title: Answer, answer: hi}
    - id: l
      data:
        type: llm
        title: Ask
        model: {provider: local, name: echo}
        prompt_template: [{role: user, text: hi}]
        memory_magic: true
    edges:
    - {source: s, target: l}
"""
    response = client.post(
        "/workflows", content=dsl.encode(), headers={"Content-Type": "text/yaml"}
    )

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_graph"
    found = {(issue["code"], issue["node_id"]) for issue in body["issues"]}
    assert ("dify_unsupported_node_type", "a") in found
    assert ("dify_unsupported_setting", "l") in found


def test_signoff_import_creates_the_workflow_in_the_running_api(client, local_cloud):
    from click.testing import CliRunner

    from signoff.cli import main

    workflow_id = f"dify-cli-{uuid.uuid4().hex[:8]}"
    arguments = [
        "import",
        str(EXAMPLES / "02_code_two_languages.yml"),
        "--api-url",
        local_cloud.base_url,
        "--api-key",
        local_cloud.admin_key,
        "--id",
        workflow_id,
    ]

    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 0, result.output
    assert workflow_id in result.output
    assert outputs(client, workflow_id, sentence="a bb")["count"] == 2
