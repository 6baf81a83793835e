"""The run order of one scope as nested sequences and parallel blocks (series-parallel form).

Dify runs any DAG: nodes start as soon as their incoming edges are resolved, so independent
branches run at the same time. A state machine runs a sequence of states, with Parallel states
holding branches that all finish before the next state. Any DAG fits that form once some joins
wait a little longer than they must:

- Walk the scope's nodes in topological order. While one node is ready (all its predecessors
  placed), it is the next item of the sequence.
- When several are ready at once, each ready node gets the nodes only it leads to (every path to
  them from a ready node starts at it): its branch. Nodes that several ready nodes lead to (joins,
  and what follows them) wait until every branch has finished. The branches become a Parallel
  item; each branch is laid out the same way, recursively.
- Ready nodes that can never run in the same run (different handles of one if-else or classifier)
  need no Parallel: their branches follow one another, each guarded, at no extra cost.

Guards (see plan.py) keep Dify's semantics whatever the layout: a node whose incoming edges were
all skipped is skipped, wherever it sits. A Parallel only decides what may overlap in time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from signoff.graph.model import Edge, Node


@dataclass
class NodeItem:
    node_id: str


@dataclass
class ParallelItem:
    branches: list[Block]

    @property
    def first_node_id(self) -> str:
        return first_node_id(self.branches[0])


@dataclass
class Block:
    """A sequence of items run one after another."""

    items: list[NodeItem | ParallelItem] = field(default_factory=list)

    def node_ids(self) -> list[str]:
        found: list[str] = []
        for item in self.items:
            if isinstance(item, NodeItem):
                found.append(item.node_id)
            else:
                for branch in item.branches:
                    found += branch.node_ids()
        return found


def first_node_id(block: Block) -> str:
    item = block.items[0]
    return item.node_id if isinstance(item, NodeItem) else item.first_node_id


# Whether a set of nodes may form a Parallel branch of its own (an assigner in it that writes a
# variable owned outside the branch keeps it in its enclosing sequence).
BranchCheck = Callable[[Collection[str]], bool]


class Structurer:
    def __init__(
        self,
        order: Sequence[str],
        edges: Sequence[Edge],
        nodes: dict[str, Node],
        can_branch: BranchCheck,
    ) -> None:
        self.position = {node_id: index for index, node_id in enumerate(order)}
        self.nodes = nodes
        self.predecessors: dict[str, list[Edge]] = {node_id: [] for node_id in order}
        self.successors: dict[str, list[str]] = {node_id: [] for node_id in order}
        for edge in edges:
            if edge.source in self.position and edge.target in self.position:
                self.predecessors[edge.target].append(edge)
                if edge.target not in self.successors[edge.source]:
                    self.successors[edge.source].append(edge.target)
        self.can_branch = can_branch

    def block(self, members: Collection[str]) -> Block:
        """The layout of `members` (a set closed under predecessors within the scope, minus what
        is already placed), in run order."""
        remaining = sorted(members, key=self.position.__getitem__)
        block = Block()
        while remaining:
            pending = set(remaining)
            waiting = {
                node_id: sum(edge.source in pending for edge in self.predecessors[node_id])
                for node_id in remaining
            }
            ready = [node_id for node_id in remaining if waiting[node_id] == 0]
            # One node ready at a time: a plain sequence (Kahn's algorithm, in run order).
            while len(ready) == 1:
                (node_id,) = ready
                block.items.append(NodeItem(node_id))
                pending.discard(node_id)
                for nxt in self.successors[node_id]:
                    if nxt in pending:
                        waiting[nxt] -= sum(
                            edge.source == node_id for edge in self.predecessors[nxt]
                        )
                ready = sorted(
                    (n for n in self.successors[node_id] if n in pending and waiting[n] == 0),
                    key=self.position.__getitem__,
                )
                if not ready and pending:
                    ready = [n for n in remaining if n in pending and waiting[n] == 0]
            remaining = [node_id for node_id in remaining if node_id in pending]
            if not ready:
                break
            branches = self._branches(ready, pending)
            placed: set[str] = set()
            for group in self._concurrent_groups(ready):
                members_of = [branches[node_id] for node_id in group]
                everything = set().union(*members_of)
                if len(group) > 1 and all(self.can_branch(m) for m in members_of):
                    block.items.append(ParallelItem([self.block(m) for m in members_of]))
                else:
                    for members_of_one in members_of:
                        block.items += self.block(members_of_one).items
                placed |= everything
            remaining = [node_id for node_id in remaining if node_id not in placed]
        return block

    def _branches(self, ready: list[str], pending: set[str]) -> dict[str, set[str]]:
        """For each ready node, the pending nodes that only it leads to.

        Walks forward in run order from the ready nodes, only past nodes that one ready node
        alone leads to: the walk stays within the branches, not the whole rest of the scope.
        """
        shared = frozenset({"*"})  # several ready nodes lead here (or a node already shared)
        roots: dict[str, frozenset[str]] = {node_id: frozenset({node_id}) for node_id in ready}
        frontier: list[tuple[int, str]] = []
        for node_id in ready:
            for nxt in self.successors[node_id]:
                if nxt in pending and nxt not in roots:
                    heapq.heappush(frontier, (self.position[nxt], nxt))
        while frontier:
            _, node_id = heapq.heappop(frontier)
            if node_id in roots:
                continue
            reaching: set[str] = set()
            for edge in self.predecessors[node_id]:
                if edge.source not in pending:
                    continue
                # A predecessor the walk did not reach is reached only through shared nodes.
                reaching |= roots.get(edge.source, shared)
            roots[node_id] = frozenset(reaching) if len(reaching) == 1 else shared
            if len(reaching) == 1:
                for nxt in self.successors[node_id]:
                    if nxt in pending and nxt not in roots:
                        heapq.heappush(frontier, (self.position[nxt], nxt))
        return {
            root: {node_id for node_id, found in roots.items() if found == {root}} for root in ready
        }

    def _concurrent_groups(self, ready: list[str]) -> list[list[str]]:
        """The ready nodes split into groups that never run in the same run; the nodes of one
        group may (one group, all of them, unless every ready node hangs off a different handle
        of one branching node)."""
        activations = [
            {
                (edge.source, self.nodes[edge.source].edge_handle(edge.source_handle))
                for edge in self.predecessors[node_id]
            }
            for node_id in ready
        ]
        sources = {source for activation in activations for source, _ in activation}
        if len(sources) != 1:
            return [ready]
        (source,) = sources
        if len(self.nodes[source].handles) < 2:
            return [ready]
        by_handle: dict[frozenset[str], list[str]] = {}
        for node_id, activation in zip(ready, activations, strict=True):
            by_handle.setdefault(frozenset(h for _, h in activation), []).append(node_id)
        keys = list(by_handle)
        for index, key in enumerate(keys):
            if any(key & other for other in keys[index + 1 :]):
                return [ready]  # two handle sets overlap: both nodes may run together
        return list(by_handle.values())
