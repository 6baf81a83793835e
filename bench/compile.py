"""Compiling generated graphs of 10, 100 and 500 nodes: time, definition size, states per node.

    python bench/compile.py                  # the default sizes and shapes
    python bench/compile.py --sizes 10 1000 --repeat 5

Shapes (every node a template-transform unless said otherwise):
- chain:      start -> n1 -> n2 -> ... -> end
- branches:   if-else nodes in a row, each with a two-node `true` branch and a one-node else
              branch, joining before the next if-else
- parallels:  fan-outs of three branches of two nodes each, joined, one after another
- iterations: iterations in a row, each running two nodes per item

Prints one table: nodes (the graph's, all of them), shape, compile time (best of --repeat, ms),
the definition's size (bytes of compact JSON, and % of Step Functions' 1 MB limit) and states
per node (every state, nested ones included, over the nodes).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from signoff.compiler import CompileTarget, compile_workflow
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow

DEFINITION_LIMIT = 1024 * 1024
TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:123456789012:function:signoff-NodeFunction",
    "arn:aws:lambda:us-east-1:123456789012:function:signoff-SettleFunction",
)


class Graph:
    """A workflow document under construction."""

    def __init__(self, name: str) -> None:
        self.nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
        self.edges: list[dict[str, Any]] = []
        self.name = name
        self.count = 0

    def text(self, reads: str | None = None, **fields: Any) -> str:
        self.count += 1
        node_id = f"n{self.count}"
        variables = [{"variable": "v", "value_selector": [reads, "output"]}] if reads else []
        self.nodes.append(
            {
                "id": node_id,
                "type": "template-transform",
                "template": "{{ v }}+",
                "variables": variables,
                **fields,
            }
        )
        return node_id

    def edge(self, source: str, target: str, handle: str = "source") -> None:
        self.edges.append({"source": source, "target": target, "source_handle": handle})

    def finish(self, last: str, total: int) -> Workflow:
        """End the graph after `last`, padded with a chain up to `total` nodes."""
        while self.size < total - 1:
            node = self.text(None if last == "start" else last)
            self.edge(last, node)
            last = node
        self.nodes.append(
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "out", "value_selector": [last, "output"]}],
            }
        )
        self.edge(last, "end")
        return parse_workflow(
            {
                "name": self.name,
                "inputs": [{"variable": "items", "type": "array"}],
                "nodes": self.nodes,
                "edges": self.edges,
            }
        )

    @property
    def size(self) -> int:
        return len(self.nodes)


def chain(total: int) -> Workflow:
    return Graph("chain").finish("start", total)


def branches(total: int) -> Workflow:
    graph = Graph("branches")
    last = "start"
    while graph.size + 5 <= total - 1:
        graph.count += 1
        check = f"if{graph.count}"
        graph.nodes.append(
            {
                "id": check,
                "type": "if-else",
                "cases": [
                    {
                        "case_id": "true",
                        "conditions": [
                            {
                                "variable_selector": ["start", "items"],
                                "comparison_operator": "not empty",
                            }
                        ],
                    }
                ],
            }
        )
        graph.edge(last, check)
        first = graph.text()
        second = graph.text(first)
        other = graph.text()
        graph.edge(check, first, "true")
        graph.edge(first, second)
        graph.edge(check, other, "false")
        join = graph.text()
        graph.edge(second, join)
        graph.edge(other, join)
        last = join
    return graph.finish(last, total)


def parallels(total: int) -> Workflow:
    graph = Graph("parallels")
    last = "start"
    while graph.size + 7 <= total - 1:
        ends = []
        for _ in range(3):
            first = graph.text()
            second = graph.text(first)
            graph.edge(last, first)
            graph.edge(first, second)
            ends.append(second)
        join = graph.text(ends[-1])
        for end in ends:
            graph.edge(end, join)
        last = join
    return graph.finish(last, total)


def iterations(total: int) -> Workflow:
    graph = Graph("iterations")
    last = "start"
    while graph.size + 4 <= total - 1:
        graph.count += 1
        loop = f"it{graph.count}"
        graph.nodes.append(
            {
                "id": loop,
                "type": "iteration",
                "iterator_selector": ["start", "items"],
                "output_selector": [f"n{graph.count + 2}", "output"],
                "start_node_id": f"{loop}s",
                "is_parallel": True,
                "parallel_nums": 10,
            }
        )
        graph.nodes.append({"id": f"{loop}s", "type": "iteration-start", "parent_id": loop})
        first = graph.text(parent_id=loop)
        second = graph.text(first, parent_id=loop)
        graph.edge(f"{loop}s", first)
        graph.edge(first, second)
        graph.edge(last, loop)
        last = loop
    return graph.finish(last, total)


SHAPES: dict[str, Callable[[int], Workflow]] = {
    "chain": chain,
    "branches": branches,
    "parallels": parallels,
    "iterations": iterations,
}


def count_states(states: dict[str, Any]) -> int:
    total = 0
    for state in states.values():
        total += 1
        for branch in state.get("Branches", []):
            total += count_states(branch["States"])
        if "ItemProcessor" in state:
            total += count_states(state["ItemProcessor"]["States"])
    return total


def measure(workflow: Workflow, repeat: int) -> tuple[float, int, int]:
    best = float("inf")
    definition: dict[str, Any] = {}
    for _ in range(repeat):
        started = time.perf_counter()
        definition = compile_workflow(workflow, TARGET)
        best = min(best, time.perf_counter() - started)
    size = len(json.dumps(definition, separators=(",", ":"), ensure_ascii=False).encode())
    return best * 1000, size, count_states(definition["States"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    header = f"{'nodes':>6}  {'shape':<11}{'compile ms':>11}{'ASL bytes':>12}{'% of 1 MB':>11}"
    print(header + f"{'states/node':>13}")
    for size in arguments.sizes:
        for name, build in SHAPES.items():
            workflow = build(size)
            nodes = len(workflow.nodes)
            elapsed, asl_bytes, states = measure(workflow, arguments.repeat)
            share = 100 * asl_bytes / DEFINITION_LIMIT
            print(
                f"{nodes:>6}  {name:<11}{elapsed:>11.1f}{asl_bytes:>12,}{share:>10.1f}%"
                f"{states / nodes:>13.2f}"
            )


if __name__ == "__main__":
    main()
