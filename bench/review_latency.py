"""Review latency in the local cloud: from a decision's HTTP response to the next node starting.

    python bench/review_latency.py                      # starts its own local cloud
    python bench/review_latency.py --decisions 50
    python bench/review_latency.py --url http://127.0.0.1:8080 --key sk_...   # a running one
    python bench/review_latency.py --hand-written       # before the compiler lowers `review`

Each sample: a run pauses on the review of `draft`; the decision is POSTed; the next node's start
is read from its node execution record (`started_at`, written by the node function as it begins).
With the compiled workflow the decision approves and the next node is `polish`; with
--hand-written (the tests' state machine for the same contract) the decision revises and the next
node is `draft` again. Both clocks are this machine's. A negative figure means the node started
before the HTTP response reached the client (the API answers after Step Functions took the
decision).

Prints one table. The figures are for this machine and the local cloud (moto executing the state
machine, the functions in-process), not for AWS: compare figures made in one sitting.
`server_cpu_ms_per_sample` (when the bench starts its own local cloud, on Linux): the CPU time the
local cloud's process spent per sample (a run started, paused, decided, cancelled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx

# run as a script: its own folder is on the path, so its sibling imports as a module
from run_latency import process_cpu_seconds

from signoff.local.process import DevServer
from signoff.local.provision import plan_stack

REVIEWED_WORKFLOW: dict[str, Any] = {
    "name": "bench-review",
    "description": "draft (reviewed) -> polish -> end",
    "inputs": [{"variable": "topic", "type": "string", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "draft",
            "type": "template-transform",
            "template": "A text about {{ topic }}.",
            "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
            "review": {"max_rounds": 3},
        },
        {
            "id": "polish",
            "type": "template-transform",
            "template": "{{ text }}!",
            "variables": [{"variable": "text", "value_selector": ["draft", "output"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "text", "value_selector": ["polish", "output"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "draft"},
        {"source": "draft", "target": "polish"},
        {"source": "polish", "target": "end"},
    ],
}


def wait_for(predicate: Any, timeout: float = 60, interval: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("the local cloud did not get there in time")
        time.sleep(interval)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[position]


class Bench:
    def __init__(self, client: httpx.Client, hand_written: bool, aws_endpoint: str | None) -> None:
        self.client = client
        self.hand_written = hand_written
        self.workflow_id = f"bench-review-{uuid.uuid4().hex[:8]}"
        if hand_written:
            self._install_hand_written(aws_endpoint)
            self.decision = {"action": "revise", "feedback": "again"}
            self.next_node = "draft"
        else:
            response = client.post("/workflows", json={**REVIEWED_WORKFLOW, "id": self.workflow_id})
            if response.status_code != 201:
                raise SystemExit(
                    "the compiler does not take `review` settings yet "
                    f"({response.status_code}: {response.text}); run with --hand-written"
                )
            self.decision = {"action": "approve"}
            self.next_node = "polish"

    def _install_hand_written(self, aws_endpoint: str | None) -> None:
        if aws_endpoint is None:
            raise SystemExit("--hand-written needs the local cloud's AWS endpoint (--aws-url)")
        # The tests' state machine for the review contract (tests/support/review_machines.py).
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.review_machines import drafter, drafter_machine

        response = self.client.post("/workflows", json={**drafter(), "id": self.workflow_id})
        response.raise_for_status()
        plan = plan_stack()
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        sfn.update_state_machine(
            stateMachineArn=response.json()["state_machine_arn"],
            definition=json.dumps(
                drafter_machine(
                    node_function=plan.function("node").function_arn,
                    review_function=plan.function("review").function_arn,
                    settle_function=plan.function("settle").function_arn,
                )
            ),
        )

    def sample(self, index: int) -> tuple[float, float]:
        """(seconds from the decision's request, from its response) to the next node's start."""
        started = self.client.post(
            f"/workflows/{self.workflow_id}/runs", json={"inputs": {"topic": f"bench {index}"}}
        )
        run_id = started.json()["run_id"]
        review = wait_for(lambda: self._pending(run_id))
        sent = time.time()
        decided = self.client.post(
            f"/runs/{run_id}/reviews/{review['review_id']}", json=self.decision
        )
        answered = time.time()
        if decided.status_code != 200:
            raise RuntimeError(f"the decision failed: {decided.status_code} {decided.text}")
        started_at = wait_for(lambda: self._next_start(run_id, after=review["created_at"]))
        self.client.post(f"/runs/{run_id}/cancel")  # hand-written runs wait on round 2
        return epoch(started_at) - sent, epoch(started_at) - answered

    def _pending(self, run_id: str) -> dict[str, Any] | None:
        reviews = self.client.get(f"/runs/{run_id}/reviews", params={"status": "pending"}).json()
        return reviews["data"][0] if reviews["data"] else None

    def _next_start(self, run_id: str, after: str) -> str | None:
        nodes = self.client.get(f"/runs/{run_id}/nodes").json()["data"]
        starts = [
            node["started_at"]
            for node in nodes
            if node["node_id"] == self.next_node and epoch(node["started_at"]) >= epoch(after)
        ]
        return starts[0] if starts else None


def measure(
    url: str,
    key: str,
    aws_endpoint: str | None,
    decisions: int,
    hand_written: bool,
    cpu_seconds: Any = lambda: None,
):
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60, trust_env=False) as client:
        bench = Bench(client, hand_written, aws_endpoint)
        bench.sample(-1)  # warm the functions up
        cpu_before = cpu_seconds()
        samples = [bench.sample(index) for index in range(decisions)]
        cpu_after = cpu_seconds()
    from_request = [sample[0] for sample in samples]
    from_response = [sample[1] for sample in samples]
    cpu: dict[str, float] = (
        {"server_cpu_ms_per_sample": (cpu_after - cpu_before) / decisions * 1000}
        if cpu_before is not None and cpu_after is not None
        else {}
    )
    return {
        "decisions": decisions,
        "machine": "hand-written" if hand_written else "compiled",
        "p50_ms": percentile(from_response, 0.50) * 1000,
        "p95_ms": percentile(from_response, 0.95) * 1000,
        "mean_ms": statistics.fmean(from_response) * 1000,
        "p50_from_request_ms": percentile(from_request, 0.50) * 1000,
        "p95_from_request_ms": percentile(from_request, 0.95) * 1000,
        **cpu,
    }


def print_table(row: dict[str, Any]) -> None:
    columns = list(row)
    print(" | ".join(f"{name:>20}" for name in columns))
    print(" | ".join("-" * 20 for _ in columns))
    cells = [
        f"{row[name]:>20.1f}" if isinstance(row[name], float) else f"{row[name]:>20}"
        for name in columns
    ]
    print(" | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=30)
    parser.add_argument("--hand-written", action="store_true")
    parser.add_argument("--url", help="an already running local cloud (else one is started)")
    parser.add_argument("--key", help="its admin key (with --url)")
    parser.add_argument("--aws-url", help="its AWS endpoint (with --url and --hand-written)")
    args = parser.parse_args()

    if args.url:
        row = measure(args.url, args.key, args.aws_url, args.decisions, args.hand_written)
    else:
        with DevServer.start() as server:
            row = measure(
                server.base_url,
                server.admin_key,
                server.aws_endpoint_url,
                args.decisions,
                args.hand_written,
                process_cpu_seconds(server.process.pid),
            )
    print_table(row)


if __name__ == "__main__":
    main()
