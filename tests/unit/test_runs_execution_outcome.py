"""How an ended execution settles a run that nobody settled."""

from __future__ import annotations

import json

import pytest

from signoff.runs.service import ExecutionOutcome, execution_outcome
from signoff.store.runs import RunStatus


@pytest.mark.parametrize("status", ["RUNNING", "PENDING_REDRIVE"])
def test_given_an_execution_still_going_then_no_outcome(status):
    assert execution_outcome({"status": status}) is None


def test_given_a_failed_execution_then_the_run_fails_with_its_error_and_cause():
    outcome = execution_outcome(
        {"status": "FAILED", "error": "States.TaskFailed", "cause": "the settle function crashed"}
    )

    assert outcome == ExecutionOutcome(
        RunStatus.FAILED,
        error={
            "node_id": None,
            "type": "States.TaskFailed",
            "message": "the settle function crashed",
        },
    )


def test_given_a_failed_lambda_cause_then_only_its_message_is_kept():
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'x'", "stackTrace": ["line"]})

    outcome = execution_outcome({"status": "FAILED", "error": "KeyError", "cause": cause})

    assert outcome.error == {"node_id": None, "type": "KeyError", "message": "'x'"}


def test_given_a_timed_out_execution_then_the_run_fails_with_a_timeout():
    outcome = execution_outcome({"status": "TIMED_OUT"})

    assert outcome.status is RunStatus.FAILED
    assert outcome.error["type"] == "States.Timeout"


def test_given_an_aborted_execution_then_the_run_is_stopped():
    outcome = execution_outcome({"status": "ABORTED", "error": "", "cause": ""})

    assert outcome.status is RunStatus.STOPPED
    assert outcome.error["type"] == "ExecutionAborted"


def test_given_a_succeeded_execution_then_the_run_succeeds_with_its_output_as_outputs():
    outcome = execution_outcome({"status": "SUCCEEDED", "output": '{"greeting": "hi"}'})

    assert outcome == ExecutionOutcome(RunStatus.SUCCEEDED, outputs={"greeting": "hi"})


@pytest.mark.parametrize("output", [None, "", "[1, 2]", "not json"])
def test_given_a_succeeded_execution_without_object_output_then_no_outputs(output):
    outcome = execution_outcome({"status": "SUCCEEDED", "output": output})

    assert outcome == ExecutionOutcome(RunStatus.SUCCEEDED)
