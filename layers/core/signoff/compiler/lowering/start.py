"""start -> the `Init` Pass: the run context, the counters, and the top level's variables.

In the "resume" variant (a retry from a node), the execution input also carries `resume`:
`{from_node_id, variables: {node id: outputs}, taken: {node id: handle}}`. Init then takes every
given top-level node's outputs and handle, and a Choice jumps to the state that runs
`from_node_id` (the node itself, or the Parallel, iteration or loop holding it).
"""

from __future__ import annotations

from typing import Any

from signoff.compiler import jsonata
from signoff.compiler.lowering.common import EMPTY_USAGE, INIT
from signoff.compiler.variables import AslScope, handle_name, outputs_name
from signoff.graph.model import Workflow
from signoff.graph.selectors import CONVERSATION, ENV

RESUME = "Resume at node"
_RESUME_INPUT = "$states.input.resume"
_RUN_INPUT = "$states.input.run"


def run_expression(workflow: Workflow) -> str:
    """`$run`: the execution input's run context, plus the workflow's `env` and `conversation`
    variables when it declares any.

    `env` holds the environment variables' values; a secret one holds only a placeholder naming
    it, which the node function resolves (nodes/secrets.py; validation keeps native states from
    reading one). `conversation` starts from each conversation variable's value, overridden by
    the run context's own `conversation` (the session's state, runs/service.py) for the names
    the workflow declares; assigners change it (assigner.py) and the settle function saves what
    it holds at the end to the run's session.
    """
    if not workflow.environment_variables and not workflow.conversation_variables:
        return _RUN_INPUT
    env = workflow.env_values()
    defaults = workflow.conversation_defaults()
    given = f"{_RUN_INPUT}.{CONVERSATION}"
    names = jsonata.literal(list(defaults))
    declared_given = f"$sift({given}, function($v, $k) {{ $k in {names} }})"
    conversation = f"$merge([{jsonata.literal(defaults)}, {declared_given}])"
    extra = f"{jsonata.literal(ENV)}: {jsonata.literal(env)}, {jsonata.literal(CONVERSATION)}: "
    return f"$merge([{_RUN_INPUT}, {{{extra}{conversation}}}])"


def lower_init(
    scope: AslScope,
    start_id: str,
    next_state: str,
    *,
    resumable: dict[str, AslScope] | None = None,
    branch_scopes: list[AslScope] | None = None,
    run: str = _RUN_INPUT,
) -> dict[str, dict[str, Any]]:
    """`resumable`: in the resume variant, the node homes; Init then takes the given variables
    of the nodes whose home is the top level or a branch of a top-level Parallel
    (`branch_scopes`). `run`: the expression `$run` is (`run_expression`)."""
    inputs = "$states.input.inputs"
    if resumable is not None:
        given = f"{_RESUME_INPUT}.variables.{jsonata.field_name(start_id)}"
        inputs = f"$exists({given}) ? {given} : {inputs}"
    assign: dict[str, Any] = {
        "run": jsonata.template(run),
        "exceptions": 0,
        "usage": dict(EMPTY_USAGE),
        outputs_name(start_id): jsonata.template(inputs),
    }
    assign.update(scope.declared)
    if resumable is None:
        return {INIT: {"Type": "Pass", "Assign": assign, "Next": next_state}}
    for node_id, home in resumable.items():
        if home is scope and node_id != start_id:
            for name, value in _given(node_id).items():
                if name in scope.declared:
                    assign[name] = jsonata.template(value)
    # What the top level reads of a Parallel's branches, `$p_<first node>`, made of the given
    # variables (a Parallel the resumed run goes through assigns it again).
    branches: dict[str, list[str]] = {}
    for branch in branch_scopes or []:
        if branch.parent is not scope or branch.parallel_variable is None:
            continue
        fields = {
            name: value
            for node_id, home in resumable.items()
            if home is branch
            for name, value in _given(node_id).items()
            if name in branch.exports
        }
        exported = ", ".join(f"{jsonata.literal(name)}: {value}" for name, value in fields.items())
        branches.setdefault(branch.parallel_variable, []).append("{" + exported + "}")
    for variable, objects in branches.items():
        assign[variable] = jsonata.template("[" + ", ".join(objects) + "]")
    return {INIT: {"Type": "Pass", "Assign": assign, "Next": next_state}}


def _given(node_id: str) -> dict[str, str]:
    """A node's variables as the resume input gives them (null when it does not)."""
    found = {}
    for name, part in ((outputs_name(node_id), "variables"), (handle_name(node_id), "taken")):
        value = f"{_RESUME_INPUT}.{part}.{jsonata.field_name(node_id)}"
        found[name] = f"($exists({value}) ? {value} : null)"
    return found


def lower_resume_dispatch(entries: list[tuple[list[str], str]], first: str) -> dict[str, Any]:
    """The Choice after Init jumping to the state that runs the node to resume from.
    `entries`: (the node ids a state runs, that state)."""
    choices = [
        {
            "Condition": jsonata.template(
                f"{_RESUME_INPUT}.from_node_id in {jsonata.literal(node_ids)}"
            ),
            "Next": state,
        }
        for node_ids, state in entries
    ]
    if not choices:
        return {RESUME: {"Type": "Pass", "Next": first}}
    return {RESUME: {"Type": "Choice", "Choices": choices, "Default": first}}
