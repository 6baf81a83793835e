"""The Choice before a node that does not always run: run it, or skip to what follows it."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import GuardTerm, Step
from signoff.compiler.variables import Variables


def guard_condition(terms: list[GuardTerm], variables: Variables) -> str:
    """True iff one of the incoming edges was taken: its source ran and left by its handle."""
    parts = []
    for term in terms:
        handle = variables.handle(term.source_id)
        if term.handles is None:
            parts.append(f"{handle} != null")
        elif len(term.handles) == 1:
            parts.append(f"{handle} = {jsonata.literal(term.handles[0])}")
        else:
            parts.append(f"{handle} in {jsonata.literal(term.handles)}")
    return " or ".join(parts)


def lower_guard(step: Step, ctx: Context, skip_to: str) -> dict[str, dict[str, Any]]:
    assert step.guard is not None
    condition = guard_condition(step.guard, ctx.variables)
    return {
        step.guard_state_name: {
            "Type": "Choice",
            "Choices": [{"Condition": jsonata.template(condition), "Next": step.state_name}],
            "Default": skip_to,
        }
    }
