"""The workflow graph: pydantic models of the native format (docs/workflow-format.md).

The vocabulary is Dify's (node types, selectors, edge handles), flattened: a node's fields sit on
the node itself. These models check the shape of one node or edge; whole-graph rules (edges point
at nodes, selectors name upstream outputs, no cycles...) live in `signoff.graph.validation`.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from signoff.graph.selectors import secret_placeholder

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


ErrorStrategy = Literal["default-value", "fail-branch"]
DefaultValueType = Literal[
    "string",
    "number",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[boolean]",
    "array[file]",
]
# The handles a node with error_strategy fail-branch leaves by (Dify's names). An edge may also
# spell the success handle `source`, as drawn before the strategy was chosen.
SUCCESS_BRANCH_HANDLE = "success-branch"
FAIL_BRANCH_HANDLE = "fail-branch"
# The outputs a node whose error strategy handled a failure reports (besides default values).
ERROR_OUTPUTS = ("error_type", "error_message")
# Dify's retry bounds: 1-10 retries, 100-5000 ms apart.
MAX_RETRIES_RANGE = (1, 10)
RETRY_INTERVAL_MS_RANGE = (100, 5000)


class DefaultValue(_Model):
    """An output value a node reports when it failed and its error strategy is default-value."""

    key: str = Field(min_length=1)
    type: DefaultValueType
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_the_type(self) -> DefaultValue:
        if self.value is not None and not value_fits_type(self.value, self.type):
            raise ValueError(f"default value of {self.key!r} is not of type {self.type}")
        return self


class RetryConfig(_Model):
    """Retries of a failed node, inside the node function: `max_retries` more attempts, each
    `retry_interval` milliseconds after the last one failed."""

    retry_enabled: bool = False
    max_retries: int = 0
    retry_interval: int = 0  # milliseconds

    @model_validator(mode="after")
    def _bounds_when_enabled(self) -> RetryConfig:
        if self.retry_enabled:
            low, high = MAX_RETRIES_RANGE
            if not low <= self.max_retries <= high:
                raise ValueError(f"max_retries must be {low} to {high}, not {self.max_retries}")
            low, high = RETRY_INTERVAL_MS_RANGE
            if not low <= self.retry_interval <= high:
                raise ValueError(
                    f"retry_interval must be {low} to {high} ms, not {self.retry_interval}"
                )
        return self


# Bounds of a review's rounds (a revise sends the node back for another round).
REVIEW_ROUNDS_RANGE = (1, 10)


class ReviewSettings(_Model):
    """A person reviews the node's outputs after it runs: approve, edit them, or send them back
    with feedback (revise) for another round, at most `max_rounds` rounds. `timeout` (seconds)
    is enforced by Step Functions; then `on_timeout` decides: approve (go on), reject (the node
    fails), fail (the run fails) or default (go on with the node's default values)."""

    enabled: bool = True
    max_rounds: int = Field(default=3, ge=REVIEW_ROUNDS_RANGE[0], le=REVIEW_ROUNDS_RANGE[1])
    timeout: int | None = Field(default=None, ge=1)
    on_timeout: Literal["approve", "reject", "fail", "default"] = "approve"
    on_max_rounds: Literal["approve", "fail"] = "approve"


def value_fits_type(value: Any, type_name: str) -> bool:
    """Whether a JSON value is of a declared output type (numbers exclude booleans)."""
    scalar = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "file": lambda v: isinstance(v, dict),
    }
    if type_name.startswith("array[") and type_name.endswith("]"):
        item_type = type_name[6:-1].removesuffix("s")  # Dify also spells array[files]
        check = scalar.get(item_type)
        return isinstance(value, list) and (check is None or all(check(v) for v in value))
    check = scalar.get(type_name)
    return check is None or check(value)


