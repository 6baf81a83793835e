"""Work nodes (code, template-transform, llm, http-request, tool, ...) -> a Task invoking the
node function, which runs the node.

The Task hands the node function the node's own configuration and only the variables its
selectors name; the function answers `{outputs, status, handle, usage}`. The Task keeps
`outputs` in `$n_<node>`, the handle taken in `$r_<node>` (when something asks), counts a
handled exception (`status` exception) and adds up model usage in its scope's accumulators.
Retries and error strategies happen inside the function; a failure it raises fails the node.
Inside iterations and loops the payload also says where the node runs (`scope`, as a wait's:
the innermost iteration and loop and the index path) and, on the node beginning each item or
round, the progress event to emit first (progress.py).
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering import progress
from signoff.compiler.lowering.common import Context, invoke
from signoff.compiler.lowering.review import wait_scope
from signoff.compiler.plan import Step
from signoff.compiler.variables import handle_name, outputs_name
from signoff.graph.model import (
    ITERATION_INDEX,
    ITERATION_ITEM,
    SOURCE_HANDLE,
    LlmNode,
    Node,
    ParameterExtractorNode,
    QuestionClassifierNode,
)
from signoff.graph.selectors import find_references, is_run_variable

# Nodes whose model calls report token usage.
USAGE_NODES = (LlmNode, QuestionClassifierNode, ParameterExtractorNode)


def payload_variables(node: Node, ctx: Context) -> dict[str, str]:
    """node id -> the variable holding what the node's selectors read from it: a node's
    outputs, or inside an iteration its current `{item, index}`."""
    named = list(node.selectors())
    named += [
        ref.selector for text in node.texts() for ref in find_references(text) if ref.is_well_formed
    ]
    found: dict[str, str] = {}
    for selector in named:
        if is_run_variable(selector) or selector[0] in found:
            continue
        head = selector[0]
        item = ctx.variables.iterations and head in ctx.variables.iterations
        if item and selector[1] in (ITERATION_ITEM, ITERATION_INDEX):
            found[head] = jsonata.template(ctx.variables.item(head))
        else:
            found[head] = jsonata.template(ctx.variables.outputs(head))
    return found


def lower_work(
    step: Step, ctx: Context, next_state: str, *, extra: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The node's Task; `extra`: more fields of the node function's event."""
    node = step.node
    payload = {
        "run": "{% $run %}",
        "node": {
            "id": node.id,
            "type": node.type,
            "title": jsonata.plain(node.title),
            "config": jsonata.plain(node.config()),
        },
        "variables": payload_variables(node, ctx),
        "attempt": "{% $states.context.State.RetryCount + 1 %}",
        **(extra or {}),
    }
    # Inside iterations and loops: where it runs (the same `scope` as a wait there, `path` and
    # all, so its execution record names the item and round), and whether it begins the item
    # or round.
    scope = wait_scope(node.id, ctx)
    if scope is not None:
        payload["scope"] = scope
    next_notice = progress.next_notice(node.id, ctx)
    if next_notice is not None:
        payload["progress"] = [next_notice]
    inline = ctx.plan.inline_reads.get(node.id)
    if inline:
        # Native states compute on these outputs: they stay values, never references.
        payload["keep_inline"] = sorted(inline)
    state = invoke(ctx.target.node_function_arn, payload)
    assign: dict[str, Any] = {outputs_name(node.id): "{% $states.result.Payload.outputs %}"}
    if step.records_handle:
        dynamic = node.handles != [SOURCE_HANDLE]
        assign[handle_name(node.id)] = (
            "{% $states.result.Payload.handle %}" if dynamic else SOURCE_HANDLE
        )
    if node.error_strategy is not None:
        assign.update(ctx.count_exception("$states.result.Payload.status"))
    if isinstance(node, USAGE_NODES):
        assign.update(ctx.add_usage("$states.result.Payload.usage"))
    state["Output"] = "{% $states.result.Payload %}"
    state["Assign"] = assign
    state["Catch"] = [ctx.catch_node(node.id)]
    state["Next"] = next_state
    return {step.state_name: state}
