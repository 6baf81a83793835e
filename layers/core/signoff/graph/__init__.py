"""The workflow graph: its model, loading from YAML/JSON, validation, and run-input checks."""

from signoff.graph.inputs import validate_inputs
from signoff.graph.loading import load_workflow_file, parse_workflow, read_document
from signoff.graph.model import Edge, Node, Workflow, parse_node
from signoff.graph.validation import validate_workflow

__all__ = [
    "Edge",
    "Node",
    "Workflow",
    "load_workflow_file",
    "parse_node",
    "parse_workflow",
    "read_document",
    "validate_inputs",
    "validate_workflow",
]
