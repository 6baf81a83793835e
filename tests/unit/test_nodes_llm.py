"""The model-backed nodes without a network: the messages they build from their prompts and
inputs, what they ask the model for, and how they read its answers. The chat model here is a
scripted double that records each call and answers what the test gives it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from signoff.graph.model import parse_node
from signoff.nodes import llm, parameter_extractor, question_classifier
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import TemplateRenderError
from signoff.nodes.event import RunContext
from signoff.nodes.variables import VariableScope
from signoff.providers.chat import ChatMessage, ChatResult, JsonOutput, ToolCall, ToolSpec
from signoff.providers.errors import LlmOutputInvalid, LlmProviderNotConfigured
from signoff.providers.usage import Usage

RUN = RunContext(run_id="run-1", tenant_id="t", workflow_id="wf", user="ada")
MODEL = {"provider": "acme", "name": "m-1", "completion_params": {"temperature": 0.1}}
USAGE = Usage(prompt_tokens=10, completion_tokens=4, total_price=Decimal("0.02"), currency="USD")


class ScriptedModel:
    """A ChatModel answering the next scripted result; it keeps every call's arguments."""

    def __init__(self, *answers: ChatResult) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        params=None,
        json_output: JsonOutput | None = None,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
    ) -> ChatResult:
        self.calls.append(
            {
                "messages": list(messages),
                "model": model,
                "params": params,
                "json_output": json_output,
                "tools": list(tools),
                "tool_choice": tool_choice,
            }
        )
        return self.answers.pop(0)


class Models:
    def __init__(self, model: ScriptedModel) -> None:
        self.model = model
        self.asked: list[str] = []

    def get(self, provider: str) -> ScriptedModel:
        self.asked.append(provider)
        return self.model


def context_with(model: ScriptedModel, **review: Any) -> NodeContext:
    return NodeContext(run=RUN, attempt=1, code_runner=None, chat_models=Models(model), **review)  # type: ignore[arg-type]


def said(text: str = "", *, json_answer: Any = None, calls=()) -> ChatResult:
    return ChatResult(text=text, usage=USAGE, json=json_answer, tool_calls=tuple(calls))


SCOPE = VariableScope(
    {
        "start": {"question": "What is 2+2?", "topic": "math", "n": 3},
        "search": {"result": [{"content": "Two plus two is four."}, {"content": "Math facts."}]},
    },
    RUN.model_dump(),
)


def llm_node(**fields: Any):
    return parse_node({"id": "ask", "type": "llm", "model": MODEL, **fields})


# ------------------------------------------------------------------ llm: prompts


def test_given_basic_messages_when_built_then_references_and_context_are_filled_in():
    node = llm_node(
        context={"enabled": True, "variable_selector": ["search", "result"]},
        prompt_template=[
            {"role": "system", "text": "You teach {{#start.topic#}}. Facts:\n{{#context#}}"},
            {"role": "user", "text": "{{#start.question#}} ({{#start.n#}} tries, {{#sys.user#}})"},
            {"role": "assistant", "text": "Let me think."},
        ],
    )

    inputs = llm.inputs(node, SCOPE)
    messages = llm.build_messages(node, inputs)

    assert inputs == {
        "#start.topic#": "math",
        "#start.question#": "What is 2+2?",
        "#start.n#": 3,
        "#sys.user#": "ada",
        "#context#": "Two plus two is four.\nMath facts.",
    }
    assert messages == [
        ChatMessage("system", "You teach math. Facts:\nTwo plus two is four.\nMath facts."),
        ChatMessage("user", "What is 2+2? (3 tries, ada)"),
        ChatMessage("assistant", "Let me think."),
    ]


