"""Setting the values of a workflow's secret environment variables (the API's use case).

Only a secret the workflow declares (`environment_variables: [{name, value_type: secret}]`) can
be set; the value goes to the deployment's secret store (signoff/store/workflow_secrets.py) and
is never answered: reading lists the names and whether each is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from signoff.errors import NotFound
from signoff.graph import parse_workflow
from signoff.store.workflow_secrets import WorkflowSecretStore
from signoff.store.workflows import WorkflowRepository


@dataclass(frozen=True)
class SecretStatus:
    name: str
    set: bool


class WorkflowSecretsService:
    def __init__(self, workflows: WorkflowRepository, store: WorkflowSecretStore) -> None:
        self._workflows = workflows
        self._store = store

    def declared(self, tenant_id: str, workflow_id: str) -> list[str]:
        """The workflow's secret environment variables (NotFound: no such workflow here)."""
        record = self._workflows.get(tenant_id, workflow_id)
        workflow = parse_workflow(record.graph)
        return [v.name for v in workflow.environment_variables if v.value_type == "secret"]

    def list(self, tenant_id: str, workflow_id: str) -> list[SecretStatus]:
        return [
            SecretStatus(name, self._store.is_set(tenant_id, workflow_id, name))
            for name in self.declared(tenant_id, workflow_id)
        ]

    def put(self, tenant_id: str, workflow_id: str, name: str, value: str) -> bool:
        """Set a secret's value; True when it had none before."""
        self._require_declared(tenant_id, workflow_id, name)
        return self._store.put(tenant_id, workflow_id, name, value)

    def delete(self, tenant_id: str, workflow_id: str, name: str) -> None:
        self._require_declared(tenant_id, workflow_id, name)
        if not self._store.delete(tenant_id, workflow_id, name):
            raise NotFound(f"secret {name} of workflow {workflow_id} is not set")

    def _require_declared(self, tenant_id: str, workflow_id: str, name: str) -> None:
        declared = self.declared(tenant_id, workflow_id)
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise NotFound(
                f"workflow {workflow_id} declares no secret environment variable {name}"
                f" (its secrets: {known})"
            )