class _NodeBase(_Model):
    # Whether the node does its work in the node function, which records each execution of it
    # (logic nodes compile to native states and leave no execution record).
    runs_in_node_function: ClassVar[bool] = False
    # Whether the node may fail at run time, so error_strategy and retry_config mean something.
    can_fail: ClassVar[bool] = False

    id: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    position: Position | None = None
    # The iteration or loop node this node sits in (Dify: `parentId`, and `iteration_id` or
    # `loop_id` in its data); None at the workflow's top level.
    parent_id: str | None = None
    error_strategy: ErrorStrategy | None = None
    default_value: list[DefaultValue] = Field(default_factory=list)
    retry_config: RetryConfig | None = None
    # A person reviews the node's outputs after it runs (nodes run by the node function only).
    review: ReviewSettings | None = None

    @model_validator(mode="after")
    def _title_defaults_to_id(self) -> _NodeBase:
        if not self.title:
            self.title = self.id
        return self

    @field_validator("default_value")
    @classmethod
    def _default_keys_are_distinct(cls, entries: list[DefaultValue]) -> list[DefaultValue]:
        keys = [entry.key for entry in entries]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"default_value key {duplicates[0]!r} is given twice")
        return entries

    def config(self) -> dict[str, Any]:
        """The node's type-specific fields and its error settings: what the node function needs
        besides id/type/title (settings left unset are left out)."""
        config = self.model_dump(
            mode="json",
            exclude={"id", "type", "title", "position", "description", "parent_id", "review"},
        )
        for name, unset in (
            ("error_strategy", None),
            ("default_value", []),
            ("retry_config", None),
        ):
            if config.get(name) == unset:
                config.pop(name, None)
        return config

    @property
    def reviewed(self) -> bool:
        """Whether a person reviews this node's outputs after it runs."""
        return self.review is not None and self.review.enabled

    @property
    def retries(self) -> bool:
        return self.retry_config is not None and self.retry_config.retry_enabled

    @property
    def branch_handles(self) -> list[str]:
        """The handles the node's own logic picks from (one, `source`, for most nodes)."""
        return [SOURCE_HANDLE]

    @property
    def handles(self) -> list[str]:
        """Every handle this node may leave by, in order: its branch handles, then with
        error_strategy fail-branch, `fail-branch` (`success-branch` standing for `source`)."""
        if self.error_strategy != "fail-branch":
            return self.branch_handles
        branches = self.branch_handles
        success = [SUCCESS_BRANCH_HANDLE] if branches == [SOURCE_HANDLE] else branches
        return [*success, FAIL_BRANCH_HANDLE]

    def edge_handle(self, handle: str) -> str:
        """The handle an edge leaving by `handle` stands for, as the node reports it at run time
        (`source` on a fail-branch node's success edge means `success-branch`)."""
        if handle == SOURCE_HANDLE and SUCCESS_BRANCH_HANDLE in self.handles:
            return SUCCESS_BRANCH_HANDLE
        return handle

    def output_names(self) -> set[str] | None:
        """The output names other nodes may select (None: any name, the node cannot say)."""
        return set()

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
    can_fail: ClassVar[bool] = True

    type: Literal["code"] = "code"
    code_language: Literal["python3", "javascript"] = "python3"
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

    def output_names(self) -> set[str] | None:
        return set(self.outputs)

    def selectors(self) -> list[list[str]]:
        return [entry.value_selector for entry in self.variables]


class TemplateTransformNode(_NodeBase):
    """Renders a sandboxed Jinja2 template; its one output is `output` (a string)."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["template-transform"] = "template-transform"
    template: str
    variables: list[VariableSelector] = Field(default_factory=list)

    @field_validator("variables")
    @classmethod
    def _names_are_identifiers(cls, variables: list[VariableSelector]) -> list[VariableSelector]:
        _check_variable_names(variables, "template variable")
        return variables

    def output_names(self) -> set[str] | None:
        return {"output"}

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
    def branch_handles(self) -> list[str]:
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


# --- Model-backed nodes (llm, parameter-extractor, question-classifier) -----------------------


class _Open(BaseModel):
    # Settings Dify keeps growing (memory, vision, retrieval tuning...): known fields are typed,
    # newer ones are kept as they come rather than refused.
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class ModelConfig(_Open):
    """The chat model a node calls: a provider of the deployment's configuration and a model."""

    provider: str = Field(min_length=1)
    name: str = Field(min_length=1)
    mode: Literal["chat", "completion"] = "chat"
    completion_params: dict[str, Any] = Field(default_factory=dict)


class PromptMessage(_Model):
    """One message of a chat prompt; `text` may hold `{{#node.var#}}` references, or, with
    edition_type jinja2, `jinja2_text` is a Jinja2 template over prompt_config.jinja2_variables."""

    role: Literal["system", "user", "assistant"]
    text: str = ""
    id: str | None = None
    edition_type: Literal["basic", "jinja2"] | None = None
    jinja2_text: str | None = None


class CompletionPrompt(_Model):
    """The prompt of a completion-mode model: one text."""

    text: str = ""
    edition_type: Literal["basic", "jinja2"] | None = None
    jinja2_text: str | None = None


class PromptConfig(_Model):
    jinja2_variables: list[VariableSelector] = Field(default_factory=list)


class ContextConfig(_Model):
    """Retrieved knowledge (or any value) the prompt may quote as `{{#context#}}`."""

    enabled: bool = False
    # Dify exports an empty selector while the context is disabled.
    variable_selector: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _selector_when_enabled(self) -> ContextConfig:
        if self.enabled and len(self.variable_selector) < 2:
            raise ValueError("an enabled context needs a variable_selector [node_id, variable]")
        return self


class VisionSettings(_Open):
    variable_selector: list[str] = Field(default_factory=list)
    detail: Literal["low", "high"] = "high"


class VisionConfig(_Model):
    enabled: bool = False
    configs: VisionSettings | None = None


