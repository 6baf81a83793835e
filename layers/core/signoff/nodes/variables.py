"""Resolving a node's variable selectors against the values its Task hands it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from signoff.graph.model import VariableSelector
from signoff.graph.selectors import CONVERSATION, ENV, SYS_VARIABLES, is_sys
from signoff.nodes.errors import SecretNotSet, VariableNotFound
from signoff.nodes.secrets import SecretSource, placeholder_name


class VariableScope:
    """The values one node may read: upstream nodes' outputs and the run's `sys.*`, `env.*` and
    `conversation.*` variables (the run context's `env` and `conversation`).

    A secret environment variable is a placeholder in the run context (nodes/secrets.py): its
    value comes from `secrets`, and is kept in `secret_values` so the node's records, answer and
    logs can be redacted."""

    def __init__(
        self,
        variables: Mapping[str, Mapping[str, Any] | None],
        run: Mapping[str, Any],
        secrets: SecretSource | None = None,
    ) -> None:
        self._variables = variables
        self._run = run
        self._secrets = secrets
        self.secret_values: set[str] = set()

    def resolve(self, selector: Sequence[str]) -> Any:
        """The value `selector` names.

        A node the event does not hold, or an output its node does not have, is VariableNotFound:
        the compiler passes every node a selector names, and every node's outputs hold all their
        declared variables. A skipped node (outputs null) reads as null for every variable, and a
        missing key deeper inside an object value reads as null, as in Dify.
        """
        path = list(selector)
        if len(path) < 2:
            raise VariableNotFound(path, "a selector names a node and one of its variables")
        if is_sys(path):
            if len(path) != 2 or path[1] not in SYS_VARIABLES:
                known = ", ".join(f"sys.{name}" for name in SYS_VARIABLES)
                raise VariableNotFound(path, f"the system variables are {known}")
            return self._run.get(SYS_VARIABLES[path[1]])

        node_id, name, *attributes = path
        if node_id in (ENV, CONVERSATION):
            declared = self._run.get(node_id) or {}
            if name not in declared:
                raise VariableNotFound(path, f"the run has no {node_id} variable {name}")
            secret = placeholder_name(declared[name]) if node_id == ENV else None
            if secret is not None:
                return _attribute(self._secret(secret), attributes)
            return _attribute(declared[name], attributes)
        if node_id not in self._variables:
            raise VariableNotFound(path, f"no outputs of node {node_id} were passed to this node")
        outputs = self._variables[node_id]
        if outputs is None:
            return None
        if name not in outputs:
            raise VariableNotFound(path, f"node {node_id} has no output {name}")
        return _attribute(outputs[name], attributes)

    def _secret(self, name: str) -> str:
        workflow_id = str(self._run.get("workflow_id"))
        if self._secrets is None:
            raise SecretNotSet(
                f"secret environment variable {name} is not set for workflow {workflow_id}: "
                "this node function reads no secrets"
            )
        value = self._secrets.value(str(self._run.get("tenant_id")), workflow_id, name)
        if value:
            self.secret_values.add(value)
        return value

    def bind(self, bindings: Iterable[VariableSelector]) -> dict[str, Any]:
        """`{variable: value}` for a node's `variables: [{variable, value_selector}]`."""
        return {binding.variable: self.resolve(binding.value_selector) for binding in bindings}


def _attribute(value: Any, attributes: Sequence[str]) -> Any:
    for attribute in attributes:
        value = value.get(attribute) if isinstance(value, Mapping) else None
    return value
