"""The workflow graph: pydantic models of the native format (docs/workflow-format.md).

The vocabulary is Dify's (node types, selectors, edge handles), flattened: a node's fields sit on
the node itself. These models check the shape of one node or edge; whole-graph rules (edges point
at nodes, selectors name upstream outputs, no cycles...) live in `signoff.graph.validation`.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

InputType = Literal["string", "paragraph", "select", "number", "boolean", "object", "array"]
OutputType = Literal[
    "string",
    "number",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[boolean]",
]
ComparisonOperator = Literal[
    "contains",
    "not contains",
    "start with",
    "end with",
    "is",
    "is not",
    "empty",
    "not empty",
    "=",
    "≠",
    ">",
    "<",
    "≥",
    "≤",
]
COMPARISON_OPERATORS: tuple[str, ...] = ComparisonOperator.__args__

# The handle an edge leaves a non-branching node by, and an if-else node's "no case matched" handle.
SOURCE_HANDLE = "source"
TARGET_HANDLE = "target"
ELSE_HANDLE = "false"

# A selector: [node_id, variable, *attribute path]; or [sys, user | run_id | workflow_id].
Selector = Annotated[list[str], Field(min_length=2)]


class _Model(BaseModel):
    # YAML reads an unquoted Dify-style id (1711528914102) as a number: take it as the text it is.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


def _check_identifier(name: str, what: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{what} {name!r} must be an identifier (letters, digits and _)")
    return name


class Position(_Model):
    x: float
    y: float


class InputVariable(_Model):
    """One run input: the start node's outputs, checked by `validate_inputs` before a run."""

    variable: str
    type: InputType = "string"
    required: bool = False
    default: Any = None
    label: str | None = None
    max_length: int | None = Field(default=None, ge=1)
    options: list[str] = Field(default_factory=list)

    @field_validator("variable")
    @classmethod
    def _variable_is_identifier(cls, value: str) -> str:
        return _check_identifier(value, "input variable")

    @model_validator(mode="after")
    def _options_and_lengths_fit_the_type(self) -> InputVariable:
        if self.type == "select" and not self.options:
            raise ValueError("a select input needs options")
        if self.options and self.type != "select":
            raise ValueError("options are for select inputs only")
        if self.max_length is not None and self.type not in ("string", "paragraph"):
            raise ValueError("max_length is for string and paragraph inputs only")
        return self


class VariableSelector(_Model):
    """`{variable, value_selector}`: a named value taken from another node's outputs."""

    variable: str
    value_selector: Selector


class _NodeBase(_Model):
    # Whether the node does its work in the node function, which records each execution of it
    # (logic nodes compile to native states and leave no execution record).
    runs_in_node_function: ClassVar[bool] = False

    id: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    position: Position | None = None

    @model_validator(mode="after")
    def _title_defaults_to_id(self) -> _NodeBase:
        if not self.title:
            self.title = self.id
        return self

    def config(self) -> dict[str, Any]:
        """The node's type-specific fields: what the node function needs besides id/type/title."""
        return self.model_dump(
            mode="json", exclude={"id", "type", "title", "position", "description"}
        )

    def selectors(self) -> list[list[str]]:
        """Every variable selector this node reads (not counting `{{#...#}}` text references)."""
        return []

    def texts(self) -> list[str]:
        """The text fields of this node that may hold `{{#node.var#}}` references."""
        return []


def _check_variable_names(variables: list[VariableSelector], what: str) -> None:
    seen: set[str] = set()
    for entry in variables:
        _check_identifier(entry.variable, what)
        if entry.variable in seen:
            raise ValueError(f"{what} {entry.variable!r} is declared twice")
        seen.add(entry.variable)


class StartNode(_NodeBase):
    """The entry point; its outputs are the workflow's inputs."""

    type: Literal["start"] = "start"


class EndNode(_NodeBase):
    """Collects the run's outputs (the union over every end node reached)."""

    type: Literal["end"] = "end"
    outputs: list[VariableSelector] = Field(default_factory=list)

    @field_validator("outputs")
    @classmethod
    def _unique_output_names(cls, outputs: list[VariableSelector]) -> list[VariableSelector]:
        names = [entry.variable for entry in outputs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"output {duplicates[0]!r} is declared twice")
        return outputs

    def selectors(self) -> list[list[str]]:
        return [entry.value_selector for entry in self.outputs]