class MemoryWindow(_Model):
    enabled: bool = False
    size: int | None = Field(default=None, ge=1)


class MemoryConfig(_Open):
    """Conversation memory (chat mode apps); kept for imports, unused by workflow runs."""

    window: MemoryWindow = Field(default_factory=MemoryWindow)
    query_prompt_template: str | None = None
    role_prefix: dict[str, str] | None = None


def _vision_selectors(vision: VisionConfig | None) -> list[list[str]]:
    if vision and vision.enabled and vision.configs and vision.configs.variable_selector:
        return [list(vision.configs.variable_selector)]
    return []


class LlmNode(_NodeBase):
    """Calls a chat model with the rendered prompt; outputs `text` (and reasoning, usage)."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["llm"] = "llm"
    model: ModelConfig
    prompt_template: list[PromptMessage] | CompletionPrompt = Field(default_factory=list)
    prompt_config: PromptConfig | None = None
    context: ContextConfig = Field(default_factory=ContextConfig)
    vision: VisionConfig = Field(default_factory=VisionConfig)
    memory: MemoryConfig | None = None
    structured_output_enabled: bool = False
    structured_output: dict[str, Any] | None = None
    reasoning_format: Literal["tagged", "separated"] | None = None

    @property
    def messages(self) -> list[PromptMessage | CompletionPrompt]:
        prompt = self.prompt_template
        return list(prompt) if isinstance(prompt, list) else [prompt]

    def output_names(self) -> set[str] | None:
        names = {"text", "reasoning_content", "usage"}
        if self.structured_output_enabled:
            names.add("structured_output")
        return names

    def selectors(self) -> list[list[str]]:
        found: list[list[str]] = []
        if self.context.enabled and self.context.variable_selector:
            found.append(self.context.variable_selector)
        found += _vision_selectors(self.vision)
        if self.prompt_config:
            found += [entry.value_selector for entry in self.prompt_config.jinja2_variables]
        return found

    def texts(self) -> list[str]:
        texts = [m.text for m in self.messages if m.edition_type != "jinja2"]
        if self.memory and self.memory.query_prompt_template:
            texts.append(self.memory.query_prompt_template)
        return texts


class ClassifierClass(_Model):
    """One class of a question-classifier; its id is the handle taken when it is chosen."""

    id: str = Field(min_length=1)
    name: str = ""


class QuestionClassifierNode(_NodeBase):
    """Asks the model which class the query belongs to and leaves by that class's handle."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["question-classifier"] = "question-classifier"
    query_variable_selector: Selector
    model: ModelConfig
    classes: list[ClassifierClass] = Field(min_length=1)
    instruction: str = ""
    memory: MemoryConfig | None = None
    vision: VisionConfig = Field(default_factory=VisionConfig)

    @field_validator("classes")
    @classmethod
    def _class_ids_are_distinct(cls, classes: list[ClassifierClass]) -> list[ClassifierClass]:
        ids = [entry.id for entry in classes]
        duplicates = sorted({class_id for class_id in ids if ids.count(class_id) > 1})
        if duplicates:
            raise ValueError(f"class id {duplicates[0]!r} is used twice")
        reserved = {FAIL_BRANCH_HANDLE, SUCCESS_BRANCH_HANDLE} & set(ids)
        if reserved:
            raise ValueError(f"class id {sorted(reserved)[0]!r} is reserved")
        return classes

    @property
    def branch_handles(self) -> list[str]:
        return [entry.id for entry in self.classes]

    def output_names(self) -> set[str] | None:
        return {"class_name", "class_id", "usage"}

    def selectors(self) -> list[list[str]]:
        return [self.query_variable_selector, *_vision_selectors(self.vision)]

    def texts(self) -> list[str]:
        return [self.instruction]


ParameterType = Literal[
    "string",
    "number",
    "bool",
    "boolean",
    "select",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[bool]",
    "array[boolean]",
]
# Outputs a parameter-extractor reports besides its parameters.
PARAMETER_EXTRACTOR_OUTPUTS = ("__is_success", "__reason", "__usage")


class ExtractedParameter(_Model):
    name: str
    type: ParameterType
    description: str = ""
    required: bool = False
    options: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if value in PARAMETER_EXTRACTOR_OUTPUTS:
            raise ValueError(f"parameter name {value!r} is reserved")
        return _check_identifier(value, "parameter")

    @model_validator(mode="after")
    def _select_has_options(self) -> ExtractedParameter:
        if self.type == "select" and not self.options:
            raise ValueError(f"select parameter {self.name!r} needs options")
        return self


