"""Selectors and {{#node.var#}} references."""

from __future__ import annotations

from signoff.graph.selectors import (
    Reference,
    find_references,
    referenced_node_ids,
    render_references,
    resolve_selector,
    split_references,
)


def test_references_are_found_with_their_selectors():
    found = find_references("Hi {{#start.name#}}, you are {{#age_1.years#}}!")
    assert [ref.selector for ref in found] == [["start", "name"], ["age_1", "years"]]
    assert all(ref.is_well_formed for ref in found)


def test_malformed_references_are_found_but_not_well_formed():
    found = find_references("{{#start#}} {{#start.#}} {{#.x#}}")
    assert [ref.is_well_formed for ref in found] == [False, False, False]


def test_text_splits_into_literal_pieces_and_references():
    pieces = split_references("a{{#n.v#}}b{{#m.w#}}")
    assert pieces[0] == "a" and pieces[2] == "b"
    assert isinstance(pieces[1], Reference) and pieces[1].selector == ["n", "v"]
    assert isinstance(pieces[3], Reference)


def test_referenced_node_ids_skip_sys_and_keep_first_mention_order():
    ids = referenced_node_ids(
        [["b", "x"], ["sys", "user"], ["a", "y"], ["b", "z"]], ["{{#c.v#}} {{#a.q#}}"]
    )
    assert ids == ["b", "a", "c"]


def test_selectors_resolve_from_node_variables_and_sys_from_the_run():
    variables = {"start": {"name": "Ada", "profile": {"city": "London"}}, "skipped": None}
    run = {"user": "u-1", "run_id": "r-1", "workflow_id": "w-1"}
    assert resolve_selector(["start", "name"], variables, run) == "Ada"
    assert resolve_selector(["start", "profile", "city"], variables, run) == "London"
    assert resolve_selector(["skipped", "output"], variables, run) is None
    assert resolve_selector(["sys", "user"], variables, run) == "u-1"
    assert resolve_selector(["sys", "run_id"], variables, run) == "r-1"
    assert resolve_selector(["sys", "nope"], variables, run) is None


def test_rendering_replaces_references_with_text():
    values = {("a", "n"): 3, ("a", "none"): None, ("a", "obj"): {"k": [1]}, ("a", "t"): True}

    def resolve(selector):
        return values[tuple(selector)]

    text = "{{#a.n#}}|{{#a.none#}}|{{#a.obj#}}|{{#a.t#}}|{{#bad#}}"
    assert render_references(text, resolve) == '3||{"k": [1]}|true|{{#bad#}}'
