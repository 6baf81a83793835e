"""Dify DSL import: a Dify export (`kind: app`, `app.mode: workflow`, DSL 0.1.0 to the newest)
mapped onto the native workflow model, every unsupported feature reported as an issue; the
native export of a workflow; the dependencies a deployment must provide (docs/dify-import.md)."""

from signoff.dify.check import ImportReport, check_file, check_text
from signoff.dify.convert import Conversion, convert_dsl, is_dify_dsl
from signoff.dify.dependencies import DEPENDENCY_KINDS, workflow_dependencies
from signoff.dify.export import native_document, native_yaml
from signoff.dify.importing import import_document, import_dsl, load_any
from signoff.dify.issues import DifyIssueCode

__all__ = [
    "DEPENDENCY_KINDS",
    "Conversion",
    "DifyIssueCode",
    "ImportReport",
    "check_file",
    "check_text",
    "convert_dsl",
    "import_document",
    "import_dsl",
    "is_dify_dsl",
    "load_any",
    "native_document",
    "native_yaml",
    "workflow_dependencies",
]