class ParameterExtractorNode(_NodeBase):
    """Asks the model to extract typed parameters from the query; each is an output."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["parameter-extractor"] = "parameter-extractor"
    query: Selector
    model: ModelConfig
    parameters: list[ExtractedParameter] = Field(min_length=1)
    instruction: str = ""
    reasoning_mode: Literal["function_call", "prompt"] = "function_call"
    memory: MemoryConfig | None = None
    vision: VisionConfig = Field(default_factory=VisionConfig)

    @field_validator("parameters")
    @classmethod
    def _names_are_distinct(cls, parameters: list[ExtractedParameter]) -> list[ExtractedParameter]:
        names = [entry.name for entry in parameters]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"parameter {duplicates[0]!r} is declared twice")
        return parameters

    def output_names(self) -> set[str] | None:
        return {entry.name for entry in self.parameters} | set(PARAMETER_EXTRACTOR_OUTPUTS)

    def selectors(self) -> list[list[str]]:
        return [self.query, *_vision_selectors(self.vision)]

    def texts(self) -> list[str]:
        return [self.instruction]


# --- Nodes that reach other systems -----------------------------------------------------------

HttpMethod = Literal["get", "post", "put", "patch", "delete", "head", "options"]


class HttpAuthConfig(_Model):
    type: Literal["basic", "bearer", "custom"]
    api_key: str = ""
    header: str | None = None  # custom only: the header carrying the key


class HttpAuthorization(_Model):
    type: Literal["no-auth", "api-key"] = "no-auth"
    config: HttpAuthConfig | None = None

    @model_validator(mode="after")
    def _api_key_has_config(self) -> HttpAuthorization:
        if self.type == "api-key" and self.config is None:
            raise ValueError("api-key authorization needs a config")
        return self


class HttpBodyField(_Model):
    """One field of a form body, or the single item of a json/raw-text/binary body."""

    id: str | None = None
    key: str = ""
    type: Literal["text", "file"] = "text"
    value: str = ""
    file: list[str] = Field(default_factory=list)  # a selector, for type file


class HttpBody(_Model):
    type: Literal["none", "form-data", "x-www-form-urlencoded", "raw-text", "json", "binary"] = (
        "none"
    )
    # Dify's current exports give a list of fields; older ones a plain string.
    data: list[HttpBodyField] | str | None = None

    @property
    def fields(self) -> list[HttpBodyField]:
        if isinstance(self.data, list):
            return self.data
        return [HttpBodyField(value=self.data)] if self.data else []


class HttpTimeout(_Model):
    """Seconds; Dify spells them connect/read/write or max_*_timeout."""

    connect: float | None = Field(default=None, gt=0)
    read: float | None = Field(default=None, gt=0)
    write: float | None = Field(default=None, gt=0)
    max_connect_timeout: float | None = Field(default=None, ge=0)
    max_read_timeout: float | None = Field(default=None, ge=0)
    max_write_timeout: float | None = Field(default=None, ge=0)


class HttpRequestNode(_NodeBase):
    """Sends an HTTP request; `headers` and `params` are `key:value` lines, as in Dify."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["http-request"] = "http-request"
    method: HttpMethod = "get"
    url: str = Field(min_length=1)
    authorization: HttpAuthorization = Field(default_factory=HttpAuthorization)
    headers: str = ""
    params: str = ""
    body: HttpBody = Field(default_factory=HttpBody)
    timeout: HttpTimeout | None = None
    ssl_verify: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _method_in_lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def output_names(self) -> set[str] | None:
        return {"status_code", "body", "headers", "files"}

    def selectors(self) -> list[list[str]]:
        return [field.file for field in self.body.fields if field.type == "file" and field.file]

    def texts(self) -> list[str]:
        texts = [self.url, self.headers, self.params]
        texts += [f.key for f in self.body.fields] + [
            f.value for f in self.body.fields if f.type == "text"
        ]
        if self.authorization.config:
            texts.append(self.authorization.config.api_key)
        return texts


class ToolInput(_Model):
    """A tool parameter: `mixed` text with references, a `variable` selector, or a `constant`."""

    type: Literal["mixed", "variable", "constant"] = "constant"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_the_kind(self) -> ToolInput:
        if self.type == "variable" and not (
            isinstance(self.value, list)
            and len(self.value) >= 2
            and all(isinstance(part, str) for part in self.value)
        ):
            raise ValueError("a variable tool input's value is a selector [node_id, variable]")
        if self.type == "mixed" and not isinstance(self.value, str):
            raise ValueError("a mixed tool input's value is text")
        return self


class ToolNode(_NodeBase):
    """Calls a tool the deployment registers under `<provider_id>/<tool_name>`."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["tool"] = "tool"
    provider_id: str = Field(min_length=1)
    provider_type: str = "builtin"  # builtin | api | workflow | plugin | mcp
    provider_name: str = ""
    tool_name: str = Field(min_length=1)
    tool_label: str = ""
    tool_parameters: dict[str, ToolInput] = Field(default_factory=dict)
    tool_configurations: dict[str, Any] = Field(default_factory=dict)
    plugin_unique_identifier: str | None = None
    tool_node_version: str | None = None

    @property
    def registry_key(self) -> str:
        """The name the deployment's tool registry (SIGNOFF_TOOLS) knows this tool by."""
        return f"{self.provider_id}/{self.tool_name}"

    def output_names(self) -> set[str] | None:
        return None  # text, files, json, and whatever variables the tool reports

    def selectors(self) -> list[list[str]]:
        return [entry.value for entry in self.tool_parameters.values() if entry.type == "variable"]

    def texts(self) -> list[str]:
        return [entry.value for entry in self.tool_parameters.values() if entry.type == "mixed"]