def test_given_a_jinja2_message_when_built_then_it_renders_over_the_jinja2_variables():
    node = llm_node(
        prompt_template=[
            {
                "role": "system",
                "text": "ignored",
                "edition_type": "jinja2",
                "jinja2_text": "Topic: {{ topic | upper }}{% for i in range(n) %}!{% endfor %}",
            },
            {"role": "user", "text": "{{#start.question#}}", "edition_type": "basic"},
        ],
        prompt_config={
            "jinja2_variables": [
                {"variable": "topic", "value_selector": ["start", "topic"]},
                {"variable": "n", "value_selector": ["start", "n"]},
            ]
        },
    )

    messages = llm.build_messages(node, llm.inputs(node, SCOPE))

    assert messages == [
        ChatMessage("system", "Topic: MATH!!!"),
        ChatMessage("user", "What is 2+2?"),
    ]


def test_given_an_unsafe_jinja2_prompt_when_built_then_it_is_refused():
    node = llm_node(
        prompt_template=[
            {"role": "user", "edition_type": "jinja2", "jinja2_text": "{{ ''.__class__ }}"}
        ]
    )

    with pytest.raises(TemplateRenderError, match="refused"):
        llm.build_messages(node, {})


def test_given_a_completion_mode_prompt_when_built_then_it_is_one_user_message():
    node = parse_node(
        {
            "id": "ask",
            "type": "llm",
            "model": {**MODEL, "mode": "completion"},
            "prompt_template": {"text": "Q: {{#start.question#}}\nA:"},
        }
    )

    assert llm.build_messages(node, llm.inputs(node, SCOPE)) == [
        ChatMessage("user", "Q: What is 2+2?\nA:")
    ]


# ------------------------------------------------------------------ llm: running


def test_given_a_model_answer_when_the_llm_node_runs_then_it_outputs_text_and_priced_usage():
    model = ScriptedModel(said("Four."))
    node = llm_node(prompt_template=[{"role": "user", "text": "{{#start.question#}}"}])

    outputs = llm.run(node, llm.inputs(node, SCOPE), context_with(model))

    assert outputs == {"text": "Four.", "reasoning_content": "", "usage": USAGE.as_dict()}
    [call] = model.calls
    assert call["model"] == "m-1"
    assert call["params"] == {"temperature": 0.1}
    assert call["json_output"] is None
    assert llm.usage(outputs) == USAGE.as_dict()


def test_given_review_feedback_when_the_llm_node_reruns_then_the_conversation_carries_it():
    model = ScriptedModel(said("Four, definitely."))
    node = llm_node(prompt_template=[{"role": "user", "text": "{{#start.question#}}"}])
    context = context_with(
        model, feedback="Be more confident.", previous_output={"text": "Maybe four?"}
    )

    llm.run(node, llm.inputs(node, SCOPE), context)

    assert model.calls[0]["messages"] == [
        ChatMessage("user", "What is 2+2?"),
        ChatMessage("assistant", "Maybe four?"),
        ChatMessage("user", "Be more confident."),
    ]


def test_given_no_review_when_the_llm_node_runs_then_only_the_prompt_is_sent():
    model = ScriptedModel(said("Four."))
    node = llm_node(prompt_template=[{"role": "user", "text": "hi"}])

    llm.run(node, {}, context_with(model, previous_output={"text": "ignored"}))

    assert model.calls[0]["messages"] == [ChatMessage("user", "hi")]


def test_given_structured_output_when_the_llm_node_runs_then_it_asks_for_the_schema():
    schema = {"type": "object", "properties": {"answer": {"type": "number"}}}
    model = ScriptedModel(said('{"answer": 4}', json_answer={"answer": 4}))
    node = llm_node(
        prompt_template=[{"role": "user", "text": "hi"}],
        structured_output_enabled=True,
        structured_output={"schema": schema},
    )

    outputs = llm.run(node, {}, context_with(model))

    assert model.calls[0]["json_output"] == JsonOutput(name="structured_output", schema=schema)
    assert outputs["structured_output"] == {"answer": 4}
    assert outputs["text"] == '{"answer": 4}'


