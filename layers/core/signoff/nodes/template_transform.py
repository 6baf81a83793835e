"""template-transform: renders a Jinja2 template over the node's variables (output: `output`).

As in Dify: no autoescaping and an undefined variable renders empty. Unlike plain Jinja2 the
template runs in Jinja's sandbox, and reaching for an unsafe attribute (`__class__`, `mro`, a
function's globals, ...) fails the node instead of rendering empty, so probing is visible.
"""

from __future__ import annotations

from typing import Any, NoReturn

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from signoff.graph.model import TemplateTransformNode
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import TemplateRenderError
from signoff.nodes.variables import VariableScope

# Dify's default TEMPLATE_TRANSFORM_MAX_LENGTH.
MAX_OUTPUT_CHARACTERS = 80_000


class _StrictSandbox(SandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} is not allowed"
        )


_environment = _StrictSandbox(autoescape=False, undefined=Undefined)


def inputs(node: TemplateTransformNode, scope: VariableScope) -> dict[str, Any]:
    return scope.bind(node.variables)


def run(
    node: TemplateTransformNode, inputs: dict[str, Any], context: NodeContext
) -> dict[str, Any]:
    # A re-run after a review: the template may use the reviewer's feedback and what it was
    # given on (variables the node declares itself keep their values).
    review = {"feedback": context.feedback, "previous_output": context.previous_output}
    return {"output": render(node.template, {**review, **inputs})}


def render(template: str, variables: dict[str, Any]) -> str:
    try:
        output = _environment.from_string(template).render(variables)
    except SecurityError as error:
        raise TemplateRenderError(f"the template was refused: {error}") from error
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateRenderError(
            f"the template failed{where}: {type(error).__name__}: {error}"
        ) from error
    except Exception as error:
        raise TemplateRenderError(
            f"the template failed: {type(error).__name__}: {error}"
        ) from error
    if len(output) > MAX_OUTPUT_CHARACTERS:
        raise TemplateRenderError(
            f"the output is {len(output)} characters long, more than {MAX_OUTPUT_CHARACTERS}"
        )
    return output
