"""Secret environment variables at run time: resolved in the node function, never carried.

The compiled state machine holds, for each secret environment variable, only a placeholder in
`$run.env` (`{"$signoff_secret": "<name>"}`, compiler/lowering/start.py); a node reading it gets
the value here, from Secrets Manager (signoff/store/workflow_secrets.py), through Powertools'
parameters utility, which keeps each value for `workflow_secrets_cache_seconds` per warm
container. Every value resolved is remembered by the node's variable scope so that run_node
redacts it from what it records, returns and logs (signoff/redaction.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from signoff.graph.selectors import SECRET_MARKER
from signoff.nodes.errors import SecretNotSet, SecretUnavailable
from signoff.settings import Settings
from signoff.store.workflow_secrets import secret_id


def placeholder_name(value: Any) -> str | None:
    """The secret a placeholder names; None for any other value."""
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(SECRET_MARKER), str):
        return value[SECRET_MARKER]
    return None


class SecretSource(Protocol):
    def value(self, tenant_id: str, workflow_id: str, name: str) -> str:
        """The value of a workflow's secret environment variable; SecretNotSet when it has
        none."""
        ...


class WorkflowSecretReader:
    """SecretSource on Secrets Manager, cached per warm container."""

    def __init__(
        self, prefix: str | None, *, max_age_seconds: int = 300, client: Any = None
    ) -> None:
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._client = client
        self._provider: SecretsProvider | None = None

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> WorkflowSecretReader:
        return cls(
            settings.workflow_secrets_prefix,
            max_age_seconds=settings.workflow_secrets_cache_seconds,
            client=client,
        )

    def value(self, tenant_id: str, workflow_id: str, name: str) -> str:
        if not self._prefix:
            raise SecretNotSet(
                f"secret environment variable {name} is not set for workflow {workflow_id}: "
                "this deployment keeps no workflow secrets (SIGNOFF_WORKFLOW_SECRETS_PREFIX)"
            )
        if self._provider is None:
            # Built on first use: most nodes read no secret, and a client costs a cold start.
            self._provider = SecretsProvider(boto3_client=self._client)
        try:
            found = self._provider.get(
                secret_id(self._prefix, tenant_id, workflow_id, name), max_age=self._max_age
            )
        except GetParameterError as error:
            cause = error.__cause__ or error.__context__
            code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else None
            if code == "ResourceNotFoundException" or "ResourceNotFoundException" in str(error):
                raise SecretNotSet(
                    f"secret environment variable {name} is not set for workflow {workflow_id}"
                ) from None
            raise SecretUnavailable(
                f"secret environment variable {name} of workflow {workflow_id} could not be "
                f"read: {code or type(cause or error).__name__}"
            ) from None
        if isinstance(found, bytes):
            found = found.decode()
        return str(found)
