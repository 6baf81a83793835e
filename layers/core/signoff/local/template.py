"""template.yaml as data: CloudFormation's short-form tags and the intrinsic functions it uses.

The local cloud reads the deployment from the same file SAM deploys, so the loader turns `!Ref X`,
`!GetAtt X.Y`, `!Sub ...` and friends into their long form, and `resolve` evaluates them against the
physical ids the local cloud chose. Anything it cannot evaluate is a loud error, never a guess.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from signoff.errors import ConfigurationError

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
DEFAULT_STACK_NAME = "signoff"

# Tags whose long form is `{"Fn::<Name>": value}`.
_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
)


class TemplateError(ConfigurationError):
    """template.yaml holds something the local cloud cannot load or evaluate."""


class _CloudFormationLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation's short-form intrinsic tags."""


def _construct_node(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _long_form(key: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_node(loader, node)}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if isinstance(value, str):
        # `!GetAtt Resource.Attribute`: the attribute itself may contain dots.
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


_CloudFormationLoader.add_constructor("!Ref", _long_form("Ref"))
_CloudFormationLoader.add_constructor("!Condition", _long_form("Condition"))
_CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _FN_TAGS:
    _CloudFormationLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_template(path: Path) -> dict[str, Any]:
    """The template at `path` with every short-form tag in its long form."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path.name} has no Resources section")
    return document


def default_template_path() -> Path:
    """The repository's template.yaml: found from the installed package, else from the cwd up."""
    # layers/core/signoff/local/template.py -> the repository root is four levels up.
    repository_root = Path(__file__).resolve().parents[4]
    candidates = [repository_root, Path.cwd().resolve(), *Path.cwd().resolve().parents]
    for directory in candidates:
        candidate = directory / "template.yaml"
        if candidate.is_file():
            return candidate
    raise TemplateError("template.yaml not found next to the package or in the working directory")


@dataclass
class ResolveContext:
    """What intrinsic functions resolve against: parameters, conditions and physical resources."""

    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    stack_name: str = DEFAULT_STACK_NAME

    @classmethod
    def for_template(
        cls,
        template: Mapping[str, Any],
        *,
        parameter_overrides: Mapping[str, Any] | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
    ) -> ResolveContext:
        """Parameters at their defaults (or overridden), plus the template's conditions/mappings."""
        parameters: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if parameter_overrides and name in parameter_overrides:
                parameters[name] = parameter_overrides[name]
            elif "Default" in spec:
                parameters[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no value was given")
        return cls(
            parameters=parameters,
            conditions=dict(template.get("Conditions") or {}),
            mappings=dict(template.get("Mappings") or {}),
            stack_name=stack_name,
        )

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack_name}/local"
            ),
        }


class _NoValue:
    """`Ref: AWS::NoValue`: the property it sits in is removed."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, context: ResolveContext) -> Any:
    """`value` with every intrinsic function evaluated; AWS::NoValue properties dropped."""
    resolved = _resolve(value, context)
    return None if resolved is NO_VALUE else resolved


def _resolve(value: Any, context: ResolveContext) -> Any:
    if isinstance(value, list):
        items = [_resolve(item, context) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), *_ = value.items()
        if key == "Ref":
            return _ref(argument, context)
        if key == "Condition":
            return _condition(argument, context)
        if key.startswith("Fn::"):
            return _function(key, argument, context)
    resolved = {key: _resolve(item, context) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _ref(name: Any, context: ResolveContext) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    pseudo = context.pseudo_parameters()
    if name in pseudo:
        return pseudo[name]
    if name in context.parameters:
        return context.parameters[name]
    if name in context.refs:
        return context.refs[name]
    raise TemplateError(f"Ref to {name!r}: no parameter or resource has that name")


def _get_att(logical_id: str, attribute: str, context: ResolveContext) -> Any:
    attributes = context.attributes.get(logical_id)
    if attributes is None:
        raise TemplateError(f"GetAtt {logical_id}.{attribute}: no resource {logical_id!r}")
    if attribute not in attributes:
        raise TemplateError(
            f"GetAtt {logical_id}.{attribute}: the local cloud does not provide that attribute "
            f"(it knows {sorted(attributes)})"
        )
    return attributes[attribute]


def _condition(name: str, context: ResolveContext) -> bool:
    if name not in context.conditions:
        raise TemplateError(f"condition {name!r} is not defined")
    return bool(_resolve(context.conditions[name], context))


def _sub(argument: Any, context: ResolveContext) -> str:
    if isinstance(argument, str):
        text, variables = argument, {}
    else:
        text, raw_variables = argument
        variables = {name: _resolve(item, context) for name, item in raw_variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, _, attribute = name.partition(".")
            return str(_get_att(logical_id, attribute, context))
        return str(_ref(name, context))

    return _SUB_VARIABLE.sub(replace, text)


def _function(key: str, argument: Any, context: ResolveContext) -> Any:
    if key == "Fn::GetAtt":
        logical_id, attribute = (
            argument.split(".", 1) if isinstance(argument, str) else (argument[0], argument[1])
        )
        return _get_att(logical_id, _resolve(attribute, context), context)
    if key == "Fn::Sub":
        return _sub(argument, context)
    if key == "Fn::Join":
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in _resolve(items, context))
    if key == "Fn::Select":
        index, items = argument
        return _resolve(items, context)[int(_resolve(index, context))]
    if key == "Fn::Split":
        delimiter, text = argument
        return str(_resolve(text, context)).split(delimiter)
    if key == "Fn::If":
        name, when_true, when_false = argument
        return _resolve(when_true if _condition(name, context) else when_false, context)
    if key == "Fn::Equals":
        left, right = (_resolve(item, context) for item in argument)
        return str(left) == str(right)
    if key == "Fn::And":
        return all(_resolve(item, context) for item in argument)
    if key == "Fn::Or":
        return any(_resolve(item, context) for item in argument)
    if key == "Fn::Not":
        return not _resolve(argument[0], context)
    if key == "Fn::FindInMap":
        map_name, top_key, second_key = (_resolve(item, context) for item in argument[:3])
        try:
            return context.mappings[map_name][top_key][second_key]
        except KeyError as exc:
            raise TemplateError(
                f"FindInMap {map_name}.{top_key}.{second_key}: no such entry"
            ) from exc
    if key == "Fn::Base64":
        return base64.b64encode(str(_resolve(argument, context)).encode()).decode()
    if key == "Fn::GetAZs":
        return [f"{REGION}{zone}" for zone in "abc"]
    raise TemplateError(f"{key} is not supported by the local cloud")
