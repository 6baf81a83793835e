"""Laying out states: each scope's blocks in order, guards before nodes that may be skipped,
Parallel states for branches, and each node lowered by its own module.

Every item of a block goes on to the next item's first state; the last goes on to what follows
the block (the settle state at the top level, the end of a branch or item, a loop's next-round
check). A guard that skips a node jumps past the items right after it that only it leads to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from signoff.compiler.lowering import (
    aggregator,
    assigner,
    end,
    guard,
    human_input,
    if_else,
    iteration,
    list_operator,
    loop,
    parallel,
    review,
    work,
)
from signoff.compiler.lowering.common import Context
from signoff.compiler.plan import Plan, Step
from signoff.compiler.structure import Block, NodeItem, ParallelItem
from signoff.compiler.target import CompileTarget
from signoff.compiler.variables import AslScope, Variables, handle_name, outputs_name
from signoff.graph.model import (
    AssignerNode,
    EndNode,
    HumanInputNode,
    IfElseNode,
    IterationNode,
    ListOperatorNode,
    LoopEndNode,
    LoopNode,
    Node,
    VariableAggregatorNode,
)

States = dict[str, dict[str, Any]]
# Node types whose state assigns no outputs variable.
_NO_OUTPUTS = (IfElseNode, AssignerNode, LoopEndNode)


class Emitter:
    def __init__(self, plan: Plan, target: CompileTarget, variant: str = "normal") -> None:
        self.plan = plan
        self.target = target
        # normal | step (a pause after every work node) | resume (see compile.py)
        self.variant = variant
        self.homes: dict[str, AslScope] = {}
        self.iterations = frozenset(
            node_id for node_id, kind in plan.scopes.containers.items() if kind == "iteration"
        )
        self._scope_count = 0
        # Every scope laid out but the top level's, in the order they began.
        self.scopes: list[AslScope] = []
        # Run once everything is laid out: branch outputs and declarations depend on what reads
        # what, which is only known at the end.
        self._finishers: list[Callable[[], None]] = []

    def new_scope(self, kind: str, parent: AslScope | None, **fields: Any) -> AslScope:
        self._scope_count += 1
        scope = AslScope(key=f"s{self._scope_count}", kind=kind, parent=parent, **fields)
        self.scopes.append(scope)
        return scope

    def context(self, scope: AslScope, variables: Variables | None = None) -> Context:
        variables = variables or Variables(scope, self.homes, self.iterations)
        return Context(self.plan, self.target, scope, variables, self)

    def on_finish(self, finisher: Callable[[], None]) -> None:
        self._finishers.append(finisher)

    def finish(self) -> None:
        for finisher in self._finishers:
            finisher()

    # -- blocks ------------------------------------------------------------------------------

    def entry_of(self, item: NodeItem | ParallelItem) -> str:
        if isinstance(item, ParallelItem):
            return parallel.state_name(item)
        step = self.plan.steps[item.node_id]
        return step.guard_state_name if step.guard else step.state_name

    def block(
        self,
        block: Block,
        ctx: Context,
        after: str,
        *,
        first_variables: Variables | None = None,
    ) -> States:
        """The states of a block, ending at `after`. `first_variables`: how the block's first
        state reads variables, when it differs from the rest (the first state of an item)."""
        entries = [self.entry_of(item) for item in block.items] + [after]
        states: States = {}
        for position, item in enumerate(block.items):
            next_state = entries[position + 1]
            item_ctx = ctx
            if position == 0 and first_variables is not None:
                item_ctx = ctx.at(ctx.scope, first_variables)
            if isinstance(item, ParallelItem):
                states.update(parallel.lower_parallel(item, item_ctx, next_state))
                continue
            step = self.plan.steps[item.node_id]
            self.homes[step.node.id] = ctx.scope
            self._declare(step, ctx.scope)
            if step.guard:
                skip_to = entries[self._first_not_skipped(block, position)]
                states.update(guard.lower_guard(step, item_ctx, skip_to))
            states.update(self.node(step, item_ctx, next_state))
        return states

    def _declare(self, step: Step, scope: AslScope) -> None:
        node = step.node
        if not isinstance(node, _NO_OUTPUTS):
            scope.declared[outputs_name(node.id)] = None
        if step.records_handle:
            scope.declared[handle_name(node.id)] = None

    def _first_not_skipped(self, block: Block, position: int) -> int:
        """Where a guard that skips block.items[position] goes: past the node items right after
        it that can only be reached through skipped nodes (a skipped branch is left in one jump;
        every skipped node's variables simply stay null)."""
        first = block.items[position]
        assert isinstance(first, NodeItem)
        skipped = {first.node_id}
        following = position + 1
        while following < len(block.items):
            item = block.items[following]
            if not isinstance(item, NodeItem):
                break
            sources = self.plan.sources[item.node_id]
            if not sources or not sources <= skipped:
                break
            skipped.add(item.node_id)
            following += 1
        return following

    # -- nodes -------------------------------------------------------------------------------

    def node(self, step: Step, ctx: Context, next_state: str) -> States:
        node: Node = step.node
        if isinstance(node, IfElseNode):
            return if_else.lower_if_else(step, ctx, next_state)
        if isinstance(node, EndNode):
            return end.lower_end(step, ctx, next_state)
        if isinstance(node, VariableAggregatorNode):
            return aggregator.lower_aggregator(step, ctx, next_state)
        if isinstance(node, AssignerNode):
            return assigner.lower_assigner(step, ctx, next_state)
        if isinstance(node, ListOperatorNode):
            return list_operator.lower_list_operator(step, ctx, next_state)
        if isinstance(node, LoopEndNode):
            return {
                step.state_name: {
                    "Type": "Pass",
                    "Assign": {handle_name(node.id): "source"},
                    "Next": next_state,
                }
            }
        if isinstance(node, IterationNode):
            return iteration.lower_iteration(step, ctx, next_state)
        if isinstance(node, LoopNode):
            return loop.lower_loop(step, ctx, next_state)
        if isinstance(node, HumanInputNode):
            return human_input.lower_human_input(step, ctx, next_state)
        if node.runs_in_node_function:
            return self._work(step, ctx, next_state)
        raise TypeError(f"no lowering for node type {node.type}")

    def _work(self, step: Step, ctx: Context, next_state: str) -> States:
        """A work node's Task, then the wait on a person its review (or step mode) asks for.
        Inside an iteration or loop the wait is per item and round (its payload says which)."""
        node = step.node
        # The wait is never a scope's first state: it reads the item from `$i_<iteration>`.
        after = ctx.at(ctx.scope)
        if node.reviewed:
            review.declare_review(step, ctx)
            states = work.lower_work(
                step,
                ctx,
                review.review_state_name(node.id),
                extra=review.rerun_fields(node.id),
            )
            states.update(review.lower_review(step, after, next_state))
            return states
        if self.variant == "step":
            states = work.lower_work(step, ctx, review.step_state_name(node.id))
            states.update(review.lower_step(step, after, next_state))
            return states
        return work.lower_work(step, ctx, next_state)
