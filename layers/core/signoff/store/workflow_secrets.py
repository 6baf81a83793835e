"""The values of workflows' secret environment variables, kept in AWS Secrets Manager.

A workflow declares a secret (`environment_variables: [{name, value_type: secret}]`) without its
value; the value is set through the API (PUT /workflows/{id}/secrets/{name}) and lives in
Secrets Manager under a name the deployment derives, never in the graph, the state machine or a
run: `<prefix>/<tenant hash>/<workflow id>/env/<name>`. The tenant is hashed (as in state
machine names), so tenants never share a name and the IAM policies can be scoped to the prefix.
The node function reads a value when a node needs it (signoff/nodes/secrets.py).
"""

from __future__ import annotations

from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from signoff.tenant_names import tenant_hash

_NOT_FOUND = "ResourceNotFoundException"


def secret_id(prefix: str, tenant_id: str, workflow_id: str, name: str) -> str:
    """The Secrets Manager name holding one secret environment variable of a workflow."""
    return f"{prefix.rstrip('/')}/{tenant_hash(tenant_id)}/{workflow_id}/env/{name}"


class WorkflowSecretStore(Protocol):
    def put(self, tenant_id: str, workflow_id: str, name: str, value: str) -> bool:
        """Set the value; True when the secret was created, False when it replaced one."""
        ...

    def delete(self, tenant_id: str, workflow_id: str, name: str) -> bool:
        """Remove the value at once; False when none was set."""
        ...

    def is_set(self, tenant_id: str, workflow_id: str, name: str) -> bool: ...


class SecretsManagerWorkflowSecrets:
    """WorkflowSecretStore on Secrets Manager (CreateSecret, PutSecretValue, DeleteSecret,
    DescribeSecret: every call names one secret under the prefix)."""

    def __init__(self, prefix: str, client: Any = None) -> None:
        self._prefix = prefix
        self._client = client or boto3.client("secretsmanager")

    def secret_id(self, tenant_id: str, workflow_id: str, name: str) -> str:
        return secret_id(self._prefix, tenant_id, workflow_id, name)

    def put(self, tenant_id: str, workflow_id: str, name: str, value: str) -> bool:
        secret = self.secret_id(tenant_id, workflow_id, name)
        try:
            self._client.create_secret(
                Name=secret,
                SecretString=value,
                Description=f"signoff: secret environment variable {name} of {workflow_id}",
                Tags=[
                    {"Key": "signoff:tenant", "Value": tenant_hash(tenant_id)},
                    {"Key": "signoff:workflow", "Value": workflow_id},
                ],
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceExistsException":
                raise
        self._client.put_secret_value(SecretId=secret, SecretString=value)
        return False

    def delete(self, tenant_id: str, workflow_id: str, name: str) -> bool:
        if not self.is_set(tenant_id, workflow_id, name):
            return False
        try:
            # No recovery window: the name is free again at once, so the value can be set anew.
            self._client.delete_secret(
                SecretId=self.secret_id(tenant_id, workflow_id, name),
                ForceDeleteWithoutRecovery=True,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == _NOT_FOUND:
                return False
            raise
        return True

    def is_set(self, tenant_id: str, workflow_id: str, name: str) -> bool:
        try:
            described = self._client.describe_secret(
                SecretId=self.secret_id(tenant_id, workflow_id, name)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == _NOT_FOUND:
                return False
            raise
        return "DeletedDate" not in described
