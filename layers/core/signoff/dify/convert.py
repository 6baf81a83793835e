"""A Dify DSL export (`kind: app`, `app.mode: workflow`) to a native workflow document.

Dify nests a node's settings under `data` and draws with React Flow (node `type: custom`, edge
`type: custom`, `selected`, `zIndex`...); the native format flattens `data` onto the node and keeps
what a run or a drawing needs: ids, titles, positions, parents, settings, handles.

Every DSL version from 0.1.0 is read: the oldest if-else form (top-level `conditions`) becomes one
case whose id is `true`, the oldest iteration form (a child marked `isIterationStart`) gets the
iteration-start node later versions draw, the legacy `variable-assigner` node is the variable
aggregator, and assigner version 1 becomes one version 2 item. What signoff does not do is reported
as an issue naming the node and the feature; only what has no effect on a run is left out: editor
state (`selected`, `_...`, widths), settings that are empty, and `retry_config` while disabled.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from signoff.dify.issues import DifyIssueCode, dify_issue
from signoff.errors import Issue
from signoff.graph.model import CONTAINER_START_TYPES, NODE_TYPES

# Node types Dify has that a workflow run here cannot do.
UNSUPPORTED_NODE_TYPES = {
    "answer": "streams an answer in chat apps",
    "agent": "runs an agent strategy plugin",
    "datasource": "reads a RAG pipeline data source",
    "knowledge-index": "writes a RAG pipeline's index",
    "trigger-webhook": "starts the workflow from a webhook",
    "trigger-schedule": "starts the workflow on a schedule",
    "trigger-plugin": "starts the workflow from a plugin event",
}
# Dify's legacy name of the variable aggregator (DSL before 0.1.2); `assigner` is the assigner.
LEGACY_AGGREGATOR = "variable-aggregator"
_TYPE_ALIASES = {"variable-assigner": LEGACY_AGGREGATOR}

# Editor state on every node's data: how it was drawn or last run, never what it does.
_EDITOR_KEYS = frozenset(
    {
        "selected",
        "width",
        "height",
        "isInIteration",
        "isInLoop",
        "iteration_id",
        "loop_id",
        "isIterationStart",
        "isLoopStart",
        "startNodeType",
        "iterator_input_type",
        "desc",
        "title",
        "type",
        "error_strategy",
        "default_value",
        "retry_config",
    }
)
# Fields a node type's data may carry that have no effect on a run here (display, the editor's
# own copies of schemas, Dify bookkeeping).
_IGNORED_KEYS: dict[str, frozenset[str]] = {
    "start": frozenset({"variables"}),
    "tool": frozenset(
        {
            "paramSchemas",
            "params",
            "is_team_authorization",
            "tool_description",
            "output_schema",
            "provider_icon",
            "plugin_id",
        }
    ),
    "list-operator": frozenset({"var_type", "item_var_type"}),
    "human-input": frozenset({"delivery_methods"}),
}
# Start variable types -> native input types (a file is a Dify file object).
_INPUT_TYPES = {
    "text-input": "string",
    "string": "string",
    "paragraph": "paragraph",
    "select": "select",
    "number": "number",
    "checkbox": "boolean",
    "boolean": "boolean",
    "json_object": "object",
    "object": "object",
    "file": "object",
    "file-list": "array",
}
# Operators of Dify's oldest condition form, by the ones that replaced them.
_OPERATOR_ALIASES = {"null": "empty", "not null": "not empty"}
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass
class Conversion:
    """The native document a DSL maps to, every issue found on the way, and what the DSL itself
    says a deployment needs (its plugin dependencies)."""

    document: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)


def is_dify_dsl(document: Any) -> bool:
    """Whether a parsed document is a Dify DSL export rather than a native workflow."""
    if not isinstance(document, dict):
        return False
    return document.get("kind") == "app" or ("app" in document and "workflow" in document)


def convert_dsl(document: Any) -> Conversion:
    """The native workflow document of a Dify DSL export, and every issue of the import."""
    converter = _Converter()
    return converter.run(document)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # an i18n label: {en_US: ..., zh_Hans: ...}
        return str(value.get("en_US") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _number(value: Any) -> Any:
    """A number written as text (Dify's editor keeps some as strings) as the number it is."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return value
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _selector(value: Any) -> Any:
    """A selector with numeric parts (YAML reads unquoted ids as numbers) as text."""
    if isinstance(value, list):
        return [str(part) if isinstance(part, int | float) else part for part in value]
    return value


class _Converter:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        # Edges from the iteration-start nodes given to DSL 0.1.0 iterations.
        self._synthetic_edges: list[dict[str, Any]] = []

    def report(self, code: DifyIssueCode, message: str, node_id: str | None = None) -> None:
        self.issues.append(dify_issue(code, message, node_id))

    # ------------------------------------------------------------------ the document

    def run(self, document: Any) -> Conversion:
        if not isinstance(document, dict):
            self.report(DifyIssueCode.NOT_A_DIFY_APP, "a Dify DSL export is a YAML mapping")
            return Conversion({}, self.issues)
        kind = document.get("kind", "app")
        if kind != "app":
            self.report(DifyIssueCode.NOT_A_DIFY_APP, f"kind {kind!r}: only app exports import")
        version = document.get("version")
        if version is not None and not _VERSION.match(str(version)):
            self.report(DifyIssueCode.INVALID_VERSION, f"version {version!r} is not x.y.z")
        app = document.get("app") if isinstance(document.get("app"), dict) else {}
        mode = app.get("mode", "workflow")
        if mode != "workflow":
            self.report(
                DifyIssueCode.UNSUPPORTED_APP_MODE,
                f"app.mode {mode!r}: only workflow apps import (not chat, advanced-chat, "
                "agent-chat or completion apps)",
            )
        workflow = document.get("workflow")
        graph = workflow.get("graph") if isinstance(workflow, dict) else None
        if not isinstance(graph, dict):
            self.report(DifyIssueCode.NOT_A_DIFY_APP, "workflow.graph: the graph is missing")
            workflow, graph = {}, {}
        self._features(workflow.get("features"))

        native: dict[str, Any] = {
            "name": _text(app.get("name")).strip() or "Imported Dify workflow",
            "description": _text(app.get("description")),
        }
        nodes, notes, inputs = self._nodes(graph.get("nodes"))
        native["inputs"] = inputs
        native["nodes"] = nodes
        native["edges"] = self._edges(graph.get("edges"), nodes)
        if notes:
            native["notes"] = notes
        for name in ("environment_variables", "conversation_variables"):
            declared = self._declarations(workflow.get(name), name)
            if declared:
                native[name] = declared
        if workflow.get("rag_pipeline_variables"):
            self.report(
                DifyIssueCode.UNSUPPORTED_FEATURE,
                "workflow.rag_pipeline_variables: RAG pipelines do not import",
            )
        return Conversion(native, self.issues, _plugins(document.get("dependencies")))

    def _features(self, features: Any) -> None:
        """App features: the workflow-mode ones that change what a run does are reported (the
        rest are chat-app or web-app display settings)."""
        if not isinstance(features, dict):
            return
        moderation = features.get("sensitive_word_avoidance")
        if isinstance(moderation, dict) and moderation.get("enabled"):
            self.report(
                DifyIssueCode.UNSUPPORTED_FEATURE,
                "features.sensitive_word_avoidance: content moderation is not supported",
            )

    def _declarations(self, entries: Any, name: str) -> list[dict[str, Any]]:
        if not isinstance(entries, list):
            return []
        declared = []
        for entry in entries:
            if not isinstance(entry, dict):
                self.report(DifyIssueCode.UNSUPPORTED_FEATURE, f"{name}: an entry is not a mapping")
                continue
            item: dict[str, Any] = {"name": entry.get("name") or entry.get("variable")}
            value_type = entry.get("value_type") or entry.get("type")
            if value_type:
                item["value_type"] = value_type
            for key in ("value", "description", "id"):
                if entry.get(key) not in (None, ""):
                    item[key] = entry[key]
            if name == "environment_variables" and value_type == "secret":
                # A secret's value never enters the graph (an export made with secrets included
                # carries it): it is set through PUT /workflows/{id}/secrets/{name}.
                item.pop("value", None)
            elif name == "environment_variables" and "value" in item:
                item["value"] = _number(item["value"]) if value_type == "number" else item["value"]
            declared.append(item)
        return declared

    # ------------------------------------------------------------------ nodes

    def _nodes(
        self, entries: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        nodes: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        inputs: list[dict[str, Any]] = []
        if not isinstance(entries, list):
            self.report(DifyIssueCode.NOT_A_DIFY_APP, "workflow.graph.nodes: must be a list")
            return nodes, notes, inputs
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict) or entry.get("id") in (None, ""):
                self.report(DifyIssueCode.INVALID_NODE, f"nodes.{position}: a node needs an id")
                continue
            node_id = str(entry["id"])
            data = entry.get("data")
            if not isinstance(data, dict):
                self.report(DifyIssueCode.INVALID_NODE, f"node {node_id}: data is missing", node_id)
                continue
            if _is_note(entry, data):
                notes.append(_note(node_id, entry, data))
                continue
            node = self._node(node_id, entry, data)
            if node is None:
                continue
            if node["type"] == "start":
                inputs += self._inputs(node_id, data.get("variables"))
            nodes.append(node)
        self._legacy_container_starts(nodes)
        return nodes, notes, inputs

    def _node(self, node_id: str, entry: dict[str, Any], data: dict[str, Any]) -> dict | None:
        raw_type = data.get("type")
        node_type = _TYPE_ALIASES.get(raw_type, raw_type)
        title = _text(data.get("title"))
        named = f"node {node_id} ({title or raw_type})"
        if node_type not in NODE_TYPES:
            reason = UNSUPPORTED_NODE_TYPES.get(str(node_type), "is not a node type signoff runs")
            self.report(
                DifyIssueCode.UNSUPPORTED_NODE_TYPE,
                f"{named}: type {raw_type!r} {reason}",
                node_id,
            )
            return None
        node: dict[str, Any] = {"id": node_id, "type": node_type}
        if title:
            node["title"] = title
        if _text(data.get("desc")):
            node["description"] = _text(data["desc"])
        position = entry.get("position")
        if isinstance(position, dict) and {"x", "y"} <= set(position):
            node["position"] = {"x": position["x"], "y": position["y"]}
        parent = _parent(entry, data)
        if parent:
            node["parent_id"] = parent
        node.update(self._error_handling(node_id, named, data))

        fields = self._settings(node_id, named, node_type, data)
        shape = getattr(self, f"_shape_{node_type.replace('-', '_')}", None)
        if shape is not None:
            fields = shape(node_id, named, fields, data)
        node.update(fields)
        return node

    def _settings(
        self, node_id: str, named: str, node_type: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The data fields the native node type has; any other field in use is an issue."""
        model = NODE_TYPES[node_type]
        known = set(model.model_fields) | {
            info.alias for info in model.model_fields.values() if info.alias
        }
        ignored = _IGNORED_KEYS.get(node_type, frozenset())
        legacy = _legacy_fields(node_type, data)
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if key in _EDITOR_KEYS or key.startswith("_") or key in ignored:
                continue
            if key == "version" and node_type != "assigner":
                continue  # the node data's own schema version (Dify 1.x), not a setting
            if key in legacy:
                continue
            if key in known:
                fields[key] = value
            elif not _is_empty(value):
                self.report(
                    DifyIssueCode.UNSUPPORTED_SETTING,
                    f"{named}: setting {key!r} is not supported",
                    node_id,
                )
        if node_type == "human-input":
            self._delivery(node_id, named, data.get("delivery_methods"))
        return fields

    def _error_handling(self, node_id: str, named: str, data: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        strategy = data.get("error_strategy")
        if strategy not in (None, "", "none"):
            found["error_strategy"] = strategy
        defaults = data.get("default_value")
        if isinstance(defaults, list) and defaults and strategy == "default-value":
            found["default_value"] = [_default_value(entry) for entry in defaults]
        retry = data.get("retry_config")
        if isinstance(retry, dict) and _flag(retry.get("retry_enabled")) is True:
            found["retry_config"] = {
                "retry_enabled": True,
                "max_retries": _number(retry.get("max_retries", 0)),
                "retry_interval": _number(retry.get("retry_interval", 0)),
            }
        return found

    def _delivery(self, node_id: str, named: str, methods: Any) -> None:
        for method in methods if isinstance(methods, list) else []:
            if not isinstance(method, dict) or not method.get("enabled"):
                continue
            if method.get("type") not in ("webapp", None):
                self.report(
                    DifyIssueCode.UNSUPPORTED_FEATURE,
                    f"{named}: delivery method {method.get('type')!r} is not supported (the form "
                    "is served by the API and the console)",
                    node_id,
                )

    def _inputs(self, node_id: str, variables: Any) -> list[dict[str, Any]]:
        inputs = []
        for entry in variables if isinstance(variables, list) else []:
            if not isinstance(entry, dict):
                continue
            name = entry.get("variable")
            dify_type = entry.get("type", "text-input")
            native_type = _INPUT_TYPES.get(dify_type)
            if native_type is None:
                self.report(
                    DifyIssueCode.UNSUPPORTED_INPUT_TYPE,
                    f"node {node_id} (start): input {name!r} has type {dify_type!r}",
                    node_id,
                )
                continue
            item: dict[str, Any] = {
                "variable": name,
                "type": native_type,
                "required": bool(_flag(entry.get("required", True))),
            }
            label = _text(entry.get("label"))
            if label:
                item["label"] = label
            if entry.get("default") not in (None, ""):
                item["default"] = entry["default"]
            max_length = _number(entry.get("max_length"))
            if (
                native_type in ("string", "paragraph")
                and isinstance(max_length, int)
                and max_length
            ):
                item["max_length"] = max_length
            if native_type == "select":
                item["options"] = [_text(option) for option in entry.get("options") or []]
            inputs.append(item)
        return inputs

    # ------------------------------------------------------------------ per type

    def _shape_end(self, node_id, named, fields, data):
        fields["outputs"] = _variable_selectors(fields.get("outputs"))
        return fields

    def _shape_code(self, node_id, named, fields, data):
        fields["variables"] = _variable_selectors(fields.get("variables"))
        if data.get("dependencies"):
            self.report(
                DifyIssueCode.UNSUPPORTED_SETTING,
                f"{named}: setting 'dependencies' (extra packages) is not supported",
                node_id,
            )
        return fields

    def _shape_template_transform(self, node_id, named, fields, data):
        fields["variables"] = _variable_selectors(fields.get("variables"))
        return fields

    def _shape_if_else(self, node_id, named, fields, data):
        cases = data.get("cases")
        if not cases and data.get("conditions") is not None:
            # DSL 0.1.0: one condition list; its handle was `true`.
            cases = [
                {
                    "case_id": "true",
                    "logical_operator": data.get("logical_operator", "and"),
                    "conditions": data.get("conditions"),
                }
            ]
        shaped = []
        for case in cases if isinstance(cases, list) else []:
            if not isinstance(case, dict):
                continue
            shaped.append(
                {
                    "case_id": str(case.get("case_id") or case.get("id") or ""),
                    "logical_operator": case.get("logical_operator", "and"),
                    "conditions": self._conditions(node_id, named, case.get("conditions")),
                }
            )
        fields["cases"] = shaped
        return fields

    def _shape_loop(self, node_id, named, fields, data):
        fields["break_conditions"] = self._conditions(
            node_id, named, fields.get("break_conditions")
        )
        variables = []
        for entry in fields.get("loop_variables") or []:
            if isinstance(entry, dict):
                item = {k: entry[k] for k in ("label", "var_type", "value_type") if k in entry}
                value = entry.get("value")
                item["value"] = _selector(value) if entry.get("value_type") == "variable" else value
                variables.append(item)
        fields["loop_variables"] = variables
        if "loop_count" in fields:
            fields["loop_count"] = _number(fields["loop_count"])
        mode = data.get("error_handle_mode")
        if mode not in (None, "", "terminated"):
            self.report(
                DifyIssueCode.UNSUPPORTED_SETTING,
                f"{named}: error_handle_mode {mode!r} (a loop stops at its first error here)",
                node_id,
            )
        return fields

    def _shape_iteration(self, node_id, named, fields, data):
        for key in ("iterator_selector", "output_selector"):
            if key in fields:
                fields[key] = _selector(fields[key])
        if "parallel_nums" in fields:
            fields["parallel_nums"] = _number(fields["parallel_nums"])
        return fields

    def _shape_llm(self, node_id, named, fields, data):
        config = fields.get("prompt_config")
        if isinstance(config, dict):
            fields["prompt_config"] = {
                "jinja2_variables": _variable_selectors(config.get("jinja2_variables"))
            }
        prompt = fields.get("prompt_template")
        if isinstance(prompt, list):
            fields["prompt_template"] = [
                {k: v for k, v in message.items() if v is not None}
                for message in prompt
                if isinstance(message, dict)
            ]
        if data.get("variables"):
            self.report(
                DifyIssueCode.UNSUPPORTED_SETTING,
                f"{named}: setting 'variables' (the legacy prompt variables) is not supported",
                node_id,
            )
        return fields

    def _shape_question_classifier(self, node_id, named, fields, data):
        if "instruction" not in fields and data.get("instructions"):
            fields["instruction"] = data["instructions"]
        if data.get("topics"):
            self.report(
                DifyIssueCode.UNSUPPORTED_SETTING,
                f"{named}: setting 'topics' is not supported (classes are)",
                node_id,
            )
        return fields

    def _shape_variable_aggregator(self, node_id, named, fields, data):
        fields["variables"] = [_selector(entry) for entry in fields.get("variables") or []]
        return fields

    def _shape_assigner(self, node_id, named, fields, data):
        version = str(data.get("version") or "1")
        if version == "1" or "items" not in data:
            # Assigner version 1: one target, one source variable, a write mode.
            mode = data.get("write_mode", "over-write")
            item: dict[str, Any] = {
                "variable_selector": _selector(data.get("assigned_variable_selector")),
                "input_type": "variable",
                "operation": mode,
            }
            if mode != "clear":
                item["value"] = _selector(data.get("input_variable_selector"))
            return {"version": "2", "items": [item]}
        items = []
        for entry in data.get("items") or []:
            if isinstance(entry, dict):
                item = {
                    "variable_selector": _selector(entry.get("variable_selector")),
                    "input_type": entry.get("input_type", "constant"),
                    "operation": entry.get("operation") or entry.get("write_mode"),
                }
                if "value" in entry:
                    item["value"] = (
                        _selector(entry["value"])
                        if item["input_type"] == "variable"
                        else entry["value"]
                    )
                items.append(item)
        return {"version": "2", "items": items}

    def _conditions(self, node_id: str, named: str, conditions: Any) -> list[dict[str, Any]]:
        shaped = []
        for condition in conditions if isinstance(conditions, list) else []:
            if not isinstance(condition, dict):
                continue
            sub = condition.get("sub_variable_condition")
            if isinstance(sub, dict) and sub.get("conditions"):
                self.report(
                    DifyIssueCode.UNSUPPORTED_FEATURE,
                    f"{named}: conditions on file attributes (sub_variable_condition) are not "
                    "supported",
                    node_id,
                )
            operator = condition.get("comparison_operator")
            item = {
                "variable_selector": _selector(condition.get("variable_selector")),
                "comparison_operator": _OPERATOR_ALIASES.get(operator, operator),
            }
            if "value" in condition:
                item["value"] = condition["value"]
            shaped.append(item)
        return shaped

    # ------------------------------------------------------------------ containers

    def _legacy_container_starts(self, nodes: list[dict[str, Any]]) -> None:
        """DSL before iteration-start nodes: the container's `start_node_id` names its first
        child. Give it the start node later versions draw, leading to that child."""
        by_id = {node["id"]: node for node in nodes}
        for container in list(nodes):
            start_type = CONTAINER_START_TYPES.get(container["type"])
            first = by_id.get(str(container.get("start_node_id") or ""))
            if start_type is None or first is None or first["type"] == start_type:
                continue
            start_id = f"{container['id']}start"
            while start_id in by_id:
                start_id += "_"
            start = {
                "id": start_id,
                "type": start_type,
                "title": "",
                "parent_id": container["id"],
                "position": {"x": 24, "y": 68},
            }
            nodes.append(start)
            by_id[start_id] = start
            container["start_node_id"] = start_id
            edge_id = f"{start_id}-source-{first['id']}-target"
            self._synthetic_edges.append({"id": edge_id, "source": start_id, "target": first["id"]})

    def _edges(self, entries: Any, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        edges: list[dict[str, Any]] = []
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or not entry.get("source") or not entry.get("target"):
                self.report(
                    DifyIssueCode.INVALID_EDGE, f"edges.{position}: needs a source and a target"
                )
                continue
            edge: dict[str, Any] = {"source": str(entry["source"]), "target": str(entry["target"])}
            if entry.get("id"):
                edge["id"] = str(entry["id"])
            handle = entry.get("sourceHandle", entry.get("source_handle"))
            if handle not in (None, "", "source"):
                edge["source_handle"] = str(handle)
            target_handle = entry.get("targetHandle", entry.get("target_handle"))
            if target_handle not in (None, "", "target"):
                edge["target_handle"] = str(target_handle)
            edges.append(edge)
        return edges + self._synthetic_edges


def _legacy_fields(node_type: str, data: dict[str, Any]) -> frozenset[str]:
    """Fields of an older form the per-type shaping reads itself."""
    if node_type == "if-else":
        # The oldest form's fields; beside `cases` Dify ignores them too.
        return frozenset({"conditions", "logical_operator"})
    if node_type == "assigner":
        return frozenset(
            {"assigned_variable_selector", "input_variable_selector", "write_mode", "items"}
        )
    if node_type == "question-classifier":
        return frozenset({"instructions", "topics"})
    if node_type in ("llm", "http-request", "parameter-extractor"):
        return frozenset({"variables"})
    if node_type == "code":
        return frozenset({"dependencies"})
    if node_type == "loop":
        return frozenset({"error_handle_mode"})
    return frozenset()


def _parent(entry: dict[str, Any], data: dict[str, Any]) -> str | None:
    parent = entry.get("parentId")
    if not parent and data.get("isInIteration"):
        parent = data.get("iteration_id")
    if not parent and data.get("isInLoop"):
        parent = data.get("loop_id")
    return str(parent) if parent else None


def _is_note(entry: dict[str, Any], data: dict[str, Any]) -> bool:
    return entry.get("type") == "custom-note" or data.get("type") in ("", "custom-note")


def _note(node_id: str, entry: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    note: dict[str, Any] = {"id": node_id, "text": _text(data.get("text"))}
    for key, native in (("theme", "theme"), ("author", "author"), ("showAuthor", "show_author")):
        if data.get(key) not in (None, ""):
            note[native] = data[key]
    position = entry.get("position")
    if isinstance(position, dict) and {"x", "y"} <= set(position):
        note["position"] = {"x": position["x"], "y": position["y"]}
    for key in ("width", "height"):
        size = data.get(key, entry.get(key))
        if isinstance(size, int | float):
            note[key] = size
    return note


def _variable_selectors(entries: Any) -> list[dict[str, Any]]:
    """`[{variable, value_selector}]` without the editor's `value_type`."""
    return [
        {
            "variable": entry.get("variable"),
            "value_selector": _selector(entry.get("value_selector")),
        }
        for entry in entries or []
        if isinstance(entry, dict)
    ]


def _default_value(entry: Any) -> Any:
    """A default-value entry; Dify's editor keeps numbers, objects and arrays as text."""
    if not isinstance(entry, dict):
        return entry
    item = {k: entry[k] for k in ("key", "type", "value") if k in entry}
    value, value_type = item.get("value"), str(item.get("type", ""))
    if isinstance(value, str) and value_type == "number":
        item["value"] = _number(value)
    elif isinstance(value, str) and (value_type == "object" or value_type.startswith("array")):
        # Text that is not JSON stays text: validation reports it does not fit the type.
        with contextlib.suppress(ValueError):
            item["value"] = json.loads(value) if value.strip() else None
    elif isinstance(value, str) and value_type == "boolean":
        item["value"] = _flag(value)
    return item


def _plugins(dependencies: Any) -> list[str]:
    """The plugins a DSL (0.1.5+, Dify 1.x) lists as its dependencies."""
    found: list[str] = []
    for entry in dependencies if isinstance(dependencies, list) else []:
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, dict):
            name = (
                value.get("marketplace_plugin_unique_identifier")
                or value.get("plugin_unique_identifier")
                or value.get("github_plugin_unique_identifier")
                or value.get("repo")
            )
            if name:
                found.append(str(name))
    return found