def test_given_structured_output_when_the_model_answers_prose_then_the_node_fails():
    model = ScriptedModel(said("I cannot answer in JSON."))
    node = llm_node(
        prompt_template=[{"role": "user", "text": "hi"}],
        structured_output_enabled=True,
        structured_output={"schema": {"type": "object"}},
    )

    with pytest.raises(LlmOutputInvalid, match="not the JSON object"):
        llm.run(node, {}, context_with(model))


@pytest.mark.parametrize(
    ("reasoning_format", "expected"),
    [
        ("separated", ("The answer is 4.", "2+2 is basic addition.")),
        ("tagged", ("<think>2+2 is basic addition.</think>\nThe answer is 4.", "")),
        (None, ("<think>2+2 is basic addition.</think>\nThe answer is 4.", "")),
    ],
)
def test_given_a_thinking_model_when_reasoning_is_split_then_it_follows_reasoning_format(
    reasoning_format, expected
):
    text = "<think>2+2 is basic addition.</think>\nThe answer is 4."

    assert llm.split_reasoning(text, reasoning_format) == expected


def test_given_no_configured_providers_when_a_node_runs_then_it_says_so():
    node = llm_node(prompt_template=[{"role": "user", "text": "hi"}])
    context = NodeContext(run=RUN, attempt=1, code_runner=None)  # type: ignore[arg-type]

    with pytest.raises(LlmProviderNotConfigured, match="no LLM providers"):
        llm.run(node, {}, context)


# ------------------------------------------------------------------ question-classifier

CLASSES = [
    {"id": "c-sales", "name": "Sales"},
    {"id": "c-refund", "name": "Refund"},
    {"id": "c-other", "name": ""},
]


def classifier(**fields: Any):
    return parse_node(
        {
            "id": "route",
            "type": "question-classifier",
            "model": MODEL,
            "query_variable_selector": ["start", "question"],
            "classes": CLASSES,
            **fields,
        }
    )


def test_given_a_classifier_when_it_runs_then_it_asks_for_one_class_name_as_json():
    model = ScriptedModel(
        said('{"category_name": "Refund"}', json_answer={"category_name": "Refund"})
    )
    node = classifier(instruction="Topic is {{#start.topic#}}.")

    inputs = question_classifier.inputs(node, SCOPE)
    outputs = question_classifier.run(node, inputs, context_with(model))

    assert inputs == {"query": "What is 2+2?", "#start.topic#": "math"}
    assert outputs == {"class_name": "Refund", "class_id": "c-refund", "usage": USAGE.as_dict()}
    assert question_classifier.handle(outputs) == "c-refund"
    [call] = model.calls
    system, user = call["messages"]
    assert user == ChatMessage("user", "What is 2+2?")
    assert "- Sales\n- Refund\n- c-other" in system.content
    assert system.content.endswith("Instructions:\nTopic is math.")
    schema = call["json_output"].schema
    assert schema["properties"]["category_name"]["enum"] == ["Sales", "Refund", "c-other"]
    assert schema["required"] == ["category_name"]


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ({"category_name": "Sales"}, "c-sales"),
        ({"category_name": " refund "}, "c-refund"),
        ({"category_name": "c-other"}, "c-other"),
        ({"category_id": "c-refund"}, "c-refund"),
        ({"category_name": "Billing"}, "c-sales"),
        ("not an object", "c-sales"),
        (None, "c-sales"),
    ],
)
def test_given_a_model_answer_when_a_class_is_chosen_then_unknown_answers_pick_the_first(
    answer, chosen
):
    node = classifier()

    assert question_classifier.choose_class(node.classes, answer).id == chosen


def test_given_json_only_in_the_text_when_classifying_then_the_text_is_read():
    model = ScriptedModel(said('Sure! {"category_name": "Refund"}'))

    outputs = question_classifier.run(classifier(), {"query": "money back"}, context_with(model))

    assert outputs["class_id"] == "c-refund"


# ------------------------------------------------------------------ parameter-extractor

