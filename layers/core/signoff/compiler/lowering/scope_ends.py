"""How a nested scope (a Parallel branch, a Map item) begins and ends.

It begins by declaring the variables it assigns, folded into its first state when that state
can carry them, else in a Pass of its own. It ends with an object of what is read after it
(a branch: the variables read after its Parallel; an item: its output), given by its last state
when only that state leads to the end, else by a Pass of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import EMPTY_USAGE, Context
from signoff.compiler.variables import AslScope

States = dict[str, dict[str, Any]]
_ENDING_TYPES = ("Task", "Pass", "Map", "Parallel")


def declarations(scope: AslScope) -> dict[str, Any]:
    declared = dict(scope.declared)
    if scope.accumulates:
        declared[scope.exceptions_variable] = 0
        declared[scope.usage_variable] = dict(EMPTY_USAGE)
    return declared


def begin(
    states: States, entry: str, assign: dict[str, Any], begin_name: str
) -> tuple[States, str]:
    """The states with the scope's declarations in place, and the scope's first state."""
    if not assign:
        return states, entry
    first = states[entry]
    # A state that a later one jumps back to (a review's revise) would declare its scope's
    # variables again each time: it gets a Pass before it instead.
    reentered = count_references(states, entry) > 0
    if first["Type"] not in ("Map", "Parallel") and not reentered:
        own = first.get("Assign", {})
        # A value the first state assigns itself starts from its declared value there.
        for name, initial in assign.items():
            if name in own and re.search(rf"\${name}\b", jsonata.inner(own[name])):
                own[name] = jsonata.template(
                    f"(${name} := {jsonata.literal(initial)}; {jsonata.inner(own[name])})"
                )
        folded = {name: value for name, value in assign.items() if name not in own}
        fold_into_first_state(states, entry, folded)
        return states, entry
    return {begin_name: {"Type": "Pass", "Assign": assign, "Next": entry}, **states}, begin_name


def end(
    ctx: Context,
    states: States,
    end_name: str,
    last_state: str | None,
    output: Callable[[], dict[str, str]],
) -> None:
    """Give the scope its end: the last state itself when only it leads there, else a Pass.
    `output` (JSONata expressions by key) is asked for once everything is laid out."""
    state = states.get(last_state) if last_state else None
    foldable = (
        state is not None
        and state.get("Next") == end_name
        and state["Type"] in _ENDING_TYPES
        and count_references(states, end_name) == 1
    )
    if foldable:
        assert state is not None
        ctx.emitter.on_finish(lambda: fold_end(state, output()))
        return
    ending: dict[str, Any] = {"Type": "Pass", "End": True}
    states[end_name] = ending

    def finish() -> None:
        ending["Output"] = {key: jsonata.template(expr) for key, expr in output().items()}

    ctx.emitter.on_finish(finish)


def accumulated(scope: AslScope) -> dict[str, str]:
    if not scope.accumulates:
        return {}
    return {
        "exceptions": f"${scope.exceptions_variable}",
        "usage": f"${scope.usage_variable}",
    }


def fold_into_first_state(states: States, first: str, assign: dict[str, Any]) -> bool:
    """Add assignments to a block's first state, so a scope needs no state of its own to begin.
    Only where they take effect before any later state reads them: not on a Map or Parallel,
    whose insides run before their own Assign."""
    state = states[first]
    kind = state["Type"]
    if kind in ("Map", "Parallel"):
        return False
    if kind == "Choice":
        rules = state["Choices"]
        if "Default" in state:
            # A Default cannot carry Assign reliably (moto): make it a last `true` rule.
            rules.append({"Condition": "{% true %}", "Next": state.pop("Default")})
        for rule in rules:
            rule["Assign"] = {**assign, **rule.get("Assign", {})}
        return True
    state["Assign"] = {**assign, **state.get("Assign", {})}
    return True


def fold_end(state: dict[str, Any], output: dict[str, str]) -> None:
    """Make a state the end of its scope, its output `output` (JSONata expressions). Output is
    computed as the state ends, with the variables as they were before its own Assign: the
    values it assigns are bound again inside each expression."""
    rebinds = "".join(
        f"${name} := {jsonata.inner(value)}; " for name, value in state.get("Assign", {}).items()
    )
    state.pop("Next")
    state["Output"] = {
        key: jsonata.template(f"({rebinds}{expression})" if rebinds else expression)
        for key, expression in output.items()
    }
    state["End"] = True


def count_references(states: States, name: str) -> int:
    count = 0
    for state in states.values():
        count += state.get("Next") == name
        count += state.get("Default") == name
        count += sum(rule.get("Next") == name for rule in state.get("Choices", []))
        count += sum(rule.get("Next") == name for rule in state.get("Catch", []))
    return count
