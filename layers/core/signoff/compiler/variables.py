"""Workflow variables of the compiled state machine, and where each one can be read from.

Step Functions gives each Parallel branch and each Map item a variable scope of its own: its
states read the variables of the scopes around it but cannot assign them. So:

- a node's variables (`$n_<node>` outputs, `$r_<node>` handle taken) are assigned in the scope its
  states run in (its home), first declared null where that scope begins;
- a Parallel state assigns `$p_<first node>` := its branches' outputs, each branch ending with an
  object of the variables read after the Parallel: from outside, a node inside branch 1 of that
  Parallel reads as `$p_<first node>[1].n_<node>` (nested Parallels chain the same way);
- inside an iteration's item, `$i_<iteration>` holds `{item, index}`; nothing inside an item is
  read after its Map, which returns only each item's output;
- each scope counts its handled exceptions and sums its model usage in accumulators of its own
  (`$exceptions` and `$usage` at the top level), added into the enclosing scope's by the
  Parallel or Map state when it ends.

No name is ever assigned in two scopes, so no state ever writes a variable of an outer scope.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from signoff.graph.validation import variable_name

TOP_KEY = ""


def outputs_name(node_id: str) -> str:
    return f"n_{variable_name(node_id)}"


def handle_name(node_id: str) -> str:
    return f"r_{variable_name(node_id)}"


def parallel_name(first_node_id: str) -> str:
    return f"p_{variable_name(first_node_id)}"


def item_name(iteration_id: str) -> str:
    return f"i_{variable_name(iteration_id)}"


@dataclass(eq=False)
class AslScope:
    """One variable scope of the state machine: the top level, a Parallel branch or a Map item."""

    key: str
    kind: str  # top | branch | item
    parent: AslScope | None = None
    # branch: how its Parallel's scope reaches its outputs: `p_<first node>[index]`.
    parallel_variable: str | None = None
    index: int = 0
    # Where a failing state inside goes (None at the top level: the run fails).
    fail_state: str | None = None
    # Variables this scope assigns, with the value they are declared with where it begins.
    declared: dict[str, Any] = field(default_factory=dict)
    # Variables read after the scope ends (a branch's outputs).
    exports: dict[str, None] = field(default_factory=dict)
    # Whether some state inside counts exceptions or usage.
    accumulates: bool = False

    @property
    def exceptions_variable(self) -> str:
        return "exceptions" if self.kind == "top" else f"x_{self.key}"

    @property
    def usage_variable(self) -> str:
        return "usage" if self.kind == "top" else f"u_{self.key}"

    def lineage(self) -> list[AslScope]:
        chain: list[AslScope] = []
        current: AslScope | None = self
        while current is not None:
            chain.append(current)
            current = current.parent
        return chain

    def mark_accumulating(self) -> None:
        self.accumulates = True


class Variables:
    """Reading variables from one scope (the reader's): each node's values by the right route.

    `homes` maps node ids to the scope their states run in; it is filled as states are laid out,
    which is always before any later state reads them.
    """

    def __init__(
        self,
        scope: AslScope,
        homes: dict[str, AslScope],
        iterations: frozenset[str],
        item_input: str | None = None,
    ) -> None:
        self.scope = scope
        self.homes = homes
        self.iterations = iterations
        # An iteration whose item this state is the first state of: its item and index come
        # with the state's input, not yet in `$i_<iteration>`.
        self.item_input = item_input

    @classmethod
    def plain(cls) -> Variables:
        """Reading from the top level of a graph with no branch, item or iteration."""
        return cls(AslScope(key=TOP_KEY, kind="top"), {}, frozenset())

    def at_item_entry(self, iteration_id: str) -> Variables:
        return Variables(self.scope, self.homes, self.iterations, iteration_id)

    def within(self, scope: AslScope) -> Variables:
        return Variables(scope, self.homes, self.iterations)

    def node_variable(self, node_id: str, name: str) -> str:
        """A variable of a node, read from this scope: `$name`, or through the Parallels the
        node's scope ends in."""
        home = self.homes.get(node_id)
        if home is None:
            return f"${name}"
        readable = set(map(id, self.scope.lineage()))
        route: list[AslScope] = []
        current = home
        while id(current) not in readable:
            route.append(current)
            assert current.parent is not None, f"{node_id} is not readable here"
            current = current.parent
        if not route:
            return f"${name}"
        # The node's scope exports the variable; each branch on the way exports the Parallel
        # variable of the branch inside it.
        route[0].exports[name] = None
        for inner, outer in itertools.pairwise(route):
            assert inner.parallel_variable is not None
            outer.exports[inner.parallel_variable] = None
        steps = [f"{branch.parallel_variable}[{branch.index}]" for branch in reversed(route)]
        return "$" + ".".join([*steps, name])

    def outputs(self, node_id: str) -> str:
        return self.node_variable(node_id, outputs_name(node_id))

    def handle(self, node_id: str) -> str:
        return self.node_variable(node_id, handle_name(node_id))

    def item(self, iteration_id: str) -> str:
        """`{item, index}` of the current item of an iteration around the reader."""
        if self.item_input == iteration_id:
            return "$states.input"
        return f"${item_name(iteration_id)}"
