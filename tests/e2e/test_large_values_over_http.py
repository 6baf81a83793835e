"""Large values over real HTTP through `signoff dev`: the payloads bucket the local cloud
provisioned from template.yaml holds them, and the API answers with them whole.

The multi-megabyte case runs in tests/integration/test_large_values_stack.py (it raises the code
sandbox's output limit); here the sandbox keeps its default 1 MB limit.
"""

from __future__ import annotations

import secrets

import boto3
import pytest

pytestmark = pytest.mark.e2e

SEED = "signoff-" * 12_500  # 100,000 characters: a run input over the threshold
TIMES = 9  # 900,000 characters out of the code node: over the state limit, under the sandbox's

WORKFLOW = {
    "name": "large values",
    "inputs": [
        {"variable": "seed", "type": "paragraph", "required": True},
        {"variable": "times", "type": "number", "required": True},
        {"variable": "meta", "type": "object", "required": False},
    ],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "grow",
            "type": "code",
            "code_language": "python3",
            "code": "def main(seed: str, times: int) -> dict:\n    return {'text': seed * times}\n",
            "variables": [
                {"variable": "seed", "value_selector": ["start", "seed"]},
                {"variable": "times", "value_selector": ["start", "times"]},
            ],
            "outputs": {"text": {"type": "string"}},
        },
        {
            "id": "measure",
            "type": "template-transform",
            "template": "{{ text | length }}",
            "variables": [{"variable": "text", "value_selector": ["grow", "text"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [
                {"variable": "text", "value_selector": ["grow", "text"]},
                {"variable": "length", "value_selector": ["measure", "output"]},
            ],
        },
    ],
    "edges": [
        {"source": "start", "target": "grow"},
        {"source": "grow", "target": "measure"},
        {"source": "measure", "target": "end"},
    ],
}


def test_given_values_over_the_state_limit_when_run_over_http_then_they_come_back_whole(
    api, local_cloud
):
    workflow_id = f"large-{secrets.token_hex(3)}"
    created = api.post("/workflows", json={**WORKFLOW, "id": workflow_id})
    assert created.status_code == 201, created.text

    response = api.post(
        f"/workflows/{workflow_id}/runs",
        json={"inputs": {"seed": SEED, "times": TIMES}, "response_mode": "blocking"},
    )

    assert response.status_code == 200, response.text[:2000]
    run = response.json()
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"] == {"text": SEED * TIMES, "length": str(len(SEED) * TIMES)}
    assert run["inputs"]["seed"] == SEED
    records = api.get(f"/runs/{run['run_id']}/nodes").json()["data"]
    grow, measure = records
    assert grow["outputs"] == {"text": SEED * TIMES}
    assert measure["inputs"] == {"text": SEED * TIMES}
    s3 = boto3.client(
        "s3",
        endpoint_url=local_cloud.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stored = s3.list_objects_v2(Bucket="signoff-payloadsbucket", Prefix=f"default/{run['run_id']}/")
    assert stored["KeyCount"] >= 3  # the run's input, grow's output, measure's input


def test_given_inputs_holding_a_reference_when_a_run_starts_then_they_are_refused(api):
    workflow_id = f"large-{secrets.token_hex(3)}"
    assert api.post("/workflows", json={**WORKFLOW, "id": workflow_id}).status_code == 201
    # A reference names a stored value: one from a client could name another run's.
    forged = {"$signoff_ref": {"bucket": "b", "key": "other/run/x", "size": 1, "sha256": "0" * 64}}

    response = api.post(
        f"/workflows/{workflow_id}/runs",
        json={"inputs": {"seed": "x", "times": 1, "meta": {"notes": [forged]}}},
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"
    assert "$signoff_ref" in response.json()["message"]