class RerankingModel(_Open):
    provider: str = ""
    model: str = ""


class MultipleRetrievalConfig(_Open):
    top_k: int = Field(default=4, ge=1)
    score_threshold: float | None = None
    reranking_enable: bool = False
    reranking_mode: str | None = None
    reranking_model: RerankingModel | None = None
    weights: dict[str, Any] | None = None


class SingleRetrievalConfig(_Open):
    model: ModelConfig | None = None


class KnowledgeRetrievalNode(_NodeBase):
    """Retrieves chunks for the query from the datasets the deployment registers."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["knowledge-retrieval"] = "knowledge-retrieval"
    query_variable_selector: Selector
    dataset_ids: list[str] = Field(min_length=1)
    retrieval_mode: Literal["single", "multiple"] = "multiple"
    multiple_retrieval_config: MultipleRetrievalConfig | None = None
    single_retrieval_config: SingleRetrievalConfig | None = None
    metadata_filtering_mode: Literal["disabled", "automatic", "manual"] | None = None
    metadata_filtering_conditions: dict[str, Any] | None = None
    metadata_model_config: ModelConfig | None = None

    def output_names(self) -> set[str] | None:
        return {"result"}

    def selectors(self) -> list[list[str]]:
        return [self.query_variable_selector]


class DocumentExtractorNode(_NodeBase):
    """Extracts the text of a file (or of each file of a list) given by reference."""

    runs_in_node_function: ClassVar[bool] = True
    can_fail: ClassVar[bool] = True

    type: Literal["document-extractor"] = "document-extractor"
    variable_selector: Selector
    is_array_file: bool = False

    def output_names(self) -> set[str] | None:
        return {"text"}

    def selectors(self) -> list[list[str]]:
        return [self.variable_selector]


# --- Logic nodes (native states) --------------------------------------------------------------


class AggregatorGroup(_Model):
    group_name: str
    output_type: str = "any"
    variables: list[Selector] = Field(default_factory=list)
    group_id: str | None = Field(default=None, alias="groupId")

    @field_validator("group_name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return _check_identifier(value, "group name")


class AggregatorSettings(_Model):
    group_enabled: bool = False
    groups: list[AggregatorGroup] = Field(default_factory=list)


class VariableAggregatorNode(_NodeBase):
    """The first of its variables that has a value (the branch that ran); grouped, one such
    value per group as `{group_name: {output}}`."""

    type: Literal["variable-aggregator"] = "variable-aggregator"
    output_type: str = "any"
    variables: list[Selector] = Field(default_factory=list)
    advanced_settings: AggregatorSettings | None = None

    @model_validator(mode="after")
    def _groups_are_distinct(self) -> VariableAggregatorNode:
        names = [group.group_name for group in self.groups]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"group {duplicates[0]!r} is declared twice")
        return self

    @property
    def grouped(self) -> bool:
        return bool(self.advanced_settings and self.advanced_settings.group_enabled)

    @property
    def groups(self) -> list[AggregatorGroup]:
        return self.advanced_settings.groups if self.grouped and self.advanced_settings else []

    def output_names(self) -> set[str] | None:
        return {group.group_name for group in self.groups} if self.grouped else {"output"}

    def selectors(self) -> list[list[str]]:
        if self.grouped:
            return [selector for group in self.groups for selector in group.variables]
        return list(self.variables)


AssignOperation = Literal[
    "over-write",
    "clear",
    "append",
    "extend",
    "set",
    "+=",
    "-=",
    "*=",
    "/=",
    "remove-first",
    "remove-last",
]
# Operations that take no value.
VALUELESS_OPERATIONS = frozenset({"clear", "remove-first", "remove-last"})


class AssignItem(_Model):
    """One assignment: `operation` on the variable at `variable_selector`, with `value` (a
    selector when input_type is variable, else a constant)."""

    variable_selector: Selector
    input_type: Literal["variable", "constant"] = "constant"
    operation: AssignOperation
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_the_input_type(self) -> AssignItem:
        if self.operation in VALUELESS_OPERATIONS:
            return self
        if self.input_type == "variable" and not (
            isinstance(self.value, list)
            and len(self.value) >= 2
            and all(isinstance(part, str) for part in self.value)
        ):
            raise ValueError("a variable input's value is a selector [node_id, variable]")
        return self

    @property
    def value_selector(self) -> list[str] | None:
        if self.operation in VALUELESS_OPERATIONS or self.input_type != "variable":
            return None
        return self.value


class AssignerNode(_NodeBase):
    """Changes variables (Dify's variable assigner, version 2): loop variables here."""

    type: Literal["assigner"] = "assigner"
    version: Literal["2"] = "2"
    items: list[AssignItem] = Field(min_length=1)

    def selectors(self) -> list[list[str]]:
        return [item.value_selector for item in self.items if item.value_selector]

    @property
    def targets(self) -> list[list[str]]:
        return [item.variable_selector for item in self.items]


ListFilterOperator = Literal[ComparisonOperator, "in", "not in", "all of", "exists", "not exists"]


class ListFilterCondition(_Model):
    """A test on each element (`key`: the attribute of an object or file element, else empty)."""

    key: str = ""
    comparison_operator: ListFilterOperator
    value: str | int | float | bool | list[str] | None = ""


class ListFilter(_Model):
    enabled: bool = False
    conditions: list[ListFilterCondition] = Field(default_factory=list)


class ListOrder(_Model):
    enabled: bool = False
    key: str = ""
    value: Literal["asc", "desc"] = "asc"


class ListLimit(_Model):
    enabled: bool = False
    size: int = Field(default=10, ge=1)


class ListExtract(_Model):
    enabled: bool = False
    serial: str = "1"  # 1-based position; may hold a `{{#node.var#}}` reference


class ListOperatorNode(_NodeBase):
    """Filters, sorts, limits and picks elements of a list; outputs result, first_record and
    last_record."""

    type: Literal["list-operator"] = "list-operator"
    variable: Selector
    filter_by: ListFilter = Field(default_factory=ListFilter)
    order_by: ListOrder = Field(default_factory=ListOrder)
    limit: ListLimit = Field(default_factory=ListLimit)
    extract_by: ListExtract = Field(default_factory=ListExtract)

    def output_names(self) -> set[str] | None:
        return {"result", "first_record", "last_record"}

    def selectors(self) -> list[list[str]]:
        return [self.variable]

    def texts(self) -> list[str]:
        texts = [c.value for c in self.filter_by.conditions if isinstance(c.value, str)]
        if self.extract_by.enabled:
            texts.append(self.extract_by.serial)
        return texts


# --- Containers: iteration and loop, and the nodes that mark their inside ---------------------

# Selectors a node inside an iteration reads the current element and position by.
ITERATION_ITEM = "item"
ITERATION_INDEX = "index"


class IterationNode(_NodeBase):
    """Runs its child nodes once per element of a list; outputs `output`, the list of each
    run's `output_selector` value."""

    type: Literal["iteration"] = "iteration"
    iterator_selector: Selector
    output_selector: Selector
    output_type: str | None = None
    start_node_id: str = Field(min_length=1)
    is_parallel: bool = False
    parallel_nums: int = Field(default=10, ge=1)
    error_handle_mode: Literal["terminated", "continue-on-error", "remove-abnormal-output"] = (
        "terminated"
    )
    # Dify: when every run's output is a list, the output is their concatenation.
    flatten_output: bool = True

    def output_names(self) -> set[str] | None:
        return {"output"}

    def selectors(self) -> list[list[str]]:
        return [self.iterator_selector]


class IterationStartNode(_NodeBase):
    """Where an iteration's child nodes begin."""

    type: Literal["iteration-start"] = "iteration-start"


LoopVariableType = Literal[
    "string",
    "number",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[boolean]",
]


class LoopVariable(_Model):
    """A variable of a loop (`[loop_id, label]`), set before the first round from a constant or
    a selector, changed by assigner nodes inside the loop."""

    label: str
    var_type: LoopVariableType
    value_type: Literal["constant", "variable"] = "constant"
    value: Any = None

    @field_validator("label")
    @classmethod
    def _label_is_identifier(cls, value: str) -> str:
        if value == LOOP_ROUND:
            raise ValueError(f"loop variable {value!r} is reserved")
        return _check_identifier(value, "loop variable")

    @model_validator(mode="after")
    def _value_fits(self) -> LoopVariable:
        if self.value_type == "variable" and not (
            isinstance(self.value, list)
            and len(self.value) >= 2
            and all(isinstance(part, str) for part in self.value)
        ):
            raise ValueError(f"loop variable {self.label!r}: value must be a selector")
        return self


# The loop's output counting the rounds it ran.
LOOP_ROUND = "loop_round"
# Step Functions' history limit makes long loops a new-execution affair; Dify's own cap is 100.
MAX_LOOP_COUNT = 100


class LoopNode(_NodeBase):
    """Runs its child nodes up to `loop_count` times, until its break conditions hold (checked
    before the first round and after each) or a loop-end node is reached; outputs its loop
    variables and `loop_round`."""

    type: Literal["loop"] = "loop"
    loop_count: int = Field(ge=1, le=MAX_LOOP_COUNT)
    break_conditions: list[Condition] = Field(default_factory=list)
    logical_operator: Literal["and", "or"] = "and"
    loop_variables: list[LoopVariable] = Field(default_factory=list)
    start_node_id: str = Field(min_length=1)

    @field_validator("loop_variables")
    @classmethod
    def _labels_are_distinct(cls, variables: list[LoopVariable]) -> list[LoopVariable]:
        labels = [entry.label for entry in variables]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"loop variable {duplicates[0]!r} is declared twice")
        return variables

    def output_names(self) -> set[str] | None:
        return {entry.label for entry in self.loop_variables} | {LOOP_ROUND}

    def selectors(self) -> list[list[str]]:
        return [
            entry.value
            for entry in self.loop_variables
            if entry.value_type == "variable" and isinstance(entry.value, list)
        ]

    def break_selectors(self) -> list[list[str]]:
        """Selectors of the break conditions: read inside the loop's scope."""
        return [condition.variable_selector for condition in self.break_conditions]

    def break_texts(self) -> list[str]:
        return [c.value for c in self.break_conditions if isinstance(c.value, str)]


