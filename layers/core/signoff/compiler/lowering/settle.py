"""The run's last states: tell the settle function how it ended, then end the execution."""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import (
    FAILED,
    SETTLE_FAILED,
    SETTLE_SUCCEEDED,
    SUCCEEDED,
    invoke,
)
from signoff.compiler.target import CompileTarget


def run_outputs(end_outputs: list[str]) -> str:
    """The run's outputs: every end node reached (its outputs not null), merged in order."""
    if not end_outputs:
        return "{}"
    reached = f'$filter([{", ".join(end_outputs)}], function($o) {{ $type($o) = "object" }})'
    return f"$merge($append([{{}}], {reached}))"


def lower_settle(target: CompileTarget, end_outputs: list[str]) -> dict[str, dict[str, Any]]:
    outputs = jsonata.template(run_outputs(end_outputs))
    succeeded = invoke(
        target.settle_function_arn,
        {
            "run": "{% $run %}",
            "status": "succeeded",
            "outputs": outputs,
            "exceptions": "{% $exceptions %}",
            "usage": "{% $usage %}",
        },
    )
    # The execution's output is the run's outputs, for whoever reads DescribeExecution.
    succeeded["Output"] = outputs
    succeeded["Next"] = SUCCEEDED
    failed = invoke(
        target.settle_function_arn,
        {"run": "{% $run %}", "status": "failed", "error": "{% $failure %}"},
    )
    failed["Next"] = FAILED
    return {
        SETTLE_SUCCEEDED: succeeded,
        SUCCEEDED: {"Type": "Succeed"},
        SETTLE_FAILED: failed,
        FAILED: {
            "Type": "Fail",
            "Error": "{% $failure.error %}",
            "Cause": "{% $failure.cause %}",
        },
    }
