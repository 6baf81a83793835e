"""The shape of a graph: reachability, upstream sets, cycles and a readable topological order.

Works on node ids and edges only, so validation can use it on a graph whose nodes did not all
parse; edges naming unknown nodes are left out (validation reports them as dangling).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import cached_property

from signoff.graph.model import Edge


class Topology:
    def __init__(self, node_ids: Iterable[str], edges: Iterable[Edge]) -> None:
        self.node_ids: list[str] = list(dict.fromkeys(node_ids))
        known = set(self.node_ids)
        self.edges: list[Edge] = [e for e in edges if e.source in known and e.target in known]
        self.successors: dict[str, list[str]] = {node_id: [] for node_id in self.node_ids}
        self.predecessors: dict[str, list[str]] = {node_id: [] for node_id in self.node_ids}
        self._incoming: dict[str, list[Edge]] = {node_id: [] for node_id in self.node_ids}
        for edge in self.edges:
            self._incoming[edge.target].append(edge)
            if edge.target not in self.successors[edge.source]:
                self.successors[edge.source].append(edge.target)
                self.predecessors[edge.target].append(edge.source)

    def incoming(self, node_id: str) -> list[Edge]:
        return list(self._incoming.get(node_id, []))

    def reachable_from(self, roots: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        stack = [root for root in roots if root in self.successors]
        while stack:
            node_id = stack.pop()
            if node_id not in seen:
                seen.add(node_id)
                stack.extend(self.successors[node_id])
        return seen

    @cached_property
    def upstream(self) -> dict[str, set[str]]:
        """For each node, the nodes with a path to it (its possible data sources)."""
        if not self.cycles():
            return self._upstream_acyclic()
        result: dict[str, set[str]] = {}
        for node_id in self.node_ids:
            seen: set[str] = set()
            stack = list(self.predecessors[node_id])
            while stack:
                other = stack.pop()
                if other not in seen:
                    seen.add(other)
                    stack.extend(self.predecessors[other])
            result[node_id] = seen
        return result

    def _upstream_acyclic(self) -> dict[str, set[str]]:
        # One pass in topological order with bit sets: linear in edges (times the set width).
        bit = {node_id: 1 << index for index, node_id in enumerate(self.node_ids)}
        masks: dict[str, int] = {}
        order = self.topological_order(
            [node_id for node_id in self.node_ids if not self.predecessors[node_id]]
        )
        for node_id in order:
            mask = 0
            for source in self.predecessors[node_id]:
                mask |= masks[source] | bit[source]
            masks[node_id] = mask
        result: dict[str, set[str]] = {}
        for node_id in self.node_ids:
            mask, found = masks.get(node_id, 0), set()
            while mask:
                lowest = mask & -mask
                found.add(self.node_ids[lowest.bit_length() - 1])
                mask ^= lowest
            result[node_id] = found
        return result

    @cached_property
    def _cycles(self) -> list[list[str]]:
        return self._find_cycles()

    def cycles(self) -> list[list[str]]:
        return list(self._cycles)

    def _find_cycles(self) -> list[list[str]]:
        """One cycle (as a node path, first node not repeated) per strongly connected component."""
        cycles: list[list[str]] = []
        for component in self._strongly_connected_components():
            members = set(component)
            first = min(component, key=self.node_ids.index)
            if len(component) > 1 or first in self.successors[first]:
                cycles.append(self._cycle_through(first, members))
        cycles.sort(key=lambda cycle: self.node_ids.index(cycle[0]))
        return cycles

    def _cycle_through(self, first: str, members: set[str]) -> list[str]:
        # Every node of a strongly connected component lies on a cycle through any other: a
        # breadth-first search inside the component finds the shortest way back to `first`.
        came_from: dict[str, str] = {first: first}
        queue = deque([first])
        while queue:
            node_id = queue.popleft()
            for nxt in self.successors[node_id]:
                if nxt == first:
                    path = [node_id]
                    while path[-1] != first:
                        path.append(came_from[path[-1]])
                    return list(reversed(path))
                if nxt in members and nxt not in came_from:
                    came_from[nxt] = node_id
                    queue.append(nxt)
        return [first]

    def _strongly_connected_components(self) -> list[list[str]]:
        # Tarjan's algorithm, iterative: graphs imported from Dify can be deep enough to hit
        # Python's recursion limit.
        index: dict[str, int] = {}
        lowlink: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        components: list[list[str]] = []
        counter = 0
        for root in self.node_ids:
            if root in index:
                continue
            work: list[tuple[str, int]] = [(root, 0)]
            while work:
                node_id, child = work.pop()
                if child == 0:
                    index[node_id] = lowlink[node_id] = counter
                    counter += 1
                    stack.append(node_id)
                    on_stack.add(node_id)
                successors = self.successors[node_id]
                if child < len(successors):
                    work.append((node_id, child + 1))
                    nxt = successors[child]
                    if nxt not in index:
                        work.append((nxt, 0))
                    elif nxt in on_stack:
                        lowlink[node_id] = min(lowlink[node_id], index[nxt])
                    continue
                if lowlink[node_id] == index[node_id]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node_id:
                            break
                    components.append(component)
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node_id])
        return components

    def topological_order(self, roots: Iterable[str]) -> list[str]:
        """The nodes reachable from `roots`, each after all its predecessors; acyclic graphs only.

        Reverse post-order of a depth-first walk that takes edges last to first: a branch's nodes
        stay together, and the first edge's branch comes first, as a reader expects.
        """
        visited: set[str] = set()
        post_order: list[str] = []
        for root in reversed(list(roots)):
            if root in visited or root not in self.successors:
                continue
            visited.add(root)
            work: list[tuple[str, list[str]]] = [(root, list(self.successors[root]))]
            while work:
                node_id, pending = work[-1]
                while pending and pending[-1] in visited:
                    pending.pop()
                if pending:
                    nxt = pending.pop()
                    visited.add(nxt)
                    work.append((nxt, list(self.successors[nxt])))
                else:
                    post_order.append(node_id)
                    work.pop()
        return list(reversed(post_order))