class LoopStartNode(_NodeBase):
    """Where a loop's child nodes begin."""

    type: Literal["loop-start"] = "loop-start"


class LoopEndNode(_NodeBase):
    """Reaching it ends the loop after the current round."""

    type: Literal["loop-end"] = "loop-end"


# --- human-input: a form a person fills in while the run waits ---------------------------------

# The handle a human-input node leaves by when nobody submitted its form in time, and the output
# naming the user action a submission chose.
TIMEOUT_HANDLE = "__timeout"
ACTION_ID_OUTPUT = "__action_id"
FormInputType = Literal["paragraph", "text_input", "select", "file", "file-list"]
_TIMEOUT_UNIT_SECONDS = {"hour": 3600, "day": 86400}
# A wait lasts at most as long as a Standard execution: a year.
MAX_WAIT_SECONDS = 365 * 24 * 3600


class FormDefault(_Model):
    """A form field's starting value: a constant, or a variable of the run (`selector`)."""

    type: Literal["constant", "variable"] = "constant"
    selector: list[str] = Field(default_factory=list)
    value: Any = ""


class FormInput(_Model):
    """One field of a human-input form; its value becomes the node's output of that name."""

    type: FormInputType = "paragraph"
    output_variable_name: str
    label: str | None = None
    required: bool = False
    default: FormDefault | None = None
    # select: the values a person may choose from
    options: list[str] = Field(default_factory=list)
    # file, file-list: what may be uploaded (Dify's names; checked where the file is read)
    allowed_file_types: list[str] = Field(default_factory=list)
    allowed_file_extensions: list[str] = Field(default_factory=list)
    allowed_file_upload_methods: list[str] = Field(default_factory=list)
    number_limits: int | None = Field(default=None, ge=1)


