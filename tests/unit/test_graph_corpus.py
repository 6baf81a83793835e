"""The broken-graph corpus (tests/graphs): each file reports exactly the issues it expects."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from signoff.errors import GraphInvalid
from signoff.graph import load_workflow_file, validate_workflow
from signoff.graph.issues import IssueCode

GRAPHS = Path(__file__).parents[1] / "graphs"
CORPUS = sorted(GRAPHS.glob("*.yaml"))


def expected_issues(path: Path) -> Counter[tuple[str, str | None]]:
    expected: Counter[tuple[str, str | None]] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            code, node_id = line.removeprefix("# expect:").split()
            expected[(code, None if node_id == "-" else node_id)] += 1
    return expected


def registered_tools(path: Path) -> list[str] | None:
    """The tool registry a graph is checked against (`# tools: a/b c/d`), if it names one."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# tools:"):
            return line.removeprefix("# tools:").split()
    return None


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_given_a_broken_graph_when_loaded_then_every_expected_issue_is_reported(path: Path):
    expected = expected_issues(path)
    assert expected, f"{path.name} declares no expected issue"

    tools = registered_tools(path)
    if tools is None:
        with pytest.raises(GraphInvalid) as raised:
            load_workflow_file(path)
        issues = raised.value.issues
        assert raised.value.details == [issue.as_dict() for issue in issues]
    else:
        issues = validate_workflow(load_workflow_file(path), tools=tools)

    reported = Counter((issue.code, issue.node_id) for issue in issues)
    assert reported == expected
    assert all(issue.message for issue in issues)


def test_every_issue_code_has_a_graph_in_the_corpus():
    covered = {code for path in CORPUS for code, _ in expected_issues(path)}
    assert covered == {code.value for code in IssueCode}


def test_given_several_problems_then_all_are_reported_at_once():
    with pytest.raises(GraphInvalid) as raised:
        load_workflow_file(GRAPHS / "many_problems.yaml")

    codes = {issue.code for issue in raised.value.issues}
    assert len(codes) >= 5
    assert "6 issues" in raised.value.message
