"""Settings for the services built directly on moto's tables (no stack provisioned): the tables
create_tables made, and function and role ARNs that only name things (moto does not run the
state machines these tests start)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signoff.settings import Settings

NODE_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:node"
SETTLE_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:settle"
WORKFLOW_ROLE_ARN = "arn:aws:iam::123456789012:role/workflows"


def service_settings(tables: Mapping[str, str], **overrides: Any) -> Settings:
    """The workflow, run and node-execution services' settings on `tables` (logical id -> name),
    with `overrides` on top."""
    return Settings(
        **{
            "workflows_table": tables["WorkflowsTable"],
            "runs_table": tables["RunsTable"],
            "node_executions_table": tables["NodeExecutionsTable"],
            "node_function_arn": NODE_FUNCTION_ARN,
            "settle_function_arn": SETTLE_FUNCTION_ARN,
            "workflow_execution_role_arn": WORKFLOW_ROLE_ARN,
            "state_machine_prefix": "signoff-test",
            **overrides,
        }
    )