class UserAction(_Model):
    """A button of the form; its id is the handle the node leaves by when it is pressed."""

    id: str = Field(min_length=1)
    title: str = ""
    button_style: str = "default"


class HumanInputNode(_NodeBase):
    """Waits for a person to fill in a form (`form_content`, markdown with `{{#node.var#}}`
    references, and `inputs`) and press one of `user_actions`; the values become its outputs
    (with `__action_id`) and the action's id picks the edge it leaves by. Past the timeout
    (`timeout` in `timeout_unit`, or `timeout_seconds`) it leaves by `__timeout`, or fails when
    no edge leaves by that handle. The shape of the form is checked by graph validation, which
    reports every problem with the node's id."""

    type: Literal["human-input"] = "human-input"
    form_content: str = ""
    inputs: list[FormInput] = Field(default_factory=list)
    user_actions: list[UserAction] = Field(default_factory=list)
    timeout: int | None = Field(default=None, ge=1)
    timeout_unit: Literal["hour", "day"] = "hour"
    # A native alternative for short waits (tests, demos): whole seconds.
    timeout_seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_SECONDS)

    @property
    def wait_seconds(self) -> int | None:
        """How long the form stays open, in seconds (None: until the run's own time limit)."""
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        if self.timeout is not None:
            return self.timeout * _TIMEOUT_UNIT_SECONDS[self.timeout_unit]
        return None

    @property
    def action_ids(self) -> list[str]:
        return [action.id for action in self.user_actions]

    @property
    def branch_handles(self) -> list[str]:
        handles = list(dict.fromkeys(self.action_ids))
        return [*handles, TIMEOUT_HANDLE] if self.wait_seconds is not None else handles

    def output_names(self) -> set[str] | None:
        return {field.output_variable_name for field in self.inputs} | {ACTION_ID_OUTPUT}

    def selectors(self) -> list[list[str]]:
        return [
            field.default.selector
            for field in self.inputs
            if field.default is not None
            and field.default.type == "variable"
            and field.default.selector
        ]

    def texts(self) -> list[str]:
        return [self.form_content]

    def form(self) -> dict[str, Any]:
        """The form as the review function receives it (and a person is shown it, rendered)."""
        return {
            "form_content": self.form_content,
            "inputs": [
                {"type": field.type, **field.model_dump(mode="json", exclude_defaults=True)}
                for field in self.inputs
            ],
            "user_actions": [action.model_dump(mode="json") for action in self.user_actions],
            "timeout_seconds": self.wait_seconds,
        }


