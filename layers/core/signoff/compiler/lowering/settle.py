"""The run's last states: tell the settle function how it ended, then end the execution."""

from __future__ import annotations

from typing import Any

from signoff.compiler.lowering.common import (
    FAILED,
    SETTLE_FAILED,
    SETTLE_SUCCEEDED,
    SUCCEEDED,
    invoke,
)
from signoff.compiler.target import CompileTarget


def lower_settle(target: CompileTarget) -> dict[str, dict[str, Any]]:
    succeeded = invoke(
        target.settle_function_arn,
        {"run": "{% $run %}", "status": "succeeded", "outputs": "{% $outputs %}"},
    )
    # The execution's output is the run's outputs, for whoever reads DescribeExecution.
    succeeded["Output"] = "{% $outputs %}"
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