class CodeOutput(_Model):
    type: OutputType
    children: dict[str, Any] | None = None


class CodeNode(_NodeBase):
    """Runs `main(**variables)` in the sandbox; its result must match the declared outputs."""

    runs_in_node_function: ClassVar[bool] = True

    type: Literal["code"] = "code"
    code_language: Literal["python3"] = "python3"
    code: str = Field(min_length=1)
    variables: list[VariableSelector] = Field(default_factory=list)
    outputs: dict[str, CodeOutput] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _arguments_are_identifiers(
        cls, variables: list[VariableSelector]
    ) -> list[VariableSelector]:
        _check_variable_names(variables, "argument")
        return variables

    def selectors(self) -> list[list[str]]:
        return [entry.value_selector for entry in self.variables]


class TemplateTransformNode(_NodeBase):
    """Renders a sandboxed Jinja2 template; its one output is `output` (a string)."""

    runs_in_node_function: ClassVar[bool] = True

    type: Literal["template-transform"] = "template-transform"
    template: str
    variables: list[VariableSelector] = Field(default_factory=list)

    @field_validator("variables")
    @classmethod
    def _names_are_identifiers(cls, variables: list[VariableSelector]) -> list[VariableSelector]:
        _check_variable_names(variables, "template variable")
        return variables

    def selectors(self) -> list[list[str]]:
        return [entry.value_selector for entry in self.variables]


class Condition(_Model):
    variable_selector: Selector
    comparison_operator: ComparisonOperator
    # Text may hold `{{#node.var#}}` references; numeric operators convert it to a number.
    value: str | int | float | bool | list[str] | None = ""


class Case(_Model):
    case_id: str = Field(min_length=1)
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(min_length=1)


class IfElseNode(_NodeBase):
    """Takes the handle of its first true case, else the `false` handle."""

    type: Literal["if-else"] = "if-else"
    cases: list[Case] = Field(min_length=1)

    @field_validator("cases")
    @classmethod
    def _case_ids_are_distinct_handles(cls, cases: list[Case]) -> list[Case]:
        seen: set[str] = set()
        for case in cases:
            if case.case_id == ELSE_HANDLE:
                raise ValueError(f"case id {ELSE_HANDLE!r} is reserved for the else handle")
            if case.case_id in seen:
                raise ValueError(f"case id {case.case_id!r} is used twice")
            seen.add(case.case_id)
        return cases

    @property
    def handles(self) -> list[str]:
        """Every handle this node may take, in evaluation order."""
        return [case.case_id for case in self.cases] + [ELSE_HANDLE]

    def selectors(self) -> list[list[str]]:
        return [cond.variable_selector for case in self.cases for cond in case.conditions]

    def texts(self) -> list[str]:
        return [
            cond.value
            for case in self.cases
            for cond in case.conditions
            if isinstance(cond.value, str)
        ]


Node = Annotated[
    StartNode | EndNode | CodeNode | TemplateTransformNode | IfElseNode,
    Field(discriminator="type"),
]
NODE_TYPES: dict[str, type[_NodeBase]] = {
    "start": StartNode,
    "end": EndNode,
    "code": CodeNode,
    "template-transform": TemplateTransformNode,
    "if-else": IfElseNode,
}
BRANCHING_NODE_TYPES = frozenset({"if-else"})

_node_adapter: TypeAdapter[Node] = TypeAdapter(Node)


def parse_node(data: dict[str, Any]) -> Node:
    """One node from its document form; raises pydantic's ValidationError when it does not fit."""
    return _node_adapter.validate_python(data)


class Edge(_Model):
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    source_handle: str = Field(default=SOURCE_HANDLE, alias="sourceHandle")
    target_handle: str = Field(default=TARGET_HANDLE, alias="targetHandle")
    id: str | None = None

    @property
    def label(self) -> str:
        """How issues and messages name this edge: its id, else source[handle] -> target."""
        if self.id:
            return self.id
        handle = "" if self.source_handle == SOURCE_HANDLE else f"[{self.source_handle}]"
        return f"{self.source}{handle} -> {self.target}"


class Workflow(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    inputs: list[InputVariable] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> Node:
        """The node with this id (the first one, should ids repeat); KeyError when there is none."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def nodes_by_id(self) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        for node in self.nodes:
            nodes.setdefault(node.id, node)
        return nodes
