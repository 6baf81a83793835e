"""Scopes: the workflow's top level, and the inside of each iteration or loop node.

Every node lives in one scope: the top level (None) or the container its `parent_id` names. Edges
stay inside a scope; a container's children begin at its start node (iteration-start or
loop-start), as the top level begins at the start node. A node inside a container may read what
runs before it in its own scope, the container's own values (an iteration's item and index, a
loop's variables), and whatever runs before the container in the scope around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from signoff.graph.model import CONTAINER_START_TYPES, Node

TOP = None


@dataclass
class Scopes:
    # node id -> the id of the container it sits in (None: the top level).
    parent: dict[str, str | None] = field(default_factory=dict)
    # scope (None or a container id) -> its node ids, in document order.
    members: dict[str | None, list[str]] = field(default_factory=dict)
    # container id -> its type (iteration or loop).
    containers: dict[str, str] = field(default_factory=dict)

    def scope_of(self, node_id: str) -> str | None:
        return self.parent.get(node_id)

    def enclosing(self, node_id: str) -> list[str]:
        """The containers around a node, innermost first."""
        chain: list[str] = []
        current = self.parent.get(node_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def descendants(self, container_id: str) -> list[str]:
        """Every node inside a container, however deep."""
        found: list[str] = []
        todo = [container_id]
        while todo:
            current = todo.pop()
            for member in self.members.get(current, []):
                if member not in found:
                    found.append(member)
                    todo.append(member)
        return found


def find_scopes(nodes: Iterable[tuple[str, str | None, Node | None]]) -> Scopes:
    """Scopes from (id, type, parsed node or None) triples. A node whose parent_id names no
    container, or that did not parse, is taken as top-level: validation reports the former."""
    listed = [(node_id, node_type, node) for node_id, node_type, node in nodes]
    containers = {
        node_id: node_type for node_id, node_type, _ in listed if node_type in CONTAINER_START_TYPES
    }
    scopes = Scopes(containers=containers)
    for node_id, _, node in listed:
        if node_id in scopes.parent:
            continue  # a repeated id: the first one counts
        parent = node.parent_id if node is not None else None
        scope = parent if parent in containers and parent != node_id else None
        scopes.parent[node_id] = scope
        scopes.members.setdefault(scope, []).append(node_id)
    # A parent chain that loops (a inside b inside a) puts its nodes back at the top level.
    for node_id in list(scopes.parent):
        seen = {node_id}
        current = scopes.parent[node_id]
        while current is not None:
            if current in seen:
                _move_to_top(scopes, node_id)
                break
            seen.add(current)
            current = scopes.parent.get(current)
    return scopes


def _move_to_top(scopes: Scopes, node_id: str) -> None:
    old = scopes.parent[node_id]
    scopes.members[old].remove(node_id)
    scopes.parent[node_id] = TOP
    scopes.members.setdefault(TOP, []).append(node_id)


def scopes_of_nodes(nodes: Mapping[str, Node]) -> Scopes:
    return find_scopes((node_id, node.type, node) for node_id, node in nodes.items())
