"""Workflow graph -> AWS Step Functions state machine (ASL, JSONata query language). Pure."""

from signoff.compiler.compile import compile_workflow
from signoff.compiler.target import CompileTarget

__all__ = ["CompileTarget", "compile_workflow"]
