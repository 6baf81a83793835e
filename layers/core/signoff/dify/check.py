"""`signoff import --check`: whether a file imports, every issue, and what it depends on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signoff.dify.convert import convert_dsl, is_dify_dsl
from signoff.dify.dependencies import DEPENDENCY_KINDS, workflow_dependencies
from signoff.errors import GraphInvalid, Issue
from signoff.graph import parse_workflow, read_document
from signoff.graph.model import Workflow
from signoff.graph.parsing import parse_document


@dataclass
class ImportReport:
    """One file's check. A dependency (a model, a tool...) is something a deployment provides,
    never a reason the file does not import; an issue always is."""

    file: str
    imports: bool
    issues: list[Issue] = field(default_factory=list)
    dependencies: dict[str, list[str]] = field(
        default_factory=lambda: {kind: [] for kind in DEPENDENCY_KINDS}
    )
    format: str = "dify"  # dify | native

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "imports": self.imports,
            "format": self.format,
            "issues": [found.as_dict() for found in self.issues],
            "dependencies": self.dependencies,
        }


def check_text(text: str, *, source: str) -> ImportReport:
    """Check a Dify DSL (or native) YAML/JSON text without a deployment: tools are not looked up
    (they are listed as dependencies)."""
    try:
        document = read_document(text, source=source)
    except GraphInvalid as invalid:
        return ImportReport(source, False, list(invalid.issues))
    if not is_dify_dsl(document):
        return _check_native(document, source)
    conversion = convert_dsl(document)
    issues = list(conversion.issues)
    workflow: Workflow | None = None
    try:
        workflow = parse_workflow(conversion.document)
    except GraphInvalid as invalid:
        issues += [found for found in invalid.issues if found not in issues]
    dependencies = workflow_dependencies(
        workflow or _best_effort(conversion.document), plugins=conversion.plugins
    )
    return ImportReport(source, not issues, issues, dependencies)


def check_file(path: str | Path) -> ImportReport:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        unreadable = Issue(code="unreadable_document", message=f"cannot read {path}: {error}")
        return ImportReport(str(path), False, [unreadable])
    return check_text(text, source=str(path))


def _check_native(document: Any, source: str) -> ImportReport:
    try:
        workflow = parse_workflow(document)
    except GraphInvalid as invalid:
        dependencies = workflow_dependencies(_best_effort(document))
        return ImportReport(source, False, list(invalid.issues), dependencies, "native")
    return ImportReport(source, True, [], workflow_dependencies(workflow), "native")


def _best_effort(document: Any) -> Workflow:
    """The nodes of a document that parse on their own, for listing dependencies of a workflow
    that does not import as a whole."""
    return parse_document(document).workflow