PARAMETERS = [
    {"name": "city", "type": "string", "description": "Where to", "required": True},
    {"name": "days", "type": "number", "required": False},
    {"name": "mode", "type": "select", "options": ["train", "plane"], "required": False},
    {"name": "tags", "type": "array[string]"},
    {"name": "urgent", "type": "bool"},
]


def extractor(**fields: Any):
    return parse_node(
        {
            "id": "extract",
            "type": "parameter-extractor",
            "model": MODEL,
            "query": ["start", "question"],
            "parameters": PARAMETERS,
            **fields,
        }
    )


def tool_call(arguments: dict[str, Any] | str) -> ToolCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(id="call_1", name=parameter_extractor.TOOL_NAME, arguments_text=text)


def test_given_function_call_mode_when_extracting_then_a_forced_tool_carries_the_schema():
    arguments = {"city": "Paris", "days": "3", "mode": "train", "tags": ["a"], "urgent": "true"}
    model = ScriptedModel(said(calls=[tool_call(arguments)]))
    node = extractor()

    outputs = parameter_extractor.run(
        node, parameter_extractor.inputs(node, SCOPE), context_with(model)
    )

    assert outputs == {
        "city": "Paris",
        "days": 3,
        "mode": "train",
        "tags": ["a"],
        "urgent": True,
        "__is_success": 1,
        "__reason": None,
        "__usage": USAGE.as_dict(),
    }
    [call] = model.calls
    assert call["tool_choice"] == parameter_extractor.TOOL_NAME
    [tool] = call["tools"]
    assert tool.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "Where to"},
            "days": {"type": "number"},
            "mode": {"type": "string", "enum": ["train", "plane"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "urgent": {"type": "boolean"},
        },
        "required": ["city"],
    }
    assert call["messages"][1] == ChatMessage("user", "What is 2+2?")


def test_given_prompt_mode_when_extracting_then_a_json_answer_is_read():
    model = ScriptedModel(said('{"city": "Rome"}', json_answer={"city": "Rome"}))
    node = extractor(reasoning_mode="prompt")

    outputs = parameter_extractor.run(node, {"query": "to Rome"}, context_with(model))

    assert model.calls[0]["tools"] == []
    assert model.calls[0]["json_output"].schema["required"] == ["city"]
    assert outputs["city"] == "Rome"
    # Optional parameters the model left out take their type's empty value, as in Dify.
    assert (outputs["days"], outputs["mode"], outputs["tags"], outputs["urgent"]) == (
        0,
        "",
        [],
        False,
    )
    assert outputs["__is_success"] == 1


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"days": 2}, "parameter city is required"),
        ({"city": "Paris", "days": "soon"}, "parameter days must be a number"),
        ({"city": "Paris", "mode": "boat"}, "parameter mode must be one of train, plane"),
        ({"city": "Paris", "tags": "a,b"}, "parameter tags must be an array"),
        ({"city": "Paris", "urgent": "maybe"}, "parameter urgent must be a boolean"),
        ("{not json", "arguments that are not a JSON object"),
    ],
)
def test_given_an_unusable_answer_when_extracting_then_the_node_reports_why_with_empty_values(
    arguments, reason
):
    model = ScriptedModel(said(calls=[tool_call(arguments)]))

    outputs = parameter_extractor.run(extractor(), {"query": "x"}, context_with(model))

    assert outputs["__is_success"] == 0
    assert reason in outputs["__reason"]
    assert {name: outputs[name] for name in ("city", "days", "mode", "tags", "urgent")} == {
        "city": "",
        "days": 0,
        "mode": "",
        "tags": [],
        "urgent": False,
    }
    assert outputs["__usage"] == USAGE.as_dict()


def test_given_no_tool_call_and_no_json_when_extracting_then_it_is_not_a_success():
    model = ScriptedModel(said("I could not find anything."))

    outputs = parameter_extractor.run(extractor(), {"query": "x"}, context_with(model))

    assert outputs["__is_success"] == 0
    assert "neither a tool call nor a JSON object" in outputs["__reason"]
