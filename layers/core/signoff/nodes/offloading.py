"""Large values as one node attempt sees them: its variables resolved, its values offloaded.

A node reads the values it is handed with every reference resolved (signoff/payloads.py), and
hands back outputs whose large values are references again, under
`<tenant>/<run>/nodes/<node>/<attempt>/...`. Its execution record stores the same references
(a DynamoDB item holds 400 KB); the api resolves them when it answers.
"""

from __future__ import annotations

from typing import Any, Literal

from signoff.nodes.event import NodeEvent
from signoff.payloads import PayloadStore


class NodePayloads:
    """`store` None: values pass as they are (a deployment without a payloads bucket)."""

    def __init__(self, store: PayloadStore | None, request: NodeEvent) -> None:
        self._store = store
        self._request = request

    def variables(self) -> dict[str, Any]:
        """The event's variables with every reference in them resolved."""
        return self.resolve(self._request.variables)

    def resolve(self, value: Any) -> Any:
        """`value` (a reviewer's copy of earlier outputs, say) with its references resolved."""
        if self._store is None:
            return value
        return self._store.resolve(value, tenant_id=self._request.run.tenant_id)

    def offload(self, values: dict[str, Any], part: Literal["inputs", "outputs"]) -> Any:
        """`values` (the node's inputs or outputs) fit for a state and an execution record."""
        if self._store is None:
            return values
        request = self._request
        return self._store.offload(
            values,
            tenant_id=request.run.tenant_id,
            run_id=request.run.run_id,
            label=f"nodes/{request.node.id}/{request.attempt}/{part}",
            keep_inline=request.keep_inline if part == "outputs" else (),
        )
