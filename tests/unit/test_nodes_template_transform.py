"""template-transform: Jinja2 in Jinja's sandbox, Dify's rendering rules."""

from __future__ import annotations

import pytest

from signoff.nodes.errors import TemplateRenderError
from signoff.nodes.template_transform import MAX_OUTPUT_CHARACTERS, render


def test_given_variables_when_rendered_then_they_fill_the_template():
    assert render("Hello, {{ name }}!", {"name": "Ada"}) == "Hello, Ada!"


def test_given_loops_and_filters_when_rendered_then_jinja_applies_them():
    template = (
        "{% for item in items %}{{ item | upper }}{% if not loop.last %}, {% endif %}{% endfor %}"
    )

    assert render(template, {"items": ["a", "b"]}) == "A, B"


def test_given_html_in_a_variable_when_rendered_then_it_is_not_escaped():
    # Dify renders without autoescaping: templates produce text, not HTML.
    assert render("{{ snippet }}", {"snippet": "<b>&</b>"}) == "<b>&</b>"


def test_given_an_undefined_variable_when_rendered_then_it_renders_empty_as_in_dify():
    assert render("[{{ missing }}]", {}) == "[]"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ value.__class__.__subclasses__() }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ (0).__class__.__base__.__subclasses__() }}",
    ],
)
def test_given_a_sandbox_escape_attempt_when_rendered_then_the_access_is_refused(template):
    with pytest.raises(TemplateRenderError, match="refused"):
        render(template, {"value": 1})


def test_given_a_call_to_an_unsafe_method_when_rendered_then_it_is_refused():
    # str.format is the classic escape route through the sandbox; Jinja's sandbox checks it.
    with pytest.raises(TemplateRenderError):
        render("{{ '{0.__class__}'.format(value) }}", {"value": 1})


def test_given_a_syntax_error_when_rendered_then_the_error_names_the_line():
    with pytest.raises(TemplateRenderError, match=r"line 2.*TemplateSyntaxError"):
        render("fine\n{% if %}", {})


def test_given_an_error_raised_while_rendering_when_rendered_then_it_is_a_render_error():
    with pytest.raises(TemplateRenderError, match="ZeroDivisionError"):
        render("{{ 1 / zero }}", {"zero": 0})


def test_given_an_output_beyond_the_limit_when_rendered_then_it_fails():
    with pytest.raises(TemplateRenderError, match="characters long"):
        render("{{ 'x' * size }}", {"size": MAX_OUTPUT_CHARACTERS + 1})
