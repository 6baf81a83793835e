"""State machine variants of a workflow: "step" (a pause after every node) and "resume" (begin at
a given node with given variables, for retries).

Normal runs never pay for these: each variant is its own state machine, compiled from the same
graph, created the first time a run needs it. Each version of a workflow has its own variants
(a run's retry or step run compiles from the version the run is on, whatever the newest is):
the version's record keeps their ARNs (`<variant>_state_machine_arn`,
`<variant>_state_machine_version`), and the workflow's head item too while that version is the
newest.

The "resume" variant's execution input (the contract with the compiler):

    {"run": {...}, "inputs": {...},
     "resume": {"from_node_id": "<node>", "variables": {"<node id>": {...outputs}},
                "taken": {"<node id>": "<handle>"}}}

its Init assigns every given node's variable and handle, then jumps to `from_node_id`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from signoff.errors import SignoffError
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow
from signoff.settings import Settings
from signoff.store.workflows import WorkflowRecord, WorkflowRepository
from signoff.workflows.service import state_machine_name

logger = Logger(child=True)

Variant = Literal["step", "resume"]
# (workflow, variant) -> the variant's state machine definition
VariantCompiler = Callable[[Workflow, str], dict[str, Any]]


class VariantUnavailable(SignoffError):
    """The compiler cannot build this variant (yet)."""

    status = 501
    code = "variant_unavailable"


def compiler_variants(settings: Settings) -> VariantCompiler:
    """The compiler's variants, for the functions these settings name."""
    from signoff.compiler import CompileTarget, compile_workflow

    def compile_variant(workflow: Workflow, variant: str) -> dict[str, Any]:
        # The compiler takes `variant` once the human-in-the-loop lowering exists; until then a
        # run that needs a variant is refused with a clear answer instead of a TypeError.
        if "variant" not in inspect.signature(compile_workflow).parameters:
            raise VariantUnavailable(
                f"this deployment's compiler has no {variant!r} state machine variant"
            )
        target_fields = {
            name: getattr(settings, name, None)
            for name in inspect.signature(CompileTarget).parameters
        }
        target_fields = {
            name: settings.require(name) if value is None else value
            for name, value in target_fields.items()
        }
        return compile_workflow(workflow, CompileTarget(**target_fields), variant=variant)

    return compile_variant


class VariantStateMachines:
    def __init__(
        self,
        workflows: WorkflowRepository,
        sfn_client: Any,
        settings: Settings,
        compile_variant: VariantCompiler,
    ) -> None:
        self._workflows = workflows
        self._sfn = sfn_client
        self._settings = settings
        self._compile = compile_variant

    def arn(self, record: WorkflowRecord, variant: Variant) -> str:
        """The ARN of the `variant` state machine of the workflow version `record` is at (the
        head: the newest; a version record: that one), created when first needed."""
        stored_arn = getattr(record, f"{variant}_state_machine_arn")
        stored_version = getattr(record, f"{variant}_state_machine_version")
        if stored_arn is not None and stored_version == record.version:
            return stored_arn
        definition = json.dumps(self._compile(parse_workflow(record.graph), variant))
        arn = self._create_or_take_over(record, variant, definition)
        self._workflows.set_variant_state_machine(record, variant, arn)
        logger.info(
            "state machine variant ready",
            extra={
                "workflow_id": record.workflow_id,
                "version": record.version,
                "variant": variant,
                "arn": arn,
            },
        )
        return arn

    def _create_or_take_over(self, record: WorkflowRecord, variant: str, definition: str) -> str:
        role_arn = self._settings.require("workflow_execution_role_arn")
        # '.' never occurs in a workflow id, so no workflow's own name can collide with this.
        # Version 1 keeps the name variants had before workflows had versions.
        suffix = variant if record.version == 1 else f"v{record.version}.{variant}"
        name = state_machine_name(
            self._settings.state_machine_prefix,
            record.tenant_id,
            f"{record.workflow_id}.{suffix}",
        )
        partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
        arn = f"arn:{partition}:states:{self._sfn.meta.region_name}:{account}:stateMachine:{name}"
        if self._exists(arn):
            # Made by a request that crashed before storing it (or racing this one): a
            # version's graph never changes, so taking it over compiles the same definition.
            self._sfn.update_state_machine(
                stateMachineArn=arn, definition=definition, roleArn=role_arn
            )
            return arn
        try:
            response = self._sfn.create_state_machine(
                name=name,
                definition=definition,
                roleArn=role_arn,
                type="STANDARD",
                tags=[
                    {"key": "signoff:workflow", "value": record.workflow_id},
                    {"key": "signoff:variant", "value": variant},
                ],
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "StateMachineAlreadyExists":
                raise
            # A request racing this one made it first, from the same version's graph.
            self._sfn.update_state_machine(
                stateMachineArn=arn, definition=definition, roleArn=role_arn
            )
            return arn
        return response["stateMachineArn"]

    def _exists(self, arn: str) -> bool:
        try:
            self._sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "StateMachineDoesNotExist":
                return False
            raise
        return True
