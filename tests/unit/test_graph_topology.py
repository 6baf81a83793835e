"""Graph shape: order, upstream sets, cycles."""

from __future__ import annotations

import itertools

from signoff.graph.model import Edge
from signoff.graph.topology import Topology


def edges(*pairs: str) -> list[Edge]:
    return [Edge(source=a, target=b) for a, b in (pair.split(">") for pair in pairs)]


def test_topological_order_keeps_branches_together_first_edge_first():
    topology = Topology(
        ["s", "if", "a1", "a2", "b1", "j"],
        edges("s>if", "if>a1", "if>b1", "a1>a2", "a2>j", "b1>j"),
    )
    assert topology.topological_order(["s"]) == ["s", "if", "a1", "a2", "b1", "j"]


def test_every_node_comes_after_its_predecessors():
    topology = Topology(list("sabcdef"), edges("s>a", "s>b", "a>c", "b>c", "c>d", "s>d", "b>e"))
    order = topology.topological_order(["s"])
    for edge in topology.edges:
        assert order.index(edge.source) < order.index(edge.target)


def test_upstream_is_every_node_with_a_path_to_it():
    topology = Topology(list("sabc"), edges("s>a", "a>b", "s>c"))
    assert topology.upstream["b"] == {"s", "a"}
    assert topology.upstream["c"] == {"s"}
    assert topology.upstream["s"] == set()


def test_cycles_are_found_with_their_nodes_in_order():
    topology = Topology(list("sabcd"), edges("s>a", "a>b", "b>c", "c>a", "d>d"))
    assert topology.cycles() == [["a", "b", "c"], ["d"]]


def test_edges_naming_unknown_nodes_are_ignored():
    topology = Topology(["s", "a"], edges("s>a", "s>ghost", "ghost>a"))
    assert topology.predecessors["a"] == ["s"]
    assert topology.reachable_from(["s"]) == {"s", "a"}


def test_a_long_chain_does_not_hit_the_recursion_limit():
    ids = [f"n{i}" for i in range(3000)]
    topology = Topology(ids, [Edge(source=a, target=b) for a, b in itertools.pairwise(ids)])
    assert topology.cycles() == []
    assert topology.topological_order(["n0"]) == ids


def test_a_long_cycle_is_named_without_hitting_the_recursion_limit():
    ids = [f"n{i}" for i in range(3000)]
    pairs = [*itertools.pairwise(ids), (ids[-1], ids[0])]
    topology = Topology(ids, [Edge(source=a, target=b) for a, b in pairs])
    assert topology.cycles() == [ids]