Node = Annotated[
    StartNode
    | EndNode
    | CodeNode
    | TemplateTransformNode
    | IfElseNode
    | LlmNode
    | QuestionClassifierNode
    | ParameterExtractorNode
    | HttpRequestNode
    | ToolNode
    | KnowledgeRetrievalNode
    | DocumentExtractorNode
    | VariableAggregatorNode
    | AssignerNode
    | ListOperatorNode
    | IterationNode
    | IterationStartNode
    | LoopNode
    | LoopStartNode
    | LoopEndNode
    | HumanInputNode,
    Field(discriminator="type"),
]
NODE_TYPES: dict[str, type[_NodeBase]] = {
    "start": StartNode,
    "end": EndNode,
    "code": CodeNode,
    "template-transform": TemplateTransformNode,
    "if-else": IfElseNode,
    "llm": LlmNode,
    "question-classifier": QuestionClassifierNode,
    "parameter-extractor": ParameterExtractorNode,
    "http-request": HttpRequestNode,
    "tool": ToolNode,
    "knowledge-retrieval": KnowledgeRetrievalNode,
    "document-extractor": DocumentExtractorNode,
    "variable-aggregator": VariableAggregatorNode,
    "assigner": AssignerNode,
    "list-operator": ListOperatorNode,
    "iteration": IterationNode,
    "iteration-start": IterationStartNode,
    "loop": LoopNode,
    "loop-start": LoopStartNode,
    "loop-end": LoopEndNode,
    "human-input": HumanInputNode,
}
# Nodes whose own logic picks among several outgoing handles.
BRANCHING_NODE_TYPES = frozenset({"if-else", "question-classifier", "human-input"})
# Nodes that hold child nodes (`parent_id`), and the start node type each one's children begin at.
CONTAINER_START_TYPES: dict[str, str] = {"iteration": "iteration-start", "loop": "loop-start"}

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


# A Standard execution runs at most a year.
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600


# --- Workflow-level declarations a Dify DSL carries (imported by signoff.dify) ----------------


class Note(_Model):
    """A sticky note drawn on the canvas (Dify's note node): kept for display, never run."""

    id: str = Field(min_length=1)
    text: str = ""  # Dify keeps the note editor's content as JSON text: kept as it comes
    theme: str = "blue"
    author: str = ""
    show_author: bool = False
    position: Position | None = None
    width: float | None = None
    height: float | None = None


class EnvironmentVariable(_Model):
    """A constant of the workflow (Dify's environment variable, `[env, name]`); a `secret` one's
    value is provided by the deployment, not written in the document."""

    name: str
    value_type: Literal["string", "number", "secret"] = "string"
    value: str | int | float | None = None
    description: str = ""
    id: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return _check_identifier(value, "environment variable")


class ConversationVariable(_Model):
    """Per-session state (Dify's conversation variable, `[conversation, name]`): starts at
    `value` and is shared by the runs of one session."""

    name: str
    value_type: str = "string"  # string | number | object | array[string] | ...
    value: Any = None
    description: str = ""
    id: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return _check_identifier(value, "conversation variable")


class Workflow(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    # The run's time limit (the state machine's TimeoutSeconds): an overrunning run ends failed.
    timeout_seconds: int | None = Field(default=None, ge=1, le=MAX_TIMEOUT_SECONDS)
    inputs: list[InputVariable] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    # Declarations beside the graph: notes are drawn, never run; environment and conversation
    # variables are kept with the workflow (Dify's `[env, x]` / `[conversation, x]`).
    notes: list[Note] = Field(default_factory=list)
    environment_variables: list[EnvironmentVariable] = Field(default_factory=list)
    conversation_variables: list[ConversationVariable] = Field(default_factory=list)

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

    def env_values(self) -> dict[str, Any]:
        """What a run reads as `env.<name>`: each environment variable's value, a secret one's
        placeholder naming it (the node function resolves it; the value is never in a graph)."""
        return {
            variable.name: (
                secret_placeholder(variable.name)
                if variable.value_type == "secret"
                else variable.value
            )
            for variable in self.environment_variables
        }

    def conversation_defaults(self) -> dict[str, Any]:
        """Each conversation variable's declared value, what a run starts from without a session."""
        return {variable.name: variable.value for variable in self.conversation_variables}
