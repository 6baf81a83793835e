"""State machine variants (step, resume) against moto: created when first needed, kept on the
workflow version's record, one per version. The compiler is a stand-in that records what it was
asked for."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from signoff.graph.model import Workflow
from signoff.reviews.variants import VariantStateMachines, VariantUnavailable, compiler_variants
from signoff.settings import Settings
from signoff.store.workflows import DynamoWorkflowRepository
from tests.support.review_machines import drafter, install_workflow

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::123456789012:role/workflows"


class RecordingCompiler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, workflow: Workflow, variant: str) -> dict[str, Any]:
        self.calls.append((workflow.name, variant))
        return {
            "Comment": f"{workflow.name} ({variant}) #{len(self.calls)}",
            "StartAt": "Done",
            "States": {"Done": {"Type": "Succeed"}},
        }


class World:
    def __init__(self, dynamodb: Any, tables: dict[str, str]) -> None:
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")
        self.workflows = DynamoWorkflowRepository(tables["WorkflowsTable"], dynamodb)
        self.compiler = RecordingCompiler()
        self.settings = Settings(
            workflow_execution_role_arn=ROLE_ARN, state_machine_prefix="signoff-test"
        )
        self.variants = VariantStateMachines(self.workflows, self.sfn, self.settings, self.compiler)
        self.record = install_workflow(
            dynamodb,
            self.sfn,
            workflows_table=tables["WorkflowsTable"],
            tenant_id="tenant-a",
            workflow_id="drafter",
            document=drafter(),
            definition={"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}},
            role_arn=ROLE_ARN,
        )

    def definition(self, arn: str) -> dict[str, Any]:
        return json.loads(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"])


@pytest.fixture
def world(dynamodb, tables) -> World:
    return World(dynamodb, tables)


def test_given_no_variant_yet_then_it_is_compiled_created_and_kept_on_the_workflow(world):
    arn = world.variants.arn(world.record, "resume")

    stored = world.workflows.get("tenant-a", "drafter")
    assert stored.resume_state_machine_arn == arn
    assert stored.resume_state_machine_version == 1
    assert stored.step_state_machine_arn is None
    assert world.definition(arn)["Comment"] == "drafter (resume) #1"
    assert ":stateMachine:signoff-test-" in arn and arn.endswith("-drafter.resume")


def test_given_a_variant_of_the_current_version_then_it_is_reused_without_compiling(world):
    first = world.variants.arn(world.record, "step")

    again = world.variants.arn(world.workflows.get("tenant-a", "drafter"), "step")

    assert again == first
    assert world.compiler.calls == [("drafter", "step")]


def test_given_a_workflow_at_a_new_version_then_each_version_keeps_a_variant_of_its_own(world):
    v1_arn = world.variants.arn(world.record, "resume")
    stored = world.workflows.get("tenant-a", "drafter")
    updated = world.workflows.update(
        stored.model_copy(update={"graph": {**stored.graph, "name": "drafter v2"}}),
        expected_version=1,
    )

    v2_arn = world.variants.arn(updated, "resume")
    v1_again = world.variants.arn(world.workflows.get_version("tenant-a", "drafter", 1), "resume")

    # Version 1's variant is neither recompiled nor overwritten: its runs keep running it.
    assert v1_again == v1_arn
    assert v2_arn != v1_arn and v2_arn.endswith("-drafter.v2.resume")
    assert world.definition(v1_arn)["Comment"] == "drafter (resume) #1"
    assert world.definition(v2_arn)["Comment"] == "drafter v2 (resume) #2"
    assert world.compiler.calls == [("drafter", "resume"), ("drafter v2", "resume")]
    assert world.workflows.get("tenant-a", "drafter").resume_state_machine_arn == v2_arn
    assert world.workflows.get_version("tenant-a", "drafter", 1).resume_state_machine_arn == v1_arn


def test_given_a_state_machine_left_behind_then_it_is_taken_over(world):
    arn = world.variants.arn(world.record, "step")
    # A record that lost its variant (a crash between creating and storing it).
    orphaned = world.record.model_copy(
        update={"step_state_machine_arn": None, "step_state_machine_version": None}
    )

    assert world.variants.arn(orphaned, "step") == arn
    assert world.definition(arn)["Comment"] == "drafter (step) #2"


def test_given_a_compiler_without_variants_then_variant_unavailable(world, monkeypatch):
    def compile_without_variants(workflow: Workflow, target: Any) -> dict[str, Any]:
        raise AssertionError("must not be called without a variant parameter")

    monkeypatch.setattr("signoff.compiler.compile_workflow", compile_without_variants)
    variants = VariantStateMachines(
        world.workflows, world.sfn, world.settings, compiler_variants(world.settings)
    )

    with pytest.raises(VariantUnavailable) as refusal:
        variants.arn(world.record, "resume")

    assert refusal.value.status == 501


# ------------------------------------------------------------------ step mode runs on its variant


def run_service(world: World, dynamodb: Any, tables: dict[str, str], variants: Any) -> Any:
    from signoff.runs.service import RunService
    from signoff.store.node_executions import DynamoNodeExecutionRepository
    from signoff.store.runs import DynamoRunRepository

    return RunService(
        DynamoRunRepository(tables["RunsTable"], dynamodb),
        world.workflows,
        DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], dynamodb),
        world.sfn,
        world.settings,
        variants=variants,
    )


def test_given_a_step_mode_run_then_it_starts_on_the_step_variant(world, dynamodb, tables):
    runs = run_service(world, dynamodb, tables, world.variants)

    started = runs.start("tenant-a", "drafter", {"topic": "owls"}, mode="step")

    step_arn = world.workflows.get("tenant-a", "drafter").step_state_machine_arn
    execution = world.sfn.describe_execution(executionArn=started.run.execution_arn)
    assert execution["stateMachineArn"] == step_arn != world.record.state_machine_arn
    assert started.run.mode == "step"
    assert json.loads(execution["input"])["inputs"] == {"topic": "owls"}


def test_given_no_step_variant_then_the_start_is_refused_and_no_run_is_left(
    world, dynamodb, tables, monkeypatch
):
    monkeypatch.setattr(
        "signoff.compiler.compile_workflow", lambda workflow, target: {"never": "used"}
    )
    variants = VariantStateMachines(
        world.workflows, world.sfn, world.settings, compiler_variants(world.settings)
    )
    runs = run_service(world, dynamodb, tables, variants)

    with pytest.raises(VariantUnavailable):
        runs.start("tenant-a", "drafter", {"topic": "owls"}, mode="step")

    assert runs.list("tenant-a") == []
