"""The Choice before a node that does not always run: run it, or skip to what follows it."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.plan import Step


def lower_guard(step: Step, skip_to: str) -> dict[str, dict[str, Any]]:
    assert step.guard is not None
    return {
        step.guard_state_name: {
            "Type": "Choice",
            "Choices": [{"Condition": jsonata.template(step.guard), "Next": step.state_name}],
            "Default": skip_to,
        }
    }
