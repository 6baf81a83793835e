"""Request and response bodies of the human-in-the-loop routes (reviews, variables, cancel,
retry, single-node runs): part of what /openapi.json describes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from signoff.reviews.debug import DebugRun
from signoff.reviews.forms import HumanInputForm
from signoff.store.reviews import ReviewRecord


class IndexStepView(BaseModel):
    container_id: str
    index: int


class PlaceInBody(BaseModel):
    """Where a node's attempt or wait ran when the node is inside iterations or loops (null at
    the top level): each item's and round's run of the node is one of its own."""

    container_id: str | None = Field(
        default=None,
        description="Inside an iteration or loop: the innermost container around the node.",
    )
    item_index: int | None = Field(
        default=None,
        description="Inside an iteration: the item (0-based) of the innermost iteration.",
    )
    loop_index: int | None = Field(
        default=None,
        description="Inside a loop: the round (0-based) of the innermost loop.",
    )
    index_path: list[IndexStepView] | None = Field(
        default=None,
        description="Every container around the node, outermost first, with the index of its "
        "item or round (nested containers).",
    )


class ReviewView(PlaceInBody):
    """A wait of a run on a person. The task token it holds is never shown."""

    review_id: str
    run_id: str
    node_id: str
    node_type: str
    node_title: str
    round: int = Field(description="1 for the first review of the node's output, +1 per revise.")
    kind: Literal["review", "step", "human-input"]
    status: Literal[
        "pending",
        "approved",
        "revised",
        "edited",
        "submitted",
        "timed_out",
        "cancelled",
        "expired",
    ]
    outputs: dict[str, Any] | None = Field(description="The node's outputs, as shown for review.")
    settings: dict[str, Any] = Field(
        description="The node's review settings, or the human-input form."
    )
    decision: Literal["approve", "revise", "edit", "submit"] | None = None
    feedback: str | None = None
    edited_outputs: dict[str, Any] | None = None
    action_id: str | None = None
    inputs: dict[str, Any] | None = None
    patch: dict[str, Any] | None = Field(
        default=None, description="Variable edits sent to the run with this decision."
    )
    decided_by: str | None = Field(default=None, description="The API key id that decided.")
    decided_at: str | None = None
    created_at: str
    expires_at: str | None = None
    form_token: str | None = Field(
        default=None,
        description="A human-input form's token (GET/POST /forms/{form_token}); shown to API "
        "keys, not to tokens.",
    )

    @model_serializer(mode="wrap")
    def _without_absent_form_token(self, handler: SerializerFunctionWrapHandler):
        # No return annotation: the JSON schema stays the model's own.
        # Only a human-input review shown to a key carries one; the others leave the key out.
        data = handler(self)
        if isinstance(data, dict) and data.get("form_token") is None:
            data.pop("form_token", None)
        return data

    @classmethod
    def of(cls, review: ReviewRecord, *, show_form_token: bool = False) -> ReviewView:
        hidden = {"task_token"} if show_form_token else {"task_token", "form_token"}
        return cls.model_validate(review.model_dump(mode="json", exclude=hidden))


class FormView(BaseModel):
    """A human-input form, as GET/POST /forms/{form_token} answer it."""

    form_token: str
    workflow_id: str
    run_id: str
    review_id: str
    node_id: str
    node_title: str
    status: Literal["pending", "submitted", "timed_out", "cancelled", "expired"]
    form_content: str = Field(description="Markdown, the run's variables resolved in it.")
    inputs: list[dict[str, Any]] = Field(
        description="[{type, output_variable_name, default {type, selector, value}, ...}]"
    )
    user_actions: list[dict[str, Any]] = Field(description="[{id, title, button_style}]")
    resolved_default_values: dict[str, str]
    created_at: str
    expires_at: str | None = None
    expiration_time: int | None = Field(default=None, description="expires_at, Unix seconds.")
    action_id: str | None = None
    submitted_inputs: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_at: str | None = None

    @classmethod
    def of(cls, form: HumanInputForm) -> FormView:
        attributes = form.to_dict()
        attributes.pop("tenant_id", None)
        return cls.model_validate(attributes)


class FormSubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action_id: str = Field(min_length=1, description="The user action (button) pressed.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The form's values.")
    user: str | None = Field(
        default=None, max_length=200, description="Who submits; the key's id when absent."
    )


class ReviewList(BaseModel):
    data: list[ReviewView]


class ReviewDecisionBody(BaseModel):
    """approve | revise (+feedback) | edit (+outputs) | submit (+action_id, inputs); or the
    seed's {satisfied, feedback}: satisfied is approve, not satisfied is revise."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "revise", "edit", "submit"] | None = None
    satisfied: bool | None = None
    feedback: str | None = Field(default=None, description="What should change (revise).")
    outputs: dict[str, Any] | None = Field(default=None, description="The edited outputs (edit).")
    action_id: str | None = Field(default=None, description="The user action (human-input).")
    inputs: dict[str, Any] | None = Field(default=None, description="Form values (human-input).")


class NodeConfirmationBody(BaseModel):
    """The seed's confirmation: decide the pending review of a node of a run."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1)
    node_id: str = Field(min_length=1)
    satisfied: bool
    feedback: str | None = None
    workflow_id: str | None = Field(
        default=None, description="Accepted for the seed's clients; the run names its workflow."
    )


class VariableEdit(BaseModel):
    node_id: str
    outputs: dict[str, Any]
    by: str = Field(description="The API key id that made the edit.")
    at: str


class ItemOutputsView(BaseModel):
    """A node's outputs in one item or round of the iterations and loops around it."""

    index_path: list[IndexStepView] = Field(
        description="Every container around the node, outermost first, with the index "
        "(0-based) of this item or round."
    )
    outputs: dict[str, Any] | None
    pending: bool = Field(
        default=False,
        description="An edit of this item not sent yet is applied (pending_patch "
        "`<node>@<indexes>`).",
    )


class RunVariablesView(BaseModel):
    run_id: str
    status: str
    variables: dict[str, dict[str, Any] | None] = Field(
        description="Every node's latest outputs, with the pending edits applied (a node "
        "inside iterations and loops: the item that ran last; its per-item values are in "
        "`items`)."
    )
    items: dict[str, list[ItemOutputsView]] = Field(
        default_factory=dict,
        description="Nodes inside iterations and loops: node id -> its outputs in each item "
        "and round, in index order, with the pending item edits applied.",
    )
    pending_patch: dict[str, Any] = Field(
        description="Edits not sent yet: they go with the next decision."
    )
    edits: list[VariableEdit] = Field(description="Every edit made, who made it and when.")


class RetryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_node_id: str = Field(min_length=1, description="The node the new run begins at.")
    variables: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="Changes to the outputs of nodes before it: {node id: {name: value}}.",
    )


class RetryAccepted(BaseModel):
    run_id: str
    status: str
    retry_of: str


class NodeRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="The variable values the node reads: {node id: {name: value}} or "
        '{"#node_id.name#": value}.',
    )
    user: str | None = Field(default=None, description="sys.user for this run.")


class NodeRunError(BaseModel):
    type: str
    message: str


class DebugRunView(BaseModel):
    debug_run_id: str
    workflow_id: str
    node_id: str
    node_type: str
    status: str
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: NodeRunError | None = None
    started_at: str
    finished_at: str | None = None
    elapsed_ms: int | None = None
    attempts: int

    @classmethod
    def of(cls, run: DebugRun) -> DebugRunView:
        return cls.model_validate(run.__dict__)


class DebugRunList(BaseModel):
    data: list[DebugRunView]
